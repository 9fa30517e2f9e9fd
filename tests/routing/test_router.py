import pytest
import torch

from qrdistill.routing.objective import rate_entropy, rate_regulariser, route_costs, router_objective
from qrdistill.routing.router import Router, ensure_coverage, random_gates, sample_gates
from qrdistill.routing.state import N_FEATURES, StudentState


def _router(seed=0, n_students=2):
    torch.manual_seed(seed)
    return Router(text_dim=8, styles=["cot", "pot", "tot"], n_students=n_students, n_features=N_FEATURES, hidden=16)


def test_every_path_reaches_at_least_one_student():
    logits = torch.full((500, 3), -8.0)  # a router that wants to drop everything
    gates = sample_gates(logits, tau=1.0, generator=torch.Generator().manual_seed(0))
    assert gates.hard.sum(dim=1).min() >= 1
    assert set(gates.hard.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(gates.st, gates.hard)  # straight-through: same value
    rnd = random_gates(500, 3, rate=0.05, generator=torch.Generator().manual_seed(0))
    assert rnd.hard.sum(dim=1).min() >= 1


def test_coverage_picks_the_best_student():
    hard = ensure_coverage(torch.zeros(2, 3), torch.tensor([[0.0, 2.0, 1.0], [5.0, 0.0, 0.0]]))
    assert hard.tolist() == [[0, 1, 0], [1, 0, 0]]


def test_routing_depends_on_student_state():
    router = _router()
    text = torch.randn(4, 8)
    styles = router.style_ids(["cot", "pot", "tot", "cot"])
    state = StudentState(2, router.styles)
    low, _ = state.features(torch.tensor([[1.0, 1.0]] * 4), styles)
    high, _ = state.features(torch.tensor([[1.0, 1.0], [4.0, 1.0], [1.0, 0.2], [1.0, 1.0]]), styles)
    diff = (router(text, styles, low) - router(text, styles, high)).abs()
    assert diff[1:3].sum() > 1e-4  # paths whose losses changed get other logits


def test_router_gradient_is_nonzero_and_moves_gates_toward_learnable_paths():
    router = _router()
    opt = torch.optim.SGD(router.parameters(), lr=0.1)
    text = torch.randn(6, 8)
    styles = router.style_ids(["cot"] * 6)
    # student 0: paths 0-2 near its mean loss (learnable), 3-5 far above (out of reach) or far below (learned)
    losses = torch.tensor([[1.0, 1.0], [1.1, 1.0], [0.9, 1.0], [8.0, 1.0], [0.12, 1.0], [9.0, 1.0]])
    state = StudentState(2, router.styles)
    feats, ratio = state.features(losses, styles)
    costs = route_costs(ratio)
    baseline = costs.mean(dim=0)
    logits = router(text, styles, feats)
    gates = sample_gates(logits, tau=1.0, generator=torch.Generator().manual_seed(0))
    logit_grad = torch.autograd.grad(router_objective(gates.st, costs, baseline), logits)[0][:, 0]
    assert (logit_grad[:3] < 0).all() and (logit_grad[3:] > 0).all()  # descent raises near, lowers far
    for step in range(150):
        logits = router(text, styles, feats)
        gates = sample_gates(logits, tau=1.0, generator=torch.Generator().manual_seed(step))
        loss = router_objective(gates.st, costs, baseline)
        opt.zero_grad()
        loss.backward()
        if step == 0:
            assert sum(p.grad.abs().sum() for p in router.parameters()) > 0
        opt.step()
    prob = torch.sigmoid(router(text, styles, feats).detach()[:, 0])
    assert prob[:3].min() > prob[3:].max()


@pytest.mark.parametrize("start", [0.05, 0.95])
def test_rate_regulariser_sign_prevents_collapse(start):
    logit = torch.full((8, 2), float(torch.logit(torch.tensor(start))), requires_grad=True)
    opt = torch.optim.SGD([logit], lr=5.0)
    for _ in range(200):
        opt.zero_grad()
        rate_regulariser(torch.sigmoid(logit)).backward()
        opt.step()
    abar = torch.sigmoid(logit).mean().item()
    assert abs(abar - 0.5) < 0.05
    assert rate_entropy(torch.sigmoid(logit)) > rate_entropy(torch.full((1,), start))


def test_unknown_style_is_named():
    with pytest.raises(ValueError, match="backward"):
        _router().style_ids(["backward"])


def test_state_running_means_and_style_features():
    state = StudentState(2, ["cot", "pot"], momentum=0.5)
    styles = torch.tensor([0, 1])
    state.update(torch.tensor([[1.0, 2.0], [4.0, 2.0]]), styles, torch.zeros(2, 2))
    torch.testing.assert_close(state.log_mean.exp(), torch.tensor([2.0, 2.0]))  # geometric mean
    state.update(torch.tensor([[2.0, 2.0], [2.0, 2.0]]), styles, torch.ones(2, 2))
    torch.testing.assert_close(state.log_mean.exp(), torch.tensor([2.0, 2.0]))
    torch.testing.assert_close(state.style_log_mean[0].exp(), torch.tensor([2.0**0.5, 8.0**0.5]))
    torch.testing.assert_close(state.baseline, torch.tensor([0.5, 0.5]))
    feats, ratio = state.features(torch.tensor([[4.0, 2.0]]), torch.tensor([1]))
    torch.testing.assert_close(ratio, torch.tensor([[2.0, 1.0]]))
    torch.testing.assert_close(feats[0, 0], torch.log(torch.tensor([2.0, 8.0**0.5 / 2.0])))
