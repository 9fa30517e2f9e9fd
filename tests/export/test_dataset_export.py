"""Kept paths exported for TRL and LLaMA-Factory: ``datasets`` reads each export, the columns are
the ones those trainers document, and every row keeps its provenance."""

from __future__ import annotations

import json

import datasets
import pytest
import typer
from typer.testing import CliRunner

from qrdistill.export.command import export_command
from qrdistill.export.dataset import export_paths
from qrdistill.jsonl import write_records
from qrdistill.records import JudgeResult, Path, Question, Verdict, VerifierResult
from qrdistill.tasks import get_task
from qrdistill.teacher.styles import load_styles, prompt_for

PROVENANCE = {"question_id", "task", "teacher", "style", "sample", "answer", "gold", "verdict"}
# Columns as the trainers document them (TRL: dataset formats; LLaMA-Factory: data/README.md).
TRL_COLUMNS = {"messages": {"messages"}, "prompt-completion": {"prompt", "completion"}, "chat-prompt-completion": {"prompt", "completion"}}
LLAMA_FACTORY_COLUMNS = {"sharegpt": {"conversations"}, "alpaca": {"instruction", "input", "output"}}


@pytest.fixture
def questions() -> dict[str, Question]:
    qs = [Question(id=f"q{i}", task="gsm8k", question=f"Tom has {i} apples and buys 2 more. How many?", gold=str(i + 2)) for i in range(3)]
    return {q.id: q for q in qs}


@pytest.fixture
def paths(questions) -> list[Path]:
    out = []
    for q in questions.values():
        for style, kept in (("cot", True), ("program", q.id != "q0")):
            verdict = Verdict(answer_correct=True, kept=kept, reason="" if kept else "program: prints 3, states 2",
                              verifiers=[VerifierResult(name="program", passed=kept)],
                              judge=JudgeResult(verdict="valid", model="judge-m") if style == "cot" else None)
            out.append(Path(question_id=q.id, task="gsm8k", style=style, teacher="teacher-a", text=f"{style} path. The answer is \\boxed{{{q.gold}}}.",
                            answer=q.gold, correct=True, verdict=verdict))
    out.append(Path(question_id="q1", task="gsm8k", style="tot", teacher="teacher-a", status="failed", error="timeout"))
    return out


@pytest.mark.parametrize("fmt", sorted(TRL_COLUMNS))
@pytest.mark.parametrize("container", ["kept.jsonl", "kept.parquet", "kept_dir"])
def test_trl_exports_load_with_the_documented_columns_and_provenance(tmp_path, paths, questions, fmt, container):
    result = export_paths(paths, questions, fmt, tmp_path / container)
    assert (result.rows, result.left_out) == (5, {"not kept": 1, "failed": 1})
    if container == "kept_dir":
        data = datasets.load_from_disk(str(tmp_path / container))
    else:
        kind = "json" if container.endswith(".jsonl") else "parquet"
        data = datasets.load_dataset(kind, data_files=str(tmp_path / container), split="train")
    assert set(data.column_names) == TRL_COLUMNS[fmt] | PROVENANCE
    first = data[0]
    prompt = prompt_for(get_task("gsm8k"), questions["q0"], "cot", load_styles())  # the style prompt training uses
    assert "Let's think step by step" in prompt
    if fmt == "messages":
        assert first["messages"] == [{"role": "user", "content": prompt}, {"role": "assistant", "content": paths[0].text}]
    elif fmt == "prompt-completion":
        assert (first["prompt"], first["completion"]) == (prompt + "\n", paths[0].text)
    else:
        assert first["prompt"] == [{"role": "user", "content": prompt}]
        assert first["completion"] == [{"role": "assistant", "content": paths[0].text}]
    assert (first["question_id"], first["teacher"], first["style"], first["gold"]) == ("q0", "teacher-a", "cot", "2")
    assert first["verdict"]["kept"] is True and first["verdict"]["judge"] == "valid"
    assert first["verdict"]["verifiers"] == [{"name": "program", "passed": True}]


