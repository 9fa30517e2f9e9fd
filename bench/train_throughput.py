"""Training throughput and peak memory: our trainer vs TRL's SFTTrainer, same model, paths, LoRA, batch, CPU.

    python bench/train_throughput.py --n 32 --batch 4                     # every configuration (needs: pip install trl)
    python bench/train_throughput.py --n 32 --baseline-rev d33881c        # also our trainer at an older commit
    python bench/train_throughput.py --n 8 --students smollm2 --configs ours,ours-fp32   # a quick look
    python bench/train_throughput.py --students smollm2 --configs ours --profile prof/   # where a step's time goes

Paths: GSM8K train questions with their reference solutions as the path text, read from
``../shared/data/gsm8k_openai/train.jsonl`` beside the checkout, or ``--gsm8k FILE``. Each
configuration runs in its own subprocess, so its peak memory (max RSS, model loading included)
is its own. Configurations (``--configs``, comma-separated; default all):

  trl, trl-nogc      trl.SFTTrainer, float32, with TRL's default gradient checkpointing / without
  trl-bf16, trl-bf16-nogc   the same with the base weights in bfloat16 and ``bf16=True`` (autocast)
  ours, ours-gc      qrdistill.train, method multi_path, one student, the student's default dtype
                     (bfloat16 for the embedded students), without / with gradient checkpointing
  ours-fp32          the same in float32 (loss parity: the final loss of ``ours`` against it)
  ours-plain         ``ours`` with every path under the task's plain prompt (no style prompt): the
                     same tokens as TRL's rows and as trainers that predate the style prompts
  base               our trainer at ``--baseline-rev`` (float32, as it was), when given
  base-default       our trainer at ``--baseline-rev`` in the student's default dtype at that revision
  qr_distill, qr_distill-gc, qr_distill-base   both students together (routing + peer teaching)

Every run is one epoch. Tokens/s counts the non-padding tokens of the epoch (prompt + response),
identical for both trainers since both use the student's own chat template, over the training
loop's wall time (loading and tokenisation excluded). The loss columns are our trainer's CE of
the student (metrics.jsonl): the last step's and the mean over the epoch. Prints markdown tables.
``--profile DIR``: each of our rows also writes ``DIR/<config>-<students>.txt``, torch.profiler's
operators of the training loop by self CPU time (the profiler adds a few percent to the row's time).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from contextlib import nullcontext
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path as FsPath

ROOT = FsPath(__file__).resolve().parents[1]
GSM8K = ROOT.parent / "shared" / "data" / "gsm8k_openai" / "train.jsonl"
MODELS = {"smollm2": "embedded:smollm2-135m", "gemma3": "embedded:gemma3-270m"}
LORA = {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0, "learning_rate": 1e-4, "max_length": 512}
SINGLE = ["trl", "trl-nogc", "trl-bf16", "trl-bf16-nogc", "ours", "ours-gc", "ours-fp32", "ours-plain", "base", "base-default"]
JOINT = ["qr_distill", "qr_distill-gc", "qr_distill-base"]


def load_data(file: FsPath, n: int) -> tuple[list, dict]:
    """The first ``n`` GSM8K train items as Questions and one 'cot' Path each."""
    from qrdistill.records import Path, Question

    if not file.exists():
        raise SystemExit(f"{file}: GSM8K train file not found; pass --gsm8k FILE (grade_school_math/data/train.jsonl)")
    questions, paths = {}, []
    for i, line in enumerate(file.read_text().splitlines()[:n]):
        row = json.loads(line)
        body, gold = row["answer"].split("####")
        text = re.sub(r"<<[^>]*>>", "", body).strip() + f"\nThe answer is \\boxed{{{gold.strip()}}}."
        q = Question(id=f"gsm8k-train-{i}", task="gsm8k", question=row["question"], gold=gold.strip())
        questions[q.id] = q
        paths.append(Path(question_id=q.id, task="gsm8k", style="cot", teacher="gsm8k-reference", text=text, answer=q.gold, correct=True))
    return paths, questions


def spec(name: str, checkpointing: bool = False, dtype: str | None = None):
    from qrdistill.students import StudentSpec

    return StudentSpec(name=name, model=MODELS[name], gradient_checkpointing=checkpointing, **LORA, **({"dtype": dtype} if dtype else {}))


def run_ours(names: list[str], paths, questions, batch: int, checkpointing: bool, dtype: str | None, style_prompts: bool = True,
             profile: FsPath | None = None) -> dict:
    import torch.profiler

    from qrdistill.train.config import TrainConfig
    from qrdistill.train.trainer import train

    method = "qr_distill" if len(names) > 1 else "multi_path"
    with tempfile.TemporaryDirectory() as out:
        cfg = TrainConfig(output_dir=out, method=method, students=[spec(n, checkpointing, dtype) for n in names], num_train_epochs=1,
                          per_device_train_batch_size=batch, warmup_ratio=0.0, seed=0, **({} if style_prompts else {"style_prompts": False}))
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) if profile else nullcontext() as prof:
            result = train(cfg, paths, questions)
        if profile:
            profile.write_text(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30, max_name_column_width=60))
        records = [json.loads(line) for line in (FsPath(out) / "metrics.jsonl").read_text().splitlines()]
    loss = {n: {"last": records[-1][f"ce/{n}"], "mean": sum(r[f"ce/{n}"] for r in records) / len(records)} for n in names}
    return {"seconds": result.train_seconds, "tokens": result.tokens, "steps": result.steps, "loss": loss}


def run_trl(name: str, paths, questions, batch: int, checkpointing: bool, bf16: bool) -> dict:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from qrdistill.students.embedded import resolve_model
    from qrdistill.students.encoding import format_prompt
    from qrdistill.tasks import get_task

    dtype = "bfloat16" if bf16 else "float32"
    source = resolve_model(MODELS[name], dtype)
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, dtype))
    # the prompt exactly as our student formats it (chat template when the tokenizer has one)
    rows = [{"prompt": format_prompt(tokenizer, get_task(p.task).prompt(questions[p.question_id]), bool(tokenizer.chat_template)),
             "completion": p.text} for p in paths]
    with tempfile.TemporaryDirectory() as out:
        args = SFTConfig(output_dir=out, num_train_epochs=1, per_device_train_batch_size=batch, learning_rate=LORA["learning_rate"],
                         max_length=LORA["max_length"], lr_scheduler_type="linear", warmup_steps=0, logging_steps=1000, save_strategy="no",
                         report_to="none", use_cpu=True, seed=0, dataloader_num_workers=0, bf16=bf16, fp16=False,
                         gradient_checkpointing=checkpointing)
        peft = LoraConfig(r=LORA["lora_r"], lora_alpha=LORA["lora_alpha"], lora_dropout=LORA["lora_dropout"], target_modules="all-linear", task_type="CAUSAL_LM")
        trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer, peft_config=peft)
        tokens = sum(len(x["input_ids"]) for x in trainer.train_dataset)
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "tokens": {name: float(tokens)}, "steps": trainer.state.global_step}


def child(kind: str, names: list[str], n: int, batch: int, gsm8k: FsPath, profile: FsPath | None) -> None:
    paths, questions = load_data(gsm8k, n)
    if kind.startswith("trl"):
        out = run_trl(names[0], paths, questions, batch, checkpointing="nogc" not in kind, bf16="bf16" in kind)
    else:
        dtype = "float32" if kind in ("ours-fp32", "base", "qr_distill-base") else None
        out = run_ours(names, paths, questions, batch, checkpointing=kind.endswith("-gc"), dtype=dtype, style_prompts=kind != "ours-plain",
                       profile=profile / f"{kind}-{'+'.join(names)}.txt" if profile else None)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out))


def baseline_tree(rev: str, into: FsPath) -> FsPath:
    """``src/`` of our trainer at git revision ``rev``, unpacked under ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def measure(kind: str, names: list[str], args: argparse.Namespace, base_src: FsPath | None) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--students", ",".join(names), "--n", str(args.n), "--batch", str(args.batch),
           "--gsm8k", str(args.gsm8k)] + (["--profile", str(args.profile)] if args.profile else [])
    env = dict(os.environ)
    if "base" in kind:
        env["PYTHONPATH"] = os.pathsep.join([str(base_src), env.get("PYTHONPATH", "")])
    load = os.getloadavg()[0]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} {names} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):]) | {"load": (load + os.getloadavg()[0]) / 2}


