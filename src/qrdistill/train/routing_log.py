"""Where the gates sent the paths: per-epoch counts (``routing.jsonl``) and each path's last route
(``routed.jsonl``).

Counts live on the ``TrainState`` (``routing_counts``, ``last_routes``) so checkpoints carry them;
``RoutingLog.add`` folds in a micro-batch of every process, ``RoutingLog.flush`` writes an epoch's
record once and starts the next.

>>> log = RoutingLog([e.path for e in examples], ["smol", "gemma"], Appender(out / "routing.jsonl"))
>>> log.add(run, gates.hard, gains, known, index, epoch)
>>> log.flush(run, epoch, complete=True, step=run.step)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path as FsPath
from typing import Any

import torch

from qrdistill.jsonl import Appender, write_records
from qrdistill.method.gates import pattern_key
from qrdistill.records import Path
from qrdistill.train.setup import TrainState

ROUTED = "routed.jsonl"
"""One line per training path: the students its last routing decision sent it to (``{"key", "epoch", "students"}``)."""


def routing_sources(paths: Sequence[Path]) -> list[str]:
    """The label routing rates are counted under, per path: its style, or ``teacher / style``
    when the paths come from more than one teacher.

    >>> routing_sources([Path(..., teacher="palm", style="cot"), Path(..., teacher="codex", style="program")])
    ['palm / cot', 'codex / program']
    """
    several = len({p.teacher for p in paths}) > 1
    return [f"{p.teacher} / {p.style}" if several else p.style for p in paths]


class RoutingLog:
    """Counts routing decisions per epoch and writes them (``appender``: None on non-main processes)."""

    def __init__(self, paths: Sequence[Path], names: Sequence[str], appender: Appender | None) -> None:
        self.keys = [p.key for p in paths]
        self.labels = routing_sources(paths)
        self.sources = sorted(set(self.labels))
        self.source_ids = [self.sources.index(label) for label in self.labels]
        self.names = list(names)
        self.appender = appender

    def add(self, run: TrainState, hard: torch.Tensor, gains: torch.Tensor, known: torch.Tensor, index: Sequence[int], epoch: int) -> None:
        """Add a micro-batch (already gathered from every process) to this epoch's counts and record where
        each of its paths went; ``index``: the batch's example indices."""
        routes = run.last_routes if run.last_routes is not None else {}
        for row, i in zip(hard.tolist(), index):
            routes[self.keys[i]] = [epoch, [self.names[s] for s, g in enumerate(row) if g > 0]]
        run.last_routes = routes
        counts = run.routing_counts if run.routing_counts is not None else {"rates": {}, "gains": {}, "patterns": {}}
        for row, i, gain, has in zip(hard.tolist(), index, gains.tolist(), known.tolist()):
            source = self.sources[self.source_ids[i]]
            rates = counts["rates"].setdefault(source, [0.0] * (len(row) + 1))
            value = counts["gains"].setdefault(source, [0.0] * (2 * len(row)))
            for s, g in enumerate(row):
                rates[s] += g
                if has[s]:
                    value[s] += gain[s]
                    value[len(row) + s] += 1
            rates[-1] += 1
            key = pattern_key([self.names[s] for s, g in enumerate(row) if g > 0])
            counts["patterns"][key] = counts["patterns"].get(key, 0) + 1
        run.routing_counts = counts

    def flush(self, run: TrainState, epoch: int, complete: bool, step: int) -> None:
        """Write the epoch's record (when anything was counted) and reset the counts."""
        if run.routing_counts and self.appender is not None:
            self.appender.write(self.record(run.routing_counts, epoch, complete, step))
        run.routing_counts = None

    def close(self) -> None:
        if self.appender is not None:
            self.appender.close()

    def record(self, counts: dict[str, Any], epoch: int, complete: bool, step: int) -> dict[str, Any]:
        """One epoch's routing: assignment rates per source x student, overall rates, the share of paths
        sent to each set of students, and the mean answer gain per source x student (what the router
        learns from; absent for methods without learned routing). ``step``: the optimizer step it belongs to."""
        names = self.names
        by_source = counts["rates"]
        rates = {source: {name: c[i] / c[-1] for i, name in enumerate(names)} for source, c in sorted(by_source.items())}
        total = sum(c[-1] for c in by_source.values())
        overall = {name: sum(c[i] for c in by_source.values()) / max(total, 1) for i, name in enumerate(names)}
        n = {source: int(c[-1]) for source, c in sorted(by_source.items())}
        patterns = {key: count / max(total, 1) for key, count in sorted(counts["patterns"].items())}
        record = {"epoch": epoch, "step": step, "complete": complete, "rates": rates, "overall": overall, "n": n, "patterns": patterns}
        gains = {source: {name: g[i] / g[len(names) + i] for i, name in enumerate(names) if g[len(names) + i]}
                 for source, g in sorted(counts["gains"].items())}
        if any(gains.values()):
            record["gains"] = gains
        return record


def write_routed(out: FsPath, last_routes: dict[str, list[Any]] | None) -> None:
    """``routed.jsonl``: each training path's last routing decision."""
    routes = sorted((last_routes or {}).items())
    write_records(out / ROUTED, [{"key": key, "epoch": epoch, "students": members} for key, (epoch, members) in routes])
