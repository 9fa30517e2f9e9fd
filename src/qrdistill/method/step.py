"""One cooperative step: the loss of Eq. 9 on a micro-batch of kept paths, read top to bottom.

The trainer (``train/trainer.py``) calls ``cooperative_step`` once per micro-batch, backpropagates
``terms.loss`` and logs the other terms; nothing here logs, steps an optimizer or knows about
processes beyond the ``gather`` it is given for the running student state. ``refresh_bare_nll``
computes the bare-cue half of the answer gain once per epoch.

>>> terms = cooperative_step(batch, text_emb[index], team, get_method("qr_distill"), config)
>>> terms.loss.backward()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch

from qrdistill.method.alignment import pool_spans
from qrdistill.method.example import BareCue, Example
from qrdistill.method.forward import StudentForward
from qrdistill.method.gates import Gates, fixed_gates, pattern_gates, patterns_by_index, random_gates, sample_gates
from qrdistill.method.losses import distill_loss, per_example_sum
from qrdistill.method.methods import Method
from qrdistill.method.objective import rate_regulariser, router_loss, usefulness_targets
from qrdistill.method.peer import PeerLosses, PeerTeacher, peer_losses
from qrdistill.method.reward import answer_nll
from qrdistill.method.router import Router
from qrdistill.method.state import StudentState


class StepSettings(Protocol):
    """The settings a step reads (``TrainConfig`` has them all)."""

    lambda_entropy: float
    lambda_mutual: float
    route_sharpness: float
    random_gate_rate: float
    random_patterns: Mapping[str, float] | None


@dataclass
class Team:
    """The students' forwards and the modules that route and teach them, with the state a step updates."""

    forwards: list[StudentForward]
    """Each student's forward (hidden states + LM head on supervised rows)."""
    router: Router
    peer: PeerTeacher
    state: StudentState
    gate_generator: torch.Generator
    bare_nll: torch.Tensor
    """[questions, S] each student's NLL of each question's answer after the bare cue (refreshed every epoch)."""


@dataclass
class StepTerms:
    """A micro-batch's loss (Eq. 9) and its terms for the log (``route``, ``rate`` and ``peer`` keep
    their gradient as parts of ``loss``; the rest is detached)."""

    loss: torch.Tensor
    token_loss: torch.Tensor
    """[B, S] l_js: per-token CE of student s on path j."""
    distill: torch.Tensor
    """[S] L_distill(s)."""
    gates: Gates
    gains: torch.Tensor
    """[B, S] u_js, the answer gain of each path for each student (nats; 0 where unknown or not computed)."""
    known: torch.Tensor
    """[B, S] whether u_js is defined (the path and the bare cue both state the gold answer)."""
    tokens: torch.Tensor
    """[S] non-padding tokens each student read."""
    supervised: torch.Tensor
    """[S] supervised (response) tokens of each student."""
    route: torch.Tensor | None = None
    """L_route (learned routing only)."""
    rate: torch.Tensor | None = None
    """L_rate = -H(abar) (learned routing only)."""
    peer: PeerLosses | None = None
    """L_align, L_spread, L_comp and the competence gamma (peer teaching only)."""


def _identity(tensor: torch.Tensor) -> torch.Tensor:
    return tensor


