"""What a step logs: its terms by name, averaged over processes, to ``metrics.jsonl`` (and TensorBoard).

>>> stats = step_stats(terms, ["smol", "gemma"])                # {"loss": ..., "ce/smol": ..., ...}
>>> metrics = MetricsLog(out, report_to="none", main=True)
>>> last = metrics.reduce(summed, norms, accelerator, per_step=2)
>>> metrics.write(run, last, every=1)
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path as FsPath
from typing import Any

import torch
from accelerate import Accelerator
from rich.console import Console
from rich.table import Table

from qrdistill.jsonl import Appender
from qrdistill.method.step import StepTerms
from qrdistill.output import keep_words
from qrdistill.train.setup import TrainState
from qrdistill.train.sharding import whole


def step_stats(terms: StepTerms, names: Sequence[str]) -> dict[str, torch.Tensor]:
    """A micro-batch's terms as named scalars: per student its CE, tokens, L_distill and gate rate; the
    router's losses, rate and gains (learned routing); the peer losses and competence (peer teaching)."""
    stats: dict[str, torch.Tensor] = {}
    for s, name in enumerate(names):
        stats[f"ce/{name}"] = terms.token_loss[:, s].mean()
        stats[f"tokens/{name}"] = terms.tokens[s]
        stats[f"supervised_tokens/{name}"] = terms.supervised[s]
    if terms.route is not None:
        stats |= {"l_route": terms.route.detach(), "l_rate": terms.rate.detach(), "abar": terms.gates.prob.detach().mean()}
        gains, known = terms.gains, terms.known
        for s, name in enumerate(names):
            stats[f"gain/{name}"] = gains[known[:, s], s].mean() if known[:, s].any() else gains.new_zeros(())
            stats[f"p_route/{name}"] = terms.gates.prob[:, s].detach().mean()
    for s, name in enumerate(names):
        stats[f"distill/{name}"] = terms.distill[s]
        stats[f"rate/{name}"] = terms.gates.hard[:, s].mean()
    if terms.peer is not None:
        peer = terms.peer
        stats |= {"l_align": peer.align.detach(), "l_spread": peer.spread.detach(), "l_comp": peer.comp.detach()}
        stats |= {f"gamma/{name}": peer.gamma[:, s].mean() for s, name in enumerate(names)}
    stats["loss"] = terms.loss.detach()
    return stats


def log_metrics(appender: Appender, record: dict[str, Any]) -> None:
    """Append one step's metrics (its own function so tests can interrupt a run here)."""
    appender.write(record)


class MetricsLog:
    """``metrics.jsonl`` (and ``tensorboard/`` with ``report_to: tensorboard``), written by the main process."""

    def __init__(self, out: FsPath, report_to: str, main: bool) -> None:
        self.file = out / "metrics.jsonl"
        self.appender = Appender(self.file) if main else None
        self.tensorboard = None
        if main and report_to == "tensorboard":
            from torch.utils.tensorboard import SummaryWriter

            self.tensorboard = SummaryWriter(str(out / "tensorboard"))

    @staticmethod
    def check(report_to: str) -> None:
        """Refuse ``report_to: tensorboard`` without the package, before anything loads."""
        if report_to == "tensorboard" and importlib.util.find_spec("tensorboard") is None:
            raise RuntimeError("report_to: tensorboard needs the 'tensorboard' package (pip install tensorboard), or set report_to: none")

    @staticmethod
    def reduce(summed: dict[str, torch.Tensor], norms: dict[str, torch.Tensor], accelerator: Accelerator, per_step: int) -> dict[str, float]:
        """A step's statistics averaged over processes, with the pre-clipping gradient norms; token counts
        are totals over processes and the ``per_step`` micro-batches, not means."""
        keys = sorted(summed)
        reduced = accelerator.reduce(torch.stack([summed[k].float().reshape(()) for k in keys]), reduction="mean")
        last = dict(zip(keys, reduced.tolist()))
        last |= {key: float(whole(norm)) for key, norm in norms.items()}
        for key in keys:
            if key.startswith(("tokens/", "supervised_tokens/")):
                last[key] *= accelerator.num_processes * per_step
        return last

    def write(self, run: TrainState, last: dict[str, float], every: int) -> None:
        """Log the step every ``every`` steps and at the last one, with each optimizer's learning rate."""
        if self.appender is None or not (run.step % every == 0 or run.step == run.total_steps):
            return
        record = {"step": run.step, "epoch": run.micro / run.micro_per_epoch, **last}
        record |= {f"lr/{s.name}": sched.get_last_lr()[0] for s, sched in zip(run.students, run.schedulers)}
        record["lr/router"] = run.schedulers[-1].get_last_lr()[0]
        log_metrics(self.appender, record)
        if self.tensorboard is not None:
            for key, value in record.items():
                self.tensorboard.add_scalar(key, value, run.step)

    def close(self) -> None:
        if self.appender is not None:
            self.appender.close()
        if self.tensorboard is not None:
            self.tensorboard.close()


def print_summary(run: TrainState, method: str, output_dir: str, last: dict[str, float], seconds: float,
                  tokens: dict[str, float], resident: dict[str, int]) -> None:
    """A table of each student's last CE, gate rate, throughput and memory, on stderr."""
    held = ", students sharded with FSDP2" if run.sharded else ""
    table = Table(title=f"{method}: {run.step} steps in {seconds:.0f}s{held} ({output_dir})")
    for col in ("student", "last CE", "gate rate", "tokens/s", "weights+optim MB/process"):
        table.add_column(col)
    for s in run.students:
        table.add_row(s.name, f"{last.get(f'ce/{s.name}', float('nan')):.3f}", f"{last.get(f'rate/{s.name}', float('nan')):.2f}",
                      f"{tokens[s.name] / max(seconds, 1e-9):.0f}", f"{resident[s.name] / 2**20:.0f}")
    console = Console(stderr=True)
    console.print(keep_words(table, console.width))
