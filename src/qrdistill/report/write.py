"""Writing a run's comparison: results.json, plots/*.png and report.md.

>>> write_report(cfg, RunDir(cfg.run_dir), collect_results(cfg))
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from qrdistill.config import RunConfig
from qrdistill.evaluate.grid import dev_accuracies
from qrdistill.evaluate.results import RunResult, write_results
from qrdistill.jsonl import read_records, write_atomic
from qrdistill.output import keep_words
from qrdistill.records import Path, Question
from qrdistill.report.aggregate import average_over_tasks, ordered
from qrdistill.report.comparisons import paired_comparisons
from qrdistill.report.markdown import METHOD_ORDER, accuracy_table, build_report, comparisons_table, funnel_markdown
from qrdistill.report.plots import accuracy_bars, loss_curves, routing_heatmaps
from qrdistill.report.reference import reference_table
from qrdistill.report.trainlogs import read_loss_curves, read_routing_gains, read_routing_rates, routing_table
from qrdistill.rundir import RunDir, run_questions

console = Console(stderr=True)


def provenance(cfg: RunConfig, paths: Sequence[Path] = ()) -> list[str]:
    """What the run used, with everything synthetic labelled as such; ``paths``: the run's teacher
    paths, which name their teachers when no teacher is configured (imported paths)."""
    lines = []
    for tc in cfg.tasks:
        if tc.synthetic is not None:
            lines.append(f"task `{tc.name}`: **synthetic** problem family (generated, seed {cfg.seed}), "
                         f"{tc.synthetic.train} train / {tc.synthetic.test} held-out test questions")
        else:
            lines.append(f"task `{tc.name}`: train `{tc.train_data}`, test `{tc.test_data}`"
                         + (f" (first {tc.limit_test} test questions)" if tc.limit_test else ""))
    backend = cfg.generate.teacher if "teacher" in cfg.generate.model_fields_set else None
    if backend == "synthetic":
        lines.append("teacher: **synthetic** (built-in generator that writes each known solution in every style and "
                     "injects wrong and spurious paths at known rates; not an LLM)")
    elif backend is not None:
        lines.append(f"teacher: `{cfg.generate.model}` via `{backend}`")
    else:
        sources = Counter(f"`{p.teacher}` {p.style}" for p in paths)
        lines.append("teachers (imported paths, as counted before filtering): "
                     + (", ".join(f"{name} ({n})" for name, n in sorted(sources.items())) or "none found"))
    judge, verifiers = cfg.filter.judge, cfg.filter.verifiers
    if judge == "none":
        lines.append(f"judge: no LLM; **deterministic verifiers** ({', '.join(verifiers) or 'none'}) + answer check")
    else:
        lines.append(f"judge: `{cfg.filter.model}` via `{judge}`, verifiers: {', '.join(verifiers) or 'none'}")
    lines.append("students: " + ", ".join(f"`{s.name}` = {s.model}" for s in cfg.students))
    if cfg.train.model_fields_set:
        lines.append("training: " + ", ".join(f"{k}={v}" for k, v in cfg.train.model_dump(exclude_unset=True).items()))
    prompt = {"auto": "each student in the style with its best dev accuracy", "plain": "the task's plain zero-shot prompt"}
    lines.append(f"evaluation: greedy, max_new_tokens={cfg.eval.max_new_tokens}, "
                 f"{prompt.get(cfg.eval.style, f'the {cfg.eval.style} style prompt')}"
                 + ("; the plain prompt reported too" if cfg.eval.plain and cfg.eval.style != "plain" else ""))
    return lines


def _funnel_section(run: RunDir, filtered: list[Path], questions: list[Question]) -> str | None:
    if not filtered:
        return None
    from qrdistill.quality.funnel import funnel, plot_funnel

    counts = funnel(filtered, questions)
    plot_funnel(counts, run.plots / "funnel.png")
    return funnel_markdown(counts) + "\n\n![filter funnel](plots/funnel.png)"


def print_summary(runs: list[RunResult], cfg: RunConfig) -> None:
    """Average accuracy per method × student on the console."""
    tasks = [t.name for t in cfg.tasks]
    avgs = average_over_tasks(runs, tasks)
    students = ordered({s for _, s in avgs}, cfg.student_names())
    methods = ordered({m for m, _ in avgs}, [*cfg.methods, *METHOD_ORDER])
    table = Table(title="average accuracy over tasks (%)")
    table.add_column("method")
    for s in students:
        table.add_column(s, justify="right")
    for m in methods:
        table.add_row(m, *[avgs[(m, s)].fmt() if (m, s) in avgs else "—" for s in students])
    console.print(keep_words(table, console.width))


def _styles_section(cfg: RunConfig, runs: Sequence[RunResult]) -> str | None:
    """Which style each student answered the test in, per method and seed, with its dev accuracy."""
    rows = []
    for r in sorted(runs, key=lambda r: (r.student, r.task, r.method, r.seed)):
        dev = dev_accuracies(cfg, r.method, r.seed, r.student, r.task)
        if not dev:
            continue
        chosen = r.style or "plain"
        others = ", ".join(f"{k} {100 * v:.0f}" for k, v in sorted(dev.items(), key=lambda kv: -kv[1]))
        rows.append(f"| {r.student} | {r.task} | {r.method} | {r.seed} | {chosen} | {others} |")
    if not rows:
        return None
    return "\n".join(["Chosen on the dev split (accuracy %, best first); the test answers use the chosen style.", "",
                      "| student | task | method | seed | chosen style | dev accuracy per style (%) |", "|---|---|---|---|---|---|", *rows])


def _routing_section(run: RunDir, method: str, seed: int) -> str | None:
    rates = read_routing_rates(run.train(method, seed))
    if not rates:
        return None
    png = run.plots / f"routing_{method}.png"
    routing_heatmaps(rates, png)
    body = routing_table(rates) + f"\n\n![routing]({png.relative_to(run.root)})"
    gains = read_routing_gains(run.train(method, seed))
    if gains:
        png = run.plots / f"gains_{method}.png"
        routing_heatmaps(gains, png, label="mean answer gain (nats)", fixed_range=False)
        body += ("\n\nMean answer gain per source x student (nats; what the router learns from: how much a path's "
                 "reasoning raises the student's probability of the gold answer over the bare answer cue):\n\n"
                 + routing_table(gains) + f"\n\n![gains]({png.relative_to(run.root)})")
    return body


def write_report(cfg: RunConfig, run: RunDir, runs: list[RunResult]) -> None:
    """Write results.json, the plots and report.md for ``runs`` (chosen-style and plain-prompt rows)."""
    comparisons = paired_comparisons(cfg)
    write_results(run.results, runs, cfg.model_dump(mode="json"), comparisons)
    plain = [r for r in runs if r.prompt == "plain"]
    runs = [r for r in runs if r.prompt != "plain"]
    tasks = [t.name for t in cfg.tasks]
    methods = ordered({r.method for r in runs}, [*cfg.methods, *METHOD_ORDER])
    students = ordered({r.student for r in runs}, cfg.student_names())
    accuracy_bars(runs, methods, students, tasks, run.plots / "accuracy.png")
    sections: list[tuple[str, str]] = [("Accuracy plot", "![accuracy](plots/accuracy.png)\n\n"
                                                           "Error bars: ±std over seeds; for a single seed, the run's 95% Wilson interval.")]
    styles_md = _styles_section(cfg, runs)
    if styles_md:
        sections.append(("Test-time styles", styles_md))
    if plain:
        body = accuracy_table(plain, methods, students, tasks)
        paired_plain = comparisons_table(comparisons, prompt="plain")
        if paired_plain:
            body += "\n\nPaired differences under the plain prompt (points):\n\n" + paired_plain
        sections.append(("Accuracy (%) under the plain zero-shot prompt", body))
    needed = [(tc.name, split) for tc in cfg.tasks for split in ("train", "test", "dev") if split != "dev" or tc.has_dev()]
    written = all(run.questions(task, split).exists() for task, split in needed)  # the report writes no questions
    splits = {task: (qs["train"], qs["test"]) for task, qs in run_questions(cfg, run).items()} if written else {}
    references = reference_table(splits)
    if references:
        sections.append(("Reference accuracies without a model (%)", references + "\n\n"
                         "A student that always writes the most common training answer scores the 'always answering it' column: compare each accuracy above with it."))
    train_questions = [q for train, _ in splits.values() for q in train]
    paths = read_records(run.filtered, Path) if run.filtered.exists() else []
    funnel_md = _funnel_section(run, paths, train_questions)
    if funnel_md:
        sections.append(("Filter funnel (Stage B)", funnel_md))
    for method in [m for m in cfg.trained_methods if m in ("qr_distill", "random_route", "no_peer", "no_filter")]:
        routing_md = _routing_section(run, method, cfg.seeds[0])
        if routing_md:
            sections.append((f"Routing rates per source × student ({method}, seed {cfg.seeds[0]})", routing_md))
    curves = {f"{m} seed{s}": c for m in cfg.trained_methods for s in cfg.seeds[:1]
              if (c := read_loss_curves(run.train(m, s)))}
    if curves:
        loss_curves(curves, run.plots / "loss.png")
        sections.append(("Training loss (distillation CE per student)", "![loss](plots/loss.png)"))
    text = build_report(runs, methods=methods, students=students, tasks=tasks, provenance=provenance(cfg, paths), sections=sections,
                        comparisons=comparisons)
    write_atomic(run.report, text)
    print_summary(runs, cfg)
