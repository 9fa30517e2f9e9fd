"""No-model references: the training majority answer on the test questions, and uniform guessing."""

from qrdistill.records import Question
from qrdistill.report.reference import answer_set_size, reference, reference_table


def questions(golds, choices=None):
    return [Question(id=f"q{i}", task="t", question="?", gold=g, choices=choices) for i, g in enumerate(golds)]


def test_yes_no_majority_comes_from_training_and_is_scored_on_test():
    train, test = questions(["no", "no", "yes"]), questions(["yes", "yes", "no", "yes"])
    ref = reference("strategy_qa", train, test)
    assert ref.majority == "no" and ref.majority_accuracy == 0.25 and ref.chance == 0.5 and ref.n_test == 4


def test_multiple_choice_chance_is_one_over_the_option_count():
    options = ["a", "b", "c", "d", "e", "f"]
    train, test = questions(["A", "B", "A"], options), questions(["C", "A"], options)
    ref = reference("date", train, test)
    assert ref.majority == "A" and ref.majority_accuracy == 0.5 and abs(ref.chance - 1 / 6) < 1e-12


def test_open_answers_have_no_chance_level_and_mixed_option_counts_neither():
    assert answer_set_size(questions(["12", "7"])) is None
    assert answer_set_size(questions(["A"], ["x", "y"]) + questions(["B"], ["x", "y", "z"])) is None


def test_table_rows_and_missing_splits():
    table = reference_table({"sqa": (questions(["no", "no"]), questions(["no", "yes"])), "empty": ([], questions(["1"]))})
    assert "| sqa | `no` | 50.0 | 50.0 | 2 |" in table and "empty" not in table
    assert reference_table({"empty": ([], [])}) is None
