"""Tokenisation of (prompt, response) pairs: loss masks, character offsets, truncation, padding.

Pure logic over a tokenizer, no model. The prompt is tokenised exactly as for generation
(``prompt_ids``), the response separately with character offsets, so the prompt/response
boundary is a token boundary and the prompt tokens are the ones the model sees at test time.

>>> enc = encode_pair(tok, "Q: 2+3?\\n", "2+3=5. \\\\boxed{5}", max_length=512)
>>> enc.labels[:enc.n_prompt] == [IGNORE] * enc.n_prompt
True
>>> batch = collate([enc], pad_id=tok.pad_token_id)    # input_ids, attention_mask, labels
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import PreTrainedTokenizerBase

IGNORE = -100
NO_SPAN = (-1, -1)
PAD_MULTIPLE = 16
"""``collate`` pads a batch's width to a multiple of this. The CPU kernel caches (oneDNN's primitives,
ATen's LRU) keep an entry of ~1.5 MB for every new matrix shape; with exact widths a long run kept
adding entries (+6.6 MB of live memory per step in ``bench/kernel_cache.py``) and paid for building
them (~15% of a bf16 matmul-bound step). Multiples of 16 leave a few dozen shapes
(docs/benchmarks.md, "Shapes and the kernel caches")."""


@dataclass(frozen=True)
class Encoded:
    """One tokenised training pair.

    ``response_offsets[i]`` is token i's character span inside the response text, or
    ``(-1, -1)`` for prompt and special tokens (BOS, EOS).
    """

    input_ids: list[int]
    labels: list[int]
    response_offsets: list[tuple[int, int]]
    n_prompt: int
    truncated: bool = False

    def __len__(self) -> int:
        return len(self.input_ids)


def format_prompt(tokenizer: PreTrainedTokenizerBase, prompt: str, chat_template: bool) -> str:
    """The text a student sees before its answer: one user turn + generation prompt, or the plain prompt and a newline."""
    if chat_template:
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
    return prompt + "\n"


def prompt_ids(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    """Token ids of a formatted prompt, with the tokenizer's BOS exactly once (chat templates may write it themselves)."""
    has_bos = tokenizer.bos_token is not None and text.startswith(tokenizer.bos_token)
    return tokenizer(text, add_special_tokens=not has_bos).input_ids


def response_tokens(tokenizer: PreTrainedTokenizerBase, response: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Token ids of a response (no special tokens) and each token's character span in it."""
    if not tokenizer.is_fast:
        raise TypeError(f"{type(tokenizer).__name__} is a slow tokenizer; character offsets need a fast (tokenizers) one")
    enc = tokenizer(response, add_special_tokens=False, return_offsets_mapping=True)
    return list(enc.input_ids), [tuple(span) for span in enc.offset_mapping]


def encode_pair(
    tokenizer: PreTrainedTokenizerBase,
    prompt_text: str,
    response: str,
    max_length: int,
    add_eos: bool = True,
) -> Encoded:
    """Tokenise a formatted prompt + response; only response tokens (and the appended EOS) are supervised.

    Too long pairs lose the end of the response (and then get no EOS: the text did not end there).
    """
    p_ids = prompt_ids(tokenizer, prompt_text)
    r_ids, r_offsets = response_tokens(tokenizer, response)
    room = max_length - len(p_ids)
    if room <= 0:
        raise ValueError(
            f"the formatted prompt has {len(p_ids)} tokens, leaving no room for the response within "
            f"max_length={max_length}; raise the student's max_length or shorten the prompt"
        )
    eos = [tokenizer.eos_token_id] if add_eos else []
    truncated = len(r_ids) + len(eos) > room
    if truncated:
        r_ids, r_offsets, eos = r_ids[:room], r_offsets[:room], []
    ids = p_ids + r_ids + eos
    return Encoded(
        input_ids=ids,
        labels=[IGNORE] * len(p_ids) + r_ids + eos,
        response_offsets=[NO_SPAN] * len(p_ids) + r_offsets + [NO_SPAN] * len(eos),
        n_prompt=len(p_ids),
        truncated=truncated,
    )


def collate(batch: list[Encoded], pad_id: int, multiple: int = PAD_MULTIPLE) -> dict[str, torch.Tensor]:
    """Right-pad a batch: ``input_ids``, ``attention_mask``, ``labels`` (-100 on padding), all ``[B, T]``,
    with ``T`` the longest row rounded up to a multiple of ``multiple``."""
    longest = max(len(e) for e in batch)
    width = longest + (-longest % multiple)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, enc in enumerate(batch):
        n = len(enc)
        input_ids[row, :n] = torch.tensor(enc.input_ids)
        labels[row, :n] = torch.tensor(enc.labels)
        attention_mask[row, :n] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def left_pad(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-pad token id lists for generation: ``(input_ids, attention_mask)``, both ``[B, T]``."""
    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
    for row, ids in enumerate(rows):
        if ids:
            input_ids[row, width - len(ids):] = torch.tensor(ids)
            attention_mask[row, width - len(ids):] = 1
    return input_ids, attention_mask
