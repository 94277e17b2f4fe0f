"""/healthz and /metrics: the real Application against the fake Bot API, read over HTTP on 127.0.0.1."""

from __future__ import annotations

import json

import aiohttp
import pytest
from fake_bot_api import TOKEN, FakeBotAPI, config_for, make_world, running, settle

from bot.metrics import Metrics, outcome
from bot.telegram import build_application, health

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture(scope="module")
def world(tmp_path_factory, encoder):
    return make_world(tmp_path_factory.mktemp("health"), encoder)


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.text()


async def test_healthz_and_metrics_of_a_running_bot(world, api, tmp_path):
    app = build_application(config_for(world[0], api, tmp_path / "data"), world[1], TOKEN)
    async with running(app):
        port = health.bound_port(app.bot_data["health"])
        status, body = await get(port, "/healthz")
        assert status == 200
        data = json.loads(body)
        assert data["status"] == "ok" and data["eintraege"] > 0 and data["postausgang"] == 0
        api.message("Wo ist die Geschäftsstelle des Regionalforums?")
        api.message("Wie wird das Wetter in Paris?")
        api.message("danke")
        await api.replies(1001, 3)
        await settle(app, api)
        status, text = await get(port, "/metrics")
    assert status == 200
    for line in (
        'regiobot_questions_total{outcome="answered"}',
        'regiobot_questions_total{outcome="declined"}',
        'regiobot_questions_total{outcome="smalltalk"}',
        "regiobot_answer_seconds_count",
        "regiobot_index_entries",
        "regiobot_outbox_waiting 0.0",
    ):
        assert line in text, line
    assert "1001" not in text and "Paris" not in text  # nothing personal in the metrics


async def test_unhealthy_is_503_and_a_failing_check_too():
    server = health.serve("127.0.0.1", 0, lambda: {"status": "fehler"}, metrics=Metrics())
    try:
        assert (await get(health.bound_port(server), "/healthz"))[0] == 503
    finally:
        server.stop()

    def broken() -> dict:
        raise RuntimeError("index kaputt")

    server = health.serve("127.0.0.1", 0, broken, metrics=Metrics())
    try:
        status, body = await get(health.bound_port(server), "/healthz")
        assert status == 503 and "RuntimeError" in body and "Traceback" not in body
    finally:
        server.stop()


def test_outcome_labels_are_a_small_fixed_set():
    assert outcome("fact", True) == "answered"
    assert {outcome(i, False) for i in ("none", "partial", "clarify", "smalltalk", "command", "x")} == {
        "declined", "partial", "clarified", "smalltalk", "command",
    }  # fmt: skip


def test_json_log_lines():
    import logging

    from bot.telegram.app import JsonLines

    record = logging.LogRecord(
        "regiobot.telegram", logging.WARNING, "f", 1, "Antwort %s verworfen", ("x",), None
    )
    line = json.loads(JsonLines().format(record))
    assert (
        line["stufe"] == "WARNING"
        and line["meldung"] == "Antwort x verworfen"
        and line["quelle"] == "regiobot.telegram"
    )
