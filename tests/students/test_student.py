"""Model-side pieces: hidden states + LM head, LoRA/full fine-tuning, save/load, completion log-probs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from qrdistill.students import IGNORE, Student, StudentSpec, load_student
from qrdistill.students.dtypes import torch_dtype

PAIRS = [("What is 2+3?", "2+3 = 5. The answer is 5."), ("Name a colour.", "Blue.")]


def _batch(student: Student) -> dict[str, torch.Tensor]:
    return student.collate([student.encode(p, r) for p, r in PAIRS])


def test_lm_logits_on_hidden_rows_equal_the_full_forward(frozen: Student) -> None:
    batch = _batch(frozen)
    calls: list[int] = []
    head = frozen.causal_lm.get_output_embeddings()
    hook = head.register_forward_hook(lambda *_: calls.append(1))
    try:
        with torch.no_grad():
            hidden = frozen.hidden_states(batch["input_ids"], batch["attention_mask"])
    finally:
        hook.remove()
    assert not calls  # the LM head was not run over all positions
    assert hidden.shape == (*batch["input_ids"].shape, frozen.hidden_size)
    with torch.no_grad():
        full = frozen.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        mask = batch["attention_mask"].bool()
        rows = frozen.lm_logits(hidden[mask])
    torch.testing.assert_close(rows, full[mask], atol=1e-5, rtol=1e-5)


def test_gemma_softcapping_is_applied(gemma3: Student) -> None:
    assert gemma3.causal_lm.config.final_logit_softcapping
    hidden = torch.randn(3, gemma3.hidden_size) * 50
    with torch.no_grad():
        capped, raw = gemma3.lm_logits(hidden), gemma3.causal_lm.get_output_embeddings()(hidden)
    assert capped.abs().max() <= gemma3.causal_lm.config.final_logit_softcapping
    assert not torch.allclose(capped, raw)


def _perturb(params: list[torch.nn.Parameter]) -> None:
    with torch.no_grad():
        for p in params:
            p.add_(torch.randn_like(p) * 0.05)


def _logits(student: Student, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    student.model.eval()
    with torch.no_grad():
        return student.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits


@pytest.mark.parametrize("model", ["tiny:smollm2", "tiny:gemma3"])
def test_lora_save_load_round_trip(model: str, tmp_path: Path) -> None:
    spec = StudentSpec(name="s", model=model, lora_r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])
    student = load_student(spec, seed=1)
    trainable = student.trainable_parameters()
    assert trainable and all("lora_" in n for n, p in student.model.named_parameters() if p.requires_grad)
    _perturb(trainable)  # LoRA B starts at zero: make the adapter matter
    batch = _batch(student)
    before = _logits(student, batch)
    student.save(tmp_path)
    assert (tmp_path / "adapter_config.json").exists() and (tmp_path / "tokenizer_config.json").exists()
    reloaded = load_student(spec, adapter_dir=str(tmp_path), trainable=False)
    torch.testing.assert_close(_logits(reloaded, batch), before, atol=1e-5, rtol=1e-5)
    base = load_student(spec, trainable=False)
    assert not torch.allclose(_logits(base, batch), before, atol=1e-3)
    assert not any(p.requires_grad for p in reloaded.model.parameters())


def test_full_fine_tuning_save_load_round_trip(tmp_path: Path) -> None:
    spec = StudentSpec(name="s", model="tiny:smollm2", lora_r=None)
    student = load_student(spec)
    assert len(student.trainable_parameters()) == len(list(student.model.parameters()))
    _perturb(student.trainable_parameters())
    batch = _batch(student)
    before = _logits(student, batch)
    student.save(tmp_path)
    reloaded = load_student(spec, adapter_dir=tmp_path, trainable=False)
    torch.testing.assert_close(_logits(reloaded, batch), before, atol=1e-5, rtol=1e-5)


def test_adapter_dir_must_hold_a_saved_student(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="adapter_config.json"):
        load_student(StudentSpec(name="s", model="tiny:smollm2"), adapter_dir=tmp_path)


def test_sequence_logprob_reads_completion_tokens_only(frozen: Student) -> None:
    prompts, completions = [p for p, _ in PAIRS] + ["Say hi."], [c for _, c in PAIRS] + [""]
    scores = frozen.sequence_logprob(prompts, completions, batch_size=2)
    assert scores[2] == float("-inf")
    for prompt, completion, score in zip(prompts[:2], completions[:2], scores[:2]):
        enc = frozen.encode(prompt, completion, add_eos=False)
        ids = torch.tensor([enc.input_ids])
        with torch.no_grad():
            logp = torch.log_softmax(frozen.model(input_ids=ids).logits[0, :-1], dim=-1)
        targets = torch.tensor(enc.input_ids[1:])
        per_token = logp[torch.arange(len(targets)), targets]
        completion_part = per_token[enc.n_prompt - 1 :]
        assert len(completion_part) == len(enc.labels) - enc.n_prompt
        assert score == pytest.approx(completion_part.mean().item(), abs=1e-4)
        assert score != pytest.approx(per_token.mean().item(), abs=1e-3)  # prompt tokens would change it
    assert all(label == IGNORE for label in frozen.encode(prompts[0], completions[0]).labels[:1])


def test_lora_gets_gradients_through_hidden_states_and_lm_logits() -> None:
    student = load_student(StudentSpec(name="s", model="tiny:gemma3", lora_r=4, lora_dropout=0.0), seed=3)
    batch = _batch(student)
    hidden = student.hidden_states(batch["input_ids"], batch["attention_mask"])
    targets = batch["labels"][:, 1:]
    mask = targets != IGNORE
    loss = torch.nn.functional.cross_entropy(student.lm_logits(hidden[:, :-1][mask]), targets[mask])
    loss.backward()
    grads = {n: p.grad for n, p in student.model.named_parameters() if p.requires_grad}
    assert grads and all(g is not None for g in grads.values())
    assert any(g.abs().sum() > 0 for n, g in grads.items() if "lora_B" in n)
    with torch.no_grad():  # LoRA layers are active in hidden_states: moving them moves the states
        _perturb(student.trainable_parameters())
        moved = student.hidden_states(batch["input_ids"], batch["attention_mask"])
    assert not torch.allclose(moved, hidden.detach(), atol=1e-4)


def test_encode_many_counts_truncations() -> None:
    student = load_student(StudentSpec(name="s", model="tiny:smollm2", max_length=48), trainable=False)
    encs = student.encode_many([("Hi", "Short."), ("Hi", "word " * 100)], progress=False)
    assert [e.truncated for e in encs] == [False, True] and len(encs[1]) == 48
    assert (student.n_encoded, student.n_truncated) == (2, 1)


def test_spec_rejects_unknown_dtype_and_bad_rank() -> None:
    with pytest.raises(ValueError, match="dtype"):
        StudentSpec(name="s", model="m", dtype="fp8")
    with pytest.raises(ValueError, match="lora_r"):
        StudentSpec(name="s", model="m", lora_r=0)
    assert torch_dtype(StudentSpec(name="s", model="m", dtype="bfloat16").load_dtype) == torch.bfloat16


def test_lora_init_follows_seed_and_leaves_global_rng_alone() -> None:
    spec = StudentSpec(name="s", model="tiny:smollm2", lora_r=4)
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a = load_student(spec, seed=5)
    assert torch.equal(torch.rand(1), expected_next)
    b, c = load_student(spec, seed=5), load_student(spec, seed=6)
    weights = [dict((n, p.detach()) for n, p in s.model.named_parameters() if "lora_A" in n) for s in (a, b, c)]
    assert all(torch.equal(weights[0][n], weights[1][n]) for n in weights[0])
    assert not all(torch.equal(weights[0][n], weights[2][n]) for n in weights[0])


@pytest.mark.parametrize("model", ["tiny:smollm2", "tiny:gemma3"])
def test_gradient_checkpointing_recomputes_layers_and_keeps_the_gradients(model: str) -> None:
    def grads_and_layer_calls(checkpointing: bool) -> tuple[dict[str, torch.Tensor], int]:
        spec = StudentSpec(name="s", model=model, lora_r=4, lora_dropout=0.0, gradient_checkpointing=checkpointing)
        student = load_student(spec, seed=1)
        calls = []
        student.causal_lm.get_decoder().layers[0].mlp.register_forward_pre_hook(lambda *_: calls.append(1))
        batch = _batch(student)
        hidden = student.hidden_states(batch["input_ids"], batch["attention_mask"])
        targets = batch["labels"][:, 1:]
        mask = targets != IGNORE
        torch.nn.functional.cross_entropy(student.lm_logits(hidden[:, :-1][mask]), targets[mask]).backward()
        return {n: p.grad for n, p in student.model.named_parameters() if p.requires_grad}, len(calls)

    plain, plain_calls = grads_and_layer_calls(False)
    checkpointed, checkpointed_calls = grads_and_layer_calls(True)
    assert (plain_calls, checkpointed_calls) == (1, 2)  # the layer's MLP runs again in the backward pass
    assert plain.keys() == checkpointed.keys()
    for name in plain:
        torch.testing.assert_close(checkpointed[name], plain[name], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("model", ["tiny:smollm2", "tiny:gemma3"])
def test_gradient_checkpointing_in_bfloat16_recomputes_the_same_tensors(model: str) -> None:
    """The backward pass recomputes each layer outside the forward's context: LoRA inputs must stay in
    bfloat16 there too (before, PEFT upcast them there, and torch's checkpoint refused the float32
    tensors that LoRA's dropout had saved in bfloat16)."""
    def grads(checkpointing: bool) -> dict[str, torch.Tensor]:
        spec = StudentSpec(name="s", model=model, lora_r=4, lora_dropout=0.1, dtype="bfloat16", gradient_checkpointing=checkpointing)
        student = load_student(spec, seed=1)
        batch = _batch(student)
        torch.manual_seed(0)  # the same dropout masks in both runs (the recomputation replays the RNG)
        with student.autocast():
            hidden = student.hidden_states(batch["input_ids"], batch["attention_mask"])
        assert hidden.dtype == torch.bfloat16
        targets = batch["labels"][:, 1:]
        mask = targets != IGNORE
        student.token_nll(hidden[:, :-1][mask], targets[mask]).mean().backward()
        return {n: p.grad for n, p in student.model.named_parameters() if p.requires_grad}

    plain, checkpointed = grads(False), grads(True)
    assert plain.keys() == checkpointed.keys() and plain
    for name in plain:
        assert checkpointed[name].dtype == torch.float32
        torch.testing.assert_close(checkpointed[name], plain[name], atol=1e-3, rtol=1e-2)
