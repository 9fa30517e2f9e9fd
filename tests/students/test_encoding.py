"""Loss masks, BOS, character offsets, truncation and padding on the two real tokenizers."""

from __future__ import annotations

import pytest

from qrdistill.students import IGNORE, NO_SPAN, Student
from qrdistill.students.encoding import PAD_MULTIPLE, collate, encode_pair, left_pad

PROMPT = "Natalia sold clips to 48 of her friends in April. How many clips did she sell?"
RESPONSE = (
    "She sold 48 clips.  Half of 48 is 48 / 2 = 24.\n\nSo 48 + 24 = 72. "
    "Café, naïve, 日本語 and 🙂 stay intact. The answer is \\boxed{72}."
)


def test_only_response_and_eos_are_supervised(frozen: Student) -> None:
    enc = frozen.encode(PROMPT, RESPONSE)
    prompt_part = frozen.prompt_ids(PROMPT)
    assert enc.input_ids[: enc.n_prompt] == prompt_part
    assert enc.labels[: enc.n_prompt] == [IGNORE] * len(prompt_part)
    response_ids = frozen.tokenizer(RESPONSE, add_special_tokens=False).input_ids
    assert enc.labels[enc.n_prompt :] == response_ids + [frozen.tokenizer.eos_token_id]
    assert enc.input_ids[enc.n_prompt :] == enc.labels[enc.n_prompt :]
    assert not enc.truncated


def test_prompt_formats(smollm2: Student, gemma3: Student) -> None:
    chat = smollm2.prompt_text(PROMPT)
    assert chat.startswith("<|im_start|>") and chat.endswith("<|im_start|>assistant\n") and PROMPT in chat
    # Gemma-3-270M is a base model: plain prompt, and its BOS exactly once at the start
    assert gemma3.prompt_text(PROMPT) == PROMPT + "\n"
    ids = gemma3.encode(PROMPT, RESPONSE).input_ids
    bos = gemma3.tokenizer.bos_token_id
    assert ids[0] == bos and ids.count(bos) == 1
    assert gemma3.prompt_ids(PROMPT)[0] == bos


def test_bos_written_by_a_template_is_not_doubled(gemma3: Student) -> None:
    text = gemma3.tokenizer.bos_token + "Question: 1+1?\n"
    ids = encode_pair(gemma3.tokenizer, text, "2", max_length=64).input_ids
    assert ids.count(gemma3.tokenizer.bos_token_id) == 1


def test_offsets_map_tokens_to_response_text(frozen: Student) -> None:
    enc = frozen.encode(PROMPT, RESPONSE)
    spans = enc.response_offsets
    assert spans[: enc.n_prompt] == [NO_SPAN] * enc.n_prompt and spans[-1] == NO_SPAN  # prompt and EOS
    checked = 0
    for tok, (s, e) in zip(enc.input_ids[enc.n_prompt : -1], spans[enc.n_prompt : -1]):
        assert 0 <= s < e <= len(RESPONSE)
        piece = frozen.tokenizer.decode([tok])
        if "\ufffd" in piece:  # a byte-level piece of a multi-byte character: its span covers that character
            continue
        assert piece == RESPONSE[s:e]
        checked += 1
    assert checked > 30
    # spans cover the whole response, in order
    covered = {i for s, e in spans if s >= 0 for i in range(s, e)}
    assert covered == set(range(len(RESPONSE)))
    starts = [s for s, _ in spans if s >= 0]
    assert starts == sorted(starts)


def test_truncation_cuts_the_response_end_and_drops_eos(frozen: Student) -> None:
    n_prompt = len(frozen.prompt_ids(PROMPT))
    before = frozen.n_truncated
    enc = encode_pair(frozen.tokenizer, frozen.prompt_text(PROMPT), RESPONSE, max_length=n_prompt + 5)
    assert len(enc) == n_prompt + 5 and enc.truncated
    full = frozen.tokenizer(RESPONSE, add_special_tokens=False).input_ids
    assert enc.labels[n_prompt:] == full[:5]
    frozen.spec.max_length, saved = n_prompt + 5, frozen.spec.max_length
    try:
        assert frozen.encode(PROMPT, RESPONSE).truncated
    finally:
        frozen.spec.max_length = saved
    assert frozen.n_truncated == before + 1
    with pytest.raises(ValueError, match="max_length"):
        encode_pair(frozen.tokenizer, frozen.prompt_text(PROMPT), RESPONSE, max_length=n_prompt)


def test_collate_masks_padding(frozen: Student) -> None:
    short, long = frozen.encode("Hi", "Yes."), frozen.encode(PROMPT, RESPONSE)
    batch = collate([short, long], pad_id=frozen.pad_id)
    width = batch["input_ids"].shape[1]
    assert width % PAD_MULTIPLE == 0 and len(long) <= width < len(long) + PAD_MULTIPLE
    assert batch["input_ids"].shape == batch["labels"].shape == (2, width)
    assert batch["attention_mask"][0].tolist() == [1] * len(short) + [0] * (width - len(short))
    assert batch["attention_mask"][1].tolist() == [1] * len(long) + [0] * (width - len(long))
    assert collate([short, long], pad_id=frozen.pad_id, multiple=1)["input_ids"].shape == (2, len(long))
    assert batch["labels"][0, len(short) :].eq(IGNORE).all()
    assert batch["labels"][0, : len(short)].tolist() == short.labels
    supervised = batch["labels"].ne(IGNORE).sum().item()
    assert supervised == sum(len(e) - e.n_prompt for e in (short, long))


def test_left_pad() -> None:
    ids, mask = left_pad([[5, 6, 7], [9]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [0, 0, 9]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]
