"""evaluate_student with a real tiny student: one stop rule per row from its own task, stop reasons saved."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from qrdistill.evaluate.generations import EvalJob, EvalLabel, evaluate_student, read_generations
from qrdistill.students import Student, StudentSpec, load_student
from qrdistill.students.stopping import Completion
from qrdistill.synthetic.families import make_questions
from qrdistill.tasks import get_task


class Recording:
    """The real student; remembers the stop rules it was given."""

    def __init__(self, student: Student) -> None:
        self.student = student
        self.rules: Sequence[Callable[[str], int | None]] | None = None

    def complete(self, prompts: list[str], max_new_tokens: int, batch_size: int, *,
                 stop_at: Sequence[Callable[[str], int | None]] | None) -> list[Completion]:
        self.rules = stop_at
        return self.student.complete(prompts, max_new_tokens, batch_size, progress=False, stop_at=stop_at)

    def sequence_logprob(self, prompts: list[str], completions: list[str]) -> list[float]:
        return self.student.sequence_logprob(prompts, completions)


def test_each_row_gets_its_tasks_stop_rule_and_the_stop_is_saved(tmp_path: Path) -> None:
    student = Recording(load_student(StudentSpec(name="s", model="tiny:smollm2"), trainable=False))
    arith, yesno = make_questions("synth_arith", 2, 0, "test"), make_questions("synth_yesno", 2, 0, "test")
    jobs = [EvalJob(get_task("synth_arith"), arith, tmp_path / "arith.jsonl"),
            EvalJob(get_task("synth_yesno"), yesno, tmp_path / "yesno.jsonl")]
    evaluate_student(student, jobs, label=EvalLabel("zero_shot", 0, "s"), max_new_tokens=6, batch_size=4)
    assert student.rules is not None and len(student.rules) == 4
    said_number, said_yes = "The answer is 12.\n", "The answer is yes.\n"
    assert [rule(said_number) is not None for rule in student.rules] == [True, True, False, False]
    assert [rule(said_yes) is not None for rule in student.rules] == [False, False, True, True]
    direct = student.student.complete([get_task("synth_arith").prompt(q) for q in arith], 6, 4, progress=False,
                                      stop_at=student.rules[:2])
    saved = read_generations(tmp_path / "arith.jsonl")
    assert [(g.completion, g.stop, g.new_tokens) for g in saved] == [(c.text, c.stop, c.new_tokens) for c in direct]
    assert all(g.stop in ("eos", "answer", "length") and 0 <= (g.new_tokens or 0) <= 6 for g in saved)

    evaluate_student(student, jobs[:1], label=EvalLabel("zero_shot", 0, "s"), max_new_tokens=6, batch_size=4,
                     stop_at_answer=False)
    assert student.rules is None
