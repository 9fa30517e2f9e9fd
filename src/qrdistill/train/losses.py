"""Distillation cross-entropy computed only where it is needed.

The LM head runs on the hidden rows whose NEXT token is supervised (labels != -100), never on
prompt or padding positions: with Gemma's 262k vocabulary, full logits would dominate the cost.

>>> rows = supervised_rows(hidden, labels)                # hidden [B,T,H], labels [B,T]
>>> nll = token_nll(student.lm_logits, rows.hidden, rows.targets)
>>> per_path = per_example_sum(nll, rows.example, batch_size=B) / rows.count(B)
>>> loss = distill_loss(per_path, gates[:, s])            # (1/B) sum_j g_js l_js
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

IGNORE_INDEX = -100
CHECKPOINT_LOGIT_ELEMENTS = 64 * 1024 * 1024
"""Above this many logits in a batch (256 MB in fp32) each chunk's head is recomputed in
backward instead of keeping every chunk's logits alive."""


@dataclass
class SupervisedRows:
    """Hidden rows that predict a supervised token, with their target and example index."""

    hidden: torch.Tensor
    """[N, H] hidden state at position t, which predicts the token at t+1."""
    targets: torch.Tensor
    """[N] token id at t+1."""
    example: torch.Tensor
    """[N] batch index of each row."""

    def count(self, batch_size: int) -> torch.Tensor:
        """[B] supervised tokens per example (at least 1, so means never divide by 0)."""
        ones = torch.ones_like(self.example, dtype=torch.float32)
        return per_example_sum(ones, self.example, batch_size).clamp_min(1.0)

    def select(self, keep: torch.Tensor) -> SupervisedRows:
        """The rows whose example is in the boolean mask ``keep`` [B]."""
        rows = keep[self.example]
        return SupervisedRows(self.hidden[rows], self.targets[rows], self.example[rows])


def supervised_rows(hidden: torch.Tensor, labels: torch.Tensor) -> SupervisedRows:
    """Gather the rows of ``hidden`` [B,T,H] whose next label is supervised (shift by one).

    >>> supervised_rows(torch.zeros(1, 3, 2), torch.tensor([[-100, 5, 6]])).targets
    tensor([5, 6])
    """
    shifted = labels[:, 1:]
    mask = shifted != IGNORE_INDEX
    example = torch.arange(labels.shape[0], device=labels.device)[:, None].expand_as(shifted)[mask]
    return SupervisedRows(hidden[:, :-1][mask], shifted[mask], example)


def _chunk_nll(head: Callable[[torch.Tensor], torch.Tensor], rows: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(head(rows).float(), targets, reduction="none")


def token_nll(
    head: Callable[[torch.Tensor], torch.Tensor],
    rows: torch.Tensor,
    targets: torch.Tensor,
    vocab_size: int,
    chunk_rows: int = 512,
) -> torch.Tensor:
    """Per-row negative log-likelihood [N] of ``targets`` under ``head(rows)`` logits, in chunks.

    With gradients on and more than CHECKPOINT_LOGIT_ELEMENTS logits in all, each chunk is
    recomputed in backward rather than stored.

    >>> token_nll(student.lm_logits, rows.hidden, rows.targets, vocab_size=49152)
    """
    if rows.shape[0] == 0:
        return rows.new_zeros(0, dtype=torch.float32)
    recompute = torch.is_grad_enabled() and rows.requires_grad and rows.shape[0] * vocab_size > CHECKPOINT_LOGIT_ELEMENTS
    out = []
    for start in range(0, rows.shape[0], chunk_rows):
        chunk, tgt = rows[start : start + chunk_rows], targets[start : start + chunk_rows]
        if recompute:
            out.append(checkpoint(_chunk_nll, head, chunk, tgt, use_reentrant=False))
        else:
            out.append(_chunk_nll(head, chunk, tgt))
    return torch.cat(out)


def per_example_sum(values: torch.Tensor, example: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Sum row ``values`` [N] into their examples -> [B].

    >>> per_example_sum(torch.tensor([1., 2., 3.]), torch.tensor([0, 0, 2]), 3)
    tensor([3., 0., 3.])
    """
    return torch.zeros(batch_size, dtype=values.dtype, device=values.device).index_add(0, example, values)


def distill_loss(per_example: torch.Tensor, gates: torch.Tensor) -> torch.Tensor:
    """L_distill(s) = (1/B) sum_j g_js * l_js: mean over the batch of the routed paths' losses.

    Dividing by B (not by the routed count) makes the loss of a batch split over processes or
    accumulation steps exactly the loss of the whole batch.

    >>> distill_loss(torch.tensor([2.0, 4.0]), torch.tensor([1.0, 0.0]))
    tensor(1.)
    """
    return (per_example * gates).sum() / per_example.shape[0]
