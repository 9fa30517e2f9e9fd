"""Complete final-answer statements: where a completion has finished writing its final answer.

Generation may stop there (``Task.answer_end``). A statement is "answer is" followed by an answer
of the task's kind and its closing period, and it only counts once the character after that period
is written and is neither a digit ("The answer is 1." may go on to "1.5") nor a closing quote
(an echo of the prompt's cue, 'End with "The answer is yes." or ...', is no answer).

>>> statement_end("So 3+4=7. The answer is 7.\\n\\nNext", NUMBER_ANSWER)
26
>>> statement_end("The answer is 7.", NUMBER_ANSWER) is None    # may still go on to 7.5
True
"""

from __future__ import annotations

import re


def _braced(depth: int) -> str:
    """A ``{...}`` group with at most ``depth`` levels of nested braces inside."""
    inner = r"[^{}]*"
    for _ in range(depth):
        inner = rf"(?:[^{{}}]|\{{{inner}\}})*"
    return rf"\{{{inner}\}}"


BOXED = rf"\$?\\boxed\s*{_braced(3)}\$?"
"""``\\boxed{...}`` (nested braces up to three levels deep), optionally in ``$...$``."""
PLAIN_NUMBER = r"\$?-?\d[\d,]*(?:\.\d+)?(?:/\d+)?"
"""A written number: ``13``, ``-2.5``, ``1,250``, ``$40``, ``3/4``."""

NUMBER_ANSWER = rf"(?:{BOXED}|{PLAIN_NUMBER})"
YES_NO_ANSWER = r"(?i:yes|no)"
NLI_ANSWER = r"(?i:true|false|neither|entailment|neutral|contradiction)"


def choice_answer(valid: str) -> str:
    """An option letter among ``valid``: ``(B)``, ``B`` or ``\\boxed{B}``."""
    letter = f"[{re.escape(valid)}]"
    return rf"(?:\({letter}\)|{letter}|\$?\\boxed\s*\{{\s*\(?{letter}\)?\s*\}}\$?)"


def statement_end(text: str, answer: str) -> int | None:
    """Index just after the period of the first complete "answer is <answer>." in ``text``; None if none yet."""
    match = re.search(rf"(?i:\banswer\s+is)\s*:?\s*\**\s*{answer}\s*\**\s*\.(?=[^\d\"'”’])", text)
    return match.end() if match else None
