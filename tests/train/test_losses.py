import torch
import torch.nn.functional as F

from qrdistill.train.losses import IGNORE_INDEX, distill_loss, per_example_sum, supervised_rows, token_nll


def _setup(seed=0):
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(2, 6, 4, generator=g, requires_grad=True)
    head = torch.nn.Linear(4, 11, bias=False)
    labels = torch.tensor([[IGNORE_INDEX, IGNORE_INDEX, 3, 4, 5, IGNORE_INDEX], [IGNORE_INDEX, 1, 2, 7, 8, 9]])
    return hidden, head, labels


def test_supervised_only_ce_equals_full_logit_ce():
    hidden, head, labels = _setup()
    rows = supervised_rows(hidden, labels)
    ours = token_nll(head, rows.hidden, rows.targets, vocab_size=11)
    full = F.cross_entropy(head(hidden)[:, :-1].reshape(-1, 11), labels[:, 1:].reshape(-1), reduction="none", ignore_index=IGNORE_INDEX)
    mask = labels[:, 1:].reshape(-1) != IGNORE_INDEX
    torch.testing.assert_close(ours, full[mask])
    g1 = torch.autograd.grad(ours.sum(), hidden)[0]
    g2 = torch.autograd.grad(full.sum(), hidden)[0]
    torch.testing.assert_close(g1, g2)


def test_prompt_and_padding_positions_get_no_gradient():
    hidden, head, labels = _setup()
    rows = supervised_rows(hidden, labels)
    grad = torch.autograd.grad(token_nll(head, rows.hidden, rows.targets, vocab_size=11).sum(), hidden)[0]
    # row 0: positions 1..3 predict labels 3,4,5; position 0 predicts a prompt token, 4 and 5 predict nothing.
    assert grad[0, 0].abs().sum() == 0 and grad[0, 4:].abs().sum() == 0
    assert grad[0, 1:4].abs().sum(dim=-1).gt(0).all()
    assert grad[1, 5].abs().sum() == 0


def test_chunking_and_recompute_match_plain(monkeypatch):
    hidden, head, labels = _setup()
    rows = supervised_rows(hidden, labels)
    plain = token_nll(head, rows.hidden, rows.targets, vocab_size=11)
    monkeypatch.setattr("qrdistill.train.losses.CHECKPOINT_LOGIT_ELEMENTS", 1)
    rows = supervised_rows(hidden, labels)
    chunked = token_nll(head, rows.hidden, rows.targets, vocab_size=11, chunk_rows=2)
    torch.testing.assert_close(plain, chunked)
    torch.testing.assert_close(torch.autograd.grad(plain.sum(), hidden)[0], torch.autograd.grad(chunked.sum(), hidden)[0])


def test_per_example_mean_and_gated_distill_loss():
    hidden, head, labels = _setup()
    rows = supervised_rows(hidden, labels)
    nll = token_nll(head, rows.hidden, rows.targets, vocab_size=11)
    mean = per_example_sum(nll, rows.example, 2) / rows.count(2)
    torch.testing.assert_close(mean[0], nll[:3].mean())
    torch.testing.assert_close(mean[1], nll[3:].mean())
    gates = torch.tensor([0.0, 1.0])
    loss = distill_loss(mean, gates)
    torch.testing.assert_close(loss, mean[1] / 2)
    grad = torch.autograd.grad(loss, hidden)[0]
    assert grad[0].abs().sum() == 0 and grad[1].abs().sum() > 0


def test_select_rows_keeps_routed_examples():
    hidden, _, labels = _setup()
    rows = supervised_rows(hidden, labels).select(torch.tensor([False, True]))
    assert rows.example.tolist() == [1] * 5
    assert rows.targets.tolist() == [1, 2, 7, 8, 9]
