"""The ``vllm`` backend: vLLM's offline engine in this process (needs vLLM and a GPU).

>>> backend = VLLMBackend("Qwen/Qwen2.5-7B-Instruct", engine_args={"gpu_memory_utilization": 0.9})
>>> backend.complete([ChatRequest(messages=[{"role": "user", "content": "2+2?"}])])[0].text
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

from qrdistill.backends.base import BackendError, ChatBackend, ChatRequest, ChatResult

INSTALL_HINT = (
    "the vllm backend needs the vLLM package, which is not installed. Install it with "
    "`pip install 'qrdistill[vllm]'` (or `pip install vllm`; Linux with a CUDA GPU). "
    "Alternatively run `vllm serve MODEL` elsewhere and use --teacher openai --base-url http://HOST:8000/v1."
)


def require_vllm() -> None:
    """Raise BackendError with install instructions when vLLM is missing."""
    if importlib.util.find_spec("vllm") is None:
        raise BackendError(INSTALL_HINT)


class VLLMBackend(ChatBackend):
    """Batched generation with ``vllm.LLM.chat``; the engine starts on first use.

    Requests go to the engine in chunks of ``chunk_size`` so that finished chunks reach the
    call cache (a killed run loses at most one chunk)."""

    name: ClassVar[str] = "vllm"

    def __init__(self, model: str, *, engine_args: dict[str, Any] | None = None, chunk_size: int = 256) -> None:
        require_vllm()
        if not model:
            raise BackendError("the vllm backend needs --model (a hub id or a local model directory)")
        self.model = model
        self.engine_args = dict(engine_args or {})
        self.chunk_size = chunk_size
        self._engine: Any = None

    def _generate(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        from vllm import LLM, SamplingParams

        if self._engine is None:
            self._engine = LLM(model=self.model, **self.engine_args)
        params = [SamplingParams(temperature=r.temperature, max_tokens=r.max_tokens, seed=r.seed) for r in requests]
        outputs = self._engine.chat([r.messages for r in requests], sampling_params=params, use_tqdm=True)
        results = []
        for output in outputs:
            completion = output.outputs[0]
            prompt_tokens, completion_tokens = len(output.prompt_token_ids or []), len(completion.token_ids)
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}
            results.append(ChatResult(ok=True, text=completion.text, usage=usage, meta={"finish_reason": completion.finish_reason}))
        return results

    async def stream(self, requests: Sequence[ChatRequest]) -> AsyncIterator[tuple[int, ChatResult]]:
        for start in range(0, len(requests), self.chunk_size):
            chunk = requests[start : start + self.chunk_size]
            for offset, result in enumerate(await asyncio.to_thread(self._generate, chunk)):
                yield start + offset, result
