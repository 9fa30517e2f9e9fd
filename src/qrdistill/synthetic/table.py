"""``synth_table``: TabMWP-like questions on a small table of 3-5 rows.

Question kinds: the total of two or three rows, the difference of two rows, the range.

>>> draft = make_table(random.Random(0))
>>> draft.context.count("|") >= 4
True
"""

from __future__ import annotations

import random

from qrdistill.synthetic.solutions import Calc, Draft, Program, Solution, Step
from qrdistill.synthetic.words import PEOPLE, fresh_number, numbers_in

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
TEAMS = ["Red", "Blue", "Green", "Gold", "Silver"]
# (title, row header, value header, row labels)
THEMES = [
    ("Stamps collected", "Name", "Stamps", [p[0] for p in PEOPLE]),
    ("Books read", "Day", "Books", WEEKDAYS),
    ("Points scored", "Team", "Points", TEAMS),
    ("Visitors to the museum", "Day", "Visitors", WEEKDAYS),
    ("Cans recycled", "Name", "Cans", [p[0] for p in PEOPLE]),
]


def _table(title: str, head: str, unit: str, rows: dict[str, int]) -> str:
    return "\n".join([title, f"{head} | {unit}", *(f"{k} | {v}" for k, v in rows.items())])


def _sum_steps(labels: list[str], rows: dict[str, int]) -> list[Step]:
    steps, total = [], rows[labels[0]]
    for label in labels[1:]:
        calc = Calc.of(total, "+", rows[label])
        steps.append(Step(texts=[f"adding {label}'s {rows[label]}: {{calc}}.", f"plus {label}: {{calc}}.",
                                 f"with {label} the total is {{calc}}."], calc=calc))
        total = calc.c
    return steps


def _answer(kind: str, labels: list[str], rows: dict[str, int]) -> int:
    if kind == "sum":
        return sum(rows[k] for k in labels)
    if kind == "diff":
        return rows[labels[0]] - rows[labels[1]]
    return max(rows.values()) - min(rows.values())


def _code(kind: str, labels: list[str], rows: dict[str, int], var: str) -> list[str]:
    if kind == "sum":
        expr = " + ".join(f"{var}[{k!r}]" for k in labels)
    elif kind == "diff":
        expr = f"{var}[{labels[0]!r}] - {var}[{labels[1]!r}]"
    else:
        expr = f"max({var}.values()) - min({var}.values())"
    return [f"{var} = {rows!r}", f"print({expr})"]


def make_table(rng: random.Random) -> Draft:
    """One table question with its structured solution."""
    title, head, unit, pool = rng.choice(THEMES)
    labels_all = sorted(rng.sample(pool, rng.randint(3, 5)), key=pool.index)
    values = rng.sample(range(5, 61), len(labels_all))
    rows = dict(zip(labels_all, values))
    kind = rng.choice(["sum", "sum", "diff", "range"])
    u = unit.lower()
    if kind == "sum":
        labels = rng.sample(labels_all, rng.choice([2, 3]) if len(labels_all) > 3 else 2)
        names = ", ".join(labels[:-1]) + f" and {labels[-1]}"
        asked = f"What is the total number of {u} for {names}?"
        steps = [Step(texts=[f"{labels[0]}: {rows[labels[0]]}.", f"start with {labels[0]}: {rows[labels[0]]}."])]
        steps += _sum_steps(labels, rows)
        facts = [f"{k}: {rows[k]} {u}." for k in labels]
    elif kind == "diff":
        labels = sorted(rng.sample(labels_all, 2), key=lambda k: -rows[k])
        asked = f"How many more {u} are there for {labels[0]} than for {labels[1]}?"
        calc = Calc.of(rows[labels[0]], "-", rows[labels[1]])
        steps = [Step(texts=[f"{labels[0]}: {calc.a}, {labels[1]}: {calc.b}, so the difference is {{calc}}.",
                             f"subtract {labels[1]} from {labels[0]}: {{calc}}.", f"the difference is {{calc}}."], calc=calc)]
        facts = [f"{k}: {rows[k]} {u}." for k in labels]
    else:
        top, low = max(rows, key=rows.__getitem__), min(rows, key=rows.__getitem__)
        labels = [top, low]
        asked = f"What is the range of the numbers of {u}?"
        others = [v for k, v in rows.items() if k not in labels]
        steps = [
            Step(texts=[f"the largest number is {rows[top]} ({top}) and the smallest is {rows[low]} ({low}).",
                        f"the biggest value is {rows[top]} and the smallest is {rows[low]}."],
                 wrong=[f"the largest number is {rows[top]} and the smallest is {others[0]}."]),
            Step(texts=["the range is {calc}.", "range = largest - smallest = {calc}."], calc=Calc.of(rows[top], "-", rows[low])),
        ]
        facts = ["The range is the largest value minus the smallest value."] + [f"{k}: {v} {u}." for k, v in rows.items()]
    context = _table(title, head, unit, rows)
    answer = _answer(kind, labels, rows)
    bump = rng.randint(1, 3)
    bad_rows = {**rows, labels[0]: rows[labels[0]] + bump}
    bad_answer = _answer(kind, labels, bad_rows)
    seen = numbers_in(context + asked)
    x = fresh_number(rng, 2, 19, seen)
    var = u.replace(" ", "_")
    solution = Solution(
        family="synth_table",
        facts=facts,
        steps=steps,
        answer=str(answer),
        answer_text=str(answer),
        wrong_answers=[str(v) for v in dict.fromkeys([answer + 1, answer - 1, bad_answer]) if v > 0 and v != answer],
        irrelevant=[
            f"{labels[0]} also had {x} {u} last year, so over two years that is {x} + {rows[labels[0]]} = {x + rows[labels[0]]}.",
            f"if each of the {u} is worth {x} points, {labels[-1]} has {rows[labels[-1]]} × {x} = {rows[labels[-1]] * x} points.",
        ],
        program=Program(lines=_code(kind, labels, rows, var), wrong_lines=_code(kind, labels, bad_rows, var),
                        wrong_output=str(bad_answer)),
    )
    return Draft(question=asked, gold=str(answer), solution=solution, context=context)
