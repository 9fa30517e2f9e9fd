"""The torch dtype behind each precision name a StudentSpec accepts (``spec.DTYPES``).

>>> torch_dtype("bfloat16")
torch.bfloat16
"""

from __future__ import annotations

import torch

from qrdistill.students.spec import AUTO, DTYPES

TORCH_DTYPES: dict[str, torch.dtype] = {name: getattr(torch, name) for name in DTYPES}


def torch_dtype(name: str) -> torch.dtype | str:
    """What ``from_pretrained(dtype=...)`` takes for a precision name: its torch dtype, or ``"auto"``."""
    return TORCH_DTYPES.get(name, AUTO)
