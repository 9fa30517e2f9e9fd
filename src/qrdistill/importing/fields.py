"""Pure text helpers of the importer: field access, join normalisation, trimming, options.

>>> get_field({"passage": "Dan had $3.", "question": "How much?"}, "passage+question")
'Dan had $3. How much?'
>>> normalize_question("Dan had 3 apples.\\nHow many  apples ?")
'dan had 3 apples how many apples ?'
>>> cut_after("x = 2. The answer is 2.\\n\\nQ: next", [r"\\n\\s*Q:"])
'x = 2. The answer is 2.'
>>> parse_inline_choices("Which? Answer Choices: (A) red (B) blue")
['red', 'blue']
"""

from __future__ import annotations

import ast
import operator
import re
import unicodedata
from typing import Any

from qrdistill.tasks.readers import MISSING, lookup

_INLINE_CHOICE = re.compile(r"\(([A-J])\)\s*(.*?)(?=\s*\([A-J]\)|\Z)", re.DOTALL)


class FieldError(KeyError):
    """A field named in the import mapping is absent from a record."""

    def __str__(self) -> str:
        return str(self.args[0])


def get_field(obj: Any, spec: str) -> Any:
    """Value of ``spec`` in ``obj``: a dotted path (``choices.text``), or several joined by ``+``
    whose string values are concatenated with one space (``passage+question``).

    Raises FieldError naming the missing part and the fields the record does have.
    """
    parts = [p.strip() for p in spec.split("+")]
    values = []
    for part in parts:
        value = lookup(obj, part)
        if value is MISSING:
            have = ", ".join(sorted(obj)) if isinstance(obj, dict) else type(obj).__name__
            raise FieldError(f"field '{part}' not found (record has: {have})")
        values.append(value)
    if len(values) == 1:
        return values[0]
    return " ".join(str(v).strip() for v in values)


def normalize_question(text: str) -> str:
    """Join key of a question text: case-, whitespace- and sentence-period-insensitive.

    Periods that end a sentence are dropped (SVAMP's ``Body + " " + Question`` appears with and
    without the period between the parts); decimal points (``2.5``) are kept.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"\.(?!\d)", " ", text)
    return " ".join(text.split())


def extract_question(text: str, pattern: str | None) -> str:
    """The question part of ``text``: group ``q`` (or group 1) of the last match of ``pattern``.

    >>> extract_question("Q: a\\nQ: b\\nOptions: x", r"Q: (?P<q>[^\\n]*)\\nOptions:")
    'b'
    """
    if not pattern:
        return text
    matches = list(re.finditer(pattern, text, re.DOTALL))
    if not matches:
        return text
    last = matches[-1]
    return last.group("q") if "q" in last.re.groupindex else last.group(1)


def cut_after(text: str, patterns: list[str]) -> str:
    """Text before the earliest match of any pattern (a hallucinated continuation), stripped."""
    end = len(text)
    for pattern in patterns:
        match = re.search(pattern, text)
        if match and match.start() < end:
            end = match.start()
    return text[:end].strip()


def parse_inline_choices(text: str) -> list[str]:
    """Option texts written inline as ``(A) x (B) y`` or one per line; [] when none."""
    return [m.group(2).strip() for m in _INLINE_CHOICE.finditer(text)]


def as_choices(value: Any) -> list[str]:
    """Option texts from a field value: a list of texts, ``{"text": [...]}``, or an inline string."""
    if isinstance(value, dict) and "text" in value:
        value = value["text"]
    if isinstance(value, list):
        return [str(v).strip() for v in value]
    if isinstance(value, str):
        return parse_inline_choices(value)
    return []


def remap_letters(text: str, mapping: dict[str, str]) -> str:
    """Rewrite option letters written as ``(X)`` or after "answer is" from the dump's option order
    to ours. Letters map simultaneously, so a swap A<->B is safe.

    >>> remap_letters("(A) is wrong, so the answer is B.", {"A": "C", "B": "A"})
    '(C) is wrong, so the answer is A.'
    """
    if all(k == v for k, v in mapping.items()):
        return text

    def paren(m: re.Match[str]) -> str:
        return f"({mapping.get(m.group(1), m.group(1))})"

    def after_answer(m: re.Match[str]) -> str:
        return m.group(1) + mapping.get(m.group(2), m.group(2))

    text = re.sub(r"\(([A-J])\)", paren, text)
    return re.sub(r"(answer(?: choice)? (?:is|:)\s*)([A-J])\b", after_answer, text, flags=re.IGNORECASE)


_ANSWER_EXPR = re.compile(r"(answer is:?\s*)\(?([\d.\s+\-*/()]+?)\)?(\s*\.?\s*)$", re.IGNORECASE)


def _eval_arith(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _eval_arith(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval_arith(node.operand)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH_OPS:
        return _ARITH_OPS[type(node.op)](_eval_arith(node.left), _eval_arith(node.right))
    raise ValueError("not plain arithmetic")


_ARITH_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def evaluate_answer_expression(text: str) -> tuple[str, str | None]:
    """When the final "answer is" states an arithmetic expression (PaLM's SVAMP rationales end
    with ``The answer is (7 * 36).``), append its value; returns the text and the value added.

    >>> evaluate_answer_expression("So 7 * 36 is 252. The answer is (7 * 36).")
    ('So 7 * 36 is 252. The answer is (7 * 36) = 252.', '252')
    """
    match = _ANSWER_EXPR.search(text)
    if not match or not re.search(r"\d\s*[-+*/]\s*\(?\d", match.group(2)):
        return text, None
    expr = match.group(2).strip()
    try:
        value = _eval_arith(ast.parse(expr, mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError):
        return text, None
    shown = str(int(value)) if value.is_integer() else f"{value:.6g}"
    return f"{text[: match.start(3)].rstrip()} = {shown}.", shown
