"""What a path is worth to a student: its answer gain (pointwise V-information).

Ethayarajh et al. (2022, "Understanding Dataset Difficulty with V-Usable Information") measure
how much an input tells a model family about a label as pointwise V-information. Here the model
is one student, the label is the gold answer and the input is the reasoning a path writes before
the answer first appears:

    gain_js = log p_s(y | x, path_j up to y's first mention) - log p_s(y | x, bare answer cue)

x is the question's prompt and the bare cue is the task's answer sentence with nothing before it
("The answer is \\boxed{"). A path that derives the answer in steps the student can follow makes y
predictable (gain >> 0); a path that states the answer before any reasoning, or reaches it through
a step the student cannot follow (a program it cannot run in its head), adds nothing (gain ~ 0).
Both log-probabilities are sums over the answer's tokens in the student's own tokenisation, read
from forward passes the trainer makes anyway (the path's) plus one short forward per question
(the bare cue), so the gain costs no extra pass over the paths.

>>> first_answer_span("3 + 4 = 7 apples. The answer is \\\\boxed{7}.", "7", "number")
(8, 9)
>>> span_tokens([(-1, -1), (0, 2), (2, 8), (8, 9), (9, 16)], (8, 9))
(3,)
>>> total, known = answer_nll(nll, rows.example, batch["labels"], [example.answer_tokens[s] for example in batch], B)
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import torch

from qrdistill.tasks.answers import parse_number

_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d])")
_WORD = {"yesno": r"(?<![\w'])({gold})(?![\w'])", "nli": r"(?<![\w'])({gold})(?![\w'])"}


def first_answer_span(text: str, gold: str, kind: str) -> tuple[int, int] | None:
    """Character span of the first mention of the gold answer in ``text``; None if it never appears.

    Numbers match by value (``1,250`` is ``1250``); an option letter matches as ``(B)``; yes/no and
    NLI labels as whole words (any case); other kinds as the literal gold text.

    >>> first_answer_span("Guess (B). Check: ... so (B).", "B", "choice")
    (6, 9)
    """
    if kind in ("number", "math"):
        target = parse_number(gold)
        if target is not None:
            for match in _NUMBER.finditer(text):
                value = parse_number(match.group())
                if value is not None and math.isclose(value, target, rel_tol=1e-9, abs_tol=1e-9):
                    return match.span()
            return None
    if kind == "choice":
        match = re.search(rf"\({re.escape(gold)}\)", text)
    elif kind in _WORD:
        match = re.search(_WORD[kind].format(gold=re.escape(gold)), text, re.IGNORECASE)
    else:
        match = re.search(re.escape(gold), text)
    return match.span() if match else None


def span_tokens(offsets: Sequence[tuple[int, int]], span: tuple[int, int] | None) -> tuple[int, ...]:
    """Positions of the tokens whose character offsets overlap ``span`` (prompt/special tokens never do)."""
    if span is None:
        return ()
    start, end = span
    return tuple(i for i, (a, b) in enumerate(offsets) if a >= 0 and b > a and a < end and b > start)


def answer_nll(nll: torch.Tensor, example: torch.Tensor, labels: torch.Tensor, answers: Sequence[Sequence[int]],
               n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per example, the summed NLL [n] of the tokens at positions ``answers[b]`` (detached), and whether
    it has any [n]. ``nll`` and ``example`` are the supervised rows of a forward pass in order (row t of
    example b predicts token t+1, ``method.losses.supervised_rows``), ``labels`` [n, T] its labels."""
    mask = torch.zeros_like(labels, dtype=torch.bool)
    for b, positions in enumerate(answers):
        mask[b, list(positions)] = True
    rows = mask[:, 1:][labels[:, 1:] != -100].float()
    totals = torch.zeros(n, dtype=nll.dtype, device=nll.device).index_add(0, example, nll.detach() * rows)
    counts = torch.zeros(n, device=nll.device).index_add(0, example, rows)
    return totals, counts > 0
