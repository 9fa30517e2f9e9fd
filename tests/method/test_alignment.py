"""Text alignment on the two real, different tokenizers (SmolLM2 and Gemma-3)."""

import pytest
import torch
from transformers import AutoTokenizer

from qrdistill.method.alignment import covered_by_all, pool_spans, text_spans, token_links
from qrdistill.students.embedded import resolve_model
from qrdistill.students.encoding import collate, encode_pair, format_prompt

TEXT = "Step 1: 37 + 42 = 79.\nStep 2: naïve check 79 - 42 = 37 ✓\n```python\nprint(37+42)\n```\nThe answer is \\boxed{79}."


@pytest.fixture(scope="module")
def tokenizers():
    return [AutoTokenizer.from_pretrained(resolve_model(m)) for m in ("tiny:smollm2", "tiny:gemma3")]


def _encode(tok, text=TEXT, max_length=512):
    return encode_pair(tok, format_prompt(tok, "What is 37 + 42?", chat_template=bool(tok.chat_template)), text, max_length)


def test_both_tokenizers_cover_every_span_with_their_own_tokens(tokenizers):
    spans = text_spans(TEXT)
    encs = [_encode(t) for t in tokenizers]
    assert len(encs[0].input_ids) != len(encs[1].input_ids)  # really different tokenisations
    links = [token_links(e.response_offsets, spans) for e in encs]
    assert covered_by_all(links, len(spans)) == list(range(len(spans)))
    for enc, link in zip(encs, links):
        assert min(link.token) >= enc.n_prompt  # prompt tokens never linked
        assert max(link.token) < len(enc) - 1  # the EOS is not part of the text
        for index, (start, end) in enumerate(spans):
            chars = set()
            for tok, span in zip(link.token, link.span):
                if span == index:
                    a, b = enc.response_offsets[tok]
                    assert a < end and b > start  # linked tokens overlap the span
                    chars.update(range(a, b))
            assert set(range(start, end)) <= chars  # and cover all of it


def test_pooling_ignores_prompt_and_padding(tokenizers):
    spans = text_spans(TEXT)
    encs = [_encode(tokenizers[0]), _encode(tokenizers[0], TEXT[:40])]
    batch = collate(encs, pad_id=0)
    hidden = torch.randn(*batch["input_ids"].shape, 3)
    hidden[batch["attention_mask"] == 0] = float("nan")  # padding
    for row, enc in enumerate(encs):
        hidden[row, : enc.n_prompt] = float("nan")  # prompt
        hidden[row, len(enc) - 1] = float("nan")  # EOS
    links = [token_links(e.response_offsets, text_spans(TEXT[: 40 if i else None])) for i, e in enumerate(encs)]
    keep = [list(range(len(spans))), list(range(len(text_spans(TEXT[:40]))))]
    pooled = pool_spans(hidden, links, keep)
    assert pooled.shape == (len(keep[0]) + len(keep[1]), 3)
    assert torch.isfinite(pooled).all()
    first_span_tokens = [t for t, s in zip(links[0].token, links[0].span) if s == 0]
    torch.testing.assert_close(pooled[0], hidden[0, first_span_tokens].mean(dim=0))


def test_truncation_drops_uncovered_spans_for_everyone(tokenizers):
    spans = text_spans(TEXT)
    short = _encode(tokenizers[0], max_length=len(_encode(tokenizers[0]).input_ids) - 12)
    full = _encode(tokenizers[1])
    assert short.truncated
    keep = covered_by_all([token_links(short.response_offsets, spans), token_links(full.response_offsets, spans)], len(spans))
    assert 0 < len(keep) < len(spans) and keep == list(range(len(keep)))
