"""Every method runs from the one trainer, with the data, routing and peer settings it claims."""

import json

import pytest
import yaml
from typer.testing import CliRunner

from qrdistill.cli import app
from qrdistill.jsonl import write_records
from qrdistill.method.methods import METHODS, budget_paths, select_paths
from qrdistill.train.config import TrainConfig
from qrdistill.train.setup import total_steps
from qrdistill.train.trainer import train


def test_select_paths_per_data_mode(data):
    questions = data.make_questions(4)
    paths = data.make_paths(questions, judged_out=2)  # the judge removed 2 backward paths
    paths[0] = paths[0].model_copy(update={"status": "failed"})
    assert len(select_paths(paths, "qr_distill")) == 12 - 2 - 1
    assert len(select_paths(paths, "no_filter")) == 12 - 1  # judge ignored, answer check kept
    wrong = paths[1].model_copy(update={"verdict": paths[1].verdict.model_copy(update={"answer_correct": False, "kept": False})})
    assert wrong not in select_paths([wrong], "no_filter")
    single = select_paths(paths, "single_path")
    assert [p.question_id for p in single] == ["q0", "q1", "q2", "q3"]
    assert [p.style for p in single] == ["pot", "cot", "cot", "cot"]  # q0's cot path failed: first kept
    with pytest.raises(ValueError, match="use one of"):
        select_paths(paths, "qr-distill")


def test_every_method_gets_the_same_step_budget_from_the_kept_paths(data):
    questions = data.make_questions(8)
    paths = data.make_paths(questions, judged_out=4)  # 24 paths, 20 kept, 24 answer-checked, 8 single
    budget = budget_paths(paths)
    assert len(budget) == len(select_paths(paths, "qr_distill")) == 20
    assert {len(select_paths(paths, m)) for m in ("single_path", "no_filter")} == {8, 24}  # their own data, same budget
    cfg = TrainConfig(output_dir="unused", students=data.tiny_specs(), num_train_epochs=3, per_device_train_batch_size=3, gradient_accumulation_steps=2)
    assert total_steps(cfg, len(budget), global_batch=3) == 11  # 3 epochs x ceil(20 / 3) = 21 micro-batches, 2 per step
    assert total_steps(cfg.model_copy(update={"max_steps": 4}), len(budget), global_batch=3) == 4


@pytest.mark.parametrize("method", [m for m in METHODS if m != "no_filter"])
def test_each_method_trains(method, tmp_path, data):
    questions = data.make_questions(4)
    cfg = TrainConfig(output_dir=str(tmp_path), method=method, students=data.tiny_specs(), max_steps=1, per_device_train_batch_size=2, random_gate_rate=0.3)
    result = train(cfg, data.make_paths(questions), questions)
    (record,) = [json.loads(line) for line in result.metrics.read_text().splitlines()]
    spec = METHODS[method]
    assert ("l_align" in record) == spec.peer
    assert ("l_route" in record) == (spec.routing == "learned")
    assert (tmp_path / "peer.pt").exists() == spec.peer
    assert (tmp_path / "router.pt").exists() == (spec.routing == "learned")
    if spec.routing == "all":
        assert record["rate/smol"] == record["rate/gemma"] == 1.0
    assert record["distill/smol"] > 0 or record["distill/gemma"] > 0
    assert all((result.adapters[n] / "adapter_model.safetensors").exists() for n in ("smol", "gemma"))


def test_cli_trains_no_filter_from_yaml(tmp_path, data):
    questions = data.make_questions(4)
    write_records(tmp_path / "filtered.jsonl", data.make_paths(questions, judged_out=4))
    write_records(tmp_path / "questions.jsonl", questions.values())
    cfg = {"output_dir": str(tmp_path / "ignored"), "students": [s.model_dump() for s in data.tiny_specs()], "max_steps": 5, "per_device_train_batch_size": 12}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / "run"
    args = ["train", "--config", str(tmp_path / "cfg.yaml"), "--kept", str(tmp_path / "filtered.jsonl"), "--questions", str(tmp_path / "questions.jsonl"),
            "--method", "no_filter", "--output-dir", str(out), "--max-steps", "1", "--seed", "7"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["method"] == "no_filter" and saved["max_steps"] == 1 and saved["seed"] == 7
    routing = json.loads((out / "routing.jsonl").read_text().splitlines()[0])
    assert "backward" in routing["n"]  # judged-out backward paths are trained on without the filter
