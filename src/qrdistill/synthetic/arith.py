"""``synth_arith``: GSM8K-like word problems, 2-3 operations on small integers.

A person starts with some items; events add, remove, multiply or share them.

>>> draft = make_arith(random.Random(1))
>>> draft.gold == draft.solution.answer
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from qrdistill.synthetic.solutions import Calc, Draft, Program, Solution, Step
from qrdistill.synthetic.words import ITEMS, PEOPLE, capitalise, fresh_number, numbers_in

CONTAINERS = [("box", "boxes"), ("bag", "bags"), ("pack", "packs"), ("jar", "jars")]


@dataclass(frozen=True)
class Event:
    """One thing that happens to the count: ``kind`` in add/sub/groups/times/share."""

    kind: str
    x: int
    y: int = 0


def _calcs(start: int, events: list[Event]) -> list[Calc] | None:
    """The calculations that follow the story; None when a count would leave positive integers."""
    cur, out = start, []
    for ev in events:
        try:
            if ev.kind == "groups":
                extra = Calc.of(ev.x, "×", ev.y)
                out += [extra, Calc.of(cur, "+", extra.c)]
            else:
                op = {"add": "+", "sub": "-", "times": "×", "share": "÷"}[ev.kind]
                out.append(Calc.of(cur, op, ev.x))
        except ValueError:
            return None
        cur = out[-1].c
        if cur <= 0:
            return None
    return out


def _plan(rng: random.Random, start: int, n_calcs: int) -> list[Event]:
    cur, left, events = start, n_calcs, []
    while left > 0:
        kinds = ["add"] + ["sub"] * (cur > 4) + ["groups"] * (left >= 2) + ["times"] * (cur * 2 <= 60)
        divisors = [k for k in range(2, 7) if cur % k == 0 and cur // k >= 2]
        kinds += ["share"] * 2 * (left == 1 and bool(divisors))
        kind = rng.choice(kinds)
        if kind == "add":
            ev = Event("add", rng.randint(2, 15))
        elif kind == "sub":
            ev = Event("sub", rng.randint(2, min(15, cur - 1)))
        elif kind == "groups":
            ev = Event("groups", rng.randint(2, 5), rng.randint(2, 9))
        elif kind == "times":
            ev = Event("times", rng.choice([k for k in (2, 3) if cur * k <= 90]))
        else:
            ev = Event("share", rng.choice(divisors))
        events.append(ev)
        left -= 2 if kind == "groups" else 1
        cur = _calcs(cur, [ev])[-1].c
    return events


def _story(rng: random.Random, ev: Event, who: str, pron: str, items: str, container: tuple[str, str]) -> str:
    p = capitalise(pron)
    box, boxes = container
    options = {
        "add": [f"{p} buys {ev.x} more {items}.", f"{p} finds {ev.x} more {items}.", f"A friend gives {who} {ev.x} {items}."],
        "sub": [f"{p} gives {ev.x} {items} to a friend.", f"{p} loses {ev.x} {items}.", f"{p} uses {ev.x} {items} for a project."],
        "groups": [f"{p} buys {ev.x} {boxes} with {ev.y} {items} in each {box}.", f"{p} gets {ev.x} {boxes} of {ev.y} {items} each."],
        "times": [f"Then the number of {items} {pron} has {'doubles' if ev.x == 2 else 'triples'}."],
        "share": [f"{p} shares the {items} equally among {ev.x} friends."],
    }
    return rng.choice(options[ev.kind])


def _steps(ev: Event, calcs: list[Calc], who: str, pron: str, items: str, container: tuple[str, str]) -> list[Step]:
    box, boxes = container
    if ev.kind == "groups":
        return [
            Step(texts=[f"the {ev.x} {boxes} hold {{calc}} {items}.", f"there are {{calc}} {items} in the {boxes}.",
                        f"in the {boxes}: {{calc}} {items}."], calc=calcs[0]),
            Step(texts=[f"together with the others, {who} has {{calc}} {items}.", f"adding them: {{calc}} {items}.",
                        f"{who} now has {{calc}} {items}."], calc=calcs[1]),
        ]
    texts = {
        "add": [f"after getting {ev.x} more, {who} has {{calc}} {items}.", f"adding the {ev.x} new {items}: {{calc}}.",
                f"{who} now has {{calc}} {items}."],
        "sub": [f"taking away {ev.x}: {{calc}}.", f"{who} has {{calc}} {items} left.", f"that leaves {{calc}} {items}."],
        "times": [f"the number {'doubles' if ev.x == 2 else 'triples'}: {{calc}}.", f"{who} ends up with {{calc}} {items}."],
        "share": [f"each friend gets {{calc}} {items}.", f"sharing equally: {{calc}}."],
    }
    return [Step(texts=texts[ev.kind], calc=calcs[0])]


def _code(start: int, events: list[Event], var: str) -> list[str]:
    lines = [f"{var} = {start}"]
    for ev in events:
        if ev.kind == "groups":
            lines += [f"extra = {ev.x} * {ev.y}", f"{var} = {var} + extra"]
        else:
            op = {"add": "+", "sub": "-", "times": "*", "share": "//"}[ev.kind]
            lines.append(f"{var} = {var} {op} {ev.x}")
    return lines + [f"print({var})"]


def _buggy(rng: random.Random, start: int, events: list[Event], answer: int) -> tuple[int, list[Event], int]:
    """One number copied wrong (start or an event's), so that the result is a different valid count."""
    tries = [(i, f, d) for i in range(len(events) + 1) for f in "xy" for d in (1, -1, 2, -2)]
    rng.shuffle(tries)
    tries += [(len(events), "x", d) for d in range(3, 12)]
    for i, field, d in tries:
        new_start, new_events = start, list(events)
        if i == len(events):
            new_start += d
        elif field == "x" or events[i].kind == "groups":
            new_events[i] = replace(events[i], **{field: getattr(events[i], field) + d})
            if min(new_events[i].x, new_events[i].y or 1) < 1 or (new_events[i].kind in ("times", "share") and new_events[i].x < 2):
                continue
        calcs = _calcs(new_start, new_events) if new_start > 0 else None
        if calcs and calcs[-1].c != answer:
            return new_start, new_events, calcs[-1].c
    raise ValueError("no buggy variant of the program gives a different valid answer")


def make_arith(rng: random.Random, operations: tuple[int, ...] = (2, 3)) -> Draft:
    """One word problem of ``rng.choice(operations)`` story events with its structured solution."""
    who, pron, poss = rng.choice(PEOPLE)
    single, items = rng.choice(ITEMS)
    container = rng.choice(CONTAINERS)
    start = rng.randint(5, 30)
    events = _plan(rng, start, rng.choice(operations))
    calcs = _calcs(start, events)
    facts = [f"{who} has {start} {items}."] + [_story(rng, ev, who, pron, items, container) for ev in events]
    ask = (f"How many {items} does each friend get?" if events[-1].kind == "share"
           else f"How many {items} does {who} have now?")
    question = " ".join(facts + [ask])
    steps, at = [], 0
    for ev in events:
        used = 2 if ev.kind == "groups" else 1
        steps += _steps(ev, calcs[at:at + used], who, pron, items, container)
        at += used
    answer = calcs[-1].c
    var = items.replace(" ", "_")
    bad_start, bad_events, bad_answer = _buggy(rng, start, events, answer)
    seen = numbers_in(question)
    x = fresh_number(rng, 2, 19, seen)
    y = fresh_number(rng, 2, 19, seen | {x})
    irrelevant = [
        f"each {single} costs {x} cents, so {start} {items} would cost {start} × {x} = {start * x} cents.",
        f"{who} is {x} years old, and in {y} years {pron} will be {x} + {y} = {x + y}.",
        f"{poss} {container[0]} weighs {x} grams, so two of them weigh {x} × 2 = {2 * x} grams.",
    ]
    wrong = [str(v) for v in dict.fromkeys([answer + 1, answer - 1, calcs[max(len(calcs) - 2, 0)].c, bad_answer]) if v != answer and v > 0]
    solution = Solution(
        family="synth_arith",
        facts=facts,
        steps=steps,
        answer=str(answer),
        answer_text=str(answer),
        wrong_answers=wrong,
        irrelevant=irrelevant,
        program=Program(lines=_code(start, events, var), wrong_lines=_code(bad_start, bad_events, var),
                        wrong_output=str(bad_answer)),
    )
    return Draft(question=question, gold=str(answer), solution=solution)
