"""The filter loop: answer check → deterministic verifiers → LLM judge → kept, one Verdict per path.

Nothing is deleted: every path is written to ``out_path`` with its Verdict (and the reason a
dropped path was dropped); ``kept_path`` holds the kept paths only, which is what training reads.
The judge only sees paths that passed the answer check and every verifier (fewer calls), and
its calls go through the shared call cache, so a rerun resumes where the last one stopped.

>>> settings = FilterSettings(verifiers=["program", "arithmetic"], judge="none")
>>> filtered = filter_paths(paths, questions, settings, "run/filtered.jsonl", "run/kept.jsonl")
>>> sum(p.verdict.kept for p in filtered)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from qrdistill.callcache import CallCache
from qrdistill.dedupe import report_dropped, unique_paths, unique_questions
from qrdistill.jsonl import write_records
from qrdistill.quality.arithmetic import verify_arithmetic
from qrdistill.quality.funnel import funnel, print_funnel
from qrdistill.quality.judge import Judge, ReplyFormat, load_rubric
from qrdistill.quality.program import verify_program
from qrdistill.quality.sandbox import SandboxLimits
from qrdistill.records import JudgeResult, Path, Question, Verdict, VerifierResult
from qrdistill.tasks import get_task
from qrdistill.tasks.base import Task

VERIFIERS = ("program", "arithmetic")
JUDGES = ("openai", "hf", "vllm", "none")


class FilterSettings(BaseModel):
    """Every setting of the filter stage (the same names as ``qrdistill filter`` flags and the run config).

    >>> FilterSettings(verifiers=["arithmetic"], judge="openai", model="gpt-4o-mini", votes=3)
    """

    model_config = ConfigDict(extra="forbid")

    verifiers: list[str] = Field(default_factory=lambda: list(VERIFIERS))
    judge: Literal["openai", "hf", "vllm", "none"] = "none"
    model: str | None = None
    base_url: str | None = None
    judge_options: dict[str, Any] = Field(default_factory=dict)
    """Extra keyword settings of the judge backend (e.g. concurrency, max_retries, timeout, batch_size)."""
    rubric: str | None = None
    """A rubric YAML; None uses the built-in ``quality/rubrics/default.yaml``."""
    reply_format: Literal["auto", "json", "line"] = "auto"
    """auto: JSON with response_format for the openai backend, a final verdict line for hf/vllm."""
    on_unknown: Literal["reject", "keep"] = "reject"
    votes: int = Field(1, ge=1)
    judge_temperature: float | None = None
    """None: 0 for one vote, 0.7 when voting."""
    judge_max_tokens: int = Field(512, ge=16)
    show_reference: bool = True
    """Show the gold answer to the judge."""
    program_wall_s: float = Field(10.0, gt=0)
    program_cpu_s: int = Field(5, ge=1)
    program_memory_mb: int = Field(512, ge=64)
    program_output_bytes: int = Field(64_000, ge=1024)
    keep_unverifiable_programs: bool = False
    """Keep Program paths whose code could not be verified (no code, a module the sandbox lacks, no
    sandbox on this machine) instead of dropping them; forbidden or failing code is dropped either way."""
    workers: int = Field(min(4, os.cpu_count() or 1), ge=1)
    """Sandboxed programs run at once."""
    seed: int = 0

    @field_validator("verifiers", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip() and v.strip() != "none"]
        unknown = [v for v in value if v not in VERIFIERS]
        if unknown:
            raise ValueError(f"unknown verifier(s) {unknown}; choose from {', '.join(VERIFIERS)} (or 'none')")
        return value

    def limits(self) -> SandboxLimits:
        """The sandbox limits for Program paths."""
        return SandboxLimits(wall_s=self.program_wall_s, cpu_s=self.program_cpu_s, memory_mb=self.program_memory_mb,
                             output_bytes=self.program_output_bytes)

    def make_judge(self) -> Judge | None:
        """The configured LLM judge, or None for ``judge='none'``."""
        if self.judge == "none":
            return None
        from qrdistill.backends import get_backend

        reply: ReplyFormat = ("json" if self.judge == "openai" else "line") if self.reply_format == "auto" else self.reply_format
        options = dict(self.judge_options)
        if self.judge == "openai" and reply == "json":
            options["extra_body"] = {"response_format": {"type": "json_object"}, **options.get("extra_body", {})}
        backend = get_backend(self.judge, model=self.model, base_url=self.base_url, **options)
        return Judge(backend, load_rubric(self.rubric), reply_format=reply, votes=self.votes, temperature=self.judge_temperature,
                     max_tokens=self.judge_max_tokens, seed=self.seed, show_reference=self.show_reference)


def answer_check(path: Path, question: Question | None, task: Task) -> tuple[bool, str]:
    """(correct, why not): the task's checker against the gold answer, or the path's own ``correct``."""
    if question is not None:
        if task.is_correct(path.text, question.gold, question):
            return True, ""
        return False, f"wrong answer: extracted {task.extract(path.text, question)!r}, gold {question.gold!r}"
    if path.correct is None:
        raise ValueError(f"path {path.key}: no gold answer to check it against; pass --questions with its Question records")
    return path.correct, "" if path.correct else f"wrong answer: extracted {path.answer!r} (marked incorrect at generation)"


def run_verifiers(path: Path, question: Question | None, task: Task, names: Sequence[str], limits: SandboxLimits,
                  keep_unverifiable: bool = False) -> list[VerifierResult]:
    """Each named verifier's result on one path, in the order named."""
    results = []
    for name in names:
        if name == "program":
            results.append(verify_program(path, question, task, limits, keep_unverifiable))
        else:
            results.append(verify_arithmetic(path.text))
    return results


