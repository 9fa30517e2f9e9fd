"""The filter loop end to end: verdicts, reasons, kept-only file, funnel counts, judge gating, CLI,
and the synthetic teacher's injected flaws."""

from __future__ import annotations

import json
import sys
from pathlib import Path as FsPath

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(FsPath(__file__).resolve().parents[1]))
from openai_server import Call, OpenAIServer, Reply  # noqa: E402

from qrdistill.cli import app
from qrdistill.jsonl import read_records, write_records
from qrdistill.quality.filter import FilterSettings, filter_paths
from qrdistill.quality.funnel import funnel, plot_funnel
from qrdistill.records import Path, Question
from qrdistill.synthetic.families import make_questions
from qrdistill.tasks import get_task
from qrdistill.teacher.generate import GenerateSettings, generate_paths

SECRET = "sk-qrdistill-filter-secret-51d2"
FAST = {"program_wall_s": 3.0, "program_cpu_s": 1, "program_memory_mb": 256}
QUESTIONS = [Question(id="q1", task="gsm8k", question="3 bags of 4 apples, then 5 more. How many?", gold="17"),
             Question(id="q2", task="gsm8k", question="2 + 2?", gold="4"),
             Question(id="q3", task="gsm8k", question="10 - 3?", gold="7")]


def P(qid: str, style: str, text: str, sample: int = 0, **kw) -> Path:
    return Path(question_id=qid, task="gsm8k", style=style, sample=sample, teacher="t", text=text, **kw)


def fixture_paths() -> list[Path]:
    return [
        P("q1", "cot", "3 × 4 = 12 apples. 12 + 5 = 17. The answer is \\boxed{17}."),
        P("q1", "cot", "3 × 4 = 12 apples. 12 + 5 = 18. The answer is \\boxed{17}.", sample=1),
        P("q1", "program", "```python\nprint(3 * 4 + 5)\n```\nThe answer is \\boxed{17}."),
        P("q1", "program", "```python\nprint(3 * 4 + 6)\n```\nThe answer is \\boxed{17}.", sample=1),
        P("q2", "cot", "2 + 2 = 5. The answer is \\boxed{5}."),
        P("q2", "vanilla", "", status="failed", error="HTTP 500 after 6 attempts"),
        P("q3", "program", "```python\nimport os\nprint(dict(os.environ))\nprint(open(f'/proc/{os.getppid()}/environ').read())\n```\n"
                           "The answer is \\boxed{7}."),
        P("q3", "vanilla", "10 - 3 = 7. The answer is \\boxed{7}."),
    ]


def test_every_path_gets_a_verdict_and_a_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("QRDISTILL_FAKE_KEY", SECRET)
    out = filter_paths(fixture_paths(), QUESTIONS, FilterSettings(**FAST), tmp_path / "filtered.jsonl", tmp_path / "kept.jsonl")
    reasons = {(p.question_id, p.style, p.sample): p.verdict.reason for p in out}
    assert [p.verdict.kept for p in out] == [True, False, True, False, False, False, False, True]
    assert "12+5 = 18" in reasons[("q1", "cot", 1)]
    assert reasons[("q1", "program", 1)].startswith("verifier program: printed '18'")
    assert reasons[("q2", "cot", 0)].startswith("wrong answer")
    assert reasons[("q2", "vanilla", 0)] == "generation failed: HTTP 500 after 6 attempts"
    assert reasons[("q3", "program", 0)].startswith("verifier program: ")
    written = (tmp_path / "filtered.jsonl").read_text()
    assert SECRET not in written
    assert len(read_records(tmp_path / "filtered.jsonl", Path)) == 8
    kept = read_records(tmp_path / "kept.jsonl", Path)
    assert [(p.question_id, p.style) for p in kept] == [("q1", "cot"), ("q1", "program"), ("q3", "vanilla")]


