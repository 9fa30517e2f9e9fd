"""Recompute the calculations written in a reasoning path (``a op b = c``, chains, parentheses).

Pure text logic, no I/O. A wrong calculation marks a path spurious even when its final answer
is right. The extractor is conservative: it checks only what it can read unambiguously, because
a false alarm drops a clean path. It skips an equation when its edge is glued to a variable or
a word that is itself an operation ("half of 10 + 4 = 9", "2x + 3 = 11", "3:30") or that an
operator joins to it ("Jake's peaches + 3 = 9 + 3"), when neither side has an operator
("20% of 50 = 10" leaves "50 = 10", not a calculation), and date steps written with slashes
("3/5 - 7 = 2/26" is seven days before March 5, not a fraction).

Accepted as right (sloppy but not spurious): a result rounded or truncated to the decimals it is
written with ("10 ÷ 3 = 3.33"), left-to-right calculator order ("5 + 3 × 2 = 16"), percent read
as /100 or as a plain number ("0.25 × 100 = 25%"), a scale word as a multiplier or as a label
("10 × 330,000,000 = $3.3 billion", "2 dozen × 12 = 24"), and running totals ("3 × 4 = 12 + 5 = 17").
A markdown list marker at the start of a line ("- 18 - 5 = 13") is not a minus sign.

>>> [c.ok for c in find_calculations("He pays 3 × $1,200.50 = $3,601.50, then 10 - 4 = 5.")]
[True, False]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, NamedTuple

from qrdistill.records import VerifierResult

Kind = Literal["num", "op", "lp", "rp", "eq", "ws", "word", "char"]

CONNECTIVES = frozenset(
    "of times plus minus by over per divided multiplied into less more than twice half double triple "
    "squared cubed root".split()
)
"""Words that make a neighbouring number part of a larger, unwritten expression."""

SCALES = {"hundred": 100, "thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12, "dozen": 12}
"""Words that multiply the number before them ("$3.3 billion"); read both as a multiplier and as a label."""

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
    (r"^[ \t]*[-*+][ \t]+", ""),           # a markdown list marker, not a sign: '- 18 - 5 = 13'
    (r"\^\{\s*(-?\d+)\s*\}", r"^\1"),
    (r"\$(?![\d.])", " "),                 # a '$' that is not currency is a LaTeX delimiter
    (r"(?:(?<=^)|(?<=\s))\*\*(?=\S)|(?<=\S)\*\*(?=$|[\s.,;:!?)])", ""),  # markdown bold
]
_CHARS = str.maketrans({"−": "-", "–": "-", "⋅": "·", "∗": "*", "✕": "×", "✖": "×", "＝": "="})

_TOKEN = re.compile(
    r"(?P<num>\$?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
    rf"(?:%|[ \t]+(?:{'|'.join(SCALES)})(?![A-Za-z]))?)"
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

    >>> normalise(r"\\(3 \\times 4 = \\boxed{12}\\)")
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


def _neighbour_at(tokens: list[Token], i: int, step: int) -> int | None:
    j = i + step
    while 0 <= j < len(tokens) and tokens[j].kind == "ws":
        j += step
    return j if 0 <= j < len(tokens) else None


def _neighbour(tokens: list[Token], i: int, step: int) -> Token | None:
    j = _neighbour_at(tokens, i, step)
    return None if j is None else tokens[j]


def _edge_unsafe(tokens: list[Token], edge: int, step: int) -> bool:
    """Whether the token beyond a run's edge could make the edge number part of a larger expression."""
    glued = 0 <= edge + step < len(tokens) and tokens[edge + step].kind != "ws"
    at = _neighbour_at(tokens, edge, step)
    if at is None:
        return False
    beyond = tokens[at]
    if beyond.kind == "word" and (beyond.text.lower() in CONNECTIVES or len(beyond.text) == 1 or glued):
        return True
    if beyond.kind == "word" and tokens[edge].kind == "op" and not _is_sign(tokens, edge):
        return True  # an operator joins the words to the run: "Jake's peaches + 3 = 9 + 3"
    if step < 0 and beyond.text == "and" and edge + 1 < len(tokens) and tokens[edge + 1].text == "/":
        before = _neighbour(tokens, at, -1)
        return before is not None and before.kind == "num"  # a mixed number: "2 and 1/3 = 7/3"
    if glued and beyond.kind == "char":
        if step < 0:
            return beyond.text not in _OPEN_SAFE
        after = tokens[edge + 2] if edge + 2 < len(tokens) else None
        return beyond.text not in _CLOSE_SAFE or (after is not None and after.kind in ("num", "word"))
    return False


def _is_sign(tokens: list[Token], i: int) -> bool:
    """A '+'/'-' glued to the number after it and not to the token before it: 'has -1 + 10 = 9'."""
    glued_after = i + 1 < len(tokens) and tokens[i + 1].kind in ("num", "lp")
    spaced_before = i == 0 or tokens[i - 1].kind == "ws"
    return tokens[i].text in "+-" and glued_after and spaced_before


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


class _Reading(NamedTuple):
    """How to read '%' and scale words: '25%' as 0.25 or 25, '3.3 billion' as 3.3e9 or 3.3."""

    percent: Fraction
    scaled: bool


_READINGS = [_Reading(p, scaled) for scaled in (True, False) for p in (Fraction(1, 100), Fraction(1))]

_NUMBER = re.compile(r"\$?(?P<digits>[\d,.]+)(?P<percent>%?)\s*(?P<scale>[a-z]*)")


def _number(text: str, reading: _Reading) -> Fraction:
    parts = _NUMBER.fullmatch(text)
    assert parts is not None, text
    value = Fraction(parts["digits"].replace(",", ""))
    return value * _multiplier(parts, reading)


