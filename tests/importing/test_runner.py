"""Config mode and flag mode of ``qrdistill import``: files written into a run dir / beside the output."""

from __future__ import annotations

import json
from pathlib import Path as FsPath

import pytest
import typer
import yaml
from typer.testing import CliRunner

from qrdistill.importing.command import import_command
from qrdistill.importing.runner import load_import_config, run_import
from qrdistill.jsonl import RecordError, read_records
from qrdistill.records import Path, Question
from qrdistill.rundir import RunDir

FIX = FsPath(__file__).parent / "fixtures"

CONFIG = {
    "task": "svamp",
    "gold": "svamp_gold.json",
    "split": {"name": "fixture_3_1", "parts": {
        "train": {"files": ["mcc_train.json"], "question_field": "instruction"},
        "test": {"files": ["mcc_test.json"], "question_field": "instruction"}}},
    "eval_policy": "drop",
    "sources": [
        {"files": ["mcc_train.json"], "teacher": "gpt-3.5-turbo", "question_field": "instruction", "completion_field": "output"},
        {"files": ["own.jsonl"], "teacher": "my-model", "join": "id", "id_field": "qid", "completion_field": "output"},
    ],
}


def write_config(tmp_path: FsPath, cfg: dict) -> FsPath:
    path = tmp_path / "import.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def test_config_mode_writes_questions_paths_and_report(tmp_path):
    run = RunDir(tmp_path / "run")
    run_import(load_import_config(write_config(tmp_path, CONFIG), data_root=str(FIX)), run)
    train = read_records(run.questions("svamp", "train"), Question)
    test = read_records(run.questions("svamp", "test"), Question)
    assert (len(train), len(test)) == (3, 1) and {q.split for q in train} == {"train"}
    paths = read_records(run.paths, Path)
    assert {p.teacher for p in paths} == {"gpt-3.5-turbo", "my-model"} and len(paths) == 5
    assert {p.question_id for p in paths} <= {q.id for q in train}
    report = json.loads((run.root / "import_report.json").read_text())
    assert report["split"] == {"name": "fixture_3_1", "counts": {"train": 3, "test": 1}}
    assert [s["unjoined"] for s in report["sources"]] == [0, 1]
    markdown = (run.root / "import_report.md").read_text()
    assert "## my-model/cot: unjoined" in markdown and "id chal-99" in markdown


def test_two_sources_writing_the_same_path_key_is_an_error(tmp_path):
    cfg = {**CONFIG, "sources": [CONFIG["sources"][0], CONFIG["sources"][0]]}
    with pytest.raises(RecordError, match="already written by source gpt-3.5-turbo/cot.*sample_offset"):
        run_import(load_import_config(write_config(tmp_path, cfg), data_root=str(FIX)), RunDir(tmp_path / "run"))


def test_config_errors_name_the_file_and_field(tmp_path):
    bad = {**CONFIG, "sources": [{"files": ["mcc_train.json"], "style": "cot"}]}
    with pytest.raises(RecordError, match=r"import\.yaml: field 'sources\.0'.*give 'teacher'"):
        load_import_config(write_config(tmp_path, bad))


def test_flag_mode_cli_imports_one_dump_and_reports_beside_it(tmp_path):
    app = typer.Typer()
    app.command()(import_command)
    out = tmp_path / "paths.jsonl"
    result = CliRunner().invoke(app, [
        "--task", "svamp", "--gold", str(FIX / "svamp_gold.json"), "--in", str(FIX / "pot.jsonl"), "--out", str(out),
        "--teacher", "code-davinci-002", "--style", "program", "--question-field", "passage+question",
        "--completion-field", "generated", "--result-field", "executed", "--program-var", "ans", "--skip-incomplete",
    ])
    assert result.exit_code == 0, result.output
    paths = read_records(out, Path)
    assert [(p.question_id, p.correct) for p in paths] == [("svamp-chal-1", True), ("svamp-chal-2", False)]
    assert json.loads((tmp_path / "paths.import_report.json").read_text())["sources"][0]["incomplete"] == 1
