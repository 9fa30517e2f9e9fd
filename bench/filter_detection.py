"""How well the filter finds the synthetic teacher's injected flaws: precision and recall per detector
(answer check, each verifier, the judge if any, the whole filter) and per flaw type.

The synthetic teacher records each path's injected flaw in ``Path.meta["flaw"]`` (None, wrong_answer,
wrong_step, irrelevant_step); a wrong_step is a wrong calculation (``meta["written"]`` set) or, where a
step has no calculation, a misquoted fact. "Detected" means the detector flags the path (answer check:
wrong answer; verifier: passed False; judge: not valid; filter: not kept).

    python bench/filter_detection.py --per-family 60 --samples 2 --seed 0
    python bench/filter_detection.py --judge openai --model M --base-url http://localhost:8000/v1
    python bench/filter_detection.py --gsm8k-solutions /work/shared/data/gsm8k_openai/example_model_solutions.jsonl

The last form measures the arithmetic verifier on real GPT-3 GSM8K solutions (no injected flaws):
how many solutions, correct and incorrect, it flags, and prints the flagged correct ones to inspect.

Prints markdown tables (paste them into docs/filter.md) and writes every figure to --json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path as FsPath

from rich.console import Console

from qrdistill.quality.arithmetic import find_calculations
from qrdistill.quality.filter import FilterSettings, filter_paths
from qrdistill.records import Path
from qrdistill.synthetic.families import FAMILIES, make_questions
from qrdistill.tasks import get_task
from qrdistill.teacher.generate import GenerateSettings, generate_paths

FLAW_KINDS = ("clean", "wrong_answer", "wrong_step (calculation)", "wrong_step (fact)", "irrelevant_step")


def flaw_kind(path: Path) -> str:
    """The injected flaw of a synthetic path, with wrong steps split into calculations and facts."""
    flaw = path.meta.get("flaw")
    if flaw is None:
        return "clean"
    if flaw == "wrong_step":
        return "wrong_step (calculation)" if "written" in path.meta or path.style == "program" else "wrong_step (fact)"
    return str(flaw)


def detectors(path: Path) -> dict[str, bool]:
    """Whether each detector flags ``path``."""
    v = path.verdict
    assert v is not None
    flags = {"answer check": not v.answer_correct}
    for r in v.verifiers:
        flags[f"verifier {r.name}"] = r.passed is False
    if v.judge is not None:
        flags["judge"] = v.judge.verdict != "valid"
    flags["whole filter"] = not v.kept
    return flags


def score(paths: list[Path]) -> dict[str, dict[str, float | int]]:
    """Per detector: flagged counts per flaw kind, recall per kind, precision and clean paths dropped."""
    kinds = Counter(flaw_kind(p) for p in paths)
    names = list(detectors(paths[0]))
    out: dict[str, dict[str, float | int]] = {}
    for name in names:
        flagged = Counter(flaw_kind(p) for p in paths if detectors(p).get(name, False))
        total_flagged = sum(flagged.values())
        flawed = sum(kinds[k] for k in kinds if k != "clean")
        hits = total_flagged - flagged["clean"]
        row: dict[str, float | int] = {"flagged": total_flagged, "clean_dropped": flagged["clean"],
                                       "precision": hits / total_flagged if total_flagged else float("nan"),
                                       "recall_all_flaws": hits / flawed if flawed else float("nan")}
        for kind in FLAW_KINDS[1:]:
            row[f"recall {kind}"] = flagged[kind] / kinds[kind] if kinds[kind] else float("nan")
        out[name] = row
    return out


def by_style(paths: list[Path]) -> dict[str, dict[str, str]]:
    """Whole-filter detections per style and flaw kind, as 'caught/total'."""
    table: dict[str, dict[str, str]] = {}
    for style in sorted({p.style for p in paths}):
        mine = [p for p in paths if p.style == style]
        table[style] = {}
        for kind in FLAW_KINDS:
            group = [p for p in mine if flaw_kind(p) == kind]
            caught = sum(not p.verdict.kept for p in group)  # type: ignore[union-attr]
            table[style][kind] = f"{caught}/{len(group)}"
    return table


def markdown(scores: dict[str, dict[str, float | int]], styles: dict[str, dict[str, str]], kinds: Counter[str]) -> str:
    """The two tables for docs/filter.md."""
    cols = ["flagged", "precision", "recall_all_flaws", *[f"recall {k}" for k in FLAW_KINDS[1:]], "clean_dropped"]
    head = "| detector | " + " | ".join(c.replace("_", " ") for c in cols) + " |"
    lines = [f"Paths: {sum(kinds.values())} (" + ", ".join(f"{k}: {kinds[k]}" for k in FLAW_KINDS) + ")", "", head,
             "|" + "---|" * (len(cols) + 1)]
    for name, row in scores.items():
        cells = [f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Whole filter, paths dropped / paths, per style and flaw:", "",
              "| style | " + " | ".join(FLAW_KINDS) + " |", "|" + "---|" * (len(FLAW_KINDS) + 1)]
    for style, row in styles.items():
        lines.append(f"| {style} | " + " | ".join(row[k] for k in FLAW_KINDS) + " |")
    return "\n".join(lines)


def gsm8k_solutions(path: FsPath, show: int = 20) -> None:
    """Arithmetic verifier on openai/grade-school-math example_model_solutions.jsonl (4 GPT-3 models)."""
    counts: Counter[tuple[bool, str]] = Counter()
    flagged_correct = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            for model in ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"):
                solution = row[model]
                calcs = find_calculations(solution["solution"])
                wrong = [c for c in calcs if not c.ok]
                counts[(solution["is_correct"], "flagged" if wrong else "checked" if calcs else "no calculation")] += 1
                if wrong and solution["is_correct"]:
                    flagged_correct.append((model, wrong))
    print("| answer | solutions | with a checked calculation | flagged (a wrong calculation) |\n|---|---|---|---|")
    for correct in (True, False):
        total = sum(n for (c, _), n in counts.items() if c == correct)
        checked = counts[(correct, "checked")] + counts[(correct, "flagged")]
        print(f"| {'correct' if correct else 'incorrect'} | {total} | {checked} | {counts[(correct, 'flagged')]} |")
    print("\nFlagged solutions whose final answer is correct:")
    for model, wrong in flagged_correct[:show]:
        print(f"- {model}: " + "; ".join(f"{c.text} (is {c.computed})" for c in wrong))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-family", type=int, default=60, help="questions per synthetic family")
    parser.add_argument("--samples", type=int, default=2, help="samples per style")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wrong-answer", type=float, default=0.15)
    parser.add_argument("--wrong-step", type=float, default=0.2)
    parser.add_argument("--irrelevant-step", type=float, default=0.1)
    parser.add_argument("--verifiers", default="program,arithmetic")
    parser.add_argument("--judge", default="none")
    parser.add_argument("--model", default=None)
    parser.add_argument("--base-url", default=None)
    parser.add_argument("--workdir", type=FsPath, default=None, help="where paths and verdicts go (default: a temp dir)")
    parser.add_argument("--json", type=FsPath, default=None, help="write all figures here")
    parser.add_argument("--gsm8k-solutions", type=FsPath, default=None, help="measure the arithmetic verifier on this file instead")
    args = parser.parse_args()
    if args.gsm8k_solutions is not None:
        gsm8k_solutions(args.gsm8k_solutions)
        return

    console = Console(stderr=True)
    workdir = args.workdir or FsPath(tempfile.mkdtemp(prefix="filter-detection-"))
    gen = GenerateSettings(teacher="synthetic", samples_per_style=args.samples, seed=args.seed,
                           flaw_rates={"wrong_answer": args.wrong_answer, "wrong_step": args.wrong_step,
                                       "irrelevant_step": args.irrelevant_step})
    paths, questions = [], []
    for family in FAMILIES:
        qs = make_questions(family, args.per_family, seed=args.seed, split="train")
        questions += qs
        paths += generate_paths(qs, get_task(family), gen, workdir / f"{family}.paths.jsonl", workdir / f"{family}.cache.jsonl",
                                console=console)
    settings = FilterSettings(verifiers=args.verifiers, judge=args.judge, model=args.model, base_url=args.base_url, seed=args.seed)
    start = time.perf_counter()
    filtered = filter_paths(paths, questions, settings, workdir / "filtered.jsonl", workdir / "kept.jsonl",
                            workdir / "judge.cache.jsonl", console=console)
    seconds = time.perf_counter() - start
    ok = [p for p in filtered if p.status == "ok"]
    kinds = Counter(flaw_kind(p) for p in ok)
    scores, styles = score(ok), by_style(ok)
    print(f"machine: {platform.node()} {platform.machine()}, python {sys.version.split()[0]}; filter took {seconds:.1f} s "
          f"for {len(ok)} paths; workdir {workdir}\n")
    print(markdown(scores, styles, kinds))
    if args.json is not None:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "seconds": seconds,
                                         "kinds": kinds, "scores": scores, "by_style": styles}, indent=2))


if __name__ == "__main__":
    main()
