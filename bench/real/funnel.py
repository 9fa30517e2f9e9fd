"""Filter funnel on real imported paths: per teacher and style, what the answer check and the
deterministic verifiers (program sandbox, written arithmetic) keep and reject, with examples.

    python bench/real/funnel.py runs/real/svamp [--examples 3] [--out docs-snippet.md]

Reads ``paths.jsonl`` and ``questions/*.train.jsonl`` of an imported run directory and prints a
markdown table (and the rejected examples). The verifiers are the ones ``qrdistill filter`` uses.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from rich.progress import track

from qrdistill.jsonl import read_records
from qrdistill.quality.arithmetic import verify_arithmetic
from qrdistill.quality.program import verify_program
from qrdistill.quality.sandbox import SandboxLimits
from qrdistill.records import Path, Question
from qrdistill.rundir import RunDir
from qrdistill.tasks import get_task


def funnel(run: RunDir, examples: int) -> str:
    """The funnel table and rejected examples of one imported run, as markdown."""
    paths = read_records(run.paths, Path)
    questions = {q.id: q for f in sorted((run.root / "questions").glob("*.jsonl")) for q in read_records(f, Question)}
    task = get_task(paths[0].task)
    limits = SandboxLimits(wall_s=5)
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rejected: dict[str, list[str]] = defaultdict(list)
    for path in track(paths, description="verifying"):
        label = f"{path.teacher} / {path.style}"
        row = rows[label]
        row["paths"] += 1
        row["answer correct"] += int(bool(path.correct))
        checks = [verify_arithmetic(path.text)]
        if path.style == "program":
            checks.append(verify_program(path, questions.get(path.question_id), task, limits))
        for check in checks:
            row[f"{check.name} checked"] += int(check.passed is not None)
            if check.passed is False:
                row[f"{check.name} rejects"] += 1
                if path.correct:
                    row[f"{check.name} rejects correct"] += 1
                    if len(rejected[f"{label}: {check.name}"]) < examples:
                        rejected[f"{label}: {check.name}"].append(f"`{path.key}`: {check.detail}\n\n  > " + path.text[:400].replace("\n", "\n  > "))
        row["kept"] += int(bool(path.correct) and all(c.passed is not False for c in checks))
    cols = ["paths", "answer correct", "arithmetic checked", "arithmetic rejects", "arithmetic rejects correct",
            "program checked", "program rejects", "program rejects correct", "kept"]
    lines = ["| teacher / style | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for label, row in sorted(rows.items()):
        lines.append(f"| {label} | " + " | ".join(str(row.get(c, 0)) for c in cols) + " |")
    for kind, texts in sorted(rejected.items()):
        lines += ["", f"**{kind}** (answer correct, verifier rejects):", ""] + [f"- {t}" for t in texts]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--examples", type=int, default=3)
    parser.add_argument("--out", default=None, help="Also write the markdown here.")
    args = parser.parse_args()
    text = funnel(RunDir(args.run_dir), args.examples)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
