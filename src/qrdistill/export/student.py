"""A trained student as a Hugging Face model directory (``qrdistill export-student``).

The LoRA adapter is merged into the base weights (``PeftModel.merge_and_unload``); the directory
holds the weights, config, tokenizer, chat template and a generation config for greedy decoding
that stops where our evaluation stops. It formats prompts exactly as training did:

- a student trained with its tokenizer's chat template keeps that template;
- a student trained on the plain prompt (``prompt + "\\n"``, e.g. our Gemma-3-270M base) gets a
  chat template that writes exactly that (BOS included when its tokenizer adds one), so
  ``apply_chat_template`` and chat endpoints (``transformers serve``, vLLM) send what it was trained on.

Before anything is written, the exported tokenizer is checked to produce the training prompt's
token ids for a probe question.

>>> export_student(spec, "runs/x/train/qr_distill/seed0/students/smollm2", "exported/smollm2")
>>> AutoModelForCausalLM.from_pretrained("exported/smollm2")
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from transformers import AutoTokenizer, GenerationConfig, PreTrainedTokenizerBase

from qrdistill.export.atomic import publish, staging
from qrdistill.jsonl import write_json
from qrdistill.students import Student, StudentSpec, load_student
from qrdistill.students.embedded import resolve_model
from qrdistill.students.dtypes import TORCH_DTYPES

PLAIN_TEMPLATE = (
    "{BOS}{{% for message in messages %}}"
    "{{% if message['role'] == 'user' %}}{{{{ message['content'] + '\\n' }}}}"
    "{{% elif message['role'] == 'assistant' %}}{{{{ message['content'] + eos_token }}}}"
    "{{% else %}}{{{{ raise_exception('this model was trained on one user turn, not on a ' + message['role'] + ' turn') }}}}"
    "{{% endif %}}{{% endfor %}}"
)
"""Chat template of a plain-prompt student: the user turn, a newline, then the answer and EOS."""
PROBE = "Tom has 3 apples and buys 4 more. How many apples does he have?"
CARD = "qrdistill_student.json"


@dataclass
class StudentExport:
    """Where a student went and how to prompt it."""

    out: FsPath
    student: str
    base_model: str
    adapter: FsPath
    prompt_format: str
    """``chat_template`` (the tokenizer's own) or ``plain`` (prompt + newline, written as a template)."""

    def summary(self) -> dict[str, Any]:
        """JSON-ready (``--json`` output, and the card written into the directory)."""
        return {"out": str(self.out), "student": self.student, "base_model": self.base_model,
                "adapter": str(self.adapter), "prompt_format": self.prompt_format}


def plain_template(tokenizer: PreTrainedTokenizerBase) -> str:
    """``PLAIN_TEMPLATE`` with the BOS the tokenizer adds to plain text (none if it adds none)."""
    text = PROBE + "\n"
    plain, special = tokenizer(text, add_special_tokens=False).input_ids, tokenizer(text).input_ids
    if special == plain:
        return PLAIN_TEMPLATE.format(BOS="")
    if tokenizer.bos_token is not None and special == [tokenizer.bos_token_id, *plain]:
        return PLAIN_TEMPLATE.format(BOS="{{ bos_token }}")
    raise ValueError(f"{tokenizer.name_or_path}: its special tokens around plain text are not just a BOS; "
                     "cannot write a chat template that reproduces the training prompt")


def _template_ids(tokenizer: PreTrainedTokenizerBase, prompt: str) -> list[int]:
    ids = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=True)
    return list(ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids)


def export_tokenizer(student: Student) -> PreTrainedTokenizerBase:
    """A fresh copy of the student's tokenizer whose chat template writes the training prompt.

    Raises ValueError when it would not (the check runs on ``PROBE``)."""
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(student.spec.model))
    if not student.use_chat_template:
        tokenizer.chat_template = plain_template(tokenizer)
    got, want = _template_ids(tokenizer, PROBE), student.prompt_ids(PROBE)
    if got != want:
        raise ValueError(f"student {student.name}: the exported chat template gives {len(got)} prompt tokens, "
                         f"training used {len(want)} ({got[:8]}... vs {want[:8]}...); not exporting a model that would be prompted differently")
    return tokenizer


def generation_config(student: Student, max_new_tokens: int) -> GenerationConfig:
    """Greedy decoding that stops at every EOS our evaluation stops at."""
    stops = student.stop_ids
    return GenerationConfig(
        bos_token_id=student.tokenizer.bos_token_id,
        eos_token_id=stops[0] if len(stops) == 1 else stops,
        pad_token_id=student.pad_id,
        do_sample=False,
        max_new_tokens=max_new_tokens,
    )


def export_student(spec: StudentSpec, adapter: str | os.PathLike[str], out: str | os.PathLike[str], *,
                   max_new_tokens: int = 256, dtype: str | None = None) -> StudentExport:
    """Merge ``adapter`` (what ``Student.save`` wrote) into ``spec``'s base model and write a model
    directory to ``out``; ``dtype`` (e.g. ``bfloat16``) casts the merged weights."""
    student = load_student(spec, adapter_dir=adapter, trainable=False)
    tokenizer = export_tokenizer(student)
    model = student.model.merge_and_unload() if hasattr(student.model, "merge_and_unload") else student.model
    if dtype is not None:
        if dtype not in TORCH_DTYPES:
            raise ValueError(f"unknown dtype {dtype!r}; use one of {sorted(TORCH_DTYPES)}")
        model = model.to(TORCH_DTYPES[dtype])
    model.generation_config = generation_config(student, max_new_tokens)
    out = FsPath(out)
    tmp = staging(out)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    result = StudentExport(out=out, student=spec.name, base_model=spec.model, adapter=FsPath(adapter),
                           prompt_format="chat_template" if student.use_chat_template else "plain")
    write_json(tmp / CARD, {**result.summary(), "example_prompt": tokenizer.apply_chat_template(
        [{"role": "user", "content": PROBE}], add_generation_prompt=True, tokenize=False)})
    publish(tmp, out)
    return result
