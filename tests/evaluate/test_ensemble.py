import pytest

from qrdistill.evaluate.ensemble import ensemble_results
from qrdistill.evaluate.generations import Generation
from qrdistill.evaluate.voting import choose_by_logprob, majority_vote, normalised_logprob


def gen(student, qid, answer, correct, logprob=None, prompt="Q?"):
    return Generation(question_id=qid, task="synth_arith", method="qr_distill", seed=0, student=student, prompt=prompt,
                      completion=f"The answer is {answer}.", answer=answer, gold="4", correct=correct, logprob=logprob)


def test_majority_vote_ignores_missing_and_breaks_ties_by_order():
    assert majority_vote(["4", None, "5", "4"]) == "4"
    assert majority_vote(["5", "4"]) == "5"
    assert majority_vote([None, None]) is None


def test_normalised_logprob_is_length_normalised():
    assert normalised_logprob([-2.0, -2.0, -2.0, -2.0]) == normalised_logprob([-2.0])
    assert normalised_logprob([]) == float("-inf")


def test_choose_by_logprob_picks_highest_scoring_student_with_an_answer():
    assert choose_by_logprob(["4", "5", None], [-0.5, -0.1, 0.0]) == "5"
    with pytest.raises(ValueError, match="2 answers but 1 scores"):
        choose_by_logprob(["4", "5"], [-1.0])


def test_logprob_ensemble_uses_the_generated_tokens_score_only():
    # The prompt is identical for both students (so a prompt log-prob could not separate them);
    # the ensemble must follow each student's own generated-token score.
    a = [gen("a", "q1", "4", True, logprob=-0.2), gen("a", "q2", "7", False, logprob=-0.1)]
    b = [gen("b", "q1", "5", False, logprob=-1.5), gen("b", "q2", "4", True, logprob=-0.05)]
    rows = {r.student: r for r in ensemble_results({"a": a, "b": b}, ["logprob", "vote"])}
    assert rows["ensemble-logprob"].correct == 2 and rows["ensemble-logprob"].n == 2
    # vote with a 1-1 tie falls back to the first student: right on q1, wrong on q2
    assert rows["ensemble-vote"].correct == 1


def test_logprob_ensemble_requires_scored_generations():
    a = [gen("a", "q1", "4", True)]
    b = [gen("b", "q1", "4", True)]
    with pytest.raises(ValueError, match="no logprob"):
        ensemble_results({"a": a, "b": b}, ["logprob"])
