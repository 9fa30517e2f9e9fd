"""Evaluation cost with and without the final-answer stop: zero-shot students on synthetic test questions.

    python bench/eval_stop.py                      # both embedded students, 20 synth_arith + 20 synth_yesno, 96 new tokens
    python bench/eval_stop.py --students tiny:smollm2 --n 4 --max-new-tokens 16

Runs ``evaluate_student`` (the evaluator's own path) twice per student, ``stop_at_answer`` off then
on, and prints wall time, generated tokens, stop reasons, accuracy per task and how many extracted
answers differ between the two.
"""

from __future__ import annotations

import platform
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

import torch
import typer
from rich.console import Console
from rich.table import Table

from qrdistill.evaluate.generations import EvalJob, EvalLabel, Generation, evaluate_student, read_generations
from qrdistill.students import StudentSpec, load_student
from qrdistill.synthetic.families import make_questions
from qrdistill.tasks import get_task

console = Console()


def main(
    students: list[str] = typer.Option(["embedded:smollm2-135m", "embedded:gemma3-270m"], help="StudentSpec.model values"),
    tasks: list[str] = typer.Option(["synth_arith", "synth_yesno"], help="synthetic tasks"),
    n: int = typer.Option(20, help="test questions per task"),
    max_new_tokens: int = typer.Option(96, help="eval.max_new_tokens (the demo's value)"),
    batch_size: int = typer.Option(32, help="eval.batch_size (the demo's value)"),
    threads: int = typer.Option(1, help="torch threads"),
    stop_first: bool = typer.Option(False, help="run with the stop first (checks the order does not matter)"),
    seed: int = 0,
) -> None:
    """Measure and print the comparison table."""
    torch.set_num_threads(threads)
    questions = {t: make_questions(t, n, seed, "test") for t in tasks}
    table = Table(title=f"zero-shot eval, {n} test questions each of {', '.join(tasks)}, <= {max_new_tokens} new tokens")
    for col in ["student", "stop at answer", "wall s", "CPU s", "new tokens", "stops (eos/answer/length)", "correct", "answers changed"]:
        table.add_column(col)
    with tempfile.TemporaryDirectory() as tmp:
        for model in students:
            student = load_student(StudentSpec(name=model, model=model), trainable=False)
            warm = [get_task(t).prompt(q) for t in tasks for q in questions[t]][:batch_size]
            student.generate(warm, max_new_tokens=8, batch_size=batch_size, progress=False)  # warm-up at full batch size
            answers: dict[bool, list[str | None]] = {}
            stopped: list[Generation] = []
            for stop in ((True, False) if stop_first else (False, True)):
                out = Path(tmp) / f"{model.replace(':', '_')}-{stop}"
                jobs = [EvalJob(get_task(t), questions[t], out / f"{t}.jsonl") for t in tasks]
                start, cpu_start = time.perf_counter(), time.process_time()
                results = evaluate_student(student, jobs, label=EvalLabel("zero_shot", seed, model),
                                           max_new_tokens=max_new_tokens, batch_size=batch_size, stop_at_answer=stop)
                seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
                gens = [g for t in tasks for g in read_generations(out / f"{t}.jsonl")]
                answers[stop] = [g.answer for g in gens]
                stopped = gens if stop else stopped
                stops = Counter(g.stop for g in gens)
                correct = ", ".join(f"{r.task} {r.correct}/{r.n}" for r in results)
                changed = str(sum(a != b for a, b in zip(answers[False], answers[True]))) if len(answers) == 2 else ""
                table.add_row(model, "yes" if stop else "no", f"{seconds:.1f}", f"{cpu:.1f}", str(sum(g.new_tokens or 0 for g in gens)),
                              f"{stops['eos']}/{stops['answer']}/{stops['length']}", correct, changed)
                console.print(f"{model} stop_at_answer={stop}: {seconds:.1f}s wall, {cpu:.1f}s CPU")
                if len(answers) == 2:
                    for a, b, g in zip(answers[False], answers[True], stopped):
                        if a != b:
                            console.print(f"  changed {g.task} {g.question_id}: {a!r} -> {b!r} (gold {g.gold!r}); cut text: {g.completion!r}")
    console.print(table)
    console.print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch thread(s), torch {torch.__version__}, {date.today()}")


if __name__ == "__main__":
    typer.run(main)
