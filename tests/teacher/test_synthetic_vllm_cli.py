"""The synthetic teacher end to end, the vllm install hint, and the CLI (secrets never written)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path as FsPath

import pytest
from openai_server import Call, OpenAIServer, Reply
from rich.console import Console

from qrdistill.backends import BackendError, get_backend
from qrdistill.jsonl import read_records
from qrdistill.records import Path
from qrdistill.synthetic.families import make_questions
from qrdistill.tasks import get_task
from qrdistill.teacher.generate import GenerateSettings, generate_paths
from qrdistill.teacher.styles import PAPER_STYLES


@pytest.mark.parametrize("family", ["synth_arith", "synth_date", "synth_table", "synth_yesno"])
def test_synthetic_teacher_writes_every_style_and_records_its_flaws(tmp_path, family: str) -> None:
    questions, task = make_questions(family, 8, seed=0, split="train"), get_task(family)
    settings = GenerateSettings(teacher="synthetic", flaw_rates={"wrong_answer": 0.3, "wrong_step": 0.2, "irrelevant_step": 0.1})
    quiet = Console(file=open(os.devnull, "w"))
    paths = generate_paths(questions, task, settings, tmp_path / "p.jsonl", tmp_path / "c.jsonl", console=quiet)
    assert len(paths) == 8 * len(PAPER_STYLES) and {p.style for p in paths} == set(PAPER_STYLES)
    assert all(p.teacher == "synthetic-teacher" and p.backend == "synthetic" and p.status == "ok" for p in paths)
    flaws = Counter(p.meta["flaw"] for p in paths)
    assert set(flaws) == {None, "wrong_answer", "wrong_step", "irrelevant_step"}, flaws
    for p in paths:  # the task's own checker agrees with the injected flaw
        assert p.correct is (p.meta["flaw"] != "wrong_answer"), (p.meta, p.text)
    again = generate_paths(questions, task, settings.model_copy(update={"seed": 1}), tmp_path / "q.jsonl", tmp_path / "c.jsonl", console=quiet)
    assert [p.text for p in again] != [p.text for p in paths]


def test_synthetic_teacher_refuses_questions_without_a_solution(tmp_path) -> None:
    question = make_questions("synth_arith", 1, seed=0, split="train")[0].model_copy(update={"meta": {}})
    quiet = Console(file=open(os.devnull, "w"))
    paths = generate_paths([question], get_task("synth_arith"), GenerateSettings(styles=["cot"]), tmp_path / "p.jsonl", tmp_path / "c.jsonl", console=quiet)
    assert paths[0].status == "failed" and "only synthetic-family questions" in paths[0].error and "--teacher openai" in paths[0].error


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_vllm_backend_explains_how_to_install() -> None:
    with pytest.raises(BackendError, match=r"pip install 'qrdistill\[vllm\]'.*--teacher openai --base-url"):
        get_backend("vllm", model="Qwen/Qwen2.5-0.5B-Instruct")


def test_unknown_backend_and_misplaced_base_url_are_explained() -> None:
    with pytest.raises(BackendError, match="choose one of openai, hf, vllm, synthetic"):
        get_backend("gemini", model="x")
    with pytest.raises(BackendError, match="--base-url is for the openai backend"):
        get_backend("hf", model="x", base_url="http://localhost:8000/v1")


GSM8K_ROWS = [  # our own tiny questions in the original GSM8K file format
    {"question": "Ann has 3 apples and buys 4 more. How many apples does she have?", "answer": "3 + 4 = 7\n#### 7"},
    {"question": "A box holds 6 pens. How many pens are in 5 boxes?", "answer": "6 * 5 = 30\n#### 30"},
    {"question": "Tom had 20 marbles and lost 8. How many are left?", "answer": "20 - 8 = 12\n#### 12"},
]


def test_cli_generates_from_an_openai_server_and_never_writes_the_key(tmp_path) -> None:
    secret = "sk-fake-qrdistill-TOPSECRET-0042"
    data = tmp_path / "test.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in GSM8K_ROWS))
    answers = {row["question"]: row["answer"].split("#### ")[1] for row in GSM8K_ROWS}

    def responder(call: Call) -> Reply:
        if call.headers.get("authorization") != f"Bearer {secret}":
            return Reply.error(401)
        if call.attempt == 1:
            return Reply.error(500)
        question = next(q for q in answers if q in call.prompt)
        return Reply.ok(f"Working it out (seed {call.body.get('seed')}). The answer is \\boxed{{{answers[question]}}}.")

    out, cache = tmp_path / "paths.jsonl", tmp_path / "paths.cache.jsonl"
    env = {**os.environ, "TEACHER_KEY": secret}
    with OpenAIServer(responder) as server:
        command = [str(FsPath(sys.executable).parent / "qrdistill"), "generate", "--task", "gsm8k", "--data", str(data), "--out", str(out),
                   "--teacher", "openai", "--model", "test-model", "--base-url", server.base_url, "--styles", "cot,program",
                   "--samples-per-style", "2", "--api-key-env", "TEACHER_KEY", "--concurrency", "3", "--max-retries", "2"]
        run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    paths = read_records(out, Path)
    assert len(paths) == 3 * 2 * 2 and all(p.status == "ok" and p.correct and p.teacher == "test-model" for p in paths)
    assert server.count == 2 * len(paths)
    assert "Teacher paths" in run.stderr
    for text in (run.stdout, run.stderr, out.read_text(), cache.read_text()):
        assert secret not in text and "TOPSECRET" not in text


def test_cli_exits_nonzero_and_says_how_to_retry_when_calls_fail(tmp_path) -> None:
    from typer.testing import CliRunner

    from qrdistill.cli import app

    data = tmp_path / "test.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in GSM8K_ROWS[:1]))
    out = tmp_path / "paths.jsonl"
    with OpenAIServer(lambda call: Reply.error(400)) as server:
        result = CliRunner().invoke(app, ["generate", "--task", "gsm8k", "--data", str(data), "--out", str(out), "--teacher", "openai",
                                          "--model", "m", "--base-url", server.base_url, "--styles", "vanilla"])
    assert result.exit_code == 1, result.output
    assert "1 of 1 calls failed" in result.output and "run the same command again" in result.output
    assert read_records(out, Path)[0].error.startswith("HTTP 400")
