"""The generate stage end to end against a real server: exactly-once output, resume, kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path as FsPath

import pytest
from openai_server import Call, OpenAIServer, Reply
from rich.console import Console
from sum_task import SumTask, answer_for, make_questions, sampled_answer

from qrdistill.backends import BackendError
from qrdistill.jsonl import read_records
from qrdistill.records import Path, Question
from qrdistill.teacher.generate import GenerateSettings, derive_seed, generate_paths, load_questions

HERE = FsPath(__file__).parent
STYLES = ["cot", "program", "backward"]


def settings_for(server: OpenAIServer, **overrides) -> GenerateSettings:
    base = {"teacher": "openai", "model": "test-model", "base_url": server.base_url, "styles": STYLES, "samples_per_style": 2,
            "concurrency": 4, "max_retries": 2, "timeout": 5.0, "backend_options": {"backoff_base": 0.01}}
    return GenerateSettings(**{**base, **overrides})


def expected_keys(questions: list[Question], styles: list[str], samples: int) -> list[str]:
    return [f"{q.id}|{s}|{k}|test-model" for q in questions for s in styles for k in range(samples)]


def quiet() -> Console:
    return Console(file=open(os.devnull, "w"))


def test_one_path_per_question_style_sample_with_checked_answers(tmp_path) -> None:
    questions, task = make_questions(5), SumTask()
    out, cache = tmp_path / "paths.jsonl", tmp_path / "cache.jsonl"
    with OpenAIServer(lambda call: Reply.ok(sampled_answer(call))) as sum_server:
        paths = generate_paths(questions, task, settings_for(sum_server, temperature=0.7, max_tokens=99, seed=3), out, cache,
                               console=quiet())
    assert [p.key for p in paths] == expected_keys(questions, STYLES, 2)
    assert read_records(out, Path) == paths
    by_id = {q.id: q for q in questions}
    for p in paths:
        assert p.status == "ok" and p.backend == "openai" and p.task == "sums"
        assert p.text.startswith(answer_for(p.prompt)) and p.answer == by_id[p.question_id].gold and p.correct
        assert by_id[p.question_id].question in p.prompt and p.usage["total_tokens"] > 0
    bodies = [c.body for c in sum_server.calls]
    assert {b["seed"] for b in bodies} == {derive_seed(3, p.question_id, p.style, p.sample) for p in paths}
    assert all(b["temperature"] == 0.7 and b["max_tokens"] == 99 for b in bodies)
    assert sum_server.count == len(paths)


def test_identical_samples_are_dropped_with_a_count_and_a_warning(tmp_path) -> None:
    questions, task = make_questions(3), SumTask()
    with OpenAIServer(lambda call: Reply.ok(answer_for(call.prompt))) as server:   # ignores temperature and seed
        console = Console(record=True, width=300, file=open(os.devnull, "w"))
        paths = generate_paths(questions, task, settings_for(server), tmp_path / "p.jsonl", tmp_path / "c.jsonl", console=console)
    assert [p.key for p in paths] == expected_keys(questions, STYLES, 1)   # sample 1 repeated sample 0 word for word
    assert read_records(tmp_path / "p.jsonl", Path) == paths
    report = " ".join(console.export_text().split())
    assert "one identical text for every sample of 9 of 9 (question, style) pairs" in report
    assert "dropped 9 paths whose text repeats another sample" in report


def test_rerun_makes_no_call_and_failures_are_retried_on_the_next_run(tmp_path) -> None:
    questions, task = make_questions(4), SumTask()
    broken = {"server down": True}

    def responder(call: Call) -> Reply:
        if broken["server down"] and questions[1].question in call.prompt:
            return Reply.error(503)
        return Reply.ok(sampled_answer(call))

    out, cache = tmp_path / "paths.jsonl", tmp_path / "cache.jsonl"
    with OpenAIServer(responder) as server:
        console = Console(record=True, width=150, file=open(os.devnull, "w"))
        first = generate_paths(questions, task, settings_for(server), out, cache, console=console)
        failed = [p for p in first if p.status == "failed"]
        assert {p.question_id for p in failed} == {questions[1].id} and len(failed) == len(STYLES) * 2
        assert all(p.error == "gave up after 3 attempt(s): HTTP 503" and p.text == "" and p.correct is None for p in failed)
        report = console.export_text()
        assert "Teacher paths" in report and "100.0% (18/18)" in report and "6 failed" in report
        calls_before = server.count

        broken["server down"] = False
        second = generate_paths(questions, task, settings_for(server), out, cache, console=quiet())
        assert server.count == calls_before + len(failed)
        assert [p.key for p in second] == [p.key for p in first] and all(p.status == "ok" and p.correct for p in second)

        third = generate_paths(questions, task, settings_for(server), out, cache, console=quiet())
        assert server.count == calls_before + len(failed) and third == second


def test_a_dead_server_stops_the_stage_early_and_the_rerun_keeps_what_finished(tmp_path) -> None:
    questions, task = make_questions(30), SumTask()
    health = {"repaired": False}

    def responder(call: Call) -> Reply:  # the server dies after its 12th answer
        if call.number > 12 and not health["repaired"]:
            return Reply.error(503)
        return Reply.ok(sampled_answer(call))

    out, cache = tmp_path / "paths.jsonl", tmp_path / "cache.jsonl"
    with OpenAIServer(responder) as server:
        settings = settings_for(server, max_retries=0, abort_after=5, concurrency=2)
        with pytest.raises(BackendError, match=r"stopped after 5 calls in a row failed; the last: .*HTTP 503.*run the same command again"):
            generate_paths(questions, task, settings, out, cache, console=quiet())
        finished = len(cache_lines(cache))
        # the workers run ahead of the consumer while it writes the cache, so a few dozen calls
        # fail before the fifth failure is read; the stage still stops far short of all 180
        assert finished == 12 and server.count < len(questions) * len(STYLES) * 2 // 2 and not out.exists()

        health["repaired"], calls_before = True, server.count
        paths = generate_paths(questions, task, settings_for(server, abort_after=5), out, cache, console=quiet())
        assert all(p.status == "ok" and p.correct for p in paths)
        assert server.count - calls_before == len(paths) - finished


def test_an_unreachable_server_fails_fast_with_its_reason(tmp_path) -> None:
    with OpenAIServer() as server:
        dead_url = server.base_url  # the port is closed once the server stops
    settings = GenerateSettings(teacher="openai", model="test-model", base_url=dead_url, styles=STYLES,
                                max_retries=0, abort_after=3, concurrency=1)
    with pytest.raises(BackendError, match="3 calls in a row failed; the last: .*connection error"):
        generate_paths(make_questions(50), SumTask(), settings, tmp_path / "p.jsonl", tmp_path / "c.jsonl", console=quiet())


DRIVER = """
import sys
sys.path[:0] = [{tests!r}, {teacher!r}]
from rich.console import Console
from sum_task import SumTask, make_questions
from qrdistill.teacher.generate import GenerateSettings, generate_paths
settings = GenerateSettings(**{settings!r})
generate_paths(make_questions({n}), SumTask(), settings, {out!r}, {cache!r}, console=Console(stderr=True))
"""


def cache_lines(cache: FsPath) -> list[dict]:
    if not cache.exists():
        return []
    lines = cache.read_text().split("\n")
    return [json.loads(line) for line in lines[:-1] if line.strip()]


def call_identity(call: Call) -> str:
    """(answer, seed) names one call: seeds differ across styles and samples."""
    return f"{answer_for(call.prompt)}|{call.body['seed']}"


def cached_identity(entry: dict) -> str:
    answer, seed = entry["value"]["text"].rsplit(" Seed ", 1)
    return f"{answer}|{seed.rstrip('.')}"


def test_killed_runs_resume_without_repeating_finished_calls(tmp_path) -> None:
    """SIGKILL the stage three times mid-run; the final run completes every path exactly once
    and never re-sends a call whose result was already in the cache at the kill."""
    n = 12

    def responder(call: Call) -> Reply:
        return Reply.ok(f"{answer_for(call.prompt)} Seed {call.body['seed']}.", delay=0.08)

    out, cache = tmp_path / "paths.jsonl", tmp_path / "cache.jsonl"
    with OpenAIServer(responder) as server:
        settings = settings_for(server).model_dump()
        script = DRIVER.format(tests=str(HERE.parent), teacher=str(HERE), settings=settings, n=n, out=str(out), cache=str(cache))
        finished_at_kill: list[tuple[int, set[str]]] = []
        for kill_after in (10, 25, 40):
            proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 60
            while len(cache_lines(cache)) < kill_after and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
            finished_at_kill.append((server.count, {cached_identity(entry) for entry in cache_lines(cache)}))
            assert not out.exists()

        paths = generate_paths(make_questions(n), SumTask(), settings_for(server), out, cache, console=quiet())

    keys = expected_keys(make_questions(n), STYLES, 2)
    assert [p.key for p in paths] == keys and len(set(keys)) == len(paths)
    assert [p.key for p in read_records(out, Path)] == keys
    assert all(p.status == "ok" and p.correct for p in paths)
    assert all(p.text.startswith(answer_for(p.prompt)) for p in paths)
    assert len({call_identity(c) for c in server.calls}) == len(paths)
    for calls_at_kill, finished in finished_at_kill:
        repeated = finished & {call_identity(c) for c in server.calls[calls_at_kill:]}
        assert not repeated, f"{len(repeated)} finished calls were sent again"
    assert [len(f) >= k for (_, f), k in zip(finished_at_kill, (10, 25, 40))] == [True] * 3
    assert server.count - finished_at_kill[-1][0] == len(paths) - len(finished_at_kill[-1][1])


def test_questions_load_from_question_jsonl_or_the_task_format(tmp_path) -> None:
    task = SumTask()
    original = tmp_path / "sums.csv"
    original.write_text("1,2\n30,4\n")
    assert [q.gold for q in load_questions(original, task)] == ["3", "34"]
    ours = tmp_path / "questions.jsonl"
    ours.write_text("".join(q.model_dump_json() + "\n" for q in make_questions(3)))
    assert load_questions(ours, task) == make_questions(3)
    ours.write_text("".join(q.model_dump_json() + "\n" for q in make_questions(2) * 2))
    assert load_questions(ours, task, quiet()) == make_questions(2)   # identical repeats: dropped, with a note
    conflicting = make_questions(2) + [make_questions(1)[0].model_copy(update={"gold": "99"})]
    ours.write_text("".join(q.model_dump_json() + "\n" for q in conflicting))
    with pytest.raises(ValueError, match=r"question id 'sums-0' appears twice with a different gold \('1' and '99'\)"):
        load_questions(ours, task)


def test_cli_an_empty_or_unreadable_questions_file_is_an_error_unless_empty_is_allowed(tmp_path) -> None:
    from typer.testing import CliRunner

    from qrdistill.cli import app

    (tmp_path / "none.jsonl").write_text("")
    args = ["generate", "--task", "gsm8k", "--data", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "p.jsonl")]
    empty = CliRunner().invoke(app, args)
    assert empty.exit_code == 1 and "holds no questions" in " ".join(empty.output.split())
    assert CliRunner().invoke(app, args + ["--allow-empty"]).exit_code == 0
    (tmp_path / "latin1.jsonl").write_bytes(b'{"question": "How many \xe9clairs?", "answer": "#### 4"}\n')
    unreadable = CliRunner().invoke(app, args[:4] + [str(tmp_path / "latin1.jsonl")] + args[5:])
    assert unreadable.exit_code == 1 and "latin1.jsonl:1: not UTF-8 text" in " ".join(unreadable.output.split())
