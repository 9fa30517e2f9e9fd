"""Ordinary mistakes print one `error:` line (exit 2 for the command line or config, 1 for input
data), the traceback only under `qrdistill --debug`; an impossible output path is refused before
any work, in every command that writes."""

import json
import os

import pytest
import yaml
from typer.testing import CliRunner

from qrdistill.cli import app

QUESTION = {"id": "q1", "task": "gsm8k", "question": "What is 2+3?", "gold": "5"}


@pytest.fixture
def files(tmp_path):
    (tmp_path / "q.jsonl").write_text(json.dumps(QUESTION) + "\n")
    (tmp_path / "latin1.jsonl").write_bytes(json.dumps({**QUESTION, "question": "caf\xe9"}, ensure_ascii=False).encode("latin-1") + b"\n")
    (tmp_path / "a_file").write_text("not a directory\n")
    config = {"run_dir": str(tmp_path / "run"), "tasks": [{"name": "synth_arith", "synthetic": {"train": 2, "test": 2, "dev": 2}}],
              "students": [{"name": "a", "model": "tiny:smollm2"}]}
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "typo.yaml").write_text("train:\n  max_stepz: 3\n" + yaml.safe_dump(config))
    return tmp_path


def _invoke(args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    return result, errors


@pytest.mark.parametrize("command,code,expected", [
    (["train", "--config", "{d}/typo.yaml"], 2, "error: {d}/typo.yaml:2: train.max_stepz: unknown field; did you mean 'max_steps'?"),
    (["run", "--config", "{d}/typo.yaml"], 2, "error: {d}/typo.yaml:2: train.max_stepz: unknown field; did you mean 'max_steps'?"),
    (["eval", "--config", "{d}/typo.yaml"], 2, "error: {d}/typo.yaml:2: train.max_stepz: unknown field; did you mean 'max_steps'?"),
    (["eval", "--config", "{d}/run.yaml", "--method", "qr_distil"], 2, "error: unknown method 'qr_distil'; use one of qr_distill, "),
    (["generate", "--task", "gsm8", "--data", "{d}/q.jsonl", "--out", "{d}/p.jsonl"], 2, "error: unknown task 'gsm8'; known tasks: "),
    (["generate", "--task", "svamp", "--data", "{d}/q.jsonl", "--out", "{d}/p.jsonl"], 1,
     "error: {d}/q.jsonl: holds questions of task(s) gsm8k, not svamp; give --task gsm8k"),
    (["generate", "--task", "gsm8k", "--data", "{d}/latin1.jsonl", "--out", "{d}/p.jsonl"], 1, "error: {d}/latin1.jsonl:1: not UTF-8 text"),
    (["filter", "--in", "{d}/missing.jsonl", "--out", "{d}/f.jsonl"], 1, "error: {d}/missing.jsonl"),
    (["export", "--in", "{d}/latin1.jsonl", "--questions", "{d}/q.jsonl", "--out", "{d}/x.jsonl"], 1, "error: {d}/latin1.jsonl:1: not UTF-8 text"),
])
def test_an_ordinary_mistake_is_one_error_line(files, command, code, expected):
    result, errors = _invoke([c.format(d=files) for c in command])
    assert result.exit_code == code, result.output
    assert len(errors) == 1 and errors[0].startswith(expected.format(d=files)), result.output
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback(files):
    result = CliRunner().invoke(app, ["--debug", "train", "--config", str(files / "typo.yaml")])
    assert result.exit_code != 0 and type(result.exception).__name__ == "ConfigError"


@pytest.mark.parametrize("command", [
    ["generate", "--task", "gsm8k", "--data", "{d}/q.jsonl", "--out", "{out}"],
    ["filter", "--in", "{d}/q.jsonl", "--out", "{out}"],
    ["tasks", "load", "--task", "gsm8k", "--data", "{d}/q.jsonl", "--out", "{out}"],
    ["import", "--task", "gsm8k", "--gold", "{d}/q.jsonl", "--in", "{d}/q.jsonl", "--out", "{out}"],
    ["export", "--in", "{d}/q.jsonl", "--questions", "{d}/q.jsonl", "--out", "{out}"],
    ["export-student", "--train-dir", "{d}", "--out", "{out}"],
    ["train", "--config", "{d}/run.yaml", "--output-dir", "{out}"],
    ["run", "--config", "{d}/run.yaml", "--run", "{out}"],
    ["eval", "--config", "{d}/run.yaml", "--run", "{out}"],
    ["demo", "--out", "{out}"],
])
def test_an_impossible_out_is_refused_before_any_work(files, command):
    out = files / "a_file" / "out.jsonl"  # under a file: cannot be created
    result, errors = _invoke([c.format(d=files, out=out) for c in command])
    assert result.exit_code == 2, result.output
    flag = command[command.index("{out}") - 1]
    assert errors == [f"error: {flag} {out}: {files / 'a_file'} is a file, not a directory; choose another path"]
    assert not (files / "run").exists()  # nothing was started


def test_an_out_that_is_a_directory_is_refused(files):
    result, errors = _invoke(["generate", "--task", "gsm8k", "--data", files / "q.jsonl", "--out", files])
    assert result.exit_code == 2 and errors == [f"error: --out {files}: is a directory; give a file name"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_out_is_refused(files):
    locked = files / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result, errors = _invoke(["generate", "--task", "gsm8k", "--data", files / "q.jsonl", "--out", locked / "p.jsonl"])
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 2 and errors == [f"error: --out {locked / 'p.jsonl'}: {locked} is not writable; choose a path you can write to"]


@pytest.mark.parametrize("command", [
    ["filter", "--in", "{d}/latin1.jsonl", "--out", "{d}/f.jsonl"],
    ["tasks", "load", "--task", "gsm8k", "--data", "{d}/latin1.jsonl"],
])
def test_the_error_line_is_not_wrapped_on_a_narrow_terminal(files, command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    result, errors = _invoke([c.format(d=files) for c in command])
    assert result.exit_code == 1 and len(errors) == 1 and errors[0].endswith("save the file as UTF-8"), result.output
