"""Evaluation throughput: Student.generate (batched, length-sorted, left-padded, KV cache) vs plain
transformers ``generate`` at batch 1, same model, same prompt tokens, greedy, on this machine.

    python bench/eval_throughput.py                       # both embedded students, 32 synth_arith prompts, 64 new tokens
    python bench/eval_throughput.py --students tiny:smollm2 --prompts 8 --new-tokens 16

Prints generated tokens/s of each, the speed-up and how many answers are identical.
"""

from __future__ import annotations

import platform
import time
from datetime import date

import torch
import typer
from rich.console import Console
from rich.table import Table
from transformers import GenerationConfig

from qrdistill.students import Student, StudentSpec, load_student
from qrdistill.students.generation import cut_at_stop, greedy_generate
from qrdistill.tasks import get_task
from qrdistill.tasks.synthetic import make_questions

console = Console()

def task_prompts(task: str, n: int, seed: int) -> list[str]:
    """The zero-shot prompts the evaluator sends: ``task.prompt`` of synthetic test questions."""
    return [get_task(task).prompt(q) for q in make_questions(task, n, seed, "test")]


def baseline(student: Student, prompts: list[str], new_tokens: int) -> tuple[list[list[int]], float]:
    """Plain transformers generate, one prompt at a time."""
    config = GenerationConfig(max_new_tokens=new_tokens, do_sample=False, eos_token_id=student.stop_ids, pad_token_id=student.pad_id)
    outs, start = [], time.perf_counter()
    with torch.inference_mode():
        for p in prompts:
            ids = torch.tensor([student.prompt_ids(p)])
            new = student.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=config)[0, ids.shape[1]:]
            outs.append(cut_at_stop(new.tolist(), set(student.stop_ids)))
    return outs, time.perf_counter() - start


def main(
    students: list[str] = typer.Option(["embedded:smollm2-135m", "embedded:gemma3-270m"], help="StudentSpec.model values"),
    task: str = typer.Option("synth_arith", help="synthetic task whose zero-shot prompts are decoded"),
    prompts: int = typer.Option(32, help="number of prompts"),
    new_tokens: int = typer.Option(64, help="max new tokens per prompt"),
    batch_size: int = typer.Option(32, help="Student.generate batch size"),
    threads: int = typer.Option(0, help="torch threads (0: torch default)"),
    seed: int = 0,
) -> None:
    """Measure and print the comparison table."""
    if threads:
        torch.set_num_threads(threads)
    texts = task_prompts(task, prompts, seed)
    table = Table(title=f"eval throughput, {prompts} {task} prompts, <= {new_tokens} new tokens, greedy")
    for col in ["student", "plain generate b=1 tok/s", f"Student.generate b={batch_size} tok/s", "speed-up", "identical answers"]:
        table.add_column(col)
    for model in students:
        student = load_student(StudentSpec(name=model, model=model), trainable=False)
        greedy_generate(student.model, [student.prompt_ids(texts[0])] * 2, student.pad_id, student.stop_ids, 4, 2, progress=False)  # warm-up
        base_ids, base_s = baseline(student, texts, new_tokens)
        start = time.perf_counter()
        rows = [student.prompt_ids(t) for t in texts]  # the engine of Student.generate, minus the final decode
        ours = [c.ids for c in greedy_generate(student.model, rows, student.pad_id, student.stop_ids, new_tokens, batch_size,
                                               progress=False)]
        ours_s = time.perf_counter() - start
        ours_tokens, base_tokens = sum(map(len, ours)), sum(map(len, base_ids))
        same = sum(a == b for a, b in zip(ours, base_ids))
        base_rate, ours_rate = base_tokens / base_s, ours_tokens / ours_s
        table.add_row(model, f"{base_rate:.1f}", f"{ours_rate:.1f}", f"{ours_rate / base_rate:.1f}x", f"{same}/{prompts}")
        console.print(f"{model}: plain b=1 {base_tokens} tokens in {base_s:.1f}s; ours b={batch_size} {ours_tokens} tokens in {ours_s:.1f}s")
    console.print(table)
    console.print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, {date.today()}")


if __name__ == "__main__":
    typer.run(main)
