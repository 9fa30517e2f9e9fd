"""bfloat16 students: base weights in bfloat16, LoRA and its gradients in float32, the same loss as float32.

(Greedy answers of the real students in both precisions: bench/eval_throughput.py, docs/benchmarks.md.)"""

from __future__ import annotations

import pytest
import torch

from qrdistill.method.forward import StudentForward
from qrdistill.students import Student, StudentSpec, load_student

PAIRS = [("What is 2+3?", "2+3 = 5. The answer is 5."), ("Name a colour.", "Blue is a colour."), ("Hi", "Hello there!")]


def _pair(model: str) -> tuple[Student, Student]:
    """The same LoRA student (same moved adapter weights) in float32 and in bfloat16."""
    students = [load_student(StudentSpec(name="s", model=model, lora_r=4, lora_dropout=0.0, dtype=d), seed=1) for d in ("float32", "bfloat16")]
    with torch.no_grad():
        torch.manual_seed(0)
        for p32, p16 in zip(students[0].trainable_parameters(), students[1].trainable_parameters()):
            p32.add_(torch.randn_like(p32) * 0.05)
            p16.copy_(p32)
    return students[0], students[1]


def _loss_and_grad(student: Student) -> tuple[float, torch.Tensor, int]:
    """The trainer's loss of a batch, its LoRA gradient, and the bytes autograd keeps for backward."""
    batch = student.collate([student.encode(p, r) for p, r in PAIRS])
    saved: dict[int, int] = {}
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.setdefault(t.untyped_storage().data_ptr(), t.untyped_storage().nbytes()) and t,
                                                  lambda t: t):
        _, nll, _ = StudentForward(student)(batch["input_ids"], batch["attention_mask"], batch["labels"])
    nll.mean().backward()
    grad = torch.cat([p.grad.flatten() for p in student.trainable_parameters()])
    return nll.mean().item(), grad, sum(saved.values())


@pytest.mark.parametrize("model", ["tiny:smollm2", "tiny:gemma3"])
def test_bfloat16_loss_and_lora_gradients_match_float32(model: str) -> None:
    fp32, bf16 = _pair(model)
    assert bf16.compute_dtype == torch.bfloat16 and bf16.causal_lm.get_output_embeddings().weight.dtype == torch.bfloat16
    assert all(p.dtype == torch.float32 for p in bf16.trainable_parameters())  # LoRA (and so AdamW's state) in float32
    loss32, grad32, kept32 = _loss_and_grad(fp32)
    loss16, grad16, kept16 = _loss_and_grad(bf16)
    assert loss16 == pytest.approx(loss32, rel=0.02)
    assert torch.nn.functional.cosine_similarity(grad16, grad32, dim=0) > 0.99
    assert grad16.dtype == torch.float32 and grad16.norm() == pytest.approx(grad32.norm().item(), rel=0.05)
    # autocast without PEFT's float32 upcast of LoRA inputs: activations kept for backward mostly in bfloat16
    assert kept16 < 0.65 * kept32, (kept16, kept32)
