"""Every stage that reads questions or paths treats repeats the same way: identical repeats are
dropped with a printed count, an id (or path key) repeated with different contents is refused."""

import json

import pytest
from typer.testing import CliRunner

from qrdistill.cli import app
from qrdistill.config import parse_config
from qrdistill.importing.runner import load_gold
from qrdistill.importing.spec import ImportConfig
from qrdistill.records import Path, Question
from qrdistill.rundir import RunDir, run_questions

Q = Question(id="q1", task="synth_arith", question="What is 2+3?", gold="5")
P = Path(question_id="q1", task="synth_arith", style="cot", teacher="t", text="2+3=5. The answer is 5.", answer="5", correct=True)


def _write(file, records):
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("".join(json.dumps(r.model_dump(mode="json")) + "\n" for r in records))
    return file


def test_run_dir_question_files_drop_identical_repeats_and_refuse_conflicting_gold(tmp_path, capsys):
    cfg = parse_config({"run_dir": str(tmp_path), "tasks": [{"name": "synth_arith", "synthetic": {"train": 1, "test": 1}}], "eval": {"style": "plain"},
                        "students": [{"name": "a", "model": "tiny:smollm2"}]})
    run = RunDir(tmp_path)
    _write(run.questions("synth_arith", "train"), [Q])
    _write(run.questions("synth_arith", "test"), [Q, Q])
    assert run_questions(cfg, run)["synth_arith"]["test"] == [Q]
    assert "dropped 1 identical repeated questions" in capsys.readouterr().err
    _write(run.questions("synth_arith", "test"), [Q, Q.model_copy(update={"gold": "6"})])
    with pytest.raises(ValueError, match=r"question id 'q1' appears twice with a different gold \('5' and '6'\)"):
        run_questions(cfg, run)


def test_import_gold_is_deduplicated(tmp_path, capsys):
    cfg = ImportConfig(task="synth_arith", questions=[str(_write(tmp_path / "q.jsonl", [Q, Q]))], sources=[])
    assert load_gold(cfg)[0] == [Q]
    assert "dropped 1 identical repeated questions" in capsys.readouterr().err
    _write(tmp_path / "q.jsonl", [Q, Q.model_copy(update={"gold": "6"})])
    with pytest.raises(ValueError, match="different gold"):
        load_gold(cfg)


@pytest.mark.parametrize("command", [
    ["train", "--config", "{d}/train.yaml", "--kept", "{d}/paths.jsonl", "--questions", "{d}/q.jsonl"],
    ["export", "--in", "{d}/paths.jsonl", "--questions", "{d}/q.jsonl", "--out", "{d}/out.jsonl"],
    ["filter", "--in", "{d}/paths.jsonl", "--questions", "{d}/q.jsonl", "--out", "{d}/f.jsonl", "--verifiers", "none"],
])
def test_commands_refuse_a_conflicting_gold_and_a_conflicting_path_key(tmp_path, command):
    (tmp_path / "train.yaml").write_text(f"output_dir: {tmp_path / 'out'}\nstudents: [{{name: a, model: 'tiny:smollm2'}}]\n")
    _write(tmp_path / "paths.jsonl", [P])
    _write(tmp_path / "q.jsonl", [Q, Q.model_copy(update={"gold": "6"})])
    args = [c.format(d=tmp_path) for c in command]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "question id 'q1' appears twice with a different gold" in result.output, result.output
    _write(tmp_path / "q.jsonl", [Q])
    _write(tmp_path / "paths.jsonl", [P, P.model_copy(update={"answer": "6"})])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "path key " in result.output and "appears twice with a different answer" in result.output, result.output
