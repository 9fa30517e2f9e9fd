"""The training loop (Stages C + D) for QR-Distill and every baseline, read top to bottom.

Each micro-batch is one ``method.step.cooperative_step`` (Eq. 9, docs/method.md); this module
accumulates its gradients, averages them over processes by hand (all-reduce), so the same code runs
in one process or under ``accelerate launch`` (DDP over gloo or NCCL), clips and steps one AdamW per
student plus one for router and peer modules, and logs, checkpoints and saves. With ``sharding:
fsdp`` the students are sharded with FSDP2 (``sharding.py``), which reduces their gradients; the
all-reduce then covers the router and peer modules only.

Set-up is in ``setup.py``, checkpoints in ``resume.py``, logs in ``metrics.py`` and
``routing_log.py``, the saved outputs in ``outputs.py``.

>>> result = train(TrainConfig(output_dir="out", students=[spec_a, spec_b]), kept, questions)
>>> result.adapters["smollm2"]            # a PEFT adapter dir: load_student(spec, adapter_dir=...)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path as FsPath
from typing import Any

import torch
from accelerate import Accelerator
from tqdm.auto import tqdm

from qrdistill.jsonl import Appender, write_atomic
from qrdistill.memory import trim_heap
from qrdistill.method.methods import Method, budget_paths, get_method, select_paths
from qrdistill.method.step import cooperative_step, refresh_bare_nll
from qrdistill.records import Path, Question
from qrdistill.rundir import adapter_dir
from qrdistill.train import checkpoint as ckpt
from qrdistill.train import resume as checkpoints
from qrdistill.train.config import TrainConfig
from qrdistill.train.data import epoch_batches
from qrdistill.train.metrics import MetricsLog, print_summary, step_stats
from qrdistill.train.outputs import TrainResult, save_outputs
from qrdistill.train.routing_log import RoutingLog
from qrdistill.train.setup import TrainData, TrainState, build_run
from qrdistill.train.sharding import full_state_dict, refuse_deepspeed, resident_bytes, resolve_sharding, sync_gradients

log = logging.getLogger(__name__)


def _start(run: TrainState, config: TrainConfig, accelerator: Accelerator, stamp: dict[str, Any], resume: bool) -> None:
    """Resume from the newest checkpoint (cutting the logs back to it) or clear stale logs; write config.yaml."""
    out = FsPath(config.output_dir)
    logs = (out / "metrics.jsonl", out / "routing.jsonl")
    if resume and checkpoints.resume(run, config, accelerator, stamp):
        if accelerator.is_main_process:
            for file in logs:
                checkpoints.truncate_jsonl(file, lambda r: r["step"] <= run.step)
            log.info("resumed %s at step %d", config.output_dir, run.step)
    elif accelerator.is_main_process:
        for stale in logs:
            stale.unlink(missing_ok=True)
    if accelerator.is_main_process:
        write_atomic(out / "config.yaml", config.to_yaml())
    accelerator.wait_for_everyone()


def _optimizer_step(run: TrainState, data: TrainData, method: Method, config: TrainConfig, accelerator: Accelerator,
                    routing: RoutingLog, batches: dict[int, list[list[int]]]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """``gradient_accumulation_steps`` micro-batches, all-reduce, clip, step: returns the statistics
    (averaged over micro-batches) and the pre-clipping gradient norms. ``batches``: the epoch's batch order."""
    rank, per_device, accumulate = accelerator.process_index, config.per_device_train_batch_size, config.gradient_accumulation_steps
    summed: dict[str, torch.Tensor] = {}
    for _ in range(accumulate):
        epoch, position = divmod(run.micro, run.micro_per_epoch)
        if position == 0:
            routing.flush(run, epoch - 1, complete=True, step=run.step + 1)
            if method.routing == "learned":  # the bare-cue half of the answer gain, once per epoch
                refresh_bare_nll(run, data.cues, per_device)
        if epoch not in batches:
            lengths = [e.length for e in data.examples]
            batches.clear()
            batches[epoch] = epoch_batches(lengths, per_device * accelerator.num_processes, config.seed, epoch, config.bucket_size, strata=routing.labels)
        mine = batches[epoch][position][rank * per_device : (rank + 1) * per_device]
        text_emb = data.text_emb[mine] if data.text_emb is not None else None
        terms = cooperative_step([data.examples[i] for i in mine], text_emb, run, method, config, accelerator.gather)
        if config.trims_memory():  # the forward's freed temporaries go back before the backward allocates (memory.trim_heap)
            trim_heap()
        (terms.loss / accumulate).backward()
        index = accelerator.gather(torch.tensor(mine, device=accelerator.device)).tolist()
        routing.add(run, accelerator.gather(terms.gates.hard.detach()), accelerator.gather(terms.gains), accelerator.gather(terms.known), index, epoch)
        for key, value in step_stats(terms, [s.name for s in run.students]).items():
            summed[key] = summed.get(key, 0.0) + value / accumulate
        run.micro += 1
    student_params = [] if run.sharded else [p for s in run.students for p in s.trainable_parameters()]  # FSDP reduces them
    sync_gradients(student_params + run.aux_parameters(), accelerator.num_processes)
    norms = {f"grad_norm/{s.name}": torch.nn.utils.clip_grad_norm_(s.trainable_parameters(), config.max_grad_norm) for s in run.students}
    norms["grad_norm/router"] = torch.nn.utils.clip_grad_norm_(run.aux_parameters(), config.max_grad_norm)
    for opt, sched in zip(run.optimizers, run.schedulers):
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
    run.step += 1
    return summed, norms


