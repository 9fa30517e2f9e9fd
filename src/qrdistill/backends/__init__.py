"""Chat backends behind one interface, chosen by name.

>>> backend = get_backend("openai", model="gpt-4o-mini", concurrency=32)
>>> backend = get_backend("hf", model="HuggingFaceTB/SmolLM2-360M-Instruct", batch_size=8)
>>> backend = get_backend("synthetic", flaw_rates={"wrong_answer": 0.1})
"""

from __future__ import annotations

from typing import Any

from qrdistill.backends.base import (
    DEFAULT_ABORT_AFTER,
    BackendError,
    ChatBackend,
    ChatRequest,
    ChatResult,
    complete_cached,
)

BACKENDS = ("openai", "hf", "vllm", "synthetic")


def get_backend(name: str, model: str | None = None, base_url: str | None = None, **options: Any) -> ChatBackend:
    """The backend called ``name``; ``options`` are that backend's keyword settings.

    openai: concurrency, max_retries, timeout, api_key_env, backoff_base, backoff_max, extra_body,
    max_tokens_field, seed.
    hf: batch_size, device, dtype. vllm: engine_args, chunk_size. synthetic: flaw_rates, seed.
    """
    if name == "openai":
        from qrdistill.backends.openai_compat import OpenAIBackend

        return OpenAIBackend(model or "", base_url, **options)
    if base_url is not None:
        raise BackendError(f"--base-url is for the openai backend; the {name!r} backend runs in this process")
    if name == "hf":
        from qrdistill.backends.hf import HFBackend

        return HFBackend(model or "", **options)
    if name == "vllm":
        from qrdistill.backends.vllm import VLLMBackend

        return VLLMBackend(model or "", **options)
    if name == "synthetic":
        from qrdistill.synthetic.backend import SyntheticBackend

        return SyntheticBackend(model, **options)
    raise BackendError(f"unknown teacher backend {name!r}; choose one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "DEFAULT_ABORT_AFTER", "BackendError", "ChatBackend", "ChatRequest", "ChatResult", "complete_cached", "get_backend"]
