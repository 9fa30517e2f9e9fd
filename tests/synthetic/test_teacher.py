"""The synthetic teacher's path writer: styles, answers, written arithmetic, programs, flaw rates."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from collections import Counter

import pytest
from pydantic import ValidationError

from qrdistill.records import Question
from qrdistill.synthetic.families import FAMILIES, make_questions
from qrdistill.synthetic.teacher import FlawRates, render_path
from qrdistill.tasks import get_task
from qrdistill.teacher.styles import PAPER_STYLES

CLEAN = FlawRates(wrong_answer=0.0, wrong_step=0.0, irrelevant_step=0.0)
CALC = re.compile(r"(?<![\d/.])(\d+) ([-+×÷]) (\d+) = (\d+)(?![\d/])")
APPLY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "×": lambda a, b: a * b, "÷": lambda a, b: a / b}


def only(flaw: str) -> FlawRates:
    return FlawRates(**{"wrong_answer": 0.0, "wrong_step": 0.0, "irrelevant_step": 0.0, flaw: 1.0})


def wrong_calcs(text: str) -> list[str]:
    """Every written ``a op b = c`` whose result is wrong (recomputed here)."""
    found = CALC.findall(text)
    return [" ".join(m) for m in found if APPLY[m[1]](int(m[0]), int(m[2])) != int(m[3])]


def run_program(text: str) -> str:
    code = re.search(r"```python\n(.*?)```", text, re.DOTALL)
    assert code, text
    done = subprocess.run([sys.executable, "-I", "-c", code.group(1)], capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def questions() -> dict[str, list[Question]]:
    return {family: make_questions(family, 12, seed=0, split="train") for family in FAMILIES}


def test_flaw_rates_validate() -> None:
    assert FlawRates().model_dump() == {"wrong_answer": 0.15, "wrong_step": 0.10, "irrelevant_step": 0.05}
    with pytest.raises(ValidationError, match="sum to 1.250"):
        FlawRates(wrong_answer=0.6, wrong_step=0.6)
    with pytest.raises(ValidationError):
        FlawRates(wrong_answer=-0.1)
    with pytest.raises(ValidationError):
        FlawRates(typo=0.1)


def test_deterministic_and_varied_across_samples(questions) -> None:
    q = questions["synth_arith"][0]
    for style in PAPER_STYLES:
        assert render_path(q, style, 3, 7, FlawRates()) == render_path(q, style, 3, 7, FlawRates())
        texts = {render_path(q, style, sample, 7, CLEAN)[0] for sample in range(8)}
        assert len(texts) >= 2, f"{style}: no variation in wording across samples"
    assert render_path(q, "cot", 0, 1, CLEAN) != render_path(q, "cot", 0, 2, CLEAN) or \
        render_path(q, "cot", 1, 1, CLEAN) != render_path(q, "cot", 1, 2, CLEAN)


@pytest.mark.parametrize("family", FAMILIES)
def test_clean_paths_end_with_the_right_answer_and_right_arithmetic(family: str, questions) -> None:
    task = get_task(family)
    for q in questions[family]:
        for style in PAPER_STYLES:
            text, meta = render_path(q, style, 0, 0, CLEAN)
            assert meta == {"flaw": None}
            assert text.endswith(task.format_answer(q.gold, q)), text
            assert task.is_correct(text, q.gold, q), text
            assert not wrong_calcs(text), text
            if style != "program":
                assert CALC.search(text) or family == "synth_yesno", text


@pytest.mark.parametrize("family", FAMILIES)
def test_wrong_answer_paths_are_wrong(family: str, questions) -> None:
    task = get_task(family)
    for q in questions[family]:
        for style in PAPER_STYLES:
            text, meta = render_path(q, style, 0, 0, only("wrong_answer"))
            assert meta["flaw"] == "wrong_answer" and meta["stated"] != q.gold
            assert not task.is_correct(text, q.gold, q), text
            assert task.extract(text, q) == task.extract(task.format_answer(meta["stated"], q), q)


@pytest.mark.parametrize("family", FAMILIES)
def test_wrong_step_paths_are_right_but_spurious(family: str, questions) -> None:
    task = get_task(family)
    for q in questions[family]:
        for style in PAPER_STYLES:
            text, meta = render_path(q, style, 0, 0, only("wrong_step"))
            assert meta["flaw"] == "wrong_step" and task.is_correct(text, q.gold, q), text
            if style == "program":
                assert run_program(text) == meta["code_prints"] != q.gold and "written" not in meta
            elif "written" in meta:
                assert wrong_calcs(text) == [" ".join(CALC.fullmatch(meta["written"]).groups())], text
            else:
                assert meta["step"] is not None and not wrong_calcs(text)


@pytest.mark.parametrize("family", FAMILIES)
def test_irrelevant_step_uses_a_number_or_fact_not_in_the_question(family: str, questions) -> None:
    task = get_task(family)
    for q in questions[family]:
        shown = set(re.findall(r"\d+", task.prompt(q)))
        for style in PAPER_STYLES:
            text, meta = render_path(q, style, 0, 0, only("irrelevant_step"))
            assert meta["flaw"] == "irrelevant_step" and task.is_correct(text, q.gold, q)
            assert meta["inserted"][1:] in text and not wrong_calcs(text)
            assert set(re.findall(r"\d+", meta["inserted"])) - shown, meta["inserted"]


@pytest.mark.parametrize("family", FAMILIES)
def test_program_paths_print_the_gold_answer(family: str, questions) -> None:
    for q in questions[family][:6]:
        text, _ = render_path(q, "program", 0, 0, CLEAN)
        assert run_program(text) == q.gold
        text, meta = render_path(q, "program", 0, 0, only("wrong_answer"))
        assert run_program(text) == meta["stated"] != q.gold


def test_flaw_rates_within_statistical_bounds() -> None:
    rates = FlawRates(wrong_answer=0.2, wrong_step=0.1, irrelevant_step=0.05)
    qs = [q for family in FAMILIES for q in make_questions(family, 84, seed=9, split="train")]
    counts = Counter(render_path(q, style, 0, 9, rates)[1]["flaw"] for q in qs for style in PAPER_STYLES)
    n = sum(counts.values())
    assert n == 84 * len(FAMILIES) * len(PAPER_STYLES)
    for flaw, p in [("wrong_answer", 0.2), ("wrong_step", 0.1), ("irrelevant_step", 0.05), (None, 0.65)]:
        bound = 4 * math.sqrt(p * (1 - p) / n)
        assert abs(counts[flaw] / n - p) < bound, (flaw, counts[flaw] / n, p)


def test_refuses_questions_without_a_solution_and_unknown_styles(questions) -> None:
    plain = Question(id="gsm8k-1", task="gsm8k", question="2+2?", gold="4")
    with pytest.raises(KeyError, match="gsm8k-1"):
        render_path(plain, "cot", 0, 0, CLEAN)
    with pytest.raises(KeyError, match="poetry"):
        render_path(questions["synth_date"][0], "poetry", 0, 0, CLEAN)


def test_planted_answer_first_paths_are_right_pass_the_verifiers_and_state_the_answer_before_any_step(questions) -> None:
    from qrdistill.quality.arithmetic import verify_arithmetic
    from qrdistill.method.reward import first_answer_span
    from qrdistill.synthetic.teacher import PLANTED_STYLE

    for family, qs in questions.items():
        task = get_task(family)
        for q in qs:
            text, meta = render_path(q, PLANTED_STYLE, 0, 0, CLEAN)
            assert meta["flaw"] is None and task.is_correct(text, q.gold, q), text
            first = text.splitlines()[0]
            assert first.endswith(task.format_answer(q.gold, q)) and not CALC.search(first)  # the answer first, nothing derives it
            assert first_answer_span(text, q.gold, task.answer_kind)[1] <= len(first)
            assert not wrong_calcs(text) and verify_arithmetic(text).passed is not False
            cot, _ = render_path(q, "cot", 0, 0, CLEAN)  # the paper's styles derive it first
            span = first_answer_span(cot, q.gold, task.answer_kind)
            assert span is None or span[0] > len(cot.splitlines()[0]) or family == "synth_yesno"
