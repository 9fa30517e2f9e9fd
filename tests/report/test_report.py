import json

import pytest

from qrdistill.config import parse_config
from qrdistill.evaluate.results import RunResult, read_results, write_results
from qrdistill.jsonl import RecordError
from qrdistill.records import Path
from qrdistill.report.aggregate import average_over_tasks
from qrdistill.report.comparisons import Comparison
from qrdistill.report.markdown import accuracy_table, build_report, comparisons_table, verdicts
from qrdistill.report.write import provenance

TASKS = ["synth_arith", "synth_date"]


def row(method, student, task, seed, correct, n=20):
    return RunResult.from_counts(method, student, task, seed, correct=correct, n=n)


@pytest.fixture
def runs():
    out = [row("zero_shot", s, t, 0, 4) for s in ("small", "big") for t in TASKS]
    for seed, (sp, qr) in enumerate([(8, 12), (10, 14), (9, 13)]):
        for s in ("small", "big"):
            out.append(row("single_path", s, "synth_arith", seed, sp))
            out.append(row("single_path", s, "synth_date", seed, sp))
            out.append(row("qr_distill", s, "synth_arith", seed, qr))
            out.append(row("qr_distill", s, "synth_date", seed, qr - 2))
            out.append(row("no_peer", s, "synth_arith", seed, qr - 1))
            out.append(row("no_peer", s, "synth_date", seed, qr - 3))
    return out


def test_results_json_keeps_the_contract_keys(tmp_path, runs):
    path = tmp_path / "results.json"
    diff = Comparison(student="small", task="t", method="qr_distill", baseline="single_path", prompt="chosen", diff=5.0, lo=1.0, hi=9.0, n=60)
    write_results(path, runs, {"run_dir": "x"}, [diff])
    data = json.loads(path.read_text())
    assert set(data) == {"runs", "comparisons", "config"}
    assert {"student", "task", "method", "baseline", "diff", "lo", "hi", "n"} <= set(data["comparisons"][0])
    assert {"method", "student", "task", "seed", "accuracy", "n"} <= set(data["runs"][0])
    back, config = read_results(path)
    assert config == {"run_dir": "x"} and sorted(back, key=str) == sorted(runs, key=str)


def test_read_results_names_the_bad_field(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"runs": [{"method": "m"}], "config": {}}))
    with pytest.raises(RecordError, match=r"runs\[0\]: field 'student'"):
        read_results(path)


def test_average_is_per_seed_then_over_seeds(runs):
    avg = average_over_tasks(runs, TASKS)[("qr_distill", "small")]
    per_seed = [(12 + 10) / 40, (14 + 12) / 40, (13 + 11) / 40]
    assert avg.seeds == 3 and avg.mean == pytest.approx(sum(per_seed) / 3)
    assert avg.std == pytest.approx(0.05)


def test_accuracy_table_has_mean_and_std_in_percent(runs):
    table = accuracy_table(runs, ["zero_shot", "single_path", "qr_distill"], ["small", "big"], TASKS)
    lines = table.splitlines()
    assert lines[0] == "| student | method | synth_arith | synth_date | Avg |"
    assert "| small | qr_distill | 65.0 ± 5.0 | 55.0 ± 5.0 | 60.0 ± 5.0 |" in lines
    assert "| small | zero_shot | 20.0 | 20.0 | 20.0 |" in lines


def _cmp(baseline, diff, lo, hi, n=60, prompt="chosen", student="small"):
    return Comparison(student=student, task="synth_arith", method="qr_distill", baseline=baseline, prompt=prompt, diff=diff, lo=lo, hi=hi, n=n)


def test_report_has_every_section_and_verdicts_from_paired_intervals(runs):
    comparisons = [_cmp("single_path", 20.0, 8.3, 31.7), _cmp("no_peer", 5.0, -3.3, 13.3), _cmp("no_peer", -1.0, -4.0, 2.0, prompt="plain")]
    text = build_report(runs, methods=["zero_shot", "single_path", "qr_distill", "no_peer"], students=["small", "big"],
                        tasks=TASKS, provenance=["teacher: **synthetic**"], sections=[("Filter funnel", "| a |")], comparisons=comparisons)
    for heading in ("## Accuracy (%)", "## Paired differences", "## Gains over the baselines", "## Ablations",
                    "## What the numbers say", "## Filter funnel", "teacher: **synthetic**"):
        assert heading in text
    # qr_distill 60.0 vs single_path 45.0: +15.0 pts, relative +33%
    assert "| small | qr_distill | +40.0 pts (+200%) | +15.0 pts (+33%) |" in text
    assert "qr_distill beats single_path by 20.0 pts (paired 95% CI [+8.3, +31.7], n=60; the interval excludes 0)" in text
    assert "qr_distill beats no_peer by 5.0 pts (paired 95% CI [-3.3, +13.3], n=60; the interval includes 0: not a result)" in text
    assert "| small | synth_arith | single_path | +20.0 | [+8.3, +31.7] | yes | 60 |" in text
    assert "-1.0" not in text  # the plain-prompt comparison belongs to its own section


def test_verdict_says_when_qr_distill_trails():
    runs = [row("multi_path", "s", "t", seed, 15) for seed in (0, 1)] + [row("qr_distill", "s", "t", seed, 10) for seed in (0, 1)]
    lines = verdicts(runs, ["multi_path", "qr_distill"], ["s"], ["t"], [_cmp("multi_path", -25.0, -40.0, -10.0, student="s")])
    assert "best average is multi_path" in lines[0]
    assert "qr_distill trails multi_path by 25.0 pts" in lines[1] and "excludes 0" in lines[1]
    assert "Wilson interval is ±" in lines[-1]


def test_comparisons_table_per_prompt_and_best_single_note():
    rows = [_cmp("best_single_path", 3.0, -1.0, 7.0).model_copy(update={"note": "single_path-fact: best dev accuracy"}),
            _cmp("multi_path", 2.0, 0.5, 3.5, prompt="plain")]
    chosen = comparisons_table(rows)
    assert "| small | synth_arith | best_single_path (single_path-fact) | +3.0 | [-1.0, +7.0] | no | 60 |" in chosen
    assert "multi_path" not in chosen
    assert "| yes |" in comparisons_table(rows, prompt="plain")
    assert comparisons_table([]) is None


def test_each_row_appears_once_when_methods_repeat(runs):
    text = build_report(runs, methods=["zero_shot", "qr_distill", "zero_shot", "qr_distill"], students=["small", "small"],
                        tasks=TASKS, provenance=[])
    assert text.count("| small | qr_distill | 65.0 ± 5.0 |") == 1


def test_provenance_names_the_imported_teachers():
    cfg = parse_config({"run_dir": "r", "tasks": [{"name": "svamp", "train_data": "a.jsonl", "test_data": "b.jsonl", "limit_test": 60}],
                        "students": [{"name": "s", "model": "tiny:smollm2"}], "eval": {"style": "plain"}})
    paths = [Path(question_id=f"q{i}", task="svamp", style=style, teacher=teacher, text="t")
             for i, (teacher, style) in enumerate([("palm-540b", "cot"), ("palm-540b", "cot"), ("code-davinci-002", "program")])]
    lines = provenance(cfg, paths)
    assert "teachers (imported paths, as counted before filtering): `code-davinci-002` program (1), `palm-540b` cot (2)" in lines
    assert any("(first 60 test questions)" in line for line in lines)
    assert not any("None" in line for line in lines)
