"""qrdistill: distil reasoning from a teacher LLM into several cooperating student LLMs (QR-Distill).

Importing it caps PyTorch's CPU kernel caches before any kernel is built (``memory.cap_kernel_caches``).
"""

from qrdistill.memory import cap_kernel_caches

__version__ = "0.1.0"

cap_kernel_caches()