def _multiplier(parts: re.Match[str], reading: _Reading) -> Fraction:
    factor = reading.percent if parts["percent"] else Fraction(1)
    return factor * SCALES[parts["scale"]] if parts["scale"] and reading.scaled else factor


_BINARY = {"+", "-", "×", "*", "/", "÷", "·", "^", "**"}
_PRECEDENCE = {"standard": {"+": 1, "-": 1, "×": 2, "*": 2, "·": 2, "/": 2, "÷": 2},
               "flat": {"+": 1, "-": 1, "×": 1, "*": 1, "·": 1, "/": 1, "÷": 1}}


class _Parser:
    """Precedence-climbing evaluator over one side of an equality; None for what it cannot read."""

    def __init__(self, tokens: list[Token], mode: str, reading: _Reading) -> None:
        self.toks, self.pos, self.prec, self.reading = tokens, 0, _PRECEDENCE[mode], reading

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
            return _number(tok.text, self.reading)
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


def _unit(side: list[Token], reading: _Reading) -> Fraction | None:
    """The place value of the last written digit of a side that is a single number (the 'result'
    side), else None: 0.01 for '3.33', 10**8 for '3.3 billion' read as a multiplier."""
    while side and side[0].kind == "op" and side[0].text in "+-":
        side = side[1:]
    if len(side) != 1 or side[0].kind != "num":
        return None
    parts = _NUMBER.fullmatch(side[0].text)
    assert parts is not None, side[0].text
    decimals = len(parts["digits"].split(".")[1]) if "." in parts["digits"] else 0
    return Fraction(1, 10**decimals) * _multiplier(parts, reading)


def _close(computed: Fraction, claimed: Fraction, unit: Fraction | None, approx: bool) -> bool:
    if approx:
        return abs(computed - claimed) <= max(abs(computed) * Fraction(2, 100), Fraction(1, 100))
    if abs(computed - claimed) <= abs(computed) * Fraction(1, 10**9):  # float printing noise: 26.666666666666668
        return True
    if unit is None:
        return False
    rounded = abs(computed - claimed) <= unit / 2
    truncated = (computed >= 0) == (claimed >= 0) and abs(claimed) <= abs(computed) < abs(claimed) + unit
    return rounded or truncated


def _values(side: list[Token], reading: _Reading) -> set[Fraction]:
    return {v for mode in _PRECEDENCE if (v := _Parser(side, mode, reading).value()) is not None}


_MONTH, _DAY = r"(?:0?[1-9]|1[0-2])", r"(?:0?[1-9]|[12]\d|3[01])"
_DATE = rf"(?:{_MONTH}/{_DAY}|{_DAY}/{_MONTH})(?:/\d{{2}}|/\d{{4}})?"
_DATE_STEPS = [  # (expression, result): a date moved by a number of days, weeks or months; the span between two dates
    (re.compile(rf"{_DATE}\s*[-+]\s*\d+|\d+\s*\+\s*{_DATE}"), re.compile(_DATE)),
    (re.compile(rf"{_DATE}\s*-\s*{_DATE}"), re.compile(r"\d+")),
]


def _is_date_step(left: str, right: str) -> bool:
    """Whether ``left = right`` is calendar arithmetic on slash dates ('3/5 - 7 = 2/26'), not on fractions.

    The step's unit (days, weeks, months) and year are not written, so it cannot be recomputed here.
    """
    left, right = left.strip(), right.strip()
    return any(bool(expr.fullmatch(a) and result.fullmatch(b))
               for expr, result in _DATE_STEPS for a, b in ((left, right), (right, left)))


def _check_pair(left: list[Token], right: list[Token], approx: bool) -> tuple[bool, Fraction] | None:
    """(ok, computed value of the expression side), or None when the pair is not a checkable calculation.

    The sides keep their whitespace tokens, which tell a date ('3/5 - 7') from a spaced division.
    A date step that does not hold as fractions is not checked.
    """
    checked = _check_values(_solid(left), _solid(right), approx)
    if checked is not None and not checked[0] and _is_date_step(_text(left), _text(right)):
        return None
    return checked


def _check_values(left: list[Token], right: list[Token], approx: bool) -> tuple[bool, Fraction] | None:
    if not left or not right or not (_has_operator(left) or _has_operator(right)):
        return None
    expr, result = (left, right) if _has_operator(left) or not _has_operator(right) else (right, left)
    shown: Fraction | None = None
    for reading in _READINGS:
        computed, claimed = _values(expr, reading), _values(result, reading)
        if not computed or not claimed:
            continue
        shown = shown if shown is not None else min(computed)
        if any(_close(c, r, _unit(result, reading), approx) for c in computed for r in claimed):
            return True, min(computed)
        # A running total: "3 × 4 = 12 + 5 = 17" claims 3 × 4 = 12, then 12 + 5 = 17.
        if result[0].kind == "num" and _has_operator(result):
            first = _number(result[0].text, reading)
            if any(_close(c, first, _unit(result[:1], reading), approx) for c in computed):
                return True, min(computed)
    return None if shown is None else (False, shown)


def _solid(side: list[Token]) -> list[Token]:
    return [t for t in side if t.kind != "ws"]


def _text(side: list[Token]) -> str:
    return "".join(t.text for t in side)


def _render(side: list[Token]) -> str:
    return re.sub(r"\s+", " ", "".join(t.text for t in _solid(side))).strip()


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
            sides, ops = [[]], []  # type: ignore[var-annotated]
            for tok in tokens[start:end]:
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
