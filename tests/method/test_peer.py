import torch
import torch.nn.functional as F

from qrdistill.method.peer import PeerTeacher, align_loss, peer_losses, spread_loss


def _codes(n=12, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g), dim=-1)


def test_align_is_zero_for_identical_representations_whatever_gamma():
    z = _codes()
    both = torch.stack([z, z, z])
    gamma = torch.softmax(torch.randn(12, 3), dim=-1)
    assert align_loss(both, gamma).abs() < 1e-6
    assert spread_loss(both) == 0  # random unit codes are spread: the hinge is inactive
    assert align_loss(torch.stack([z, _codes(seed=1)]), torch.full((12, 2), 0.5)) > 0.1


def test_collapse_is_not_a_minimiser():
    spread = torch.stack([_codes(), _codes()])
    collapsed = F.normalize(torch.ones(2, 12, 8), dim=-1)
    gamma = torch.full((12, 2), 0.5)
    aligned_total = align_loss(spread, gamma) + spread_loss(spread)
    collapsed_total = align_loss(collapsed, gamma) + spread_loss(collapsed)
    assert aligned_total.abs() < 1e-6
    assert collapsed_total > 0.1


def test_training_projections_aligns_without_collapsing():
    torch.manual_seed(0)
    a, b = torch.randn(40, 10), torch.randn(40, 6)
    peer = PeerTeacher([10, 6], shared_dim=8)
    opt = torch.optim.Adam(peer.parameters(), lr=0.05)
    span_path = torch.arange(40) // 10
    npc = torch.rand(4, 2)
    first = None
    for _ in range(150):
        z = peer.project([a, b])
        terms = peer_losses(z, peer.competence_logits(z, span_path, 4), span_path, npc)
        first = first if first is not None else (terms.align + terms.spread).item()
        opt.zero_grad()
        terms.total.backward()
        opt.step()
    z = peer.project([a, b])
    assert terms.align.item() < 0.5 * first
    assert z.std(dim=1).mean() > 0.5 / 8**0.5  # still spread: no collapse to a point
    assert z.norm(dim=-1).sub(1).abs().max() < 1e-5  # unit norm: no collapse to zero


def test_gradients_reach_projections_competence_and_students():
    torch.manual_seed(0)
    a = torch.randn(9, 10, requires_grad=True)
    b = torch.randn(9, 6, requires_grad=True)
    peer = PeerTeacher([10, 6], shared_dim=4)
    span_path = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2])
    z = peer.project([a, b])
    terms = peer_losses(z, peer.competence_logits(z, span_path, 3), span_path, torch.tensor([[0.5, 1.0], [1.0, 0.5], [0.7, 0.7]]))
    terms.total.backward()
    for p in [*peer.proj.parameters(), peer.competence, peer.competence_bias, a, b]:
        assert p.grad is not None and p.grad.abs().sum() > 0


def test_competence_learns_who_models_each_path_best():
    torch.manual_seed(0)
    peer = PeerTeacher([5, 5], shared_dim=4)
    feats = torch.randn(2, 5)
    pooled = [feats.repeat_interleave(3, 0) + 0.01 * torch.randn(6, 5), torch.randn(6, 5)]
    span_path = torch.tensor([0, 0, 0, 1, 1, 1])
    npc = torch.tensor([[0.2, 1.0], [1.0, 0.2]])  # student 0 better on path 0, student 1 on path 1
    opt = torch.optim.Adam([peer.competence, peer.competence_bias], lr=0.1)
    for _ in range(200):
        z = peer.project(pooled)
        terms = peer_losses(z, peer.competence_logits(z, span_path, 2), span_path, npc)
        opt.zero_grad()
        terms.comp.backward()
        opt.step()
    assert terms.gamma[0, 0] > 0.8 and terms.gamma[1, 1] > 0.8


def test_works_for_three_students():
    peer = PeerTeacher([4, 5, 6], shared_dim=3)
    pooled = [torch.randn(7, h) for h in (4, 5, 6)]
    span_path = torch.zeros(7, dtype=torch.long)
    z = peer.project(pooled)
    terms = peer_losses(z, peer.competence_logits(z, span_path, 1), span_path, torch.rand(1, 3))
    assert z.shape == (3, 7, 3) and terms.gamma.shape == (1, 3)
    torch.testing.assert_close(terms.gamma.sum(), torch.tensor(1.0))
