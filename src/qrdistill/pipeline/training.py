"""Training one method with one seed inside a run directory, skipped once finished.

A finished training leaves ``train/{method}/seed{seed}/done.json`` with the adapters' paths;
an interrupted one resumes from the trainer's latest checkpoint.

>>> adapters = train_stage(cfg, run, "qr_distill", 0, filtered, questions)
"""

from __future__ import annotations

import json
import time
from pathlib import Path as FsPath

from rich.console import Console

from qrdistill.config import RunConfig
from qrdistill.jsonl import write_json
from qrdistill.memory import release_memory
from qrdistill.pipeline.fingerprint import fingerprint, records_digest, refresh
from qrdistill.records import Path, Question
from qrdistill.rundir import RunDir

DONE = "done.json"
console = Console(stderr=True)


def done_file(run: RunDir, method: str, seed: int) -> FsPath:
    """The marker a finished training leaves."""
    return run.train(method, seed) / DONE


def adapters_of(run: RunDir, method: str, seed: int) -> dict[str, str]:
    """Student name → adapter directory of a finished training; KeyError-like message if absent."""
    marker = done_file(run, method, seed)
    if not marker.exists():
        raise FileNotFoundError(f"{marker}: training of {method} seed {seed} has not finished; run `qrdistill run` first")
    return json.loads(marker.read_text(encoding="utf-8"))["adapters"]


def matched_patterns(run: RunDir, seed: int) -> dict[str, float] | None:
    """The sets of students qr_distill (same seed) sent its paths to, with their shares: what
    random_route copies so that its per-student rates and their overlap match (None: no such run)."""
    from qrdistill.report.trainlogs import read_routing_patterns

    patterns = read_routing_patterns(run.train("qr_distill", seed))
    if patterns:
        console.print(f"random_route seed {seed}: routing sets matched to qr_distill's: "
                      + ", ".join(f"{k} {v:.2f}" for k, v in patterns.items()))
    return patterns or None


def train_stage(cfg: RunConfig, run: RunDir, method: str, seed: int, filtered: list[Path],
                questions: dict[str, dict[str, list[Question]]]) -> dict[str, str]:
    """Train (or resume) ``method`` with ``seed``; returns student name → adapter directory.
    A training made with other settings or data is removed and rerun (``pipeline.fingerprint``)."""
    from qrdistill.train.config import TrainConfig

    train_questions = [q for splits in questions.values() for q in splits["train"]]
    fields = cfg.train_fields(method, seed)
    if method == "random_route" and not fields.get("random_patterns"):
        fields["random_patterns"] = matched_patterns(run, seed)
    tcfg = TrainConfig(**fields)
    inputs = {"filtered": records_digest(filtered), "questions": records_digest(train_questions)}
    refresh(run, f"train-{method}-seed{seed}", fingerprint({"train": tcfg.model_dump(mode="json")}, inputs), [run.train(method, seed)])
    if done_file(run, method, seed).exists():
        return adapters_of(run, method, seed)
    from qrdistill.train.checkpoint import latest_checkpoint
    from qrdistill.train.trainer import train

    by_id = {q.id: q for q in train_questions}
    resume = latest_checkpoint(run.train(method, seed)) is not None
    start = time.perf_counter()
    # Every path with its verdict: the trainer selects what the method uses (method.methods.select_paths).
    result = train(tcfg, filtered, by_id, resume=resume)
    release_memory()  # what training freed goes back before an evaluation loads a student
    adapters = {name: str(path) for name, path in result.adapters.items()}
    write_json(done_file(run, method, seed), {"adapters": adapters, "seconds": round(time.perf_counter() - start, 1)})
    return adapters
