"""The documented sequence (docs/interop.md), for real with the tiny students, through the CLI:
a hub-format ``messages`` dataset -> import -> filter -> train -> export (TRL) -> export-student
-> ``AutoModelForCausalLM.from_pretrained``, which answers exactly as our evaluation does."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path as FsPath

import datasets
import httpx
import pytest
import torch
import yaml
from transformers import AutoModelForCausalLM, AutoTokenizer
from typer.testing import CliRunner

sys.path.insert(0, str(FsPath(__file__).resolve().parents[1]))
from hub_data import QUESTIONS, messages_dataset, write_gold  # noqa: E402

from qrdistill.cli import app
from qrdistill.jsonl import read_records
from qrdistill.records import Question
from qrdistill.students import StudentSpec, load_student
from qrdistill.tasks import get_task

pytestmark = pytest.mark.slow

STUDENTS = [
    {"name": "smol", "model": "tiny:smollm2", "lora_r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "learning_rate": 5e-3, "max_length": 160},
    {"name": "gemma", "model": "tiny:gemma3", "lora_r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "learning_rate": 5e-3, "max_length": 160},
]


def qrdistill(*args: str) -> dict:
    """Run one CLI command in --json mode; its summary."""
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, f"qrdistill {' '.join(args)}:\n{result.output}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def sequence(tmp_path_factory) -> FsPath:
    d = tmp_path_factory.mktemp("interop")
    messages_dataset().save_to_disk(str(d / "traces"))          # what `datasets` gives for a hub dataset
    gold = write_gold(d / "train.jsonl")
    result = CliRunner().invoke(app, ["tasks", "load", "--task", "gsm8k", "--data", str(gold), "--out", str(d / "questions.jsonl")])
    assert result.exit_code == 0, result.output
    imported = qrdistill("import", "--task", "gsm8k", "--gold", str(gold), "--in", str(d / "traces"), "--format", "messages",
                         "--teacher-field", "model", "--style", "cot", "--out", str(d / "paths.jsonl"))
    assert imported["sources"][0]["imported"] == len(QUESTIONS)
    filtered = qrdistill("filter", "--in", str(d / "paths.jsonl"), "--out", str(d / "filtered.jsonl"), "--kept-only", str(d / "kept.jsonl"),
                         "--questions", str(d / "questions.jsonl"), "--judge", "none", "--verifiers", "arithmetic")
    assert (filtered["paths"], filtered["kept"]) == (len(QUESTIONS), len(QUESTIONS) - 1)   # the wrong answer is dropped
    (d / "train.yaml").write_text(yaml.safe_dump({"output_dir": str(d / "train"), "students": STUDENTS, "max_steps": 4,
                                                  "per_device_train_batch_size": 2, "warmup_ratio": 0.0}), encoding="utf-8")
    trained = qrdistill("train", "--config", str(d / "train.yaml"), "--kept", str(d / "filtered.jsonl"), "--questions", str(d / "questions.jsonl"))
    assert trained["steps"] == 4
    qrdistill("export", "--in", str(d / "filtered.jsonl"), "--questions", str(d / "questions.jsonl"), "--format", "messages", "--out", str(d / "kept.messages.jsonl"))
    qrdistill("export", "--in", str(d / "filtered.jsonl"), "--questions", str(d / "questions.jsonl"), "--format", "prompt-completion", "--out", str(d / "kept_trl"))
    exported = qrdistill("export-student", "--train-dir", str(d / "train"), "--out", str(d / "exported"), "--max-new-tokens", "24")
    assert [s["prompt_format"] for s in exported["students"]] == ["chat_template", "plain"]
    return d


def test_kept_paths_exported_for_trl_load_with_datasets(sequence):
    messages = datasets.load_dataset("json", data_files=str(sequence / "kept.messages.jsonl"), split="train")
    pairs = datasets.load_from_disk(str(sequence / "kept_trl"))
    assert len(messages) == len(pairs) == len(QUESTIONS) - 1
    assert {"messages", "question_id", "teacher", "style", "verdict"} <= set(messages.column_names)
    assert {"prompt", "completion", "question_id", "teacher", "style", "verdict"} <= set(pairs.column_names)
    assert set(messages["teacher"]) == {"teacher-a", "teacher-b"} and all(v["kept"] for v in messages["verdict"])


@pytest.mark.parametrize("student", STUDENTS, ids=lambda s: s["name"])
def test_exported_student_loads_with_from_pretrained_and_answers_as_our_evaluation(sequence, student):
    questions = read_records(sequence / "questions.jsonl", Question)[:3]
    prompts = [get_task("gsm8k").prompt(q) for q in questions]
    ours = load_student(StudentSpec(**student), adapter_dir=sequence / "train" / "students" / student["name"], trainable=False)
    ours_texts = [c.text for c in ours.complete(prompts, max_new_tokens=24, progress=False)]

    folder = sequence / "exported" / student["name"]
    model = AutoModelForCausalLM.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    theirs = []
    for prompt in prompts:
        enc = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                            return_tensors="pt", return_dict=True)
        assert enc["input_ids"][0].tolist() == ours.prompt_ids(prompt)   # the prompt format of training
        with torch.inference_mode():
            new = model.generate(**enc)[0, enc["input_ids"].shape[1]:]  # generation_config.json: greedy, 24 tokens
        theirs.append(tokenizer.decode(new, skip_special_tokens=True))
    assert theirs == ours_texts
    base = load_student(StudentSpec(**student), trainable=False)
    with torch.inference_mode():
        ids = torch.tensor([ours.prompt_ids(prompts[0])])
        merged = model(ids).logits
        assert torch.allclose(merged, ours.model(ids).logits, atol=1e-4)
        assert (merged - base.model(ids).logits).abs().max() > 1e-3   # the trained LoRA is in the weights


def test_transformers_serve_answers_chat_requests_as_our_evaluation(sequence, tmp_path):
    """A real ``transformers serve`` on localhost, the exported plain-prompt student, one chat request."""
    pytest.importorskip("fastapi")
    pytest.importorskip("openai")   # transformers' serving extra
    student = STUDENTS[1]
    question = read_records(sequence / "questions.jsonl", Question)[0]
    prompt = get_task("gsm8k").prompt(question)
    ours = load_student(StudentSpec(**student), adapter_dir=sequence / "train" / "students" / student["name"], trainable=False)
    expected = ours.complete([prompt], max_new_tokens=16, progress=False)[0].text
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    folder = str(sequence / "exported" / student["name"])
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([str(FsPath(sys.executable).parent / "transformers"), "serve", "--port", str(port), "--device", "cpu", folder],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"http://localhost:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(1)
        body = {"model": folder, "messages": [{"role": "user", "content": prompt}], "max_tokens": 16, "temperature": 0}
        reply = httpx.post(f"http://localhost:{port}/v1/chat/completions", json=body, timeout=120)
        assert reply.status_code == 200, (tmp_path / "serve.log").read_text()
        assert reply.json()["choices"][0]["message"]["content"] == expected
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
