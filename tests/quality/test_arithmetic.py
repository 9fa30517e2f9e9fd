"""The arithmetic verifier: what it recomputes, what it accepts as rounding, what it must not touch."""

from __future__ import annotations

import pytest

from qrdistill.quality.arithmetic import find_calculations, normalise, verify_arithmetic


def oks(text: str) -> list[bool]:
    return [c.ok for c in find_calculations(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("3 + 4 = 7", [True]),
        ("3 + 4 = 8", [False]),
        ("12 + 8 + 5 = 25 dollars", [True]),
        ("12 + 8 + 5 = 24 dollars", [False]),
        ("6 × 7 = 42", [True]),
        ("6 x 7 = 42", [True]),
        ("6 * 7 = 43", [False]),
        ("84 ÷ 4 = 21", [True]),
        ("84 / 4 = 22", [False]),
        ("He pays 3 × $1,200.50 = $3,601.50 in total.", [True]),
        ("1,000 + 500 = 1,500", [True]),
        ("1,000 + 500 = 1,600", [False]),
        ("(15 - 7) × 2 = 16", [True]),
        ("2(3 + 4) = 14", [True]),
        ("2^10 = 1024", [True]),
        ("0.5 × 10 = 5", [True]),
        ("-7 / 2 = -3.5", [True]),
        ("3 × 4 = 12 + 5 = 17", [True, True]),          # running total
        ("3 × 4 = 13 + 5 = 18", [False, True]),         # wrong first step in a chain
        ("a + b + c = 2 + 3 + 4 = 9", [True]),
        ("So 48 / 2 = 24 and 24 + 48 = 72.", [True, True]),
        ("So 48 / 2 = 24 and 24 + 48 = 74.", [True, False]),
    ],
)
def test_recomputes_written_calculations(text, expected):
    assert oks(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("10 ÷ 3 = 3.33", [True]),         # rounded
        ("10 ÷ 3 = 3.3", [True]),
        ("2 ÷ 3 = 0.66", [True]),          # truncated
        ("10 ÷ 3 = 3.34", [False]),
        ("7 / 2 = 3", [True]),             # integer part
        ("2000/75 = 26.666666666666668", [True]),  # a float's printing noise
        ("7 / 2 = 5", [False]),
        ("5 + 3 × 2 = 16", [True]),        # calculator (left-to-right) order
        ("5 + 3 × 2 = 12", [False]),
        ("20% × 50 = 10", [True]),
        ("0.25 × 100 = 25%", [True]),
        ("33 × 3 ≈ 100", [True]),
        ("33 × 3 ≈ 150", [False]),
    ],
)
def test_rounding_order_and_percent_are_read_generously(text, expected):
    assert oks(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "20% of 50 = 10",                # leaves '50 = 10': not a calculation
        "half of 10 + 4 = 9",            # 'half of' belongs to the expression
        "2x + 3 = 11",                   # algebra
        "x + 5 = 12",
        "y - 3 × 2 = 1",
        "5 + 3 = 8x",
        "1:30 + 2 = 3:30",               # clock times
        "5! = 120",
        "12 = 12",
        "The year 2023 = now",
        "x = 5, y = 7",
        "He was born on 2020-01-05 = a Sunday",
    ],
)
def test_ambiguous_text_is_not_checked(text):
    assert find_calculations(text) == []


def test_latex_markdown_and_gsm8k_annotations_are_read():
    assert oks(r"$3 \times 4 = \boxed{12}$") == [True]
    assert oks(r"\[ \frac{3}{4} \times 8 = 6 \]") == [True]
    assert oks(r"2^{10} = 1000") == [False]
    assert oks("**5 + 3 = 8**.") == [True]
    assert oks("She sold 48/2 = <<48/2=24>>24 clips.") == [True]
    assert oks("She sold 48/2 = <<48/2=24>>25 clips.") == [False]
    assert "×" in normalise(r"3 \times 4") and "<<" not in normalise("a <<1+1=2>>2")


