"""Training examples: one kept path, encoded by every student, and each question's bare answer cue.

Each path trains under its own style's instruction (the user turn the teacher answered,
``teacher.styles.prompt_for``), so six styles do not compete for the first answer token of one
shared prompt; evaluation asks each student in the style chosen for it on the dev split with the
same function, so a style's prompt is identical in training and at test.

>>> examples = build_examples(paths, questions, students, styles=load_styles())
>>> cues = build_bare_cues(sorted({q.id for q in questions.values()}), questions, students)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.progress import track

from qrdistill.method.alignment import TokenLinks, covered_by_all, text_spans, token_links
from qrdistill.method.reward import first_answer_span, span_tokens
from qrdistill.records import Path, Question
from qrdistill.students import Encoded, Student
from qrdistill.tasks import get_task
from qrdistill.teacher.styles import Style, prompt_for


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
