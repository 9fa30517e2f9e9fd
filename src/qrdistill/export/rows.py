"""One exported row per path, in the column layout each trainer documents (pure functions).

| format                   | for            | columns                                                        |
|--------------------------|----------------|----------------------------------------------------------------|
| `messages`               | TRL            | `messages`: user turn (task prompt), assistant turn (path)     |
| `prompt-completion`      | TRL (standard) | `prompt`: task prompt + newline (our plain format), `completion` |
| `chat-prompt-completion` | TRL (conversational) | `prompt`: [user turn], `completion`: [assistant turn]    |
| `sharegpt`               | LLaMA-Factory  | `conversations`: [{from: human}, {from: gpt}]                  |
| `alpaca`                 | LLaMA-Factory  | `instruction`, `input` (empty), `output`                       |

Every row also carries the path's provenance: ``question_id``, ``task``, ``teacher``, ``style``,
``sample``, ``answer``, ``gold`` and ``verdict`` (``kept``, ``answer_correct``, ``reason``, ``judge``,
``verifiers``).

>>> export_row("alpaca", "2+3?", "2+3?\\n", path, gold="5")["output"] == path.text
True
"""

from __future__ import annotations

from typing import Any

from qrdistill.records import Path

TRL_FORMATS = ("messages", "prompt-completion", "chat-prompt-completion")
LLAMA_FACTORY_FORMATS = ("sharegpt", "alpaca")
FORMATS = TRL_FORMATS + LLAMA_FACTORY_FORMATS


def _turn(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def provenance(path: Path, gold: str) -> dict[str, Any]:
    """Where the row came from and what the filter decided about it."""
    verdict = None
    if path.verdict is not None:
        v = path.verdict
        verdict = {
            "kept": v.kept,
            "answer_correct": v.answer_correct,
            "reason": v.reason,
            "judge": v.judge.verdict if v.judge is not None else None,
            "verifiers": [{"name": r.name, "passed": r.passed} for r in v.verifiers],
        }
    return {"question_id": path.question_id, "task": path.task, "teacher": path.teacher, "style": path.style,
            "sample": path.sample, "answer": path.answer, "gold": gold, "verdict": verdict}


def export_row(fmt: str, prompt: str, plain_prompt: str, path: Path, gold: str) -> dict[str, Any]:
    """The row of ``path`` in ``fmt``: ``prompt`` is the task prompt students are trained on,
    ``plain_prompt`` the text a student without a chat template sees before its answer."""
    text = path.text
    if fmt == "messages":
        body: dict[str, Any] = {"messages": [_turn("user", prompt), _turn("assistant", text)]}
    elif fmt == "prompt-completion":
        body = {"prompt": plain_prompt, "completion": text}
    elif fmt == "chat-prompt-completion":
        body = {"prompt": [_turn("user", prompt)], "completion": [_turn("assistant", text)]}
    elif fmt == "sharegpt":
        body = {"conversations": [{"from": "human", "value": prompt}, {"from": "gpt", "value": text}]}
    elif fmt == "alpaca":
        body = {"instruction": prompt, "input": "", "output": text}
    else:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    return {**body, **provenance(path, gold)}


def dataset_info_entry(fmt: str, file_name: str) -> dict[str, Any]:
    """LLaMA-Factory's ``dataset_info.json`` entry for a file of ``fmt`` rows (its data/README.md)."""
    if fmt == "sharegpt":
        return {
            "file_name": file_name,
            "formatting": "sharegpt",
            "columns": {"messages": "conversations"},
            "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"},
        }
    if fmt == "alpaca":
        return {"file_name": file_name, "columns": {"prompt": "instruction", "query": "input", "response": "output"}}
    raise ValueError(f"{fmt!r} is not a LLaMA-Factory format ({', '.join(LLAMA_FACTORY_FORMATS)})")
