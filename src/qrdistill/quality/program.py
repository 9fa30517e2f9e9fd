"""The ``program`` verifier: run a Program-style path's code in the sandbox and check what it prints.

A Program path is verified only if its code ran to completion in the sandbox and printed the expected
answer without attempting anything outside. Everything else fails with a reason: code that uses what
an arithmetic program never needs (``program_policy``), an attempted forbidden operation (even one the
code caught), a crash, a limit, a wrong value. Paths that could not be verified at all (no code, a
module the sandbox does not provide, no sandbox on this machine) fail too, unless
``keep_unverifiable`` makes them not applicable (passed None).

>>> verify_program(path, question, get_task("gsm8k"), SandboxLimits(wall_s=5)).passed
True
"""

from __future__ import annotations

import re

from qrdistill.quality.program_policy import forbidden_use, not_provided
from qrdistill.quality.sandbox import SandboxLimits, SandboxResult, run_python
from qrdistill.records import Path, Question, VerifierResult
from qrdistill.tasks.base import Task

PROGRAM_STYLE = "program"

_FENCED = re.compile(r"```[ \t]*(python3?|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def extract_code(text: str) -> str | None:
    """The Python code of a path: its ```python blocks joined in order (unlabelled ``` blocks if there
    are none), else the whole text when it is itself valid Python; None if there is no code.

    >>> extract_code("Let me compute.\\n```python\\nprint(6 * 7)\\n```\\nThe answer is 42.")
    'print(6 * 7)\\n'
    """
    blocks = [(lang, body) for lang, body in _FENCED.findall(text)]
    labelled = [body for lang, body in blocks if lang]
    chosen = labelled or [body for _, body in blocks]
    if chosen:
        return "\n".join(chosen)
    try:
        compile(text, "<path>", "exec")
    except (SyntaxError, ValueError):
        return None
    return text if text.strip() else None


def printed_value(stdout: str) -> str | None:
    """The last non-empty line the program printed (its answer), or None."""
    lines = [ln.strip() for ln in stdout.splitlines() if ln.strip()]
    return lines[-1] if lines else None


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unverifiable(why: str, keep: bool) -> VerifierResult:
    if keep:
        return VerifierResult(name="program", passed=None, detail=f"unverifiable, kept (keep_unverifiable_programs): {why}")
    return VerifierResult(name="program", passed=False, detail=f"unverifiable: {why}")


def _run_failure(run: SandboxResult, limits: SandboxLimits, keep_unverifiable: bool) -> VerifierResult:
    if run.outcome == "unavailable":
        return _unverifiable(f"not run, this machine cannot sandbox it: {_short(run.error_line)}", keep_unverifiable)
    if run.outcome == "error" and run.error_line.startswith(("ModuleNotFoundError", "ImportError")):
        return _unverifiable(f"could not run: {_short(run.error_line)}", keep_unverifiable)
    details = {
        "timeout": f"still running after {limits.wall_s:g} s wall-clock; killed",
        "cpu_limit": f"used more than {limits.cpu_s} s of CPU; killed",
        "memory": f"ran out of its {limits.memory_mb} MB memory cap",
        "output_limit": f"printed more than {limits.output_bytes} bytes; killed",
        "blocked": f"tried a forbidden operation: {_short(run.error_line)}",
        "error": f"crashed: {_short(run.error_line) or f'exit code {run.returncode}'}",
    }
    return VerifierResult(name="program", passed=False, detail=details.get(run.outcome, run.outcome))


def matches(printed: str, expected: str, task: Task, question: Question | None) -> bool:
    """Whether a printed value equals ``expected`` under the task's checker (bare or in the answer format)."""
    return task.is_correct(task.format_answer(printed, question), expected, question) or task.is_correct(printed, expected, question)


def verify_program(path: Path, question: Question | None, task: Task, limits: SandboxLimits = SandboxLimits(),
                   keep_unverifiable: bool = False) -> VerifierResult:
    """Run the code of a Program path; passed is None for other styles and when there is nothing to
    compare with (no gold and no extracted answer)."""
    if path.style != PROGRAM_STYLE:
        return VerifierResult(name="program", passed=None, detail=f"not a Program path (style {path.style!r})")
    code = extract_code(path.text)
    if code is None:
        return _unverifiable("no Python code found in the path", keep_unverifiable)
    forbidden = forbidden_use(code)
    if forbidden is not None:
        return VerifierResult(name="program", passed=False, detail=f"not run: the code {forbidden}, which an arithmetic program never needs")
    missing = not_provided(code)
    if missing is not None:
        return _unverifiable(f"could not run: imports {missing}, which the sandbox does not provide", keep_unverifiable)
    run = run_python(code, limits)
    if run.outcome != "ok":
        return _run_failure(run, limits, keep_unverifiable)
    printed = printed_value(run.stdout)
    if printed is None:
        return VerifierResult(name="program", passed=False, detail="ran but printed nothing")
    expected, what = (question.gold, "gold") if question is not None else (path.answer, "the path's stated answer")
    if expected is None:
        return VerifierResult(name="program", passed=None, detail=f"printed {_short(printed, 60)!r}; no gold or stated answer to compare")
    if matches(printed, expected, task, question):
        return VerifierResult(name="program", passed=True, detail=f"printed {_short(printed, 60)!r} = {what} in {run.seconds:.2f} s")
    return VerifierResult(name="program", passed=False, detail=f"printed {_short(printed, 60)!r}, {what} is {_short(expected, 60)!r}")
