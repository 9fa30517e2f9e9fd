"""The run config: one YAML file holds every stage's settings (the same names as the CLI flags).

    run_dir: runs/demo
    tasks:
      - {name: synth_arith, synthetic: {train: 60, test: 40, dev: 20}}
      - {name: gsm8k, train_data: data/train.jsonl, test_data: data/test.jsonl, dev_data: data/dev.jsonl, limit_test: 200}
    generate: {teacher: synthetic, styles: [cot, pot, backward], samples_per_style: 1}
    filter: {verifiers: [program, arithmetic], judge: none}
    students:
      - {name: smollm2, model: "embedded:smollm2-135m"}
      - {name: gemma3, model: "embedded:gemma3-270m"}
    train: {num_train_epochs: 1, learning_rate: 2.0e-4, per_device_train_batch_size: 4}
    methods: [zero_shot, single_path, multi_path, qr_distill]
    seeds: [0, 1, 2]
    eval: {max_new_tokens: 96, batch_size: 16, ensemble: [vote, logprob]}

Every section is the stage's own settings class (``GenerateSettings``, ``FilterSettings``,
``TrainSettings``, ``StudentSpec``), validated when the file is read: a typo fails at once with the
file, line and field (``x.yaml:12: train.max_stepz: unknown field; did you mean 'max_steps'?``).

>>> cfg = load_config("src/qrdistill/configs/demo.yaml")
>>> cfg.methods
['zero_shot', 'single_path', 'multi_path', 'qr_distill']
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from qrdistill.errors import UsageError
from qrdistill.quality.filter import FilterSettings
from qrdistill.rundir import RunDir
from qrdistill.students.spec import StudentSpec, unique_names
from qrdistill.teacher.generate import GenerateSettings
from qrdistill.method.methods import get_method
from qrdistill.train.settings import TrainSettings
from qrdistill.validation import describe_errors, yaml_lines

ZERO_SHOT = "zero_shot"
"""The untrained baseline: each base student evaluated as is."""

ENSEMBLES = ("vote", "logprob")
CONFIGS_DIR = FsPath(str(files("qrdistill") / "configs"))  # the demo configs, package data of any install


class ConfigError(UsageError):
    """A run config that cannot be used; the message names the file and the field."""


class SyntheticCounts(BaseModel):
    """How many synthetic questions to draw per split (seeded, disjoint splits)."""

    model_config = ConfigDict(extra="forbid")

    train: int = Field(ge=1)
    test: int = Field(ge=1)
    dev: int = Field(default=0, ge=0)
    """Held-out dev questions (the family's val split) on which each student's test-time style is chosen."""


class TaskConfig(BaseModel):
    """One task of the run: a registered task name and where its questions come from."""

    model_config = ConfigDict(extra="forbid")

    name: str
    train_data: str | None = None
    """File in the dataset's public format (``task.load``) for the training questions."""
    test_data: str | None = None
    dev_data: str | None = None
    """Optional dev questions (never trained on or tested): each student's test-time style is chosen on them."""
    synthetic: SyntheticCounts | None = None
    """For the synthetic families: question counts instead of files."""
    limit_train: int | None = Field(default=None, ge=1)
    limit_test: int | None = Field(default=None, ge=1)
    limit_dev: int | None = Field(default=None, ge=1)

    def limit(self, split: str) -> int | None:
        """How many of the split's questions the run uses (the first N); ``None`` for all."""
        return {"train": self.limit_train, "test": self.limit_test, "dev": self.limit_dev}[split]

    def has_dev(self) -> bool:
        """Whether the task names a source of dev questions."""
        return self.dev_data is not None or (self.synthetic is not None and self.synthetic.dev > 0)

    @model_validator(mode="after")
    def _one_source(self) -> TaskConfig:
        has_files = self.train_data is not None and self.test_data is not None
        if self.synthetic is None and not has_files:
            raise ValueError(f"task {self.name!r}: give 'synthetic: {{train: N, test: M}}' or both 'train_data' and 'test_data'")
        if self.synthetic is not None and (self.train_data or self.test_data):
            raise ValueError(f"task {self.name!r}: give either 'synthetic' or data files, not both")
        return self


class EvalSettings(BaseModel):
    """Greedy evaluation of each student alone on the test split."""

    model_config = ConfigDict(extra="forbid")

    style: str = "auto"
    """The prompt each student answers the test questions in: ``auto`` (the style with the best dev
    accuracy for that student and method, among the styles it was trained on and the plain prompt),
    ``plain`` (the task's plain zero-shot prompt) or a style name."""
    plain: bool = True
    """Also answer the test questions under the plain prompt (reported beside the chosen style)."""
    limit_plain: int | None = Field(default=None, ge=1)
    """Answer only the first N test questions under the plain prompt (None: all)."""
    max_new_tokens: int = Field(default=256, ge=1)
    batch_size: int = Field(default=16, ge=1)
    ensemble: list[str] = Field(default_factory=list)
    """Optional test-time ensembles over the students: 'vote', 'logprob'."""

    @field_validator("ensemble")
    @classmethod
    def _known_ensembles(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(ENSEMBLES))
        if unknown:
            raise ValueError(f"unknown ensemble(s) {unknown}; choose from {list(ENSEMBLES)}")
        return value


class RunConfig(BaseModel):
    """Every setting of one run (stages + comparison grid)."""

    model_config = ConfigDict(extra="forbid")

    run_dir: str
    tasks: list[TaskConfig] = Field(min_length=1)
    seed: int = 0
    """Seed for data (synthetic questions, teacher sampling); training seeds are ``seeds``."""
    generate: GenerateSettings = Field(default_factory=GenerateSettings)
    """Teacher settings; ``generate.seed`` defaults to ``seed``."""
    filter: FilterSettings = Field(default_factory=FilterSettings)
    students: list[StudentSpec] = Field(min_length=1)
    train: TrainSettings = Field(default_factory=TrainSettings)
    methods: list[str] = Field(default_factory=lambda: [ZERO_SHOT, "single_path", "multi_path", "qr_distill"])
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    eval: EvalSettings = Field(default_factory=EvalSettings)
    threads: int | None = Field(default=None, ge=1)
    """torch intra-op threads (None: torch's default). On a small CPU shared with other jobs,
    1 is several times faster than oversubscribed OpenMP threads (docs/results.md)."""
    workers: int = Field(default=1, ge=1)
    """(method, seed) units trained and evaluated at once, each in its own process (give each
    ``threads`` so that workers x threads fits the cores)."""

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, value: list[str]) -> list[str]:
        for method in value:
            if method != ZERO_SHOT:
                get_method(method)
        return value

    @property
    def trained_methods(self) -> list[str]:
        """The methods that need training (all but zero_shot), in config order, except that
        ``random_route`` follows ``qr_distill`` (it copies the sets of students qr_distill routed to)."""
        methods = [m for m in self.methods if m != ZERO_SHOT]
        if "random_route" in methods and "qr_distill" in methods:
            methods.remove("random_route")
            methods.insert(methods.index("qr_distill") + 1, "random_route")
        return methods

    @field_validator("students")
    @classmethod
    def _unique_students(cls, value: list[StudentSpec]) -> list[StudentSpec]:
        return unique_names(value)

    @model_validator(mode="after")
    def _generate_seed(self) -> RunConfig:
        if "seed" not in self.generate.model_fields_set:
            self.generate = self.generate.model_copy(update={"seed": self.seed})
        return self

    @model_validator(mode="after")
    def _dev_for_auto_style(self) -> RunConfig:
        if self.eval.style == "auto":
            missing = [t.name for t in self.tasks if not t.has_dev()]
            if missing:
                raise ValueError(f"eval.style 'auto' chooses each student's test-time style on dev questions, but task(s) "
                                 f"{missing} have none: give 'synthetic: {{..., dev: N}}' or 'dev_data', or set eval.style "
                                 "to 'plain' or a style name")
        return self

    def student_names(self) -> list[str]:
        """The students' names in config order."""
        return [s.name for s in self.students]

    def train_fields(self, method: str, seed: int) -> dict[str, Any]:
        """TrainConfig fields of one (method, seed): the ``train:`` block, the students,
        ``output_dir`` = the run dir's ``train/{method}/seed{seed}``, and the run dir's path
        embedding cache, shared by every method and seed.

        >>> load_config("src/qrdistill/configs/demo.yaml").train_fields("qr_distill", 0)["output_dir"]
        'runs/demo/train/qr_distill/seed0'
        """
        run = RunDir(self.run_dir)
        fields = self.train.model_dump()
        fields["styles_file"] = fields["styles_file"] or self.generate.styles_file
        fields["embedding_cache"] = fields["embedding_cache"] or str(run.path_embeddings)
        return {**fields, "students": self.students, "method": method, "seed": seed, "output_dir": str(run.train(method, seed))}


