"""Where generation may stop: the first complete final-answer statement, never a prefix or an echoed cue."""

from __future__ import annotations

from pathlib import Path

import pytest

from qrdistill.records import Question
from qrdistill.synthetic.families import make_questions
from qrdistill.tasks import get_task, task_names

FIX = Path(__file__).parent / "fixtures"
FIXTURE = {"gsm8k": "gsm8k_test.jsonl", "svamp": "svamp.json", "math": "math_lines.jsonl",
           "table_mwp": "tabmwp_problems.json", "arc_challenge": "arc_original.jsonl", "date_understanding": "date_bbh.json",
           "strategy_qa": "sqa_original.json", "anli": "anli.jsonl"}
TASKS = sorted(set(FIXTURE) | {t for t in task_names() if t.startswith("synth_")})
REASONING = "Let me think. 3 + 4 = 7, and 12 - 5 = 7.\n"


def questions(name: str) -> list[Question]:
    if name in FIXTURE:
        return get_task(name).load(FIX / FIXTURE[name])
    return make_questions(name, 3, 0, "test")


@pytest.mark.parametrize("name", TASKS)
def test_stops_right_after_the_statement_and_keeps_the_answer(name: str) -> None:
    task = get_task(name)
    for q in questions(name):
        said = REASONING + task.format_answer(q.gold, q)
        for tail in ("\n\nI hope this helps.", " Done.", "\n"):
            full = said + tail
            end = task.answer_end(full, q)
            assert end == len(said), (name, full)
            assert task.extract(full[:end], q) == task.extract(full, q)
            assert task.is_correct(full[:end], q.gold, q)
        assert task.answer_end(said, q) is None  # the character after the period is not written yet


@pytest.mark.parametrize("name", TASKS)
def test_the_prompt_and_its_quoted_cue_never_count(name: str) -> None:
    task = get_task(name)
    for q in questions(name):
        assert task.answer_end(task.prompt(q) + "\n", q) is None
        assert task.answer_end(f'I will end with "{task.format_answer(q.gold, q)}" as asked.', q) is None


@pytest.mark.parametrize("statement", ["The answer is 12.", "The answer is \\boxed{12}.", "The answer is $12.",
                                       "The answer is \\boxed{\\frac{1}{2}}."])
def test_no_prefix_of_a_number_statement_counts(statement: str) -> None:
    task = get_task("gsm8k")
    text = statement + "\n"
    assert [task.answer_end(text[:i]) for i in range(len(text))] == [None] * len(text)
    assert task.answer_end(text) == len(statement)


def test_a_number_may_go_on_after_its_period() -> None:
    task = get_task("gsm8k")
    assert task.answer_end("The answer is 1.") is None
    assert task.answer_end("The answer is 1.5") is None
    assert task.answer_end("The answer is 1.5.\n") == len("The answer is 1.5.")
    assert task.extract("The answer is 1.5.") == "1.5"


@pytest.mark.parametrize(("name", "text"), [
    ("gsm8k", "The answer is 13 apples.\n"),          # not the cue's sentence: keep going
    ("gsm8k", "The answer is \\boxed{13\n"),
    ("strategy_qa", "The answer is yes or no.\n"),
    ("strategy_qa", "The answer is not clear.\n"),
    ("anli", "The answer is maybe.\n"),
    ("arc_challenge", "The best answer is (F).\n"),      # four options: no such letter
    ("arc_challenge", "The best answer is (B) because\n"),
])
def test_unfinished_or_foreign_statements_do_not_count(name: str, text: str) -> None:
    task = get_task(name)
    q = questions(name)[0]
    assert task.answer_end(text, q) is None


def test_first_statement_wins_and_variants_count() -> None:
    yesno, number, choice = get_task("synth_yesno"), get_task("synth_arith"), get_task("synth_date")
    assert yesno.answer_end("The answer is no.\nThe answer is yes.\n") == len("The answer is no.")
    assert number.answer_end("**The answer is 13.**\n") == len("**The answer is 13.")
    assert number.answer_end("The answer is: $\\boxed{-2.5}$.\n") == len("The answer is: $\\boxed{-2.5}$.")
    assert choice.answer_end("So the answer is B. Next") == len("So the answer is B.")