def decide(answer_ok: bool, answer_why: str, verifiers: list[VerifierResult], judge: JudgeResult | None,
           on_unknown: str) -> Verdict:
    """The final Verdict from every signal; the reason names the first stage that dropped the path."""
    reason = answer_why if not answer_ok else ""
    if not reason:
        failed = next((v for v in verifiers if v.passed is False), None)
        if failed is not None:
            reason = f"verifier {failed.name}: {failed.detail}"
    if not reason and judge is not None:
        if judge.verdict == "invalid":
            reason = f"judge: invalid: {judge.reason}"
        elif judge.verdict == "unknown" and on_unknown == "reject":
            reason = f"judge: unknown ({judge.reason}); --on-unknown reject"
    return Verdict(answer_correct=answer_ok, verifiers=verifiers, judge=judge, kept=not reason, reason=reason)


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


def filter_paths(paths: Sequence[Path], questions: Sequence[Question], settings: FilterSettings,
                 out_path: str | os.PathLike[str], kept_path: str | os.PathLike[str] | None = None,
                 cache_path: str | os.PathLike[str] | None = None, console: Console | None = None) -> list[Path]:
    """Set ``Path.verdict`` on every path, write them all to ``out_path`` (and the kept ones to
    ``kept_path``) and return them. Failed generations are dropped with their error as reason.
    Identical repeated paths or questions are dropped with a note; an id or key repeated with
    different contents is a ValueError.

    >>> filtered = filter_paths(paths, questions, FilterSettings(), "filtered.jsonl", "kept.jsonl")
    """
    console = console or Console(stderr=True)
    paths, dropped_paths = unique_paths(paths, "filter input")
    questions, dropped_questions = unique_questions(questions, "filter questions")
    report_dropped(console, dropped_paths, "paths", "filter input")
    report_dropped(console, dropped_questions, "questions", "filter questions")
    by_id = {q.id: q for q in questions}
    tasks: dict[str, Task] = {}
    out = [p.model_copy(deep=True) for p in paths]
    ok = [p for p in out if p.status == "ok"]
    for p in ok:
        if p.task not in tasks:
            tasks[p.task] = get_task(p.task)
    checks = [answer_check(p, by_id.get(p.question_id), tasks[p.task]) for p in ok]

    limits = settings.limits()
    with _progress(console) as progress, ThreadPoolExecutor(settings.workers) as pool:
        bar = progress.add_task("verifiers", total=len(ok))

        def verify(p: Path) -> list[VerifierResult]:
            result = run_verifiers(p, by_id.get(p.question_id), tasks[p.task], settings.verifiers, limits,
                                   settings.keep_unverifiable_programs)
            progress.advance(bar)
            return result

        verifier_results = list(pool.map(verify, ok))

    judge = settings.make_judge()
    judged: dict[int, JudgeResult] = {}
    if judge is not None:
        todo = [i for i, ((good, _), vr) in enumerate(zip(checks, verifier_results))
                if good and all(v.passed is not False for v in vr)]
        cache = CallCache(cache_path) if cache_path is not None else None
        try:
            with _progress(console) as progress:
                bar = progress.add_task(f"judge {judge.backend.model}", total=len(todo) * judge.votes)
                rulings = judge.judge([(ok[i], by_id.get(ok[i].question_id)) for i in todo], cache, lambda: progress.advance(bar))
        finally:
            if cache is not None:
                cache.close()
        judged = dict(zip(todo, rulings))

    for i, p in enumerate(ok):
        good, why = checks[i]
        p.verdict = decide(good, why, verifier_results[i], judged.get(i), settings.on_unknown)
    for p in out:
        if p.status != "ok":
            p.verdict = Verdict(answer_correct=False, kept=False, reason=f"generation failed: {p.error or 'no error recorded'}")

    write_records(out_path, out)
    if kept_path is not None:
        write_records(kept_path, [p for p in out if p.verdict is not None and p.verdict.kept])
    print_funnel(funnel(out, [q for q in questions if q.id in {p.question_id for p in out}]), console)
    return out
