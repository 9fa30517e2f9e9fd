import textwrap
from pathlib import Path

import pytest
import yaml

from qrdistill.config import CONFIGS_DIR, ConfigError, dump_config, load_config, parse_config
from qrdistill.train.config import TrainConfig

BASE = {"run_dir": "r", "tasks": [{"name": "synth_arith", "synthetic": {"train": 2, "test": 2, "dev": 2}}],
        "students": [{"name": "a", "model": "tiny:smollm2"}]}
REPO_CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("file", [CONFIGS_DIR / "demo.yaml", CONFIGS_DIR / "demo-quick.yaml", *(REPO_CONFIGS / name for name in
                                  ["grid.yaml", "grid-arith1.yaml", "grid-planted.yaml", "real/svamp-cpu.yaml"])], ids=lambda f: f.name)
def test_shipped_configs_validate_against_every_stage(file):
    cfg = load_config(file)
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
    with pytest.raises(ConfigError, match=rf"^grid.yaml: {field}: "):
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


@pytest.mark.parametrize("section,typo,suggestion", [
    ("train", "max_stepz", "max_steps"),
    ("generate", "sample_per_style", "samples_per_style"),
    ("filter", "verifier", "verifiers"),
])
def test_a_typo_in_any_section_fails_at_load_with_file_line_field_and_suggestion(tmp_path, section, typo, suggestion):
    config = tmp_path / "x.yaml"
    config.write_text(yaml.safe_dump({**BASE, section: {typo: 3}}, sort_keys=False))
    line = next(i for i, text in enumerate(config.read_text().splitlines(), 1) if typo in text)
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert str(err.value) == f"{config}:{line}: {section}.{typo}: unknown field; did you mean '{suggestion}'?"


def test_a_typo_in_a_student_names_its_index_and_a_bad_value_its_field(tmp_path):
    config = tmp_path / "x.yaml"
    config.write_text(yaml.safe_dump({**BASE, "students": [{"name": "a", "model": "m", "lora_rank": 4}], "train": {"max_steps": "many"}}))
    with pytest.raises(ConfigError) as err:
        load_config(config)
    message = str(err.value)
    assert ": students.0.lora_rank: unknown field; did you mean 'lora_r'?" in message
    assert ": train.max_steps: Input should be a valid integer" in message


def test_the_module_example_validates():
    import qrdistill.config

    example = qrdistill.config.__doc__.split("\n\n")[1]
    cfg = parse_config(yaml.safe_load(textwrap.dedent(example)), "example")
    assert cfg.train.num_train_epochs == 1 and [s.name for s in cfg.students] == ["smollm2", "gemma3"]


def test_run_config_keeps_the_given_settings_and_the_teacher_seed_follows_the_run_seed(tmp_path):
    cfg = parse_config({**BASE, "seed": 4, "train": {"max_steps": 5}})
    assert cfg.generate.seed == 4 and cfg.train.max_steps == 5
    (tmp_path / "config.yaml").write_text(dump_config(cfg))
    again = load_config(tmp_path / "config.yaml")
    assert again == cfg and again.train.model_fields_set == {"max_steps"}
