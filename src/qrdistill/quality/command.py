"""``qrdistill filter``: answer check, verifiers and LLM judge decide which paths are kept.

    qrdistill filter --in paths.jsonl --out filtered.jsonl --kept-only kept.jsonl \\
        --questions questions.jsonl --judge openai --model gpt-4o-mini --verifiers program,arithmetic
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated, Optional

import typer

from qrdistill.outpaths import check_out
from qrdistill.output import Json, Quiet, stage_output
from qrdistill.quality.filter import FilterSettings

DEFAULTS = FilterSettings()
"""The flags' defaults are the settings' own (each declared once, in ``FilterSettings``)."""


def filter_command(
    in_path: Annotated[FsPath, typer.Option("--in", help="Path records (JSONL) from `qrdistill generate` or `import`.")],
    out: Annotated[FsPath, typer.Option("--out", help="Every path with its Verdict (nothing is deleted).")],
    kept_only: Annotated[Optional[FsPath], typer.Option("--kept-only", help="Also write only the kept paths here (what training reads).")] = None,
    questions: Annotated[Optional[list[FsPath]], typer.Option("--questions", help="Question JSONL with gold answers (repeatable). Without it, the paths' own `correct` field is used.")] = None,
    judge: Annotated[str, typer.Option("--judge", help="LLM judge backend: openai, hf, vllm or none.")] = DEFAULTS.judge,
    model: Annotated[Optional[str], typer.Option("--model", help="Judge model name (backend-specific).")] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="Judge server URL (openai/vllm). API key from OPENAI_API_KEY.")] = None,
    verifiers: Annotated[str, typer.Option("--verifiers", help="Comma-separated deterministic verifiers: program, arithmetic (or 'none').")] = ",".join(DEFAULTS.verifiers),
    on_unknown: Annotated[str, typer.Option("--on-unknown", help="What to do when the judge's reply cannot be parsed: reject or keep.")] = DEFAULTS.on_unknown,
    votes: Annotated[int, typer.Option("--votes", min=1, help="Judge samples per path; the majority decides.")] = DEFAULTS.votes,
    cache: Annotated[Optional[FsPath], typer.Option("--cache", help="Judge call cache (JSONL); a rerun resumes from it.")] = None,
    rubric: Annotated[Optional[FsPath], typer.Option("--rubric", help="Judge rubric YAML (default: the built-in rubric).")] = None,
    funnel_png: Annotated[Optional[FsPath], typer.Option("--funnel-png", help="Draw the filter funnel here (PNG).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for judge sampling.")] = DEFAULTS.seed,
    keep_unverifiable_programs: Annotated[bool, typer.Option("--keep-unverifiable-programs", help="Keep Program paths whose code could not be verified (no code, a module the sandbox lacks, no sandbox on this machine) instead of dropping them.")] = False,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="An input without paths is not an error (it writes empty outputs).")] = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Filter teacher paths; print the funnel per task and style.

    >>> # qrdistill filter --in paths.jsonl --out filtered.jsonl --kept-only kept.jsonl --questions q.jsonl
    """
    # Imported here so that `qrdistill --help` does not load matplotlib or a judge backend.
    from qrdistill.jsonl import read_records
    from qrdistill.quality.cli_run import run_filter_cli
    from qrdistill.records import Path

    check_out(out, "--out")
    check_out(kept_only, "--kept-only")
    check_out(funnel_png, "--funnel-png")
    with stage_output(quiet, as_json) as output:
        run_filter_cli(
            in_path=in_path, out=out, kept_only=kept_only, questions=questions or [], judge=judge, model=model,
            base_url=base_url, verifiers=verifiers, on_unknown=on_unknown, votes=votes, cache=cache, rubric=rubric,
            funnel_png=funnel_png, seed=seed, keep_unverifiable_programs=keep_unverifiable_programs,
            allow_empty=allow_empty,
        )
        if as_json:
            filtered = read_records(out, Path)
            output.summary = {"out": str(out), "kept_only": str(kept_only) if kept_only else None, "paths": len(filtered),
                              "kept": sum(p.verdict is not None and p.verdict.kept for p in filtered)}
