"""Path embeddings: the real embedded encoder, and the file cache that runs of a run directory share."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from qrdistill.method import embed
from qrdistill.method.embed import cached_embeddings, default_encoder_dir, embed_texts

TEXTS = ["2 + 3 = 5, so the answer is 5.", "def solve():\n    return 2 + 3", "Backward: 5 - 3 = 2, which matches."]


def test_cache_embeds_each_text_once_and_returns_what_the_encoder_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    embedded: list[list[str]] = []

    def counting(texts, model_dir=None, **kwargs):
        embedded.append(list(texts))
        return embed_texts(texts, model_dir, **kwargs)

    monkeypatch.setattr(embed, "embed_texts", counting)
    cache = tmp_path / "cache" / "path_embeddings.pt"
    first = cached_embeddings(TEXTS[:2], cache)
    torch.testing.assert_close(first, embed_texts(TEXTS[:2]))
    assert first.shape == (2, 384) and torch.allclose(first.norm(dim=1), torch.ones(2))
    again = cached_embeddings([TEXTS[1], TEXTS[2], TEXTS[0]], cache)  # another run: one new text, another order
    assert embedded == [TEXTS[:2], [TEXTS[2]]]
    torch.testing.assert_close(again[[2, 0]], first)
    cached_embeddings(TEXTS, cache)
    assert len(embedded) == 2  # everything was cached: the encoder was not loaded
    cached_embeddings(TEXTS[:1], cache, model_dir=default_encoder_dir() + "/")  # another encoder: its own entries
    assert embedded[-1] == TEXTS[:1]
