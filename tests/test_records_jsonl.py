"""Records and JSONL I/O: errors name file, line and field; writes are atomic; appends survive kills."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from qrdistill.jsonl import Appender, RecordError, read_records, write_atomic, write_records
from qrdistill.records import Path, Question, Verdict


def _path(i: int) -> Path:
    return Path(question_id=f"q{i}", task="gsm8k", style="cot", sample=0, teacher="t", text=f"text {i}")


def test_round_trip_keeps_every_field(tmp_path):
    paths = [_path(i) for i in range(3)]
    paths[1].verdict = Verdict(answer_correct=True, kept=False, reason="judge: invalid")
    write_records(tmp_path / "p.jsonl", paths)
    assert read_records(tmp_path / "p.jsonl", Path) == paths


def test_bad_json_names_file_and_line(tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text('{"id": "a", "task": "t", "question": "x", "gold": "1"}\n{"id": "b", oops}\n')
    with pytest.raises(RecordError, match=r"q\.jsonl:2: not valid JSON"):
        read_records(f, Question)


def test_missing_field_names_file_line_and_field(tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text('\n{"id": "a", "task": "t", "question": "x"}\n')
    with pytest.raises(RecordError, match=r"q\.jsonl:2: field 'gold'"):
        read_records(f, Question)


def test_unknown_field_is_rejected(tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text('{"id": "a", "task": "t", "question": "x", "gold": "1", "glod": "2"}\n')
    with pytest.raises(RecordError, match="field 'glod'"):
        read_records(f, Question)


def test_non_object_line(tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text("[1, 2]\n")
    with pytest.raises(RecordError, match="expected a JSON object"):
        read_records(f, Question)


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    f = tmp_path / "out.txt"
    write_atomic(f, "old")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic(f, "new")
    assert f.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_torn_tail_is_skipped_on_read_and_cut_on_append(tmp_path):
    f = tmp_path / "a.jsonl"
    with Appender(f) as app:
        app.write(_path(0))
    with f.open("a") as fh:
        fh.write('{"question_id": "q1", "ta')
    with pytest.raises(RecordError):
        read_records(f, Path)
    assert [p.question_id for p in read_records(f, Path, allow_torn_tail=True)] == ["q0"]
    with Appender(f) as app:
        app.write(_path(2))
    assert [p.question_id for p in read_records(f, Path)] == ["q0", "q2"]


def test_appender_survives_sigkill(tmp_path):
    f = tmp_path / "a.jsonl"
    code = (
        "import os, signal\n"
        "from qrdistill.jsonl import Appender\n"
        f"app = Appender({str(f)!r})\n"
        "for i in range(50):\n"
        "    app.write({'i': i})\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code])
    assert proc.returncode == -9
    lines = f.read_text().splitlines()
    assert lines == [f'{{"i": {i}}}' for i in range(50)]


def test_text_that_is_not_utf8_names_file_line_and_column(tmp_path):
    from qrdistill.tasks.readers import read_rows

    bad = tmp_path / "q.jsonl"
    good = Question(id="q1", task="gsm8k", question="2 + 2?", gold="4").model_dump_json()
    bad.write_bytes(f"{good}\n{good}\n".encode() + b'{"id": "q3", "question": "caf\xe9"}\n')
    with pytest.raises(RecordError, match=r"q\.jsonl:3: not UTF-8 text \(byte 0xe9 at column 30\)"):
        read_records(bad, Question)
    legacy = tmp_path / "rows.json"
    legacy.write_bytes(b'[\n  {"question": "na\xefve"}\n]\n')   # a task's original format goes through the readers
    with pytest.raises(RecordError, match=r"rows\.json:2: not UTF-8 text"):
        read_rows(str(legacy))


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_respect_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        write_records(tmp_path / "a.jsonl", [_path(0)])
        write_atomic(tmp_path / "b.txt", "x")
    finally:
        os.umask(old)
    for name in ("a.jsonl", "b.txt"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask
