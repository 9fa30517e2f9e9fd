"""Agreement of our answer checkers with the correctness labels that public LLM-output dumps recorded.

    python bench/checker_agreement.py --data /work/shared/data [--examples disagreements.json]

For each source: n, agreement with the source's own label, our accuracy vs the source's accuracy,
and the two kinds of disagreement (we say correct / they say wrong, and the reverse). With
--examples, every disagreement is written out for study (docs/tasks.md discusses them).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import track
from rich.table import Table

from qrdistill.jsonl import iter_json_lines, write_json
from qrdistill.records import Question
from qrdistill.tasks import get_task

Item = tuple[str, str, Question | None, bool, dict[str, Any]]
"""(completion, gold, question or None, the source's label, context for the report)."""


@dataclass
class Tally:
    """Agreement counts for one source."""

    source: str
    task: str
    n: int = 0
    ours: int = 0
    theirs: int = 0
    ours_only: list[dict[str, Any]] = field(default_factory=list)
    theirs_only: list[dict[str, Any]] = field(default_factory=list)

    @property
    def agree(self) -> int:
        return self.n - len(self.ours_only) - len(self.theirs_only)


def score(source: str, task_name: str, items: Iterator[Item] | list[Item]) -> Tally:
    """Run the task's checker on each item and compare with the source label."""
    task = get_task(task_name)
    tally = Tally(source, task_name)
    for completion, gold, question, label, ctx in track(list(items), description=source[:40], transient=True):
        ok = task.is_correct(completion, gold, question)
        tally.n += 1
        tally.ours += ok
        tally.theirs += label
        if ok != label:
            row = {**ctx, "gold": gold, "ours_extracted": task.extract(completion, question), "completion": completion[-700:]}
            (tally.ours_only if ok else tally.theirs_only).append(row)
    return tally


def _by_text(questions: list[Question]) -> dict[str, Question]:
    return {_norm(q.question): q for q in questions}


def _norm(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").split()).rstrip(" .?").lower()


def gsm8k_example_solutions(d: Path) -> Iterator[tuple[str, str, list[Item]]]:
    """GPT-3 6B/175B fine-tuned and verifier solutions with is_correct (openai/grade-school-math)."""
    gold = _by_text(get_task("gsm8k").load(d / "gsm8k_openai/test.jsonl"))
    rows = [obj for _, obj in iter_json_lines(d / "gsm8k_openai/example_model_solutions.jsonl")]
    for model in ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"):
        items = []
        for r in rows:
            q = gold[_norm(r["question"])]
            items.append((r[model]["solution"], q.gold, q, bool(r[model]["is_correct"]), {"id": q.id}))
        yield f"gsm8k GPT-3 {model}", "gsm8k", items


KOJIMA = {"gsm8k": "gsm8k", "svamp": "svamp", "commonsensqa": "commonsense_qa",
          "strategyqa": "strategy_qa", "date_understanding": "date_understanding"}


_KOJIMA_TRIGGER = re.compile(r"Therefore, (?:among A through [A-F], )?the answer(?: \((?:arabic numerals|Yes or No)\))? is")
"""The harness's answer-extraction prompt inside each completion: text the model did not write, whose
"(Yes or No)" / "among A through E" would otherwise read as an answer; replaced by a neutral anchor."""


def kojima_zero_shot_cot(d: Path) -> Iterator[tuple[str, str, list[Item]]]:
    """text-davinci-002 zero-shot-CoT logs; label = the harness's parsed answer == gold."""
    for log_name, task_name in KOJIMA.items():
        items = []
        for _, r in iter_json_lines(d / f"zero_shot_cot_kojima/log_parsed/{log_name}_zero_shot_cot.jsonl"):
            question = _kojima_question(task_name, r["question"], r["gold"])
            label = str(r["pred_after"]).strip() == str(r["gold"]).strip()
            completion = _KOJIMA_TRIGGER.sub("Therefore, the answer is", r["completion"])
            items.append((completion, str(r["gold"]), question, label, {"index": r["index"]}))
        yield f"kojima zs-CoT {log_name}", task_name, items


def _kojima_question(task: str, text: str, gold: str) -> Question | None:
    """Options written inline as 'Answer Choices: (A) x (B) y' become the question's choices."""
    stem, sep, options = text.partition(" Answer Choices: ")
    if not sep:
        return None
    choices = [c.strip() for c in re.split(r"\s*\([A-Z]\)\s*", options) if c.strip()]
    return Question(id="kojima", task=task, question=stem, gold=gold, choices=choices)


def bbh_date_codex(d: Path) -> Iterator[tuple[str, str, list[Item]]]:
    """code-davinci-002 3-shot CoT on BBH date; label = BBH's exact match of the text after 'the answer is'."""
    doc = json.loads((d / "bbh_suzgun/code-davinci-002-outputs/code-davinci-002-cot/date_understanding_few_shot_template_0-255000.json").read_text())
    items = []
    for i, o in enumerate(doc["outputs"]):
        said = o["prediction"].split("the answer is ")[-1].strip().rstrip(".") if "the answer is " in o["prediction"] else ""
        items.append((o["prediction"], o["target"].strip("()"), None, said == o["target"], {"index": i}))
    yield "bbh date code-davinci-002 CoT", "date_understanding", items


def tabmwp_gpt3(d: Path) -> Iterator[tuple[str, str, list[Item]]]:
    """text-davinci-002 2-shot CoT on TabMWP test with true_false (PromptPG); options from the PoT file."""
    results = json.loads((d / "tabmwp_promptpg/results/gpt3/exp4_test_TQ-SA_2_seed_2.json").read_text())["results"]
    choices = {str(r["id"]): r.get("choices") for _, r in iter_json_lines(d / "program_of_thoughts/outputs/tabmwp_s0_e-1_11_06_22_55.jsonl") if "id" in r}
    items = []
    for pid, r in results.items():
        opts = choices.get(pid)
        question = Question(id=pid, task="table_mwp", question="", gold=r["answer"], choices=opts) if opts else None
        items.append((r["output"].replace("\\n", "\n"), r["answer"], question, bool(r["true_false"]), {"pid": pid}))
    yield "tabmwp GPT-3 CoT (PromptPG)", "table_mwp", items


LZY = {"gsm8k": "gsm8k", "commonsense_qa": "commonsense_qa", "date": "date_understanding",
       "strategy_qa": "strategy_qa", "anli": "anli", "arc_challenge": "arc_challenge"}


def lzyfischer_student_eval(d: Path) -> Iterator[tuple[str, str, list[Item]]]:
    """QR-Distill authors' evaluation files: a student's response and the authors' own `correct`."""
    for folder, task_name in LZY.items():
        path = d / f"distill_file_lzyfischer/data/{folder}/test/cot_response.enriched.jsonl"
        task = get_task(task_name)
        questions = task.load(path)
        items = []
        for q, (_, r) in zip(questions, iter_json_lines(path)):
            items.append((r["response"], q.gold, q, bool(r["correct"]), {"id": q.id, "their_pred": r.get("pred")}))
        yield f"QR-Distill authors' eval {folder}", task_name, items


def pot_programs(d: Path) -> Iterator[tuple[str, str, list[Item]]]:
    """Program-of-Thoughts executed values vs gold (no per-row label: 'theirs' = |a-b| < 1e-3 on floats)."""
    for name, task_name in (("gsm8K_s0_e-1_11_17_10_20", "gsm8k"), ("gsm8K_zs_s0_e-1_11_19_09_55", "gsm8k"),
                            ("svamp_s0_e-1_11_24_14_38", "svamp"), ("svamp_zs_s0_e-1_11_18_20_12", "svamp")):
        items = []
        for n, r in iter_json_lines(d / f"program_of_thoughts/outputs/{name}.jsonl"):
            if "answer" not in r:
                continue
            executed = r.get("executed")
            label = isinstance(executed, (int, float)) and not isinstance(executed, bool) and abs(executed - r["answer"]) < 1e-3
            items.append((f"The answer is {executed}.", str(r["answer"]), None, label, {"line": n}))
        yield f"PoT {name}", task_name, items


def gemini_positive_only(d: Path) -> Iterator[tuple[str, str, list[Item]]]:
    """Gemini teacher CoTs the authors kept as correct (train/test_cot_distill.jsonl): every label is True."""
    golds: dict[str, Callable[[], list[Question]]] = {
        "math": lambda: get_task("math").load(d / "math_hendrycks/train.jsonl"),
        "gsm8k": lambda: get_task("gsm8k").load(d / "gsm8k_openai/train.jsonl"),
    }
    for folder, loader in golds.items():
        by_text = _by_text(loader())
        items = []
        for n, r in iter_json_lines(d / f"distill_file_lzyfischer/data/{folder}/train/test_cot_distill.jsonl"):
            user, answer = r["messages"][0]["content"], r["messages"][1]["content"]
            stem = user.removeprefix("Question: ").split("\n\nPlease reason")[0]
            q = by_text.get(_norm(stem))
            if q is not None:
                items.append((answer, q.gold, q, True, {"line": n, "id": q.id}))
        yield f"Gemini kept-as-correct {folder} train", folder, items


SOURCES = [gsm8k_example_solutions, kojima_zero_shot_cot, bbh_date_codex, tabmwp_gpt3,
           lzyfischer_student_eval, pot_programs, gemini_positive_only]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--examples", type=Path, help="write every disagreement here (JSON)")
    args = parser.parse_args()
    console = Console()
    table = Table("source", "task", "n", "agree", "ours acc", "source acc", "ours✓ src✗", "ours✗ src✓", "s")
    tallies = []
    for source in SOURCES:
        for name, task_name, items in source(args.data):
            start = time.perf_counter()
            t = score(name, task_name, items)
            tallies.append(t)
            table.add_row(name, task_name, str(t.n), f"{t.agree / t.n:.2%}", f"{t.ours / t.n:.2%}", f"{t.theirs / t.n:.2%}",
                          str(len(t.ours_only)), str(len(t.theirs_only)), f"{time.perf_counter() - start:.1f}")
    console.print(table)
    if args.examples:
        write_json(args.examples, [{"source": t.source, "ours_correct_source_wrong": t.ours_only,
                                    "ours_wrong_source_correct": t.theirs_only} for t in tallies])
        console.print(f"disagreements written to {args.examples}")


if __name__ == "__main__":
    main()
