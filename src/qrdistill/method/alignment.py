"""Align heterogeneous students on the TEXT of a path, not on token positions.

The response text is split into whitespace-delimited spans (words). Each student's response
tokens are mapped to the spans they overlap through their character offsets, and its hidden
states are mean-pooled per span, giving every student an [n_spans, H_s] matrix over the same
spans. Prompt and padding tokens carry offsets (-1, -1) and never enter. A span that some
student does not cover (its tokens were cut by max_length) is dropped for all students.

>>> spans = text_spans("x = 4 so 8")
>>> links = [token_links(enc.response_offsets, spans) for enc in encodings]   # one per student
>>> keep = covered_by_all(links, len(spans))
>>> pooled = pool_spans(hidden, [links_b0, links_b1], keep_per_path)         # [sum kept, H]
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch

_SPAN = re.compile(r"\S+")


def text_spans(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the whitespace-delimited segments of ``text``.

    >>> text_spans("a bc  d")
    [(0, 1), (2, 4), (6, 7)]
    """
    return [m.span() for m in _SPAN.finditer(text)]


@dataclass(frozen=True)
class TokenLinks:
    """Which token positions overlap which spans, for one student on one path."""

    token: tuple[int, ...]
    """Token position in the student's sequence, one entry per (token, span) overlap."""
    span: tuple[int, ...]
    """Span index of each overlap."""


def token_links(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> TokenLinks:
    """Link every response token (offsets != (-1, -1), non-empty) to each span it overlaps.

    >>> token_links([(-1, -1), (0, 2), (2, 5)], [(0, 1), (2, 5)])
    TokenLinks(token=(1, 2), span=(0, 1))
    """
    starts = [s for s, _ in spans]
    token, span = [], []
    for position, (start, end) in enumerate(offsets):
        if start < 0 or end <= start:
            continue
        first = max(bisect.bisect_right(starts, start) - 1, 0)
        for index in range(first, len(spans)):
            span_start, span_end = spans[index]
            if span_start >= end:
                break
            if span_end > start:
                token.append(position)
                span.append(index)
    return TokenLinks(tuple(token), tuple(span))


def covered_by_all(links: Sequence[TokenLinks], n_spans: int) -> list[int]:
    """Indices of the spans that every student's tokens cover.

    >>> covered_by_all([TokenLinks((0, 1), (0, 1)), TokenLinks((3,), (1,))], 2)
    [1]
    """
    covered = set(range(n_spans))
    for link in links:
        covered &= set(link.span)
    return sorted(covered)


def pool_spans(hidden: torch.Tensor, links: Sequence[TokenLinks], keep: Sequence[Sequence[int]]) -> torch.Tensor:
    """Mean-pool ``hidden`` [B,T,H] per kept span of each path -> [sum_b len(keep[b]), H].

    Row order: path 0's kept spans in increasing span order, then path 1's, and so on, so the
    same row means the same piece of text for every student.
    """
    batch, length, _ = hidden.shape
    flat_tokens, flat_spans, offset = [], [], 0
    for b in range(batch):
        renumber = {span: offset + i for i, span in enumerate(keep[b])}
        for token, span in zip(links[b].token, links[b].span):
            if span in renumber:
                flat_tokens.append(b * length + token)
                flat_spans.append(renumber[span])
        offset += len(keep[b])
    device = hidden.device
    token_index = torch.tensor(flat_tokens, dtype=torch.long, device=device)
    span_index = torch.tensor(flat_spans, dtype=torch.long, device=device)
    rows = hidden.reshape(batch * length, -1)[token_index]
    pooled = torch.zeros(offset, rows.shape[1], dtype=rows.dtype, device=device).index_add(0, span_index, rows)
    counts = torch.zeros(offset, dtype=rows.dtype, device=device).index_add(0, span_index, torch.ones_like(span_index, dtype=rows.dtype))
    return pooled / counts.clamp_min(1.0)[:, None]
