"""Container files (Dockerfile, compose.yaml, Caddyfile, docker/config.yaml), read without docker."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
COMPOSE_SINGLE = ROOT / "compose.single.yaml"
REPLICAS_CONFIG = ROOT / "docker" / "replicas.yaml"
CADDYFILE = ROOT / "Caddyfile"
CONTAINER_CONFIG = ROOT / "docker" / "config.yaml"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    joined = re.sub(
        r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    )
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "")
        for line in joined.splitlines()
        if (parts := line.strip().split(None, 1))
    ]


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text(encoding="utf-8"))


def test_dockerfile_installs_cpu_torch_before_the_project(dockerfile):
    runs = [args for name, args in dockerfile if name == "RUN"]
    torch = next(i for i, args in enumerate(runs) if "torch==2.13.0" in args)
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs[torch]
    project = next(i for i, args in enumerate(runs) if re.search(r"pip install \.(\s|$)", args))
    assert torch < project
    assert dockerfile[0] == ("FROM", "python:3.11-slim")


def test_dockerfile_runs_as_non_root_with_healthcheck_and_command(dockerfile):
    users = [args for name, args in dockerfile if name == "USER"]
    assert users and users[-1] not in {"root", "0"}
    health = [args for name, args in dockerfile if name == "HEALTHCHECK"]
    assert len(health) == 1 and "/healthz" in health[0] and "urllib" in health[0]
    assert [args for name, args in dockerfile if name == "CMD"][-1] == '["regiobot", "run"]'
    env = " ".join(args for name, args in dockerfile if name == "ENV")
    assert "HF_HUB_OFFLINE=1" in env and "REGIOBOT_CONFIG=/app/docker/config.yaml" in env


def test_dockerfile_builds_the_index_before_the_volume(dockerfile):
    names = [name for name, _ in dockerfile]
    build = next(i for i, (name, args) in enumerate(dockerfile) if name == "RUN" and "regiobot build" in args)
    assert build < names.index("VOLUME")
    assert names.index("USER") < build  # the index in the volume belongs to the bot's user


def test_dockerignore_keeps_local_state_and_secrets_out():
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".venv", "index/", "data/", ".git", ".env"} <= ignored


SECRETS = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "REGIOBOT_SALT", "POSTGRES_PASSWORD")


def test_no_secret_is_written_into_a_container_file():
    for name in SECRETS:
        for path in (COMPOSE, COMPOSE_SINGLE, CADDYFILE, CONTAINER_CONFIG, REPLICAS_CONFIG, DOCKERFILE):
            text = path.read_text(encoding="utf-8")
            assert not re.search(rf"^\s*{name}\s*[=:]\s*[^\s#…$]", text, re.MULTILINE), (name, path)
    assert not re.search(
        r"postgresql://[^:@/]+:[^$@]+@", COMPOSE.read_text(encoding="utf-8")
    )  # password from .env


def test_compose_runs_two_replicas_with_postgres_and_caddy():
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = compose["services"]
    bot = services["bot"]
    assert bot["deploy"]["replicas"] == 2
    assert "/healthz" in " ".join(bot["healthcheck"]["test"])
    assert bot["env_file"] == ".env"
    assert bot["environment"]["REGIOBOT_STORE_URL"].startswith("postgresql://regiobot:${POSTGRES_PASSWORD")
    assert bot["environment"]["REGIOBOT_CONFIG"] == "/app/docker/replicas.yaml"
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert any(volume.endswith(":/data/index") for volume in bot["volumes"])  # one index for all replicas
    assert "ports" not in bot  # two replicas cannot publish one host port; Caddy is the way in
    assert services["db"]["image"].startswith("postgres:")
    assert "pg_isready" in services["db"]["healthcheck"]["test"]
    assert "caddy" in services


def test_single_compose_keeps_one_sqlite_bot():
    compose = yaml.safe_load(COMPOSE_SINGLE.read_text(encoding="utf-8"))
    bot = compose["services"]["bot"]
    assert bot.get("deploy", {}).get("replicas", 1) == 1
    assert any(volume.endswith(":/data") for volume in bot["volumes"])
    assert "db" not in compose["services"]


def test_replica_config_is_webhook_mode_on_the_shared_index():
    config = load_config(REPLICAS_CONFIG)
    assert config.telegram.mode == "webhook" and config.telegram.webhook.listen == "0.0.0.0"
    assert (
        config.index_dir == Path("/data/index") and config.store.url is None
    )  # the address comes from the env
    assert "replicas.yaml" in (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_caddyfile_limits_the_webhook():
    text = CADDYFILE.read_text(encoding="utf-8")
    assert re.search(r"request_body\s*\{\s*max_size 1MB\s*\}", text)
    assert re.search(r"dynamic a bot 8443", text)  # every replica of the service, found by name
    assert text.count("{") == text.count("}")


def test_container_config_loads_with_absolute_paths(tmp_path):
    config = load_config(CONTAINER_CONFIG)
    assert isinstance(config, Config)
    assert config.knowledge_dir == Path("/app/knowledge")
    for path in (config.index_dir, config.data_dir):
        assert path.is_absolute() and path.parts[1] == "data"
    assert config.service.listen == "0.0.0.0"
    assert config.telegram.webhook.listen == "0.0.0.0"
    port = re.search(r"127\.0\.0\.1:(\d+)/healthz", DOCKERFILE.read_text(encoding="utf-8"))
    assert port and int(port.group(1)) == config.service.port