def _loss(r: dict, name: str) -> str:
    loss = r.get("loss", {}).get(name)
    return f"{loss['last']:.4f} / {loss['mean']:.4f}" if loss else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=32, help="number of paths (one epoch over them)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--students", default="smollm2,gemma3")
    parser.add_argument("--configs", default=",".join(SINGLE + JOINT), help="which configurations, comma-separated")
    parser.add_argument("--baseline-rev", help="git revision of our trainer for the 'base' rows (e.g. the commit before a change)")
    parser.add_argument("--gsm8k", type=FsPath, default=GSM8K)
    parser.add_argument("--profile", type=FsPath, help="write torch.profiler's operator table of each of our rows into this dir")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = args.students.split(",")
    if args.child:
        child(args.child, names, args.n, args.batch, args.gsm8k, args.profile)
        return
    configs = [c for c in args.configs.split(",") if args.baseline_rev or "base" not in c]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; "
          f"{args.n} paths, batch {args.batch}, one epoch{', base = ' + args.baseline_rev if args.baseline_rev else ''}")
    with tempfile.TemporaryDirectory() as tmp:
        base_src = baseline_tree(args.baseline_rev, FsPath(tmp)) if args.baseline_rev else None
        print("| config | student | epoch s | tokens/s | vs trl | vs trl-bf16 | vs base | peak RSS MB | CE last / mean | load avg |\n"
              "|---|---|---|---|---|---|---|---|---|---|")
        single: dict[str, dict[str, dict]] = {}
        for name in names:
            runs = single.setdefault(name, {})
            for kind in [c for c in SINGLE if c in configs]:
                r = runs[kind] = measure(kind, [name], args, base_src)
                tps = r["tokens"][name] / r["seconds"]
                ratios = [f"{tps / (runs[ref]['tokens'][name] / runs[ref]['seconds']):.2f}x" if ref in runs else "" for ref in ("trl", "trl-bf16", "base")]
                print(f"| {kind} | {name} | {r['seconds']:.1f} | {tps:.1f} | {' | '.join(ratios)} | {r['peak_rss_mb']:.0f} | {_loss(r, name)} | "
                      f"{r['load']:.1f} |", flush=True)
        if len(names) > 1:
            for kind in [c for c in JOINT if c in configs]:
                r = measure(kind, names, args, base_src)
                alone = {"qr_distill": "ours", "qr_distill-gc": "ours-gc", "qr_distill-base": "base"}[kind]
                parts = [single[n][alone]["seconds"] for n in names if alone in single.get(n, {})]
                vs = f"{r['seconds'] / sum(parts):.2f}x the single-student epochs ({sum(parts):.1f} s)" if len(parts) == len(names) else ""
                print(f"| {kind} | {'+'.join(names)} | {r['seconds']:.1f} | {sum(r['tokens'].values()) / r['seconds']:.1f} (sum) | {vs} | | | "
                      f"{r['peak_rss_mb']:.0f} | {'; '.join(_loss(r, n) for n in names)} | {r['load']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
