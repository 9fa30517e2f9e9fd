"""The LLM judge: a rubric prompt with the path fenced by a per-path tag, strict reply parsing,
one temperature-0 re-ask for an unreadable reply, optional majority vote, cached calls.

Injection safety: the path is untrusted text. It sits between two marker lines carrying a
``nonce`` derived from a hash of the path's own text, so the text can neither close the fence
nor contain a reply the parser accepts: a reply counts only if it echoes that nonce (JSON
``"tag"`` or the ``VERDICT <nonce>:`` line). A judge that merely copies a verdict written
inside the path yields an unreadable reply, which is re-asked and then counts as unknown.

>>> judge = Judge(get_backend("openai", model="gpt-4o-mini"), load_rubric(), reply_format="json")
>>> results = judge.judge([(path, question)], CallCache("run/cache/judge.jsonl"))
>>> results[0].verdict, results[0].reason
('invalid', 'Step 2 computes 25 × 4 as 110.')
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Literal

import jinja2
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from qrdistill.backends import ChatBackend, ChatRequest, ChatResult, complete_cached
from qrdistill.callcache import CallCache
from qrdistill.records import JudgeResult, Path, Question

ReplyFormat = Literal["json", "line"]
Vote = Literal["valid", "invalid", "unknown"]

DEFAULT_RUBRIC = FsPath(__file__).with_name("rubrics") / "default.yaml"


class Rubric(BaseModel):
    """A judge prompt as data: Jinja templates for the system message, the user message and the re-ask."""

    model_config = ConfigDict(extra="forbid")

    name: str
    system: str
    user: str
    retry: str


def load_rubric(path: str | os.PathLike[str] | None = None) -> Rubric:
    """Read a rubric YAML (default: the built-in one); errors name the file and field.

    >>> load_rubric().name
    'default'
    """
    source = FsPath(path) if path is not None else DEFAULT_RUBRIC
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        return Rubric.model_validate(data)
    except FileNotFoundError:
        raise ValueError(f"{source}: rubric file not found") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ValueError(f"{source}: field '{'.'.join(map(str, err['loc']))}': {err['msg']}; "
                         f"a rubric needs name, system, user and retry (see {DEFAULT_RUBRIC})") from None


_JINJA = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


def path_nonce(path: Path, seed: int = 0) -> str:
    """The tag fencing ``path`` in the judge prompt: a hash of the seed, the path key and its text.

    A text cannot contain the hash of itself, so no path can forge its own fence or reply tag.

    >>> len(path_nonce(path))
    16
    """
    return hashlib.sha256(f"judge-fence|{seed}|{path.key}|{path.text}".encode()).hexdigest()[:16]


def judge_messages(rubric: Rubric, path: Path, question: Question | None, nonce: str,
                   reply_format: ReplyFormat, show_reference: bool = True) -> list[dict[str, str]]:
    """The system and user messages asking the judge about ``path``."""
    values = {
        "question": question.question if question is not None else "(not given)",
        "reference": question.gold if (question is not None and show_reference) else "",
        "style": path.style, "path": path.text, "nonce": nonce, "reply_format": reply_format,
    }
    if question is not None and question.context:
        values["question"] = f"{question.context}\n\n{question.question}"
    if question is not None and question.choices:
        values["question"] += "\nOptions:\n" + "\n".join(f"({chr(65 + i)}) {c}" for i, c in enumerate(question.choices))
    return [{"role": "system", "content": _JINJA.from_string(rubric.system).render(**values).strip()},
            {"role": "user", "content": _JINJA.from_string(rubric.user).render(**values).strip()}]


@dataclass(frozen=True)
class Ruling:
    """One parsed judge reply."""

    verdict: Literal["valid", "invalid"]
    reason: str


_FENCE = re.compile(r"^```(?:json)?\s*\n?(.*?)\n?```$", re.DOTALL)


def parse_reply(text: str, nonce: str, reply_format: ReplyFormat) -> Ruling | None:
    """The judge's ruling, or None when the reply is not exactly in the requested format.

    json: the whole reply (a ```json fence allowed) is one object with ``tag`` == nonce,
    ``verdict`` in valid/invalid and a string ``reason``. line: the last non-empty line is
    exactly ``VERDICT <nonce>: VALID|INVALID``; the reason is the last ``REASON:`` line before it.

    >>> parse_reply('{"tag": "ab12", "verdict": "invalid", "reason": "3 × 4 is not 13."}', "ab12", "json")
    Ruling(verdict='invalid', reason='3 × 4 is not 13.')
    """
    text = text.strip()
    if reply_format == "json":
        fenced = _FENCE.match(text)
        try:
            obj = json.loads(fenced.group(1) if fenced else text)
        except json.JSONDecodeError:
            return None
        if not isinstance(obj, dict) or obj.get("tag") != nonce or not isinstance(obj.get("reason", ""), str):
            return None
        verdict = obj.get("verdict")
        if not isinstance(verdict, str) or verdict.strip().lower() not in ("valid", "invalid"):
            return None
        return Ruling(verdict.strip().lower(), _one_line(obj.get("reason", "")))  # type: ignore[arg-type]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return None
    match = re.fullmatch(rf"VERDICT {re.escape(nonce)}:\s*(VALID|INVALID)", lines[-1], flags=re.IGNORECASE)
    if match is None:
        return None
    reasons = [ln[len("REASON:"):] for ln in lines[:-1] if ln.upper().startswith("REASON:")]
    return Ruling(match.group(1).lower(), _one_line(reasons[-1] if reasons else ""))  # type: ignore[arg-type]


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def majority(votes: Sequence[tuple[Vote, str]]) -> tuple[Vote, str]:
    """The verdict most votes agree on (ties and all-unknown give unknown), with a reason from that side.

    >>> majority([("valid", "ok"), ("invalid", "step 2 wrong"), ("invalid", "bad sum")])
    ('invalid', 'step 2 wrong')
    """
    counts = Counter(v for v, _ in votes if v != "unknown")
    if not counts or counts["valid"] == counts["invalid"]:
        reasons = [r for _, r in votes if r]
        shown = "; ".join(dict.fromkeys(reasons))[:300]
        return "unknown", shown or "no readable verdict"
    winner: Vote = "valid" if counts["valid"] > counts["invalid"] else "invalid"
    return winner, next(r for v, r in votes if v == winner)


class Judge:
    """Asks a chat backend to rule on paths with a rubric; ``votes`` samples per path."""

    def __init__(self, backend: ChatBackend, rubric: Rubric, *, reply_format: ReplyFormat = "json", votes: int = 1,
                 temperature: float | None = None, max_tokens: int = 512, seed: int = 0, show_reference: bool = True) -> None:
        if votes < 1:
            raise ValueError(f"votes must be >= 1, got {votes}")
        self.backend, self.rubric, self.reply_format = backend, rubric, reply_format
        self.votes, self.max_tokens, self.seed, self.show_reference = votes, max_tokens, seed, show_reference
        self.temperature = temperature if temperature is not None else (0.0 if votes == 1 else 0.7)

    def _run(self, requests: list[ChatRequest], cache: CallCache | None, tick: Callable[[], None] | None) -> list[ChatResult]:
        on_result = (lambda _i, _r: tick()) if tick is not None else None
        if cache is None:
            results = self.backend.complete(requests)
            if tick is not None:
                for _ in results:
                    tick()
            return results
        return complete_cached(self.backend, requests, cache, on_result)

    def judge(self, items: Sequence[tuple[Path, Question | None]], cache: CallCache | None = None,
              tick: Callable[[], None] | None = None) -> list[JudgeResult]:
        """One JudgeResult per ``(path, question)``; ``tick`` is called once per finished first-round call."""
        nonces = [path_nonce(p, self.seed) for p, _ in items]
        base = [judge_messages(self.rubric, p, q, n, self.reply_format, self.show_reference) for (p, q), n in zip(items, nonces)]
        slots = [(i, v) for i in range(len(items)) for v in range(self.votes)]
        first = self._run([ChatRequest(messages=base[i], temperature=self.temperature, max_tokens=self.max_tokens,
                                       seed=self.seed + v, sample=v) for i, v in slots], cache, tick)
        first_of = dict(zip(slots, first))
        votes: dict[tuple[int, int], tuple[Vote, str]] = {}
        again: list[tuple[int, int]] = []
        for slot, result in zip(slots, first):
            if not result.ok:
                votes[slot] = ("unknown", f"judge call failed: {result.error}")
                continue
            ruling = parse_reply(result.text, nonces[slot[0]], self.reply_format)
            if ruling is None:
                again.append(slot)
            else:
                votes[slot] = (ruling.verdict, ruling.reason)
        retry_requests = []
        for i, v in again:
            retry_text = _JINJA.from_string(self.rubric.retry).render(nonce=nonces[i], reply_format=self.reply_format).strip()
            messages = base[i] + [{"role": "assistant", "content": first_of[(i, v)].text}, {"role": "user", "content": retry_text}]
            retry_requests.append(ChatRequest(messages=messages, temperature=0.0, max_tokens=self.max_tokens, seed=self.seed, sample=v))
        for slot, result in zip(again, self._run(retry_requests, cache, None) if retry_requests else []):
            ruling = parse_reply(result.text, nonces[slot[0]], self.reply_format) if result.ok else None
            if ruling is not None:
                votes[slot] = (ruling.verdict, ruling.reason)
            elif result.ok:
                votes[slot] = ("unknown", f"unreadable reply twice: {_one_line(result.text, 120)!r}")
            else:
                votes[slot] = ("unknown", f"judge call failed: {result.error}")
        out = []
        for i in range(len(items)):
            mine = [votes[(i, v)] for v in range(self.votes)]
            verdict, reason = majority(mine)
            out.append(JudgeResult(verdict=verdict, reason=reason, model=self.backend.model, votes=[v for v, _ in mine]))
        return out
