"""The ``hf`` backend: a local transformers causal LM, batched generation.

Prompts are formatted with the model's chat template and left-padded so that every row of a
batch ends where generation starts. Requests are grouped by sampling settings, sorted by
length within a group (less padding) and each batch is seeded from its requests' seeds.

>>> backend = HFBackend("HuggingFaceTB/SmolLM2-1.7B-Instruct", batch_size=8)
>>> backend.complete([ChatRequest(messages=[{"role": "user", "content": "2+2?"}], max_tokens=64)])[0].text
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

from qrdistill.backends.base import BackendError, ChatBackend, ChatRequest, ChatResult


class HFBackend(ChatBackend):
    """Generation with ``transformers`` on CPU or GPU; the model loads on first use."""

    name: ClassVar[str] = "hf"

    def __init__(self, model: str, *, batch_size: int = 8, device: str | None = None, dtype: str = "auto") -> None:
        if not model:
            raise BackendError("the hf backend needs --model (a hub id or a local model directory)")
        self.model = model
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        self._loaded: tuple[Any, Any] | None = None

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            try:
                tokenizer = AutoTokenizer.from_pretrained(self.model)
                model = AutoModelForCausalLM.from_pretrained(self.model, dtype=self.dtype)
            except OSError as exc:
                raise BackendError(f"hf backend: cannot load model {self.model!r}: {exc}") from None
            if tokenizer.chat_template is None:
                raise BackendError(f"hf backend: {self.model!r} has no chat template; use an instruct/chat model")
            tokenizer.padding_side = "left"
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            self._loaded = (tokenizer, model.to(device).eval())
        return self._loaded

    def batches(self, requests: Sequence[ChatRequest]) -> list[list[int]]:
        """Indices of ``requests`` grouped by sampling settings, sorted by prompt size, chunked."""
        groups: dict[tuple[float, int], list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault((request.temperature, request.max_tokens), []).append(index)
        out = []
        for indices in groups.values():
            indices.sort(key=lambda i: sum(len(m["content"]) for m in requests[i].messages))
            out.extend(indices[s : s + self.batch_size] for s in range(0, len(indices), self.batch_size))
        return out

    def _generate(self, batch: list[ChatRequest]) -> list[ChatResult]:
        import torch
        from transformers import set_seed

        tokenizer, model = self._load()
        texts = [tokenizer.apply_chat_template(r.messages, tokenize=False, add_generation_prompt=True) for r in batch]
        encoded = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        first = batch[0]
        set_seed(sum(r.seed or 0 for r in batch) % 2**31)
        sampling: dict[str, Any] = {"do_sample": first.temperature > 0}
        if first.temperature > 0:
            sampling.update(temperature=first.temperature, top_k=0, top_p=1.0)
        with torch.no_grad():
            output = model.generate(**encoded, max_new_tokens=first.max_tokens, pad_token_id=tokenizer.pad_token_id, **sampling)
        new_tokens = output[:, encoded["input_ids"].shape[1] :]
        eos = model.generation_config.eos_token_id
        stop_ids = {tokenizer.pad_token_id, tokenizer.eos_token_id, *([eos] if isinstance(eos, int) else eos or [])} - {None}
        results = []
        for row, prompt_mask in zip(new_tokens.tolist(), encoded["attention_mask"].tolist()):
            length = next((i for i, t in enumerate(row) if t in stop_ids), len(row))
            text = tokenizer.decode(row[:length], skip_special_tokens=True)
            prompt_tokens, completion_tokens = int(sum(prompt_mask)), length
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}
            finish = "length" if length == len(row) and length == first.max_tokens else "stop"
            results.append(ChatResult(ok=True, text=text, usage=usage, meta={"finish_reason": finish}))
        return results

    async def stream(self, requests: Sequence[ChatRequest]) -> AsyncIterator[tuple[int, ChatResult]]:
        for indices in self.batches(requests):
            results = await asyncio.to_thread(self._generate, [requests[i] for i in indices])
            for index, result in zip(indices, results):
                yield index, result
