"""The cooperative trainer (Stages C + D) and every baseline, in one loop read top to bottom.

Per optimizer step, on a batch of kept paths j and students s (docs/method.md has the details):

    l_js      per-token CE of student s on path j (under j's style prompt), LM head only at supervised positions
    u_js      answer gain of j for s: log p_s(gold | path prefix) - log p_s(gold | bare cue)   (routing/reward.py)
    g_js      gates: learned router (qr_distill), all ones (no_route, baselines) or random
    L         = sum_s L_distill(s) + lambda_entropy * L_rate + L_route + lambda_mutual * L_mutual   (Eq. 9)
    L_distill(s) = (1/B) sum_j g_js l_js                        CE only on the paths routed to s
    L_rate    = -H(abar)                                         keeps the gate rate away from 0 and 1
    L_route   = mean_js BCE(logit_js, sigmoid(kappa z(u_js)))    router learns which paths are worth most to s
    L_mutual  = L_align + L_spread + L_comp                      text-aligned peer teaching, all paths

Each student has its own AdamW and learning rate; router, projections and competence share one
more. Gradients are averaged over processes by hand (all-reduce), so the same code runs in one
process or under ``accelerate launch`` (DDP over gloo or NCCL). With ``sharding: fsdp`` the
students are sharded with FSDP2 (``sharding.py``), which reduces their gradients; the all-reduce
then covers the router and peer modules only.

>>> result = train(TrainConfig(output_dir="out", students=[spec_a, spec_b]), kept, questions)
>>> result.adapters["smollm2"]            # a PEFT adapter dir: load_student(spec, adapter_dir=...)
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import math
import random
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from accelerate import Accelerator
from rich.console import Console
from rich.table import Table
from tqdm.auto import tqdm

from qrdistill.jsonl import Appender, iter_json_lines, write_atomic, write_records
from qrdistill.output import keep_words
from qrdistill.records import Path, Question
from qrdistill.routing.embed import cached_embeddings
from qrdistill.routing.objective import rate_regulariser, router_loss, usefulness_targets
from qrdistill.routing.reward import answer_nll
from qrdistill.routing.router import Gates, Router, fixed_gates, pattern_gates, random_gates, sample_gates
from qrdistill.routing.state import N_FEATURES, StudentState
from qrdistill.students import Student, load_student
from qrdistill.teacher.styles import load_styles
from qrdistill.train import checkpoint as ckpt
from qrdistill.train.alignment import pool_spans
from qrdistill.train.config import TrainConfig
from qrdistill.train.data import BareCue, Example, build_bare_cues, build_examples, epoch_batches
from qrdistill.train.losses import distill_loss, per_example_sum
from qrdistill.train.methods import Method, get_method, select_paths
from qrdistill.train.peer import PeerTeacher, peer_losses
from qrdistill.train.sharding import (
    StudentForward,
    full_state_dict,
    gather,
    gather_state,
    load_full_,
    load_optimizer_state,
    refuse_deepspeed,
    resident_bytes,
    resolve_sharding,
    shard_students,
    whole,
)

log = logging.getLogger(__name__)
ROUTED = "routed.jsonl"
"""One line per training path: the students its last routing decision sent it to (``{"key", "epoch", "students"}``)."""


@dataclass
class TrainResult:
    """Where a finished run put its outputs."""

    output_dir: FsPath
    adapters: dict[str, FsPath]
    """Student name -> adapter dir (PEFT adapter + tokenizer, or a full model dir)."""
    metrics: FsPath
    routing: FsPath
    steps: int
    train_seconds: float
    """Wall time of the optimisation loop (no loading, encoding or saving)."""
    tokens: dict[str, float]
    """Student name -> non-padding tokens it processed in this call (all processes)."""
    sharding: str
    """How the students were held: ``fsdp`` (sharded over the processes) or ``none`` (whole in each)."""
    resident_bytes: dict[str, int]
    """Student name -> bytes of its weights + optimizer state held by this process at the end."""


@dataclass
class _Run:
    """Everything the loop updates, gathered so checkpoints can save and restore it."""

    students: list[Student]
    forwards: list[StudentForward]
    """Each student's forward (hidden states + LM head on supervised rows); the FSDP root unit when sharded."""
    sharded: bool
    router: Router
    peer: PeerTeacher
    state: StudentState
    optimizers: list[torch.optim.Optimizer]
    schedulers: list[torch.optim.lr_scheduler.LambdaLR]
    gate_generator: torch.Generator
    bare_nll: torch.Tensor
    """[questions, S] each student's NLL of each question's answer after the bare cue (refreshed every epoch)."""
    step: int = 0
    micro: int = 0
    last_routes: dict[str, list[Any]] | None = None
    """Path key -> [epoch, students it was last sent to]: each path's latest routing (routed.jsonl)."""
    routing_counts: dict[str, Any] | None = None
    """This epoch so far: per source, hard-gate sums per student + the path count (``rates``), answer-gain
    sums and counts per student (``gains``); the count of each set of students paths went to (``patterns``)."""

    def aux_parameters(self) -> list[torch.nn.Parameter]:
        return [*self.router.parameters(), *self.peer.parameters()]

    def trainable_state(self) -> dict[str, Any]:
        """Whole weights (sharded ones gathered to rank 0: every process calls this when ``sharded``)."""
        return {
            "students": {s.name: {n: gather(p) for n, p in s.model.named_parameters() if p.requires_grad} for s in self.students},
            "router": self.router.state_dict(),
            "peer": self.peer.state_dict(),
            "state": self.state.state_dict(),
            "bare_nll": self.bare_nll.clone(),
        }

    def load_trainable_state(self, saved: dict[str, Any]) -> None:
        for student in self.students:
            weights = saved["students"][student.name]
            for name, param in student.model.named_parameters():
                if param.requires_grad:
                    load_full_(param, weights[name])
        self.router.load_state_dict(saved["router"])
        self.peer.load_state_dict(saved["peer"])
        self.state.load_state_dict(saved["state"])
        self.bare_nll.copy_(saved["bare_nll"])


