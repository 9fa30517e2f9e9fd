"""Edge cases of answer extraction and comparison (pure functions)."""

from __future__ import annotations

import pytest

from qrdistill.tasks import get_task
from qrdistill.tasks.registry import task_names
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


# Every registered task, through its own checker: a self-correction counts as its last statement, and a
# hedge between the gold and a wrong answer is wrong, not read as its first option.
_KIND_CASES = {  # answer kind: (gold, a wrong answer, a hedge naming both with the gold first)
    "number": ("16", "19", ["The answer is either 16 or 19.", "So the answer is 16 or 19 apples.",
                            "There are two modes: 16 and 19. The answer is 16 and 19.", "#### 16 or 19"]),
    "math": ("16", "19", [r"The answer is \boxed{16 \text{ or } 19}.", "The answer is either 16 or 19."]),
    "choice": ("B", "C", ["The answer is B or C.", "The best answer is (B) or (C).", r"The answer is \boxed{B or C}."]),
    "yesno": ("yes", "no", ["The answer is yes and no.", "So the answer is both yes and no."]),
    "nli": ("entailment", "neutral", ["The answer is entailment or neutral.", "Answer: True or Neither."]),
}


def _question_for(task_name: str, gold: str):
    from qrdistill.records import Question

    task = get_task(task_name)
    choices = [f"option {letter}" for letter in "ABCDE"[: getattr(task, "n_options", 5) or 5]] if task.answer_kind == "choice" else None
    return task, Question(id="q", task=task_name, question="?", gold=gold, choices=choices)


@pytest.mark.parametrize("task_name", task_names())
def test_the_last_statement_counts_on_every_task(task_name: str) -> None:
    task = get_task(task_name)
    gold, wrong, _ = _KIND_CASES[task.answer_kind]
    task, question = _question_for(task_name, gold)
    corrected = f"{task.format_answer(wrong, question)} Wait, I misread the question. {task.format_answer(gold, question)}"
    same_line = f"The answer is {wrong}. Wait, that is wrong, so the answer is {gold}."
    reverted = f"{task.format_answer(gold, question)} Wait, I misread the question. {task.format_answer(wrong, question)}"
    assert task.is_correct(corrected, gold, question)
    assert task.is_correct(same_line, gold, question)
    assert not task.is_correct(reverted, gold, question)


@pytest.mark.parametrize("task_name", task_names())
def test_a_hedged_answer_is_wrong_on_every_task(task_name: str) -> None:
    task = get_task(task_name)
    gold, _, hedges = _KIND_CASES[task.answer_kind]
    task, question = _question_for(task_name, gold)
    for hedge in hedges:
        assert not task.is_correct(hedge, gold, question), hedge
        assert not task.is_correct(f"{task.format_answer(gold, question)} Hmm, not sure. {hedge}", gold, question), hedge


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is 2 and 1/2 cups.", "2"),                   # a mixed number is no hedge
        ("The answer is 3 hours and 20 minutes.", "3"),
        ("The answer is 16 (or 16.0).", "16"),                    # the same value twice
        (r"The answer is \boxed{18}. Note: the solution is derived from 3 steps.", "18"),  # a later remark is no answer
        (r"The answer is \boxed{7}. Wait, I made a mistake: the answer is 12.", "12"),
    ],
)
def test_what_is_not_a_hedge_or_a_restatement(text: str, expected: str) -> None:
    assert extract_number(text) == expected


def test_a_later_box_beats_an_earlier_statement_of_another_form() -> None:
    assert extract_choice(r"\boxed{A} Wait, re-reading the question, the answer is (C).", None, 5) == "C"
    assert extract_choice(r"The answer is \boxed{A}. The result is consistent with the text.", None, 5) == "A"
    assert extract_yes_no(r"\boxed{yes} Actually, no: the answer is no.") == "no"
    assert extract_yes_no("The answer is no, that is not true.") == "no"
    assert extract_nli("The answer is True. On second thought, the answer is Neither.") == "neutral"
    assert extract_yes_no("Hmm. Yes and no.") is None   # without any statement, the last words decide
