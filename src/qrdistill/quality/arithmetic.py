"""Recompute the calculations written in a reasoning path (``a op b = c``, chains, parentheses).

Pure text logic, no I/O. A wrong calculation marks a path spurious even when its final answer
is right. The extractor is conservative: it checks only what it can read unambiguously, because
a false alarm drops a clean path. It skips an equation when its edge is glued to a variable or
a word that is itself an operation ("half of 10 + 4 = 9", "2x + 3 = 11", "3:30"), and when
neither side has an operator ("20% of 50 = 10" leaves "50 = 10", not a calculation).

Accepted as right (sloppy but not spurious): a result rounded or truncated to the decimals it is
written with ("10 ÷ 3 = 3.33"), left-to-right calculator order ("5 + 3 × 2 = 16"), percent read
as /100 or as a plain number ("0.25 × 100 = 25%"), and running totals ("3 × 4 = 12 + 5 = 17").

>>> [c.ok for c in find_calculations("He pays 3 × $1,200.50 = $3,601.50, then 10 - 4 = 5.")]
[True, False]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from qrdistill.records import VerifierResult

Kind = Literal["num", "op", "lp", "rp", "eq", "ws", "word", "char"]

CONNECTIVES = frozenset(
    "of times plus minus by over per divided multiplied into less more than twice half double triple "
    "squared cubed root".split()
)
"""Words that make a neighbouring number part of a larger, unwritten expression."""

_OPEN_SAFE = set("\"'([`")
_CLOSE_SAFE = set(".,;:?\"')]`")

_LATEX = [
    (r"\\(?:d|t)?frac\{\s*([\d.]+)\s*\}\{\s*([\d.]+)\s*\}", r"(\1/\2)"),
    (r"\\boxed\{\s*([^{}]*)\}", r" \1 "),
    (r"\\text(?:bf|rm)?\{([^{}]*)\}", r" \1 "),
    (r"\\times", " × "), (r"\\cdot", " · "), (r"\\div", " ÷ "), (r"\\approx", " ≈ "),
    (r"\\left|\\right", ""), (r"\\[()\[\]]", " "), (r"\{,\}", ","), (r"\\[,!;]", ""),
    (r"\\\$", "$"), (r"\\%", "%"),
    (r"<<[^<>\n]*>>", " "),                # GSM8K calculator annotations: '48/2 = <<48/2=24>>24'
    (r"\^\{\s*(-?\d+)\s*\}", r"^\1"),
    (r"\$(?![\d.])", " "),                 # a '$' that is not currency is a LaTeX delimiter
    (r"(?:(?<=^)|(?<=\s))\*\*(?=\S)|(?<=\S)\*\*(?=$|[\s.,;:!?)])", ""),  # markdown bold
]
_CHARS = str.maketrans({"−": "-", "–": "-", "⋅": "·", "∗": "*", "✕": "×", "✖": "×", "＝": "="})

_TOKEN = re.compile(
    r"(?P<num>\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?|\$?\.\d+%?)"
    r"|(?P<op>\*\*|[+\-×*/÷·^])|(?P<lp>\()|(?P<rp>\))|(?P<eq>=|≈)|(?P<ws>\s+)|(?P<word>[A-Za-z]+)|(?P<char>.)"
)


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str


@dataclass(frozen=True)
class Calculation:
    """One written equality between two sides, with its recomputation."""

    text: str
    ok: bool
    computed: str
    """The value the left side really has (as written, not rounded)."""


def normalise(text: str) -> str:
    """Rewrite LaTeX, GSM8K annotations, markdown and unicode operators into plain arithmetic.

    >>> normalise(r"$3 \\times 4 = \\boxed{12}$")
    ' 3  ×  4 =  12  '
    """
    for pattern, repl in _LATEX:
        text = re.sub(pattern, repl, text, flags=re.MULTILINE)
    return text.translate(_CHARS)


def tokenize(line: str) -> list[Token]:
    """Tokens of one line; a lone 'x'/'X' between two numbers becomes the × operator."""
    tokens = [Token(m.lastgroup, m.group()) for m in _TOKEN.finditer(line)]  # type: ignore[arg-type]
    for i, tok in enumerate(tokens):
        if tok.kind == "word" and tok.text in ("x", "X"):
            before, after = _neighbour(tokens, i, -1), _neighbour(tokens, i, 1)
            if before and after and before.kind in ("num", "rp") and after.kind in ("num", "lp"):
                tokens[i] = Token("op", "×")
    return tokens


def _neighbour(tokens: list[Token], i: int, step: int) -> Token | None:
    j = i + step
    while 0 <= j < len(tokens) and tokens[j].kind == "ws":
        j += step
    return tokens[j] if 0 <= j < len(tokens) else None


def _edge_unsafe(tokens: list[Token], edge: int, step: int) -> bool:
    """Whether the token beyond a run's edge could make the edge number part of a larger expression."""
    glued = 0 <= edge + step < len(tokens) and tokens[edge + step].kind != "ws"
    beyond = _neighbour(tokens, edge, step)
    if beyond is None:
        return False
    if beyond.kind == "word" and (beyond.text.lower() in CONNECTIVES or len(beyond.text) == 1 or glued):
        return True
    if glued and beyond.kind == "char":
        if step < 0:
            return beyond.text not in _OPEN_SAFE
        after = tokens[edge + 2] if edge + 2 < len(tokens) else None
        return beyond.text not in _CLOSE_SAFE or (after is not None and after.kind in ("num", "word"))
    return False


