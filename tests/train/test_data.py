"""Training examples: each style's prompt (the same at test), the answer's tokens for the answer
gain, the bare answer cues, and batches that mix styles."""

import pytest
import torch

from qrdistill.evaluate.generations import EvalJob
from qrdistill.method.example import build_bare_cues, build_examples
from qrdistill.method.losses import supervised_rows
from qrdistill.method.reward import answer_nll
from qrdistill.students import load_student
from qrdistill.tasks import get_task
from qrdistill.teacher.styles import load_styles
from qrdistill.train.data import epoch_batches


@pytest.fixture(scope="module")
def students(data):
    return [load_student(spec, trainable=False) for spec in data.tiny_specs()]


@pytest.fixture(scope="module")
def examples(data, students):
    questions = data.make_questions(3)
    paths = [p for p in data.make_paths(questions) if p.style in ("cot", "backward")]
    for p in paths:
        if p.style == "backward":
            p.style = "answer_first"  # a style with a template, answer stated before its check
    return questions, build_examples(paths, questions, students, load_styles(), progress=False)


def test_each_style_trains_under_the_prompt_it_is_tested_with(examples, students):
    questions, built = examples
    styles = load_styles()
    for ex in built:
        q = questions[ex.path.question_id]
        at_test = EvalJob(get_task(q.task), [q], None, ex.path.style, styles).prompt(q)
        assert ex.prompt == at_test and ex.path.style != "plain"
        assert styles[ex.path.style].template.split("{{")[0] == "" and "Write that final answer sentence first" in ex.prompt or ex.path.style == "cot"
        for student, enc in zip(students, ex.encodings):
            assert enc.input_ids[: enc.n_prompt] == student.prompt_ids(at_test)  # token for token what generation sees
    assert len({ex.prompt for ex in built if ex.path.question_id == "q0"}) == 2  # two styles, two prompts
    plain = build_examples([built[0].path], questions, students, None, progress=False)[0]
    assert plain.prompt == get_task("gsm8k").prompt(questions[built[0].path.question_id])


def test_answer_tokens_are_the_first_mention_of_the_gold_answer(examples, students):
    questions, built = examples
    for ex in built:
        gold = questions[ex.path.question_id].gold
        for student, enc, positions in zip(students, ex.encodings, ex.answer_tokens):
            assert positions, (student.name, ex.path.text)
            text = student.tokenizer.decode([enc.input_ids[i] for i in positions])
            assert text.strip() == gold
            first = ex.path.text.index(gold)
            assert min(enc.response_offsets[i][0] for i in positions) == first


def test_answer_nll_is_the_log_probability_of_those_tokens(examples, students):
    _, built = examples
    for s, student in enumerate(students):
        cols = student.collate([ex.encodings[s] for ex in built])
        with torch.no_grad():
            hidden = student.hidden_states(cols["input_ids"], cols["attention_mask"])
            rows = supervised_rows(hidden, cols["labels"])
            nll = student.token_nll(rows.hidden, rows.targets)
            logp = torch.log_softmax(student.lm_logits(hidden).float(), dim=-1)
        total, known = answer_nll(nll, rows.example, cols["labels"], [ex.answer_tokens[s] for ex in built], len(built))
        assert known.all()
        for b, ex in enumerate(built):
            by_hand = -sum(logp[b, p - 1, cols["input_ids"][b, p]] for p in ex.answer_tokens[s])
            assert total[b].item() == pytest.approx(by_hand.item(), rel=1e-4)
    empty, known = answer_nll(nll, rows.example, cols["labels"], [()] * len(built), len(built))
    assert not known.any() and (empty == 0).all()


def test_bare_cues_hold_only_the_answer_sentence(data, students):
    questions = data.make_questions(2)
    cues = build_bare_cues(sorted(questions), questions, students)
    for cue in cues:
        q = questions[cue.question_id]
        for student, enc, positions in zip(students, cue.encodings, cue.answer_tokens):
            response = student.tokenizer.decode(enc.input_ids[enc.n_prompt:])
            assert response == get_task(q.task).format_answer(q.gold, q)  # no EOS: nothing after the answer
            assert student.tokenizer.decode([enc.input_ids[i] for i in positions]).strip() == q.gold


def test_batches_mix_styles_and_every_epoch_covers_each_path_once():
    # six styles whose paths differ in length, as the teacher's styles do
    base = {"vanilla": 40, "cot": 80, "tot": 100, "program": 120, "backward": 140, "answer_first": 50}
    styles = [s for s in base for _ in range(8)]
    lengths = [base[s] + i % 3 for i, s in enumerate(styles)]
    for epoch in range(3):
        batches = epoch_batches(lengths, global_batch=4, seed=0, epoch=epoch, strata=styles)
        assert sorted(i for b in batches for i in b) == list(range(48))
        mixed = [len({styles[i] for i in b}) for b in batches]
        assert min(mixed) >= 2 and sum(mixed) / len(mixed) >= 2.5
    unmixed = epoch_batches(lengths, global_batch=4, seed=0, epoch=0, bucket_size=64)
    assert sum(len({styles[i] for i in b}) for b in unmixed) / len(unmixed) < 1.5  # whole-epoch length sort: one style per batch


def _padded(lengths, batches):
    return sum(len(b) * max(lengths[i] for i in b) for b in batches)


def test_paths_of_one_style_are_sorted_over_the_whole_epoch_for_less_padding():
    lengths = [40 + (i * 37) % 200 for i in range(64)]
    one_style = epoch_batches(lengths, global_batch=4, seed=0, epoch=0, strata=["cot"] * 64)
    assert sorted(i for b in one_style for i in b) == list(range(64))
    assert one_style == epoch_batches(lengths, global_batch=4, seed=0, epoch=0, bucket_size=64, strata=["cot"] * 64)
    pairs = epoch_batches(lengths, global_batch=4, seed=0, epoch=0, bucket_size=2, strata=["cot"] * 64)
    assert _padded(lengths, one_style) < 0.9 * _padded(lengths, pairs)
