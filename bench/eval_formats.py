"""Which reasoning format each trained student writes at test time, and how accurate each format is.

    python bench/eval_formats.py runs/grid-arith1            # markdown table to stdout

Reads every ``eval/<method>/seed*/<student>.<task>.jsonl`` of a run directory and sorts each
completion by the opening the synthetic teacher's styles use (``Let's think step by step`` = cot,
``Possible approaches`` = tot, a Python block = program, ``Relevant facts`` = fact,
``reason forward`` = backward); a completion that states the answer with no calculation before
it is ``bare``, anything else ``other``. For each method x student (all seeds together): the share
of completions in each format, and the accuracy within it. Meant for runs of the embedded default
(the openings are the synthetic styles'); real teachers' paths have no fixed openings.
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path as FsPath

from qrdistill.evaluate.generations import read_generations

FORMATS = {
    "cot": re.compile(r"^Let's think step by step"),
    "tot": re.compile(r"^Possible approaches"),
    "program": re.compile(r"```python"),
    "fact": re.compile(r"^Relevant facts"),
    "backward": re.compile(r"reason forward|working backward"),
}
ORDER = [*FORMATS, "bare", "other"]


def completion_format(text: str) -> str:
    """The format of one completion (see the module docstring).

    >>> completion_format("The answer is \\\\boxed{4}.")
    'bare'
    """
    for name, pattern in FORMATS.items():
        if pattern.search(text):
            return name
    before_answer = text.split("answer is", 1)[0]
    return "other" if re.search(r"[=+×÷*/-]\s*\d", before_answer) else "bare"


def breakdown(run: FsPath) -> dict[tuple[str, str], dict[str, list[int]]]:
    """{(method, student): {format: [completions, correct]}} over every seed of ``run``."""
    out: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for file in sorted((run / "eval").glob("*/seed*/*.jsonl")):
        method = file.parent.parent.name
        for g in read_generations(file):
            cell = out[(method, g.student)][completion_format(g.completion)]
            cell[0] += 1
            cell[1] += int(g.correct)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=FsPath)
    args = parser.parse_args()
    table = breakdown(args.run)
    print("Share of completions in each format (accuracy within it, %); all seeds together.\n")
    print("| student | method | n | " + " | ".join(ORDER) + " |")
    print("|---|---|---|" + "---|" * len(ORDER))
    for (method, student), cells in sorted(table.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        n = sum(c[0] for c in cells.values())
        shown = [f"{100 * cells[f][0] / n:.0f}% ({100 * cells[f][1] / cells[f][0]:.0f})" if cells[f][0] else "–" for f in ORDER]
        print(f"| {student} | {method} | {n} | " + " | ".join(shown) + " |")


if __name__ == "__main__":
    main()
