"""The cooperative trainer end to end on tiny students: outputs, routing log, resume, errors."""

import json
import shutil

import pytest
import torch
from peft import PeftModel

from qrdistill.records import Path
from qrdistill.students import load_student
from qrdistill.train import metrics as metrics_module
from qrdistill.train.config import TrainConfig
from qrdistill.train.routing_log import routing_sources
from qrdistill.train.trainer import train

LOSS_KEYS = ("loss", "ce/smol", "ce/gemma", "distill/smol", "distill/gemma", "l_align", "l_route", "l_rate", "rate/smol", "rate/gemma")


def _config(out, data, **kw):
    # dropout on: resume must also restore the torch RNG exactly
    return TrainConfig(output_dir=str(out), students=data.tiny_specs(dropout=0.1), max_steps=4, per_device_train_batch_size=3, save_steps=2, seed=3, **kw)


def _metrics(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, data):
    out = tmp_path_factory.mktemp("ref")
    questions = data.make_questions()
    result = train(_config(out, data), data.make_paths(questions), questions)
    return out, result


def test_outputs_are_complete_and_loadable(reference, data):
    out, result = reference
    assert result.steps == 4
    for name in ("config.yaml", "router.pt", "peer.pt", "metrics.jsonl", "routing.jsonl"):
        assert (out / name).exists(), name
    metrics = _metrics(out)
    assert [m["step"] for m in metrics] == [1, 2, 3, 4]
    for key in LOSS_KEYS:
        assert all(key in m for m in metrics), key
    assert all(0 < m["gamma/smol"] < 1 for m in metrics)
    spec = data.tiny_specs()[0]
    student = load_student(spec, adapter_dir=result.adapters["smol"], trainable=False)
    assert isinstance(student.model, PeftModel)
    saved = torch.load(out / "checkpoints" / "step-000004" / "trainable.pt")["students"]["smol"]
    loaded = dict(student.model.named_parameters())
    for name, value in saved.items():
        torch.testing.assert_close(loaded[name], value)
    peer = torch.load(out / "peer.pt")
    assert peer["students"] == ["smol", "gemma"] and "competence" in peer["state_dict"]


def test_routing_log_has_rates_per_style_and_student(reference):
    out, _ = reference
    records = [json.loads(line) for line in (out / "routing.jsonl").read_text().splitlines()]
    # 24 paths, global batch 3: 8 micro-batches per epoch, 4 steps = half an epoch
    assert len(records) == 1 and records[0]["complete"] is False
    rates = records[0]["rates"]
    assert set(rates) <= {"cot", "pot", "backward"} and rates
    for per_student in rates.values():
        assert set(per_student) == {"smol", "gemma"}
        assert all(0.0 <= r <= 1.0 for r in per_student.values())
        assert sum(per_student.values()) >= 1.0  # every path reached at least one student
    assert sum(records[0]["n"].values()) == 12
    patterns = records[0]["patterns"]
    assert set(patterns) <= {"smol", "gemma", "smol+gemma"} and sum(patterns.values()) == pytest.approx(1.0)
    both = patterns.get("smol+gemma", 0.0)
    for name in ("smol", "gemma"):  # a student's rate = the sets that include it
        overall = records[0]["overall"][name]
        assert overall == pytest.approx(patterns.get(name, 0.0) + both)
    gains = records[0]["gains"]  # the answer gain per style x student the router learned from
    assert set(gains) == set(rates) and all(set(g) == {"smol", "gemma"} for g in gains.values())
    routed = [json.loads(line) for line in (out / "routed.jsonl").read_text().splitlines()]
    assert len(routed) == 12 and all(r["epoch"] == 0 and r["students"] for r in routed)
    sets = {}
    for r in routed:
        key = "+".join(r["students"])
        sets[key] = sets.get(key, 0) + 1
    assert {k: v / 12 for k, v in sets.items()} == pytest.approx(patterns)


def _train_killed_after_step_3(config, paths, questions, monkeypatch):
    """Train until step 3 is logged, then stop as a preemption would (KeyboardInterrupt)."""
    original = metrics_module.log_metrics

    def killed_after_step_3(appender, record):
        original(appender, record)
        if record["step"] == 3:
            raise KeyboardInterrupt("simulated preemption after step 3")

    monkeypatch.setattr(metrics_module, "log_metrics", killed_after_step_3)
    with pytest.raises(KeyboardInterrupt):
        train(config, paths, questions)
    monkeypatch.setattr(metrics_module, "log_metrics", original)


