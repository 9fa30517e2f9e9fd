"""``run_pipeline``: tasks → generate → filter → train (method × seed) → eval → report.

Every stage is skipped when its output is complete and was made from the same settings and inputs
(``pipeline.fingerprint``), so re-running a config resumes it and a finished run only rebuilds the
report; a stage whose settings or inputs changed is stale: it reruns, and so does what depends on it. With ``workers: N`` the (method, seed) units — train, then
evaluate — run in N processes at once (``random_route`` waits for the ``qr_distill`` unit of its
seed, whose routing it copies); each unit's output goes to ``logs/{method}-seed{seed}.log``.

>>> report_md = run_pipeline(load_config("src/qrdistill/configs/demo.yaml"))
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path as FsPath
from typing import Any

from qrdistill.config import ZERO_SHOT, RunConfig, dump_config
from qrdistill.evaluate.grid import collect_results, evaluate_method
from qrdistill.jsonl import read_records, write_atomic
from qrdistill.pipeline.fingerprint import file_digest, fingerprint, records_digest, refresh
from qrdistill.pipeline.stages import console, filter_stage, generate_stage, refresh_questions
from qrdistill.pipeline.training import done_file, train_stage
from qrdistill.records import Path
from qrdistill.report.write import write_report
from qrdistill.rundir import RunDir, run_questions


def _timed(name: str, timings: dict[str, float], start: float) -> None:
    timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
    console.print(f"[green]✓[/] {name} ({timings[name]:.0f}s)")


def _set_threads(cfg: RunConfig) -> None:
    if cfg.threads is not None:
        import torch

        torch.set_num_threads(cfg.threads)


def evaluate_stage(cfg: RunConfig, method: str, seed: int) -> None:
    """Evaluate ``method``/``seed`` (skipped when finished with the same settings, students, questions,
    paths and training; otherwise its generations are removed and it reruns)."""
    run = RunDir(cfg.run_dir)
    questions = [q for splits in run_questions(cfg, run).values() for split in ("test", "dev") for q in splits.get(split, [])]
    settings = {"eval": cfg.eval.model_dump(mode="json"), "students": [s.model_dump(mode="json") for s in cfg.students]}
    inputs = {"questions": records_digest(questions), "filtered": file_digest(run.filtered),
              "training": None if method == ZERO_SHOT else file_digest(done_file(run, method, seed))}
    refresh(run, f"eval-{method}-seed{seed}", fingerprint(settings, inputs), [run.eval_dir(method, seed)])
    evaluate_method(cfg, method, seed)


def _train_and_eval(cfg: RunConfig, method: str, seed: int) -> None:
    run = RunDir(cfg.run_dir)
    if method != ZERO_SHOT:
        train_stage(cfg, run, method, seed, read_records(run.filtered, Path), run_questions(cfg, run))
    evaluate_stage(cfg, method, seed)


def _unit(config: dict[str, Any], method: str, seed: int) -> float:
    """One (method, seed) in a worker process, its output in the run's logs/; returns its seconds."""
    cfg = RunConfig.model_validate(config)
    _set_threads(cfg)
    log = RunDir(cfg.run_dir).root / "logs" / f"{method}-seed{seed}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open(log, "a", encoding="utf-8") as out, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        _train_and_eval(cfg, method, seed)
    return time.perf_counter() - start


def _units_in_parallel(cfg: RunConfig, timings: dict[str, float]) -> None:
    """Every (method, seed) unit, ``cfg.workers`` at a time, seed by seed in config order (zero_shot,
    evaluated once, first)."""
    pending = [(ZERO_SHOT, cfg.seeds[0])] if ZERO_SHOT in cfg.methods else []
    pending += [(method, seed) for seed in cfg.seeds for method in cfg.trained_methods]
    running: dict[Future[float], tuple[str, int]] = {}
    done: set[tuple[str, int]] = set()
    config = cfg.model_dump(mode="json")
    with ProcessPoolExecutor(max_workers=cfg.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        while pending or running:
            for unit in list(pending):
                blocked = unit[0] == "random_route" and "qr_distill" in cfg.trained_methods and ("qr_distill", unit[1]) not in done
                if len(running) < cfg.workers and not blocked:
                    pending.remove(unit)
                    running[pool.submit(_unit, config, *unit)] = unit
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                method, seed = running.pop(future)
                timings[f"train+eval {method} seed{seed}"] = future.result()
                done.add((method, seed))
                console.print(f"[green]✓[/] {'eval' if method == ZERO_SHOT else 'train+eval'} {method} seed{seed} ({timings[f'train+eval {method} seed{seed}']:.0f}s; "
                              f"log: {RunDir(cfg.run_dir).root / 'logs' / f'{method}-seed{seed}.log'})")


def run_pipeline(cfg: RunConfig) -> FsPath:
    """Run or resume every stage of ``cfg`` and return the path of report.md."""
    _set_threads(cfg)
    run = RunDir(cfg.run_dir)
    run.root.mkdir(parents=True, exist_ok=True)
    write_atomic(run.config, dump_config(cfg))
    timings: dict[str, float] = {}

    t = time.perf_counter()
    refresh_questions(cfg, run)
    questions = run_questions(cfg, run)
    _timed("questions", timings, t)
    t = time.perf_counter()
    paths = generate_stage(cfg, run, questions)
    _timed("generate", timings, t)
    t = time.perf_counter()
    filtered = filter_stage(cfg, run, paths, questions)
    _timed("filter", timings, t)
    if cfg.workers > 1:
        _units_in_parallel(cfg, timings)
        return build_report(cfg)
    if ZERO_SHOT in cfg.methods:
        t = time.perf_counter()
        evaluate_stage(cfg, ZERO_SHOT, cfg.seeds[0])
        _timed("eval zero_shot", timings, t)
    # seed by seed, each method trained then evaluated: a run stopped early still holds complete seeds
    for seed in cfg.seeds:
        for method in cfg.trained_methods:
            t = time.perf_counter()
            train_stage(cfg, run, method, seed, filtered, questions)
            _timed(f"train {method} seed{seed}", timings, t)
            t = time.perf_counter()
            evaluate_stage(cfg, method, seed)
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
