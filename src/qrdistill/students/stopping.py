"""Stopping a row once its text holds its final answer, and the finished completions.

The caller gives one text rule per prompt, ``stop_at(text) -> index after the final answer or None``
(``Task.answer_end``). While decoding, only the tail of a live row is decoded and asked (cheap);
the returned text is the full decoded continuation cut right after the first final answer.

>>> check = text_stop_check(tokenizer, [task.answer_end, None])    # row 0 stops at its answer, row 1 never
>>> finish(tokenizer, continuation, task.answer_end).text           # cut right after "The answer is 7."
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from qrdistill.students.generation import Continuation, StopCheck, StopReason

StopAt = Callable[[str], int | None]
"""``stop_at(text)``: index just after the text's final answer; None while it has none."""

TAIL_TOKENS = 64
"""New tokens decoded for a stop check; a final-answer statement longer than this is only cut at the end."""


@dataclass(frozen=True)
class Completion:
    """One generated answer: its text, what ended decoding, and how many new tokens it cost."""

    text: str
    stop: StopReason
    new_tokens: int


def text_stop_check(tokenizer: PreTrainedTokenizerBase, stop_at: Sequence[StopAt | None]) -> StopCheck:
    """A token-level check for ``greedy_generate``: row ``i`` is done once ``stop_at[i]`` finds an answer in its tail."""
    def check(row: int, ids: list[int]) -> bool:
        rule = stop_at[row]
        return rule is not None and rule(tokenizer.decode(ids[-TAIL_TOKENS:], skip_special_tokens=True)) is not None

    return check


def finish(tokenizer: PreTrainedTokenizerBase, continuation: Continuation, stop_at: StopAt | None) -> Completion:
    """The decoded continuation, cut right after its first final answer when ``stop_at`` finds one."""
    text = tokenizer.decode(continuation.ids, skip_special_tokens=True)
    end = stop_at(text) if stop_at is not None else None
    return Completion(text if end is None else text[:end], continuation.stop, len(continuation.ids))