@pytest.mark.parametrize("fmt", sorted(LLAMA_FACTORY_COLUMNS))
def test_llama_factory_export_registers_its_file_in_dataset_info(tmp_path, paths, questions, fmt):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "dataset_info.json").write_text(json.dumps({"alpaca_en_demo": {"file_name": "alpaca_en_demo.json"}}), encoding="utf-8")
    result = export_paths(paths, questions, fmt, folder, name="apples")
    info = json.loads((folder / "dataset_info.json").read_text(encoding="utf-8"))
    assert set(info) == {"alpaca_en_demo", "apples"} and result.out == folder / "apples.jsonl"
    entry = info["apples"]
    data = datasets.load_dataset("json", data_files=str(folder / entry["file_name"]), split="train")
    assert LLAMA_FACTORY_COLUMNS[fmt] <= set(data.column_names)
    assert set(entry["columns"].values()) == LLAMA_FACTORY_COLUMNS[fmt]
    row = data[0]
    if fmt == "sharegpt":
        assert entry["formatting"] == "sharegpt"
        tags = entry["tags"]
        turns = row[entry["columns"]["messages"]]
        assert [t[tags["role_tag"]] for t in turns] == [tags["user_tag"], tags["assistant_tag"]]
        assert turns[1][tags["content_tag"]] == paths[0].text
    else:
        assert "formatting" not in entry  # alpaca is LLaMA-Factory's default
        assert (row["instruction"], row["input"], row["output"]) == (prompt_for(get_task("gsm8k"), questions["q0"], "cot", load_styles()), "", paths[0].text)


def test_single_path_method_exports_one_path_per_question(tmp_path, paths, questions):
    result = export_paths(paths, questions, "messages", tmp_path / "one.jsonl", method="single_path")
    data = datasets.load_dataset("json", data_files=str(tmp_path / "one.jsonl"), split="train")
    assert result.rows == 3 and sorted(data["question_id"]) == ["q0", "q1", "q2"] and set(data["style"]) == {"cot"}


def test_cli_reads_a_run_directory_and_reports_json(tmp_path, paths, questions):
    run = tmp_path / "run"
    write_records(run / "filtered.jsonl", paths)
    write_records(run / "questions" / "gsm8k.train.jsonl", questions.values())
    app = typer.Typer()
    app.command()(export_command)
    out = tmp_path / "kept.jsonl"
    result = CliRunner().invoke(app, ["--run", str(run), "--format", "chat-prompt-completion", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"out": str(out), "format": "chat-prompt-completion", "rows": 5,
                                         "left_out": {"not kept": 1, "failed": 1}, "unfiltered": 0, "dataset_info": None}


def test_a_path_of_an_unknown_question_names_the_path(tmp_path, paths, questions):
    del questions["q2"]
    with pytest.raises(ValueError, match=r"path q2\|cot\|0\|teacher-a: question 'q2' is not among the 2 questions"):
        export_paths(paths, questions, "messages", tmp_path / "x.jsonl")


def test_routed_to_exports_what_the_router_last_sent_one_student(tmp_path, paths, questions):
    run = tmp_path / "run"
    write_records(run / "filtered.jsonl", paths)
    write_records(run / "questions" / "gsm8k.train.jsonl", list(questions.values()))
    train = run / "train" / "qr_distill" / "seed0"
    kept = [p for p in paths if p.status == "ok" and p.verdict.kept]
    write_records(train / "routed.jsonl", [{"key": p.key, "epoch": 2, "students": ["smol"] if p.style == "cot" else ["smol", "gemma"]}
                                            for p in kept])
    runner = CliRunner()
    app = typer.Typer()
    app.command()(export_command)
    out = tmp_path / "gemma.jsonl"
    result = runner.invoke(app, ["--run", str(run), "--routed-to", "gemma", "--train-dir", str(train), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted((r["question_id"], r["style"]) for r in rows) == [("q1", "program"), ("q2", "program")]
    missing = runner.invoke(app, ["--run", str(run), "--routed-to", "llama", "--train-dir", str(train), "--out", str(out)])
    assert missing.exit_code != 0 and "no path was routed to 'llama'" in str(missing.exception)
    alone = runner.invoke(app, ["--run", str(run), "--routed-to", "gemma", "--out", str(out)])
    assert alone.exit_code != 0 and "go together" in alone.output
