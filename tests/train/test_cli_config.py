"""``qrdistill train --config`` with a run config (``qrdistill run``'s YAML): students from the top
level, output inside the run dir, questions from the config's tasks."""

from pathlib import Path as FsPath

import pytest
import yaml
from typer.testing import CliRunner

from qrdistill.cli import app
from qrdistill.jsonl import write_records
from qrdistill.records import Path, Verdict
from qrdistill.synthetic.families import make_questions
from qrdistill.train.cli_config import resolve_inputs


def _run_config(tmp_path, data) -> FsPath:
    cfg = {"run_dir": str(tmp_path / "run"), "seeds": [3],
           "tasks": [{"name": "synth_arith", "synthetic": {"train": 4, "test": 2, "dev": 2}}],
           "students": [s.model_dump() for s in data.tiny_specs()],
           "train": {"max_steps": 1, "per_device_train_batch_size": 2}}
    file = tmp_path / "run.yaml"
    file.write_text(yaml.safe_dump(cfg))
    return file


def _kept(file: FsPath) -> FsPath:
    paths = [Path(question_id=q.id, task=q.task, style="cot", teacher="fixture", text=f"So it is {q.gold}. The answer is \\boxed{{{q.gold}}}.",
                  answer=q.gold, correct=True, verdict=Verdict(answer_correct=True, kept=True))
             for q in make_questions("synth_arith", 4, 0, "train")]
    write_records(file, paths)
    return file


def test_run_config_supplies_students_output_dir_and_questions(tmp_path, data):
    config, kept = _run_config(tmp_path, data), _kept(tmp_path / "run" / "filtered.jsonl")
    cfg, paths, questions = resolve_inputs(config, None, None, {})  # the run dir's filtered.jsonl
    assert [s.name for s in cfg.students] == ["smol", "gemma"]
    assert (cfg.method, cfg.seed, cfg.max_steps) == ("qr_distill", 3, 1)
    assert cfg.output_dir == str(tmp_path / "run" / "train" / "qr_distill" / "seed3")
    assert len(paths) == 4 and {p.question_id for p in paths} <= set(questions)
    assert (tmp_path / "run" / "questions" / "synth_arith.train.jsonl").exists()
    cfg, _, _ = resolve_inputs(config, kept, None, {"method": "no_peer", "seed": 1})
    assert cfg.output_dir.endswith("train/no_peer/seed1") and cfg.method == "no_peer"


def test_run_config_without_kept_paths_names_what_to_give(tmp_path, data):
    with pytest.raises(ValueError, match="give --kept"):
        resolve_inputs(_run_config(tmp_path, data), None, None, {})


def test_cli_trains_from_a_run_config(tmp_path, data):
    config, kept = _run_config(tmp_path, data), _kept(tmp_path / "kept.jsonl")
    result = CliRunner().invoke(app, ["train", "--config", str(config), "--kept", str(kept)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "run" / "train" / "qr_distill" / "seed3"
    assert all((out / "students" / name / "adapter_model.safetensors").exists() for name in ("smol", "gemma"))
