"""Hand what qrdistill made to the rest of the ecosystem.

- ``export_paths``: the kept paths (or what one training method selects) as a dataset TRL or
  LLaMA-Factory reads directly (``qrdistill export``);
- ``export_student``: a trained student's LoRA merged into its base model, written as a Hugging Face
  model directory that ``from_pretrained``, ``transformers serve`` and vLLM load (``qrdistill export-student``).

>>> from qrdistill.export import export_paths, export_student
"""

from qrdistill.export.dataset import ExportResult, export_paths
from qrdistill.export.student import StudentExport, export_student

__all__ = ["ExportResult", "StudentExport", "export_paths", "export_student"]
