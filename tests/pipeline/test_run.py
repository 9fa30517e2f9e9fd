"""A real end-to-end `qrdistill run` on tiny students (real tokenizers, random weights)."""

import json

import pytest
import yaml
from typer.testing import CliRunner

from qrdistill.cli import app

METHODS = ["zero_shot", "single_path", "multi_path", "qr_distill", "random_route", "no_peer"]
TRAINED = METHODS[1:]
TASKS = ["synth_arith", "synth_yesno"]
STUDENTS = ["smollm2", "gemma3"]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    config = {
        "run_dir": str(root / "run"),
        "tasks": [{"name": t, "synthetic": {"train": 3, "test": 3, "dev": 2}} for t in TASKS],
        "generate": {"teacher": "synthetic", "styles": ["cot", "program", "backward"]},
        "filter": {"judge": "none", "verifiers": ["program", "arithmetic"]},
        "students": [{"name": "smollm2", "model": "tiny:smollm2", "max_length": 256},
                     {"name": "gemma3", "model": "tiny:gemma3", "max_length": 256}],
        "train": {"max_steps": 2, "per_device_train_batch_size": 2},
        "methods": METHODS,
        "seeds": [0],
        "eval": {"max_new_tokens": 6, "batch_size": 8, "ensemble": ["vote", "logprob"]},
    }
    path = root / "grid.yaml"
    path.write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return root / "run", path


def test_every_artifact_exists(finished_run):
    run, _ = finished_run
    for name in ("config.yaml", "paths.jsonl", "filtered.jsonl", "kept.jsonl", "results.json", "report.md"):
        assert (run / name).is_file(), name
    for task in TASKS:
        assert (run / "questions" / f"{task}.test.jsonl").is_file()
    for method in TRAINED:
        assert (run / "train" / method / "seed0" / "done.json").is_file()
        for student in STUDENTS:
            assert (run / "train" / method / "seed0" / "students" / student).is_dir()
    for method in METHODS:
        for student in STUDENTS:
            for task in TASKS:
                lines = (run / "eval" / method / "seed0" / f"{student}.{task}.jsonl").read_text().splitlines()
                gen = json.loads(lines[0])
                assert len(lines) == 3 and {"completion", "answer", "correct", "logprob"} <= set(gen)
    for png in ("accuracy.png", "funnel.png", "loss.png", "routing_qr_distill.png", "gains_qr_distill.png"):
        assert (run / "plots" / png).stat().st_size > 1000, png


def test_each_student_answers_in_the_style_chosen_on_dev(finished_run):
    run, _ = finished_run
    from qrdistill.evaluate.generations import read_generations

    for method in METHODS:
        for student in STUDENTS:
            for task in TASKS:
                dev = {f.name.split(".dev-")[1][: -len(".jsonl")]: read_generations(f)
                       for f in (run / "eval" / method / "seed0").glob(f"{student}.{task}.dev-*.jsonl")}
                assert "plain" in dev and len(dev) >= 2  # the trained styles (all kept styles for zero_shot) and plain
                assert all(len(g) == 2 for g in dev.values())
                test = read_generations(run / "eval" / method / "seed0" / f"{student}.{task}.jsonl")
                best = max(sum(g.correct for g in gens) for gens in dev.values())
                chosen = test[0].style or "plain"
                assert sum(g.correct for g in dev[chosen]) == best and all(g.style == test[0].style for g in test)
                plain = read_generations(run / "eval" / method / "seed0" / f"{student}.{task}.plain.jsonl")
                assert [g.question_id for g in plain] == [g.question_id for g in test] and all(g.style is None for g in plain)
    single = {f.name for f in (run / "eval" / "single_path" / "seed0").glob("smollm2.synth_arith.dev-*.jsonl")}
    assert {"smollm2.synth_arith.dev-cot.jsonl", "smollm2.synth_arith.dev-plain.jsonl"} <= single


def test_random_route_copies_the_sets_qr_distill_routed_to(finished_run):
    run, _ = finished_run
    cfg = yaml.safe_load((run / "train" / "random_route" / "seed0" / "config.yaml").read_text())
    logged = [json.loads(line) for line in (run / "train" / "qr_distill" / "seed0" / "routing.jsonl").read_text().splitlines()]
    assert cfg["random_patterns"] and set(cfg["random_patterns"]) <= {"smollm2", "gemma3", "smollm2+gemma3"}
    assert set(cfg["random_patterns"]) == {k for rec in logged for k, v in rec["patterns"].items() if v > 0}
    assert sum(cfg["random_patterns"].values()) == pytest.approx(1.0)


