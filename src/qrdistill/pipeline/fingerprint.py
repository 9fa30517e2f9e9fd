"""Stage fingerprints: ``qrdistill run`` reuses a stage's outputs only if they were made from the
same settings and inputs.

Before a stage runs, its fingerprint (its settings and a hash of each input) is compared with the
one recorded in ``<run_dir>/stages/<stage>.json``. On a mismatch the stage is stale: what changed is
printed, its outputs are removed, and it runs again; a stage downstream then sees a changed input
and reruns too. The fingerprint is recorded before the stage starts, so that a killed stage resumes
only under the same settings. Outputs without a recorded fingerprint (a run dir written by
``qrdistill import`` or an older version) are reused and the fingerprint recorded.

>>> fp = fingerprint({"max_steps": 5}, {"paths": records_digest(paths)})
>>> refresh(run, "train-qr_distill-seed0", fp, [run.train("qr_distill", 0)])   # True: stale, outputs removed
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel
from rich.console import Console

from qrdistill.jsonl import write_json
from qrdistill.rundir import RunDir

console = Console(stderr=True)


def records_digest(records: Iterable[BaseModel]) -> str:
    """A hash of the records' contents, in order."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(record.model_dump_json().encode("utf-8") + b"\n")
    return digest.hexdigest()


def file_digest(path: FsPath) -> str | None:
    """A hash of a file's bytes (None when it does not exist)."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def fingerprint(settings: dict[str, Any], inputs: dict[str, str | None]) -> dict[str, Any]:
    """A stage's fingerprint: its settings (JSON values) and a digest of each named input."""
    return json.loads(json.dumps({"settings": settings, "inputs": inputs}, default=str))


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        return {k: v for key, item in value.items() for k, v in _flat(item, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): value}


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two fingerprints, e.g. ``["train.max_steps 2 -> 5", "input questions"]``."""
    before, after = _flat(old.get("settings", {})), _flat(new.get("settings", {}))
    said = [f"{k} {before.get(k, '(unset)')} -> {after.get(k, '(unset)')}" for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)]
    said += [f"input {name}" for name in sorted(set(old.get("inputs", {})) | set(new.get("inputs", {})))
             if old.get("inputs", {}).get(name) != new.get("inputs", {}).get(name)]
    return said


def _record(run: RunDir, stage: str) -> FsPath:
    return run.root / "stages" / f"{stage}.json"


def _remove(outputs: Sequence[FsPath]) -> None:
    for output in outputs:
        if output.is_dir():
            shutil.rmtree(output)
        elif output.exists():
            output.unlink()


def refresh(run: RunDir, stage: str, fp: dict[str, Any], outputs: Sequence[FsPath]) -> bool:
    """Compare ``stage``'s fingerprint with the recorded one; when they differ, say what changed and
    remove ``outputs``. Records ``fp`` either way; returns whether the stage was stale."""
    file = _record(run, stage)
    recorded = json.loads(file.read_text(encoding="utf-8")) if file.exists() else None
    stale = recorded is not None and recorded != fp
    if stale:
        console.print(f"[yellow]stale:[/] stage {stage} was made with other settings or inputs "
                      f"({'; '.join(changes(recorded, fp))}); rerunning it and what depends on it", soft_wrap=True)
        _remove(outputs)
    if recorded != fp:
        write_json(file, fp)
    return stale