def parse_config(data: dict[str, Any], where: str = "<config>", text: str = "") -> RunConfig:
    """Validate a config mapping; each error is a line naming ``where``, the line in ``text`` (the
    YAML it was read from) and the field.

    >>> parse_config({"run_dir": "r", "tasks": [...], "students": [...]}).seeds
    [0, 1, 2]
    """
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(describe_errors(exc, RunConfig, where, yaml_lines(text)))) from None


def load_config(path: str | os.PathLike[str]) -> RunConfig:
    """Read and validate a run config YAML file.

    >>> load_config("src/qrdistill/configs/demo.yaml").run_dir
    'runs/demo'
    """
    path = FsPath(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return parse_config(data, str(path), text)


def dump_config(cfg: RunConfig) -> str:
    """The config as YAML text (what ``config.yaml`` in the run directory holds): the settings that
    were given, so that the report can tell them from defaults."""
    return yaml.safe_dump(cfg.model_dump(mode="json", exclude_unset=True), sort_keys=False)


def demo_config(quick: bool = False) -> RunConfig:
    """The embedded default of ``qrdistill demo`` (src/qrdistill/configs/demo.yaml, or demo-quick.yaml)."""
    return load_config(CONFIGS_DIR / ("demo-quick.yaml" if quick else "demo.yaml"))
