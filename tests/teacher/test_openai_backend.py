"""The openai backend against a real HTTP server on 127.0.0.1 that injects faults."""

from __future__ import annotations

import time

import pytest
from openai_server import Call, OpenAIServer, Reply
from sum_task import answer_for, make_questions

from qrdistill.backends import ChatRequest, get_backend
from qrdistill.backends.openai_compat import parse_completion, parse_retry_after


def requests_for(n: int) -> list[ChatRequest]:
    return [ChatRequest(messages=[{"role": "user", "content": q.question}], temperature=0.8, max_tokens=32, seed=i) for i, q in enumerate(make_questions(n))]


def backend_for(server: OpenAIServer, **options):
    options = {"concurrency": 8, "max_retries": 4, "timeout": 2.0, "backoff_base": 0.01, **options}
    return get_backend("openai", model="test-model", base_url=server.base_url, **options)


def test_every_request_is_answered_once_with_its_own_content(sum_server) -> None:
    requests = requests_for(40)
    results = backend_for(sum_server).complete(requests)
    assert [r.text for r in results] == [answer_for(r.messages[0]["content"]) for r in requests]
    assert all(r.ok and r.attempts == 1 for r in results)
    assert results[0].usage == {"prompt_tokens": 10, "completion_tokens": len(results[0].text.split()), "total_tokens": 10 + len(results[0].text.split())}
    assert sum_server.count == 40
    sent = sum_server.calls[0].body
    assert sent["model"] == "test-model" and sent["temperature"] == 0.8 and sent["max_tokens"] == 32 and "seed" in sent


def test_extra_body_and_max_tokens_field_reach_the_server(sum_server) -> None:
    backend = backend_for(sum_server, extra_body={"top_p": 0.9}, max_tokens_field="max_completion_tokens")
    backend.complete(requests_for(1))
    body = sum_server.calls[0].body
    assert body["top_p"] == 0.9 and body["max_completion_tokens"] == 32 and "max_tokens" not in body


def test_concurrency_limit_is_reached_and_never_exceeded() -> None:
    with OpenAIServer(lambda call: Reply.ok(answer_for(call.prompt), delay=0.05)) as server:
        backend_for(server, concurrency=5).complete(requests_for(30))
        assert server.max_in_flight == 5


FAULTS = {
    "429": lambda: Reply.error(429, retry_after=0.3),
    "500": lambda: Reply.error(500),
    "503": lambda: Reply.error(503),
    "slow": lambda: Reply.ok("late answer", delay=3.0),
    "dropped": lambda: Reply.dropped(),
    "not json": lambda: Reply.raw(b"{not json"),
    "no choices": lambda: Reply.raw(b'{"choices": []}'),
    "no content": lambda: Reply.raw(b'{"choices": [{"message": {"role": "assistant"}}]}'),
}


def test_every_fault_is_retried_until_the_right_answer_arrives() -> None:
    """Each prompt meets one kind of fault on its first try (two for some), then succeeds."""
    kinds = list(FAULTS)
    requests = requests_for(2 * len(kinds))
    fault_of = {r.messages[0]["content"]: kinds[i % len(kinds)] for i, r in enumerate(requests)}
    first_tries = 2  # faults on attempts 1 and 2, success on 3

    def responder(call: Call) -> Reply:
        if call.attempt <= first_tries:
            return FAULTS[fault_of[call.prompt]]()
        return Reply.ok(answer_for(call.prompt))

    with OpenAIServer(responder) as server:
        started = time.monotonic()
        results = backend_for(server, timeout=0.5, concurrency=16).complete(requests)
        elapsed = time.monotonic() - started
        assert [r.text for r in results] == [answer_for(r.messages[0]["content"]) for r in requests]
        assert all(r.attempts == first_tries + 1 for r in results)
        assert server.count == len(requests) * (first_tries + 1)
        # Retry-After (0.3 s, twice) was honoured although the exponential backoff is ~0.01 s
        tries_429 = sorted(c.number for c in server.calls if fault_of[c.prompt] == "429")
        assert elapsed >= 0.6 and len(tries_429) == 2 * (first_tries + 1)


def test_retry_after_delays_the_next_attempt() -> None:
    def responder(call: Call) -> Reply:
        return Reply.error(429, retry_after=0.4) if call.attempt == 1 else Reply.ok("fine")

    with OpenAIServer(responder) as server:
        stamps: list[float] = []
        original = server.responder
        server.responder = lambda call: (stamps.append(time.monotonic()), original(call))[1]
        assert backend_for(server).complete(requests_for(1))[0].text == "fine"
        assert stamps[1] - stamps[0] >= 0.4


def test_persistent_malformed_answers_become_a_failure_with_the_reason() -> None:
    with OpenAIServer(lambda call: Reply.raw(b'{"choices": [{"message": {}}]}')) as server:
        result = backend_for(server, max_retries=2).complete(requests_for(1))[0]
        assert not result.ok and result.attempts == 3 and server.count == 3
        assert result.error == "gave up after 3 attempt(s): malformed response: missing 'choices[0].message.content'"


def test_client_errors_are_not_retried() -> None:
    with OpenAIServer(lambda call: Reply.error(400)) as server:
        result = backend_for(server).complete(requests_for(1))[0]
        assert not result.ok and server.count == 1 and result.error.startswith("HTTP 400 from ")


def test_timeouts_and_drops_give_up_after_max_retries() -> None:
    with OpenAIServer(lambda call: Reply.dropped() if call.number % 2 else Reply.ok("x", delay=1.0)) as server:
        result = backend_for(server, max_retries=3, timeout=0.2).complete(requests_for(1))[0]
        assert not result.ok and server.count == 4
        assert result.error.startswith("gave up after 4 attempt(s): timeout after 0.2 s")


def test_api_key_comes_from_the_named_env_var_and_is_redacted(monkeypatch) -> None:
    secret = "sk-test-SECRET-123456"
    monkeypatch.setenv("MY_TEACHER_KEY", secret)

    def responder(call: Call) -> Reply:
        if call.headers.get("authorization") != f"Bearer {secret}":
            return Reply.error(401)
        return Reply(status=403, body=f'{{"error": "key {secret} has no access"}}'.encode())

    with OpenAIServer(responder) as server:
        result = backend_for(server, api_key_env="MY_TEACHER_KEY").complete(requests_for(1))[0]
        assert result.error.startswith("HTTP 403") and "***" in result.error and secret not in result.error
        assert "$MY_TEACHER_KEY" in result.error


def test_no_key_sends_no_authorization_header(sum_server, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    backend_for(sum_server).complete(requests_for(1))
    assert "authorization" not in sum_server.calls[0].headers


def test_parse_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"[]", "expected a JSON object"), (b'{"choices": "x"}', "missing 'choices'"), (b"\xff", "not JSON")],
)
def test_parse_completion_names_what_is_malformed(body: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_completion(body)
