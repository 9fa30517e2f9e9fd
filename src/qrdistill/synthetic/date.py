"""``synth_date``: Date-Understanding-like questions with 6 options (A-F), MM/DD/YYYY.

An anchor ("Yesterday was 03/14/2021.") fixes today; the question asks for a date some days
away. Solving takes two day-of-month calculations (plus one per month boundary crossed).

>>> draft = make_date(random.Random(3))
>>> draft.choices[ord(draft.gold) - 65] == draft.solution.answer_text
True
"""

from __future__ import annotations

import calendar
import random
from datetime import date, timedelta

from qrdistill.synthetic.solutions import Calc, Draft, Program, Solution, Step
from qrdistill.synthetic.words import MONTHS, fresh_number, numbers_in

LETTERS = "ABCDEF"
# (sentence with {d}, days from the anchor date to today, how to say it)
ANCHORS = [
    ("Yesterday was {d}.", 1, "one day after yesterday"),
    ("Tomorrow will be {d}.", -1, "one day before tomorrow"),
    ("The day before yesterday was {d}.", 2, "two days after the day before yesterday"),
    ("The day after tomorrow will be {d}.", -2, "two days before the day after tomorrow"),
]
WORDS = {1: "one day", 7: "one week", 14: "two weeks"}


def fmt(d: date) -> str:
    """``fmt(date(2021, 3, 4)) == "03/04/2021"``."""
    return d.strftime("%m/%d/%Y")


def _month_days(d: date) -> int:
    return calendar.monthrange(d.year, d.month)[1]


def shift_steps(start: date, delta: int, intro: str, label: str) -> list[Step]:
    """The steps that move ``start`` by ``delta`` days on the day of the month, one calculation per
    month boundary crossed (``|delta| <= 28``), ending with "{label} is MM/DD/YYYY"."""
    end = start + timedelta(days=delta)
    say_end = [f"so {label} is {fmt(end)}.", f"which gives {fmt(end)} for {label}."]
    if delta > 0:
        first = Calc.of(start.day, "+", delta)
        if first.c <= _month_days(start):
            return [Step(texts=[f"{intro}: {{calc}}, {s}" for s in say_end], calc=first)]
        month, days = MONTHS[start.month - 1], _month_days(start)
        return [
            Step(texts=[f"{intro}: {{calc}}.", f"{intro}, the day number is {{calc}}."], calc=first),
            Step(texts=[f"{month} has {days} days, so {{calc}}, {s}" for s in say_end], calc=Calc.of(first.c, "-", days)),
        ]
    back = -delta
    if start.day > back:
        return [Step(texts=[f"{intro}: {{calc}}, {s}" for s in say_end], calc=Calc.of(start.day, "-", back))]
    prev = start.replace(day=1) - timedelta(days=1)
    month, days = MONTHS[prev.month - 1], _month_days(prev)
    borrow = Calc.of(start.day, "+", days)
    return [
        Step(texts=[f"counting back into {month}, which has {days} days: {{calc}}.",
                    f"{month} has {days} days, so in {month} terms the day is {{calc}}."], calc=borrow),
        Step(texts=[f"{intro}: {{calc}}, {s}" for s in say_end], calc=Calc.of(borrow.c, "-", back)),
    ]


def _distractors(rng: random.Random, anchor: date, today: date, target: date) -> list[date]:
    """Five wrong dates: one day either side of the target, then three from the usual slips."""
    near = [target - timedelta(days=1), target + timedelta(days=1)]
    slips = [anchor, today, target - timedelta(days=7), target + timedelta(days=7)]
    for years, months in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        month_index = target.month - 1 + months
        try:
            slips.append(target.replace(year=target.year + years + month_index // 12, month=month_index % 12 + 1))
        except ValueError:
            continue
    if target.day <= 12 and target.day != target.month:
        slips.append(target.replace(month=target.day, day=target.month))
    slips = [d for d in dict.fromkeys(slips) if d not in near and d != target]
    return near + rng.sample(slips, 3)


def _code(anchor: date, shift: int, delta: int, options: list[str]) -> list[str]:
    def moved(what: str, days: int) -> str:
        return f"{what} {'+' if days > 0 else '-'} timedelta(days={abs(days)})"

    return [
        "from datetime import date, timedelta",
        f"today = {moved(f'date({anchor.year}, {anchor.month}, {anchor.day})', shift)}",
        f"target = {moved('today', delta)}",
        f'options = "{" ".join(options)}".split()',
        'print("ABCDEF"[options.index(target.strftime("%m/%d/%Y"))])',
    ]


def make_date(rng: random.Random) -> Draft:
    """One date question with six options and its structured solution."""
    sentence, shift, how = rng.choice(ANCHORS)
    anchor = date(rng.randint(1995, 2030), rng.randint(1, 12), rng.randint(1, 28)) + timedelta(days=rng.randint(0, 3))
    delta = rng.choice([d for d in (1, 2, 3, 5, 7, 10, 14, 20) + (-1, -2, -3, -5, -7, -10, -14, -20) if d != -shift])
    today, n = anchor + timedelta(days=shift), abs(delta)
    target = today + timedelta(days=delta)
    span = WORDS.get(n, f"{n} days")
    asked = f"What is the date {span} from today?" if delta > 0 else f"What was the date {span} ago?"
    if n == 1:
        asked = "What is the date tomorrow?" if delta > 0 else "What was the date yesterday?"
    stated = sentence.format(d=fmt(anchor))
    question = f"{stated} {asked} Give the date as MM/DD/YYYY."
    steps = shift_steps(anchor, shift, f"today is {how}", "today")
    steps += shift_steps(today, delta, f"{span} {'after' if delta > 0 else 'before'} today", "the date")
    dates = [target, *_distractors(rng, anchor, today, target)]
    rng.shuffle(dates)
    options = [fmt(d) for d in dates]
    letter = LETTERS[dates.index(target)]
    near = [LETTERS[dates.index(target + timedelta(days=s))] for s in (-1, 1)]
    buggy = rng.choice([1, -1]) * (1 if delta > 0 else -1)
    seen = numbers_in(question)
    x = fresh_number(rng, 3, 19, seen)
    y = fresh_number(rng, 3, 19, seen | {x})
    facts = [stated, f"The question asks for the date {span} {'after' if delta > 0 else 'before'} today."]
    first, last = min(anchor, target), max(anchor, target)
    months = dict.fromkeys((first + timedelta(days=i)).replace(day=1) for i in range((last - first).days + 1))
    facts += [f"{MONTHS[m.month - 1]} {m.year} has {_month_days(m)} days." for m in months]
    solution = Solution(
        family="synth_date",
        facts=facts,
        steps=steps,
        answer=letter,
        answer_text=fmt(target),
        wrong_answers=near + [c for c in LETTERS if c not in near and c != letter],
        irrelevant=[
            f"a year has 12 months, so {x} years have {x} × 12 = {12 * x} months.",
            f"the shop opened {x} days earlier, so by then it has been open {x} + {y} = {x + y} days.",
        ],
        program=Program(
            lines=_code(anchor, shift, delta, options),
            wrong_lines=_code(anchor, shift, delta + buggy, options),
            wrong_output=LETTERS[dates.index(target + timedelta(days=buggy))],
        ),
    )
    return Draft(question=question, gold=letter, solution=solution, choices=options)
