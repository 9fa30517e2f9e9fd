"""Training examples (one kept path, encoded by every student) and the batch order.

>>> examples = build_examples(paths, questions, students)     # each student's own template
>>> order = epoch_batches([e.length for e in examples], global_batch=8, seed=0, epoch=0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from rich.progress import track

from qrdistill.records import Path, Question
from qrdistill.students import Encoded, Student
from qrdistill.tasks import get_task
from qrdistill.train.alignment import TokenLinks, covered_by_all, text_spans, token_links


@dataclass(frozen=True)
class Example:
    """One path as every student sees it, with its text-aligned spans."""

    path: Path
    encodings: tuple[Encoded, ...]
    """One per student, from ``Student.encode(task.prompt(question), path.text)``."""
    links: tuple[TokenLinks, ...]
    """Per student: response tokens -> whitespace spans of the path text."""
    spans: tuple[int, ...]
    """Spans covered by every student (the ones peer teaching compares)."""

    @property
    def length(self) -> int:
        """Longest sequence over the students (what padding depends on)."""
        return max(len(e) for e in self.encodings)

    def n_chars(self, student: int) -> int:
        """Characters of the response that student's tokens cover (less than the text when truncated)."""
        return max([end for _, end in self.encodings[student].response_offsets] + [1])


def build_examples(paths: Sequence[Path], questions: Mapping[str, Question], students: Sequence[Student], progress: bool = True) -> list[Example]:
    """Encode every path for every student; a path whose question is missing is an error naming both."""
    examples = []
    for path in track(paths, description="encoding paths", disable=not progress):
        question = questions.get(path.question_id)
        if question is None:
            raise KeyError(
                f"path {path.key}: question {path.question_id!r} is not among the {len(questions)} questions given; "
                "pass the Question file(s) the paths were generated from (--questions)"
            )
        prompt = get_task(question.task).prompt(question)
        encodings = tuple(s.encode(prompt, path.text) for s in students)
        spans = text_spans(path.text)
        links = tuple(token_links(e.response_offsets, spans) for e in encodings)
        examples.append(Example(path, encodings, links, tuple(covered_by_all(links, len(spans)))))
    return examples


def epoch_batches(lengths: Sequence[int], global_batch: int, seed: int, epoch: int, bucket_size: int = 64) -> list[list[int]]:
    """Index batches for one epoch: shuffled, length-bucketed, every batch full.

    Indices are shuffled with (seed, epoch); within groups of ``bucket_size`` batches they are
    sorted by length so a batch holds similar lengths (little padding); batch order is shuffled
    again. The last batch is filled from the start of the permutation (as DistributedSampler
    does), so every process always gets the same number of examples.

    >>> epoch_batches([5, 1, 9, 3], global_batch=2, seed=0, epoch=0)
    [[3, 1], [2, 0]]
    """
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths)).tolist()
    n_batches = -(-len(order) // global_batch)
    order += order[: n_batches * global_batch - len(order)]
    group = global_batch * bucket_size
    batches = []
    for start in range(0, len(order), group):
        chunk = sorted(order[start : start + group], key=lambda i: -lengths[i])
        batches += [chunk[i : i + global_batch] for i in range(0, len(chunk), global_batch)]
    return [batches[i] for i in rng.permutation(len(batches))]
