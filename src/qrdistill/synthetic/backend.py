"""The ``synthetic`` backend: the embedded offline teacher.

It does not read the prompt text: it renders the structured solution that the synthetic
problem families keep in ``question.meta['solution']`` in the requested style, with flaws
injected at ``flaw_rates`` (see ``qrdistill.synthetic.teacher.render_path``). The injected flaw
goes into the result's ``meta`` and from there into ``Path.meta['flaw']``. Output depends on
(question id, style, sample, run seed, flaw rates) only.

>>> backend = SyntheticBackend(flaw_rates={"wrong_answer": 0.1}, seed=0)
>>> backend.complete([ChatRequest(messages=m, question=q, style="cot")])[0].meta["flaw"]
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

from qrdistill.backends.base import BackendError, ChatBackend, ChatRequest, ChatResult

SYNTHETIC_MODEL = "synthetic-teacher"


class SyntheticBackend(ChatBackend):
    """Paths written from the synthetic families' structured solutions, no model involved."""

    name: ClassVar[str] = "synthetic"

    def __init__(self, model: str | None = None, *, flaw_rates: dict[str, float] | None = None, seed: int = 0) -> None:
        from qrdistill.synthetic.teacher import FlawRates

        self.model = model or SYNTHETIC_MODEL
        self.seed = seed
        self._flaw_settings = dict(flaw_rates or {})
        try:
            self.flaw_rates = FlawRates(**self._flaw_settings)
        except (TypeError, ValueError) as exc:
            raise BackendError(f"synthetic teacher: bad flaw rates {self._flaw_settings}: {exc}") from None

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "flaw_rates": self._flaw_settings, "seed": self.seed}

    def _one(self, request: ChatRequest) -> ChatResult:
        from qrdistill.synthetic.teacher import render_path

        if request.question is None or request.style is None:
            raise BackendError("the synthetic teacher needs the Question and the style name in each ChatRequest")
        text, meta = render_path(request.question, request.style, request.sample, self.seed, self.flaw_rates)
        return ChatResult(ok=True, text=text, meta=dict(meta))

    async def stream(self, requests: Sequence[ChatRequest]) -> AsyncIterator[tuple[int, ChatResult]]:
        for index, request in enumerate(requests):
            try:
                result = self._one(request)
            except (KeyError, ValueError) as exc:
                qid = request.question.id if request.question else "?"
                result = ChatResult.failure(
                    f"synthetic teacher cannot write question {qid!r} in style {request.style!r}: {exc} "
                    "(it writes only synthetic-family questions; use --teacher openai/hf/vllm for others)"
                )
            yield index, result
