"""Chat-format rows (the hub's ``messages``, TRL's ``prompt``/``completion``) -> one question and one path.

A row fits when it is one exchange: optional system turns, one user turn (the question) and one
assistant turn (the path). Multi-turn rows, tool calls and rows without an answer do not fit;
``single_exchange`` raises Unfit naming why, and the importer counts and reports them.

Turns may be OpenAI-style (``role``/``content``) or ShareGPT-style (``from``/``value`` with
``human``/``gpt``), and content may be a string or a list of ``{"type": "text", "text": ...}`` parts.

>>> single_exchange([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+3?"},
...                  {"role": "assistant", "content": "2+3=5. The answer is 5."}])
Exchange(question='2+3?', answer='2+3=5. The answer is 5.', system='Be brief.')
"""

from __future__ import annotations

from typing import Any, NamedTuple

ROLES = {"human": "user", "gpt": "assistant", "observation": "tool", "function_call": "tool_call", "function": "tool"}
"""ShareGPT role names -> OpenAI role names."""
TOOL_ROLES = {"tool", "tool_call", "ipython"}

MULTI_TURN = "multi_turn"
TOOL_CALL = "tool_call"
NO_ANSWER = "no_answer"
NOT_TEXT = "not_text"


class Unfit(ValueError):
    """A row that is not one user/assistant exchange; ``kind`` says why."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class Exchange(NamedTuple):
    """The question (user turn), the path (assistant turn) and the system prompt, if any."""

    question: str
    answer: str
    system: str | None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        if any(p.get("type", "text") != "text" for p in content):
            raise Unfit(NOT_TEXT, f"content parts of type {sorted({str(p.get('type')) for p in content})}")
        return "".join(str(p.get("text") or "") for p in content)
    raise Unfit(NOT_TEXT, f"content is a {type(content).__name__}")


def turns(messages: Any) -> list[tuple[str, str]]:
    """``(role, text)`` per turn, roles in OpenAI names; Unfit on tool calls or non-text content."""
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise Unfit(NOT_TEXT, f"expected a list of turns, got {type(messages).__name__}")
    out = []
    for message in messages:
        raw = str(message.get("role", message.get("from", "")))
        role = ROLES.get(raw, raw)
        if role in TOOL_ROLES or message.get("tool_calls") or message.get("function_call"):
            raise Unfit(TOOL_CALL, f"a '{raw}' turn with a tool call or result")
        out.append((role, _text(message.get("content", message.get("value")))))
    return out


def single_exchange(messages: Any, completion: Any = None) -> Exchange:
    """The one exchange of ``messages`` (last turn: the assistant's), or of a prompt + ``completion``
    pair (TRL's conversational prompt-completion: the completion is the assistant turn)."""
    chat = turns(messages)
    if completion is not None:
        chat += turns(completion)
    system = [text for role, text in chat if role in ("system", "developer")]
    rest = [(role, text) for role, text in chat if role not in ("system", "developer")]
    if not rest or rest[-1][0] != "assistant":
        raise Unfit(NO_ANSWER, f"the last turn is {rest[-1][0] if rest else 'missing'!r}, not 'assistant'")
    if [role for role, _ in rest] != ["user", "assistant"]:
        raise Unfit(MULTI_TURN, f"{len(rest)} turns ({', '.join(role for role, _ in rest)})")
    return Exchange(rest[0][1], rest[1][1], "\n\n".join(system) or None)


def prompt_completion(prompt: Any, completion: Any) -> Exchange:
    """A TRL prompt-completion row, standard (two strings) or conversational (two lists of turns)."""
    if isinstance(prompt, str) and isinstance(completion, str):
        return Exchange(prompt, completion, None)
    if isinstance(prompt, str):
        prompt = [{"role": "user", "content": prompt}]
    if isinstance(completion, str):
        completion = [{"role": "assistant", "content": completion}]
    return single_exchange(prompt, completion)
