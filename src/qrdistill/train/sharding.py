"""FSDP2 for the students: their weights sharded over processes; DeepSpeed refused with what to use.

The trainer needs two things of a student per micro-batch: the decoder's last hidden states (for
peer teaching) and the LM head's NLL at the supervised rows only (Eq. 9's L_distill). Both are one
``StudentForward.forward`` (``method/forward.py``). With ``sharding: fsdp`` (or an accelerate FSDP config) every decoder
layer is a ``fully_shard`` unit and the StudentForward is the root unit: it holds the embeddings,
the final norm and the LM head (Gemma ties it to the embeddings), so the root's all-gather makes
the head whole exactly while it is used, although the head runs outside the decoder's forward.
FSDP reduce-scatters the students' gradients; the trainer all-reduces only the router's and the
peer modules'. Frozen base weights and trainable LoRA weights share the units.

Sharded weights are DTensors: checkpoints and adapters gather them whole, one tensor at a time, to
CPU on rank 0 (``gather``, ``gather_state``, ``full_state_dict``: collectives that every process
calls in the same order), so files have the unsharded layout; resume scatters them back
(``load_full_``, ``load_optimizer_state``).

>>> forwards = [StudentForward(s) for s in students]
>>> if resolve_sharding(config.sharding, accelerator.num_processes) == "fsdp":
...     shard_students(forwards, accelerator.device, accelerator.num_processes)
>>> hidden, nll, rows = forwards[0](batch["input_ids"], batch["attention_mask"], batch["labels"])
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from torch.distributed.tensor import DTensor, distribute_tensor

from qrdistill.method.forward import StudentForward
from qrdistill.students import Student

log = logging.getLogger(__name__)

Sharding = Literal["none", "fsdp"]


def _env_flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "false").lower() in ("1", "true", "yes")


def refuse_deepspeed(env: Mapping[str, str] = os.environ) -> None:
    """Raise when launched with an accelerate DeepSpeed config (before ``Accelerator()`` would try to import it).

    >>> refuse_deepspeed({"ACCELERATE_USE_DEEPSPEED": "true"})   # RuntimeError naming DDP and FSDP
    """
    if _env_flag(env, "ACCELERATE_USE_DEEPSPEED"):
        raise RuntimeError(
            "qrdistill train does not run under DeepSpeed: a DeepSpeed engine wraps one model with one optimizer, "
            "the cooperative trainer steps several students (each with its own optimizer) plus the router and peer modules. "
            "Launch with a DDP config (configs/accelerate/ddp.yaml), or shard the students with FSDP "
            "(configs/accelerate/fsdp.yaml, or 'sharding: fsdp' in the train config)"
        )


def resolve_sharding(configured: Sharding, world: int, env: Mapping[str, str] = os.environ) -> Sharding:
    """``"fsdp"`` when the config asks for it or accelerate was launched with an FSDP config, over > 1 process.

    >>> resolve_sharding("none", 2, {"ACCELERATE_USE_FSDP": "true"})
    'fsdp'
    """
    wanted = configured == "fsdp" or _env_flag(env, "ACCELERATE_USE_FSDP")
    if wanted and world == 1:
        log.warning("sharding: fsdp over 1 process shards nothing; training unsharded")
        return "none"
    if wanted and configured != "fsdp":
        log.info("accelerate FSDP launch: sharding the students with FSDP2 per decoder layer "
                 "(the fsdp_* options of the accelerate config are not used; see docs/method.md)")
    return "fsdp" if wanted else "none"


def _decoder_layers(student: Student) -> torch.nn.ModuleList:
    decoder = student.causal_lm.get_decoder()
    layers = getattr(decoder, "layers", None)
    if not isinstance(layers, torch.nn.ModuleList):
        raise ValueError(f"student {student.name}: {type(decoder).__name__} has no 'layers' ModuleList, which FSDP "
                         "shards one unit per decoder layer; train this student with sharding: none")
    return layers


def shard_students(forwards: Sequence[StudentForward], device: torch.device, world: int) -> None:
    """FSDP2 over ``world`` processes: one unit per decoder layer, the StudentForward as root (in place).

    Call before building optimizers: the students' parameters become new DTensor parameters.
    """
    mesh = init_device_mesh(device.type, (world,))
    for forward in forwards:
        for layer in _decoder_layers(forward.student):
            fully_shard(layer, mesh=mesh)
        fully_shard(forward, mesh=mesh)


def whole(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` itself, or all of a sharded one on every process (a collective)."""
    return tensor.full_tensor() if isinstance(tensor, DTensor) else tensor


def gather(tensor: torch.Tensor) -> torch.Tensor:
    """The whole tensor, detached: if sharded, all-gathered (a collective) to CPU on rank 0 only (other
    ranks get an empty placeholder, so they never hold a whole copy); else a clone in place."""
    if isinstance(tensor, DTensor):
        full = whole(tensor.detach())
        return full.cpu() if dist.get_rank() == 0 else full.new_empty(0, device="cpu")
    return tensor.detach().clone()


def gather_state(obj: Any) -> Any:
    """``obj`` (e.g. an optimizer ``state_dict()``) with every sharded tensor ``gather``ed."""
    if isinstance(obj, DTensor):
        return gather(obj)
    if isinstance(obj, dict):
        return {k: gather_state(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(gather_state(v) for v in obj)
    return obj


def full_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Trainable weights and buffers of ``model``, ``gather``ed: what ``save_pretrained(state_dict=...)`` needs."""
    keep = {n for n, p in model.named_parameters() if p.requires_grad} | {n for n, _ in model.named_buffers()}
    return {k: gather(v) for k, v in model.state_dict().items() if k in keep}


def resident_bytes(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> int:
    """Bytes this process holds of ``model``'s weights and ``optimizer``'s state (its shards when sharded).

    >>> resident_bytes(student.model, optimizers[0]) / 2**20      # MB of one student in this process
    """
    states = [v for state in optimizer.state.values() for v in state.values() if isinstance(v, torch.Tensor)]
    local = [t.to_local() if isinstance(t, DTensor) else t for t in [*model.parameters(), *states]]
    return sum(t.numel() * t.element_size() for t in local)


def sync_gradients(params: Sequence[torch.nn.Parameter], world: int) -> None:
    """Average gradients over processes (what DDP does), in one flat all-reduce."""
    if world == 1:
        return
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    flat = torch.cat([p.grad.reshape(-1) for p in params])
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for p in params:
        p.grad.copy_(flat[offset : offset + p.numel()].view_as(p))
        offset += p.numel()


def _shard_like(full: torch.Tensor, like: DTensor) -> DTensor:
    return distribute_tensor(full.to(like.device), like.device_mesh, like.placements)


def load_full_(param: torch.Tensor, full: torch.Tensor) -> None:
    """Copy a whole tensor into ``param``, scattering it when ``param`` is sharded (a collective)."""
    with torch.no_grad():
        param.copy_(_shard_like(full, param) if isinstance(param, DTensor) else full)


def load_optimizer_state(optimizer: torch.optim.Optimizer, saved: dict[str, Any]) -> None:
    """``optimizer.load_state_dict(saved)`` where ``saved`` came from ``gather_state``: per-parameter
    states of sharded parameters are scattered back to their shards."""
    optimizer.load_state_dict(saved)
    for group in optimizer.param_groups:
        for param in group["params"]:
            if not isinstance(param, DTensor):
                continue
            state = optimizer.state[param]
            for key, value in state.items():
                if isinstance(value, torch.Tensor) and not isinstance(value, DTensor) and value.shape == param.shape:
                    state[key] = _shard_like(value, param)
