"""Reading what training logged: routing rates per epoch and per-step losses.

Formats (written by ``qrdistill.train``):
    routing.jsonl: {"epoch": 0, "rates": {"cot": {"smollm2": 0.71, "gemma3": 0.44}, ...}}
    metrics.jsonl: {"step": 3, "epoch": 0.4, "ce/smollm2": 2.31, "ce/gemma3": 2.05, ...}

>>> rates = read_routing_rates(run.train("qr_distill", 0))     # {epoch: {style: {student: rate}}}
"""

from __future__ import annotations

from pathlib import Path as FsPath

from qrdistill.jsonl import iter_json_lines

Rates = dict[int, dict[str, dict[str, float]]]


def read_routing_rates(train_dir: FsPath) -> Rates:
    """{epoch: {source: {student: share routed}}} from ``routing.jsonl``; {} when absent.

    An epoch may be logged several times (partial counts); the last record wins.
    """
    file = train_dir / "routing.jsonl"
    if not file.exists():
        return {}
    return {int(obj["epoch"]): obj["rates"] for _, obj in iter_json_lines(file, allow_torn_tail=True)}


def read_routing_gains(train_dir: FsPath) -> Rates:
    """{epoch: {source: {student: mean answer gain}}} from ``routing.jsonl`` (learned routing only); {} when absent."""
    file = train_dir / "routing.jsonl"
    if not file.exists():
        return {}
    return {int(obj["epoch"]): obj["gains"] for _, obj in iter_json_lines(file, allow_torn_tail=True) if obj.get("gains")}


def read_routing_patterns(train_dir: FsPath) -> dict[str, float]:
    """Share of paths sent to each set of students over the whole run (``a+b`` keys), from
    ``routing.jsonl``: every epoch's last record, weighted by its paths; {} when absent."""
    file = train_dir / "routing.jsonl"
    if not file.exists():
        return {}
    last = {int(obj["epoch"]): obj for _, obj in iter_json_lines(file, allow_torn_tail=True) if obj.get("patterns")}
    totals: dict[str, float] = {}
    for obj in last.values():
        n = sum(obj["n"].values())
        for key, share in obj["patterns"].items():
            totals[key] = totals.get(key, 0.0) + share * n
    whole = sum(totals.values())
    return {key: value / whole for key, value in sorted(totals.items())} if whole else {}


def routing_table(rates: Rates) -> str:
    """Markdown: one row per (epoch, source: style or teacher / style), one column per student."""
    students = sorted({st for e in rates.values() for s in e.values() for st in s})
    lines = ["| epoch | source | " + " | ".join(students) + " |", "|---|---|" + "---|" * len(students)]
    for epoch in sorted(rates):
        for style in sorted(rates[epoch]):
            cells = [f"{rates[epoch][style][st]:.2f}" if st in rates[epoch][style] else "—" for st in students]
            lines.append(f"| {epoch} | {style} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def read_loss_curves(train_dir: FsPath) -> dict[str, list[tuple[int, float]]]:
    """{student: [(step, mean token cross-entropy), ...]} from ``metrics.jsonl``; {} when absent."""
    file = train_dir / "metrics.jsonl"
    if not file.exists():
        return {}
    curves: dict[str, list[tuple[int, float]]] = {}
    for _, obj in iter_json_lines(file, allow_torn_tail=True):
        for key, value in obj.items():
            if key.startswith("ce/"):
                curves.setdefault(key[3:], []).append((int(obj["step"]), float(value)))
    return curves
