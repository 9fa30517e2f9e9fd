"""A student: model (LoRA-wrapped or fully trainable) + tokenizer + its own prompt format.

>>> student = load_student(StudentSpec(name="gemma", model="embedded:gemma3-270m"))
>>> enc = student.encode("What is 2+3?", "2+3=5. The answer is \\\\boxed{5}.")
>>> batch = student.collate([enc])
>>> with student.autocast():
...     hidden = student.hidden_states(batch["input_ids"], batch["attention_mask"])    # [B, T, H]
>>> student.generate(["What is 2+3?"], max_new_tokens=32)
>>> student.complete(["What is 2+3?"], max_new_tokens=32, stop_at=[get_task("gsm8k").answer_end])[0].stop
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from peft.tuners.tuners_utils import BaseTunerLayer
from rich.console import Console
from rich.progress import Progress
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from qrdistill.method.losses import head_logits, per_example_sum, supervised_rows, token_nll
from qrdistill.students.dtypes import torch_dtype
from qrdistill.students.embedded import resolve_model
from qrdistill.students.encoding import Encoded, collate, encode_pair, format_prompt, prompt_ids
from qrdistill.students.generation import greedy_generate
from qrdistill.students.spec import StudentSpec
from qrdistill.students.stopping import Completion, StopAt, finish, text_stop_check

log = logging.getLogger(__name__)
_console = Console(stderr=True)


class Student:
    """One student model with the tokenisation, formatting and decoding the trainer and evaluator share."""

    def __init__(self, spec: StudentSpec, model: PreTrainedModel | PeftModel, tokenizer: PreTrainedTokenizerBase) -> None:
        self.name = spec.name
        self.spec = spec
        self.model = model
        self.tokenizer = tokenizer
        self.use_chat_template = bool(tokenizer.chat_template) if spec.chat_template is None else spec.chat_template
        if self.use_chat_template and not tokenizer.chat_template:
            raise ValueError(f"student {spec.name}: chat_template=true but the tokenizer of {spec.model} has none")
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.n_encoded = 0
        self.n_truncated = 0

    # -- text and tokens ---------------------------------------------------------------
    def prompt_text(self, prompt: str) -> str:
        """The formatted prompt, identical in training (``encode``) and evaluation (``generate``)."""
        return format_prompt(self.tokenizer, prompt, self.use_chat_template)

    def prompt_ids(self, prompt: str) -> list[int]:
        """Token ids of the formatted prompt, BOS included when the model uses one."""
        return prompt_ids(self.tokenizer, self.prompt_text(prompt))

    def encode(self, prompt: str, response: str, add_eos: bool = True) -> Encoded:
        """Tokenise a training pair (labels -100 on the prompt; EOS appended and supervised).

        Truncations are counted in ``n_truncated`` (of ``n_encoded``); the first one is logged.
        """
        enc = encode_pair(self.tokenizer, self.prompt_text(prompt), response, self.spec.max_length, add_eos=add_eos)
        self.n_encoded += 1
        if enc.truncated:
            self.n_truncated += 1
            if self.n_truncated == 1:
                log.warning("student %s: a response was cut to max_length=%d; Student.n_truncated counts them",
                            self.name, self.spec.max_length)
        return enc

    def encode_many(self, pairs: list[tuple[str, str]], progress: bool = True) -> list[Encoded]:
        """``encode`` every (prompt, response) pair with a progress bar and a one-line summary.

        >>> encs = student.encode_many([("What is 2+3?", "5")])
        """
        truncated_before = self.n_truncated
        with Progress(transient=True, disable=not progress) as bar:
            encs = [self.encode(p, r) for p, r in bar.track(pairs, description=f"tokenising for {self.name}")]
        n_cut = self.n_truncated - truncated_before
        supervised = sum(len(e) - e.n_prompt for e in encs)
        _console.print(f"student [cyan]{self.name}[/]: {len(encs)} examples, {supervised} supervised tokens, "
                       f"{n_cut} truncated to max_length={self.spec.max_length}")
        return encs

    def collate(self, batch: list[Encoded]) -> dict[str, torch.Tensor]:
        """Right-padded ``input_ids``, ``attention_mask``, ``labels`` (-100 on padding) on the model's device."""
        return {k: v.to(self.device) for k, v in collate(batch, self.pad_id).items()}

    # -- model pieces ------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def causal_lm(self) -> PreTrainedModel:
        """The transformers model under the PEFT wrapper (its LoRA layers stay active)."""
        return self.model.get_base_model() if isinstance(self.model, PeftModel) else self.model

    @property
    def hidden_size(self) -> int:
        return self.causal_lm.config.hidden_size

    @property
    def compute_dtype(self) -> torch.dtype:
        """The dtype of the base weights, which the student computes in (LoRA weights may be float32)."""
        return self.causal_lm.get_input_embeddings().weight.dtype

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        """Run the student in ``compute_dtype``: below float32, torch autocast also runs the float32 LoRA
        matmuls in it (weights cast per op, gradients flow back to the float32 weights); PEFT's upcast of
        each LoRA input is off for good (``load_student``).

        >>> with student.autocast():
        ...     hidden = student.hidden_states(input_ids, attention_mask)
        """
        dtype = self.compute_dtype
        if dtype == torch.float32:
            yield
            return
        with torch.autocast(self.device.type, dtype=dtype):
            yield

    def hidden_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Last hidden states ``[B, T, H]`` of the backbone; the LM head is not applied."""
        decoder = self.causal_lm.get_decoder()
        return decoder(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state

    @property
    def logit_softcap(self) -> float | None:
        """The model's final logit soft-capping (Gemma: ``cap * tanh(z / cap)``), None without one."""
        return getattr(self.causal_lm.config, "final_logit_softcapping", None) or None

    def lm_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """LM head (+ the model's final logit soft-capping) on selected rows: ``[N, H] -> [N, V]``."""
        return head_logits(self.causal_lm.get_output_embeddings(), hidden, self.logit_softcap)

    def token_nll(self, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """NLL [N] (float32) of ``targets`` [N] after hidden rows [N, H], never holding all [N, V] logits.

        >>> nll = student.token_nll(rows.hidden, rows.targets)
        """
        return token_nll(self.causal_lm.get_output_embeddings(), hidden, targets, softcap=self.logit_softcap)

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        """Parameters the optimiser should update (LoRA weights, or all for full fine-tuning)."""
        return [p for p in self.model.parameters() if p.requires_grad]

    # -- inference ---------------------------------------------------------------------
    @property
    def stop_ids(self) -> list[int]:
        """EOS of the tokenizer and every EOS the model's generation config names."""
        ids = {self.tokenizer.eos_token_id}
        configured = self.causal_lm.generation_config.eos_token_id
        ids.update(configured if isinstance(configured, list) else [configured])
        return sorted(i for i in ids if i is not None)

    def generate(self, prompts: list[str], max_new_tokens: int = 256, batch_size: int = 16, progress: bool = True,
                 stop_at: Sequence[StopAt | None] | None = None) -> list[str]:
        """Greedy answers to ``prompts`` (only the new text), batched by length with left padding and KV cache.

        ``stop_at[i]`` (e.g. ``task.answer_end``) ends prompt ``i`` once its final answer is written.
        """
        return [c.text for c in self.complete(prompts, max_new_tokens, batch_size, progress, stop_at)]

    def complete(self, prompts: list[str], max_new_tokens: int = 256, batch_size: int = 16, progress: bool = True,
                 stop_at: Sequence[StopAt | None] | None = None) -> list[Completion]:
        """``generate`` with what ended each answer ("eos", "answer", "length") and its new-token count.

        With ``stop_at``, a row stops at the first check (every 4 tokens) where ``stop_at[i]`` finds
        its final answer, and its text is cut right after that answer.
        """
        if stop_at is not None and len(stop_at) != len(prompts):
            raise ValueError(f"{len(prompts)} prompts but {len(stop_at)} stop_at rules; give one per prompt (None: no rule)")
        rules = list(stop_at) if stop_at is not None else [None] * len(prompts)
        check = text_stop_check(self.tokenizer, rules) if any(r is not None for r in rules) else None
        was_training = self.model.training
        self.model.eval()
        try:
            with self.autocast():
                new = greedy_generate(
                    self.model, [self.prompt_ids(p) for p in prompts], self.pad_id, self.stop_ids,
                    max_new_tokens, batch_size, progress=progress, stop_check=check,
                )
        finally:
            self.model.train(was_training)
        return [finish(self.tokenizer, cont, rule) for cont, rule in zip(new, rules)]

    def sequence_logprob(self, prompts: list[str], completions: list[str], batch_size: int = 16) -> list[float]:
        """Mean log-probability per completion token (prompt tokens never counted; ``-inf`` for an empty completion)."""
        if len(prompts) != len(completions):
            raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions")
        scores: list[float] = []
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode(), self.autocast():
                for start in range(0, len(prompts), batch_size):
                    encs = [
                        encode_pair(self.tokenizer, self.prompt_text(p), c, self.spec.max_length, add_eos=False)
                        for p, c in zip(prompts[start : start + batch_size], completions[start : start + batch_size])
                    ]
                    scores.extend(self._mean_logprobs(self.collate(encs)))
        finally:
            self.model.train(was_training)
        return scores

    def _mean_logprobs(self, batch: dict[str, torch.Tensor]) -> list[float]:
        hidden = self.hidden_states(batch["input_ids"], batch["attention_mask"])
        rows = supervised_rows(hidden, batch["labels"])
        token_logp = -self.token_nll(rows.hidden, rows.targets)
        sums = per_example_sum(token_logp, rows.example, len(hidden)).cpu()
        counts = per_example_sum(torch.ones_like(token_logp), rows.example, len(hidden)).cpu()
        return [float(s / c) if c else float("-inf") for s, c in zip(sums, counts)]

    def save(self, out_dir: str | os.PathLike[str], state_dict: dict[str, torch.Tensor] | None = None) -> None:
        """Save the PEFT adapter (or the full model) and the tokenizer; ``load_student(spec, adapter_dir=out_dir)`` reloads it.

        ``state_dict``: the weights to write instead of the model's own (whole weights of a sharded model).
        """
        self.model.save_pretrained(out_dir, state_dict=state_dict)
        self.tokenizer.save_pretrained(out_dir)


def _lora_config(spec: StudentSpec) -> LoraConfig:
    return LoraConfig(
        r=spec.lora_r,
        lora_alpha=spec.lora_alpha,
        lora_dropout=spec.lora_dropout,
        target_modules=spec.target_modules,
        task_type="CAUSAL_LM",
    )


@functools.lru_cache(maxsize=8)
def _tokenizer(source: str, stamp: float) -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(source)


def load_tokenizer(source: str | os.PathLike[str]) -> PreTrainedTokenizerBase:
    """``AutoTokenizer.from_pretrained(source)``, shared in-process: Gemma's 262k vocabulary takes seconds to parse.

    Students never modify their tokenizer, so one instance serves every student of a source.
    """
    config = Path(source) / "tokenizer_config.json"
    return _tokenizer(str(source), config.stat().st_mtime if config.exists() else 0.0)


def _keep_lora_inputs_in_compute_dtype(model: torch.nn.Module) -> None:
    """PEFT casts each LoRA layer's input to the float32 of its weights: a float32 copy of every layer
    input kept for backward. Under ``Student.autocast`` the cast is not needed, so it is switched off on
    the model itself, not only while a forward runs: gradient checkpointing recomputes the layers in the
    backward pass, outside any context the forward ran in, and must produce the same bfloat16 tensors.
    A model without LoRA layers is left as it is."""
    for module in model.modules():
        if isinstance(module, BaseTunerLayer):
            module.cast_input_dtype_enabled = False


def load_student(
    spec: StudentSpec,
    adapter_dir: str | os.PathLike[str] | None = None,
    trainable: bool = True,
    device: str = "cpu",
    seed: int = 0,
) -> Student:
    """Load a student; with ``adapter_dir`` (a saved adapter or full model) continue from it.

    ``trainable``: new LoRA weights (``lora_r``) or every weight (``lora_r=None``) require grad;
    otherwise the model is frozen in eval mode. ``seed`` fixes the initial LoRA weights.

    >>> student = load_student(StudentSpec(name="s", model="tiny:smollm2"), trainable=False)
    """
    source = resolve_model(spec.model, spec.load_dtype)
    adapter = Path(adapter_dir) if adapter_dir is not None else None
    if adapter is not None and not (adapter / "adapter_config.json").exists() and not (adapter / "config.json").exists():
        raise FileNotFoundError(
            f"{adapter}: neither a PEFT adapter (adapter_config.json) nor a model dir (config.json); "
            "pass the directory Student.save wrote"
        )
    full_dir = adapter is not None and not (adapter / "adapter_config.json").exists()
    model = AutoModelForCausalLM.from_pretrained(adapter if full_dir else source, dtype=torch_dtype(spec.load_dtype))
    tokenizer = load_tokenizer(adapter if full_dir else source)
    if adapter is not None and not full_dir:
        model = PeftModel.from_pretrained(model, adapter, is_trainable=trainable)
    elif trainable and spec.lora_r is not None:
        with torch.random.fork_rng(devices=[]):  # LoRA init from ``seed``; the caller's RNG stream is untouched
            torch.manual_seed(seed)
            model = get_peft_model(model, _lora_config(spec))
    if not isinstance(model, PeftModel):
        model.requires_grad_(trainable)
    if trainable and spec.gradient_checkpointing:
        base = model.get_base_model() if isinstance(model, PeftModel) else model
        base.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    model.to(device)
    model.train(trainable)
    student = Student(spec, model, tokenizer)
    if student.compute_dtype != torch.float32:
        _keep_lora_inputs_in_compute_dtype(model)
    return student
