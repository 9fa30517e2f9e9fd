"""Hub-format teacher data (``messages``, TRL's ``prompt``/``completion``) imported as Path records:
from a ``save_to_disk`` directory, a Parquet file, JSONL and ``hf:owner/name`` (offline, from the
cache a download leaves)."""

from __future__ import annotations

import json
import sys
from pathlib import Path as FsPath

import datasets
import pytest
import typer
from typer.testing import CliRunner

sys.path.insert(0, str(FsPath(__file__).resolve().parents[1]))
from hub_data import QUESTIONS, cache_as_hub_download, message_rows, messages_dataset, question_text, trace, write_gold  # noqa: E402

from qrdistill.importing.chat import MULTI_TURN, NO_ANSWER, NOT_TEXT, TOOL_CALL, Unfit, prompt_completion, single_exchange
from qrdistill.importing.command import import_command
from qrdistill.importing.importer import ImportFieldError, import_paths
from qrdistill.importing.spec import SourceSpec
from qrdistill.importing.splits import mapped_rows
from qrdistill.jsonl import read_records
from qrdistill.records import Path
from qrdistill.tasks import get_task


@pytest.fixture(scope="module")
def gsm8k():
    return get_task("gsm8k")


@pytest.fixture
def gold(tmp_path, gsm8k):
    return gsm8k.load(str(write_gold(tmp_path / "train.jsonl")))


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(import_command)
    return app


def test_one_exchange_is_read_from_openai_and_sharegpt_turns():
    assert single_exchange([{"from": "human", "value": "2+3?"}, {"from": "gpt", "value": "5"}]) == ("2+3?", "5", None)
    parts = [{"role": "user", "content": [{"type": "text", "text": "2+"}, {"type": "text", "text": "3?"}]},
             {"role": "assistant", "content": "5"}]
    assert single_exchange(parts).question == "2+3?"
    assert prompt_completion("2+3?", "5") == ("2+3?", "5", None)
    assert prompt_completion([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+3?"}],
                             [{"role": "assistant", "content": "5"}]) == ("2+3?", "5", "Be brief.")


@pytest.mark.parametrize(("messages", "kind"), [
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"},
      {"role": "assistant", "content": "d"}], MULTI_TURN),
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]}], TOOL_CALL),
    ([{"from": "human", "value": "a"}, {"from": "function_call", "value": "{}"}, {"from": "gpt", "value": "b"}], TOOL_CALL),
    ([{"role": "user", "content": "a"}], NO_ANSWER),
    ([{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}, {"role": "assistant", "content": "b"}], NOT_TEXT),
])
def test_rows_that_are_not_one_exchange_say_why(messages, kind):
    with pytest.raises(Unfit) as err:
        single_exchange(messages)
    assert err.value.kind == kind


def test_saved_dataset_in_messages_format_becomes_paths_with_teacher_from_a_column(tmp_path, gold, gsm8k):
    messages_dataset().save_to_disk(str(tmp_path / "traces"))
    spec = SourceSpec(files=[str(tmp_path / "traces")], format="messages", teacher_field="model", style="cot")
    result = import_paths(spec, mapped_rows(spec), gold, gsm8k)
    assert len(result.paths) == len(QUESTIONS)
    assert result.report.unfit == {MULTI_TURN: 1, TOOL_CALL: 1}
    assert result.report.rows == len(QUESTIONS) + 2 and result.report.unjoined == 0
    assert [e["where"] for e in result.report.examples[MULTI_TURN]] == [f"{tmp_path / 'traces'}[train][{len(QUESTIONS)}]"]
    first = result.paths[0]
    a, b = QUESTIONS[0]
    assert (first.teacher, first.style, first.text, first.correct) == ("teacher-a", "cot", trace(a, b), True)
    assert first.meta["system"] == "You are a careful math tutor." and first.prompt == gsm8k.prompt(gold[0])
    assert {p.teacher for p in result.paths} == {"teacher-a", "teacher-b"}
    assert [p.correct for p in result.paths].count(False) == 1


def test_prompt_completion_parquet_standard_and_conversational(tmp_path, gold, gsm8k):
    rows = [{"prompt": question_text(a, b), "completion": trace(a, b)} for a, b in QUESTIONS[:2]]
    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "standard.parquet"))
    spec = SourceSpec(files=[str(tmp_path / "standard.parquet")], format="prompt-completion", teacher="t")
    result = import_paths(spec, mapped_rows(spec), gold, gsm8k)
    assert [p.text for p in result.paths] == [r["completion"] for r in rows]
    assert result.paths[1].meta["row"] == f"{tmp_path / 'standard.parquet'}[1]"

    chat = [{"prompt": [{"role": "user", "content": question_text(a, b)}], "completion": [{"role": "assistant", "content": trace(a, b)}]}
            for a, b in QUESTIONS[:2]]
    chat.append({"prompt": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": question_text(*QUESTIONS[0])}],
                 "completion": [{"role": "assistant", "content": trace(*QUESTIONS[0])}]})
    (tmp_path / "chat.jsonl").write_text("".join(json.dumps(r) + "\n" for r in chat), encoding="utf-8")
    spec = SourceSpec(files=[str(tmp_path / "chat.jsonl")], format="prompt-completion", teacher="t", style="tot")
    result = import_paths(spec, mapped_rows(spec), gold, gsm8k)
    assert [(p.question_id, p.style, p.correct) for p in result.paths] == [(q.id, "tot", True) for q in gold[:2]]
    assert result.report.unfit == {MULTI_TURN: 1}


def test_a_missing_messages_column_names_the_row_and_the_column(tmp_path, gold, gsm8k):
    (tmp_path / "rows.jsonl").write_text(json.dumps({"conversations": []}) + "\n", encoding="utf-8")
    spec = SourceSpec(files=[str(tmp_path / "rows.jsonl")], format="messages", teacher="t")
    with pytest.raises(ImportFieldError, match=r"rows\.jsonl:1: field 'messages' not found.*reads 'messages'"):
        import_paths(spec, mapped_rows(spec), gold, gsm8k)


def test_hub_name_loads_through_datasets_offline_and_the_cli_reports_as_json(tmp_path, monkeypatch):
    cache = tmp_path / "hf-datasets"
    cache_as_hub_download(messages_dataset(), "someorg/apple-traces", cache, tmp_path)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    out = tmp_path / "paths.jsonl"
    result = CliRunner().invoke(cli(), [
        "--task", "gsm8k", "--gold", str(write_gold(tmp_path / "train.jsonl")), "--in", "hf:someorg/apple-traces",
        "--format", "messages", "--teacher-field", "model", "--out", str(out), "--json",
    ])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    source = summary["sources"][0]
    assert (source["imported"], source["correct"], source["unfit"]) == (len(QUESTIONS), len(QUESTIONS) - 1, {MULTI_TURN: 1, TOOL_CALL: 1})
    assert summary["out"] == str(out)
    paths = read_records(out, Path)
    assert paths[0].meta["row"] == "hf:someorg/apple-traces[train][0]"
    assert len(message_rows()) == source["rows"]


def test_cli_refuses_an_unknown_format(tmp_path):
    result = CliRunner().invoke(cli(), ["--task", "gsm8k", "--gold", "g.jsonl", "--in", "x.jsonl", "--out", str(tmp_path / "o.jsonl"),
                                        "--format", "chatml"])
    assert result.exit_code != 0 and "--format must be one of fields, messages, prompt-completion" in result.output
