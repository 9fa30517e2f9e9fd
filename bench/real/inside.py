"""Inside a finished grid: how far each learned router moved from its initial weights, where the
gates sent each source's paths against the answer gain it gave, and how the students' test
answers open and end.

    python bench/real/inside.py runs/real/svamp-cpu [--task svamp]

Reads ``train/<method>/seed<k>/{router.pt,routing.jsonl}`` and ``eval/<method>/seed<k>/*.jsonl``
of a run directory and prints markdown. The initial router is rebuilt the way training builds it
(``Router.seeded``), so "moved" is exact, not estimated.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence

import torch

from qrdistill.evaluate.generations import Generation
from qrdistill.jsonl import read_records
from qrdistill.method.router import Router
from qrdistill.method.state import N_FEATURES
from qrdistill.report.trainlogs import read_routing_gains, read_routing_patterns, read_routing_rates
from qrdistill.rundir import RunDir


def router_moved(run: RunDir, method: str, seed: int) -> dict[str, float] | None:
    """{tensor: max |w - w0|} of one trained router against its re-seeded initial weights; None without one."""
    file = run.train(method, seed) / "router.pt"
    if not file.exists():
        return None
    saved = torch.load(file, weights_only=False)
    trained = saved["state_dict"]
    embed_dim = trained["style.weight"].shape[1]
    text_dim = trained["mlp.0.weight"].shape[1] - 2 * embed_dim - N_FEATURES
    initial = Router.seeded(seed, text_dim, saved["styles"], len(saved["students"]), N_FEATURES,
                            hidden=trained["mlp.0.weight"].shape[0], embed_dim=embed_dim).state_dict()
    return {name: (w - initial[name]).abs().max().item() for name, w in trained.items()}


def routing_lines(run: RunDir, method: str, seed: int) -> list[str]:
    """The last epoch's rate (and answer gain, where learned) per source and student, and the routed sets."""
    rates, gains = read_routing_rates(run.train(method, seed)), read_routing_gains(run.train(method, seed))
    if not rates:
        return []
    epoch = max(rates)
    gain = gains.get(epoch, {})
    cells = []
    for source in sorted(rates[epoch]):
        parts = [f"{st} {rate:.2f}" + (f" (gain {gain[source][st]:+.2f})" if st in gain.get(source, {}) else "")
                 for st, rate in sorted(rates[epoch][source].items())]
        cells.append(f"{source}: " + ", ".join(parts))
    patterns = ", ".join(f"{k} {v:.2f}" for k, v in read_routing_patterns(run.train(method, seed)).items())
    return [f"- {method} seed {seed}, epoch {epoch}: " + "; ".join(cells), f"  - sets: {patterns}"]


def answers_line(run: RunDir, method: str, seeds: Sequence[int], student: str, task: str) -> str | None:
    """Right, no-answer and cut-at-max-tokens shares and the three commonest two-word openings, pooled over seeds."""
    rows = [g for seed in seeds if (f := run.eval(method, seed, student, task)).exists() for g in read_records(f, Generation)]
    if not rows:
        return None
    n = len(rows)
    openings = Counter(" ".join(g.completion.split()[:2]) for g in rows).most_common(3)
    styles = Counter(g.style or "plain" for g in rows)
    return (f"| {method} | {student} | {n} | {100 * sum(g.correct for g in rows) / n:.1f} | "
            f"{100 * sum(g.answer is None for g in rows) / n:.1f} | {100 * sum(g.stop == 'length' for g in rows) / n:.1f} | "
            + ", ".join(f"{s} {c}" for s, c in styles.items()) + " | " + "; ".join(f'"{o}" {c}' for o, c in openings) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir")
    parser.add_argument("--task", default="svamp")
    args = parser.parse_args()
    run = RunDir(args.run_dir)
    methods = sorted(p.name for p in (run.root / "eval").iterdir() if p.is_dir())
    seeds = sorted({int(p.name.removeprefix("seed")) for m in methods for p in (run.root / "eval" / m).glob("seed*")})
    print("## Router: max |w - w0| per tensor\n")
    for method in methods:
        for seed in seeds:
            if (moved := router_moved(run, method, seed)) is not None:
                print(f"- {method} seed {seed}: " + ", ".join(f"{k} {v:.3f}" for k, v in moved.items()))
    print("\n## Routing, last epoch: rate per source and student (mean answer gain, nats)\n")
    for method in methods:
        for seed in seeds:
            for line in routing_lines(run, method, seed):
                print(line)
    print("\n## Test answers in the chosen style, pooled over seeds\n")
    print("| method | student | n | right % | no answer % | cut % | styles (generations) | commonest openings |")
    print("|---|---|---|---|---|---|---|---|")
    students = sorted({f.name.split(".")[0] for m in methods for f in (run.root / "eval" / m).glob("seed*/*.jsonl")})
    for method in methods:
        for student in students:
            if line := answers_line(run, method, seeds, student, args.task):
                print(line)


if __name__ == "__main__":
    main()
