"""The keyed JSONL call cache: durable puts, reload, torn tails, clear errors."""

from __future__ import annotations

import json

import pytest

from qrdistill.callcache import CallCache, call_key
from qrdistill.jsonl import RecordError


def test_call_key_is_order_insensitive_and_separates_samples() -> None:
    base = {"backend": "openai", "model": "m", "messages": [{"role": "user", "content": "hi"}], "sampling": {"temperature": 0.8}}
    assert call_key(**base, sample=0) == call_key(sample=0, **dict(reversed(list(base.items()))))
    assert call_key(**base, sample=0) != call_key(**base, sample=1)
    assert call_key(**base, sample=0) != call_key(**{**base, "model": "other"}, sample=0)


def test_put_is_durable_and_reloads(tmp_path) -> None:
    path = tmp_path / "cache.jsonl"
    with CallCache(path) as cache:
        cache.put("a", {"text": "one"})
        cache.put("b", {"text": "two"})
        cache.put("a", {"text": "ignored: a is finished"})
    reloaded = CallCache(path)
    assert len(reloaded) == 2 and "a" in reloaded
    assert reloaded.get("a") == {"text": "one"} and reloaded.get("missing") is None
    assert len(path.read_text().splitlines()) == 2


def test_torn_tail_is_skipped_then_cut_before_the_next_append(tmp_path) -> None:
    path = tmp_path / "cache.jsonl"
    path.write_text(json.dumps({"key": "a", "value": {"text": "one"}}) + "\n" + '{"key": "b", "val')
    cache = CallCache(path)
    assert len(cache) == 1 and "b" not in cache
    cache.put("b", {"text": "two"})
    cache.close()
    assert [json.loads(line)["key"] for line in path.read_text().splitlines()] == ["a", "b"]


def test_duplicate_keys_keep_the_first_value(tmp_path) -> None:
    path = tmp_path / "cache.jsonl"
    lines = [{"key": "a", "value": {"text": "first"}}, {"key": "a", "value": {"text": "second"}}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert CallCache(path).get("a") == {"text": "first"}


def test_a_foreign_line_names_file_and_line(tmp_path) -> None:
    path = tmp_path / "cache.jsonl"
    path.write_text(json.dumps({"key": "a", "value": {}}) + "\n" + json.dumps({"question_id": "q1"}) + "\n")
    with pytest.raises(RecordError, match=r"cache\.jsonl:2: .*'key'"):
        CallCache(path)
