"""Answer extraction and comparison: pure functions over a completion's text.

Every function here reads only the text it is given (never a prompt), never raises on
garbage and returns None (or False) when no answer can be found. The final conclusion wins:
the last ``\\boxed{}``, then the last "answer is ...", then (for numbers) the last number.

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
from fractions import Fraction

_BOX_OPENERS = re.compile(r"\\(?:boxed|fbox)\s*\{")
_LATEX_FRAC = re.compile(r"\\[dt]?frac\s*\{\s*(-?[\d.,]+)\s*\}\s*\{\s*(-?[\d.,]+)\s*\}")
_LATEX_FRAC_SHORT = re.compile(r"\\[dt]?frac\s*(\d)\s*(\d)")
_NUMBER = re.compile(
    r"(?<![\w.])(?P<num>[-−–]?\s?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?|[-−]?\.\d+)"
    r"(?!\d)(?:\s*(?P<pct>%|percent\b))?"
)
_ANSWER_IS = re.compile(  # "answer (arabic numerals) is": a short parenthetical may qualify it
    r"(?:answer|result|solution)(?:\s*\([^()\n]{1,40}\))?\s*(?:is|:|=|would be|will be|should be)\s*:?\s*(?P<rest>[^\n]*)",
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


def _answer_span(text: str) -> str | None:
    """The text after the last "answer is"/"answer:" up to the end of that sentence."""
    matches = list(_ANSWER_IS.finditer(text))
    for match in reversed(matches):
        rest = match.group("rest")
        if not rest.strip(" *:"):  # "The answer is:" with the answer on the next non-blank line
            following = text[match.end():].lstrip("\n *")
            rest = following.split("\n", 1)[0]
        stop = _ANSWER_TAIL_STOP.search(rest)
        span = rest[: stop.start()] if stop else rest
        if span.strip():
            return span
    return None


def extract_number(text: str) -> str | None:
    """The final numeric answer as a canonical number string, or None.

    Priority: the last ``\\boxed{}``; else the last "answer is X"; else the last number.

    >>> extract_number("We get 12 then 18. The answer is 18 dollars.")
    '18'
    >>> extract_number("**Answer:** \\\\boxed{\\\\frac{3}{4}}")
    '0.75'
    """
    if not isinstance(text, str):
        return None
    boxed = extract_boxed(text)
    if boxed is not None:
        found = canonical_number(boxed)
        if found is not None:
            return found
    for anchor in (_hashes_span(text), _answer_span(text)):
        if anchor is not None:
            found = _number_in_answer(anchor)
            if found is not None:
                return found
    return canonical_number(text)


def _hashes_span(text: str) -> str | None:
    """The text after the last GSM8K-style ``#### `` marker."""
    found = re.findall(r"####\s*([^\n]*)", text)
    return found[-1] if found else None


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
    boxed = extract_boxed(text)
    if boxed is not None:
        m = re.fullmatch(rf"\s*\(?\s*(?:\\text\{{)?\s*([{valid}])\s*\}}?\s*\)?\s*(?:[.:)].*)?", boxed, re.DOTALL)
        if m:
            return m.group(1)
    # "answer is B." / "answer: (b)" / "option B because"; not the article in "answer is a cat"
    anchored = re.compile(
        r"(?i:answer|option|choice)\s*(?i:is|:|would be|should be|=)?\s*(?i:option|choice)?[\s:*]*"
        rf"(?:[\(\[]\s*(?P<b>[{valid}{valid.lower()}])\s*[\)\]]|(?P<u>[{valid}])\**"
        r"(?=\s*(?:$|[^\w\s]|because|since|as\b|which|with)))",
        re.MULTILINE,
    )
    span = _answer_span(text)
    if span is not None and len(set(re.findall(rf"(?<![\w'])\(?([{valid}])\)?(?![\w'])", span))) > 1:
        return None  # a hedge such as "the answer is A or C" is no answer
    if span is not None and re.search(rf"\((?![{valid}]\))[A-Z]\)|^\s*(?![{valid}])[A-Z]\s*$", span):
        return None  # the conclusion names an option that does not exist, e.g. "(F)" of five
    candidates = [(m.group("b") or m.group("u")).upper() for m in anchored.finditer(text)]
    if candidates:
        return candidates[-1]
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
    boxed = extract_boxed(text)
    if boxed and (m := _YES_NO.search(boxed)):
        return _yes_no_word(m.group(1))
    anchors = list(_ANSWER_IS.finditer(text))
    if anchors:
        span = _answer_span(text) or ""
        if m := _YES_NO.search(span):
            return _yes_no_word(m.group(1))
        text = text[anchors[-1].start():]
    found = _standalone_yes_no(text)
    return _yes_no_word(found[-1]) if found else None


def _standalone_yes_no(text: str) -> list[str]:
    """Yes/No/True/False words in order, without the determiner "no" ("no evidence", "no one")."""
    words = []
    for m in _YES_NO.finditer(text):
        after = text[m.end():]
        if m.group(1).lower() == "no" and re.match(r"\s+[a-z]", after):
            continue
        words.append(m.group(1))
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


def extract_nli(text: str) -> str | None:
    """``"entailment"``/``"neutral"``/``"contradiction"`` (also written True/Neither/False), or None.

    The last "answer is ..."/"Final Answer: ..." or ``\\boxed{}`` wins, else the last label word.

    >>> extract_nli("It is not false that... Final Answer: True")
    'entailment'
    """
    if not isinstance(text, str):
        return None
    for source in (extract_boxed(text), _answer_span(text)):
        if source:
            m = _NLI.search(source)
            if m:
                return _NLI_WORDS[m.group(1).lower()]
    found = list(_NLI.finditer(text))
    return _NLI_WORDS[found[-1].group(1).lower()] if found else None
