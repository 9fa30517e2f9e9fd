"""``qrdistill generate``: the teacher writes reasoning paths in several styles.

    qrdistill generate --task gsm8k --data test.jsonl --out paths.jsonl \
        --teacher openai --model Qwen/Qwen2.5-7B-Instruct --base-url http://localhost:8000/v1
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated, Optional

import typer

from qrdistill.outpaths import check_out
from qrdistill.output import Json, Quiet, stage_output
from qrdistill.teacher.generate import GenerateSettings

DEFAULTS = GenerateSettings()
"""The flags' defaults are the settings' own (each declared once, in ``GenerateSettings``)."""


def generate_command(
    task: Annotated[str, typer.Option("--task", help="Task name (see `qrdistill tasks list`).")],
    data: Annotated[FsPath, typer.Option("--data", help="Questions: the task's original file format or Question JSONL.")],
    out: Annotated[FsPath, typer.Option("--out", help="Output Path records (JSONL), written atomically at the end.")],
    teacher: Annotated[str, typer.Option("--teacher", help="Backend: openai, hf, vllm or synthetic.")] = DEFAULTS.teacher,
    model: Annotated[Optional[str], typer.Option("--model", help="Teacher model name, HF id or local dir.")] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="OpenAI-compatible server, e.g. http://localhost:8000/v1.")] = None,
    styles: Annotated[str, typer.Option("--styles", help="Comma-separated style names.")] = ",".join(DEFAULTS.styles),
    samples_per_style: Annotated[int, typer.Option("--samples-per-style", min=1)] = DEFAULTS.samples_per_style,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0)] = DEFAULTS.temperature,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = DEFAULTS.max_tokens,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Requests in flight (openai backend).")] = DEFAULTS.concurrency,
    max_retries: Annotated[int, typer.Option("--max-retries", min=0)] = DEFAULTS.max_retries,
    abort_after: Annotated[int, typer.Option("--abort-after", min=0, help="Stop after this many calls in a row failed (0: never).")] = DEFAULTS.abort_after,
    timeout: Annotated[float, typer.Option("--timeout", min=0.001, help="Per-request timeout in seconds.")] = DEFAULTS.timeout,
    cache: Annotated[Optional[FsPath], typer.Option("--cache", help="Call cache (JSONL); default: OUT with .cache.jsonl.")] = None,
    seed: Annotated[int, typer.Option("--seed")] = DEFAULTS.seed,
    styles_file: Annotated[Optional[FsPath], typer.Option("--styles-file", help="YAML file or directory of extra/replacement styles.")] = None,
    api_key_env: Annotated[str, typer.Option("--api-key-env", help="Name of the env var holding the API key.")] = DEFAULTS.api_key_env,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Batch size (hf backend).")] = DEFAULTS.batch_size,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Use only the first N questions.")] = None,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="A questions file without questions is not an error (it writes an empty output).")] = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Generate teacher paths: one Path record per (question, style, sample)."""
    check_out(out, "--out")
    check_out(cache, "--cache")
    from qrdistill.tasks import get_task
    from qrdistill.teacher.generate import generate_paths, load_questions

    settings = GenerateSettings(
        teacher=teacher,
        model=model,
        base_url=base_url,
        styles=[s.strip() for s in styles.split(",") if s.strip()],
        samples_per_style=samples_per_style,
        temperature=temperature,
        max_tokens=max_tokens,
        concurrency=concurrency,
        max_retries=max_retries,
        abort_after=abort_after,
        timeout=timeout,
        seed=seed,
        styles_file=str(styles_file) if styles_file else None,
        api_key_env=api_key_env,
        batch_size=batch_size,
    )
    from qrdistill.jsonl import RecordError

    task_obj = get_task(task)
    try:
        questions = load_questions(data, task_obj)[:limit]
    except (RecordError, ValueError, FileNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    if not questions:
        typer.echo(f"warning: {data} holds no questions; nothing to generate", err=True)
        if not allow_empty:
            raise typer.Exit(code=1)
    cache_path = cache if cache is not None else out.with_suffix(".cache.jsonl")
    with stage_output(quiet, as_json) as output:
        paths = generate_paths(questions, task_obj, settings, out, cache_path)
        failed = sum(p.status == "failed" for p in paths)
        output.summary = {"out": str(out), "questions": len(questions), "paths": len(paths), "failed": failed,
                          "correct": sum(bool(p.correct) for p in paths)}
    if failed:
        typer.echo(f"{failed} of {len(paths)} calls failed (reasons in the 'error' field of {out}); "
                   "run the same command again to retry only those.", err=True)
        raise typer.Exit(code=1)
