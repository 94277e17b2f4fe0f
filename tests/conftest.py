"""Shared fixtures: the shipped configuration and one encoder for the whole session (loading it takes seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.embedding import Encoder, load_encoder

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(ROOT / "config.yaml")


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return load_encoder(load_config(ROOT / "config.yaml").embedding)


@pytest.fixture(scope="session")
def shipped_engine(config: Config, encoder: Encoder, tmp_path_factory: pytest.TempPathFactory):
    """The engine on the shipped knowledge/ (no ../shared needed), built once per session."""
    from bot.answer import Engine

    return Engine.load(config, index_dir=tmp_path_factory.mktemp("shipped-index"), encoder=encoder)
