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
