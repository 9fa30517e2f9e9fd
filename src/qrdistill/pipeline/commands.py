"""Typer entry points of ``qrdistill run``, ``qrdistill compare`` and ``qrdistill demo``."""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated

import typer

from qrdistill.outpaths import check_out
from qrdistill.output import Json, Quiet, stage_output


def run_command(
    config: Annotated[FsPath, typer.Option("--config", "-c", help="Run config YAML (see configs/grid.yaml).")],
    run_dir: Annotated[FsPath | None, typer.Option("--run", help="Run directory (overrides the config's run_dir).")] = None,
    seeds: Annotated[int | None, typer.Option(help="Use seeds 0..N-1 instead of the config's seeds.")] = None,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Run tasks → generate → filter → train (method × seed) → eval → report, resuming finished stages."""
    from qrdistill.config import load_config
    from qrdistill.pipeline.run import run_pipeline

    cfg = load_config(config)
    if run_dir is not None:
        cfg = cfg.model_copy(update={"run_dir": str(run_dir)})
    if seeds is not None:
        cfg = cfg.model_copy(update={"seeds": list(range(seeds))})
    check_out(cfg.run_dir, "--run" if run_dir is not None else f"{config}: run_dir", directory=True)
    with stage_output(quiet, as_json) as output:
        report = run_pipeline(cfg)
        output.summary = {"run_dir": cfg.run_dir, "report": str(report), "results": str(report.with_name("results.json"))}
        typer.echo(f"report: {report}")


def compare_command(
    run_dir: Annotated[FsPath, typer.Option("--run", help="A run directory with finished eval results.")],
) -> None:
    """Rebuild results.json, report.md and plots/ from a run directory's finished evaluations."""
    from qrdistill.config import load_config
    from qrdistill.pipeline.run import build_report
    from qrdistill.rundir import RunDir

    check_out(run_dir, "--run", directory=True)
    run = RunDir(run_dir)
    if not run.config.exists():
        raise typer.BadParameter(f"{run.config} not found: is {run_dir} a qrdistill run directory?")
    cfg = load_config(run.config).model_copy(update={"run_dir": str(run_dir)})
    typer.echo(f"report: {build_report(cfg)}")


def demo_command(
    out: Annotated[FsPath, typer.Option("--out", help="Run directory for the demo.")] = FsPath("runs/demo"),
    quick: Annotated[bool, typer.Option("--quick", help="A smoke run: fewer questions and steps, one fixed answer style (about 6 minutes).")] = False,
    seeds: Annotated[int, typer.Option(help="Training seeds per method.")] = 1,
) -> None:
    """The embedded default: synthetic teacher + verifiers, SmolLM2-135M + Gemma-3-270M with LoRA on CPU."""
    from qrdistill.config import demo_config
    from qrdistill.pipeline.run import run_pipeline

    check_out(out, "--out", directory=True)
    cfg = demo_config(quick=quick).model_copy(update={"run_dir": str(out), "seeds": list(range(seeds))})
    report = run_pipeline(cfg)
    typer.echo(f"\nDemo finished. Report: {report}\nPlots:  {report.parent / 'plots'}")
