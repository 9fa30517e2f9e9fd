"""A real OpenAI-compatible chat server on 127.0.0.1 for tests and benchmarks, with fault injection.

It speaks HTTP/1.1 (keep-alive) over asyncio streams in a background thread, so a test can
script every reply, including the failures a client must survive: 429 with Retry-After, 5xx,
slow answers, dropped connections and malformed JSON.

    def responder(call: Call) -> Reply:
        if call.attempt == 1:                       # first try of each call
            return Reply.error(429, retry_after=0.05)
        return Reply.ok("The answer is 4.")

    with OpenAIServer(responder) as server:
        backend = OpenAIBackend(model="m", base_url=server.base_url)
        ...
        assert server.count == 2

Standalone (benchmarks): ``python tests/openai_server.py --latency 0.2`` prints ``PORT <n>``
and answers every request after a fixed delay.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    """One request as the server saw it."""

    number: int
    """1-based arrival order over the server's life."""
    attempt: int
    """1-based count of requests so far with the same body (retries of one call)."""
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def prompt(self) -> str:
        """The content of the last message."""
        return str(self.body.get("messages", [{}])[-1].get("content", ""))


@dataclass(frozen=True)
class Reply:
    """What the server does with one request."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (or before dropping)."""
    drop: bool = False
    """Close the connection without any response."""

    @classmethod
    def ok(cls, content: str, *, model: str = "test-model", delay: float = 0.0, prompt_tokens: int = 10) -> Reply:
        """A well-formed chat completion whose usage counts words as tokens."""
        completion_tokens = len(content.split())
        payload = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens},
        }
        return cls(body=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, delay=delay)

    @classmethod
    def error(cls, status: int, *, retry_after: float | str | None = None, delay: float = 0.0) -> Reply:
        """An HTTP error, optionally with a Retry-After header."""
        headers = {"Content-Type": "application/json"}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return cls(status=status, body=json.dumps({"error": {"message": f"injected {status}"}}).encode(), headers=headers, delay=delay)

    @classmethod
    def raw(cls, body: bytes, *, status: int = 200) -> Reply:
        """A 200 response with an arbitrary (e.g. malformed) body."""
        return cls(status=status, body=body, headers={"Content-Type": "application/json"})

    @classmethod
    def dropped(cls, *, delay: float = 0.0) -> Reply:
        """Close the connection without answering."""
        return cls(drop=True, delay=delay)


Responder = Callable[[Call], Reply]

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def echo_responder(call: Call) -> Reply:
    """Answer every request with its own prompt."""
    return Reply.ok(f"echo: {call.prompt}")


class OpenAIServer:
    """The server; use as a context manager. ``calls`` lists every request received;
    ``max_in_flight`` is the most requests it held at once (to check a client's concurrency)."""

    def __init__(self, responder: Responder = echo_responder, host: str = "127.0.0.1", port: int = 0) -> None:
        self.responder = responder
        self.host = host
        self.port = port
        self.calls: list[Call] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._attempts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def base_url(self) -> str:
        """The URL a client passes as base_url (ends in /v1)."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def count(self) -> int:
        """Number of requests received so far."""
        with self._lock:
            return len(self.calls)

    def _record(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> Call:
        with self._lock:
            key = json.dumps(body, sort_keys=True)
            self._attempts[key] += 1
            call = Call(number=len(self.calls) + 1, attempt=self._attempts[key], path=path, headers=headers, body=body)
            self.calls.append(call)
            return call

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                _method, path, _version = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
                raw = await reader.readexactly(int(headers.get("content-length", "0")))
                try:
                    body = json.loads(raw) if raw else {}
                except json.JSONDecodeError:
                    body = {}
                reply = self.responder(self._record(path, headers, body))
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    if reply.delay:
                        await asyncio.sleep(reply.delay)
                finally:
                    self.in_flight -= 1
                if reply.drop:
                    writer.transport.abort()
                    return
                status_line = f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}\r\n"
                out_headers = {**reply.headers, "Content-Length": str(len(reply.body)), "Connection": "keep-alive"}
                writer.write((status_line + "".join(f"{k}: {v}\r\n" for k, v in out_headers.items()) + "\r\n").encode() + reply.body)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._handle, self.host, self.port, backlog=1024)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stopping.wait()
        server.close()  # asyncio.run then cancels the open connections' handlers

    def _run(self) -> None:
        asyncio.run(self._serve())

    def start(self) -> OpenAIServer:
        """Start serving in a daemon thread; returns once the port is bound."""
        self._thread = threading.Thread(target=self._run, name="openai-test-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("test OpenAI server did not start within 10 s")
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(10)

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """Serve with a fixed latency until killed; print the port first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds before each answer")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = OpenAIServer(lambda call: Reply.ok(f"echo: {call.prompt[:40]}", delay=args.latency), port=args.port).start()
    print(f"PORT {server.port}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
