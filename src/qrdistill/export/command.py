"""``qrdistill export`` (kept paths as a dataset for TRL / LLaMA-Factory) and ``qrdistill export-student``.

    qrdistill export --run runs/demo --format messages --out kept.messages.jsonl
    qrdistill export --in filtered.jsonl --questions q.jsonl --format prompt-completion --out kept_trl/
    qrdistill export --run runs/demo --format sharegpt --out llamafactory_data/ --name demo_kept
    qrdistill export --run runs/demo --routed-to gemma3 --train-dir runs/demo/train/qr_distill/seed0 --out gemma3.jsonl
    qrdistill export-student --train-dir runs/demo/train/qr_distill/seed0 --out exported/
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated, Optional

import typer

from qrdistill.outpaths import check_out
from qrdistill.output import Json, Quiet, stage_output

FORMAT_HELP = "messages, prompt-completion, chat-prompt-completion (TRL); sharegpt, alpaca (LLaMA-Factory)."


def export_command(
    out: Annotated[FsPath, typer.Option("--out", help="A .jsonl or .parquet file or a directory (datasets' save_to_disk); LLaMA-Factory formats: its dataset_dir.")],
    data_format: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "messages",
    run_dir: Annotated[Optional[FsPath], typer.Option("--run", help="Run directory: reads its filtered.jsonl and questions/*.jsonl.")] = None,
    in_path: Annotated[Optional[FsPath], typer.Option("--in", help="Path records with verdicts (filtered.jsonl or kept.jsonl).")] = None,
    questions: Annotated[Optional[list[FsPath]], typer.Option("--questions", help="Question JSONL the paths refer to (repeatable).")] = None,
    method: Annotated[str, typer.Option("--method", help="Export the paths this training method uses (qr_distill: the kept ones).")] = "qr_distill",
    name: Annotated[str, typer.Option("--name", help="LLaMA-Factory dataset name (its dataset_info.json key and file stem).")] = "qrdistill",
    routed_to: Annotated[Optional[str], typer.Option("--routed-to", help="Only the paths the router last sent to this student (needs --train-dir).")] = None,
    train_dir: Annotated[Optional[FsPath], typer.Option("--train-dir", help="A training output dir whose routed.jsonl --routed-to reads.")] = None,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Write the kept paths (or those routed to one student) as a dataset other trainers read directly, with provenance columns."""
    from qrdistill.export.dataset import export_paths
    from qrdistill.dedupe import read_paths, read_questions
    from qrdistill.rundir import RunDir

    if run_dir is not None:
        run = RunDir(run_dir)
        in_path = in_path or run.filtered
        questions = questions or sorted((run.root / "questions").glob("*.jsonl"))
    if in_path is None or not questions:
        raise typer.BadParameter("give --run DIR, or --in PATHS.jsonl and --questions QUESTIONS.jsonl")
    if (routed_to is None) != (train_dir is None):
        raise typer.BadParameter("--routed-to and --train-dir go together: the student, and the training whose routing to follow")
    check_out(out, "--out", directory=out.suffix not in (".jsonl", ".parquet", ".json"))
    with stage_output(quiet, as_json) as output:
        by_id = {q.id: q for q in read_questions(questions)}
        paths = read_paths(in_path)
        if train_dir is not None:
            from qrdistill.export.dataset import routed_paths

            paths = routed_paths(paths, train_dir, routed_to)
        result = export_paths(paths, by_id, data_format, out, method=method, name=name)
        output.summary = result.summary()
        left = ", ".join(f"{n} {why}" for why, n in result.left_out.items()) or "none"
        typer.echo(f"{result.rows} paths ({data_format}) -> {result.out}; left out: {left}"
                   + (f"; {result.unfiltered} without a filter verdict" if result.unfiltered else "")
                   + (f"; entry '{name}' in {result.dataset_info}" if result.dataset_info else ""))


def export_student_command(
    train_dir: Annotated[FsPath, typer.Option("--train-dir", help="A training output directory (its config.yaml and students/).")],
    out: Annotated[FsPath, typer.Option("--out", help="Folder for the model directories: OUT/<student>/.")],
    students: Annotated[Optional[list[str]], typer.Option("--student", help="Student(s) to export (repeatable; default: all).")] = None,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1, help="Default generation length in generation_config.json.")] = 256,
    dtype: Annotated[Optional[str], typer.Option("--dtype", help="Cast the merged weights: float32, bfloat16, float16.")] = None,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Merge each student's LoRA into its base model and write a Hugging Face model directory."""
    from qrdistill.export.student import export_student
    from qrdistill.train.config import TrainConfig

    check_out(out, "--out", directory=True)
    config = train_dir / "config.yaml"
    if not config.exists():
        raise typer.BadParameter(f"{config} not found: --train-dir must be a training output dir (train/<method>/seed<N> of a run)")
    specs = {s.name: s for s in TrainConfig.from_yaml(config).students}
    unknown = sorted(set(students or []) - set(specs))
    if unknown:
        raise typer.BadParameter(f"unknown student(s) {unknown}; {config} has {', '.join(specs)}")
    with stage_output(quiet, as_json) as output:
        done = []
        for name in students or list(specs):
            result = export_student(specs[name], train_dir / "students" / name, out / name, max_new_tokens=max_new_tokens, dtype=dtype)
            done.append(result.summary())
            typer.echo(f"{name}: {result.out} (prompt format: {result.prompt_format})")
        output.summary = {"students": done}