def cooperative_step(batch: Sequence[Example], text_emb: torch.Tensor | None, team: Team, method: Method, settings: StepSettings,
                     gather: Callable[[torch.Tensor], torch.Tensor] = _identity) -> StepTerms:
    """Eq. 9 on ``batch`` (B kept paths j, S students s; docs/method.md §1-4):

        L = sum_s L_distill(s) + lambda_entropy * L_rate + L_route + lambda_mutual * L_mutual

        l_js         per-token CE of s on path j under j's style prompt         (forward.py, losses.py)
        L_distill(s) = (1/B) sum_j g_js l_js                                     (losses.distill_loss)
        u_js         = log p_s(y | path j's prefix) - log p_s(y | bare cue)     (reward.answer_nll)
        g_js         ~ Bernoulli(sigmoid(router logit_js)), or all ones, or random by method  (gates.py)
        L_route      = mean_js BCE(logit_js, sigmoid(kappa z(u_js)))            (objective.router_loss)
        L_rate       = -H(abar)                                                  (objective.rate_regulariser)
        L_mutual     = L_align + L_spread + L_comp on text-aligned spans         (peer.peer_losses)

    ``text_emb``: the batch's path embeddings [B, D] (learned routing only). ``gather`` collects a
    tensor from every process (identity in one process) so the running student state sees the whole
    batch. Updates ``team.state`` (learned routing) and draws from ``team.gate_generator``.
    """
    n, n_students = len(batch), len(team.forwards)
    learned = method.routing == "learned"

    # every student reads every path: l_js, hidden states for peer teaching, the answer's NLL for u_js
    hidden, token_loss, per_char, answer_sums, answer_known, tokens, supervised = [], [], [], [], [], [], []
    for s, forward in enumerate(team.forwards):
        cols = forward.student.collate([x.encodings[s] for x in batch])
        h, nll, rows = forward(cols["input_ids"], cols["attention_mask"], cols["labels"])
        sums = per_example_sum(nll, rows.example, n)
        chars = torch.tensor([x.n_chars(s) for x in batch], dtype=torch.float32, device=h.device)
        hidden.append(h)
        token_loss.append(sums / rows.count(n))
        per_char.append(sums.detach() / chars)
        if learned:
            total, known_s = answer_nll(nll, rows.example, cols["labels"], [x.answer_tokens[s] for x in batch], n)
            answer_sums.append(total)
            answer_known.append(known_s)
        tokens.append(cols["attention_mask"].sum().float())
        supervised.append(rows.targets.new_tensor(rows.targets.numel(), dtype=torch.float32))
    token_loss_js = torch.stack(token_loss, dim=1)
    npc = torch.stack(per_char, dim=1)  # loss per character: comparable across tokenizers
    device = token_loss_js.device
    style_ids = team.router.style_ids([x.path.style for x in batch])
    loss = token_loss_js.new_zeros(())
    gains = torch.zeros(n, n_students, device=device)
    known = torch.zeros(n, n_students, dtype=torch.bool, device=device)
    l_route = l_rate = None

    # gates g_js, and for learned routing the router's own loss L_route + lambda_entropy * L_rate
    if learned:
        bare = team.bare_nll[[x.question_index for x in batch]].to(device)
        known = torch.stack(answer_known, dim=1) & ~bare.isnan()
        gains = torch.where(known, bare.nan_to_num() - torch.stack(answer_sums, dim=1), gains)
        logits = team.router(text_emb, style_ids, team.state.features(npc, style_ids))
        gates = sample_gates(logits, team.gate_generator)
        mean, std = team.state.gain_reference(gains, known)
        l_route = router_loss(logits, usefulness_targets(gains, mean, std, settings.route_sharpness), known)
        l_rate = rate_regulariser(gates.prob)
        loss = loss + l_route + settings.lambda_entropy * l_rate
        team.state.update(gather(npc), gather(style_ids), gather(gains), gather(known))
    elif method.routing == "random" and settings.random_patterns:
        names = [f.student.name for f in team.forwards]
        gates = pattern_gates(n, patterns_by_index(settings.random_patterns, names), n_students, team.gate_generator, device)
    elif method.routing == "random":
        gates = random_gates(n, n_students, settings.random_gate_rate, team.gate_generator, device)
    else:
        gates = fixed_gates(n, n_students, device)

    # L_distill(s): each student imitates the tokens of the paths routed to it
    distill = []
    for s in range(n_students):
        distill.append(distill_loss(token_loss_js[:, s], gates.hard[:, s]))
        loss = loss + distill[-1]

    # L_mutual: peer teaching on the spans every student covers, over all paths of the batch
    peer = None
    if method.peer:
        keep = [list(x.spans) for x in batch]
        pooled = [pool_spans(hidden[s], [x.links[s] for x in batch], keep) for s in range(n_students)]
        span_path = torch.repeat_interleave(torch.arange(n, device=device), torch.tensor([len(k) for k in keep], device=device))
        z = team.peer.project(pooled)
        peer = peer_losses(z, team.peer.competence_logits(z, span_path, n), span_path, npc)
        loss = loss + settings.lambda_mutual * peer.total

    return StepTerms(loss=loss, token_loss=token_loss_js.detach(), distill=torch.stack(distill).detach(), gates=gates,
                     gains=gains.detach(), known=known, tokens=torch.stack(tokens), supervised=torch.stack(supervised),
                     route=l_route, rate=l_rate, peer=peer)


@torch.no_grad()
def refresh_bare_nll(team: Team, cues: Sequence[BareCue], batch_size: int) -> None:
    """The bare-cue half of u_js, once per epoch: each student's NLL of every question's gold answer
    right after the bare answer cue (eval mode, no dropout), into ``team.bare_nll`` (NaN where the
    cue's answer tokens were cut)."""
    for s, forward in enumerate(team.forwards):
        model = forward.student.model
        was_training = model.training
        model.eval()
        try:
            for start in range(0, len(cues), batch_size):
                chunk = cues[start : start + batch_size]
                cols = forward.student.collate([c.encodings[s] for c in chunk])
                _, nll, rows = forward(cols["input_ids"], cols["attention_mask"], cols["labels"])
                total, known = answer_nll(nll, rows.example, cols["labels"], [c.answer_tokens[s] for c in chunk], len(chunk))
                team.bare_nll[start : start + len(chunk), s] = torch.where(known, total, torch.full_like(total, float("nan")))
        finally:
            model.train(was_training)