def test_interrupted_run_resumes_with_identical_losses(reference, tmp_path, monkeypatch, data):
    ref_out, _ = reference
    questions, make_paths = data.make_questions(), data.make_paths
    _train_killed_after_step_3(_config(tmp_path, data), make_paths(questions), questions, monkeypatch)
    with pytest.raises(FileExistsError, match="resume"):
        train(_config(tmp_path, data), make_paths(questions), questions)
    train(_config(tmp_path, data), make_paths(questions), questions, resume=True)

    ours, ref = _metrics(tmp_path), _metrics(ref_out)
    assert [m["step"] for m in ours] == [1, 2, 3, 4]
    for a, b in zip(ours, ref):
        for key in LOSS_KEYS:
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-6), (a["step"], key)
    a = torch.load(tmp_path / "checkpoints" / "step-000004" / "trainable.pt")
    b = torch.load(ref_out / "checkpoints" / "step-000004" / "trainable.pt")
    for name in ("smol", "gemma"):
        for key, value in b["students"][name].items():
            torch.testing.assert_close(a["students"][name][key], value)
    torch.testing.assert_close(a["router"]["mlp.0.weight"], b["router"]["mlp.0.weight"])


def test_resume_refuses_a_checkpoint_of_other_data(reference, tmp_path, data):
    ref_out, _ = reference
    questions = data.make_questions()
    for item in ref_out.iterdir():
        if item.is_dir():
            shutil.copytree(item, tmp_path / item.name)
    fewer = data.make_paths(questions, judged_out=2)
    with pytest.raises(RuntimeError, match="different paths"):
        train(_config(tmp_path, data), fewer, questions, resume=True)
    with pytest.raises(RuntimeError, match="different method"):
        train(_config(tmp_path, data, method="no_peer"), data.make_paths(questions), questions, resume=True)


def test_missing_question_is_named(tmp_path, data):
    questions = data.make_questions()
    paths = data.make_paths(questions)
    del questions["q3"]
    with pytest.raises(KeyError, match=r"q3\|cot\|0\|fixture.*--questions"):
        train(_config(tmp_path, data), paths, questions)


def test_routing_is_counted_per_teacher_and_style_when_several_teachers_wrote_the_paths():
    def path(teacher, style):
        return Path(question_id="q", task="synth_arith", style=style, teacher=teacher, text="t")

    one = [path("synthetic", "cot"), path("synthetic", "program")]
    assert routing_sources(one) == ["cot", "program"]
    several = [path("palm-540b", "cot"), path("gpt-3.5-turbo", "cot"), path("code-davinci-002", "program")]
    assert routing_sources(several) == ["palm-540b / cot", "gpt-3.5-turbo / cot", "code-davinci-002 / program"]


def test_checkpoints_default_to_every_tenth_of_training():
    from qrdistill.train.settings import TrainSettings

    assert [s for s in range(1, 51) if TrainSettings().is_checkpoint_step(s, 50)] == [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]
    assert [s for s in range(1, 51) if TrainSettings(save_steps=0).is_checkpoint_step(s, 50)] == [50]
    assert TrainSettings().checkpoint_every(4) == 1 and TrainSettings(save_steps=7).checkpoint_every(50) == 7


def test_a_killed_run_with_default_checkpoints_resumes_to_the_same_result(tmp_path, monkeypatch, data):
    questions = data.make_questions()

    def config(out):  # save_steps not given: a checkpoint every tenth of the 10 steps
        return TrainConfig(output_dir=str(out), students=data.tiny_specs(dropout=0.1), max_steps=10, per_device_train_batch_size=3, seed=3)

    train(config(tmp_path / "whole"), data.make_paths(questions), questions)
    _train_killed_after_step_3(config(tmp_path / "killed"), data.make_paths(questions), questions, monkeypatch)
    assert [p.name for p in sorted((tmp_path / "killed" / "checkpoints").iterdir())] == ["step-000001", "step-000002"]
    train(config(tmp_path / "killed"), data.make_paths(questions), questions, resume=True)

    ours, whole = _metrics(tmp_path / "killed"), _metrics(tmp_path / "whole")
    assert [m["step"] for m in ours] == list(range(1, 11))
    for a, b in zip(ours, whole):
        for key in LOSS_KEYS:
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-6), (a["step"], key)
    for name in ("smol", "gemma"):
        a = torch.load(tmp_path / "killed" / "checkpoints" / "step-000010" / "trainable.pt")["students"][name]
        b = torch.load(tmp_path / "whole" / "checkpoints" / "step-000010" / "trainable.pt")["students"][name]
        for key, value in b.items():
            torch.testing.assert_close(a[key], value)


@pytest.mark.parametrize(("checkpointing", "trim_memory", "trims_per_step"), [(False, None, 0), (True, None, 2), (False, True, 2)])
def test_heap_trims_follow_the_memory_lean_setting(tmp_path, monkeypatch, data, checkpointing, trim_memory, trims_per_step):
    calls = []
    monkeypatch.setattr("qrdistill.train.trainer.trim_heap", lambda: calls.append(1) or 0)
    specs = [s.model_copy(update={"gradient_checkpointing": checkpointing}) for s in data.tiny_specs()]
    questions = data.make_questions()
    config = TrainConfig(output_dir=str(tmp_path), students=specs, method="multi_path", max_steps=2, per_device_train_batch_size=3,
                         save_steps=0, trim_memory=trim_memory)
    train(config, data.make_paths(questions), questions)
    assert len(calls) == 2 * trims_per_step
