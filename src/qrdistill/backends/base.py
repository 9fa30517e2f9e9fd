"""The chat-backend interface shared by the teacher and the LLM judge, and the cached runner.

A backend turns ``ChatRequest``s into ``ChatResult``s and yields them as they finish, in any
order. ``complete_cached`` runs a list of requests through a backend, skipping every request
whose result is already in a ``CallCache`` and storing each newly finished one at once.

>>> backend = get_backend("openai", model="gpt-4o-mini", base_url="http://localhost:8000/v1")
>>> requests = [ChatRequest(messages=[{"role": "user", "content": "2+2?"}], temperature=0.8)]
>>> results = complete_cached(backend, requests, CallCache("cache.jsonl"))
>>> results[0].text
'4'
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from qrdistill.callcache import CallCache, call_key
from qrdistill.records import Question

T = TypeVar("T")

DEFAULT_ABORT_AFTER = 32
"""Consecutive failed calls after which a stage stops (a dead server), unless configured."""


class BackendError(RuntimeError):
    """A backend that cannot run as configured (missing package, model, setting)."""


@dataclass(frozen=True)
class ChatRequest:
    """One chat call: messages plus sampling settings.

    ``question`` and ``style`` are read only by backends that write from structure instead of
    text (the synthetic teacher); ``sample`` distinguishes repeated samples of one prompt.
    """

    messages: list[dict[str, str]]
    temperature: float = 0.0
    max_tokens: int = 1024
    seed: int | None = None
    sample: int = 0
    question: Question | None = None
    style: str | None = None

    def sampling(self) -> dict[str, Any]:
        """The settings that change the output (part of the cache key)."""
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, "seed": self.seed}


@dataclass
class ChatResult:
    """One call's outcome: ``ok`` with ``text``, or not ok with the ``error`` that ended it."""

    ok: bool
    text: str = ""
    error: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    attempts: int = 1
    cached: bool = False

    @classmethod
    def failure(cls, error: str, attempts: int = 1) -> ChatResult:
        """A failed call with its reason."""
        return cls(ok=False, error=error, attempts=attempts)

    def cache_value(self) -> dict[str, Any]:
        """What the call cache stores for a finished call."""
        return {"text": self.text, "usage": self.usage, "meta": self.meta}

    @classmethod
    def from_cache(cls, value: dict[str, Any]) -> ChatResult:
        """Rebuild a result stored by ``cache_value``."""
        return cls(ok=True, text=value["text"], usage=dict(value.get("usage", {})), meta=dict(value.get("meta", {})), cached=True)


class ChatBackend(ABC):
    """A chat model behind one interface; subclasses implement ``stream``."""

    name: ClassVar[str]
    model: str

    def identity(self) -> dict[str, Any]:
        """Everything besides the request that determines an output (part of the cache key)."""
        return {"backend": self.name, "model": self.model}

    def key(self, request: ChatRequest) -> str:
        """The cache key of ``request`` on this backend."""
        return call_key(**self.identity(), messages=request.messages, sampling=request.sampling(), sample=request.sample)

    @abstractmethod
    def stream(self, requests: Sequence[ChatRequest]) -> AsyncIterator[tuple[int, ChatResult]]:
        """Yield ``(index into requests, result)`` for every request, as each finishes."""

    def complete(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        """Run ``requests`` and return their results in order (no cache)."""

        async def collect() -> list[ChatResult]:
            results: list[ChatResult | None] = [None] * len(requests)
            async for index, result in self.stream(requests):
                results[index] = result
            return _all_done(results, self.name)

        return asyncio.run(collect())


async def bounded_map(
    items: Iterable[T], fn: Callable[[T], Awaitable[ChatResult]], concurrency: int
) -> AsyncIterator[tuple[int, ChatResult]]:
    """Apply async ``fn`` to ``items`` with at most ``concurrency`` in flight; yield as finished.

    A fixed pool of workers pulls from one iterator, so memory stays flat however many items.
    ``fn`` must turn its own errors into failed ChatResults.
    """
    queue: asyncio.Queue[tuple[int, ChatResult]] = asyncio.Queue()
    items = list(items)
    source = iter(enumerate(items))

    async def worker() -> None:
        for index, item in source:
            try:
                result = await fn(item)
            except Exception as exc:  # a bug in fn must not hang the consumer; record it instead
                result = ChatResult.failure(f"{type(exc).__name__}: {exc}")
            await queue.put((index, result))

    workers = [asyncio.create_task(worker()) for _ in range(min(concurrency, len(items)))]
    try:
        for _ in range(len(items)):
            yield await queue.get()
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


def complete_cached(
    backend: ChatBackend,
    requests: Sequence[ChatRequest],
    cache: CallCache,
    on_result: Callable[[int, ChatResult], None] | None = None,
    abort_after: int = DEFAULT_ABORT_AFTER,
) -> list[ChatResult]:
    """Results for ``requests`` in order: cached ones read back, the rest run and cached.

    Only successful calls are cached, so a re-run retries the failures and nothing else.
    ``on_result(index, result)`` is called once per request (cached ones first).
    ``abort_after`` consecutive failed calls (0: never) stop the run with a BackendError: a dead
    or misconfigured server fails fast instead of recording every call as failed.
    """
    keys = [backend.key(r) for r in requests]
    results: list[ChatResult | None] = [None] * len(requests)
    todo: list[int] = []
    for index, key in enumerate(keys):
        value = cache.get(key)
        if value is None:
            todo.append(index)
            continue
        results[index] = ChatResult.from_cache(value)
        if on_result is not None:
            on_result(index, results[index])

    async def run() -> None:
        failures_in_a_row = 0
        async with contextlib.aclosing(backend.stream([requests[i] for i in todo])) as stream:
            async for position, result in stream:
                index = todo[position]
                if result.ok:  # fsync off the event loop: calls in flight keep progressing meanwhile
                    await asyncio.to_thread(cache.put, keys[index], result.cache_value())
                results[index] = result
                if on_result is not None:
                    on_result(index, result)
                failures_in_a_row = 0 if result.ok else failures_in_a_row + 1
                if abort_after and failures_in_a_row >= abort_after:
                    raise BackendError(
                        f"backend {backend.name!r} ({backend.model}): stopped after {failures_in_a_row} calls in a row "
                        f"failed; the last: {result.error}. Finished calls are kept in {cache.path}; fix the server "
                        "(or raise the abort-after limit) and run the same command again to go on from there."
                    )

    if todo:
        asyncio.run(run())
    return _all_done(results, backend.name)


def _all_done(results: list[ChatResult | None], backend: str) -> list[ChatResult]:
    missing = sum(r is None for r in results)
    if missing:
        raise BackendError(f"backend {backend!r} returned no result for {missing} request(s); this is a bug in the backend")
    return [r for r in results if r is not None]
