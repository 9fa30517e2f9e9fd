"""The run directory: one folder that holds every stage's inputs, outputs and reports.

What ``qrdistill run`` (qrdistill.pipeline) writes, stage by stage; each stage is skipped when
its output exists, so a rerun resumes:

    run/
      config.yaml                        the settings the run used
      questions/{task}.{split}.jsonl     Question records, split train/test/dev (also `qrdistill import`)
      generate/{task}.jsonl              Path records of one task's train questions (generate)
      cache/generate.jsonl               finished teacher calls, keyed: an interrupted generate resumes
      paths.jsonl                        every task's Path records (generate, or `qrdistill import`)
      filtered.jsonl                     every path with its Verdict (filter)
      kept.jsonl                         kept paths only
      cache/judge.jsonl                  finished judge calls (filter)
      cache/path_embeddings.pt           the router's frozen path embeddings, shared by every training
      train/{method}/seed{seed}/         one training (also `qrdistill train --config <run config>`):
        config.yaml                        its TrainConfig
        students/{student}/                the student's LoRA adapter (what eval loads)
        router.pt, peer.pt                 router and peer-teaching weights (methods that use them)
        metrics.jsonl, routing.jsonl       per-step losses; per-epoch gate rates, routing sets and answer gains
        routed.jsonl                       the students each path was last sent to
        checkpoints/step-NNNNNN/           resume points (the latest ones)
        done.json                          adapters and seconds, once finished (pipeline only)
      eval/{method}/seed{seed}/{student}.{task}.jsonl   every test generation (chosen style) with its extracted answer
      eval/{method}/seed{seed}/{student}.{task}.plain.jsonl   the same questions under the plain prompt
      eval/{method}/seed{seed}/{student}.{task}.dev.jsonl     dev answers in every candidate style (the choice)
      results.json, report.md            the comparison
      plots/                             accuracy.png, funnel.png, loss.png, routing_{method}.png
      import_report.json, .md            what `qrdistill import --run` kept and dropped
      stages/{stage}.json                each stage's settings and input digests: a stage made from
                                         others is stale and reruns (qrdistill.pipeline.fingerprint)

Training reads ``filtered.jsonl`` (every path with its verdict) and selects what its method uses
(qrdistill.method.methods.select_paths), as does ``qrdistill train --config <run config>``
without ``--kept``; ``kept.jsonl`` is for tools outside the run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import TYPE_CHECKING

from rich.console import Console

from qrdistill.dedupe import read_questions
from qrdistill.jsonl import write_records
from qrdistill.records import Question

if TYPE_CHECKING:  # config.py imports this module
    from qrdistill.config import RunConfig, TaskConfig

SPLITS = ("train", "test")


def adapter_dir(train_dir: str | os.PathLike[str], student: str) -> FsPath:
    """Where a training writes (and evaluation loads) one student's adapter: ``<train dir>/students/<student>``.

    >>> adapter_dir("runs/demo/train/qr_distill/seed0", "smollm2")
    PosixPath('runs/demo/train/qr_distill/seed0/students/smollm2')
    """
    return FsPath(train_dir) / "students" / student


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

    def generate_part(self, task: str) -> FsPath:
        return self.root / "generate" / f"{task}.jsonl"

    @property
    def generate_cache(self) -> FsPath:
        return self.root / "cache" / "generate.jsonl"

    @property
    def judge_cache(self) -> FsPath:
        return self.root / "cache" / "judge.jsonl"

    @property
    def path_embeddings(self) -> FsPath:
        return self.root / "cache" / "path_embeddings.pt"

    @property
    def filtered(self) -> FsPath:
        return self.root / "filtered.jsonl"

    @property
    def kept(self) -> FsPath:
        return self.root / "kept.jsonl"

    def train(self, method: str, seed: int) -> FsPath:
        return self.root / "train" / method / f"seed{seed}"

    def adapter(self, method: str, seed: int, student: str) -> FsPath:
        """Where one student of one training keeps its adapter (``adapter_dir``)."""
        return adapter_dir(self.train(method, seed), student)

    def eval_dir(self, method: str, seed: int) -> FsPath:
        """Every generation of one evaluated (method, seed)."""
        return self.root / "eval" / method / f"seed{seed}"

    def eval(self, method: str, seed: int, student: str, task: str, kind: str = "test") -> FsPath:
        """One student's generations: ``test`` in its chosen style, ``plain`` on the test questions under
        the plain prompt, ``dev`` every candidate style on the dev questions."""
        suffix = "" if kind == "test" else f".{kind}"
        return self.eval_dir(method, seed) / f"{student}.{task}{suffix}.jsonl"

    @property
    def results(self) -> FsPath:
        return self.root / "results.json"

    @property
    def import_report(self) -> FsPath:
        """What ``qrdistill import --run`` wrote here (its paths.jsonl is then imported, not generated)."""
        return self.root / "import_report.json"

    @property
    def report(self) -> FsPath:
        return self.root / "report.md"

    @property
    def plots(self) -> FsPath:
        return self.root / "plots"


def _make_questions(tc: TaskConfig, split: str, seed: int) -> list[Question]:
    from qrdistill.tasks import get_task

    if tc.synthetic is not None:
        from qrdistill.synthetic.families import make_questions

        count = {"train": tc.synthetic.train, "test": tc.synthetic.test, "dev": tc.synthetic.dev}[split]
        return make_questions(tc.name, count, seed, "val" if split == "dev" else split)
    source = {"train": tc.train_data, "test": tc.test_data, "dev": tc.dev_data}[split]
    return get_task(tc.name).load(source, split=split)


def run_questions(cfg: RunConfig, run: RunDir) -> dict[str, dict[str, list[Question]]]:
    """The questions this run uses: each task's train, test (and dev, when it has some) split, written
    to the run dir the first time (from the task's data, a synthetic family, or what an import wrote
    there) and re-read after; ``limit_train``/``limit_test``/``limit_dev`` keep the first N.

    >>> run_questions(cfg, RunDir(cfg.run_dir))["gsm8k"]["test"][0].id
    'gsm8k-test-0'
    """
    out: dict[str, dict[str, list[Question]]] = {}
    for tc in cfg.tasks:
        out[tc.name] = {}
        has_dev = tc.has_dev() or run.questions(tc.name, "dev").exists()  # an import may have written dev questions
        for split in (*SPLITS, "dev") if has_dev else SPLITS:
            file = run.questions(tc.name, split)
            if not file.exists():
                write_records(file, _make_questions(tc, split, cfg.seed))
            out[tc.name][split] = read_questions([file])[: tc.limit(split)]
        overlap = {q.question for q in out[tc.name]["train"]} & {q.question for q in out[tc.name]["test"]}
        if overlap:
            Console(stderr=True).print(f"[yellow]warning: task {tc.name}: {len(overlap)} test question(s) also appear in train[/]")
    return out
