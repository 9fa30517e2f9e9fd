"""The ``openai`` backend: any OpenAI-compatible chat server (vLLM, llama.cpp, Ollama, OpenAI).

Async over ``httpx`` with at most ``concurrency`` requests in flight (one keep-alive connection
each), a total
deadline per request, and retries with exponential backoff and jitter on 429, 5xx, timeouts,
connection errors and malformed responses (a ``Retry-After`` header is honoured). A call
that still fails becomes a failed ChatResult with the last reason. The API key is read from
the environment variable named ``api_key_env`` and is sent only in the Authorization header.

>>> backend = OpenAIBackend(model="Qwen/Qwen2.5-7B-Instruct", base_url="http://localhost:8000/v1",
...                         concurrency=64, max_retries=5, timeout=120)
>>> backend.complete([ChatRequest(messages=[{"role": "user", "content": "2+2?"}])])[0].text
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import ssl
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import certifi
import httpx

from qrdistill.backends.base import BackendError, ChatBackend, ChatRequest, ChatResult, bounded_map

DEFAULT_BASE_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class Attempt:
    """The outcome of one HTTP attempt: a final result, or a reason to retry (and Retry-After)."""

    result: ChatResult | None = None
    retry_reason: str | None = None
    retry_after: float | None = None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None.

    >>> parse_retry_after("2")
    2.0
    """
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def parse_completion(payload: bytes) -> ChatResult:
    """Read a chat-completion response body; raise ValueError naming what is malformed.

    >>> parse_completion(b'{"choices": [{"message": {"content": "4"}}]}').text
    '4'
    """
    try:
        data = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed response: body is not JSON ({exc}): {payload[:120]!r}") from None
    if not isinstance(data, dict):
        raise ValueError(f"malformed response: expected a JSON object, got {type(data).__name__}")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ValueError("malformed response: missing 'choices'")
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        raise ValueError("malformed response: missing 'choices[0].message.content'")
    usage_in = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    usage = {k: int(v) for k, v in usage_in.items() if k in ("prompt_tokens", "completion_tokens", "total_tokens") and isinstance(v, int)}
    meta = {"finish_reason": choices[0].get("finish_reason")}
    if isinstance(data.get("model"), str):
        meta["served_model"] = data["model"]
    return ChatResult(ok=True, text=content, usage=usage, meta=meta)


class OpenAIBackend(ChatBackend):
    """Chat completions from an OpenAI-compatible server."""

    name: ClassVar[str] = "openai"

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        *,
        concurrency: int = 16,
        max_retries: int = 5,
        timeout: float = 120.0,
        api_key_env: str = "OPENAI_API_KEY",
        backoff_base: float = 0.5,
        backoff_max: float = 60.0,
        extra_body: dict[str, Any] | None = None,
        max_tokens_field: str = "max_tokens",
        seed: int = 0,
    ) -> None:
        if not model:
            raise BackendError("the openai backend needs --model (the model name the server serves)")
        if concurrency < 1 or max_retries < 0 or timeout <= 0:
            raise BackendError(f"need concurrency >= 1, max_retries >= 0, timeout > 0; got {concurrency}, {max_retries}, {timeout}")
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout = timeout
        self.api_key_env = api_key_env
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.extra_body = dict(extra_body or {})
        self.max_tokens_field = max_tokens_field  # OpenAI's reasoning models want "max_completion_tokens"
        self._jitter = random.Random(seed)

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "extra_body": self.extra_body}

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _redact(self, text: str) -> str:
        key = os.environ.get(self.api_key_env)
        return text.replace(key, "***") if key else text

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": request.messages,
            "temperature": request.temperature,
            self.max_tokens_field: request.max_tokens,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        return {**body, **self.extra_body}

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before retry number ``attempt`` (0-based): Retry-After if given, else
        ``backoff_base * 2**attempt`` capped at ``backoff_max``, times a jitter in [0.5, 1.5)."""
        if retry_after is not None:
            return min(retry_after, self.backoff_max) + self._jitter.uniform(0, 0.1 * self.backoff_base)
        return min(self.backoff_max, self.backoff_base * 2**attempt) * self._jitter.uniform(0.5, 1.5)

    async def _attempt(self, client: httpx.AsyncClient, request: ChatRequest) -> Attempt:
        url = f"{self.base_url}/chat/completions"
        try:
            response = await asyncio.wait_for(client.post(url, json=self._body(request), headers=self._headers()), self.timeout)
        except (asyncio.TimeoutError, httpx.TimeoutException):
            return Attempt(retry_reason=f"timeout after {self.timeout:g} s")
        except httpx.TransportError as exc:
            return Attempt(retry_reason=f"connection error: {type(exc).__name__}: {exc}")
        status = response.status_code
        if status == 429 or status >= 500:
            return Attempt(retry_reason=f"HTTP {status}", retry_after=parse_retry_after(response.headers.get("retry-after")))
        if status >= 400:
            hint = f"; check the API key in ${self.api_key_env}" if status in (401, 403) else ""
            reason = f"HTTP {status} from {url}: {self._redact(response.text[:200])}{hint}"
            return Attempt(result=ChatResult.failure(reason))
        try:
            return Attempt(result=parse_completion(response.content))
        except ValueError as exc:
            return Attempt(retry_reason=str(exc))

    async def _call(self, client: httpx.AsyncClient, request: ChatRequest) -> ChatResult:
        reason = ""
        for attempt in range(self.max_retries + 1):
            outcome = await self._attempt(client, request)
            if outcome.result is not None:
                outcome.result.attempts = attempt + 1
                return outcome.result
            reason = outcome.retry_reason or ""
            if attempt < self.max_retries:
                await asyncio.sleep(self.backoff(attempt, outcome.retry_after))
        return ChatResult.failure(f"gave up after {self.max_retries + 1} attempt(s): {reason}", attempts=self.max_retries + 1)

    async def stream(self, requests: Sequence[ChatRequest]) -> AsyncIterator[tuple[int, ChatResult]]:
        # One single-connection client per in-flight call: httpcore's shared pool rescans every
        # connection on each request (quadratic at concurrency 64), a pool of one never does.
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        timeout = httpx.Timeout(self.timeout, pool=None)
        idle: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        tls = ssl.create_default_context(cafile=certifi.where())  # shared: loading CA files is slow
        clients = [httpx.AsyncClient(limits=limits, timeout=timeout, verify=tls) for _ in range(min(self.concurrency, len(requests)))]
        for client in clients:
            idle.put_nowait(client)

        async def call(request: ChatRequest) -> ChatResult:
            client = await idle.get()
            try:
                return await self._call(client, request)
            finally:
                idle.put_nowait(client)

        try:
            async for item in bounded_map(requests, call, self.concurrency):
                yield item
        finally:
            await asyncio.gather(*(client.aclose() for client in clients))
