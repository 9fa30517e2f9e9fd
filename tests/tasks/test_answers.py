"""Edge cases of answer extraction and comparison (pure functions)."""

from __future__ import annotations

import pytest

from qrdistill.tasks.answers import (
    canonical_number,
    extract_boxed,
    extract_choice,
    extract_nli,
    extract_number,
    extract_yes_no,
    numbers_equal,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"so \boxed{5} and then \boxed{7}", "7"),
        (r"\boxed{\frac{1}{2}}", r"\frac{1}{2}"),
        (r"\boxed{\left\{1,2\right\}}", r"\left\{1,2\right\}"),
        (r"\fbox{42} done", "42"),
        (r"\boxed{3} then an unclosed \boxed{4", "3"),
        (r"$x = \boxed 9$.", "9"),
        ("no box here", None),
        ("", None),
    ],
)
def test_extract_boxed(text: str, expected: str | None) -> None:
    assert extract_boxed(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She has 3 + 4 = 7 apples. The answer is 7.", "7"),
        ("The answer is 1,250 dollars.", "1250"),
        ("Total: $1,250.50.", "1250.5"),
        ("The answer is $18.", "18"),
        ("So 25% of them. The answer is 25%.", "25"),
        ("The answer is 3/4.", "0.75"),
        (r"Final Answer: The final answer is $\boxed{\frac{3}{4}}$", "0.75"),
        (r"\boxed{\dfrac{10}{4}}", "2.5"),
        (r"\boxed{12\text{ cm}}", "12"),
        ("He walks 5 km. The answer is 12 km. Later, 40 more words about 99.", "12"),
        ("The answer is 5 + 3 = 8.", "8"),
        ("The answer is 18 dollars, which is 3 more than 15.", "18"),
        ("Temperature fell to -4 degrees.", "-4"),
        ("It costs 12.50. Then 2 more.\n#### 14.50", "14.5"),
        ("The price of 3-4 items", "4"),
        ("A: 26", "26"),
        ("Each bag is $5.\nThe answer is:\n\nThey earned $1000 from 200 bags.", "1000"),
        # zero-shot CoT's answer turn, then a hallucinated next question (text-davinci-002 on GSM8K)
        ("Therefore, the answer (arabic numerals) is 80.\n\n\nQ: Each of 30 students has 10 pencils.", "80"),
        ("Therefore, the answer (arabic numerals) is 1600*3.5 = $5600.", "5600"),
        ("He had 12 apples and ate 5. The answer is seven.", "7"),
        ("So 8 * 7 * 5 = 280.\nTherefore, the answer (arabic numerals) is two hundred and eighty.", "280"),
        ("The answer is one hundred seventy-four thousand and eighty flowers, not 3.", "3"),
        ("no digits at all", None),
        ("The answer is 1/0.", None),
    ],
)
def test_extract_number(text: str, expected: str | None) -> None:
    assert extract_number(text) == expected


def test_last_boxed_wins_over_later_stray_numbers() -> None:
    assert extract_number(r"The answer is \boxed{18}. Check: 9 * 2 = 18, not 20 or 36.") == "18"


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ("1,000", "1000", True),
        ("$5", "5.00", True),
        ("0.5", "1/2", True),
        ("3.3333333", "10/3", True),
        ("1e-7", "0", False),
        ("7", "8", False),
        ("seven", "7", False),
        ("", "", False),
    ],
)
def test_numbers_equal(a: str, b: str, equal: bool) -> None:
    assert numbers_equal(a, b) is equal


def test_canonical_number_drops_trailing_zeros() -> None:
    assert canonical_number("36,000.00") == "36000"
    assert canonical_number("-0.50") == "-0.5"


@pytest.mark.parametrize(
    ("text", "choices", "n", "expected"),
    [
        ("The best answer is (B).", None, 5, "B"),
        ("The best answer is B", None, 5, "B"),
        ("Answer: C", None, 5, "C"),
        ("**Answer:** (d)", None, 5, "D"),
        ("I rule out (A). Option (C) fits. So the answer is D.", None, 5, "D"),
        ("(A) is wrong because of gravity. (E) works.", None, 5, "E"),
        ("B. It is the only one.", None, 5, "B"),
        (r"\boxed{C}", None, 5, "C"),
        ("The answer is F.", None, 5, None),
        ("The answer is F.", None, 6, "F"),
        ("A cat is an animal. I think so.", None, 5, None),
        ("The answer is a cat.", ["a dog", "a cat"], 2, "B"),
        ("People keep milk in the refrigerator.", ["oven", "refrigerator"], 2, "B"),
        ("Hmm, not sure.", None, 5, None),
        ("Therefore, the answer is C or E.", None, 5, None),
        ("So the answer is either (A) or (B).", None, 5, None),
        ("Not (E). The correct answer must be (F). Therefore, the answer is (F).", None, 5, None),
    ],
)
def test_extract_choice(text: str, choices: list[str] | None, n: int, expected: str | None) -> None:
    assert extract_choice(text, choices, n) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes.", "yes"),
        ("So the answer is no.", "no"),
        ("Yesterday I knew a notebook note; I know nothing.", None),
        ("Yes, penguins are birds. But can they fly? The answer is No.", "no"),
        ("There is no evidence either way. Answer: yes", "yes"),
        ("There is no evidence, so yes, it is possible.", "yes"),
        ("First I said yes. After checking: no.", "no"),
        ("The statement is true.", "yes"),
        (r"\boxed{No}", "no"),
        ("Therefore, the answer (Yes or No) is No.", "no"),
        ("Is it yes or no? Hard to say. Yes.", "yes"),
        ("Earlier: yes. Therefore, the answer is not known.", None),
        ("The answer is unclear.\nActually, no.", "no"),
        ("", None),
    ],
)
def test_extract_yes_no(text: str, expected: str | None) -> None:
    assert extract_yes_no(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Final Answer: True", "entailment"),
        ("Therefore, the answer is **False**.", "contradiction"),
        ("The premise does not say. The answer is Neither.", "neutral"),
        ("It is true that X, but the hypothesis is neutral.", "neutral"),
        ("It is not false. Final answer: True", "entailment"),
        ("entailment", "entailment"),
        ("Untrue statements; falsehood.", None),
    ],
)
def test_extract_nli(text: str, expected: str | None) -> None:
    assert extract_nli(text) == expected


@pytest.mark.parametrize("garbage", [None, 17, ["x"], "\\boxed{", "}}}{{{", "\x00" * 50, "answer is " * 1000, "(" * 5000])
def test_garbage_never_raises(garbage: object) -> None:
    for fn in (extract_boxed, extract_number, extract_yes_no, extract_nli):
        fn(garbage)  # type: ignore[arg-type]
    extract_choice(garbage, None, 5)  # type: ignore[arg-type]
    assert numbers_equal(garbage, "1") is False  # type: ignore[arg-type]
