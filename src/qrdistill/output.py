"""What the CLI prints: library chatter at debug level, ``--quiet`` and ``--json`` for scripts.

Every stage command runs its work inside ``stage_output``:

- transformers' progress bars ("Loading weights") are off; the log records of transformers,
  huggingface_hub, peft and accelerate and Python warnings (deprecations) go to qrdistill's debug
  log, shown with ``qrdistill --verbose``; datasets' progress bars and messages are off unless verbose;
- ``--quiet``: nothing is printed but qrdistill's own warnings and errors (when the stage fails,
  the last lines it wrote are shown as well);
- ``--json``: as quiet, then one JSON object (the stage's summary) on stdout.

>>> with stage_output(quiet=False, as_json=True) as out:
...     out.summary = {"paths": 12}
{"paths": 12}
"""

from __future__ import annotations

import collections
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from rich.table import Table

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but warnings and errors.")]
Json = Annotated[bool, typer.Option("--json", help="Print only a JSON summary on stdout (for scripts).")]

LIBRARIES = ("transformers", "huggingface_hub", "peft", "accelerate", "datasets", "py.warnings")
"""Loggers whose records go to qrdistill's debug log instead of the terminal."""
TAIL_LINES = 40
"""Lines of a quiet stage's own output shown when it fails."""

log = logging.getLogger("qrdistill.libraries")
_verbose = False


class _ToDebug(logging.Handler):
    """Re-logs a library's record at DEBUG on qrdistill's logger."""

    def emit(self, record: logging.LogRecord) -> None:
        log.debug("%s: %s", record.name, record.getMessage())


_TO_DEBUG = _ToDebug()


def set_verbose(verbose: bool) -> None:
    """``qrdistill --verbose``: print qrdistill's debug log (library records included) to stderr."""
    global _verbose
    _verbose = verbose
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logging.getLogger("qrdistill").addHandler(handler)
        logging.getLogger("qrdistill").setLevel(logging.DEBUG)


def route_library_logs() -> None:
    """Send the records of the imported ML libraries and Python warnings to the debug log.

    A library adds its own terminal handler when it is imported; call this again after that.
    """
    logging.captureWarnings(False)  # re-capture: whoever replaced warnings.showwarning since the last call
    logging.captureWarnings(True)
    for name in LIBRARIES:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if handler is not _TO_DEBUG:
                logger.removeHandler(handler)
        if _TO_DEBUG not in logger.handlers:
            logger.addHandler(_TO_DEBUG)
        logger.propagate = False


def quiet_libraries() -> None:
    """Library progress bars off and their records routed to the debug log (see the module doc)."""
    if not _verbose:
        # read when datasets is imported, which stages do lazily
        os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("DATASETS_VERBOSITY", "error")
    from transformers.utils import logging as hf_logging  # configures its terminal handler, which we replace

    hf_logging.disable_progress_bar()
    route_library_logs()


def keep_words(table: Table, width: int) -> Table:
    """Make ``table`` wrap instead of cutting names to ``synth_a…`` on a ``width``-column terminal:
    cells wrap between words when every column's longest word fits, else inside words."""
    longest = [max((len(w) for cell in [c.header, *c.cells] for w in str(cell).split()), default=1) for c in table.columns]
    fits = sum(longest) + 3 * len(longest) + 1 <= width  # cell padding and borders
    for column, need in zip(table.columns, longest):
        column.overflow = "fold"
        column.min_width = need if fits else None
    return table


class _Tail:
    """A text sink that keeps the last ``TAIL_LINES`` lines written to it."""

    def __init__(self) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self._partial = ""

    def write(self, text: str) -> int:
        parts = (self._partial + text.replace("\r", "\n")).split("\n")
        self._partial = parts.pop()
        self.lines.extend(p for p in parts if p.strip())
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def text(self) -> str:
        return "".join(line + "\n" for line in [*self.lines, self._partial] if line.strip())


@dataclass
class StageOutput:
    """What a stage reports in ``--json`` mode: set ``summary`` before the block ends."""

    summary: dict[str, Any] = field(default_factory=dict)


@contextmanager
def stage_output(quiet: bool = False, as_json: bool = False) -> Iterator[StageOutput]:
    """Run a stage's work with quiet libraries; with ``quiet`` or ``as_json`` its own output is
    held back (and shown if it fails); with ``as_json`` the summary is printed at the end."""
    quiet_libraries()
    out = StageOutput()
    if not (quiet or as_json):
        yield out
        return
    real_out, real_err, tail = sys.stdout, sys.stderr, _Tail()
    warnings = logging.StreamHandler(real_err)
    warnings.setLevel(logging.WARNING)
    ours = logging.getLogger("qrdistill")
    ours.addHandler(warnings)
    try:
        with redirect_stdout(tail), redirect_stderr(tail):  # type: ignore[type-var]
            yield out
    except BaseException as exc:
        if getattr(exc, "exit_code", getattr(exc, "code", 1)) not in (0, None):
            real_err.write(tail.text())
        raise
    finally:
        ours.removeHandler(warnings)
    if as_json:
        real_out.write(json.dumps(out.summary, default=str) + "\n")
        real_out.flush()
