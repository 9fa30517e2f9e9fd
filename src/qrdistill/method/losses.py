"""Distillation cross-entropy computed only where it is needed, and never with all logits at once.

The LM head runs on the hidden rows whose NEXT token is supervised (labels != -100), never on
prompt or padding positions: with Gemma's 262k vocabulary, full logits would dominate the cost.
For a frozen linear head (every LoRA student), ``token_nll`` computes each chunk's logits once,
in the head's dtype, takes the NLL and its gradient with respect to the hidden rows, and drops
the chunk: memory is one chunk of logits (``CHUNK_LOGITS``), not [tokens x vocab], and the head
runs twice (logits, gradient) instead of three times as with recomputation in backward.

>>> rows = supervised_rows(hidden, labels)                # hidden [B,T,H], labels [B,T]
>>> nll = token_nll(student.causal_lm.get_output_embeddings(), rows.hidden, rows.targets)
>>> per_path = per_example_sum(nll, rows.example, batch_size=B) / rows.count(B)
>>> loss = distill_loss(per_path, gates[:, s])            # (1/B) sum_j g_js l_js
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

IGNORE_INDEX = -100
CHUNK_LOGITS = 4 * 1024 * 1024
"""Logits computed at once: 16 rows of Gemma's 262k vocabulary, 85 of SmolLM2's 49k (16 MB in
float32). A chunk's temporaries then stay under glibc's largest mmap threshold (32 MB) and reuse
heap memory; 64 MB chunks were mapped and page-faulted afresh each time (two thirds of a training
step's page faults; docs/benchmarks.md, "Capped kernel caches and smaller logit chunks")."""
ROW_MULTIPLE = 16
"""A chunk of fewer rows (the last) is padded with zero rows to a multiple of this, so the LM head's
matmuls take a few shapes instead of one per row count (``encoding.PAD_MULTIPLE`` says why)."""


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


def chunk_rows(vocab_size: int, budget: int) -> int:
    """Rows per chunk so that a chunk holds about ``budget`` logits.

    >>> chunk_rows(262144, CHUNK_LOGITS)
    16
    """
    return max(1, budget // vocab_size)


class _LinearNLL(torch.autograd.Function):
    """NLL of ``targets`` under ``softcap(rows @ weight.T)`` for a frozen ``weight``, chunk by chunk.

    Each row's NLL depends on that row only, so its gradient is the upstream gradient times
    d nll_i / d rows_i = (softmax_i - onehot_i) * softcap'(z_i) @ weight, computed here with the
    logits in hand; backward only scales it.
    """

    @staticmethod
    def forward(ctx, rows: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, softcap: float | None,
                chunk: int) -> torch.Tensor:
        want_grad = ctx.needs_input_grad[0]
        nll = rows.new_empty(rows.shape[0], dtype=torch.float32)
        grad = torch.empty_like(rows) if want_grad else None
        with torch.autocast(rows.device.type, enabled=False):  # the dtypes below are chosen, not autocast's
            _linear_nll_chunks(rows, weight, targets, softcap, chunk, nll, grad)
        ctx.save_for_backward(grad)
        return nll

    @staticmethod
    def backward(ctx, grad_nll: torch.Tensor):
        (grad,) = ctx.saved_tensors
        return grad * grad_nll[:, None].to(grad.dtype), None, None, None, None


def _linear_nll_chunks(rows: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, softcap: float | None, chunk: int,
                       nll: torch.Tensor, grad: torch.Tensor | None) -> None:
    """Fill ``nll`` [N] and, if given, ``grad`` [N, H] (d nll_i / d rows_i), ``chunk`` rows at a time."""
    for start in range(0, rows.shape[0], chunk):
        stop = min(start + chunk, rows.shape[0])
        n = stop - start
        part = F.pad(rows[start:stop].to(weight.dtype), (0, 0, 0, -n % ROW_MULTIPLE))  # zero rows: few shapes
        z = part @ weight.t()
        if softcap:
            tanh = torch.tanh(z.float() / softcap)
            z = (tanh * softcap).to(weight.dtype)
        at = torch.arange(n, device=z.device), targets[start:stop]
        logp_target = torch.log_softmax(z, -1, dtype=torch.float32)[at]
        nll[start:stop] = -logp_target
        if grad is not None:
            dz = torch.softmax(z, -1)
            del z
            dz[at] = (logp_target.exp() - 1).to(dz.dtype)  # p - 1 from float32: no cancellation when p ~ 1
            if softcap:
                dz = dz * (1 - tanh * tanh).to(dz.dtype)
            grad[start:stop] = (dz @ weight)[:n]


def head_logits(head: torch.nn.Module, rows: torch.Tensor, softcap: float | None) -> torch.Tensor:
    """``head(rows)`` logits [N, V], soft-capped to ``softcap * tanh(z / softcap)`` when ``softcap`` is set."""
    logits = head(rows)
    return torch.tanh(logits / softcap) * softcap if softcap else logits


def _checkpointed_nll(head: torch.nn.Module, rows: torch.Tensor, targets: torch.Tensor, softcap: float | None) -> torch.Tensor:
    return F.cross_entropy(head_logits(head, rows, softcap).float(), targets, reduction="none")


def token_nll(head: torch.nn.Module, rows: torch.Tensor, targets: torch.Tensor, softcap: float | None = None,
              budget: int | None = None) -> torch.Tensor:
    """Per-row negative log-likelihood [N] (float32) of ``targets`` under ``head(rows)`` logits.

    ``softcap``: the model's final logit soft-capping, ``softcap * tanh(z / softcap)`` (Gemma).
    Never more than ``budget`` (default ``CHUNK_LOGITS``) logits at once: a frozen ``nn.Linear`` head (LoRA) goes through
    ``_LinearNLL``; any other head (a trained one in full fine-tuning) is recomputed per chunk in
    backward.

    >>> token_nll(student.causal_lm.get_output_embeddings(), rows.hidden, rows.targets)
    """
    if rows.shape[0] == 0:
        return rows.new_zeros(0, dtype=torch.float32)
    chunk = chunk_rows(head.weight.shape[0], budget or CHUNK_LOGITS)
    if type(head) is torch.nn.Linear and head.bias is None and not head.weight.requires_grad:
        return _LinearNLL.apply(rows, head.weight, targets, softcap, chunk)
    recompute = torch.is_grad_enabled() and (rows.requires_grad or head.weight.requires_grad)
    out = []
    for start in range(0, rows.shape[0], chunk):
        part, tgt = rows[start : start + chunk], targets[start : start + chunk]
        out.append(checkpoint(_checkpointed_nll, head, part, tgt, softcap, use_reentrant=False) if recompute
                   else _checkpointed_nll(head, part, tgt, softcap))
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
