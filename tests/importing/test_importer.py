"""Importer on small fixtures shaped like the real dumps (MCC-KD, PaLM chunks, PoT, Kojima, Gemini)."""

from __future__ import annotations

from pathlib import Path as FsPath

import pytest

from qrdistill.importing.fields import normalize_question
from qrdistill.importing.importer import ImportFieldError, LeakError, import_paths
from qrdistill.tasks.readers import read_rows
from qrdistill.importing.spec import SourceSpec, SplitPart, SplitSpec
from qrdistill.importing.splits import SplitError, UNASSIGNED, assign_splits, mapped_rows, split_rows
from qrdistill.jsonl import RecordError
from qrdistill.tasks import get_task

FIX = FsPath(__file__).parent / "fixtures"


def fx(name: str) -> str:
    return str(FIX / name)


@pytest.fixture(scope="module")
def svamp():
    return get_task("svamp")


@pytest.fixture(scope="module")
def gold(svamp):
    """The 4 SVAMP questions with the MCC-KD-shaped published split: 3 train, 1 test."""
    spec = SplitSpec(
        name="fixture_3_1",
        parts={
            "train": SplitPart(files=[fx("mcc_train.json")], question_field="instruction"),
            "test": SplitPart(files=[fx("mcc_test.json")], question_field="instruction"),
        },
    )
    questions, report = assign_splits(svamp.load(fx("svamp_gold.json")), {n: split_rows(p) for n, p in spec.parts.items()}, spec)
    assert report["counts"] == {"train": 3, "test": 1}
    return questions


def run(spec: SourceSpec, questions, task, **kw):
    return import_paths(spec, mapped_rows(spec), questions, task, **kw)


def test_list_completions_expand_into_samples_with_answers_and_correctness(gold, svamp):
    spec = SourceSpec(files=[fx("mcc_train.json")], teacher="gpt-3.5-turbo", style="cot",
                      question_field="instruction", completion_field="output")
    result = run(spec, gold, svamp)
    by_key = {p.key: p for p in result.paths}
    assert sorted(by_key) == ["svamp-chal-1|cot|0|gpt-3.5-turbo", "svamp-chal-1|cot|1|gpt-3.5-turbo",
                              "svamp-chal-2|cot|0|gpt-3.5-turbo", "svamp-chal-3|cot|0|gpt-3.5-turbo"]
    first, second = by_key["svamp-chal-1|cot|0|gpt-3.5-turbo"], by_key["svamp-chal-1|cot|1|gpt-3.5-turbo"]
    assert (first.answer, first.correct) == ("51", True)
    assert (second.answer, second.correct) == ("50", False)
    assert first.prompt == svamp.prompt(next(q for q in gold if q.id == "svamp-chal-1"))
    assert first.backend == "import" and first.meta["row"].endswith("mcc_train.json[0]")
    assert (result.report.imported, result.report.correct, result.report.questions) == (4, 3, 3)


def test_text_join_key_ignores_case_whitespace_and_sentence_periods_only():
    assert normalize_question("Costs 2.5 dollars.\nHow  much?") == normalize_question("costs 2.5 dollars how much?")
    assert normalize_question("Costs 2.5 dollars") != normalize_question("Costs 25 dollars")
    assert normalize_question("How many?") != normalize_question("How many")


def test_bare_string_chunks_aligned_by_index_cut_and_leak_refused(gold, svamp):
    spec = SourceSpec(files=[fx("palm_CoT_0.json"), fx("palm_CoT_1.json")], aligned_files=[fx("palm_questions.json")],
                      teacher="palm-540b", question_field="input", completion_field="_value",
                      cut_after=[r"\n\s*Q:"], evaluate_answer_expression=True)
    with pytest.raises(LeakError, match=r"palm_CoT_1\.json\[0\].*svamp-chal-4.*'test'.*--eval-paths"):
        run(spec, gold, svamp)
    result = run(spec, gold, svamp, eval_policy="drop")
    assert result.report.eval_split == 1 and result.report.trimmed == 1
    faye = next(p for p in result.paths if p.question_id == "svamp-chal-3")
    assert faye.text == "Faye has 7 rows of 36 pencils. 7 * 36 = 252. The answer is (7 * 36) = 252."
    assert faye.correct and faye.meta["trimmed_chars"] > 0
    kept = run(spec, gold, svamp, eval_policy="keep")
    assert [p.meta.get("split") for p in kept.paths] == [None, None, "test"] and kept.report.trimmed == 2