def _runs(tokens: list[Token]) -> list[tuple[int, int]]:
    """Maximal [start, end) spans of number/operator/paren/equals tokens separated only by spaces."""
    spans, start = [], None
    for i, tok in enumerate(tokens + [Token("char", "")]):
        if tok.kind in ("num", "op", "lp", "rp", "eq"):
            if start is None:
                start = i
            last = i
        elif tok.kind != "ws" and start is not None:
            spans.append((start, last + 1))
            start = None
    return spans


def _number(text: str, percent: Fraction) -> Fraction:
    value = Fraction(text.strip("$%").replace(",", ""))
    return value * percent if text.endswith("%") else value


_BINARY = {"+", "-", "×", "*", "/", "÷", "·", "^", "**"}
_PRECEDENCE = {"standard": {"+": 1, "-": 1, "×": 2, "*": 2, "·": 2, "/": 2, "÷": 2},
               "flat": {"+": 1, "-": 1, "×": 1, "*": 1, "·": 1, "/": 1, "÷": 1}}


class _Parser:
    """Precedence-climbing evaluator over one side of an equality; None for what it cannot read."""

    def __init__(self, tokens: list[Token], mode: str, percent: Fraction) -> None:
        self.toks, self.pos, self.prec, self.percent = tokens, 0, _PRECEDENCE[mode], percent

    def value(self) -> Fraction | None:
        try:
            result = self._expr(1)
        except (ZeroDivisionError, ValueError, OverflowError, IndexError):
            return None
        return result if self.pos == len(self.toks) else None

    def _peek(self) -> Token | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def _expr(self, min_prec: int) -> Fraction:
        left = self._unary()
        while (tok := self._peek()) is not None:
            if tok.kind == "lp":  # implicit multiplication: 2(3 + 4)
                op, prec = "×", self.prec["×"]
            elif tok.kind == "op" and tok.text in self.prec:
                op, prec = tok.text, self.prec[tok.text]
                self.pos += 1
            else:
                break
            if prec < min_prec:
                self.pos -= tok.kind == "op"
                break
            right = self._expr(prec + 1)
            left = _apply(op, left, right)
        return left

    def _unary(self) -> Fraction:
        tok = self._peek()
        if tok is not None and tok.kind == "op" and tok.text in "+-":
            self.pos += 1
            operand = self._unary()
            return -operand if tok.text == "-" else operand
        return self._power()

    def _power(self) -> Fraction:
        base = self._atom()
        tok = self._peek()
        if tok is not None and tok.kind == "op" and tok.text in ("^", "**"):
            self.pos += 1
            exponent = self._unary()
            if exponent.denominator != 1 or abs(exponent) > 64 or abs(base) > 10**12:
                raise ValueError("exponent out of range")
            return base ** int(exponent)
        return base

    def _atom(self) -> Fraction:
        tok = self.toks[self.pos]
        self.pos += 1
        if tok.kind == "num":
            return _number(tok.text, self.percent)
        if tok.kind == "lp":
            inner = self._expr(1)
            if self._peek() is None or self._peek().kind != "rp":  # type: ignore[union-attr]
                raise ValueError("unbalanced parenthesis")
            self.pos += 1
            return inner
        raise ValueError(f"unexpected {tok.text!r}")


def _apply(op: str, a: Fraction, b: Fraction) -> Fraction:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op in ("/", "÷"):
        return a / b
    return a * b


def _has_operator(side: list[Token]) -> bool:
    """A binary operator (not just a sign) or an implicit multiplication."""
    for i, tok in enumerate(side):
        if i > 0 and (tok.kind == "lp" and side[i - 1].kind in ("num", "rp")):
            return True
        if tok.kind == "op" and tok.text in _BINARY and i > 0 and side[i - 1].kind in ("num", "rp"):
            return True
    return False


