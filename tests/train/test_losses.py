import pytest
import torch
import torch.nn.functional as F

from qrdistill.method.forward import StudentForward
from qrdistill.method.losses import IGNORE_INDEX, distill_loss, head_logits, per_example_sum, supervised_rows, token_nll
from qrdistill.students import load_student


def _setup(seed=0, frozen_head=True):
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(2, 6, 4, generator=g, requires_grad=True)
    head = torch.nn.Linear(4, 11, bias=False).requires_grad_(not frozen_head)
    labels = torch.tensor([[IGNORE_INDEX, IGNORE_INDEX, 3, 4, 5, IGNORE_INDEX], [IGNORE_INDEX, 1, 2, 7, 8, 9]])
    return hidden, head, labels


def _plain_nll(head, hidden, labels, softcap=None):
    """The reference: full logits at every position, then the CE of the supervised ones."""
    logits = head_logits(head, hidden[:, :-1], softcap).reshape(-1, head.out_features)
    full = F.cross_entropy(logits, labels[:, 1:].reshape(-1), reduction="none", ignore_index=IGNORE_INDEX)
    return full[labels[:, 1:].reshape(-1) != IGNORE_INDEX]


@pytest.mark.parametrize("softcap", [None, 2.0])
@pytest.mark.parametrize("frozen_head", [True, False])  # the fused path (LoRA) and the recomputed one (full fine-tuning)
@pytest.mark.parametrize("budget", [1, 22, 1000])  # one row per chunk, two rows per chunk, all rows at once
def test_chunked_nll_and_gradients_equal_the_full_logit_ce(softcap, frozen_head, budget):
    hidden, head, labels = _setup(frozen_head=frozen_head)
    rows = supervised_rows(hidden, labels)
    ours = token_nll(head, rows.hidden, rows.targets, softcap=softcap, budget=budget)
    plain = _plain_nll(head, hidden, labels, softcap)
    torch.testing.assert_close(ours, plain)
    weights = torch.arange(1.0, len(ours) + 1)  # a non-uniform upstream gradient, as the gates and means give
    wrt = [hidden] if frozen_head else [hidden, head.weight]
    for mine, ref in zip(torch.autograd.grad((ours * weights).sum(), wrt), torch.autograd.grad((plain * weights).sum(), wrt)):
        torch.testing.assert_close(mine, ref)


def test_nll_without_gradients_holds_no_graph():
    hidden, head, labels = _setup()
    with torch.no_grad():
        rows = supervised_rows(hidden, labels)
        nll = token_nll(head, rows.hidden, rows.targets, budget=11)
    assert nll.grad_fn is None and nll.dtype == torch.float32
    torch.testing.assert_close(nll, _plain_nll(head, hidden, labels).detach())


def test_prompt_and_padding_positions_get_no_gradient():
    hidden, head, labels = _setup()
    rows = supervised_rows(hidden, labels)
    grad = torch.autograd.grad(token_nll(head, rows.hidden, rows.targets).sum(), hidden)[0]
    # row 0: positions 1..3 predict labels 3,4,5; position 0 predicts a prompt token, 4 and 5 predict nothing.
    assert grad[0, 0].abs().sum() == 0 and grad[0, 4:].abs().sum() == 0
    assert grad[0, 1:4].abs().sum(dim=-1).gt(0).all()
    assert grad[1, 5].abs().sum() == 0


def test_per_example_mean_and_gated_distill_loss():
    hidden, head, labels = _setup()
    rows = supervised_rows(hidden, labels)
    nll = token_nll(head, rows.hidden, rows.targets)
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


@pytest.mark.parametrize("model", ["tiny:smollm2", "tiny:gemma3"])  # Gemma-3 with final logit soft-capping
def test_student_forward_loss_and_lora_gradients_equal_the_plain_loss(model, data, monkeypatch):
    """The trainer's forward (chunked NLL, 3 rows per chunk here) against CE over the full logits of the model."""
    monkeypatch.setattr("qrdistill.method.losses.CHUNK_LOGITS", 3 * 262144)
    spec = data.tiny_specs()[0].model_copy(update={"model": model})
    student = load_student(spec, seed=2)
    with torch.no_grad():  # LoRA B starts at zero: make the adapter matter
        for p in student.trainable_parameters():
            p.add_(torch.randn_like(p) * 0.05)
    batch = student.collate([student.encode("What is 2+3?", "2+3 = 5. The answer is 5."), student.encode("Hi", "Hello!")])

    def loss_and_grads(nll_of):
        student.model.zero_grad()
        nll = nll_of()
        nll.sum().backward()
        return nll.detach(), {n: p.grad.clone() for n, p in student.model.named_parameters() if p.requires_grad}

    forward = StudentForward(student)
    chunked, chunked_grads = loss_and_grads(lambda: forward(batch["input_ids"], batch["attention_mask"], batch["labels"])[1])
    hidden = lambda: student.hidden_states(batch["input_ids"], batch["attention_mask"])  # noqa: E731
    plain, plain_grads = loss_and_grads(lambda: _plain_nll(student.causal_lm.get_output_embeddings(), hidden(), batch["labels"],
                                                           student.logit_softcap))
    torch.testing.assert_close(chunked, plain, atol=1e-5, rtol=1e-5)
    assert chunked_grads.keys() == plain_grads.keys() and any(g.abs().sum() > 0 for g in plain_grads.values())
    for name, grad in plain_grads.items():
        # float32 sums in another order: differences of ~1e-5 of the largest gradient entry
        torch.testing.assert_close(chunked_grads[name], grad, atol=1e-4 * grad.abs().max().item(), rtol=1e-4)
