"""``results.json``: one row per (method, student, task, seed) evaluation, plus the run config.

    {"runs": [{"method", "student", "task", "seed", "accuracy", "n", "correct", "ci_low", "ci_high",
               "prompt", "style"}, ...],
     "comparisons": [{"student", "task", "method", "baseline", "prompt", "diff", "lo", "hi", "n"}, ...],
     "config": {...}}

>>> row = RunResult.from_counts("qr_distill", "smollm2", "synth_arith", 0, correct=12, n=40)
>>> round(row.accuracy, 2)
0.3
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ConfigDict

from qrdistill.evaluate.stats import wilson_interval
from qrdistill.jsonl import RecordError, parse_record, write_json


class RunResult(BaseModel):
    """Accuracy of one student (or ensemble) trained by one method with one seed on one task."""

    model_config = ConfigDict(extra="forbid")

    method: str
    student: str
    task: str
    seed: int
    accuracy: float
    n: int
    correct: int
    ci_low: float
    ci_high: float
    prompt: str = "chosen"
    """``chosen``: each student answered in the style chosen for it on the dev split (the main
    result); ``plain``: the same questions under the task's plain zero-shot prompt."""
    style: str | None = None
    """The style the answers were given in (None: the plain prompt)."""

    @classmethod
    def from_counts(cls, method: str, student: str, task: str, seed: int, *, correct: int, n: int, style: str | None = None) -> RunResult:
        """Build a row with its accuracy and Wilson 95% interval."""
        low, high = wilson_interval(correct, n)
        return cls(method=method, student=student, task=task, seed=seed, accuracy=correct / n if n else 0.0,
                   n=n, correct=correct, ci_low=low, ci_high=high, style=style)


def write_results(path: str | os.PathLike[str], runs: Iterable[RunResult], config: dict[str, Any],
                  comparisons: Iterable[BaseModel] = ()) -> None:
    """Atomically write ``results.json`` (runs sorted by method, student, task, seed, prompt)."""
    ordered = sorted(runs, key=lambda r: (r.method, r.student, r.task, r.seed, r.prompt))
    write_json(path, {"runs": [r.model_dump() for r in ordered], "comparisons": [c.model_dump() for c in comparisons], "config": config})


def read_results(path: str | os.PathLike[str]) -> tuple[list[RunResult], dict[str, Any]]:
    """Read ``results.json``; errors name the file and the bad run's index and field."""
    path = FsPath(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RecordError(f"{path}: cannot read results ({exc})") from None
    if not isinstance(data, dict) or "runs" not in data or "config" not in data:
        raise RecordError(f"{path}: expected an object with keys 'runs' and 'config'")
    runs = [parse_record(obj, RunResult, f"{path}: runs[{i}]") for i, obj in enumerate(data["runs"])]
    return runs, data["config"]
