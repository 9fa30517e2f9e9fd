"""The synthetic problem families: determinism, disjoint splits, gold answers, loading."""

from __future__ import annotations

import json
import re

import pytest

from qrdistill.jsonl import RecordError, write_records
from qrdistill.synthetic.families import FAMILIES, make_questions
from qrdistill.synthetic.solutions import Solution
from qrdistill.tasks import get_task

N = 60


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_questions_other_seed_other_questions(family: str) -> None:
    first = make_questions(family, N, seed=5, split="train")
    again = make_questions(family, N, seed=5, split="train")
    other = make_questions(family, N, seed=6, split="train")
    assert [q.model_dump() for q in first] == [q.model_dump() for q in again]
    assert len({q.id for q in first} & {q.id for q in other}) < N // 2
    assert make_questions(family, 10, seed=5, split="train") == first[:10]


@pytest.mark.parametrize("family", FAMILIES)
def test_splits_never_share_a_question_across_seeds(family: str) -> None:
    train = [q for seed in (0, 1) for q in make_questions(family, N, seed=seed, split="train")]
    test = [q for seed in (0, 1) for q in make_questions(family, N, seed=seed, split="test")]
    val = make_questions(family, N, seed=0, split="val")
    texts = {name: {(q.context, q.question) for q in qs} for name, qs in (("train", train), ("test", test), ("val", val))}
    assert not texts["train"] & texts["test"] and not texts["train"] & texts["val"] and not texts["val"] & texts["test"]
    assert {q.split for q in test} == {"test"}
    one_seed = make_questions(family, N, seed=0, split="test")
    assert len({q.id for q in one_seed}) == N and len({q.question + (q.context or "") for q in one_seed}) == N


@pytest.mark.parametrize("family", FAMILIES)
def test_gold_is_the_solutions_answer_and_checks_as_correct(family: str) -> None:
    task = get_task(family)
    for q in make_questions(family, N, seed=2, split="test"):
        solution = Solution.model_validate(q.meta["solution"])
        assert q.task == family and q.gold == solution.answer
        assert solution.corruptible(), f"{q.id}: a wrong-step flaw needs a step to corrupt"
        assert q.gold not in solution.wrong_answers
        assert task.is_correct(task.format_answer(q.gold, q), q.gold, q)
        for wrong in solution.wrong_answers:
            assert not task.is_correct(task.format_answer(wrong, q), q.gold, q)
        assert task.prompt(q).count(q.question) == 1


def test_date_options_are_six_distinct_dates_and_gold_points_to_the_answer() -> None:
    for q in make_questions("synth_date", N, seed=3, split="train"):
        assert q.choices is not None and len(set(q.choices)) == 6
        assert all(re.fullmatch(r"\d\d/\d\d/\d{4}", c) for c in q.choices)
        assert q.choices["ABCDEF".index(q.gold)] == q.meta["solution"]["answer_text"]


def test_yes_no_answers_are_balanced() -> None:
    golds = [q.gold for q in make_questions("synth_yesno", 400, seed=0, split="train")]
    assert set(golds) == {"yes", "no"}
    assert 0.4 < golds.count("yes") / len(golds) < 0.6


def test_numbers_stay_small() -> None:
    for family in ("synth_arith", "synth_table"):
        for q in make_questions(family, N, seed=4, split="train"):
            assert 0 < int(q.gold) <= 200
            assert max(int(n) for n in re.findall(r"\d+", q.question + (q.context or ""))) <= 200


def test_table_has_three_to_five_rows() -> None:
    for q in make_questions("synth_table", N, seed=0, split="train"):
        rows = [line for line in (q.context or "").splitlines() if "|" in line][1:]
        assert 3 <= len(rows) <= 5


def test_load_reads_question_jsonl_and_filters_split(tmp_path) -> None:
    task = get_task("synth_arith")
    questions = make_questions("synth_arith", 5, 0, "train") + make_questions("synth_arith", 3, 0, "test")
    path = tmp_path / "q.jsonl"
    write_records(path, questions)
    assert task.load(path) == questions
    assert task.load(path, split="test") == questions[5:]


def test_load_names_file_and_line_of_a_question_of_another_task(tmp_path) -> None:
    path = tmp_path / "q.jsonl"
    write_records(path, make_questions("synth_arith", 2, 0, "train") + make_questions("synth_date", 1, 0, "train"))
    with pytest.raises(RecordError, match=r"q\.jsonl:3: field 'task'"):
        get_task("synth_arith").load(path)
    path.write_text(json.dumps({"id": "x", "task": "synth_arith"}) + "\n")
    with pytest.raises(RecordError, match=r"q\.jsonl:1: field 'question'"):
        get_task("synth_arith").load(path)


def test_unknown_family_and_split_are_named() -> None:
    with pytest.raises(KeyError, match="synth_nope"):
        make_questions("synth_nope", 1, 0, "train")
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        make_questions("synth_arith", 1, 0, "dev")
