"""The training methods: QR-Distill, the baselines and the ablations, as settings of one trainer.

| method              | paths given to the students                       | routing           | peer |
|---------------------|---------------------------------------------------|-------------------|------|
| qr_distill          | kept paths                                        | learned           | on   |
| single_path         | one kept path per question (cot, else first)      | all to all        | off  |
| single_path-STYLE   | one kept path per question in STYLE, else first   | all to all        | off  |
| multi_path          | kept paths (Answer-Aug)                           | all to all        | off  |
| no_filter           | answer-checked paths, judge/verifiers ignored     | learned           | on   |
| no_route            | kept paths                                        | all to all        | on   |
| random_route        | kept paths                                        | random, same sets | on   |
| no_peer             | kept paths                                        | learned           | off  |

``select_paths`` applies the data column to the paths a caller passes: for ``no_filter`` pass
the filter's full output (filtered.jsonl, every path with its Verdict); every other method also
accepts it and keeps only ``verdict.kept`` paths. Paths without a verdict count as kept.
``single_path`` is the paper's SKD (one teacher chain of thought); ``single_path-fact`` and the
like are the same baseline on another style, so a grid can find the best single style.

>>> get_method("single_path-fact").style
'fact'
>>> paths = select_paths(filtered, "single_path")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from qrdistill.errors import UnknownName
from qrdistill.records import Path

Routing = Literal["learned", "all", "random"]
SINGLE_PATH_STYLE = "cot"


@dataclass(frozen=True)
class Method:
    """How one method trains: its data selection, its routing and whether peers teach."""

    data: Literal["kept", "one_per_question", "answer_checked"]
    routing: Routing
    peer: bool
    style: str = SINGLE_PATH_STYLE
    """For ``one_per_question``: the style whose path is taken (else the question's first kept path)."""


METHODS: dict[str, Method] = {
    "qr_distill": Method(data="kept", routing="learned", peer=True),
    "single_path": Method(data="one_per_question", routing="all", peer=False),
    "multi_path": Method(data="kept", routing="all", peer=False),
    "no_filter": Method(data="answer_checked", routing="learned", peer=True),
    "no_route": Method(data="kept", routing="all", peer=True),
    "random_route": Method(data="kept", routing="random", peer=True),
    "no_peer": Method(data="kept", routing="learned", peer=False),
}


def get_method(name: str) -> Method:
    """The Method called ``name`` (``single_path-STYLE`` included); an unknown name lists the known ones."""
    if name in METHODS:
        return METHODS[name]
    base, _, style = name.partition("-")
    if base == "single_path" and style:
        return replace(METHODS[base], style=style)
    raise UnknownName(f"unknown method {name!r}; use one of {', '.join(METHODS)} or single_path-STYLE")


def _kept(path: Path) -> bool:
    return path.status == "ok" and (path.verdict is None or path.verdict.kept)


def _answer_checked(path: Path) -> bool:
    if path.status != "ok":
        return False
    if path.verdict is not None:
        return path.verdict.answer_correct
    return path.correct is not False


def budget_paths(paths: Sequence[Path]) -> list[Path]:
    """The paths an epoch of the step budget counts, the same for every method: the kept ones, so
    ``single_path`` cycles its smaller set more often and ``no_filter`` sees its larger one less
    than once per epoch (docs/method.md §5).

    >>> len(budget_paths(filtered)) == len(select_paths(filtered, "multi_path"))
    True
    """
    return [p for p in paths if _kept(p)]


def select_paths(paths: Sequence[Path], method: str) -> list[Path]:
    """The paths ``method`` trains on, in input order.

    >>> [p.style for p in select_paths(paths, "single_path")]     # one per question
    ['cot', 'cot']
    """
    spec = get_method(method)
    data = spec.data
    if data == "answer_checked":
        return [p for p in paths if _answer_checked(p)]
    kept = [p for p in paths if _kept(p)]
    if data == "kept":
        return kept
    chosen: dict[str, Path] = {}
    for path in kept:
        current = chosen.get(path.question_id)
        if current is None or (path.style == spec.style and current.style != spec.style):
            chosen[path.question_id] = path
    return list(chosen.values())
