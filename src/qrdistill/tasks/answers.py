"""Answer extraction and comparison: pure functions over a completion's text.

Every function here reads only the text it is given (never a prompt), never raises on
garbage and returns None (or False) when no answer can be found. The final statement wins: of
the ``\\boxed{}`` answers, "answer is ..." sentences and ``####`` lines, the last one written that
states an answer of the kind asked (a self-correction, "The answer is 7. Wait, ... so the answer
is 12.", counts as 12); without any, the last number (or option, or yes/no) written. A hedge in
the final statement ("either 16 or 19", "yes and no", "B or C") is no answer: None.

>>> extract_number("3 + 4 = 7 apples, so the answer is $1,250.50.")
'1250.5'
>>> numbers_equal("1,250.50", "1250.5")
True
>>> extract_choice("Not (A). The best answer is (C).", None, 5)
'C'
>>> extract_yes_no("Yesterday I thought yes... Final answer: No.")
'no'
>>> extract_nli("The hypothesis is neither proven nor disproven. Answer: Neither")
'neutral'
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction

_BOX_OPENERS = re.compile(r"\\(?:boxed|fbox)\s*\{")
_LATEX_FRAC = re.compile(r"\\[dt]?frac\s*\{\s*(-?[\d.,]+)\s*\}\s*\{\s*(-?[\d.,]+)\s*\}")
_LATEX_FRAC_SHORT = re.compile(r"\\[dt]?frac\s*(\d)\s*(\d)")
_NUMBER = re.compile(
    r"(?<![\w.])(?P<num>[-−–]?\s?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?|[-−]?\.\d+)"
    r"(?!\d)(?:\s*(?P<pct>%|percent\b))?"
)
_ANSWER_IS = re.compile(  # "answer (arabic numerals) is": a short parenthetical may qualify it
    # The rest of the line is read ahead, not consumed, so a second "answer is" on that line is found too.
    r"(?:answer|result|solution)(?:\s*\([^()\n]{1,40}\))?\s*(?:is|:|=|would be|will be|should be)\s*:?\s*(?=(?P<rest>[^\n]*))",
    re.IGNORECASE,
)
_ANSWER_TAIL_STOP = re.compile(r"\.(?!\d)|[;\n]")


def _balanced(text: str, start: int) -> tuple[str, int] | None:
    """Content of the brace group whose ``{`` is just before ``start``, and the index after it."""
    depth = 1
    for i in range(start, len(text)):
        ch = text[i]
        if ch == "{" and text[i - 1] != "\\":
            depth += 1
        elif ch == "}" and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[start:i], i + 1
    return None


def extract_boxed(text: str) -> str | None:
    """Content of the last complete ``\\boxed{...}`` or ``\\fbox{...}``, nested braces kept.

    >>> extract_boxed(r"so \\boxed{\\frac{1}{2}} and not \\boxed{3")
    '\\\\frac{1}{2}'
    """
    if not isinstance(text, str):
        return None
    found = None
    for match in _BOX_OPENERS.finditer(text):
        group = _balanced(text, match.end())
        if group is not None:
            found = group[0].strip()
    if found is None:
        bare = list(re.finditer(r"\\boxed\s+([^\s$.,]+)", text))
        if bare:
            found = bare[-1].group(1)
    return found


def _strip_latex(text: str) -> str:
    """Turn simple LaTeX number markup into plain text: ``\\frac{a}{b}`` -> ``a/b``, drop ``\\text{}``..."""
    text = _LATEX_FRAC.sub(r"\1/\2", text)
    text = _LATEX_FRAC_SHORT.sub(r"\1/\2", text)
    text = re.sub(r"\\(?:text|textbf|mathrm|mbox|operatorname)\s*\{([^{}]*)\}", r" \1 ", text)
    text = re.sub(r"\\[,;:! ]|\\left|\\right|\\displaystyle|~", " ", text)
    text = text.replace("\\%", "%").replace("\\$", "$").replace("{,}", ",")
    return text.replace("{", " ").replace("}", " ")


def canonical_number(text: str) -> str | None:
    """A plain decimal string for one number written in ``text`` (commas, $, %, a/b allowed).

    Percent signs are dropped (``"25%"`` -> ``"25"``), since gold answers write the number only.

    >>> canonical_number("$1,000.00")
    '1000'
    >>> canonical_number("-3/4")
    '-0.75'
    """
    value = parse_number(text)
    if value is None:
        return None
    return _format_value(value)


def _format_value(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(round(value, 10)).rstrip("0").rstrip(".") if "e" not in repr(value) else repr(value)


def parse_number(text: str) -> float | None:
    """The value of the last number written in ``text``; None if there is none or it is not finite.

    >>> parse_number("about 1,234.5 km")
    1234.5
    """
    if not isinstance(text, str):
        return None
    matches = list(_NUMBER.finditer(_strip_latex(text)))
    if not matches:
        return None
    return _value(matches[-1].group("num"))


def _value(raw: str) -> float | None:
    raw = raw.replace("−", "-").replace("–", "-").replace("$", "").replace(",", "").replace(" ", "")
    try:
        if "/" in raw:
            num, den = raw.split("/")
            value = float(Fraction(num) / Fraction(den))
        else:
            value = float(raw)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def _answer_spans(text: str) -> list[tuple[int, str]]:
    """(position, text) of every "answer is"/"answer:" sentence, up to its end, in order; an empty
    one ("The answer is:") takes the next non-blank line."""
    spans = []
    for match in _ANSWER_IS.finditer(text):
        rest = match.group("rest")
        if not rest.strip(" *:"):  # "The answer is:" with the answer on the next non-blank line
            following = text[match.end():].lstrip("\n *")
            rest = following.split("\n", 1)[0]
        stop = _ANSWER_TAIL_STOP.search(rest)
        span = rest[: stop.start()] if stop else rest
        if span.strip():
            spans.append((match.start(), span))
    return spans


def _answer_span(text: str) -> str | None:
    """The text after the last "answer is"/"answer:" up to the end of that sentence."""
    spans = _answer_spans(text)
    return spans[-1][1] if spans else None


def final_statements(text: str) -> list[tuple[str, str]]:
    """The answer statements of ``text``, the last written first: ``("boxed", content)`` for each
    complete ``\\boxed{}``, ``("said", text)`` for each "answer is ..." sentence and ``####`` line.

    >>> final_statements("The answer is 7. Wait: the answer is \\\\boxed{12}.")
    [('boxed', '12'), ('said', '\\\\boxed{12}'), ('said', '7')]
    """
    return [(kind, span) for _, kind, span in _statements(text)] if isinstance(text, str) else []


def _statements(text: str) -> list[tuple[int, str, str]]:
    """``final_statements`` with the position where each starts."""
    found: list[tuple[int, str, str]] = []
    for match in _BOX_OPENERS.finditer(text):
        group = _balanced(text, match.end())
        if group is not None:
            found.append((match.start(), "boxed", group[0].strip()))
    found += [(m.start(), "said", m.group(1)) for m in re.finditer(r"####\s*([^\n]*)", text)]
    found += [(pos, "said", span) for pos, span in _answer_spans(text)]
    return sorted(found, key=lambda f: f[0], reverse=True)


def extract_latex(text: str) -> str | None:
    """The final answer of a MATH-style completion: the content of the last statement if it is a
    ``\\boxed{}``, the number an "answer is" statement states, else the last number; None for a
    hedge ("\\boxed{16 \\text{ or } 19}").

    >>> extract_latex("So \\\\boxed{\\\\frac{1}{2}}.")
    '\\\\frac{1}{2}'
    """
    found, decided = _stated_answer(text, lambda boxed: boxed or None)
    return found if decided else extract_number(text)


def extract_number(text: str) -> str | None:
    """The final numeric answer as a canonical number string, or None.

    The last statement (``\\boxed{}``, "answer is X", ``#### X``) that states a number; without
    one, the last number. A hedge in that statement ("either 16 or 19") is None.

    >>> extract_number("We get 12 then 18. The answer is 18 dollars.")
    '18'
    >>> extract_number("**Answer:** \\\\boxed{\\\\frac{3}{4}}")
    '0.75'
    >>> extract_number("The answer is either 16 or 19.") is None
    True
    """
    if not isinstance(text, str):
        return None
    found, decided = _stated_answer(text, canonical_number)
    return found if decided else canonical_number(text)


def _stated_answer(text: str, read_box: Callable[[str], str | None]) -> tuple[str | None, bool]:
    """(answer, decided) from the statements of ``text``: a box read by ``read_box``, a sentence
    by the number it states. Decided with None when the last statement is a hedge; undecided when
    no statement states an answer."""
    statements = final_statements(text)
    if statements and number_hedge(statements[0][1]):
        return None, True
    for kind, span in _leading_first(statements):
        found = read_box(span) if kind == "boxed" else _number_in_answer(span)
        if found is not None:
            return found, True
    return None, False


_LEADS = re.compile(r"[\s*$(\[\\]*[-−]?\d")


def _leading_first(statements: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Statements that open with their answer ("answer is 12", any ``\\boxed{}``) before those that
    do not ("the solution is derived from 3 steps"), each group still last-written first."""
    leads = [st for st in statements if st[0] == "boxed" or _LEADS.match(st[1])]
    return leads + [st for st in statements if st not in leads]


_NUM = r"[-−]?\$?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?(?:\s*%)?"
_NUMBER_HEDGE = re.compile(  # "16 or 19", "16, or 19", "16 and 19", "either 16 apples or 19"
    rf"(?<![\w./])(?P<a>{_NUM})\s*,?\s*(?P<join>or|and/or|and)\s+(?:maybe\s+|perhaps\s+)?(?P<b>{_NUM})(?![\d/])"
    rf"|\beither\b[^.;\n]*?(?P<c>{_NUM})[^.;\n]*?\bor\b[^.;\n]*?(?P<d>{_NUM})",
    re.IGNORECASE,
)


def _same_quantity(a: str, b: str) -> bool:
    """Equal numbers, also when one is the other as a percent ("0.45, or 45%", "4/5 or 80%")."""
    raw_a, raw_b = parse_number(a.replace("%", "")), parse_number(b.replace("%", ""))
    if raw_a is None or raw_b is None:
        return False
    scaled_a, scaled_b = raw_a / (100 if "%" in a else 1), raw_b / (100 if "%" in b else 1)
    return math.isclose(raw_a, raw_b, abs_tol=1e-9) or math.isclose(scaled_a, scaled_b, rel_tol=1e-6, abs_tol=1e-9)


def number_hedge(statement: str) -> bool:
    """Whether an answer statement names two different numbers as alternatives.

    >>> number_hedge("either 16 or 19"), number_hedge("0.45, or 45%"), number_hedge("2 and 1/2 cups")
    (True, False, False)
    """
    for match in _NUMBER_HEDGE.finditer(_strip_latex(statement)):
        first, second = (match.group("a"), match.group("b")) if match.group("a") else (match.group("c"), match.group("d"))
        mixed_number = match.group("join") == "and" and "/" in second   # "2 and 1/2"
        if not mixed_number and not _same_quantity(first, second):
            return True
    return False


def _number_in_answer(span: str) -> str | None:
    """The number an answer sentence states: after its last '=', else its first number, else
    the number spelled out at its start ("two hundred and four")."""
    tail = _strip_latex(span).rsplit("=", 1)[-1]
    match = _NUMBER.search(tail)
    if match and (v := _value(match.group("num"))) is not None:
        return _format_value(v)
    value = number_in_words(tail)
    return _format_value(value) if value is not None else None


_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9}
_NUMBER_WORD = re.compile(r"[a-z]+", re.IGNORECASE)


def number_in_words(text: str) -> float | None:
    """The whole number spelled out in English words that ``text`` starts with ("and" may join
    its parts), or None. Only the start counts: "the result is to compare two quantities" states
    no number.

    >>> number_in_words(" one hundred seventy-four thousand and eighty flowers")
    174080.0
    """
    total = current = 0
    seen = False
    for match in _NUMBER_WORD.finditer(text.replace("-", " ")):
        word = match.group().lower()
        if word in _UNITS or word in _TENS:
            current += _UNITS.get(word, 0) + _TENS.get(word, 0)
        elif word == "hundred" and seen:
            current = max(current, 1) * 100
        elif word in _SCALES and seen:
            total, current = total + max(current, 1) * _SCALES[word], 0
        elif word == "and" and seen:
            continue
        else:
            break
        seen = True
    return float(total + current) if seen else None


def numbers_equal(a: str | None, b: str | None, rel_tol: float = 1e-6) -> bool:
    """Whether two written numbers have the same value (relative tolerance ``rel_tol``).

    >>> numbers_equal("0.5", "1/2"), numbers_equal("$5", "5.00"), numbers_equal("5", None)
    (True, True, False)
    """
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    va, vb = parse_number(a), parse_number(b)
    if va is None or vb is None:
        return False
    return math.isclose(va, vb, rel_tol=rel_tol, abs_tol=1e-9)


def letters(n_options: int) -> str:
    """The option letters for ``n_options`` options: ``letters(4) == 'ABCD'``."""
    return "".join(chr(65 + i) for i in range(max(0, min(n_options, 26))))


def _normalise_words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def extract_choice(text: str, choices: list[str] | None = None, n_options: int = 5) -> str | None:
    """The chosen option letter, or None. The last conclusion in the text wins.

    Reads, in order of trust: the last ``\\boxed{B}``; the last "answer is (B)" / "answer: B" /
    "best answer is B" / "option B"; the last standalone "(B)" or line-initial "B." / "B)"; and,
    when ``choices`` is given, the last option text quoted after "answer is", else the option text
    mentioned last. A bare capital letter inside a word or sentence never counts.

    >>> extract_choice("I think (A) is wrong. Therefore, the answer is B.", None, 4)
    'B'
    >>> extract_choice("So the answer is: a cat.", ["a dog", "a cat"], 2)
    'B'
    """
    if not isinstance(text, str):
        return None
    valid = letters(len(choices) if choices else n_options)
    if not valid:
        return None
    boxed_pos, boxed_letter = -1, None
    boxes = [(pos, span) for pos, kind, span in _statements(text) if kind == "boxed"]
    if boxes:
        boxed_pos, boxed = boxes[0]
        m = re.fullmatch(rf"\s*\(?\s*(?:\\text\{{)?\s*([{valid}])\s*\}}?\s*\)?\s*(?:[.:)].*)?", boxed, re.DOTALL)
        boxed_letter = m.group(1) if m else None
        if len(set(re.findall(rf"(?<![\w'\\])([{valid}])(?![\w'])", boxed))) > 1:
            boxed_letter = None  # \boxed{B or C}
    # "answer is B." / "answer: (b)" / "option B because"; not the article in "answer is a cat"
    anchored = re.compile(
        r"(?i:answer|option|choice)\s*(?i:is|:|would be|should be|=)?\s*(?i:option|choice)?[\s:*]*"
        rf"(?:[\(\[]\s*(?P<b>[{valid}{valid.lower()}])\s*[\)\]]|(?P<u>[{valid}])\**"
        r"(?=\s*(?:$|[^\w\s]|because|since|as\b|which|with)))",
        re.MULTILINE,
    )
    spans = _answer_spans(text)
    span_pos, span = spans[-1] if spans else (-1, None)
    if span is not None and span_pos > boxed_pos:
        if len(set(re.findall(rf"(?<![\w'])\(?([{valid}])\)?(?![\w'])", span))) > 1:
            return None  # a hedge such as "the answer is A or C" is no answer
        if re.search(rf"\((?![{valid}]\))[A-Z]\)|^\s*(?![{valid}])[A-Z]\s*$", span):
            return None  # the conclusion names an option that does not exist, e.g. "(F)" of five
    elif boxes and boxed_letter is None and re.search(rf"(?<![\w'\\])[{valid}](?![\w'])", boxes[0][1]):
        return None  # the last statement is a box that names no single option
    candidates = [(m.start(), (m.group("b") or m.group("u")).upper()) for m in anchored.finditer(text)]
    if boxed_letter is not None:
        candidates.append((boxed_pos, boxed_letter))
    if candidates:
        return max(candidates)[1]
    if span is not None and choices:
        picked = _match_option_text(span, choices)
        if picked is not None:
            return picked
    loose = list(re.finditer(rf"\(([{valid}])\)|(?:^|\n)\s*([{valid}])\s*[.):](?!\w)", text))
    if loose:
        last = loose[-1]
        return last.group(1) or last.group(2)
    if choices:
        return _last_mentioned_option(text, choices)
    return None


def _match_option_text(span: str, choices: list[str]) -> str | None:
    """The option whose text equals (or is the longest one contained in) ``span``."""
    said = _normalise_words(span)
    if not said:
        return None
    best: tuple[int, str] | None = None
    for i, option in enumerate(choices):
        norm = _normalise_words(option)
        if not norm:
            continue
        if norm == said:
            return chr(65 + i)
        if re.search(rf"(?<!\w){re.escape(norm)}(?!\w)", said) and (best is None or len(norm) > best[0]):
            best = (len(norm), chr(65 + i))
    return best[1] if best else None


def _last_mentioned_option(text: str, choices: list[str]) -> str | None:
    """The option whose full text appears last in ``text`` (longer options win ties)."""
    said = _normalise_words(text)
    best: tuple[int, int, str] | None = None
    for i, option in enumerate(choices):
        norm = _normalise_words(option)
        if not norm:
            continue
        for m in re.finditer(rf"(?<!\w){re.escape(norm)}(?!\w)", said):
            key = (m.end(), len(norm), chr(65 + i))
            if best is None or key[:2] > best[:2]:
                best = key
    return best[2] if best else None


_YES_NO = re.compile(r"(?<![\w'])(yes|no|true|false)(?![\w'])", re.IGNORECASE)
_YES_OR_NO = re.compile(r"\(?\b(?:yes|true)\s*(?:or|/)\s*(?:no|false)\b\)?", re.IGNORECASE)
_YES_NO_HEDGE = re.compile(r"(?<![\w'])(?:(?:yes|true)\s*,?\s*(?:and|and/or|but also)\s*(?:no|false)"
                           r"|(?:no|false)\s*,?\s*(?:and|or|and/or|/|but also)\s*(?:yes|true))(?![\w'])", re.IGNORECASE)


def extract_yes_no(text: str) -> str | None:
    """``"yes"``/``"no"`` from the final conclusion, or None. Whole words only ("know", "note",
    "yesterday" never count); "yes or no" restating the options never counts. A ``\\boxed{}`` wins;
    else the last "answer is ..." sentence decides, and if it states neither (e.g. "the answer is
    unknown") and nothing follows it, the answer is None; without such a sentence the last standalone
    Yes/No wins (a determiner "no" as in "no evidence" is skipped).

    >>> extract_yes_no("There is no doubt. Yes, it can. So the answer is no.")
    'no'
    """
    if not isinstance(text, str):
        return None
    text = _YES_OR_NO.sub(" ", text)
    statements = _statements(text)
    if statements:
        pos, _, span = statements[0]
        if _YES_NO_HEDGE.search(span):
            return None
        if m := _YES_NO.search(span):
            return _yes_no_word(m.group(1))
        text = text[pos:]
    found = _standalone_yes_no(text)
    if not found:
        return None
    last = found[-1]
    if any(h.start() <= last.start() < h.end() for h in _YES_NO_HEDGE.finditer(text)):
        return None  # "Yes and no."
    return _yes_no_word(last.group(1))


def _standalone_yes_no(text: str) -> list[re.Match[str]]:
    """Yes/No/True/False words in order, without the determiner "no" ("no evidence", "no one")."""
    words = []
    for m in _YES_NO.finditer(text):
        after = text[m.end():]
        if m.group(1).lower() == "no" and re.match(r"\s+[a-z]", after):
            continue
        words.append(m)
    return words


def _yes_no_word(word: str) -> str:
    return "yes" if word.lower() in ("yes", "true") else "no"


_NLI_WORDS = {
    "entailment": "entailment",
    "entails": "entailment",
    "entailed": "entailment",
    "true": "entailment",
    "neutral": "neutral",
    "neither": "neutral",
    "undetermined": "neutral",
    "contradiction": "contradiction",
    "contradicts": "contradiction",
    "contradicted": "contradiction",
    "false": "contradiction",
}
_NLI = re.compile(r"(?<![\w'])(" + "|".join(_NLI_WORDS) + r")(?![\w'])", re.IGNORECASE)
_NLI_HEDGE = re.compile(r"(?<![\w'])(?:" + "|".join(_NLI_WORDS) + r")\s*,?\s*(?:or|and|and/or|/)\s*(?:"
                        + "|".join(_NLI_WORDS) + r")(?![\w'])", re.IGNORECASE)


def extract_nli(text: str) -> str | None:
    """``"entailment"``/``"neutral"``/``"contradiction"`` (also written True/Neither/False), or None.

    The last "answer is ..."/"Final Answer: ..." or ``\\boxed{}`` wins, else the last label word.

    >>> extract_nli("It is not false that... Final Answer: True")
    'entailment'
    """
    if not isinstance(text, str):
        return None
    for _, span in final_statements(text):
        labels = [_NLI_WORDS[m.group(1).lower()] for m in _NLI.finditer(span)]
        if labels and _NLI_HEDGE.search(span) and len(set(labels)) > 1:
            return None  # "entailment or neutral"
        if labels:
            return labels[0]
    found = list(_NLI.finditer(text))
    return _NLI_WORDS[found[-1].group(1).lower()] if found else None
