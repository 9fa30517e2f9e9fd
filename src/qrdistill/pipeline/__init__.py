"""``qrdistill run``, ``qrdistill compare`` and ``qrdistill demo``: the whole pipeline from one config.

>>> from qrdistill.pipeline import run_pipeline
>>> report = run_pipeline(load_config("src/qrdistill/configs/demo.yaml"))
"""

from __future__ import annotations

from qrdistill.pipeline.commands import compare_command, demo_command, run_command
from qrdistill.pipeline.run import run_pipeline

__all__ = ["compare_command", "demo_command", "run_command", "run_pipeline"]
