"""The program verifier: code extraction, comparing the printed value with gold through the task checker."""

from __future__ import annotations

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
    assert verify_program(program("```python\nimport numpy\nprint(17)\n```"), Q, TASK, LIMITS).passed is None
    assert verify_program(program("3 × 4 + 5 = 17", style="cot"), Q, TASK, LIMITS).passed is None
    assert verify_program(program("I would write code but the answer is 17."), Q, TASK, LIMITS).passed is None


def test_without_gold_the_stated_answer_is_compared():
    result = verify_program(program("```python\nprint(17)\n```"), None, TASK, LIMITS)
    assert result.passed is True and "stated answer" in result.detail
