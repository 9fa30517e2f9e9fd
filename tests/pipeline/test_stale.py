"""A run dir reused with other settings: each stale stage says what changed and reruns, with the
stages after it; report.md describes the settings that were used."""

import json

import yaml
from typer.testing import CliRunner

from qrdistill.cli import app


def _config(root, train, max_steps):
    return {
        "run_dir": str(root / "run"),
        "tasks": [{"name": "synth_arith", "synthetic": {"train": train, "test": 2}}],
        "generate": {"teacher": "synthetic", "styles": ["cot"]},
        "filter": {"judge": "none", "verifiers": ["arithmetic"]},
        "students": [{"name": "smollm2", "model": "tiny:smollm2", "max_length": 256}],
        "train": {"max_steps": max_steps, "per_device_train_batch_size": 2},
        "methods": ["zero_shot", "multi_path"],
        "seeds": [0],
        "eval": {"style": "plain", "plain": False, "max_new_tokens": 4},
    }


def _run(root, **settings):
    path = root / "run.yaml"
    path.write_text(yaml.safe_dump(_config(root, **settings)))
    result = CliRunner().invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def _steps(run):
    return [json.loads(line)["step"] for line in (run / "train" / "multi_path" / "seed0" / "metrics.jsonl").read_text().splitlines()]


def test_changed_settings_rerun_the_stale_stages_and_the_report_tells_them(tmp_path):
    run = tmp_path / "run"
    _run(tmp_path, train=8, max_steps=2)
    assert _steps(run) == [1, 2]
    assert len((run / "questions" / "synth_arith.train.jsonl").read_text().splitlines()) == 8

    output = _run(tmp_path, train=16, max_steps=5)
    assert "stage questions-synth_arith was made with other settings" in output and "task.synthetic.train 8 -> 16" in output
    for stage in ("generate", "filter", "train-multi_path-seed0"):
        assert f"stage {stage} was made with other settings or inputs" in output, stage
    assert "train.max_steps 2 -> 5" in output
    assert len((run / "questions" / "synth_arith.train.jsonl").read_text().splitlines()) == 16
    assert {json.loads(line)["question_id"] for line in (run / "paths.jsonl").read_text().splitlines()}.__len__() == 16
    assert _steps(run) == [1, 2, 3, 4, 5]
    report = (run / "report.md").read_text()
    assert "max_steps=5" in report and "16 train" in report and "max_steps=2" not in report

    again = _run(tmp_path, train=16, max_steps=5)  # unchanged: nothing is stale, nothing reruns
    assert "stale" not in again
    assert _steps(run) == [1, 2, 3, 4, 5]
