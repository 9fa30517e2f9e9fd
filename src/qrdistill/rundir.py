"""The run directory: one folder that holds every stage's inputs, outputs and reports.

    run/
      config.yaml                      the settings the run used
      questions/{task}.{split}.jsonl   Question records (tasks stage)
      paths.jsonl                      Path records from the teacher (generate)
      cache/generate.jsonl             finished teacher calls, keyed (resume)
      filtered.jsonl                   every path with its Verdict (filter)
      kept.jsonl                       kept paths only: what training reads
      cache/judge.jsonl                finished judge calls (resume)
      train/{method}/seed{seed}/       students' adapters, router, projections, metrics, checkpoints
      eval/{method}/seed{seed}/{student}.{task}.jsonl   every generation with its extracted answer
      results.json, report.md, plots/  the comparison
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path as FsPath


@dataclass(frozen=True)
class RunDir:
    """Paths inside one run directory.

    >>> run = RunDir("runs/demo")
    >>> run.paths
    PosixPath('runs/demo/paths.jsonl')
    """

    root: FsPath

    def __init__(self, root: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "root", FsPath(root))

    @property
    def config(self) -> FsPath:
        return self.root / "config.yaml"

    def questions(self, task: str, split: str) -> FsPath:
        return self.root / "questions" / f"{task}.{split}.jsonl"

    @property
    def paths(self) -> FsPath:
        return self.root / "paths.jsonl"

    @property
    def generate_cache(self) -> FsPath:
        return self.root / "cache" / "generate.jsonl"

    @property
    def judge_cache(self) -> FsPath:
        return self.root / "cache" / "judge.jsonl"

    @property
    def filtered(self) -> FsPath:
        return self.root / "filtered.jsonl"

    @property
    def kept(self) -> FsPath:
        return self.root / "kept.jsonl"

    def train(self, method: str, seed: int) -> FsPath:
        return self.root / "train" / method / f"seed{seed}"

    def eval(self, method: str, seed: int, student: str, task: str) -> FsPath:
        return self.root / "eval" / method / f"seed{seed}" / f"{student}.{task}.jsonl"

    @property
    def results(self) -> FsPath:
        return self.root / "results.json"

    @property
    def report(self) -> FsPath:
        return self.root / "report.md"

    @property
    def plots(self) -> FsPath:
        return self.root / "plots"
