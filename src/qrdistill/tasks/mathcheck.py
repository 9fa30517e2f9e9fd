"""LaTeX answer equivalence with math-verify, bounded in time from any thread.

math-verify's own timeouts use SIGALRM, which only works in the main thread. We call it with
its timeouts disabled inside a worker thread and bound the wait instead; a call that overruns
is abandoned (its thread finishes in the background, the answer counts as not equal) and the
next calls go to a fresh worker, so one pathological expression never blocks the rest.

>>> math_equal("\\\\frac{1}{2}", "0.5")
True
>>> math_equal("x^2+2x+1", "(x+1)^2")
True
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from qrdistill.tasks.answers import numbers_equal, parse_number

T = TypeVar("T")
log = logging.getLogger(__name__)
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
DEFAULT_TIMEOUT_S = 5.0


def bounded_call(fn: Callable[[], T], timeout_s: float, default: T) -> T:
    """``fn()`` run in a worker thread; ``default`` if it raises or takes longer than ``timeout_s``.

    >>> bounded_call(lambda: 2 + 2, 1.0, None)
    4
    """
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="math-verify")
        pool = _pool
    future = pool.submit(fn)
    try:
        return future.result(timeout=timeout_s)
    except FutureTimeout:
        log.warning("math check exceeded %.1fs; counted as not equal", timeout_s)
        with _lock:
            if _pool is pool:
                _pool = None
        pool.shutdown(wait=False, cancel_futures=True)
        return default
    except Exception as exc:  # math-verify / sympy can raise almost anything on odd input
        log.debug("math check failed: %r", exc)
        return default


def normalise_latex(text: str) -> str:
    """Light textual normal form: no spaces, ``\\left``/``\\right``, ``\\dfrac``->``\\frac``, outer $ or braces."""
    text = text.strip().strip("$").strip()
    text = re.sub(r"\\(?:left|right)(?![a-zA-Z])|\\[,;:! ]|\s+", "", text)
    text = re.sub(r"\\[dt]frac", r"\\frac", text)
    text = re.sub(r"\^\{\\circ\}|\^\\circ|°", "", text)
    text = re.sub(r"\\text\{\s*\}", "", text).rstrip(".")
    while text.startswith("{") and text.endswith("}") and _balanced_outer(text):
        text = text[1:-1]
    return text


def _balanced_outer(text: str) -> bool:
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "{") - (ch == "}")
        if depth == 0 and i < len(text) - 1:
            return False
    return depth == 0


def _verify(pred: str, gold: str) -> bool:
    from math_verify import parse, verify

    gold_parsed = parse(f"${gold}$", parsing_timeout=None)
    pred_parsed = parse(f"${pred}$", parsing_timeout=None)
    if not gold_parsed or not pred_parsed:
        return False
    return bool(verify(gold_parsed, pred_parsed, timeout_seconds=None))


def math_equal(pred: str | None, gold: str | None, timeout_s: float = DEFAULT_TIMEOUT_S) -> bool:
    """Whether two LaTeX answers are mathematically equal: textual normal form, plain numbers,
    then math-verify (bounded by ``timeout_s``). Never raises."""
    if not isinstance(pred, str) or not isinstance(gold, str) or not pred.strip() or not gold.strip():
        return False
    a, b = normalise_latex(pred), normalise_latex(gold)
    if a == b:
        return True
    if _plain_number(a) and _plain_number(b):
        return numbers_equal(a, b)
    return bounded_call(lambda: _verify(a, b), timeout_s, False)


def _plain_number(text: str) -> bool:
    return re.fullmatch(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+", text) is not None and parse_number(text) is not None
