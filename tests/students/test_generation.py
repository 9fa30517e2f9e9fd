"""Batched greedy generation: same answers as one at a time, same prompt tokens as training, stops at EOS."""

from __future__ import annotations

import torch
from transformers import GenerationConfig

from qrdistill.students import Student
from qrdistill.students.generation import cut_at_stop, greedy_generate

PROMPTS = [
    "What is 2+3?",
    "A train leaves at 3 pm and travels 120 km at 60 km/h. When does it arrive? Think step by step.",
    "Is the sky blue?",
    "List three prime numbers greater than 10 and explain why each is prime.",
    "Hi",
]


def test_cut_at_stop() -> None:
    assert cut_at_stop([5, 6, 1, 7, 1], {1}) == [5, 6]
    assert cut_at_stop([5, 6], {1}) == [5, 6]


def test_batched_equals_transformers_generate_at_batch_1(frozen: Student) -> None:
    config = GenerationConfig(max_new_tokens=8, do_sample=False, eos_token_id=frozen.stop_ids, pad_token_id=frozen.pad_id)
    rows = [frozen.prompt_ids(p) for p in PROMPTS]
    batched = [c.ids for c in greedy_generate(frozen.model, rows, frozen.pad_id, frozen.stop_ids, max_new_tokens=8,
                                              batch_size=3, progress=False)]
    with torch.inference_mode():
        for row, mine in zip(rows, batched):
            ids = torch.tensor([row])
            ref = frozen.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=config)
            assert mine == cut_at_stop(ref[0, len(row):].tolist(), set(frozen.stop_ids))
    assert len({tuple(ids) for ids in batched}) > 1  # the tiny model does not answer everything the same way
    texts = frozen.generate(PROMPTS, max_new_tokens=8, batch_size=3, progress=False)
    assert texts == [frozen.tokenizer.decode(ids, skip_special_tokens=True) for ids in batched]


def test_generation_sees_the_training_prompt_tokens(frozen: Student) -> None:
    seen: list[list[int]] = []

    def record_prefill(module, args, kwargs):  # the real forward runs; we only read its inputs
        ids, mask = kwargs["input_ids"], kwargs["attention_mask"]
        if ids.shape[1] > 1:
            seen.extend([t for t, m in zip(r, k) if m] for r, k in zip(ids.tolist(), mask.tolist()))

    hook = frozen.causal_lm.get_decoder().register_forward_pre_hook(record_prefill, with_kwargs=True)
    try:
        frozen.generate(PROMPTS[:3], max_new_tokens=2, batch_size=3, progress=False)
    finally:
        hook.remove()
    expected = [frozen.encode(p, "ok").input_ids[: frozen.encode(p, "ok").n_prompt] for p in PROMPTS[:3]]
    assert sorted(seen) == sorted(expected)


def test_stops_at_stop_token_and_respects_max_new_tokens(frozen: Student) -> None:
    rows = [frozen.prompt_ids(p) for p in PROMPTS[:2]]
    free = greedy_generate(frozen.model, rows, frozen.pad_id, frozen.stop_ids, max_new_tokens=6, progress=False)
    assert all(len(c.ids) <= 6 for c in free) and len(free[0].ids) >= 3
    assert all(c.stop == ("length" if len(c.ids) == 6 else "eos") for c in free)
    stop = free[0].ids[2]
    cut = greedy_generate(frozen.model, rows, frozen.pad_id, [stop], max_new_tokens=6, progress=False)
    assert cut[0].ids == free[0].ids[: free[0].ids.index(stop)] and cut[0].stop == "eos"
    assert stop not in cut[1].ids



