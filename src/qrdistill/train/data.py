"""Training examples (one kept path, encoded by every student) and the batch order.

Each path trains under its own style's instruction (the user turn the teacher answered,
``teacher.styles.prompt_for``), so six styles do not compete for the first answer token of one
shared prompt; evaluation asks each student in the style chosen for it on the dev split with the
same function, so a style's prompt is identical in training and at test.

>>> examples = build_examples(paths, questions, students, styles=load_styles())
>>> cues = build_bare_cues(sorted({q.id for q in questions.values()}), questions, students)
>>> order = epoch_batches([e.length for e in examples], global_batch=8, seed=0, epoch=0,
...                       strata=[e.path.style for e in examples])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from rich.progress import track

from qrdistill.records import Path, Question
from qrdistill.routing.reward import first_answer_span, span_tokens
from qrdistill.students import Encoded, Student
from qrdistill.tasks import get_task
from qrdistill.teacher.styles import Style, prompt_for
from qrdistill.train.alignment import TokenLinks, covered_by_all, text_spans, token_links


@dataclass(frozen=True)
class Example:
    """One path as every student sees it, with its text-aligned spans and its answer's tokens."""

    path: Path
    prompt: str
    """The task prompt in the path's style (the plain task prompt for a style without a template)."""
    encodings: tuple[Encoded, ...]
    """One per student, from ``Student.encode(prompt, path.text)``."""
    links: tuple[TokenLinks, ...]
    """Per student: response tokens -> whitespace spans of the path text."""
    spans: tuple[int, ...]
    """Spans covered by every student (the ones peer teaching compares)."""
    answer_tokens: tuple[tuple[int, ...], ...]
    """Per student: positions of the tokens of the gold answer's first mention (empty: never mentioned
    or cut by max_length); their log-probability is the path's half of the answer gain."""
    question_index: int
    """Index of the path's question in the trainer's question list (its bare answer cue)."""

    @property
    def length(self) -> int:
        """Longest sequence over the students (what padding depends on)."""
        return max(len(e) for e in self.encodings)

    def n_chars(self, student: int) -> int:
        """Characters of the response that student's tokens cover (less than the text when truncated)."""
        return max([end for _, end in self.encodings[student].response_offsets] + [1])


@dataclass(frozen=True)
class BareCue:
    """One question's plain prompt followed by only the task's answer sentence, per student: the
    other half of the answer gain (how well the student guesses the answer with no reasoning)."""

    question_id: str
    encodings: tuple[Encoded, ...]
    answer_tokens: tuple[tuple[int, ...], ...]


def _answer_tokens(encoding: Encoded, text: str, question: Question) -> tuple[int, ...]:
    span = first_answer_span(text, question.gold, get_task(question.task).answer_kind)
    return span_tokens(encoding.response_offsets, span)


def build_examples(paths: Sequence[Path], questions: Mapping[str, Question], students: Sequence[Student],
                   styles: Mapping[str, Style] | None = None, question_ids: Sequence[str] | None = None,
                   progress: bool = True) -> list[Example]:
    """Encode every path for every student under its style's prompt (``styles``: templates by name;
    None trains every path under the plain task prompt). ``question_ids`` orders the questions for
    ``Example.question_index`` (default: sorted ids of the paths' questions). A path whose question
    is missing is an error naming both."""
    order = list(question_ids) if question_ids is not None else sorted({p.question_id for p in paths})
    index = {qid: i for i, qid in enumerate(order)}
    examples = []
    for path in track(paths, description="encoding paths", disable=not progress):
        question = questions.get(path.question_id)
        if question is None or path.question_id not in index:
            raise KeyError(
                f"path {path.key}: question {path.question_id!r} is not among the {len(questions)} questions given; "
                "pass the Question file(s) the paths were generated from (--questions)"
            )
        prompt = prompt_for(get_task(question.task), question, path.style if styles is not None else None, styles or {})
        encodings = tuple(s.encode(prompt, path.text) for s in students)
        spans = text_spans(path.text)
        links = tuple(token_links(e.response_offsets, spans) for e in encodings)
        answers = tuple(_answer_tokens(e, path.text, question) for e in encodings)
        examples.append(Example(path, prompt, encodings, links, tuple(covered_by_all(links, len(spans))), answers, index[path.question_id]))
    return examples


def build_bare_cues(question_ids: Sequence[str], questions: Mapping[str, Question], students: Sequence[Student]) -> list[BareCue]:
    """Per question (in ``question_ids`` order): the plain task prompt + the task's answer sentence
    (``task.format_answer(gold)``), encoded by every student."""
    cues = []
    for qid in question_ids:
        question = questions[qid]
        task = get_task(question.task)
        text = task.format_answer(question.gold, question)
        encodings = tuple(s.encode(task.prompt(question), text, add_eos=False) for s in students)
        cues.append(BareCue(qid, encodings, tuple(_answer_tokens(e, text, question) for e in encodings)))
    return cues


def _interleave(strata: Sequence[str], order: list[int], rng: np.random.Generator) -> list[int]:
    """``order`` rearranged so that consecutive positions cycle through the strata (each stratum keeps
    its shuffled order; strata visited in a random order per round, larger ones spread evenly)."""
    groups: dict[str, list[int]] = {}
    for i in order:
        groups.setdefault(strata[i], []).append(i)
    # position of each item = its rank within its stratum, scaled to the stratum's size, plus jitter
    keyed = [((rank + rng.random()) / len(items), i) for items in groups.values() for rank, i in enumerate(items)]
    return [i for _, i in sorted(keyed)]


def epoch_batches(lengths: Sequence[int], global_batch: int, seed: int, epoch: int, bucket_size: int = 2,
                  strata: Sequence[str] | None = None) -> list[list[int]]:
    """Index batches for one epoch: shuffled, mixed across ``strata`` (e.g. styles), length-bucketed,
    every batch full.

    Indices are shuffled with (seed, epoch); with ``strata`` they are interleaved so that consecutive
    positions come from different strata; within groups of ``bucket_size`` batches they are sorted by
    length (less padding); batch order is shuffled again. Small groups keep each batch mixed: a group
    of 2 batches holds about 2 x global_batch consecutive, interleaved paths. The last batch is filled
    from the start of the permutation (as DistributedSampler does), so every process always gets the
    same number of examples.

    >>> epoch_batches([5, 1, 9, 3], global_batch=2, seed=0, epoch=0)
    [[3, 1], [2, 0]]
    """
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths)).tolist()
    if strata is not None:
        order = _interleave(strata, order, rng)
    n_batches = -(-len(order) // global_batch)
    order += order[: n_batches * global_batch - len(order)]
    group = global_batch * bucket_size
    batches = []
    for start in range(0, len(order), group):
        chunk = sorted(order[start : start + group], key=lambda i: -lengths[i])
        batches += [chunk[i : i + global_batch] for i in range(0, len(chunk), global_batch)]
    return [batches[i] for i in rng.permutation(len(batches))]
