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


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL cluster per session (tests/postgres.py); skips with the reason where none can run."""
    import os

    from postgres import REQUIRE_ENV, Server

    try:
        server = Server()
    except Exception as exc:
        if os.environ.get(REQUIRE_ENV) == "1":
            raise
        pytest.skip(f"kein PostgreSQL für diese Tests: {exc}")
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database for one test."""
    import re
    import uuid

    name = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40] + "_" + uuid.uuid4().hex[:6]
    return postgres_server.create(name)