def _first_check_at_or_after(n: int, every: int = 4) -> int:
    return -(-n // every) * every


def test_stop_check_ends_rows_at_its_checks_and_batching_changes_nothing(frozen: Student) -> None:
    rows = [frozen.prompt_ids(p) for p in PROMPTS]
    free = greedy_generate(frozen.model, rows, frozen.pad_id, frozen.stop_ids, max_new_tokens=12, batch_size=5, progress=False)
    want = {0: 3, 1: 8, 2: 5}  # row -> stop once its first k free tokens are out; rows 3, 4 never
    asked: list[tuple[int, int]] = []

    def check(row: int, ids: list[int]) -> bool:
        asked.append((row, len(ids)))
        return row in want and len(ids) >= want[row] and ids[: want[row]] == free[row].ids[: want[row]]

    batched = greedy_generate(frozen.model, rows, frozen.pad_id, frozen.stop_ids, max_new_tokens=12, batch_size=3,
                              progress=False, stop_check=check)
    alone = [greedy_generate(frozen.model, [r], frozen.pad_id, frozen.stop_ids, max_new_tokens=12, progress=False,
                             stop_check=lambda _, ids, i=i: check(i, ids))[0] for i, r in enumerate(rows)]
    assert batched == alone
    assert {n for _, n in asked} <= {4, 8, 12}
    for i, cont in enumerate(batched):
        if i in want and len(free[i].ids) >= _first_check_at_or_after(want[i]):
            assert cont.ids == free[i].ids[: _first_check_at_or_after(want[i])] and cont.stop == "answer"
        else:
            assert cont == free[i]
    assert sum(c.stop == "answer" for c in batched) >= 2


def test_complete_cuts_text_right_after_the_answer_and_leaves_other_rows(frozen: Student) -> None:
    free = frozen.complete(PROMPTS[:3], max_new_tokens=12, batch_size=3, progress=False)
    said = free[0].text[: len(free[0].text) // 2]
    assert said and free[0].new_tokens == 12 and free[0].stop == "length"

    def said_then_more(text: str) -> int | None:  # like Task.answer_end: counts once a character follows
        at = text.find(said)
        return at + len(said) if at >= 0 and len(text) > at + len(said) else None

    never = lambda text: None  # noqa: E731
    stopped = frozen.complete(PROMPTS[:3], max_new_tokens=12, batch_size=3, progress=False,
                              stop_at=[said_then_more, never, None])
    assert stopped[0].text == said and stopped[0].stop == "answer" and stopped[0].new_tokens in (4, 8, 12)
    assert stopped[1:] == free[1:]
    assert frozen.generate(PROMPTS[:3], max_new_tokens=12, batch_size=3, progress=False,
                           stop_at=[said_then_more, never, None]) == [c.text for c in stopped]


def test_freed_slots_are_refilled_and_every_row_decodes_as_generate_does_alone(frozen: Student) -> None:
    """Continuous batching: rows ending early (here every third, by stop_check) let waiting prompts join
    the running batch; the Gemma-3 rows cross its 16-token sliding window while others join and leave."""
    prompts = PROMPTS + [p + " Answer briefly." for p in PROMPTS]
    rows = [frozen.prompt_ids(p) for p in prompts]
    config = GenerationConfig(max_new_tokens=12, do_sample=False, eos_token_id=frozen.stop_ids, pad_token_id=frozen.pad_id)
    with torch.inference_mode():
        reference = [cut_at_stop(frozen.model.generate(input_ids=torch.tensor([r]), attention_mask=torch.ones(1, len(r), dtype=torch.long),
                                                       generation_config=config)[0, len(r):].tolist(), set(frozen.stop_ids)) for r in rows]
    calls: list[tuple[int, int]] = []  # (rows, tokens per row) of every forward call
    hook = frozen.causal_lm.get_decoder().register_forward_pre_hook(lambda _, args, kwargs: calls.append(tuple(kwargs["input_ids"].shape)),
                                                                    with_kwargs=True)
    try:
        out = greedy_generate(frozen.model, rows, frozen.pad_id, frozen.stop_ids, max_new_tokens=12, batch_size=3, progress=False,
                              stop_check=lambda i, ids: i % 3 == 0, refill=1)
    finally:
        hook.remove()
    for i, (cont, ref) in enumerate(zip(out, reference)):
        if i % 3 == 0 and len(ref) >= 4:
            assert (cont.ids, cont.stop) == (ref[:4], "answer")
        else:
            assert cont.ids == ref and cont.stop == ("eos" if len(ref) < 12 else "length")
    prefills = [n for n, length in calls if length > 1]
    assert sum(prefills) == len(prompts) and len(prefills) > -(-len(prompts) // 3)  # more, smaller prefills than fixed batches
    assert max(n for n, length in calls if length == 1) == 3
    window = getattr(frozen.causal_lm.config, "sliding_window", None)
    if window:  # rows on both sides of the window
        assert max(len(r) for r in rows) + 12 > window and min(len(r) for r in rows) < window


def test_a_batch_of_one_decodes_each_prompt_in_turn(smollm2: Student) -> None:
    rows = [smollm2.prompt_ids(p) for p in PROMPTS[:3]]
    one = greedy_generate(smollm2.model, rows, smollm2.pad_id, smollm2.stop_ids, max_new_tokens=5, batch_size=1, progress=False)
    assert one == greedy_generate(smollm2.model, rows, smollm2.pad_id, smollm2.stop_ids, max_new_tokens=5, batch_size=3, progress=False)
