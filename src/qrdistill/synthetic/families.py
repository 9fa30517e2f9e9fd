"""Synthetic problem families: seeded generators with gold answers and structured solutions,
registered as tasks so the embedded demo runs offline (all data here is synthetic).

    synth_arith   GSM8K-like word problems, 2-3 operations on small integers  (\\boxed{N})
    synth_arith1  the same stories with one operation: the easiest family     (\\boxed{N})
    synth_date    Date-Understanding-like, 6 options A-F                      ((B))
    synth_table   TabMWP-like: a 3-5 row table, a total/difference/range      (\\boxed{N})
    synth_yesno   StrategyQA-like: two reasoning steps from stated facts       (yes/no)

Each Question keeps its solution in ``meta["solution"]`` (``solutions.Solution``),
which the synthetic teacher renders. Train, val and test never share a question: the split of
a question is a function of its text, so any seed's train set is disjoint from any seed's test set.

>>> qs = make_questions("synth_arith", 3, seed=0, split="train")
>>> get_task("synth_arith").is_correct(r"so the answer is \\boxed{%s}." % qs[0].gold, qs[0].gold)
True
"""

from __future__ import annotations

import functools
import hashlib
import os
import random
from collections.abc import Callable
from typing import ClassVar

from qrdistill.jsonl import RecordError, iter_json_lines, parse_record
from qrdistill.records import Question
from qrdistill.synthetic.arith import make_arith
from qrdistill.synthetic.date import make_date
from qrdistill.synthetic.solutions import Draft
from qrdistill.synthetic.table import make_table
from qrdistill.synthetic.yesno import make_yesno
from qrdistill.tasks.base import Task
from qrdistill.tasks.kinds import ChoiceTask, NumberTask, YesNoTask
from qrdistill.tasks.registry import register

FAMILIES: dict[str, Callable[[random.Random], Draft]] = {
    "synth_arith": make_arith,
    "synth_arith1": functools.partial(make_arith, operations=(1,)),
    "synth_date": make_date,
    "synth_table": make_table,
    "synth_yesno": make_yesno,
}
SPLITS: dict[str, tuple[int, int]] = {"train": (0, 70), "val": (70, 80), "test": (80, 100)}
"""Each split owns a range of the 100 buckets that a question's text hashes to."""


def _digest(draft: Draft) -> str:
    return hashlib.sha256(f"{draft.context or ''}\n{draft.question}".encode()).hexdigest()


def split_of(draft: Draft) -> str:
    """The split a generated problem belongs to, decided by its text alone."""
    bucket = int(_digest(draft)[:8], 16) % 100
    return next(name for name, (lo, hi) in SPLITS.items() if lo <= bucket < hi)


def make_questions(family: str, n: int, seed: int, split: str) -> list[Question]:
    """``n`` distinct questions of ``family`` in ``split`` (train/val/test), the same for the same seed.

    Ids are ``{family}-{hash of the text}``, so a question has the same id whichever ``n`` or
    seed produced it.

    >>> [q.id for q in make_questions("synth_date", 2, seed=1, split="test")] == \\
    ...     [q.id for q in make_questions("synth_date", 2, seed=1, split="test")]
    True
    """
    if family not in FAMILIES:
        raise KeyError(f"unknown synthetic family {family!r}; known: {', '.join(FAMILIES)}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    rng = random.Random(f"{family}|{seed}")
    out: dict[str, Question] = {}
    for _ in range(200 * n + 1000):
        if len(out) == n:
            break
        draft = FAMILIES[family](rng)
        if split_of(draft) != split:
            continue
        qid = f"{family}-{_digest(draft)[:12]}"
        if qid not in out:
            out[qid] = Question(
                id=qid, task=family, question=draft.question, gold=draft.gold, choices=draft.choices,
                context=draft.context, split=split,
                meta={"solution": draft.solution.model_dump(), "seed": seed, "synthetic": True},
            )
    if len(out) < n:
        raise ValueError(f"{family}: only {len(out)} distinct {split} questions found for seed {seed}; ask for fewer")
    return list(out.values())


class _Synthetic(Task):
    """Loading shared by the families: Question JSONL as written by ``make_questions``."""

    def load(self, path: str | os.PathLike[str], split: str | None = None) -> list[Question]:
        """Questions of this family from a Question JSONL file, optionally only one split."""
        questions = []
        for line, obj in iter_json_lines(path):
            question = parse_record(obj, Question, f"{path}:{line}")
            if question.task != self.name:
                raise RecordError(f"{path}:{line}: field 'task' is {question.task!r}, expected {self.name!r}; "
                                  f"load this file with task {question.task!r}")
            if split is None or question.split == split:
                questions.append(question)
        return questions


@register
class SynthArith(_Synthetic, NumberTask):
    """Multi-step arithmetic word problems (synthetic, GSM8K-like)."""

    name: ClassVar[str] = "synth_arith"


@register
class SynthArith1(_Synthetic, NumberTask):
    """One-operation arithmetic word problems (synthetic): sized for the CPU demo's small students."""

    name: ClassVar[str] = "synth_arith1"


@register
class SynthDate(_Synthetic, ChoiceTask):
    """Date arithmetic with six options (synthetic, Date-Understanding-like)."""

    name: ClassVar[str] = "synth_date"
    n_options: ClassVar[int] = 6
    instruction = "Answer the following question about dates."


@register
class SynthTable(_Synthetic, NumberTask):
    """A small table and a question on it (synthetic, TabMWP-like)."""

    name: ClassVar[str] = "synth_table"
    instruction = "Read the table and answer the question."


@register
class SynthYesNo(_Synthetic, YesNoTask):
    """Yes/no questions needing two reasoning steps from stated facts (synthetic, StrategyQA-like)."""

    name: ClassVar[str] = "synth_yesno"
