"""Agreement of our answer checking with the correctness recorded by a dump's own source.

    python bench/real/agreement.py runs/real/svamp --teacher text-davinci-002 --label "pred_mode==gold"
    python bench/real/agreement.py runs/real/gsm8k-checking --teacher gpt-3-6b-finetuned --label 6b_finetuning.is_correct

For every imported path of ``--teacher`` whose source row (``meta['row']`` = file:line or
file[i]) records its own verdict, compares ``path.correct`` with that verdict: ``a==b`` compares
two fields of the source row (case-insensitive), a single field name reads a boolean.
"""

from __future__ import annotations

import argparse
import re

from qrdistill.importing.fields import get_field
from qrdistill.tasks.readers import read_rows
from qrdistill.jsonl import read_records
from qrdistill.records import Path
from qrdistill.rundir import RunDir

_WHERE = re.compile(r"^(?P<file>.*?)(?::(?P<line>\d+)|\[(?P<index>\d+)\])$")


def source_verdict(row: dict, label: str) -> bool:
    """The source's own verdict on a row: ``a==b`` (fields equal) or a boolean field (``true``/
    ``false`` strings included); fields may be dotted (``175b_verification.is_correct``)."""
    if "==" in label:
        a, b = label.split("==")
        return str(get_field(row, a)).strip().lower() == str(get_field(row, b)).strip().lower()
    value = get_field(row, label)
    if isinstance(value, str):
        if value.strip().lower() not in ("true", "false"):
            raise ValueError(f"field {label!r} is {value!r}, not a boolean")
        return value.strip().lower() == "true"
    return bool(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--teacher", required=True)
    parser.add_argument("--label", required=True, help="'a==b' or a boolean field of the source rows")
    parser.add_argument("--records-key", default=None, help="Where the records are in a JSON document.")
    parser.add_argument("--show", type=int, default=5, help="Disagreements to print.")
    args = parser.parse_args()
    paths = [p for p in read_records(RunDir(args.run_dir).paths, Path) if p.teacher == args.teacher]
    files: dict[str, list] = {}
    agree, disagree = 0, []
    for path in paths:
        where = _WHERE.match(path.meta["row"])
        name = where["file"]
        if name not in files:
            files[name] = read_rows([name], records_key=args.records_key)
        position = int(where["line"]) - 1 if where["line"] else int(where["index"])
        row = files[name][position].obj if where["index"] else next(r.obj for r in files[name] if r.where == path.meta["row"])
        theirs = source_verdict(row, args.label)
        if theirs == bool(path.correct):
            agree += 1
        else:
            disagree.append((path, theirs))
    print(f"{args.teacher}: {agree}/{len(paths)} agree ({100 * agree / max(len(paths), 1):.1f}%), {len(disagree)} disagree")
    for path, theirs in disagree[: args.show]:
        print(f"- {path.key}: source says {theirs}, ours {path.correct} (answer {path.answer!r}); ...{path.text[-160:]!r}")


if __name__ == "__main__":
    main()