def test_program_dump_kept_as_program_with_recorded_result(gold, svamp):
    spec = SourceSpec(files=[fx("pot.jsonl")], teacher="code-davinci-002", style="program",
                      question_field="passage+question", completion_field="generated",
                      result_field="executed", program_var="ans", skip_incomplete=True)
    result = run(spec, gold, svamp)
    assert result.report.incomplete == 1 and "demonstration" in result.report.examples["incomplete"][0]["detail"]
    good, bad = result.paths
    assert good.style == "program" and good.text.startswith("```python\nprice = 76")
    assert "print(ans)\n```" in good.text and (good.answer, good.correct) == ("51", True)
    assert (bad.answer, bad.correct) == ("7", False)


def test_join_by_id_and_unjoined_report(gold, svamp):
    spec = SourceSpec(files=[fx("own.jsonl")], teacher="my-model", join="id", id_field="qid",
                      question_field="instruction", completion_field="output")
    result = run(spec, gold, svamp)
    assert [p.question_id for p in result.paths] == ["svamp-chal-2"]
    assert result.report.unjoined == 1
    assert result.report.examples["unjoined"][0]["detail"] == "id chal-99"


def test_join_by_index(svamp):
    questions = svamp.load(fx("svamp_gold.json"))
    spec = SourceSpec(files=[fx("palm_CoT_0.json")], teacher="t", join="index", completion_field="_value")
    assert [p.question_id for p in run(spec, questions, svamp).paths] == ["svamp-chal-1", "svamp-chal-2"]


def test_choice_letters_remapped_to_gold_option_order():
    date = get_task("date_understanding")
    questions = date.load(fx("date_task.json"))
    gemini = SourceSpec(files=[fx("date_gemini.jsonl")], teacher="gemini", question_field="question",
                        completion_field="response", choices_field="choices")
    kojima = SourceSpec(files=[fx("date_kojima.jsonl")], teacher="text-davinci-002", question_field="question",
                        question_pattern=r"^(.*?) Answer Choices:", completion_field="completion", choices_field="question")
    for spec, right in ((gemini, "05/01/2021"), (kojima, "12/25/1937")):
        [path] = run(spec, questions, date).paths
        q = next(q for q in questions if q.id == path.question_id)
        assert q.choices[ord(path.answer) - 65] == right and path.correct
        assert path.meta["letters_remapped"]


def test_malformed_inputs_name_file_line_and_field(gold, svamp):
    with pytest.raises(RecordError, match=r"broken\.jsonl:2: not valid JSON"):
        read_rows([fx("broken.jsonl")])
    spec = SourceSpec(files=[fx("missing_field.jsonl")], teacher="t")
    with pytest.raises(ImportFieldError, match=r"missing_field\.jsonl:2: field 'completion' not found \(record has: .*response"):
        run(spec, gold, svamp)


def test_split_part_naming_unknown_question_is_rejected(svamp):
    spec = SplitSpec(name="bad", parts={"train": SplitPart(files=[fx("own.jsonl")], join="id", id_field="qid"),
                                        "test": SplitPart(files=[fx("mcc_test.json")], question_field="instruction")})
    with pytest.raises(SplitError, match=r"part 'train': 1 row\(s\) match no gold question"):
        assign_splits(svamp.load(fx("svamp_gold.json")), {n: split_rows(p) for n, p in spec.parts.items()}, spec)


def test_questions_outside_a_published_split_are_unassigned(svamp):
    spec = SplitSpec(name="partial", parts={"train": SplitPart(files=[fx("mcc_train.json")], question_field="instruction"),
                                            "test": SplitPart(files=[fx("mcc_test.json")], question_field="instruction")})
    rows = {"train": split_rows(spec.parts["train"])[:2], "test": split_rows(spec.parts["test"])}
    questions, report = assign_splits(svamp.load(fx("svamp_gold.json")), rows, spec)
    assert report["counts"] == {"train": 2, "test": 1, UNASSIGNED: 1}
    assert {q.id: q.split for q in questions}["svamp-chal-3"] == UNASSIGNED
