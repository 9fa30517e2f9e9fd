"""The model cache, the tiny test models, and the real embedded students after conversion."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from transformers import AutoConfig

from qrdistill.students import StudentSpec, load_student
from qrdistill.students.cache import cached_dir
from qrdistill.students.embedded import check_tied, resolve_model, tiny_config
from qrdistill.students.student import load_tokenizer


def test_cached_dir_builds_once_across_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QRDISTILL_CACHE", str(tmp_path))
    builds: list[int] = []

    def build(out: Path) -> None:
        builds.append(1)
        time.sleep(0.2)
        (out / "weights.txt").write_text("w")

    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(cached_dir("m", build))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1
    assert set(results) == {tmp_path / "models" / "m"}
    assert (tmp_path / "models" / "m" / "weights.txt").read_text() == "w"


def test_failed_build_leaves_nothing_and_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QRDISTILL_CACHE", str(tmp_path))

    def broken(out: Path) -> None:
        (out / "half.bin").write_text("x")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        cached_dir("m", broken)
    assert not (tmp_path / "models" / "m").exists()
    assert not list((tmp_path / "models").glob(".m.tmp*"))
    assert (cached_dir("m", lambda out: (out / "ok").write_text("1")) / "ok").exists()


def test_resolve_passes_other_names_through() -> None:
    assert resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"
    with pytest.raises(ValueError, match="known: gemma3, smollm2 \\(write tiny:<name>\\)"):
        resolve_model("tiny:mistral")


@pytest.mark.parametrize("kind,model_type", [("smollm2", "llama"), ("gemma3", "gemma3_text")])
def test_tiny_models_use_the_real_tokenizers(kind: str, model_type: str) -> None:
    path = resolve_model(f"tiny:{kind}")
    config = AutoConfig.from_pretrained(path)
    tokenizer = load_tokenizer(path)
    assert config.model_type == model_type and config.num_hidden_layers == 2
    assert config.vocab_size == len(tokenizer) == {"smollm2": 49152, "gemma3": 262144}[kind]
    assert config.eos_token_id == tokenizer.eos_token_id
    assert tiny_config(kind, tokenizer).to_dict()["hidden_size"] == config.hidden_size


@pytest.mark.slow
def test_embedded_smollm2_converted_and_answers() -> None:
    student = load_student(StudentSpec(name="smollm2-135m", model="embedded:smollm2-135m"), trainable=False)
    check_tied(student.causal_lm)
    config = student.causal_lm.config
    assert (config.model_type, config.num_hidden_layers, config.hidden_size, config.vocab_size) == ("llama", 30, 576, 49152)
    assert not hasattr(config, "quantization_config")
    assert student.use_chat_template
    answer = student.generate(["What is 2+3?"], max_new_tokens=8, progress=False)[0]
    assert "5" in answer, answer


@pytest.mark.slow
def test_embedded_gemma3_converted_and_answers() -> None:
    student = load_student(StudentSpec(name="gemma3-270m", model="embedded:gemma3-270m"), trainable=False)
    check_tied(student.causal_lm)
    config = student.causal_lm.config
    assert (config.model_type, config.num_hidden_layers, config.hidden_size, config.vocab_size) == ("gemma3_text", 18, 640, 262144)
    assert config.sliding_window == 512
    assert config.layer_types == (["sliding_attention"] * 5 + ["full_attention"]) * 3
    assert config.rope_parameters["full_attention"]["rope_theta"] == 1_000_000
    assert config.rope_parameters["sliding_attention"]["rope_theta"] == 10_000
    assert config.final_logit_softcapping is None and config.query_pre_attn_scalar == 256
    assert not student.use_chat_template  # a base model: plain prompt with its BOS
    assert student.prompt_ids("x")[0] == student.tokenizer.bos_token_id
    answer = student.generate(["The capital of France is"], max_new_tokens=6, progress=False)[0]
    assert "Paris" in answer, answer
