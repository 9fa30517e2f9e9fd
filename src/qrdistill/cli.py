"""The ``qrdistill`` command: one subcommand per pipeline stage.

    qrdistill tasks list
    qrdistill generate --task gsm8k --data test.jsonl --out paths.jsonl --teacher openai --model M
    qrdistill filter --in paths.jsonl --out filtered.jsonl --verifiers program,arithmetic
    qrdistill train --config cfg.yaml
    qrdistill eval --config cfg.yaml
    qrdistill run --config grid.yaml
    qrdistill export --run runs/demo --format messages --out kept.jsonl
    qrdistill export-student --train-dir runs/demo/train/qr_distill/seed0 --out exported/
    qrdistill demo --quick

Stage commands take ``--quiet`` and ``--json`` (a JSON summary on stdout); ``qrdistill --verbose``
also prints the libraries' log records (see ``qrdistill.output``). An ordinary mistake prints one
``error:`` line (exit 2 for the command line or config, 1 for input data); ``qrdistill --debug``
shows its traceback (see ``qrdistill.errors``).
"""

from __future__ import annotations

import typer

from qrdistill.errors import OneLineErrors
from qrdistill.evaluate.command import eval_command
from qrdistill.export.command import export_command, export_student_command
from qrdistill.importing.command import import_command
from qrdistill.output import set_verbose
from qrdistill.pipeline import compare_command, demo_command, run_command
from qrdistill.quality.command import filter_command
from qrdistill.tasks.command import tasks_app
from qrdistill.teacher.command import generate_command
from qrdistill.train.command import train_command

app = typer.Typer(
    help="Distil reasoning from a teacher LLM into several cooperating students (QR-Distill).",
    no_args_is_help=True,
    cls=OneLineErrors,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also print debug logs, library warnings included."),
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of every error, not just its one-line message."),
) -> None:
    set_verbose(verbose)


app.add_typer(tasks_app, name="tasks", help="List tasks, load a dataset file, check answers.")
app.command("generate", help="Stage A: the teacher writes reasoning paths in several styles.")(generate_command)
app.command("filter", help="Stage B: answer check, verifiers and LLM judge decide which paths are kept.")(filter_command)
app.command("train", help="Stages C+D: router + students + peer teaching (or a baseline method).")(train_command)
app.command("eval", help="Evaluate each student alone on held-out questions.")(eval_command)
app.command("import", help="Import real teacher outputs (public dumps or your own JSONL) as Path records.")(import_command)
app.command("export", help="Write kept paths as a dataset for TRL or LLaMA-Factory, with provenance columns.")(export_command)
app.command("export-student", help="Merge a trained student's LoRA and write a Hugging Face model directory.")(export_student_command)
app.command("run", help="Run every stage and the comparison grid from one YAML config.")(run_command)
app.command("compare", help="Build results.json, report.md and plots from finished runs.")(compare_command)
app.command("demo", help="Run everything on the embedded default (synthetic teacher, two small students, CPU).")(demo_command)
