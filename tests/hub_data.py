"""Small hub-format reasoning datasets the tests write themselves (no download, ever).

``cache_as_hub_download`` leaves a dataset where ``datasets.load_dataset("owner/name")`` put it
after a real download (``$HF_DATASETS_CACHE/owner___name/default/0.0.0/<revision>/``), prepared by
the same Parquet builder a hub download uses, so that offline loading takes its real path.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path as FsPath

import datasets
from datasets.packaged_modules.parquet.parquet import Parquet

QUESTIONS = [(3 + 7 * i, 11 + 5 * i) for i in range(6)]
"""(a, b) of each GSM8K-style question: "Tom has a apples and buys b more..."."""


def question_text(a: int, b: int) -> str:
    return f"Tom has {a} apples and buys {b} more. How many apples does he have?"


def trace(a: int, b: int, answer: int | None = None) -> str:
    """A teacher's reasoning path; ``answer`` states a wrong one."""
    total = a + b if answer is None else answer
    return f"He starts with {a} apples and buys {b}: {a} + {b} = {total}. The answer is \\boxed{{{total}}}."


def write_gold(path: FsPath) -> FsPath:
    """The questions in GSM8K's public format (``#### N`` ends the answer)."""
    lines = [json.dumps({"question": question_text(a, b), "answer": f"{a}+{b}={a + b}\n#### {a + b}"}) for a, b in QUESTIONS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def message_rows() -> list[dict]:
    """One ``messages`` row per question (two teachers, the last one wrong), plus rows that do not fit:
    a multi-turn conversation and a tool call."""
    rows = []
    for i, (a, b) in enumerate(QUESTIONS):
        wrong = i == len(QUESTIONS) - 1
        rows.append({
            "messages": [
                {"role": "system", "content": "You are a careful math tutor."},
                {"role": "user", "content": question_text(a, b)},
                {"role": "assistant", "content": trace(a, b, answer=a + b + 1 if wrong else None)},
            ],
            "model": "teacher-a" if i % 2 == 0 else "teacher-b",
        })
    a, b = QUESTIONS[0]
    rows.append({"messages": [
        {"role": "user", "content": question_text(a, b)}, {"role": "assistant", "content": "Let me think."},
        {"role": "user", "content": "Go on."}, {"role": "assistant", "content": trace(a, b)}], "model": "teacher-a"})
    rows.append({"messages": [
        {"role": "user", "content": question_text(a, b)},
        {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "add", "arguments": "{}"}}]},
        {"role": "tool", "content": str(a + b)}, {"role": "assistant", "content": trace(a, b)}], "model": "teacher-b"})
    return rows


def messages_dataset() -> datasets.Dataset:
    """``message_rows`` as a Dataset; every message carries ``tool_calls`` (null when none), as on the hub."""
    rows = message_rows()
    for row in rows:
        for message in row["messages"]:
            message.setdefault("tool_calls", None)
    return datasets.Dataset.from_list(rows)


def cache_as_hub_download(data: datasets.Dataset, repo_id: str, cache_dir: FsPath, work: FsPath) -> None:
    """Put ``data`` (its train split) where an online ``load_dataset(repo_id)`` caches it."""
    parquet = work / "train-00000-of-00001.parquet"
    data.to_parquet(str(parquet))
    builder = Parquet(dataset_name=repo_id.split("/")[-1], data_files={"train": [str(parquet)]}, cache_dir=str(work / "build"))
    builder.download_and_prepare()
    owner, name = repo_id.split("/")
    shutil.copytree(builder.cache_dir, cache_dir / f"{owner}___{name}" / "default" / "0.0.0" / "0123456789abcdef")
