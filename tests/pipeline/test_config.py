from pathlib import Path

import pytest

from qrdistill.config import CONFIGS_DIR, ConfigError, load_config, parse_config
from qrdistill.quality.filter import FilterSettings
from qrdistill.students import StudentSpec
from qrdistill.teacher.generate import GenerateSettings
from qrdistill.train.config import TrainConfig

BASE = {"run_dir": "r", "tasks": [{"name": "synth_arith", "synthetic": {"train": 2, "test": 2, "dev": 2}}],
        "students": [{"name": "a", "model": "tiny:smollm2"}]}


REPO_CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("file", [CONFIGS_DIR / "demo.yaml", CONFIGS_DIR / "demo-quick.yaml", *(REPO_CONFIGS / name for name in
                                  ["grid.yaml", "grid-arith1.yaml", "grid-planted.yaml", "real/svamp-cpu.yaml"])], ids=lambda f: f.name)
def test_shipped_configs_validate_against_every_stage(file):
    cfg = load_config(file)
    GenerateSettings(**cfg.generate)
    FilterSettings(**cfg.filter)
    for s in cfg.students:
        StudentSpec(**s)
    for method in cfg.trained_methods:
        TrainConfig(**cfg.train_fields(method, cfg.seeds[0]))
    assert cfg.methods[0] == "zero_shot" and "qr_distill" in cfg.methods


def test_defaults_use_three_seeds():
    assert parse_config(BASE).seeds == [0, 1, 2]


@pytest.mark.parametrize("change,field", [
    ({"methods": ["zero_shot", "qr_distil"]}, "methods"),
    ({"tasks": [{"name": "synth_arith"}]}, "tasks.0"),
    ({"eval": {"ensemble": ["mean"]}}, "eval.ensemble"),
    ({"seeds": []}, "seeds"),
])
def test_errors_name_the_file_and_field(change, field):
    with pytest.raises(ConfigError, match=rf"grid.yaml: field '{field}'"):
        parse_config({**BASE, **change}, "grid.yaml")


def test_auto_style_needs_dev_questions_and_says_how_to_give_them():
    tasks = [{"name": "synth_arith", "synthetic": {"train": 2, "test": 2}}]
    with pytest.raises(ConfigError, match=r"grid.yaml: .*synth_arith.*have none: give 'synthetic: \{..., dev: N\}' or 'dev_data'"):
        parse_config({**BASE, "tasks": tasks}, "grid.yaml")
    assert parse_config({**BASE, "tasks": tasks, "eval": {"style": "plain"}}).eval.style == "plain"


def test_random_route_trains_after_qr_distill():
    cfg = parse_config({**BASE, "methods": ["zero_shot", "random_route", "single_path-fact", "qr_distill"]})
    assert cfg.trained_methods == ["single_path-fact", "qr_distill", "random_route"]


def test_missing_or_bad_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(bad)
