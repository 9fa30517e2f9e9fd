import pytest
import torch

from qrdistill.method.gates import ensure_coverage, pattern_gates, random_gates, sample_gates
from qrdistill.method.objective import rate_entropy, rate_regulariser, router_loss, usefulness_targets
from qrdistill.method.router import Router
from qrdistill.method.state import N_FEATURES, StudentState

STYLES = ["answer_first", "cot", "tot"]


def _router(seed=0, n_students=2, styles=STYLES, text_dim=8):
    torch.manual_seed(seed)
    return Router(text_dim=text_dim, styles=styles, n_students=n_students, n_features=N_FEATURES, hidden=16)


def _train(router, state, batches, steps, seed, lambda_entropy=0.1, lr=1e-2):
    """The trainer's router update on planted gains: features from the state, BCE toward the
    usefulness targets, the rate regulariser, then the state update."""
    opt = torch.optim.Adam(router.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    for step in range(steps):
        text, style_ids, losses, gains = batches(step)
        known = torch.ones_like(gains, dtype=torch.bool)
        logits = router(text, style_ids, state.features(losses, style_ids))
        gates = sample_gates(logits, generator=generator)
        mean, std = state.gain_reference(gains, known)
        loss = router_loss(logits, usefulness_targets(gains, mean, std), known) + lambda_entropy * rate_regulariser(gates.prob)
        opt.zero_grad()
        loss.backward()
        opt.step()
        state.update(losses, style_ids, gains, known)


def _planted(seed):
    """answer_first paths gain nothing for either student; cot is worth more to student 0, tot to student 1."""
    rng = torch.Generator().manual_seed(seed + 100)
    centre = torch.randn(len(STYLES), 8, generator=rng)
    worth = torch.tensor([[0.0, 0.0], [4.0, 2.0], [2.0, 4.0]])

    def batches(step):
        style_ids = torch.randint(0, len(STYLES), (8,), generator=rng)
        text = centre[style_ids] + 0.3 * torch.randn(8, 8, generator=rng)
        gains = worth[style_ids] + 0.5 * torch.randn(8, 2, generator=rng)
        return text, style_ids, torch.ones(8, 2), gains

    return batches


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_router_weights_move_and_rates_separate_on_a_planted_style(seed):
    router, state = _router(seed), StudentState(2, STYLES)
    before = [p.detach().clone() for p in router.parameters()]
    batches = _planted(seed)
    _train(router, state, batches, steps=120, seed=seed)
    moved = max((p.detach() - b).abs().max().item() for p, b in zip(router.parameters(), before))
    assert moved > 0.1  # the old loss-proximity router moved < 0.01 in its whole run
    text, _, losses, _ = batches(0)
    with torch.no_grad():
        rates = {}
        for k, style in enumerate(STYLES):
            ids = torch.full((8,), k)
            rates[style] = torch.sigmoid(router(text, ids, state.features(losses, ids))).mean(dim=0)
    for s in range(2):  # the planted style goes to neither student
        assert rates["answer_first"][s] < 0.25 < min(rates["cot"][s], rates["tot"][s])
    assert rates["cot"][0] > rates["cot"][1] and rates["tot"][1] > rates["tot"][0]  # each student gets what it gains most from
    assert state.credits()[:, 0].abs().max() < 0.5 and state.credits()[0, 1] > 3.0


def test_the_student_state_input_changes_the_routing():
    # one style, identical texts: only the student's loss on the path (its state) tells a path worth
    # learning (gain high when the student's loss on it is near its usual level) from one that is not
    router, state = _router(0, styles=["cot"]), StudentState(2, ["cot"])
    rng = torch.Generator().manual_seed(5)
    text = torch.zeros(8, 8)
    ids = torch.zeros(8, dtype=torch.long)

    def batches(step):
        losses = torch.exp(torch.randn(8, 2, generator=rng))
        gains = 3.0 - 2.0 * losses.log().abs()
        return text, ids, losses, gains

    _train(router, state, batches, steps=200, seed=0)
    losses = torch.tensor([[1.0, 1.0], [8.0, 8.0], [0.1, 0.1]])
    with torch.no_grad():
        with_state = torch.sigmoid(router(text[:3], ids[:3], state.features(losses, ids[:3])))
        ablated = torch.sigmoid(router(text[:3], ids[:3], torch.zeros(3, 2, N_FEATURES)))
    assert with_state[0].min() > with_state[1:].max() + 0.3  # routes by the state
    assert (ablated.max() - ablated.min()) < 0.05  # without it every path looks alike
    assert (with_state - ablated).abs().max() > 0.2


def test_every_path_reaches_a_student_and_coverage_has_no_favourite():
    # both gates almost always off, and the router prefers student 0: the unclaimed paths are still
    # split evenly (a fixed favourite would take them all)
    logits = torch.tensor([[-6.0, -9.0]]).repeat(4000, 1)
    gates = sample_gates(logits, generator=torch.Generator().manual_seed(0))
    assert gates.hard.sum(dim=1).min() >= 1
    assert set(gates.hard.unique().tolist()) <= {0.0, 1.0}
    share = gates.hard[:, 1].mean().item()
    assert 0.46 < share < 0.54
    rnd = random_gates(500, 3, rate=0.05, generator=torch.Generator().manual_seed(0))
    assert rnd.hard.sum(dim=1).min() >= 1


def test_coverage_turns_on_the_highest_score():
    hard = ensure_coverage(torch.zeros(2, 3), torch.tensor([[0.0, 2.0, 1.0], [5.0, 0.0, 0.0]]))
    assert hard.tolist() == [[0, 1, 0], [1, 0, 0]]


def test_pattern_gates_match_rates_and_overlap():
    patterns = {(0,): 0.3, (1,): 0.2, (0, 1): 0.5}
    gates = pattern_gates(20_000, patterns, n_students=2, generator=torch.Generator().manual_seed(1))
    rates = gates.hard.mean(dim=0)
    assert abs(rates[0] - 0.8) < 0.015 and abs(rates[1] - 0.7) < 0.015
    assert abs(gates.hard.prod(dim=1).mean() - 0.5) < 0.015
    assert gates.hard.sum(dim=1).min() >= 1
    torch.testing.assert_close(gates.prob[0], torch.tensor([0.8, 0.7]))
    with pytest.raises(ValueError, match="no non-empty set"):
        pattern_gates(4, {(): 1.0}, n_students=2)


def test_usefulness_targets_and_loss_ignore_unknown_gains():
    targets = usefulness_targets(torch.tensor([[2.0, float("nan")]]), torch.zeros(2), torch.ones(2), sharpness=1.0)
    assert targets[0, 0] == pytest.approx(torch.sigmoid(torch.tensor(2.0)).item()) and targets[0, 1] == 0.5
    logits = torch.tensor([[0.0, 50.0]], requires_grad=True)
    loss = router_loss(logits, targets, torch.tensor([[True, False]]))
    loss.backward()
    assert logits.grad[0, 1] == 0 and logits.grad[0, 0] < 0  # descent raises the useful pair's logit
    assert loss.item() == pytest.approx(-(targets[0, 0] * torch.log(torch.tensor(0.5)) + (1 - targets[0, 0]) * torch.log(torch.tensor(0.5))).item())


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


def test_state_running_means_features_and_credits():
    state = StudentState(2, ["cot", "pot"], momentum=0.5)
    styles = torch.tensor([0, 1])
    known = torch.tensor([[True, True], [True, False]])
    state.update(torch.tensor([[1.0, 2.0], [4.0, 2.0]]), styles, torch.tensor([[1.0, 2.0], [3.0, 9.0]]), known)
    torch.testing.assert_close(state.log_mean.exp(), torch.tensor([2.0, 2.0]))  # geometric mean
    torch.testing.assert_close(state.gain_mean, torch.tensor([2.0, 2.0]))  # student 1's unknown 9.0 is ignored
    torch.testing.assert_close(state.gain_var, torch.tensor([1.0, 0.0]))
    state.update(torch.tensor([[2.0, 2.0], [2.0, 2.0]]), styles, torch.tensor([[4.0, 2.0], [4.0, 2.0]]), torch.ones(2, 2, dtype=torch.bool))
    torch.testing.assert_close(state.log_mean.exp(), torch.tensor([2.0, 2.0]))
    torch.testing.assert_close(state.style_log_mean[0].exp(), torch.tensor([2.0**0.5, 8.0**0.5]))
    torch.testing.assert_close(state.gain_mean, torch.tensor([3.0, 2.0]))
    credits = state.credits()
    torch.testing.assert_close(credits[0], torch.tensor([2.5, 3.5]))
    assert credits[1, 0] == 2.0 and credits[1, 1] == 2.0  # student 1's pot credit starts at its first known gain
    feats = state.features(torch.tensor([[4.0, 2.0]]), torch.tensor([1]))
    torch.testing.assert_close(feats[0, :, 0], torch.log(torch.tensor([2.0, 1.0])))
    torch.testing.assert_close(feats[0, 0, 2], (torch.tensor(3.5) - 3.0) / state.gain_std[0])


def test_a_seeded_router_starts_from_the_same_weights_whatever_ran_before():
    first = Router.seeded(3, 8, ["cot", "pot"], 2, N_FEATURES, hidden=16).state_dict()
    torch.rand(100)  # other draws from the global RNG in between
    again = Router.seeded(3, 8, ["cot", "pot"], 2, N_FEATURES, hidden=16).state_dict()
    other = Router.seeded(4, 8, ["cot", "pot"], 2, N_FEATURES, hidden=16).state_dict()
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)
