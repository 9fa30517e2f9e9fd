"""The generate stage: one Path record per (question, style, sample) from a teacher backend.

Every finished call goes to the call cache at once (the durable progress); the output file
is written atomically at the end from the cache plus this run's failures, in plan order, so
a run killed at any moment and started again ends with every path exactly once.

>>> settings = GenerateSettings(teacher="openai", model="Qwen/Qwen2.5-7B-Instruct",
...                             base_url="http://localhost:8000/v1", styles=["cot", "program"])
>>> paths = generate_paths(questions, get_task("gsm8k"), settings, "run/paths.jsonl", "run/cache/generate.jsonl")
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from rich.console import Console

from qrdistill.backends import BACKENDS, DEFAULT_ABORT_AFTER, ChatBackend, ChatRequest, ChatResult, complete_cached, get_backend
from qrdistill.callcache import CallCache
from qrdistill.dedupe import report_dropped, unique_questions
from qrdistill.errors import UsageError
from qrdistill.jsonl import read_records, read_text_utf8, write_records
from qrdistill.records import Path, Question
from qrdistill.tasks.base import Task
from qrdistill.teacher.progress import CallProgress, print_summary, summarize
from qrdistill.teacher.styles import PAPER_STYLES, Style, load_styles, render_messages, select_styles


class GenerateSettings(BaseModel):
    """Settings of the generate stage (the ``generate:`` block of a run config, and the CLI flags)."""

    model_config = ConfigDict(extra="forbid")

    teacher: str = "synthetic"
    """Backend name: openai, hf, vllm or synthetic."""
    model: str | None = None
    base_url: str | None = None
    styles: list[str] = Field(default_factory=lambda: list(PAPER_STYLES))
    samples_per_style: int = Field(1, ge=1)
    temperature: float = Field(0.8, ge=0.0)
    max_tokens: int = Field(1024, ge=1)
    concurrency: int = Field(16, ge=1)
    max_retries: int = Field(5, ge=0)
    abort_after: int = Field(DEFAULT_ABORT_AFTER, ge=0)
    """Stop the stage after this many calls in a row failed (0: never); finished calls stay cached."""
    timeout: float = Field(120.0, gt=0.0)
    seed: int = 0
    flaw_rates: dict[str, float] = Field(default_factory=dict)
    """Synthetic teacher only: rate of each injected flaw (see qrdistill.synthetic.teacher.FlawRates)."""
    api_key_env: str = "OPENAI_API_KEY"
    """Name of the environment variable that holds the API key (the key itself is never stored)."""
    styles_file: str | None = None
    batch_size: int = Field(8, ge=1)
    backend_options: dict[str, Any] = Field(default_factory=dict)
    """Extra keyword options for the backend, e.g. ``{"extra_body": {"top_p": 0.95}}`` (openai)."""

    @field_validator("teacher")
    @classmethod
    def _known_teacher(cls, value: str) -> str:
        if value not in BACKENDS:
            raise ValueError(f"unknown teacher backend {value!r}; choose one of {', '.join(BACKENDS)}")
        return value

    def make_backend(self) -> ChatBackend:
        """The backend these settings describe."""
        options: dict[str, Any] = {}
        if self.teacher == "openai":
            options = {
                "concurrency": self.concurrency,
                "max_retries": self.max_retries,
                "timeout": self.timeout,
                "api_key_env": self.api_key_env,
                "seed": self.seed,
            }
        elif self.teacher == "hf":
            options = {"batch_size": self.batch_size}
        elif self.teacher == "synthetic":
            options = {"flaw_rates": self.flaw_rates, "seed": self.seed}
        return get_backend(self.teacher, model=self.model, base_url=self.base_url, **options, **self.backend_options)


def derive_seed(seed: int, *parts: object) -> int:
    """A per-call seed in [0, 2**31) from the run seed and the call's identity.

    >>> derive_seed(0, "q1", "cot", 0) == derive_seed(0, "q1", "cot", 0)
    True
    """
    digest = hashlib.sha256(json.dumps([seed, *map(str, parts)]).encode()).digest()
    return int.from_bytes(digest[:4], "big") % 2**31


def load_questions(path: str | os.PathLike[str], task: Task, console: Console | None = None) -> list[Question]:
    """Questions from Question JSONL (our format) or else from the task's original format; identical
    repeats are dropped (with a note), an id repeated with different contents is refused.

    >>> load_questions("gsm8k/test.jsonl", get_task("gsm8k"))[0].id
    """
    path = FsPath(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: questions file not found")
    first = next((line for line in read_text_utf8(path).splitlines() if line.strip()), "")
    try:
        head = json.loads(first)
    except json.JSONDecodeError:
        head = None
    is_ours = isinstance(head, dict) and {"id", "task", "question", "gold"} <= set(head)
    questions, dropped = unique_questions(read_records(path, Question) if is_ours else task.load(path), str(path))
    report_dropped(console or Console(stderr=True), dropped, "questions", str(path))
    others = sorted({q.task for q in questions} - {task.name})
    if others:
        raise UsageError(f"{path}: holds questions of task(s) {', '.join(others)}, not {task.name}; "
                         f"give --task {others[0]} or the {task.name} questions file")
    return questions


def plan_requests(
    questions: list[Question], task: Task, styles: list[Style], settings: GenerateSettings
) -> list[tuple[Question, Style, ChatRequest]]:
    """One request per (question, style, sample), in output order."""
    plan = []
    for q in questions:
        for style in styles:
            messages = render_messages(style, task, q)
            for sample in range(settings.samples_per_style):
                request = ChatRequest(
                    messages=messages,
                    temperature=settings.temperature,
                    max_tokens=settings.max_tokens,
                    seed=derive_seed(settings.seed, q.id, style.name, sample),
                    sample=sample,
                    question=q,
                    style=style.name,
                )
                plan.append((q, style, request))
    return plan


def to_path(question: Question, style: Style, request: ChatRequest, result: ChatResult, task: Task, backend: ChatBackend) -> Path:
    """The Path record of one finished or failed call, with its answer checked."""
    ok = result.ok
    meta = dict(result.meta)
    if request.messages[0]["role"] == "system":
        meta["system"] = request.messages[0]["content"]
    return Path(
        question_id=question.id,
        task=task.name,
        style=style.name,
        sample=request.sample,
        teacher=backend.model,
        backend=backend.name,
        prompt=request.messages[-1]["content"],
        text=result.text,
        answer=task.extract(result.text, question) if ok else None,
        correct=task.is_correct(result.text, question.gold, question) if ok else None,
        status="ok" if ok else "failed",
        error=result.error,
        usage=result.usage,
        meta=meta,
    )


def drop_repeated_texts(paths: list[Path], console: Console) -> list[Path]:
    """Drop a path whose text repeats an earlier sample of its (question, style) word for word, with
    a count; warn when a teacher answered every sample of a (question, style) identically (a server
    that ignores temperature or seed makes the extra samples worthless).

    >>> drop_repeated_texts(paths, Console(stderr=True))
    """
    seen: dict[tuple[str, str, str], set[str]] = {}
    samples: Counter[tuple[str, str, str]] = Counter()
    kept = []
    for path in paths:
        group = (path.question_id, path.style, path.teacher)
        texts = seen.setdefault(group, set())
        samples[group] += path.status == "ok"
        if path.status == "ok" and path.text in texts:
            continue
        if path.status == "ok":
            texts.add(path.text)
        kept.append(path)
    all_same = {group for group, n in samples.items() if n > 1 and len(seen[group]) == 1}
    if all_same:
        groups = sum(n > 1 for n in samples.values())
        qid, style, teacher = sorted(all_same)[0]
        console.print(f"[yellow]warning:[/yellow] the teacher returned one identical text for every sample of "
                      f"{len(all_same)} of {groups} (question, style) pairs, e.g. {qid} / {style} ({teacher}); check that "
                      "the server honours temperature and seed")
    if len(kept) < len(paths):
        console.print(f"[yellow]note:[/yellow] dropped {len(paths) - len(kept)} paths whose text repeats another "
                      "sample of the same question and style word for word")
    return kept


def generate_paths(
    questions: list[Question],
    task: Task,
    settings: GenerateSettings,
    out_path: str | os.PathLike[str],
    cache_path: str | os.PathLike[str],
    *,
    backend: ChatBackend | None = None,
    console: Console | None = None,
) -> list[Path]:
    """Generate, check and write one Path per (question, style, sample); resume from the cache.

    ``backend`` overrides the one ``settings`` describes (e.g. one built with custom options).
    """
    console = console or Console(stderr=True)
    backend = backend or settings.make_backend()
    styles = select_styles(load_styles(settings.styles_file), settings.styles)
    plan = plan_requests(questions, task, styles, settings)
    requests = [request for _, _, request in plan]
    with CallCache(cache_path) as cache, CallProgress(console, len(requests), f"{backend.name}:{backend.model}") as progress:
        results = complete_cached(backend, requests, cache, on_result=lambda _, r: progress.advance(r),
                                  abort_after=settings.abort_after)
    paths = drop_repeated_texts([to_path(q, style, request, result, task, backend) for (q, style, request), result
                                 in zip(plan, results)], console)
    write_records(out_path, paths)
    print_summary(console, summarize(paths), progress.cached, out_path)
    return paths
