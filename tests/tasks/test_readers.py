"""The one reader of dataset files and teacher dumps: containers, row locations, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qrdistill.jsonl import RecordError
from qrdistill.tasks.readers import MISSING, Row, lookup, read_rows


def write(path: Path, doc: object) -> str:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def test_several_files_of_strings_are_rows_in_order_with_a_running_index(tmp_path: Path) -> None:
    first = write(tmp_path / "CoT_0.json", ["a = 1.", "b = 2."])
    second = write(tmp_path / "CoT_1.json", ["c = 3."])
    rows = read_rows([first, second])
    assert [r.obj for r in rows] == [{"_value": "a = 1.", "_index": 0}, {"_value": "b = 2.", "_index": 1},
                                     {"_value": "c = 3.", "_index": 2}]
    assert rows[2].where == f"{second}[0]"
    where, obj = rows[0]                       # a Row unpacks like the (where, row) pairs loaders use
    assert isinstance(rows[0], Row) and where.endswith("CoT_0.json[0]") and obj["_value"] == "a = 1."


def test_jsonl_keyed_dict_and_big_bench_examples(tmp_path: Path) -> None:
    lines = tmp_path / "paths.jsonl"
    lines.write_text('{"q": "x"}\n\n{"q": "y"}\n', encoding="utf-8")
    assert [(r.where, r.obj["q"]) for r in read_rows(lines)] == [(f"{lines}:1", "x"), (f"{lines}:3", "y")]
    keyed = write(tmp_path / "problems.json", {"17": {"q": "x"}, "4": {"q": "y"}})
    assert [(r.where, r.obj["_key"]) for r in read_rows(keyed)] == [(f"{keyed}['17']", "17"), (f"{keyed}['4']", "4")]
    task = write(tmp_path / "task.json", {"name": "date", "examples": [{"input": "x"}]})
    assert read_rows(task)[0].where == f"{task} examples[0]"


def test_records_under_a_dotted_key(tmp_path: Path) -> None:
    dump = write(tmp_path / "outputs.json", {"meta": {"model": "m"}, "run": {"outputs": [{"prediction": "p"}]}})
    [row] = read_rows(dump, records_key="run.outputs")
    assert row.where == f"{dump} run.outputs[0]" and row.obj == {"prediction": "p", "_index": 0}
    with pytest.raises(RecordError, match=r"outputs\.json: records key 'outputs' not found"):
        read_rows(dump, records_key="outputs")


def test_a_wrapper_without_records_key_names_the_candidates(tmp_path: Path) -> None:
    dump = write(tmp_path / "wrapped.json", {"model": "m", "outputs": [{"prediction": "p"}]})
    with pytest.raises(RecordError, match=r"wrapped\.json: .*set records_key .*candidates: outputs"):
        read_rows(dump)
    single = write(tmp_path / "1.json", {"problem": "x", "solution": "y"})   # one MATH problem per file
    assert [r.obj["problem"] for r in read_rows(single)] == ["x"]


def test_bad_rows_and_missing_files_are_named(tmp_path: Path) -> None:
    numbers = write(tmp_path / "numbers.json", [{"q": "x"}, 5])
    with pytest.raises(RecordError, match=r"numbers\.json\[1\]: expected a JSON object or a string, got int"):
        read_rows(numbers)
    with pytest.raises(RecordError, match=r"absent\.json: file not found"):
        read_rows(tmp_path / "absent.json")


def test_lookup_walks_keys_and_indices() -> None:
    doc = {"choices": {"text": ["a", "b"]}}
    assert lookup(doc, "choices.text.1") == "b"
    assert lookup(doc, "choices.label") is MISSING and lookup(doc, "choices.text.2") is MISSING
