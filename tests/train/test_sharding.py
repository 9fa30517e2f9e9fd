"""Which launch shards the students, and the DeepSpeed refusal (no processes launched here)."""

import pytest

from qrdistill.train.config import TrainConfig
from qrdistill.train.sharding import refuse_deepspeed, resolve_sharding
from qrdistill.train.trainer import train


@pytest.mark.parametrize(("configured", "world", "env", "expected"), [
    ("none", 2, {}, "none"),
    ("fsdp", 2, {}, "fsdp"),
    ("none", 2, {"ACCELERATE_USE_FSDP": "true"}, "fsdp"),     # accelerate launch --config_file configs/accelerate/fsdp.yaml
    ("none", 2, {"ACCELERATE_USE_FSDP": "false"}, "none"),
    ("fsdp", 1, {}, "none"),                                  # one process: nothing to shard over
])
def test_resolve_sharding(configured, world, env, expected):
    assert resolve_sharding(configured, world, env) == expected


def test_deepspeed_launch_is_refused_with_what_to_use_instead(monkeypatch, tmp_path, data):
    with pytest.raises(RuntimeError, match="DeepSpeed") as err:
        refuse_deepspeed({"ACCELERATE_USE_DEEPSPEED": "true"})
    assert "ddp.yaml" in str(err.value) and "sharding: fsdp" in str(err.value)
    refuse_deepspeed({"ACCELERATE_USE_DEEPSPEED": "false"})

    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")  # what `accelerate launch` sets from a DeepSpeed config
    questions = data.make_questions(2)
    cfg = TrainConfig(output_dir=str(tmp_path / "out"), method="multi_path", students=data.tiny_specs(), max_steps=1)
    with pytest.raises(RuntimeError, match="does not run under DeepSpeed"):
        train(cfg, data.make_paths(questions), questions)
    assert not (tmp_path / "out").exists()


def test_sharding_is_a_validated_config_field(tmp_path, data):
    with pytest.raises(ValueError, match="sharding"):
        TrainConfig(output_dir=str(tmp_path), students=data.tiny_specs(), sharding="zero3")
