"""Evaluation throughput on the demo's eval: the evaluator's decoder now against how it decoded before,
and against transformers ``generate`` at batch 1.

    python bench/eval_throughput.py                              # both embedded students, zero-shot
    python bench/eval_throughput.py --run runs/demo --method qr_distill     # the demo's trained adapters
    python bench/eval_throughput.py --students tiny:smollm2 --n 6 --new-tokens 16 --baseline-prompts 2

Prompts: the demo's eval (``src/qrdistill/configs/demo.yaml``): ``--n`` test questions of ``--task`` as
``task.prompt`` writes them, each student's own prompt format, greedy, at most ``--new-tokens``
new tokens, ``--batch-size`` rows, a row stopping at its final answer (``task.answer_end``) as
in ``evaluate_student``. Per student, in one process, back to back:

  before      float32 weights, fixed batches (a batch decodes until its last row ends; what the
              evaluator did before continuous batching: the same engine with ``refill=batch_size``)
  now         the student's default dtype (``auto``), continuous batching
  generate    transformers ``model.generate`` one prompt at a time, on the first
              ``--baseline-prompts`` prompts, in ``now``'s dtype, no answer stop (it has none);
              ``now`` is rerun on those prompts without the stop for the same-work comparison

Generated tokens/s counts new tokens up to the stop (the evaluator's ``new_tokens``). Also printed:
accuracy of ``before`` and ``now`` (bfloat16 against float32 on the same questions), and how many
greedy answers of ``now`` equal ``generate``'s token for token.
"""

from __future__ import annotations

import os
import platform
import time
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import torch
import typer
from transformers import GenerationConfig

from qrdistill.students import Student, StudentSpec, load_student
from qrdistill.students.generation import Continuation, cut_at_stop, greedy_generate
from qrdistill.students.stopping import StopAt, finish, text_stop_check
from qrdistill.synthetic.families import make_questions
from qrdistill.tasks import get_task

EMBEDDED = {"embedded:smollm2-135m": "smollm2", "embedded:gemma3-270m": "gemma3"}


def decode(student: Student, prompts: list[str], rules: list[StopAt | None], new_tokens: int, batch_size: int,
           refill: int | None) -> tuple[list[Continuation], float]:
    """``Student.complete``'s engine with a chosen refill; the continuations and the wall seconds."""
    rows = [student.prompt_ids(p) for p in prompts]
    check = text_stop_check(student.tokenizer, rules) if any(r is not None for r in rules) else None
    start = time.perf_counter()
    with student.autocast():
        out = greedy_generate(student.model, rows, student.pad_id, student.stop_ids, new_tokens, batch_size, progress=False,
                              stop_check=check, refill=refill)
    return out, time.perf_counter() - start


def hf_generate(student: Student, prompts: list[str], new_tokens: int) -> tuple[list[list[int]], float]:
    """transformers ``generate``, greedy, one prompt at a time, in the student's dtype."""
    config = GenerationConfig(max_new_tokens=new_tokens, do_sample=False, eos_token_id=student.stop_ids, pad_token_id=student.pad_id)
    outs, start = [], time.perf_counter()
    with torch.inference_mode(), student.autocast():
        for p in prompts:
            ids = torch.tensor([student.prompt_ids(p)])
            new = student.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=config)[0, ids.shape[1]:]
            outs.append(cut_at_stop(new.tolist(), set(student.stop_ids)))
    return outs, time.perf_counter() - start


def main(
    students: list[str] = typer.Option(list(EMBEDDED), help="StudentSpec.model values"),
    task: str = typer.Option("synth_arith1", help="the task of the demo's eval"),
    n: int = typer.Option(40, help="test questions (the demo's 40)"),
    new_tokens: int = typer.Option(96, help="eval.max_new_tokens (the demo's 96)"),
    batch_size: int = typer.Option(32, help="eval.batch_size (the demo's 32)"),
    baseline_prompts: int = typer.Option(40, help="prompts decoded one at a time by transformers generate (and by ours at --batch-size)"),
    run: Path = typer.Option(None, help="a run dir whose trained adapters to load (train/<method>/seed<seed>/students/<name>)"),
    method: str = typer.Option("qr_distill", help="with --run: the method"),
    seed: int = typer.Option(0, help="question seed (and with --run, the training seed)"),
    threads: int = typer.Option(0, help="torch threads (0: torch's default)"),
) -> None:
    """Measure and print one markdown table row per student."""
    if threads:
        torch.set_num_threads(threads)
    the_task = get_task(task)
    questions = make_questions(task, n, seed, "test")
    prompts = [the_task.prompt(q) for q in questions]
    rules = [partial(the_task.answer_end, question=q) for q in questions]
    print(f"{platform.machine()} {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, torch {torch.__version__}, "
          f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f}; {n} {task} prompts, "
          f"<= {new_tokens} new tokens, batch {batch_size}, {'adapters of ' + str(run) + ' ' + method if run else 'zero-shot'}")
    print("| student | before: fp32, fixed batches tok/s | now: dtype, continuous tok/s | now / before | correct before / now | "
          f"generate b=1 tok/s ({baseline_prompts} prompts) | now, same prompts, no stop tok/s | now / generate | identical to generate |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model in students:
        name = EMBEDDED.get(model, model)
        adapter = run / "train" / method / f"seed{seed}" / "students" / name if run else None
        rates, correct = {}, {}
        for label, dtype, refill in (("before", "float32", batch_size), ("now", "auto", None)):
            student = load_student(StudentSpec(name=name, model=model, dtype=dtype), adapter_dir=adapter, trainable=False)
            decode(student, prompts[:batch_size], [None] * batch_size, 4, batch_size, refill)  # warm-up at full batch size
            out, seconds = decode(student, prompts, rules, new_tokens, batch_size, refill)
            rates[label] = sum(len(c.ids) for c in out) / seconds
            texts = [finish(student.tokenizer, c, r).text for c, r in zip(out, rules)]
            correct[label] = sum(the_task.is_correct(t, q.gold, q) for t, q in zip(texts, questions))
        some = prompts[:baseline_prompts]
        ref, ref_seconds = hf_generate(student, some, new_tokens)
        ours, ours_seconds = decode(student, some, [None] * len(some), new_tokens, batch_size, None)
        ref_rate, ours_rate = sum(map(len, ref)) / ref_seconds, sum(len(c.ids) for c in ours) / ours_seconds
        same = sum(c.ids == r for c, r in zip(ours, ref))
        print(f"| {name} ({student.compute_dtype}) | {rates['before']:.1f} | {rates['now']:.1f} | {rates['now'] / rates['before']:.2f}x | "
              f"{correct['before']} / {correct['now']} of {n} | {ref_rate:.1f} | {ours_rate:.1f} | {ours_rate / ref_rate:.1f}x | "
              f"{same}/{len(some)} |", flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    typer.run(main)
