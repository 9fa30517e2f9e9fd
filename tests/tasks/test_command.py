"""`qrdistill tasks list|load|check` through typer's runner, on the real command functions."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from qrdistill.jsonl import read_records
from qrdistill.records import Question
from qrdistill.tasks.command import tasks_app

FIX = Path(__file__).parent / "fixtures"
runner = CliRunner()


def _flat(text: str) -> str:
    """Text without whitespace: rich wraps error lines at the console width, which depends on the path."""
    return "".join(text.split())


def test_list_shows_every_benchmark() -> None:
    result = runner.invoke(tasks_app, ["list"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for name in ("gsm8k", "math", "date_understanding", "anli"):
        assert name in result.output


def test_load_writes_questions(tmp_path: Path) -> None:
    out = tmp_path / "q.jsonl"
    result = runner.invoke(tasks_app, ["load", "--task", "svamp", "--data", str(FIX / "svamp.json"), "--out", str(out), "--split", "train"])
    assert result.exit_code == 0, result.output
    assert "3 svamp questions" in result.output and "End your response with" in result.output
    questions = read_records(out, Question)
    assert [q.gold for q in questions] == ["7", "24", "3.5"] and {q.split for q in questions} == {"train"}


def test_load_reports_malformed_input() -> None:
    result = runner.invoke(tasks_app, ["load", "--task", "gsm8k", "--data", str(FIX / "gsm8k_bad_answer.jsonl")], terminal_width=300)
    assert result.exit_code == 1
    assert _flat("gsm8k_bad_answer.jsonl:2") in _flat(result.output)


def test_check_scores_completions(tmp_path: Path) -> None:
    completions = tmp_path / "outs.jsonl"
    rows = [{"response": "3 * 4 = 12, 12 - 5 = 7. The answer is 7."},
            {"response": "The answer is \\boxed{36,000}."},
            {"response": "I cannot tell."}]
    completions.write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = ["check", "--task", "gsm8k", "--data", str(FIX / "gsm8k_test.jsonl"), "--completions", str(completions), "--field", "response"]
    result = runner.invoke(tasks_app, args, terminal_width=300)
    assert result.exit_code == 0, result.output
    assert "2/3 correct" in result.output and "unparseable 1" in result.output


def test_check_by_id_and_errors(tmp_path: Path) -> None:
    completions = tmp_path / "outs.jsonl"
    completions.write_text(json.dumps({"qid": "anli-u3", "text": "The answer is False."}) + "\n"
                           + json.dumps({"qid": "anli-u9", "text": "True"}) + "\n")
    base = ["check", "--task", "anli", "--data", str(FIX / "anli.jsonl"), "--completions", str(completions)]
    result = runner.invoke(tasks_app, [*base, "--field", "text", "--id-field", "qid"], terminal_width=300)
    assert result.exit_code == 1 and _flat("outs.jsonl:2: field 'qid' = 'anli-u9'") in _flat(result.output)
    completions.write_text(json.dumps({"qid": "anli-u3", "text": "The answer is False."}) + "\n")
    ok = runner.invoke(tasks_app, [*base, "--field", "text", "--id-field", "qid"], terminal_width=300)
    assert ok.exit_code == 0 and "1/1 correct" in ok.output
    missing = runner.invoke(tasks_app, [*base, "--field", "nope", "--id-field", "qid"], terminal_width=300)
    assert missing.exit_code == 1 and _flat("field 'nope' missing") in _flat(missing.output)