def test_results_and_report(finished_run):
    run, _ = finished_run
    data = json.loads((run / "results.json").read_text())
    assert set(data) == {"runs", "comparisons", "config"}
    combos = {(r["method"], r["student"], r["task"]) for r in data["runs"]}
    assert {(r["method"], r["student"]) for r in data["runs"] if r["prompt"] == "plain"} == {(m, s) for m in METHODS for s in STUDENTS}
    pairs = {(c["student"], c["task"], c["baseline"], c["prompt"]) for c in data["comparisons"]}
    assert {(s, t, b, p) for s in STUDENTS for t in TASKS for b in ["zero_shot", "single_path", "multi_path", "random_route",
                                                                     "no_peer", "best_single_path"] for p in ("chosen", "plain")} == pairs
    assert all(c["n"] == 3 and c["lo"] <= c["diff"] <= c["hi"] for c in data["comparisons"])
    for method in METHODS:
        for student in [*STUDENTS, "ensemble-vote", "ensemble-logprob"]:
            for task in TASKS:
                assert (method, student, task) in combos
    assert all(r["n"] == 3 and 0.0 <= r["accuracy"] <= 1.0 for r in data["runs"])
    report = (run / "report.md").read_text()
    for heading in ("## Accuracy (%)", "## Paired differences", "## Gains over the baselines", "## Ablations", "## Filter funnel",
                    "## Routing rates", "## Test-time styles", "under the plain zero-shot prompt",
                    "## Reference accuracies without a model", "**synthetic**", "Mean answer gain per source"):
        assert heading in report


def test_second_run_resumes_without_training_again(finished_run):
    run, config = finished_run
    before = {p: p.stat().st_mtime_ns for p in (run / "train").rglob("*") if p.is_file()}
    evals = {p: p.stat().st_mtime_ns for p in (run / "eval").rglob("*.jsonl")}
    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert {p: p.stat().st_mtime_ns for p in (run / "train").rglob("*") if p.is_file()} == before
    assert {p: p.stat().st_mtime_ns for p in (run / "eval").rglob("*.jsonl")} == evals


def test_compare_rebuilds_the_report(finished_run):
    run, _ = finished_run
    (run / "report.md").unlink()
    result = CliRunner().invoke(app, ["compare", "--run", str(run)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "## Accuracy (%)" in (run / "report.md").read_text()


def test_eval_command_reports_accuracy_with_interval(finished_run):
    _, config = finished_run
    result = CliRunner().invoke(app, ["eval", "--config", str(config), "--method", "qr_distill", "--seed", "0"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "Wilson 95% CI" in result.output and "synth_yesno" in result.output


def test_parallel_workers_give_the_sequential_results(tmp_path):
    base = {
        "tasks": [{"name": "synth_arith1", "synthetic": {"train": 3, "test": 3, "dev": 2}}],
        "generate": {"teacher": "synthetic", "styles": ["cot", "vanilla"]},
        "filter": {"judge": "none", "verifiers": ["arithmetic"]},
        "students": [{"name": "smollm2", "model": "tiny:smollm2", "max_length": 256},
                     {"name": "gemma3", "model": "tiny:gemma3", "max_length": 256}],
        "train": {"max_steps": 2, "per_device_train_batch_size": 2},
        "methods": ["zero_shot", "random_route", "qr_distill"], "seeds": [0, 1],
        "eval": {"max_new_tokens": 4, "batch_size": 8, "plain": False}, "threads": 1,
    }
    runs = {}
    for workers in (1, 2):
        config = tmp_path / f"w{workers}.yaml"
        config.write_text(yaml.safe_dump({**base, "run_dir": str(tmp_path / f"w{workers}"), "workers": workers}))
        result = CliRunner().invoke(app, ["run", "--config", str(config)])
        assert result.exit_code == 0, result.output + repr(result.exception)
        runs[workers] = tmp_path / f"w{workers}"
    assert sorted(p.name for p in (runs[2] / "logs").iterdir()) == sorted(["zero_shot-seed0.log"] + [f"{m}-seed{s}.log" for m in ("qr_distill", "random_route") for s in (0, 1)])
    evals = sorted(p.relative_to(runs[1]) for p in (runs[1] / "eval").rglob("*.jsonl"))
    assert evals and evals == sorted(p.relative_to(runs[2]) for p in (runs[2] / "eval").rglob("*.jsonl"))
    for rel in evals:  # same seeds, same data: the same answers whichever process trained them
        assert (runs[1] / rel).read_text() == (runs[2] / rel).read_text()
    assert (runs[1] / "train/random_route/seed1/config.yaml").read_text() == (runs[2] / "train/random_route/seed1/config.yaml").read_text().replace("/w2/", "/w1/")
