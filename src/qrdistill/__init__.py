"""qrdistill: distil reasoning from a teacher LLM into several cooperating student LLMs (QR-Distill)."""

__version__ = "0.1.0"
