"""``qrdistill train``: train the students with one method from a YAML config.

    qrdistill train --config cfg.yaml --kept run/kept.jsonl --questions run/questions/gsm8k.train.jsonl
    qrdistill train --config cfg.yaml --method no_peer --seed 1 --max-steps 200 --save-steps 20 --resume
    qrdistill train --config src/qrdistill/configs/demo.yaml --kept kept.jsonl     # a run config

Flags override the YAML (their help is the setting's docstring in ``train.settings``). The YAML holds
TrainConfig fields (what a training's ``config.yaml`` holds), or is a run config: then its ``students`` and ``train:`` are used, the output goes to the run dir's
``train/{method}/seed{seed}`` (where ``qrdistill eval`` looks), and ``--kept``/``--questions``
default to the run dir's filtered.jsonl and the train questions of the config's tasks.
Torch and the trainer are imported inside the command so that ``qrdistill --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated, Optional

import typer

from qrdistill.outpaths import check_out
from qrdistill.output import Json, Quiet, stage_output
from qrdistill.train.settings import flag_help


def train_command(
    config: Annotated[FsPath, typer.Option("--config", "-c", help="YAML with TrainConfig fields (top level or under 'train:'), or a run config.")],
    kept: Annotated[Optional[FsPath], typer.Option("--kept", help="Path records to train on (kept.jsonl; filtered.jsonl for no_filter).")] = None,
    questions: Annotated[Optional[list[FsPath]], typer.Option("--questions", help="Question JSONL file(s) the paths refer to; repeat the flag.")] = None,
    method: Annotated[Optional[str], typer.Option("--method", help="qr_distill, single_path, multi_path, no_filter, no_route, random_route, no_peer.")] = None,
    output_dir: Annotated[Optional[FsPath], typer.Option("--output-dir", help="Where adapters, router, metrics and checkpoints go.")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed for data order, gates, dropout and init.")] = None,
    max_steps: Annotated[Optional[int], typer.Option("--max-steps", help=flag_help("max_steps"))] = None,
    save_steps: Annotated[Optional[int], typer.Option("--save-steps", min=0, help=flag_help("save_steps"))] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the latest checkpoint in output_dir.")] = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Train the students on kept paths (Stages C+D, or a baseline / ablation method)."""
    from qrdistill.train.cli_config import resolve_inputs

    from qrdistill.train.trainer import train

    check_out(output_dir, "--output-dir", directory=True)
    overrides = {"method": method, "output_dir": output_dir, "seed": seed, "max_steps": max_steps, "save_steps": save_steps}
    with stage_output(quiet, as_json) as output:
        cfg, paths, question_map = resolve_inputs(config, kept, questions, overrides)
        check_out(cfg.output_dir, "output_dir", directory=True)
        result = train(cfg, paths, question_map, resume=resume)
        output.summary = {"output_dir": str(result.output_dir), "adapters": {k: str(v) for k, v in result.adapters.items()},
                          "metrics": str(result.metrics), "steps": result.steps, "train_seconds": result.train_seconds}
        typer.echo(f"adapters: {', '.join(f'{k}={v}' for k, v in result.adapters.items())}")
        typer.echo(f"metrics: {result.metrics}")
