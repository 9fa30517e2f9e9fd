"""Training throughput: our trainer vs TRL's SFTTrainer, same model, paths, LoRA, batch, CPU.

    python bench/train_throughput.py --n 32 --batch 4          # needs: pip install trl
    python bench/train_throughput.py --n 8 --students smollm2  # a quick look

Paths: GSM8K train questions with their reference solutions as the path text (from
/work/shared/data, or --gsm8k FILE). Each configuration runs in its own subprocess so its peak
memory (max RSS) is its own:

  ours/<student>   qrdistill.train, method multi_path, one student, one epoch; without and with
                   gradient checkpointing (StudentSpec.gradient_checkpointing)
  trl/<student>    trl.SFTTrainer, prompt/completion data (prompt formatted as our student
                   formats it), completion-only loss, one epoch; with TRL's default gradient
                   checkpointing and without it
  ours/qr_distill  both students together (routing + peer teaching), one epoch

Tokens/s counts the non-padding tokens of the epoch (prompt + response), identical for both
trainers since both use the student's own chat template. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path as FsPath

from qrdistill.records import Path, Question
from qrdistill.students import StudentSpec

GSM8K = FsPath("/work/shared/data/gsm8k_openai/train.jsonl")
MODELS = {"smollm2": "embedded:smollm2-135m", "gemma3": "embedded:gemma3-270m"}
LORA = {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0, "learning_rate": 1e-4, "max_length": 512}


def load_data(file: FsPath, n: int) -> tuple[list[Path], dict[str, Question]]:
    """The first ``n`` GSM8K train items as Questions and one 'cot' Path each."""
    questions, paths = {}, []
    for i, line in enumerate(file.read_text().splitlines()[:n]):
        row = json.loads(line)
        body, gold = row["answer"].split("####")
        text = re.sub(r"<<[^>]*>>", "", body).strip() + f"\nThe answer is \\boxed{{{gold.strip()}}}."
        q = Question(id=f"gsm8k-train-{i}", task="gsm8k", question=row["question"], gold=gold.strip())
        questions[q.id] = q
        paths.append(Path(question_id=q.id, task="gsm8k", style="cot", teacher="gsm8k-reference", text=text, answer=q.gold, correct=True))
    return paths, questions


def spec(name: str, checkpointing: bool = False) -> StudentSpec:
    return StudentSpec(name=name, model=MODELS[name], gradient_checkpointing=checkpointing, **LORA)


def run_ours(names: list[str], method: str, paths, questions, batch: int, checkpointing: bool) -> dict:
    from qrdistill.train.config import TrainConfig
    from qrdistill.train.trainer import train

    with tempfile.TemporaryDirectory() as out:
        cfg = TrainConfig(output_dir=out, method=method, students=[spec(n, checkpointing) for n in names], num_train_epochs=1,
                          per_device_train_batch_size=batch, warmup_ratio=0.0, seed=0)
        result = train(cfg, paths, questions)
    return {"seconds": result.train_seconds, "tokens": result.tokens, "steps": result.steps}


def run_trl(name: str, paths, questions, batch: int, checkpointing: bool) -> dict:
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from qrdistill.students.embedded import resolve_model
    from qrdistill.students.encoding import format_prompt
    from qrdistill.tasks import get_task

    source = resolve_model(MODELS[name])
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForCausalLM.from_pretrained(source)
    # the prompt exactly as our student formats it (chat template when the tokenizer has one)
    rows = [{"prompt": format_prompt(tokenizer, get_task(p.task).prompt(questions[p.question_id]), bool(tokenizer.chat_template)),
             "completion": p.text} for p in paths]
    with tempfile.TemporaryDirectory() as out:
        args = SFTConfig(output_dir=out, num_train_epochs=1, per_device_train_batch_size=batch, learning_rate=LORA["learning_rate"],
                         max_length=LORA["max_length"], lr_scheduler_type="linear", warmup_steps=0, logging_steps=1000, save_strategy="no",
                         report_to="none", use_cpu=True, seed=0, dataloader_num_workers=0, bf16=False, fp16=False,
                         gradient_checkpointing=checkpointing)
        peft = LoraConfig(r=LORA["lora_r"], lora_alpha=LORA["lora_alpha"], lora_dropout=LORA["lora_dropout"], target_modules="all-linear", task_type="CAUSAL_LM")
        trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer, peft_config=peft)
        tokens = sum(len(x["input_ids"]) for x in trainer.train_dataset)
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "tokens": {name: float(tokens)}, "steps": trainer.state.global_step}


def child(kind: str, names: list[str], n: int, batch: int, gsm8k: FsPath) -> None:
    paths, questions = load_data(gsm8k, n)
    if kind.startswith("trl"):
        out = run_trl(names[0], paths, questions, batch, checkpointing=kind == "trl")
    else:
        out = run_ours(names, "qr_distill" if len(names) > 1 else "multi_path", paths, questions, batch, checkpointing=kind == "ours-gc")
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out))


def measure(kind: str, names: list[str], args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--students", ",".join(names), "--n", str(args.n), "--batch", str(args.batch), "--gsm8k", str(args.gsm8k)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} {names} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=32, help="number of paths (one epoch over them)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--students", default="smollm2,gemma3")
    parser.add_argument("--gsm8k", type=FsPath, default=GSM8K)
    parser.add_argument("--child", choices=["ours", "ours-gc", "trl", "trl-nogc"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = args.students.split(",")
    if args.child:
        child(args.child, names, args.n, args.batch, args.gsm8k)
        return
    total_trl = 0.0
    print("| config | student | epoch s | tokens/s | vs TRL default | vs TRL no-GC | peak RSS MB |\n|---|---|---|---|---|---|---|")
    for name in names:
        runs = {"trl SFTTrainer (defaults: gradient checkpointing)": measure("trl", [name], args),
                "trl SFTTrainer, gradient_checkpointing=False": measure("trl-nogc", [name], args),
                "ours (multi_path, this student alone)": measure("ours", [name], args),
                "ours, gradient checkpointing": measure("ours-gc", [name], args)}
        base, nogc = (r["tokens"][name] / r["seconds"] for r in list(runs.values())[:2])
        total_trl += list(runs.values())[0]["seconds"]
        for label, r in runs.items():
            tps = r["tokens"][name] / r["seconds"]
            print(f"| {label} | {name} | {r['seconds']:.1f} | {tps:.1f} | {tps / base:.2f}x | {tps / nogc:.2f}x | {r['peak_rss_mb']:.0f} |", flush=True)
    if len(names) > 1:
        qr = measure("ours", names, args)
        print(f"| ours qr_distill, all students together | {'+'.join(names)} | {qr['seconds']:.1f} | "
              f"{sum(qr['tokens'].values()) / qr['seconds']:.1f} | epoch time {qr['seconds'] / total_trl:.2f}x the separate TRL-default epochs ({total_trl:.1f} s) | | {qr['peak_rss_mb']:.0f} |")

if __name__ == "__main__":
    main()