def _linear_schedule(optimizer: torch.optim.Optimizer, warmup: int, total: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup for ``warmup`` steps, then linear decay to 0 at ``total``."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _path_embeddings(examples: Sequence[Example], config: TrainConfig, accelerator: Accelerator) -> torch.Tensor:
    """Router text embeddings [N, D], computed by the main process for the texts ``config.embedding_cache`` lacks."""
    cache_file = FsPath(config.embedding_cache or FsPath(config.output_dir) / "cache" / "path_embeddings.pt")
    texts = [e.path.text for e in examples]
    if accelerator.is_main_process:
        cached_embeddings(texts, cache_file, config.encoder, progress=True)
    accelerator.wait_for_everyone()
    return cached_embeddings(texts, cache_file, config.encoder).to(accelerator.device)


def _sync_gradients(params: Sequence[torch.nn.Parameter], world: int) -> None:
    """Average gradients over processes (what DDP does), in one flat all-reduce."""
    if world == 1:
        return
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    flat = torch.cat([p.grad.reshape(-1) for p in params])
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for p in params:
        p.grad.copy_(flat[offset : offset + p.numel()].view_as(p))
        offset += p.numel()


@torch.no_grad()
def _refresh_bare_nll(run: _Run, cues: Sequence[BareCue], batch_size: int) -> None:
    """Each student's NLL of every question's gold answer right after the bare answer cue (eval mode,
    no dropout), into ``run.bare_nll`` (NaN where the cue's answer tokens were cut)."""
    for s, (student, forward) in enumerate(zip(run.students, run.forwards)):
        was_training = student.model.training
        student.model.eval()
        try:
            for start in range(0, len(cues), batch_size):
                chunk = cues[start : start + batch_size]
                cols = student.collate([c.encodings[s] for c in chunk])
                _, nll, rows = forward(cols["input_ids"], cols["attention_mask"], cols["labels"])
                total, known = answer_nll(nll, rows.example, cols["labels"], [c.answer_tokens[s] for c in chunk], len(chunk))
                run.bare_nll[start : start + len(chunk), s] = torch.where(known, total, torch.full_like(total, float("nan")))
        finally:
            student.model.train(was_training)


@dataclass
class _StepOut:
    """One micro-batch's loss, its gates and answer gains, and detached statistics for the log."""

    loss: torch.Tensor
    stats: dict[str, torch.Tensor]
    gates: Gates
    gains: torch.Tensor
    """[B, S] answer gain of each path for each student (nats; 0 where unknown or not computed)."""
    known: torch.Tensor
    """[B, S] whether the gain is defined (the path and the bare cue both state the gold answer)."""


def _micro_step(
    batch: Sequence[Example],
    index: Sequence[int],
    run: _Run,
    method: Method,
    config: TrainConfig,
    text_emb: torch.Tensor | None,
    accelerator: Accelerator,
) -> _StepOut:
    """Loss of one micro-batch (this process's share) and its detached statistics."""
    students, n, device = run.students, len(batch), accelerator.device
    learned = method.routing == "learned"
    stats: dict[str, torch.Tensor] = {}
    hidden, token_loss, per_char, answer_sums, answer_known = [], [], [], [], []
    for s, student in enumerate(students):
        cols = student.collate([x.encodings[s] for x in batch])
        h, nll, rows = run.forwards[s](cols["input_ids"], cols["attention_mask"], cols["labels"])
        sums = per_example_sum(nll, rows.example, n)
        chars = torch.tensor([x.n_chars(s) for x in batch], dtype=torch.float32, device=device)
        hidden.append(h)
        token_loss.append(sums / rows.count(n))
        per_char.append(sums.detach() / chars)
        if learned:
            total, known = answer_nll(nll, rows.example, cols["labels"], [x.answer_tokens[s] for x in batch], n)
            answer_sums.append(total)
            answer_known.append(known)
        stats[f"ce/{student.name}"] = token_loss[-1].detach().mean()
        stats[f"tokens/{student.name}"] = cols["attention_mask"].sum().float()
        stats[f"supervised_tokens/{student.name}"] = rows.targets.new_tensor(rows.targets.numel(), dtype=torch.float32)
    token_loss_js = torch.stack(token_loss, dim=1)
    npc = torch.stack(per_char, dim=1)
    style_ids = run.router.style_ids([x.path.style for x in batch])
    loss = token_loss_js.new_zeros(())
    gains = torch.zeros(n, len(students), device=device)
    known = torch.zeros(n, len(students), dtype=torch.bool, device=device)

    if learned:
        bare = run.bare_nll[[x.question_index for x in batch]].to(device)
        known = torch.stack(answer_known, dim=1) & ~bare.isnan()
        gains = torch.where(known, bare.nan_to_num() - torch.stack(answer_sums, dim=1), gains)
        logits = run.router(text_emb[list(index)], style_ids, run.state.features(npc, style_ids))
        gates = sample_gates(logits, run.gate_generator)
        mean, std = run.state.gain_reference(gains, known)
        targets = usefulness_targets(gains, mean, std, config.route_sharpness)
        l_route = router_loss(logits, targets, known)
        l_rate = rate_regulariser(gates.prob)
        loss = loss + l_route + config.lambda_entropy * l_rate
        stats |= {"l_route": l_route.detach(), "l_rate": l_rate.detach(), "abar": gates.prob.detach().mean()}
        for s, student in enumerate(students):
            stats[f"gain/{student.name}"] = gains[known[:, s], s].mean() if known[:, s].any() else gains.new_zeros(())
            stats[f"p_route/{student.name}"] = gates.prob[:, s].detach().mean()
        run.state.update(accelerator.gather(npc), accelerator.gather(style_ids), accelerator.gather(gains), accelerator.gather(known))
    elif method.routing == "random":
        if config.random_patterns:
            gates = pattern_gates(n, _patterns_by_index(config.random_patterns, students), len(students), run.gate_generator, device)
        else:
            gates = random_gates(n, len(students), config.random_gate_rate, run.gate_generator, device)
    else:
        gates = fixed_gates(n, len(students), device)

    for s, student in enumerate(students):
        l_distill = distill_loss(token_loss_js[:, s], gates.hard[:, s])
        loss = loss + l_distill
        stats[f"distill/{student.name}"] = l_distill.detach()
        stats[f"rate/{student.name}"] = gates.hard[:, s].mean()

    if method.peer:
        keep = [list(x.spans) for x in batch]
        pooled = [pool_spans(hidden[s], [x.links[s] for x in batch], keep) for s in range(len(students))]
        span_path = torch.repeat_interleave(torch.arange(n, device=device), torch.tensor([len(k) for k in keep], device=device))
        z = run.peer.project(pooled)
        terms = peer_losses(z, run.peer.competence_logits(z, span_path, n), span_path, npc)
        loss = loss + config.lambda_mutual * terms.total
        stats |= {"l_align": terms.align.detach(), "l_spread": terms.spread.detach(), "l_comp": terms.comp.detach()}
        stats |= {f"gamma/{st.name}": terms.gamma[:, s].mean() for s, st in enumerate(students)}
    stats["loss"] = loss.detach()
    return _StepOut(loss, stats, gates, gains.detach(), known)


def pattern_key(members: Sequence[str]) -> str:
    """How a set of students is written in logs and configs: their names joined by ``+``.

    >>> pattern_key(["smollm2", "gemma3"])
    'smollm2+gemma3'
    """
    return "+".join(members)


def _patterns_by_index(patterns: Mapping[str, float], students: Sequence[Student]) -> dict[tuple[int, ...], float]:
    names = [s.name for s in students]
    out = {}
    for key, freq in patterns.items():
        members = key.split("+")
        unknown = [m for m in members if m not in names]
        if unknown:
            raise ValueError(f"random_patterns: {key!r} names unknown student(s) {unknown}; the students are {names}")
        out[tuple(sorted(names.index(m) for m in members))] = freq
    return out


def routing_sources(paths: Sequence[Path]) -> list[str]:
    """The label routing rates are counted under, per path: its style, or ``teacher / style``
    when the paths come from more than one teacher.

    >>> routing_sources([Path(..., teacher="palm", style="cot"), Path(..., teacher="codex", style="program")])
    ['palm / cot', 'codex / program']
    """
    several = len({p.teacher for p in paths}) > 1
    return [f"{p.teacher} / {p.style}" if several else p.style for p in paths]


def _count_routing(run: _Run, out: _StepOut, index: torch.Tensor, keys: Sequence[str], source_ids: Sequence[int],
                   sources: Sequence[str], epoch: int, accelerator: Accelerator) -> None:
    """Add a micro-batch (all processes) to this epoch's routing counters (``_Run.routing_counts``) and
    record where each of its paths went (``_Run.last_routes``); ``index``: the batch's example indices."""
    hard, index = accelerator.gather(out.gates.hard.detach()), accelerator.gather(index).tolist()
    gains, known = accelerator.gather(out.gains), accelerator.gather(out.known)
    names = [s.name for s in run.students]
    routes = run.last_routes if run.last_routes is not None else {}
    for row, i in zip(hard.tolist(), index):
        routes[keys[i]] = [epoch, [names[s] for s, g in enumerate(row) if g > 0]]
    run.last_routes = routes
    ids = [source_ids[i] for i in index]
    counts = run.routing_counts if run.routing_counts is not None else {"rates": {}, "gains": {}, "patterns": {}}
    for row, source_id, gain, has in zip(hard.tolist(), ids, gains.tolist(), known.tolist()):
        source = sources[source_id]
        rates = counts["rates"].setdefault(source, [0.0] * (len(row) + 1))
        value = counts["gains"].setdefault(source, [0.0] * (2 * len(row)))
        for s, g in enumerate(row):
            rates[s] += g
            if has[s]:
                value[s] += gain[s]
                value[len(row) + s] += 1
        rates[-1] += 1
        key = pattern_key([names[s] for s, g in enumerate(row) if g > 0])
        counts["patterns"][key] = counts["patterns"].get(key, 0) + 1
    run.routing_counts = counts


def _routing_record(run: _Run, epoch: int, complete: bool, step: int) -> dict[str, Any]:
    """One epoch's routing: assignment rates per source (``routing_sources``) x student, overall rates,
    the share of paths sent to each set of students, and the mean answer gain per source x student
    (what the router learns from; absent for methods without learned routing). ``step``: the
    optimizer step it belongs to."""
    counts = run.routing_counts or {"rates": {}, "gains": {}, "patterns": {}}
    names = [s.name for s in run.students]
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


def log_metrics(appender: Appender, record: dict[str, Any]) -> None:
    """Append one step's metrics (its own function so tests can interrupt a run here)."""
    appender.write(record)


def _truncate_jsonl(path: FsPath, keep: Any) -> None:
    """Keep only the lines of ``path`` for which ``keep(obj)`` holds (resume drops steps after the checkpoint)."""
    if path.exists():
        write_records(path, [obj for _, obj in iter_json_lines(path, allow_torn_tail=True) if keep(obj)])


def _save_checkpoint(run: _Run, config: TrainConfig, accelerator: Accelerator, fingerprint: dict[str, Any]) -> None:
    out, rank = FsPath(config.output_dir), accelerator.process_index
    stage = ckpt.staging_dir(out, run.step)
    if accelerator.is_main_process:
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir(parents=True)
    accelerator.wait_for_everyone()
    torch.save(ckpt.rng_state(run.gate_generator), stage / f"rng-{rank}.pt")
    if accelerator.is_main_process or run.sharded:  # gathering sharded weights takes every process
        trainable = run.trainable_state()
        optimizers = [gather_state(o.state_dict()) for o in run.optimizers]
    if accelerator.is_main_process:
        torch.save(trainable, stage / "trainable.pt")
        torch.save({"optimizers": optimizers, "schedulers": [s.state_dict() for s in run.schedulers]}, stage / "optim.pt")
        ckpt.write_json(stage / "trainer.json", {"step": run.step, "micro": run.micro, "world": accelerator.num_processes,
                                                  "routing_counts": run.routing_counts, "last_routes": run.last_routes,
                                                  "fingerprint": fingerprint})
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        ckpt.publish(out, run.step, config.save_total_limit)
    accelerator.wait_for_everyone()


def _fingerprint(config: TrainConfig, paths: Sequence[Path]) -> dict[str, Any]:
    """What a checkpoint must match to be resumed: method, students and the training paths."""
    keys = hashlib.sha256("\n".join(sorted(p.key for p in paths)).encode()).hexdigest()
    return {"method": config.method, "students": [s.model_dump(mode="json") for s in config.students], "paths": keys}


def _resume(run: _Run, config: TrainConfig, accelerator: Accelerator, fingerprint: dict[str, Any]) -> bool:
    """Load the newest checkpoint into ``run``; False when there is none."""
    found = ckpt.latest_checkpoint(config.output_dir)
    if found is None:
        return False
    meta = ckpt.read_json(found / "trainer.json")
    if meta["world"] != accelerator.num_processes:
        raise RuntimeError(f"{found}: written by {meta['world']} process(es), resuming with {accelerator.num_processes}; resume with the same number")
    differs = [k for k, v in fingerprint.items() if meta.get("fingerprint", {}).get(k) != v]
    if differs:
        raise RuntimeError(f"{found}: this checkpoint was written for a different {', '.join(differs)}; "
                           f"resume with the same settings and data, or delete {config.output_dir} (or pick another output_dir) to start afresh")
    run.load_trainable_state(torch.load(found / "trainable.pt", weights_only=False))
    optim = torch.load(found / "optim.pt", weights_only=False)
    for opt, saved in zip(run.optimizers, optim["optimizers"]):
        load_optimizer_state(opt, saved)
    for sched, saved in zip(run.schedulers, optim["schedulers"]):
        sched.load_state_dict(saved)
    run.step, run.micro, run.routing_counts = meta["step"], meta["micro"], meta["routing_counts"]
    run.last_routes = meta.get("last_routes")
    ckpt.restore_rng(torch.load(found / f"rng-{accelerator.process_index}.pt", weights_only=False), run.gate_generator)
    return True


def _save_outputs(run: _Run, method: Method, config: TrainConfig, out: FsPath, weights: list[dict[str, torch.Tensor] | None]) -> dict[str, FsPath]:
    """Adapters under students/<name>/ (staged, then renamed); router.pt and peer.pt when the method uses
    them; routed.jsonl (where each path last went).

    ``weights``: per student, its gathered state dict when sharded, else None (saved from the model).
    """
    adapters = {}
    for student, state_dict in zip(run.students, weights):
        final, stage = out / "students" / student.name, out / "students" / f".tmp-{student.name}"
        shutil.rmtree(stage, ignore_errors=True)
        student.save(stage, state_dict=state_dict)
        shutil.rmtree(final, ignore_errors=True)
        stage.rename(final)
        adapters[student.name] = final
    names = [s.name for s in run.students]
    if method.routing == "learned":
        router = {"state_dict": run.router.state_dict(), "styles": run.router.styles, "students": names, "state": run.state.state_dict()}
        ckpt.save_torch_atomic(router, out / "router.pt")
    if method.peer:
        peer = {"state_dict": run.peer.state_dict(), "hidden_sizes": [s.hidden_size for s in run.students], "shared_dim": config.shared_dim, "students": names}
        ckpt.save_torch_atomic(peer, out / "peer.pt")
    routes = sorted((run.last_routes or {}).items())
    write_records(out / ROUTED, [{"key": key, "epoch": epoch, "students": members} for key, (epoch, members) in routes])
    return adapters


def _summary(run: _Run, last: dict[str, float], seconds: float, tokens: dict[str, float], resident: dict[str, int], config: TrainConfig) -> None:
    held = ", students sharded with FSDP2" if run.sharded else ""
    table = Table(title=f"{config.method}: {run.step} steps in {seconds:.0f}s{held} ({config.output_dir})")
    for col in ("student", "last CE", "gate rate", "tokens/s", "weights+optim MB/process"):
        table.add_column(col)
    for s in run.students:
        table.add_row(s.name, f"{last.get(f'ce/{s.name}', float('nan')):.3f}", f"{last.get(f'rate/{s.name}', float('nan')):.2f}",
                      f"{tokens[s.name] / max(seconds, 1e-9):.0f}", f"{resident[s.name] / 2**20:.0f}")
    console = Console(stderr=True)
    console.print(keep_words(table, console.width))


def train(config: TrainConfig, kept: Sequence[Path], questions: Mapping[str, Question], resume: bool = False) -> TrainResult:
    """Train ``config.students`` together with ``config.method`` on ``kept`` paths.

    ``kept``: the paths to train on (kept.jsonl; for ``no_filter`` the filter's full output,
    see ``methods.select_paths``). ``questions``: Question records by id.

    >>> train(cfg, read_records("run/kept.jsonl", Path), {q.id: q for q in qs}).adapters
    """
    method = get_method(config.method)
    if method.peer and len(config.students) < 2:
        raise ValueError(f"method {config.method} uses peer teaching and needs >= 2 students, got {len(config.students)}")
    if config.report_to == "tensorboard" and importlib.util.find_spec("tensorboard") is None:
        raise RuntimeError("report_to: tensorboard needs the 'tensorboard' package (pip install tensorboard), or set report_to: none")
    refuse_deepspeed()
    # cpu=True without CUDA: a torchrun / `accelerate launch --multi_gpu` job then uses gloo on CPU
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    rank, world, main = accelerator.process_index, accelerator.num_processes, accelerator.is_main_process
    sharded = resolve_sharding(config.sharding, world) == "fsdp"
    out = FsPath(config.output_dir)
    metrics_file, routing_file = out / "metrics.jsonl", out / "routing.jsonl"
    if not resume and ckpt.latest_checkpoint(out) is not None:
        raise FileExistsError(f"{out} already holds a run (checkpoints/); pass resume=True (--resume) to continue it, or choose another output_dir")
    paths = select_paths(kept, config.method)
    budget_paths = select_paths(kept, "qr_distill")
    if not paths:
        raise ValueError(f"method {config.method}: none of the {len(kept)} paths given is usable (status ok, kept / answer-checked)")

    _seed_everything(config.seed)
    # sharded: loaded on CPU; fully_shard moves one unit at a time to the accelerator as it shards it,
    # so no process ever holds a whole student in accelerator memory
    load_on = "cpu" if sharded else str(accelerator.device)
    students = [load_student(spec, device=load_on, seed=config.seed) for spec in config.students]
    forwards = [StudentForward(s) for s in students]
    if sharded:
        shard_students(forwards, accelerator.device, world)
    question_ids = sorted({p.question_id for p in paths})
    templates = load_styles(config.styles_file) if config.style_prompts else None
    examples = build_examples(paths, questions, students, templates, question_ids, progress=main)
    learned = method.routing == "learned"
    cues = build_bare_cues(question_ids, questions, students) if learned else []
    text_emb = _path_embeddings(examples, config, accelerator) if learned else None
    styles = sorted({p.style for p in paths})
    torch.manual_seed(config.seed)
    router = Router(text_emb.shape[1] if text_emb is not None else 1, styles, len(students), N_FEATURES).to(accelerator.device)
    peer = PeerTeacher([s.hidden_size for s in students], config.shared_dim).to(accelerator.device)
    state = StudentState(len(students), styles, config.state_momentum).to(accelerator.device)

    global_batch = config.per_device_train_batch_size * world
    micro_per_epoch = math.ceil(len(paths) / global_batch)
    budget_micro = math.ceil(max(len(budget_paths), 1) / global_batch)
    total_steps = config.max_steps if config.max_steps > 0 else math.ceil(config.num_train_epochs * budget_micro / config.gradient_accumulation_steps)
    warmup = round(config.warmup_ratio * total_steps)
    optimizers = [torch.optim.AdamW(s.trainable_parameters(), lr=s.spec.learning_rate, weight_decay=config.weight_decay) for s in students]
    optimizers.append(torch.optim.AdamW([*router.parameters(), *peer.parameters()], lr=config.learning_rate, weight_decay=config.weight_decay))
    run = _Run(
        students=students, forwards=forwards, sharded=sharded, router=router, peer=peer, state=state, optimizers=optimizers,
        schedulers=[_linear_schedule(o, warmup, total_steps) for o in optimizers],
        gate_generator=torch.Generator().manual_seed(config.seed * 1009 + rank + 1),
        bare_nll=torch.full((len(question_ids), len(students)), float("nan")),
    )
    torch.manual_seed(config.seed + rank)  # dropout noise differs per process, like different batches
    fingerprint = _fingerprint(config, paths)
    if resume and _resume(run, config, accelerator, fingerprint):
        if main:
            _truncate_jsonl(metrics_file, lambda r: r["step"] <= run.step)
            _truncate_jsonl(routing_file, lambda r: r["step"] <= run.step)
            log.info("resumed %s at step %d", config.output_dir, run.step)
    elif main:
        for stale in (metrics_file, routing_file):
            stale.unlink(missing_ok=True)
    if main:
        write_atomic(out / "config.yaml", config.to_yaml())
    accelerator.wait_for_everyone()

    lengths = [e.length for e in examples]
    path_keys = [e.path.key for e in examples]
    labels = routing_sources([e.path for e in examples])
    sources = sorted(set(labels))
    source_ids = [sources.index(label) for label in labels]
    tensorboard = None
    if main and config.report_to == "tensorboard":
        from torch.utils.tensorboard import SummaryWriter

        tensorboard = SummaryWriter(str(out / "tensorboard"))
    metrics = Appender(metrics_file) if main else None
    routing_log = Appender(routing_file) if main else None
    bar = tqdm(total=total_steps, initial=run.step, desc=f"train {config.method}", disable=not main, dynamic_ncols=True)
    tokens = {s.name: 0.0 for s in students}
    started, last = time.perf_counter(), {}
    batches_epoch, batches = -1, []
    student_params = [] if sharded else [p for s in students for p in s.trainable_parameters()]  # FSDP reduces them
    synced_params = student_params + run.aux_parameters()

    while run.step < total_steps:
        step_stats: dict[str, torch.Tensor] = {}
        for _ in range(config.gradient_accumulation_steps):
            epoch, position = divmod(run.micro, micro_per_epoch)
            if position == 0 and run.routing_counts:
                if main:
                    routing_log.write(_routing_record(run, epoch - 1, complete=True, step=run.step + 1))
                run.routing_counts = None
            if position == 0 and learned:  # the bare-cue half of the answer gain, once per epoch
                _refresh_bare_nll(run, cues, config.per_device_train_batch_size)
            if epoch != batches_epoch:
                batches = epoch_batches(lengths, global_batch, config.seed, epoch, config.bucket_size, strata=labels)
                batches_epoch = epoch
            mine = batches[position][rank * config.per_device_train_batch_size : (rank + 1) * config.per_device_train_batch_size]
            step_out = _micro_step([examples[i] for i in mine], mine, run, method, config, text_emb, accelerator)
            (step_out.loss / config.gradient_accumulation_steps).backward()
            _count_routing(run, step_out, torch.tensor(mine, device=accelerator.device), path_keys, source_ids, sources, epoch, accelerator)
            for key, value in step_out.stats.items():
                step_stats[key] = step_stats.get(key, 0.0) + value / config.gradient_accumulation_steps
            run.micro += 1
        _sync_gradients(synced_params, world)
        norms = {f"grad_norm/{s.name}": torch.nn.utils.clip_grad_norm_(s.trainable_parameters(), config.max_grad_norm) for s in students}
        norms["grad_norm/router"] = torch.nn.utils.clip_grad_norm_(run.aux_parameters(), config.max_grad_norm)
        for opt, sched in zip(optimizers, run.schedulers):
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
        run.step += 1

        keys = sorted(step_stats)
        reduced = accelerator.reduce(torch.stack([step_stats[k].float().reshape(()) for k in keys]), reduction="mean")
        last = dict(zip(keys, reduced.tolist()))
        last |= {key: float(whole(norm)) for key, norm in norms.items()}  # pre-clipping norms of the averaged gradients
        for key in keys:  # token counts: totals over processes and accumulation, not means
            if key.startswith(("tokens/", "supervised_tokens/")):
                last[key] *= world * config.gradient_accumulation_steps
        for s in students:
            tokens[s.name] += last[f"tokens/{s.name}"]
        if main and (run.step % config.logging_steps == 0 or run.step == total_steps):
            record = {"step": run.step, "epoch": run.micro / micro_per_epoch, **last}
            record |= {f"lr/{s.name}": sched.get_last_lr()[0] for s, sched in zip(students, run.schedulers)}
            record["lr/router"] = run.schedulers[-1].get_last_lr()[0]
            log_metrics(metrics, record)
            if tensorboard is not None:
                for key, value in record.items():
                    tensorboard.add_scalar(key, value, run.step)
        bar.update(1)
        bar.set_postfix({k: f"{v:.3f}" for k, v in last.items() if k == "loss" or k.startswith(("ce/", "rate/"))})
        if run.step == total_steps and run.routing_counts:
            if main:
                epoch = (run.micro - 1) // micro_per_epoch
                routing_log.write(_routing_record(run, epoch, complete=run.micro % micro_per_epoch == 0, step=run.step))
            run.routing_counts = None
        if config.is_checkpoint_step(run.step, total_steps):
            _save_checkpoint(run, config, accelerator, fingerprint)
    bar.close()
    seconds = time.perf_counter() - started

    adapters = {s.name: out / "students" / s.name for s in students}
    resident = {s.name: resident_bytes(s.model, opt) for s, opt in zip(students, optimizers)}
    weights = [full_state_dict(s.model) if sharded else None for s in students]
    if main:
        adapters = _save_outputs(run, method, config, out, weights)
        metrics.close()
        routing_log.close()
        if tensorboard is not None:
            tensorboard.close()
        _summary(run, last, seconds, tokens, resident, config)
    accelerator.wait_for_everyone()
    return TrainResult(output_dir=out, adapters=adapters, metrics=metrics_file, routing=routing_file, steps=run.step, train_seconds=seconds, tokens=tokens,
                       sharding="fsdp" if sharded else "none", resident_bytes=resident)