def _decimals(side: list[Token]) -> int | None:
    """Decimals of a side that is a single written number (the 'result' side), else None."""
    while side and side[0].kind == "op" and side[0].text in "+-":
        side = side[1:]
    if len(side) != 1 or side[0].kind != "num":
        return None
    number = side[0].text.strip("$%")
    return len(number.split(".")[1]) if "." in number else 0


def _close(computed: Fraction, claimed: Fraction, decimals: int | None, approx: bool) -> bool:
    if approx:
        return abs(computed - claimed) <= max(abs(computed) * Fraction(2, 100), Fraction(1, 100))
    if abs(computed - claimed) <= abs(computed) * Fraction(1, 10**9):  # float printing noise: 26.666666666666668
        return True
    if decimals is None:
        return False
    unit = Fraction(1, 10**decimals)
    rounded = abs(computed - claimed) <= unit / 2
    truncated = (computed >= 0) == (claimed >= 0) and abs(claimed) <= abs(computed) < abs(claimed) + unit
    return rounded or truncated


def _values(side: list[Token], percent: Fraction) -> set[Fraction]:
    return {v for mode in _PRECEDENCE if (v := _Parser(side, mode, percent).value()) is not None}


def _check_pair(left: list[Token], right: list[Token], approx: bool) -> tuple[bool, Fraction] | None:
    """(ok, computed value of the expression side), or None when the pair is not a checkable calculation."""
    if not (_has_operator(left) or _has_operator(right)):
        return None
    expr, result = (left, right) if _has_operator(left) or not _has_operator(right) else (right, left)
    decimals = _decimals(result)
    shown: Fraction | None = None
    for percent in (Fraction(1, 100), Fraction(1)):
        computed, claimed = _values(expr, percent), _values(result, percent)
        if not computed or not claimed:
            continue
        shown = shown if shown is not None else min(computed)
        if any(_close(c, r, decimals, approx) for c in computed for r in claimed):
            return True, min(computed)
        # A running total: "3 × 4 = 12 + 5 = 17" claims 3 × 4 = 12, then 12 + 5 = 17.
        if result[0].kind == "num" and _has_operator(result):
            first = _number(result[0].text, percent)
            if any(_close(c, first, _decimals(result[:1]), approx) for c in computed):
                return True, min(computed)
    return None if shown is None else (False, shown)


def _render(tokens: list[Token]) -> str:
    return re.sub(r"\s+", " ", "".join(t.text for t in tokens)).strip()


def _format(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.6g}"


def find_calculations(text: str) -> list[Calculation]:
    """Every checkable written equality in ``text``, each recomputed.

    >>> find_calculations("So 48 / 2 = 24 and 24 + 48 = 72.")[1].ok
    True
    """
    found: list[Calculation] = []
    for line in normalise(text).splitlines():
        tokens = tokenize(line)
        for start, end in _runs(tokens):
            run = [t for t in tokens[start:end] if t.kind != "ws"]
            sides, ops = [[]], []  # type: ignore[var-annotated]
            for tok in run:
                if tok.kind == "eq":
                    sides.append([])
                    ops.append(tok.text)
                else:
                    sides[-1].append(tok)
            for i in range(len(sides) - 1):
                if i == 0 and _edge_unsafe(tokens, start, -1):
                    continue
                if i + 1 == len(sides) - 1 and _edge_unsafe(tokens, end - 1, 1):
                    continue
                left, right = sides[i], sides[i + 1]
                if not left or not right:
                    continue
                checked = _check_pair(left, right, approx=ops[i] == "≈")
                if checked is not None:
                    ok, computed = checked
                    found.append(Calculation(f"{_render(left)} {ops[i]} {_render(right)}", ok, _format(computed)))
    return found


def verify_arithmetic(text: str) -> VerifierResult:
    """The ``arithmetic`` verifier: False if any written calculation is wrong, None if none was found.

    >>> verify_arithmetic("25 × 4 = 110, so the answer is 110.").passed
    False
    """
    calcs = find_calculations(text)
    if not calcs:
        return VerifierResult(name="arithmetic", passed=None, detail="no written calculation found")
    wrong = [c for c in calcs if not c.ok]
    if wrong:
        shown = "; ".join(f"'{c.text}' (it is {c.computed})" for c in wrong[:3])
        return VerifierResult(name="arithmetic", passed=False, detail=f"{len(wrong)} of {len(calcs)} calculations wrong: {shown}")
    return VerifierResult(name="arithmetic", passed=True, detail=f"{len(calcs)} calculations checked")
