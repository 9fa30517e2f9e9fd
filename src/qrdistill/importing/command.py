"""``qrdistill import``: real teacher outputs (public dumps or your own JSONL) into Path records.

Config mode (gold + published split + several dumps into a run directory)::

    qrdistill import --config configs/real/svamp.import.yaml --data-root /work/shared/data --run runs/real/svamp

Flag mode (one dump; the flags are the config's source keys)::

    qrdistill import --task svamp --gold SVAMP.json --in train.json --out paths.jsonl \\
        --question-field instruction --completion-field output --teacher gpt-3.5-turbo --style cot

Chat-format datasets (a hub name, a ``save_to_disk`` directory, Parquet or JSONL)::

    qrdistill import --task gsm8k --gold test.jsonl --in hf:owner/gsm8k-traces --split train \\
        --format messages --teacher-field model --style cot --out paths.jsonl
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated, Optional

import typer

from qrdistill.importing.spec import EvalPolicy, Format, JoinMode
from qrdistill.outpaths import check_out
from qrdistill.output import Json, Quiet, stage_output


def import_command(
    config: Annotated[Optional[FsPath], typer.Option("--config", "-c", help="Import config YAML (gold, split, sources).")] = None,
    run_dir: Annotated[Optional[FsPath], typer.Option("--run", help="Run directory to write questions/, paths.jsonl, import_report.* (config mode).")] = None,
    data_root: Annotated[Optional[str], typer.Option("--data-root", help="Folder that relative file names in the config are under.")] = None,
    task: Annotated[Optional[str], typer.Option("--task", help="Task name (flag mode), e.g. svamp.")] = None,
    gold: Annotated[Optional[str], typer.Option("--gold", help="Gold file in the task's public format.")] = None,
    questions: Annotated[Optional[list[str]], typer.Option("--questions", help="Question JSONL files with split set, instead of --gold.")] = None,
    inputs: Annotated[Optional[list[str]], typer.Option("--in", help="Dump file(s), read in order.")] = None,
    out: Annotated[Optional[FsPath], typer.Option("--out", help="Output paths JSONL (flag mode); the report goes beside it.")] = None,
    data_format: Annotated[str, typer.Option("--format", help="fields (the *-field flags), messages (chat turns) or prompt-completion (TRL).")] = "fields",
    messages_field: Annotated[str, typer.Option("--messages-field", help="Column of the chat turns (messages format).")] = "messages",
    split: Annotated[str, typer.Option("--split", help="Split of a hub dataset or a saved DatasetDict.")] = "train",
    teacher: Annotated[str, typer.Option("--teacher", help="Model that wrote the completions.")] = "unknown",
    teacher_field: Annotated[Optional[str], typer.Option("--teacher-field", help="Column naming each row's teacher (overrides --teacher).")] = None,
    style: Annotated[str, typer.Option("--style", help="Reasoning style: cot, program, ...")] = "cot",
    style_field: Annotated[Optional[str], typer.Option("--style-field", help="Column naming each row's style (overrides --style).")] = None,
    question_field: Annotated[str, typer.Option("--question-field", help="Question field; a+b joins fields, a.b is nested.")] = "question",
    completion_field: Annotated[str, typer.Option("--completion-field", help="Completion field (a list expands into samples; _value for a list of strings).")] = "completion",
    id_field: Annotated[Optional[str], typer.Option("--id-field", help="Question id field (_key for a dict of records).")] = None,
    join: Annotated[str, typer.Option("--join", help="id, text or index.")] = "text",
    question_pattern: Annotated[Optional[str], typer.Option("--question-pattern", help="Regex; group q (or 1) is the question.")] = None,
    choices_field: Annotated[Optional[str], typer.Option("--choices-field", help="Options the teacher saw; letters are remapped to the gold order.")] = None,
    cut_after: Annotated[Optional[list[str]], typer.Option("--cut-after", help="Regex; cut the completion at its first match (repeatable).")] = None,
    records_key: Annotated[Optional[str], typer.Option("--records-key", help="Where the records are in a JSON document.")] = None,
    aligned: Annotated[Optional[list[str]], typer.Option("--aligned", help="Index-aligned file(s) holding the questions.")] = None,
    result_field: Annotated[Optional[str], typer.Option("--result-field", help="Program dumps: recorded execution result field.")] = None,
    program_var: Annotated[Optional[str], typer.Option("--program-var", help="Program dumps: answer variable; print(var) is appended.")] = None,
    skip_incomplete: Annotated[bool, typer.Option("--skip-incomplete", help="Count rows without the mapped fields instead of failing.")] = False,
    sample_offset: Annotated[int, typer.Option("--sample-offset", help="First sample index.")] = 0,
    train_split: Annotated[str, typer.Option("--train-split", help="Split that training may see.")] = "train",
    eval_paths: Annotated[str, typer.Option("--eval-paths", help="Rows of other splits: refuse, drop or keep.")] = "refuse",
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Import teacher outputs as Path records, joined to gold questions, with a report of what did not join."""
    from qrdistill.importing.runner import import_to_file, load_import_config, resolve_paths, run_import
    from qrdistill.importing.spec import ImportConfig, SourceSpec
    from qrdistill.rundir import RunDir

    if config is not None:
        if run_dir is None:
            raise typer.BadParameter("config mode writes into a run directory: give --run DIR")
        check_out(run_dir, "--run", directory=True)
        with stage_output(quiet, as_json) as output:
            output.summary = run_import(load_import_config(config, data_root), RunDir(run_dir))
        return
    if task is None or not inputs or out is None:
        raise typer.BadParameter("give --config, or --task, --in and --out (with --gold or --questions)")
    check_out(out, "--out")
    for flag, value, allowed in (("--join", join, JoinMode), ("--eval-paths", eval_paths, EvalPolicy), ("--format", data_format, Format)):
        if value not in allowed.__args__:  # type: ignore[attr-defined]
            raise typer.BadParameter(f"{flag} must be one of {', '.join(allowed.__args__)}, got {value!r}")  # type: ignore[attr-defined]
    source = SourceSpec(
        files=inputs, format=data_format, messages_field=messages_field, dataset_split=split,  # type: ignore[arg-type]
        teacher=teacher, teacher_field=teacher_field, style=style, style_field=style_field,
        question_field=question_field, completion_field=completion_field,
        id_field=id_field, join=join, question_pattern=question_pattern, choices_field=choices_field,  # type: ignore[arg-type]
        cut_after=cut_after or [], records_key=records_key, aligned_files=aligned or [], result_field=result_field,
        program_var=program_var, skip_incomplete=skip_incomplete, sample_offset=sample_offset,
    )
    cfg = ImportConfig(
        task=task, gold=gold, questions=questions or [], sources=[source], train_split=train_split,
        eval_policy=eval_paths,  # type: ignore[arg-type]
    )
    with stage_output(quiet, as_json) as output:
        output.summary = {"out": str(out), **import_to_file(resolve_paths(cfg, data_root), out)}
