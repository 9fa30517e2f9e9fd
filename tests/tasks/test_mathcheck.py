"""LaTeX equivalence through math-verify, and the bounded-time path for a hanging check."""

from __future__ import annotations

import threading
import time

import pytest

from qrdistill.tasks import mathcheck
from qrdistill.tasks.mathcheck import bounded_call, math_equal, normalise_latex


@pytest.mark.parametrize(
    ("pred", "gold", "equal"),
    [
        (r"\frac{1}{2}", "0.5", True),
        (r"\dfrac{5}{2}", r"\frac{5}{2}", True),
        ("x^2+2x+1", "(x+1)^2", True),
        (r"2\sqrt{2}", r"\sqrt{8}", True),
        ("1,000", "1000", True),
        (r"90^\circ", "90", True),
        (r"\left( 1, 2 \right)", "(1,2)", True),
        ("3", "4", False),
        (r"\frac{1}{3}", "0.33", False),
        ("", "1", False),
        (None, "1", False),
        ("}{", r"\frac{1}{2}", False),
    ],
)
def test_math_equal(pred: str | None, gold: str, equal: bool) -> None:
    assert math_equal(pred, gold) is equal


def test_normalise_latex() -> None:
    assert normalise_latex(r" $\dfrac{1}{2}$ ") == r"\frac{1}{2}"
    assert normalise_latex(r"{\left(1,\ 2\right)}.") == "(1,2)"


def test_math_equal_works_off_the_main_thread() -> None:
    results: list[bool] = []
    worker = threading.Thread(target=lambda: results.append(math_equal("x^2+2x+1", "(x+1)^2")))
    worker.start()
    worker.join(timeout=60)
    assert results == [True]


def test_hanging_check_times_out_and_later_checks_still_run(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real_verify = mathcheck._verify

    def hang(pred: str, gold: str) -> bool:
        release.wait(30)
        return True

    monkeypatch.setattr(mathcheck, "_verify", hang)
    start = time.monotonic()
    assert math_equal("x^2", "y^2", timeout_s=0.2) is False
    assert time.monotonic() - start < 5
    monkeypatch.setattr(mathcheck, "_verify", real_verify)
    # the hung worker is still blocked: a fresh one must serve the next check
    assert math_equal("x^2+2x+1", "(x+1)^2") is True
    release.set()


def test_bounded_call_returns_default_on_error() -> None:
    assert bounded_call(lambda: 1 / 0, 1.0, "fallback") == "fallback"
