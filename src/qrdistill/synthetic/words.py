"""Word lists and small helpers shared by the synthetic problem generators.

>>> fresh_number(random.Random(0), 2, 9, avoid={2, 3, 4})
8
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection

# (name, subject pronoun, possessive)
PEOPLE = [
    ("Tom", "he", "his"), ("Mia", "she", "her"), ("Sam", "he", "his"), ("Lena", "she", "her"),
    ("Omar", "he", "his"), ("Rosa", "she", "her"), ("Ken", "he", "his"), ("Ava", "she", "her"),
    ("Ben", "he", "his"), ("Nora", "she", "her"), ("Ivan", "he", "his"), ("Zoe", "she", "her"),
]
# (singular, plural)
ITEMS = [
    ("apple", "apples"), ("sticker", "stickers"), ("marble", "marbles"), ("pencil", "pencils"),
    ("cookie", "cookies"), ("card", "cards"), ("shell", "shells"), ("coin", "coins"),
    ("book", "books"), ("egg", "eggs"), ("toy car", "toy cars"), ("balloon", "balloons"),
]
MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]


def numbers_in(text: str) -> set[int]:
    """Every integer written in ``text``: ``numbers_in("3 bags of 12") == {3, 12}``."""
    return {int(n) for n in re.findall(r"\d+", text)}


def fresh_number(rng: random.Random, lo: int, hi: int, avoid: Collection[int]) -> int:
    """A random integer in ``[lo, hi]`` not in ``avoid`` (raises ValueError if none is left)."""
    pool = [n for n in range(lo, hi + 1) if n not in avoid]
    if not pool:
        raise ValueError(f"no integer in [{lo}, {hi}] outside {sorted(avoid)}")
    return rng.choice(pool)


def capitalise(text: str) -> str:
    """First letter upper-case, the rest untouched: ``capitalise("he buys") == "He buys"``."""
    return text[:1].upper() + text[1:]
