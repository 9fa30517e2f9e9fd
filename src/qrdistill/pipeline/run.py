"""``run_pipeline``: tasks → generate → filter → train (method × seed) → eval → report.

Every stage is skipped when its output is complete, so re-running a config resumes it and a
finished run only rebuilds the report.

>>> report_md = run_pipeline(load_config("configs/demo.yaml"))
"""

from __future__ import annotations

import time
from pathlib import Path as FsPath

from qrdistill.config import ZERO_SHOT, RunConfig, dump_config
from qrdistill.evaluate.grid import collect_results, evaluate_method
from qrdistill.evaluate.reporting import write_report
from qrdistill.jsonl import write_atomic
from qrdistill.pipeline.stages import console, filter_stage, generate_stage, prepare_questions
from qrdistill.pipeline.training import train_stage
from qrdistill.rundir import RunDir


def _timed(name: str, timings: dict[str, float], start: float) -> None:
    timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
    console.print(f"[green]✓[/] {name} ({timings[name]:.0f}s)")


def run_pipeline(cfg: RunConfig) -> FsPath:
    """Run or resume every stage of ``cfg`` and return the path of report.md."""
    if cfg.threads is not None:
        import torch

        torch.set_num_threads(cfg.threads)
    run = RunDir(cfg.run_dir)
    run.root.mkdir(parents=True, exist_ok=True)
    write_atomic(run.config, dump_config(cfg))
    timings: dict[str, float] = {}

    t = time.perf_counter()
    questions = prepare_questions(cfg, run)
    _timed("questions", timings, t)
    t = time.perf_counter()
    paths = generate_stage(cfg, run, questions)
    _timed("generate", timings, t)
    t = time.perf_counter()
    filtered = filter_stage(cfg, run, paths, questions)
    _timed("filter", timings, t)
    if ZERO_SHOT in cfg.methods:
        t = time.perf_counter()
        evaluate_method(cfg, ZERO_SHOT, cfg.seeds[0])
        _timed("eval zero_shot", timings, t)
    # seed by seed, each method trained then evaluated: a run stopped early still holds complete seeds
    for seed in cfg.seeds:
        for method in cfg.trained_methods:
            t = time.perf_counter()
            train_stage(cfg, run, method, seed, filtered, questions)
            _timed(f"train {method} seed{seed}", timings, t)
            t = time.perf_counter()
            evaluate_method(cfg, method, seed)
            _timed(f"eval {method} seed{seed}", timings, t)
    return build_report(cfg)


def build_report(cfg: RunConfig) -> FsPath:
    """results.json, report.md and plots/ from the finished evaluations of ``cfg``'s run dir."""
    run = RunDir(cfg.run_dir)
    runs = collect_results(cfg)
    if not runs:
        raise FileNotFoundError(f"{run.root / 'eval'}: no finished evaluations; run `qrdistill run --config {run.config}` first")
    write_report(cfg, run, runs)
    return run.report
