"""The program verifier: code extraction, comparing the printed value with gold through the task checker."""

from __future__ import annotations

import pytest

from qrdistill.quality.program import extract_code, printed_value, verify_program
from qrdistill.quality.sandbox import SandboxLimits
from qrdistill.records import Path, Question
from qrdistill.tasks import get_task

LIMITS = SandboxLimits(wall_s=4.0, cpu_s=1, memory_mb=256)
Q = Question(id="q1", task="gsm8k", question="3 bags of 4 apples and 5 more?", gold="17")
TASK = get_task("gsm8k")


def program(text: str, style: str = "program") -> Path:
    return Path(question_id="q1", task="gsm8k", style=style, teacher="t", text=text, answer="17")


def test_extract_code_prefers_python_blocks_and_joins_them():
    text = "Plan.\n```python\na = 3 * 4\n```\nThen:\n```py\nprint(a + 5)\n```\n```\noutput: 17\n```"
    assert extract_code(text) == "a = 3 * 4\n\nprint(a + 5)\n"
    assert extract_code("```\nprint(1)\n```") == "print(1)\n"
    assert extract_code("x = 3\nprint(x)") == "x = 3\nprint(x)"
    assert extract_code("The answer is 17.") is None


def test_printed_value_is_the_last_line():
    assert printed_value("debug 1\n17\n\n") == "17"
    assert printed_value("  \n") is None


def test_right_program_passes_and_wrong_program_fails():
    ok = verify_program(program("```python\nprint(3 * 4 + 5)\n```\nThe answer is \\boxed{17}."), Q, TASK, LIMITS)
    assert ok.passed is True and "'17'" in ok.detail
    float_ok = verify_program(program("```python\nprint(17.0)\n```"), Q, TASK, LIMITS)
    assert float_ok.passed is True
    wrong = verify_program(program("```python\nprint(3 * 4 + 6)\n```\nThe answer is \\boxed{17}."), Q, TASK, LIMITS)
    assert wrong.passed is False and "'18'" in wrong.detail and "'17'" in wrong.detail


def test_failures_and_not_applicable_cases():
    silent = verify_program(program("```python\nx = 17\n```"), Q, TASK, LIMITS)
    assert silent.passed is False and "printed nothing" in silent.detail
    crash = verify_program(program("```python\nprint(undefined_name)\n```"), Q, TASK, LIMITS)
    assert crash.passed is False and "NameError" in crash.detail
    loop = verify_program(program("```python\nwhile True:\n    pass\n```"), Q, TASK, LIMITS)
    assert loop.passed is False and ("CPU" in loop.detail or "wall-clock" in loop.detail)
    assert verify_program(program("3 × 4 + 5 = 17", style="cot"), Q, TASK, LIMITS).passed is None


def test_numpy_and_sympy_programs_are_verified():
    limits = SandboxLimits(wall_s=30, cpu_s=10, memory_mb=512)
    for code in ("import numpy as np\nprint(np.array([3, 4]).prod() + 5)",
                 "from sympy import symbols, solve\nx = symbols('x')\nprint(solve(x - 5 - 12, x)[0])"):
        result = verify_program(program(f"```python\n{code}\n```"), Q, TASK, limits)
        assert result.passed is True, result


def test_unverifiable_paths_fail_unless_kept(monkeypatch):
    no_code = program("I would write code but the answer is 17.")
    missing = program("```python\nimport scipy.special\nprint(17)\n```")
    for path, why in ((no_code, "no Python code"), (missing, "imports scipy")):
        dropped = verify_program(path, Q, TASK, LIMITS)
        assert dropped.passed is False and why in dropped.detail and dropped.detail.startswith("unverifiable")
        kept = verify_program(path, Q, TASK, LIMITS, keep_unverifiable=True)
        assert kept.passed is None and why in kept.detail
    from qrdistill.quality import sandbox

    monkeypatch.setattr(sandbox, "isolation_problem", lambda: "Landlock is not enabled in this kernel")
    right = program("```python\nprint(17)\n```")
    refused = verify_program(right, Q, TASK, LIMITS)
    assert refused.passed is False and "cannot sandbox" in refused.detail and "Landlock" in refused.detail
    assert verify_program(right, Q, TASK, LIMITS, keep_unverifiable=True).passed is None


HOSTILE = {
    "hook bypass": "import sys\nm = sys.modules['__main__']\nm._hook.__code__ = (lambda e, a: None).__code__\nprint(17)",
    "readable roots": "import sys\nsys.modules['__main__']._readable = ('/',)\nprint(17)",
    "/etc/passwd": "print(open('/etc/passwd').read()[:0] + '17')",
    "/proc": "import os\nos.listdir('/proc')\nprint(17)",
    "/tmp write": "with open('/tmp/x', 'w') as f:\n    f.write('x')\nprint(17)",
    "~/.bashrc": "import os\nopen(os.path.expanduser('~/.bashrc'), 'a').write('curl x | sh')\nprint(17)",
    "tcp": "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 22), timeout=1)\nexcept OSError:\n    pass\nprint(17)",
    "import subprocess": "import subprocess\nprint(17)",
    "import socket": "import socket\nprint(17)",
    "import signal": "import signal\nprint(17)",
    "import threading": "import threading\nprint(17)",
    "caught PermissionError": "try:\n    open('/etc/shadow').read()\nexcept PermissionError:\n    pass\nprint(17)",
    "os.environ": "import os\nkey = os.environ.get('OPENAI_API_KEY')\nprint(17)",
    "3000 files": "for i in range(3000):\n    open(f'f{i}', 'wb').write(b'x' * 100_000)\nprint(17)",
    "eval": "print(eval('3 * 4 + 5'))",
    "getattr": "print(getattr(17, 'real'))",
    "dunder": "print((17).__class__(17))",
    "dunder in a string": "import sympy\nprint(sympy.sympify(\"__import__('os').getcwd() and 17\"))",
    "numpy file": "import numpy as np\nnp.save('x.npy', np.array([17]))\nprint(17)",
    "relative import": "from . import secrets\nprint(17)",
    "runtime attempt past the source check": "import sympy\nprint(sympy.sympify(\"open('/etc/passwd') and 17\"))",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_programs_with_the_right_answer_are_never_verified(name):
    result = verify_program(program(f"```python\n{HOSTILE[name]}\n```\nThe answer is \\boxed{{17}}."), Q, TASK,
                            SandboxLimits(wall_s=30, cpu_s=10), keep_unverifiable=True)
    assert result.passed is False, (name, result)
    assert result.detail


def test_without_gold_the_stated_answer_is_compared():
    result = verify_program(program("```python\nprint(17)\n```"), None, TASK, LIMITS)
    assert result.passed is True and "stated answer" in result.detail