def train(config: TrainConfig, kept: Sequence[Path], questions: Mapping[str, Question], resume: bool = False) -> TrainResult:
    """Train ``config.students`` together with ``config.method`` on ``kept`` paths.

    ``kept``: the paths to train on (kept.jsonl; for ``no_filter`` the filter's full output,
    see ``methods.select_paths``). ``questions``: Question records by id.

    >>> train(cfg, read_records("run/kept.jsonl", Path), {q.id: q for q in qs}).adapters
    """
    method = get_method(config.method)
    if method.peer and len(config.students) < 2:
        raise ValueError(f"method {config.method} uses peer teaching and needs >= 2 students, got {len(config.students)}")
    MetricsLog.check(config.report_to)
    refuse_deepspeed()
    # cpu=True without CUDA: a torchrun / `accelerate launch --multi_gpu` job then uses gloo on CPU
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    main, out = accelerator.is_main_process, FsPath(config.output_dir)
    if not resume and ckpt.latest_checkpoint(out) is not None:
        raise FileExistsError(f"{out} already holds a run (checkpoints/); pass resume=True (--resume) to continue it, or choose another output_dir")
    paths = select_paths(kept, config.method)
    if not paths:
        raise ValueError(f"method {config.method}: none of the {len(kept)} paths given is usable (status ok, kept / answer-checked)")
    sharded = resolve_sharding(config.sharding, accelerator.num_processes) == "fsdp"
    run, data = build_run(config, paths, len(budget_paths(kept)), questions, accelerator, sharded)
    stamp = checkpoints.fingerprint(config, paths)
    _start(run, config, accelerator, stamp, resume)

    metrics = MetricsLog(out, config.report_to, main)
    routing = RoutingLog(paths, [s.name for s in run.students], Appender(out / "routing.jsonl") if main else None)
    bar = tqdm(total=run.total_steps, initial=run.step, desc=f"train {config.method}", disable=not main, dynamic_ncols=True)
    tokens = {s.name: 0.0 for s in run.students}
    started, last, batches = time.perf_counter(), {}, {}
    while run.step < run.total_steps:
        summed, norms = _optimizer_step(run, data, method, config, accelerator, routing, batches)
        if config.trims_memory():  # what this step's batch shapes freed goes back to the system (memory.trim_heap)
            trim_heap()
        last = metrics.reduce(summed, norms, accelerator, config.gradient_accumulation_steps)
        for name in tokens:
            tokens[name] += last[f"tokens/{name}"]
        metrics.write(run, last, config.logging_steps)
        bar.update(1)
        bar.set_postfix({k: f"{v:.3f}" for k, v in last.items() if k == "loss" or k.startswith(("ce/", "rate/"))})
        if run.step == run.total_steps:
            routing.flush(run, (run.micro - 1) // run.micro_per_epoch, complete=run.micro % run.micro_per_epoch == 0, step=run.step)
        if config.is_checkpoint_step(run.step, run.total_steps):
            checkpoints.save_checkpoint(run, config, accelerator, stamp)
    bar.close()
    seconds = time.perf_counter() - started

    resident = {s.name: resident_bytes(s.model, opt) for s, opt in zip(run.students, run.optimizers)}
    weights = [full_state_dict(s.model) if sharded else None for s in run.students]
    if main:
        save_outputs(run, method, config, out, weights)
        metrics.close()
        routing.close()
        print_summary(run, config.method, config.output_dir, last, seconds, tokens, resident)
    accelerator.wait_for_everyone()
    return TrainResult(output_dir=out, adapters={s.name: adapter_dir(out, s.name) for s in run.students}, metrics=metrics.file,
                       routing=out / "routing.jsonl", steps=run.step, train_seconds=seconds, tokens=tokens,
                       sharding="fsdp" if sharded else "none", resident_bytes=resident)
