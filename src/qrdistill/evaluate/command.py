"""``qrdistill eval``: each student alone on held-out questions, zero-shot prompt, greedy.

    qrdistill eval --config grid.yaml --method qr_distill --seed 0 [--ensemble vote,logprob]
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated

import typer

from qrdistill.outpaths import check_out
from qrdistill.output import Json, Quiet, stage_output


def eval_command(
    config: Annotated[FsPath, typer.Option("--config", "-c", help="Run config YAML (qrdistill.config.RunConfig).")],
    method: Annotated[str, typer.Option(help="Which trained method to evaluate; 'zero_shot' = base students.")] = "zero_shot",
    seed: Annotated[int, typer.Option(help="Training seed of the method to evaluate.")] = 0,
    run_dir: Annotated[FsPath | None, typer.Option("--run", help="Run directory (overrides the config's run_dir).")] = None,
    max_new_tokens: Annotated[int | None, typer.Option(help="Override eval.max_new_tokens.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Override eval.batch_size.")] = None,
    ensemble: Annotated[str | None, typer.Option(help="Comma list of ensembles: vote, logprob.")] = None,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Evaluate every student of the config on every task's test split and print accuracies."""
    from qrdistill.config import ZERO_SHOT, load_config
    from qrdistill.evaluate.display import print_eval_table
    from qrdistill.evaluate.grid import evaluate_method
    from qrdistill.method.methods import get_method
    from qrdistill.rundir import RunDir, run_questions

    cfg = load_config(config)
    if method != ZERO_SHOT:
        get_method(method)  # an unknown name lists the known ones
    overrides: dict[str, object] = {}
    if run_dir is not None:
        cfg = cfg.model_copy(update={"run_dir": str(run_dir)})
    if max_new_tokens is not None:
        overrides["max_new_tokens"] = max_new_tokens
    if batch_size is not None:
        overrides["batch_size"] = batch_size
    if ensemble is not None:
        overrides["ensemble"] = [e.strip() for e in ensemble.split(",") if e.strip()]
    if overrides:
        cfg = cfg.model_copy(update={"eval": cfg.eval.model_copy(update=overrides)})
    check_out(cfg.run_dir, "--run" if run_dir is not None else f"{config}: run_dir", directory=True)
    with stage_output(quiet, as_json) as output:
        run_questions(cfg, RunDir(cfg.run_dir))  # the test questions, written once from the config's tasks
        summaries = evaluate_method(cfg, method, seed)
        output.summary = {"results": [s.model_dump() for s in summaries]}
        print_eval_table(summaries)
