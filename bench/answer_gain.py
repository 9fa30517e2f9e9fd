"""The router's signal, measured: each student's mean answer gain per style on a run's kept paths.

    python bench/answer_gain.py runs/demo                       # the base students
    python bench/answer_gain.py runs/demo --method qr_distill --seed 0   # the trained adapters

Answer gain (pointwise V-information, docs/method.md §2): log p(gold | path up to its first mention
of the answer) - log p(gold | bare answer cue), in nats, from the same functions the trainer uses
(eval mode, no dropout). Prints one row per style and a column per student.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path as FsPath

import torch

from qrdistill.config import load_config
from qrdistill.evaluate.grid import adapter_dir
from qrdistill.jsonl import read_records
from qrdistill.method.example import build_bare_cues, build_examples
from qrdistill.method.forward import StudentForward
from qrdistill.method.methods import select_paths
from qrdistill.method.reward import answer_nll
from qrdistill.records import Path
from qrdistill.rundir import RunDir, run_questions
from qrdistill.students import load_student
from qrdistill.teacher.styles import load_styles


@torch.no_grad()
def _answer_nll(forward: StudentForward, s: int, items: list, batch_size: int = 8) -> list[float]:
    student, out = forward.student, []
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        cols = student.collate([x.encodings[s] for x in chunk])
        _, nll, rows = forward(cols["input_ids"], cols["attention_mask"], cols["labels"])
        total, known = answer_nll(nll, rows.example, cols["labels"], [x.answer_tokens[s] for x in chunk], len(chunk))
        out += [float(t) if k else float("nan") for t, k in zip(total, known)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=FsPath)
    parser.add_argument("--method", default="zero_shot")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="first N kept paths only")
    args = parser.parse_args()
    run = RunDir(args.run)
    cfg = load_config(run.config)
    questions = {q.id: q for splits in run_questions(cfg, run).values() for q in splits["train"]}
    paths = select_paths(read_records(run.filtered, Path), "multi_path")[: args.limit]
    specs = cfg.students
    students = [load_student(spec, adapter_dir=adapter_dir(run, args.method, args.seed, spec.name), trainable=False) for spec in specs]
    ids = sorted({p.question_id for p in paths})
    examples = build_examples(paths, questions, students, load_styles(cfg.generate.styles_file), ids, progress=False)
    cues = build_bare_cues(ids, questions, students)
    gains: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for s, student in enumerate(students):
        forward = StudentForward(student)
        bare = _answer_nll(forward, s, cues)
        for ex, value in zip(examples, _answer_nll(forward, s, examples)):
            gain = bare[ex.question_index] - value
            if gain == gain:
                gains[ex.path.style][student.name].append(gain)
    names = [s.name for s in students]
    print(f"mean answer gain (nats), {args.method} seed {args.seed}, {len(examples)} kept paths of {args.run}")
    print("| style | " + " | ".join(names) + " | paths |")
    print("|---|" + "---|" * (len(names) + 1))
    for style in sorted(gains):
        cells = [f"{sum(v) / len(v):.2f}" for v in (gains[style][n] for n in names)]
        print(f"| {style} | " + " | ".join(cells) + f" | {len(gains[style][names[0]])} |")


if __name__ == "__main__":
    main()