def test_verifier_result_names_the_wrong_calculation():
    result = verify_arithmetic("Each box holds 25 × 4 = 110 pens, so 110 + 10 = 120. The answer is 120.")
    assert result.name == "arithmetic" and result.passed is False
    assert "25×4 = 110" in result.detail and "100" in result.detail
    assert verify_arithmetic("25 × 4 = 100 pens.").passed is True
    assert verify_arithmetic("No numbers were combined here.").passed is None


def test_huge_or_undefined_expressions_are_skipped_not_crashed():
    assert find_calculations("10^10^10 = 5") == []
    assert find_calculations("5 / 0 = 3") == []
    assert find_calculations("(3 + 4 = 7") == []


# Regressions from real LLM paths (SVAMP rationales of gpt-3.5-turbo, Zero-shot-CoT date answers,
# StrategyQA rationales): correct steps the verifier used to flag.


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Start with the tickets:\n- Dave won 18 tickets.\n- 18 - 5 = 13\n- 13 - 11 = 2", [True, True]),
        ("* 3 + 6 = 9 storks\n+ 3 + 2 = 5 birds", [True, True]),
        ("1. Go back 10 days:\n   - 12 - 10 = 2", [True]),
        ("- -$4 + $5 = $1", [True]),
        ("- 18 - 5 = 14", [False]),               # a wrong step in a list is still caught
        ("-7 / 2 = -3.5", [True]),                 # a sign glued to its number is not a list marker
    ],
)
def test_markdown_list_markers_are_not_minus_signs(text, expected):
    assert oks(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Steven's peaches = Jake's peaches + 3 = 9 + 3 = 12", [True]),
        ("Starting amount - 4 = 2 - 4 = -2", [True]),
        ("Steven = Jake + 15 = 12 + 15 = 28", [False]),
        ("So he now has -1 + 10 = 9 marbles.", [True]),   # a sign, not an operator on 'has'
        ("each friend got 2 and 1/3 = 7/3 crackers", []),  # a mixed number
    ],
)
def test_an_operator_after_a_word_joins_the_word_to_the_expression(text, expected):
    assert oks(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The date one week ago from today would be 3/5 - 7 = 2/26.",
        "Ten days later: 10/15 + 7 = 10/22",
        "From 02/26/1973: 02/26/1973 - 7 = 02/19/1973",
        "Days between: 12/25 - 12/18 = 7",
    ],
)
def test_date_steps_written_with_slashes_are_not_fractions(text):
    assert find_calculations(text) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1/2 + 1/4 = 3/4", [True]),
        ("1/2 + 1/4 = 2/6", [False]),      # date + date is no date step: checked as fractions
        ("12/4 = 4", [False]),             # a division shaped like a date, with no date step
        ("61/4 - 19 = 17/4", [False]),     # 61 is no month or day
        ("3/4 + 2 = 11/4", [True]),
    ],
)
def test_fractions_are_still_checked(text, expected):
    assert oks(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("JPMorgan would need $10 * 330,000,000 = $3.3 billion.", [True]),
        ("$10 * 328,953,020 = $3.3 billion", [True]),     # rounded to the 0.1 billion it shows
        ("$10 * 330,000,000 = $33 billion", [False]),
        ("1.2 million + 300,000 = 1.5 million", [True]),
        ("2 thousand × 3 = 6,000", [True]),
        ("3 × 12 = 3 dozen", [True]),
        ("2 dozen × 12 = 24 eggs", [True]),                # a scale word used as a label
        ("$400 billion / 330 million = $1,212", [True]),
    ],
)
def test_scale_words_multiply_the_number_before_them(text, expected):
    assert oks(text) == expected


def test_scaled_calculation_is_reported_with_its_word():
    [calc] = find_calculations("$10 * 330,000,000 = $33 billion")
    assert calc.text == "$10*330,000,000 = $33 billion" and calc.computed == "3300000000"
