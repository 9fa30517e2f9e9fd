"""Every benchmark loads its original format (own small fixtures), builds prompts, and checks answers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from qrdistill.jsonl import RecordError
from qrdistill.records import Question
from qrdistill.tasks import get_task, task_names

FIX = Path(__file__).parent / "fixtures"
BENCHMARKS = ["gsm8k", "svamp", "math", "table_mwp", "arc_challenge", "commonsense_qa",
              "date_understanding", "strategy_qa", "anli"]


def test_all_benchmarks_registered() -> None:
    assert set(BENCHMARKS) <= set(task_names())


def test_gsm8k() -> None:
    task = get_task("gsm8k")
    qs = task.load(FIX / "gsm8k_test.jsonl")
    assert [q.gold for q in qs] == ["7", "36000", "3.75"]
    assert qs[0].split == "test" and qs[0].id.startswith("gsm8k-")
    assert [q.id for q in task.load(FIX / "gsm8k_test.jsonl")] == [q.id for q in qs]
    assert task.is_correct("He has 12 - 5 = 7 pens. The answer is 7.", "7")
    assert not task.is_correct("The answer is 7. Wait, 12 - 4 = 8, so \\boxed{8}.", "7")


def test_gsm8k_errors_name_file_line_field() -> None:
    task = get_task("gsm8k")
    with pytest.raises(RecordError, match=r"gsm8k_bad_answer\.jsonl:2: field 'answer'"):
        task.load(FIX / "gsm8k_bad_answer.jsonl")
    with pytest.raises(RecordError, match=r"gsm8k_missing_field\.jsonl:3: field 'question' is missing"):
        task.load(FIX / "gsm8k_missing_field.jsonl")


def test_duplicate_questions_get_unique_ids() -> None:
    qs = get_task("strategy_qa").load(FIX / "sqa_bigbench_task.json")
    assert len({q.id for q in qs}) == 3
    assert qs[1].id == f"{qs[0].id}-2"


def test_svamp() -> None:
    qs = get_task("svamp").load(FIX / "svamp.json")
    assert [q.gold for q in qs] == ["7", "24", "3.5"]
    assert qs[0].id == "svamp-chal-1"
    assert qs[0].question == "Ann had 12 marbles. She gave 5 marbles to Ben How many marbles does Ann have now?"


def test_math_folder_of_original_problem_files() -> None:
    task = get_task("math")
    qs = task.load(FIX / "math")
    assert [q.id for q in qs] == ["math-test/algebra/1", "math-test/algebra/2", "math-test/geometry/10"]
    assert [q.gold for q in qs] == [r"\frac{5}{2}", "x^2+2x+1", "2"]
    assert qs[0].meta["level"] == "Level 1" and qs[0].split == "test"
    assert task.is_correct("So x = 2.5, i.e. \\boxed{2.5}.", qs[0].gold)
    assert task.is_correct("The answer is \\boxed{(x+1)^2}.", qs[1].gold)
    assert not task.is_correct("The answer is \\boxed{x^2+1}.", qs[1].gold)
    assert len(task.load(FIX / "math" / "test" / "algebra" / "2.json")) == 1


def test_math_jsonl_skips_unscorable_rows(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        qs = get_task("math").load(FIX / "math_lines.jsonl")
    assert [q.gold for q in qs] == [r"\frac{1}{2}", "9"]
    assert "math_lines.jsonl:2" in caplog.text


def test_table_mwp() -> None:
    task = get_task("table_mwp")
    qs = {q.id: q for q in task.load(FIX / "tabmwp_problems.json")}
    free, choice, comma, frac = qs["table_mwp-101"], qs["table_mwp-102"], qs["table_mwp-103"], qs["table_mwp-104"]
    assert (free.gold, choice.gold, comma.gold, frac.gold) == ("2.25", "surplus", "1050", "3/4")
    assert free.context.startswith("Toy prices\nkite")
    assert choice.choices == ["shortage", "surplus"]
    assert "(B) surplus" in task.prompt(choice)
    assert task.is_correct("4.50 - 2.25 = $2.25. The answer is $2.25.", free.gold, free)
    assert task.is_correct("So there is a surplus. The answer is surplus.", choice.gold, choice)
    assert task.is_correct("The answer is (B).", choice.gold, choice)
    assert not task.is_correct("The answer is shortage.", choice.gold, choice)
    assert task.is_correct("The answer is 1,050 stickers.", comma.gold, comma)
    assert task.is_correct("6/8 simplifies to \\boxed{\\frac{3}{4}}", frac.gold, frac)


@pytest.mark.parametrize("fixture", ["arc_hf.jsonl", "arc_original.jsonl"])
def test_arc_formats(fixture: str) -> None:
    qs = get_task("arc_challenge").load(FIX / fixture)
    assert all(q.choices and q.gold in "ABCDE" for q in qs)
    if fixture == "arc_hf.jsonl":
        assert qs[1].gold == "C" and qs[1].choices == ["coal", "oil", "wind"]  # numeric labels 1-3 -> A-C
    else:
        assert qs[0].gold == "A" and len(qs[0].choices) == 5


def test_commonsense_qa_and_bad_answer_key() -> None:
    path = FIX / "csqa_dev.jsonl"
    with pytest.raises(RecordError, match=r"csqa_dev\.jsonl:3: field 'answerKey' = 'G'"):
        get_task("commonsense_qa").load(path)


def test_commonsense_qa_option_text_answer(tmp_path: Path) -> None:
    rows = (FIX / "csqa_dev.jsonl").read_text().splitlines()[:2]
    (tmp_path / "dev.jsonl").write_text("\n".join(rows) + "\n")
    task = get_task("commonsense_qa")
    qs = task.load(tmp_path / "dev.jsonl")
    assert [q.gold for q in qs] == ["C", "E"] and qs[0].id == "commonsense_qa-aa01"
    assert task.is_correct("Milk spoils when warm, so the answer is refrigerator.", "E", qs[1])
    assert not task.is_correct("Milk spoils when warm, so the answer is refrigerator.", "E")


def test_date_bigbench_shuffles_stably_and_matches_bbh() -> None:
    task = get_task("date_understanding")
    big = task.load(FIX / "date_bigbench_task.json")
    again = task.load(FIX / "date_bigbench_task.json")
    assert [q.choices for q in big] == [q.choices for q in again]
    assert all(len(q.choices or []) == 6 for q in big)
    assert big[0].choices[ord(big[0].gold) - 65] == "02/29/2020"
    assert big[1].choices[ord(big[1].gold) - 65] == "11/30/1999"
    assert [q.gold for q in big] != ["A", "A"]  # the correct option is not always listed first
    bbh = task.load(FIX / "date_bbh.json")
    assert bbh[0].gold == "B" and bbh[0].choices[1] == "02/29/2020"
    assert bbh[0].id == big[0].id  # same question text -> same id across releases
    assert task.is_correct("Yesterday was 02/29/2020. So the answer is (B).", "B")


def test_strategy_qa_formats() -> None:
    task = get_task("strategy_qa")
    qs = task.load(FIX / "sqa_original.json")
    assert [(q.id, q.gold) for q in qs] == [("strategy_qa-q001", "no"), ("strategy_qa-q002", "yes")]
    assert [q.gold for q in task.load(FIX / "sqa_bigbench_task.json")] == ["yes", "yes", "no"]
    assert task.is_correct("Penguins know nothing of rockets. No.", "no")


def test_anli() -> None:
    task = get_task("anli")
    qs = task.load(FIX / "anli.jsonl")
    assert [q.gold for q in qs] == ["entailment", "neutral", "contradiction"]
    prompt = task.prompt(qs[0])
    assert "Premise: The museum opened" in prompt and "Hypothesis: The museum is in France." in prompt
    assert task.format_answer("neutral") == "The answer is Neither."
    assert task.is_correct("Paris is in France. Final Answer: True", "entailment")
    with pytest.raises(RecordError, match=r"anli_bad_label\.jsonl:1: field 'label' = 'maybe'"):
        task.load(FIX / "anli_bad_label.jsonl")


LOADS = {
    "gsm8k": "gsm8k_test.jsonl", "svamp": "svamp.json", "math": "math", "table_mwp": "tabmwp_problems.json",
    "arc_challenge": "arc_hf.jsonl", "commonsense_qa": "arc_original.jsonl",
    "date_understanding": "date_bigbench_task.json", "strategy_qa": "sqa_original.json", "anli": "anli.jsonl",
}


@pytest.mark.parametrize("name", BENCHMARKS)
def test_format_answer_is_read_back_and_prompt_has_cue(name: str) -> None:
    task = get_task(name)
    for q in task.load(FIX / LOADS[name]):
        prompt = task.prompt(q)
        assert q.question.strip() in prompt and prompt.endswith(task.answer_cue)
        completion = f"Some reasoning with 12 and (A) and yes.\n{task.format_answer(q.gold, q)}"
        assert task.is_correct(completion, q.gold, q), (name, q.gold, completion)
        assert task.is_correct(completion, q.gold, None) or q.choices, (name, q.gold)


def test_missing_file_error(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="file not found"):
        get_task("gsm8k").load(tmp_path / "nope.jsonl")


def test_questions_validate_as_records() -> None:
    for name in BENCHMARKS:
        for q in get_task(name).load(FIX / LOADS[name]):
            assert Question.model_validate(q.model_dump()) == q
