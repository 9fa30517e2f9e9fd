"""Measure the synthetic families and the synthetic teacher (all data here is synthetic):
injected flaw rates vs configured, answer-check agreement, written-arithmetic cross-check with
qrdistill.quality.arithmetic, and path/prompt lengths in both embedded students' tokenizers.

    python bench/synthetic_stats.py --per-family 100 --seed 0 --examples

Prints markdown (pasted into docs/synthetic.md); --json writes every figure.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path as FsPath

from rich.progress import track

from qrdistill.quality.arithmetic import find_calculations
from qrdistill.students.embedded import tokenizer_dir
from qrdistill.synthetic.families import FAMILIES, make_questions
from qrdistill.synthetic.teacher import FLAWS, FlawRates, render_path
from qrdistill.tasks import get_task
from qrdistill.teacher.styles import PAPER_STYLES

STUDENTS = ("smollm2-135m", "gemma3-270m")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-family", type=int, default=100, help="questions per family (x6 styles = paths)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--examples", action="store_true", help="print one clean path per family and style")
    parser.add_argument("--json", type=FsPath, default=None)
    args = parser.parse_args()
    from transformers import AutoTokenizer

    rates = FlawRates()
    tokenizers = {name: AutoTokenizer.from_pretrained(tokenizer_dir(name)) for name in STUDENTS}
    flaws: dict[str, Counter] = defaultdict(Counter)
    checks: Counter = Counter()
    lengths: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    prompt_len: dict[tuple[str, str], list[int]] = defaultdict(list)
    start = time.perf_counter()
    for family in FAMILIES:
        task = get_task(family)
        questions = make_questions(family, args.per_family, seed=args.seed, split="train")
        for q in track(questions, description=family):
            for name, tok in tokenizers.items():
                prompt_len[(family, name)].append(len(tok(task.prompt(q))["input_ids"]))
            for style in PAPER_STYLES:
                text, meta = render_path(q, style, 0, args.seed, rates)
                flaw = meta["flaw"] or "none"
                flaws[family][flaw] += 1
                correct = task.is_correct(text, q.gold, q)
                checks[f"{flaw}: answer correct"] += correct
                checks[f"{flaw}: total"] += 1
                flagged = any(not c.ok for c in find_calculations(text))
                if flaw == "none":
                    checks["none: arithmetic false alarm"] += flagged
                    for name, tok in tokenizers.items():
                        lengths[(family, style, name)].append(len(tok(text)["input_ids"]))
                if flaw == "wrong_step" and "written" in meta and style != "program":
                    checks["wrong_step (written calc): total"] += 1
                    checks["wrong_step (written calc): arithmetic flagged"] += flagged
    elapsed = time.perf_counter() - start
    total = Counter()
    for counts in flaws.values():
        total.update(counts)
    n = sum(total.values())

    print(f"Machine: {platform.platform()}, {platform.processor() or 'cpu'}; python {platform.python_version()}")
    print(f"Command: python bench/synthetic_stats.py --per-family {args.per_family} --seed {args.seed}; {elapsed:.1f} s\n")
    print(f"## Injected flaws over {n} paths (configured: {rates.model_dump()})\n")
    print("| family | paths | none | " + " | ".join(FLAWS) + " |\n|---|---|---|" + "---|" * len(FLAWS))
    for family, counts in [*flaws.items(), ("all", total)]:
        m = sum(counts.values())
        cells = " | ".join(f"{counts[f] / m:.3f}" for f in ("none", *FLAWS))
        print(f"| {family} | {m} | {cells} |")
    print("\n## Checks\n\n| check | rate |\n|---|---|")
    for flaw in ("none", *FLAWS):
        print(f"| {flaw}: answer check says correct | {checks[f'{flaw}: answer correct']}/{checks[f'{flaw}: total']} |")
    print(f"| clean paths flagged by quality.arithmetic | {checks['none: arithmetic false alarm']}/{checks['none: total']} |")
    print(f"| wrong_step (written calc, not program) flagged by quality.arithmetic | "
          f"{checks['wrong_step (written calc): arithmetic flagged']}/{checks['wrong_step (written calc): total']} |")
    print("\n## Clean path length in tokens: mean (max)\n")
    print("| family | tokenizer | prompt | " + " | ".join(PAPER_STYLES) + " |\n|---|---|---|" + "---|" * len(PAPER_STYLES))
    figures: dict[str, object] = {}
    for family in FAMILIES:
        for name in STUDENTS:
            cells = []
            for style in PAPER_STYLES:
                values = lengths[(family, style, name)]
                cells.append(f"{statistics.mean(values):.0f} ({max(values)})")
                figures[f"{family}/{style}/{name}"] = {"mean": statistics.mean(values), "max": max(values), "n": len(values)}
            prompt = prompt_len[(family, name)]
            print(f"| {family} | {name} | {statistics.mean(prompt):.0f} | " + " | ".join(cells) + " |")
    if args.examples:
        clean = FlawRates(wrong_answer=0.0, wrong_step=0.0, irrelevant_step=0.0)
        for family in FAMILIES:
            q = make_questions(family, 1, seed=args.seed, split="train")[0]
            print(f"\n### {family} (synthetic)\n\nQuestion `{q.id}`, gold `{q.gold}`:\n\n````text\n{get_task(family).body(q)}\n````\n")
            for style in PAPER_STYLES:
                print(f"{style}:\n\n````text\n{render_path(q, style, 0, args.seed, clean)[0]}\n````\n")
    if args.json:
        args.json.write_text(json.dumps({"flaws": flaws, "checks": checks, "lengths": figures, "seconds": elapsed}, indent=2))


if __name__ == "__main__":
    main()