def test_funnel_counts_stages_and_questions_without_a_kept_path(tmp_path):
    out = filter_paths(fixture_paths(), QUESTIONS, FilterSettings(**FAST), tmp_path / "f.jsonl")
    f = funnel(out, QUESTIONS + [Question(id="q4", task="gsm8k", question="no paths", gold="1")])
    assert f["total"] == {"generated": 8, "answer_correct": 6, "verifiers": 3, "judge": 3, "kept": 3}
    assert f["by_task_style"]["gsm8k"]["program"] == {"generated": 3, "answer_correct": 3, "verifiers": 1, "judge": 1, "kept": 1}
    assert f["questions"] == {"total": 4, "with_kept": 2, "without_kept": 2, "without_kept_ids": ["q2", "q4"]}
    png = plot_funnel(f, tmp_path / "plots" / "funnel.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_questions_the_paths_own_correctness_is_used_and_missing_gold_is_an_error(tmp_path):
    marked = [P("q1", "cot", "3 × 4 = 12. The answer is \\boxed{12}.", answer="12", correct=False)]
    out = filter_paths(marked, [], FilterSettings(verifiers=[]), tmp_path / "f.jsonl")
    assert out[0].verdict.reason.startswith("wrong answer: extracted '12'")
    with pytest.raises(ValueError, match=r"q1\|cot\|0\|t: no gold answer.*--questions"):
        filter_paths([P("q1", "cot", "x")], [], FilterSettings(verifiers=[]), tmp_path / "g.jsonl")


def _judge(call: Call, verdicts: dict[str, str]) -> Reply:
    import re

    prompt = call.body["messages"][1]["content"]
    nonce = re.search(r"<<<SOLUTION ([0-9a-f]{16})>>>", prompt).group(1)
    for marker, verdict in verdicts.items():
        if marker in prompt:
            if verdict == "garbled":
                return Reply.ok("Hmm, hard to say.")
            return Reply.ok(json.dumps({"tag": nonce, "verdict": verdict, "reason": f"judged {marker}"}))
    return Reply.ok(json.dumps({"tag": nonce, "verdict": "valid", "reason": "fine"}))


@pytest.mark.parametrize("on_unknown, kept_q3", [("reject", False), ("keep", True)])
def test_the_judge_sees_only_survivors_and_on_unknown_decides(tmp_path, on_unknown, kept_q3):
    verdicts = {"12 apples. 12 + 5 = 17": "invalid", "10 - 3 = 7": "garbled"}
    with OpenAIServer(lambda call: _judge(call, verdicts)) as server:
        settings = FilterSettings(judge="openai", model="judge-m", base_url=server.base_url, on_unknown=on_unknown,
                                  judge_options={"max_retries": 0}, **FAST)
        out = filter_paths(fixture_paths(), QUESTIONS, settings, tmp_path / "f.jsonl", cache_path=tmp_path / "judge.jsonl")
        first_prompts = [c for c in server.calls if len(c.body["messages"]) == 2]
    assert len(first_prompts) == 3  # the three paths that passed the answer check and every verifier
    by = {(p.question_id, p.style, p.sample): p.verdict for p in out}
    assert by[("q1", "cot", 0)].kept is False and by[("q1", "cot", 0)].reason.startswith("judge: invalid")
    assert by[("q1", "program", 0)].kept is True and by[("q1", "program", 0)].judge.model == "judge-m"
    assert by[("q3", "vanilla", 0)].judge.verdict == "unknown" and by[("q3", "vanilla", 0)].kept is kept_q3
    assert by[("q2", "cot", 0)].judge is None


def test_cli_filters_and_draws_the_funnel(tmp_path):
    write_records(tmp_path / "paths.jsonl", fixture_paths())
    write_records(tmp_path / "q.jsonl", QUESTIONS)
    result = CliRunner().invoke(app, ["filter", "--in", str(tmp_path / "paths.jsonl"), "--out", str(tmp_path / "f.jsonl"),
                                      "--kept-only", str(tmp_path / "kept.jsonl"), "--questions", str(tmp_path / "q.jsonl"),
                                      "--verifiers", "arithmetic", "--funnel-png", str(tmp_path / "funnel.png")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "kept 5 of 8 paths" in text and "with none (dropped from training): 1" in text
    assert (tmp_path / "funnel.png").exists() and len(read_records(tmp_path / "kept.jsonl", Path)) == 5
    bad = CliRunner().invoke(app, ["filter", "--in", str(tmp_path / "paths.jsonl"), "--out", str(tmp_path / "x.jsonl"),
                                   "--verifiers", "program,spellcheck"])
    assert bad.exit_code == 2 and "spellcheck" in " ".join(bad.output.split())
    missing = CliRunner().invoke(app, ["filter", "--in", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "x.jsonl")])
    assert missing.exit_code == 1 and "nope.jsonl: file not found" in " ".join(missing.output.split())


def test_cli_keeps_unverifiable_programs_only_when_asked_and_hostile_ones_never(tmp_path):
    paths = [P("q1", "program", "I would write code, but the answer is \\boxed{17}."),
             P("q1", "program", "```python\nimport scipy\nprint(17)\n```\nThe answer is \\boxed{17}.", sample=1),
             P("q1", "program", "```python\ntry:\n    open('/etc/passwd').read()\nexcept OSError:\n    pass\nprint(17)\n```\n"
                                "The answer is \\boxed{17}.", sample=2)]
    write_records(tmp_path / "paths.jsonl", paths)
    write_records(tmp_path / "q.jsonl", QUESTIONS)
    args = ["filter", "--in", str(tmp_path / "paths.jsonl"), "--out", str(tmp_path / "f.jsonl"),
            "--questions", str(tmp_path / "q.jsonl"), "--verifiers", "program"]
    for flag, kept in (([], [False, False, False]), (["--keep-unverifiable-programs"], [True, True, False])):
        result = CliRunner().invoke(app, args + flag)
        assert result.exit_code == 0, result.output
        out = read_records(tmp_path / "f.jsonl", Path)
        assert [p.verdict.kept for p in out] == kept, [p.verdict.reason for p in out]
        assert "open" in out[2].verdict.reason


def test_synthetic_flaws_every_wrong_calculation_caught_no_clean_path_dropped(tmp_path):
    gen = GenerateSettings(teacher="synthetic", samples_per_style=1, seed=3,
                           flaw_rates={"wrong_answer": 0.2, "wrong_step": 0.4, "irrelevant_step": 0.1})
    paths, questions = [], []
    for family in ("synth_arith", "synth_table"):
        qs = make_questions(family, 6, seed=3, split="train")
        questions += qs
        paths += generate_paths(qs, get_task(family), gen, tmp_path / f"{family}.jsonl", tmp_path / f"{family}.cache.jsonl")
    out = filter_paths(paths, questions, FilterSettings(**FAST), tmp_path / "f.jsonl")
    wrong_calc = [p for p in out if p.meta.get("flaw") == "wrong_step" and ("written" in p.meta or p.style == "program")]
    clean = [p for p in out if p.meta.get("flaw") is None]
    wrong_answer = [p for p in out if p.meta.get("flaw") == "wrong_answer"]
    assert len(wrong_calc) >= 5 and len(clean) >= 20
    assert all(not p.verdict.kept for p in wrong_calc + wrong_answer)
    assert all(p.verdict.kept for p in clean), [p.verdict.reason for p in clean if not p.verdict.kept]


def test_repeated_paths_and_questions_are_dropped_when_identical_and_refused_when_they_conflict(tmp_path):
    paths = fixture_paths()
    write_records(tmp_path / "q.jsonl", QUESTIONS + QUESTIONS[:2])
    write_records(tmp_path / "paths.jsonl", paths + paths[:3])
    args = ["filter", "--in", str(tmp_path / "paths.jsonl"), "--out", str(tmp_path / "f.jsonl"),
            "--questions", str(tmp_path / "q.jsonl"), "--verifiers", "arithmetic"]
    result = CliRunner().invoke(app, args)
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "dropped 3 identical repeated paths" in text and "dropped 2 identical repeated questions" in text
    assert [p.key for p in read_records(tmp_path / "f.jsonl", Path)] == [p.key for p in paths]

    write_records(tmp_path / "paths.jsonl", paths + [paths[0].model_copy(update={"text": "The answer is \\boxed{18}."})])
    clash = CliRunner().invoke(app, args)
    assert clash.exit_code == 1 and "path key 'q1|cot|0|t' appears twice with a different text" in " ".join(clash.output.split())
    write_records(tmp_path / "paths.jsonl", paths)
    write_records(tmp_path / "q.jsonl", QUESTIONS + [QUESTIONS[0].model_copy(update={"gold": "18"})])
    gold = CliRunner().invoke(app, args)
    assert gold.exit_code == 1 and "question id 'q1' appears twice with a different gold ('17' and '18')" in " ".join(gold.output.split())


def test_cli_refuses_to_overwrite_its_input_and_an_empty_input_is_an_error_unless_allowed(tmp_path):
    write_records(tmp_path / "paths.jsonl", fixture_paths())
    for flag in ("--kept-only", "--out"):
        extra = [flag, str(tmp_path / "paths.jsonl")] + (["--out", str(tmp_path / "f.jsonl")] if flag == "--kept-only" else [])
        result = CliRunner().invoke(app, ["filter", "--in", str(tmp_path / "paths.jsonl"), *extra])
        assert result.exit_code == 2 and "is the input file" in " ".join(result.output.split())
    assert len(read_records(tmp_path / "paths.jsonl", Path)) == len(fixture_paths())
    (tmp_path / "empty.jsonl").write_text("")
    args = ["filter", "--in", str(tmp_path / "empty.jsonl"), "--out", str(tmp_path / "f.jsonl")]
    empty = CliRunner().invoke(app, args)
    assert empty.exit_code == 1 and "holds no paths" in " ".join(empty.output.split()) and not (tmp_path / "f.jsonl").exists()
    allowed = CliRunner().invoke(app, args + ["--allow-empty"])
    assert allowed.exit_code == 0 and read_records(tmp_path / "f.jsonl", Path) == []
