"""``synth_yesno``: StrategyQA-like yes/no questions that need two reasoning steps from stated
facts (a calculation then a comparison, or a chain of two facts among distractors).
Answers are balanced: each kind draws "yes" or "no" first, then numbers that give it.

>>> draft = make_yesno(random.Random(0))
>>> draft.gold in ("yes", "no")
True
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from qrdistill.synthetic.solutions import Calc, Draft, Program, Solution, Step
from qrdistill.synthetic.words import PEOPLE, fresh_number, numbers_in

CLUBS = ["climbing club", "chess club", "swim team", "film club", "robot club"]
THINGS = [("ticket", "tickets"), ("notebook", "notebooks"), ("lamp", "lamps"), ("kite", "kites"), ("mug", "mugs")]
TOWNS = ["Velmora", "Brisk", "Orlan", "Tessa", "Karn", "Pellow", "Dunmere", "Ashby"]
COUNTRIES = ["Drest", "Calomir", "Vantry", "Ostel", "Marrow", "Quell"]
CREATURES = ["zorp", "blicket", "dax", "wug", "fep", "toma", "gorp", "kiv", "mavo", "lune"]
ABILITIES = ["swim", "fly", "climb trees", "glow in the dark", "sing"]


@dataclass
class _Case:
    question: str
    facts: list[str]
    steps: list[Step]
    lines: list[str]
    wrong_lines: list[str]
    irrelevant: Callable[[int, int], list[str]]
    """Steps built on two numbers ``x, y`` that are not in the question."""


def _flip(answer: str) -> str:
    return "no" if answer == "yes" else "yes"


def _compare_program(calc_line: str, test: str, wrong_test: str) -> tuple[list[str], list[str]]:
    return [calc_line, f'print("yes" if {test} else "no")'], [calc_line, f'print("yes" if {wrong_test} else "no")']


def _age(rng: random.Random, yes: bool) -> _Case:
    who, pron, _ = rng.choice(PEOPLE)
    club = rng.choice(CLUBS)
    now = rng.randint(2020, 2030)
    born = rng.randint(now - 20, now - 6)
    age = Calc.of(now, "-", born)
    limit = rng.randint(max(5, age.c - 5), age.c) if yes else rng.randint(age.c + 1, age.c + 5)
    facts = [f"{who} was born in {born}.", f"The year is now {now}.",
             f"The {club} only accepts members who are at least {limit} years old."]
    question = " ".join(facts) + f" Can {who} join the {club}?"
    verdict = (f"{age.c} is at least {limit}, so {pron} is old enough." if yes
               else f"{age.c} is less than {limit}, so {pron} is too young.")
    steps = [Step(texts=[f"{who}'s age is {{calc}} years.", f"in {now}, {who} is {{calc}} years old."], calc=age),
             Step(texts=[verdict])]
    return _Case(question, facts, steps, *_compare_program(f"age = {now} - {born}", f"age >= {limit}", f"age < {limit}"),
                 lambda x, y: [f"the {club} was founded {x} years ago, in {now} - {x} = {now - x}.",
                               f"the {club} has {x} members, so with {who} it would have {x} + 1 = {x + 1}."])


def _afford(rng: random.Random, yes: bool) -> _Case:
    who, pron, _ = rng.choice(PEOPLE)
    thing, things = rng.choice(THINGS)
    cost = Calc.of(rng.randint(2, 6), "×", rng.randint(2, 12))
    money = rng.randint(cost.c, cost.c + 10) if yes else rng.randint(max(1, cost.c - 10), cost.c - 1)
    facts = [f"{who} has {money} dollars.", f"A {thing} costs {cost.b} dollars."]
    question = " ".join(facts) + f" Does {who} have enough money to buy {cost.a} {things}?"
    verdict = (f"{money} is at least {cost.c}, so {pron} has enough." if yes
               else f"{money} is less than {cost.c}, so {pron} does not have enough.")
    steps = [Step(texts=[f"{cost.a} {things} cost {{calc}} dollars.", f"the price of {cost.a} {things} is {{calc}}."], calc=cost),
             Step(texts=[verdict])]
    return _Case(question, facts, steps, *_compare_program(f"cost = {cost.a} * {cost.b}", f"{money} >= cost", f"{money} < cost"),
                 lambda x, y: [f"{who} also earns {x} dollars a week, so in two weeks {x} × 2 = {2 * x} dollars.",
                               f"the shop sold {x} {things} yesterday and {y} today: {x} + {y} = {x + y}."])


def _seats(rng: random.Random, yes: bool) -> _Case:
    seats = Calc.of(rng.randint(3, 9), "×", rng.randint(2, 5))
    riders = rng.randint(max(2, seats.c - 10), seats.c) if yes else rng.randint(seats.c + 1, seats.c + 10)
    facts = [f"A bus has {seats.a} rows with {seats.b} seats in each row.", f"{riders} children are going on a trip."]
    question = " ".join(facts) + " Can every child get a seat on the bus?"
    verdict = (f"{riders} is not more than {seats.c}, so everyone gets a seat." if yes
               else f"{riders} is more than {seats.c}, so some children cannot sit.")
    steps = [Step(texts=["the bus has {calc} seats.", "there are {calc} seats in total."], calc=seats), Step(texts=[verdict])]
    return _Case(question, facts, steps, *_compare_program(f"seats = {seats.a} * {seats.b}", f"{riders} <= seats", f"{riders} > seats"),
                 lambda x, y: [f"the trip takes {x} hours, which is {x} × 60 = {60 * x} minutes.",
                               f"{x} teachers also come along, and {x} + {y} = {x + y} bags are packed."])


def _place(rng: random.Random, yes: bool) -> _Case:
    (who, _, _), (other, _, _) = rng.sample(PEOPLE, 2)
    town, town2 = rng.sample(TOWNS, 2)
    country, country2 = rng.sample(COUNTRIES, 2)
    asked = country if yes else country2
    facts = [f"{who} lives in {town}.", f"{town} is a town in {country}."]
    shown = facts + [f"{other} lives in {town2}.", f"{town2} is a town in {country2}."]
    rng.shuffle(shown)
    question = " ".join(shown) + f" Does {who} live in {asked}?"
    verdict = (f"so {who} lives in {asked}." if yes else f"{country} is not {asked}, so {who} does not live in {asked}.")
    steps = [Step(texts=[f"{who} lives in {town}."], wrong=[f"{who} lives in {town2}."]),
             Step(texts=[f"{town} is in {country}.", f"the town {town} belongs to {country}."], wrong=[f"{town} is in {country2}."]),
             Step(texts=[verdict])]
    head = [f"home = {{{who!r}: {town!r}, {other!r}: {town2!r}}}", f"country = {{{town!r}: {country!r}, {town2!r}: {country2!r}}}"]
    return _Case(question, facts, steps, head + [f'print("yes" if country[home[{who!r}]] == {asked!r} else "no")'],
                 head + [f'print("yes" if country[home[{who!r}]] != {asked!r} else "no")'],
                 lambda x, y: [f"{who} has lived in {town} for {x} years, which is {x} × 12 = {12 * x} months.",
                               f"{town} has {x} schools and {y} parks, so {x} + {y} = {x + y} places to visit."])


def _category(rng: random.Random, yes: bool) -> _Case:
    x, y, z, w = rng.sample(CREATURES, 4)
    ability = rng.choice(ABILITIES)
    can, cannot = "can", "cannot"
    facts = [f"Every {x} is a kind of {y}.", f"{y.capitalize()}s {can if yes else cannot} {ability}."]
    shown = facts + [f"Every {z} is a kind of {w}.", f"{w.capitalize()}s {cannot if yes else can} {ability}."]
    rng.shuffle(shown)
    question = " ".join(shown) + f" Can a {x} {ability}?"
    steps = [Step(texts=[f"a {x} is a kind of {y}.", f"{x}s are {y}s."], wrong=[f"a {x} is a kind of {w}."]),
             Step(texts=[f"{y}s {can if yes else cannot} {ability}, so a {x} {can if yes else cannot} {ability} too."])]
    var = "can_" + ability.split()[0]
    head = [f"kind = {{{x!r}: {y!r}, {z!r}: {w!r}}}", f"{var} = {{{y!r}: {yes}, {w!r}: {not yes}}}"]
    return _Case(question, facts, steps, head + [f'print("yes" if {var}[kind[{x!r}]] else "no")'],
                 head + [f'print("no" if {var}[kind[{x!r}]] else "yes")'],
                 lambda n, m: [f"a {x} usually lives {n} years, so two of them live {n} × 2 = {2 * n} years in all.",
                               f"a {y} has {n} legs, and {n} + {m} = {n + m}."])


KINDS = [_age, _afford, _seats, _place, _category]


def make_yesno(rng: random.Random) -> Draft:
    """One yes/no question with its structured solution."""
    yes = rng.random() < 0.5
    answer = "yes" if yes else "no"
    case = rng.choice(KINDS)(rng, yes)
    seen = numbers_in(case.question)
    x = fresh_number(rng, 3, 19, seen)
    y = fresh_number(rng, 3, 19, seen | {x})
    solution = Solution(
        family="synth_yesno",
        facts=case.facts,
        steps=case.steps,
        answer=answer,
        answer_text=answer,
        wrong_answers=[_flip(answer)],
        irrelevant=case.irrelevant(x, y),
        program=Program(lines=case.lines, wrong_lines=case.wrong_lines, wrong_output=_flip(answer)),
    )
    return Draft(question=case.question, gold=answer, solution=solution)
