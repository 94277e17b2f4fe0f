"""Reliability of the Telegram layer: hostile text, Bot API faults, load, webhook secret, secrets in logs.

Same setup as test_telegram.py: the real Application and the real Engine (small test knowledge,
today fixed) against the fake Bot API server, which validates HTML like Telegram and injects faults.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx
import pytest
from fake_bot_api import (
    TOKEN,
    FakeBotAPI,
    config_for,
    config_yaml,
    html_problem,
    make_world,
    running,
    settle,
    utf16_len,
    write_knowledge,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.answer import Answer, SourceRef
from bot.dialogue import Reply
from bot.telegram import build_application, run
from bot.telegram.format import format_reply, html_blocks
from bot.telegram.webhook import WebhookServer, update_queue_hook

# PTB warns about its own RetryAfter internals on every 429
pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.slow,  # end to end against the fake Bot API with faults and load; `.ci/run` runs them
]
ROOT = Path(__file__).resolve().parents[1]
USER = 1001

# the markers of distinct answers, for ordering checks
QUESTIONS = [
    ("Wo ist die Geschäftsstelle des Regionalforums?", "Hansering 15"),
    ("Welche Förderung gibt es für Kleinprojekte?", "20.000 Euro"),
    ("Wer organisiert den Regionaldialog?", "Madlen Beyer"),
    ("Wann ist der nächste Regionaldialog?", "15.05.2024"),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory, encoder):
    return make_world(tmp_path_factory.mktemp("faults"), encoder)


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
def config(world, api, tmp_path):
    return config_for(world[0], api, tmp_path / "data", request_timeout=1.0, max_retries=5)


# --------------------------------------------------------------------------- hostile text

hostile = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from([*"<>&\"'/ab \n\t*_`[]()#;=", "&amp;", "<b>", "</a>", "\n\n", "&#x27;"])).map(
        "".join
    ),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=50).map(lambda s: s * 200),
    st.sampled_from(
        ["", " ", "\n\n\n", "\u200f\u202e", "\x00\x01\x1b", "🇩🇪" * 3000, "a" * 10_000, "\t \r\n"]
    ),
)


def format_answer(answer: Answer) -> list[str]:
    return format_reply(Reply(answer.text, answer=answer))


def format_more(more: list[str]) -> list[str]:
    return format_reply(Reply("\n\n".join(more), title="Weitere Treffer"))


def assert_valid_messages(parts: list[str]) -> None:
    assert parts, "at least one message"
    for part in parts:
        assert utf16_len(part) <= 4096
        assert html_problem(part) is None, (html_problem(part), part[:200])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile, note=hostile, document=hostile, more=st.lists(hostile, max_size=3))
def test_any_text_gives_valid_telegram_html(text, note, document, more):
    answer = Answer(
        question=text,
        intent="fact",
        found=True,
        text=text,
        source_note=note,
        sources=[SourceRef("x", document, "info", 1.0, document, 'https://example.org/a?b=1&c="<x>"')],
        more=more,
    )
    assert_valid_messages(format_answer(answer))
    assert_valid_messages(format_more(more))
    for block in html_blocks(text, tag="i"):
        assert html_problem(block) is None and utf16_len(block) <= 4096
    # escaping: no user-supplied tag survives
    joined = "".join(format_answer(answer))
    if "<script" in text:
        assert "<script" not in joined


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=hostile)
def test_any_question_through_the_engine_gives_valid_html(world, question):
    engine = world[1]
    for answer in (engine.ask(question), engine.contacts_for(question or "x")):
        assert_valid_messages(format_answer(answer))
        assert_valid_messages(format_more(answer.more))


# --------------------------------------------------------------------------- Bot API faults


@pytest.mark.parametrize(
    ("method", "fault"),
    [
        ("sendMessage", "timeout"),
        ("sendMessage", "reset"),
        ("sendMessage", "json"),
        ("getUpdates", "500"),
        ("getUpdates", "json"),
        ("getUpdates", "reset"),
        ("getUpdates", "429"),
    ],
)
async def test_single_fault_answer_arrives_exactly_once(world, api, config, method, fault):
    app = build_application(config, world[1], TOKEN)
    async with running(app):
        api.fail(method, fault, times=2 if method == "sendMessage" else 1, retry_after=1, delay=1.5)
        api.message(QUESTIONS[0][0])
        texts = await api.replies(USER, timeout=20)
        await settle(app, api)
        texts = api.texts(USER)
    assert len(texts) == 1 and QUESTIONS[0][1] in texts[0]
    faulted = [c for c in api.calls_to(method, ok_only=False) if c.fault]
    assert [c.fault for c in faulted] == [fault] * (2 if method == "sendMessage" else 1)


async def test_many_faults_every_question_answered_once_in_order(world, api, config):
    """Faults of every kind while 20 users ask 4 questions each: each answered once, in order per chat."""
    app = build_application(config, world[1], TOKEN)
    async with running(app):
        for kind in ("500", "json", "reset", "429", "500", "timeout"):
            api.fail("sendMessage", kind, retry_after=1, delay=1.2)
        api.fail("getUpdates", "500")
        users = range(5000, 5020)
        for round_ in range(4):
            for user in users:
                api.message(QUESTIONS[(user + round_) % 4][0], chat_id=user)
        await api.await_(lambda: len(api.sent()) >= 80, timeout=25, what="80 answers")
        await settle(app, api)
    for user in users:
        texts = api.texts(user)
        expected = [QUESTIONS[(user + r) % 4][1] for r in range(4)]
        assert len(texts) == 4, (user, texts)
        assert all(marker in text for marker, text in zip(expected, texts, strict=True)), (user, texts)
    assert sum(1 for c in api.calls if c.fault) == 7  # 6 sendMessage + 1 getUpdates


async def test_malformed_updates_are_skipped_and_the_rest_answered(world, api, config):
    app = build_application(config, world[1], TOKEN)
    async with running(app):
        api.add_update({"message": {"message_id": 1}})  # no date, no chat
        api.add_update({"callback_query": "kaputt"})
        api.message(QUESTIONS[0][0])
        (text,) = await api.replies(USER, timeout=15)
        assert QUESTIONS[0][1] in text
        api.add_update({"message": {"message_id": 2, "date": "gestern", "chat": None}})
        api.message(QUESTIONS[1][0])
        texts = await api.replies(USER, 2, timeout=15)
        assert QUESTIONS[1][1] in texts[1]


async def test_retry_after_is_respected(world, api, config):
    app = build_application(config, world[1], TOKEN)
    async with running(app):
        api.fail("sendMessage", "429", times=2, retry_after=1)
        api.message(QUESTIONS[0][0])
        await api.replies(USER, timeout=15)
    attempts = api.calls_to("sendMessage", ok_only=False)
    assert [c.fault for c in attempts] == ["429", "429", None]
    assert attempts[1].at - attempts[0].at >= 1.0 and attempts[2].at - attempts[1].at >= 1.0


async def test_outage_longer_than_the_retries_answers_later_in_order(world, api, tmp_path):
    config = config_for(world[0], api, tmp_path / "data", request_timeout=1.0, max_retries=1)
    app = build_application(config, world[1], TOKEN)
    async with running(app):
        api.fail("sendMessage", "500", times=4)  # more failures than the immediate retries cover
        api.message(QUESTIONS[0][0])
        await settle(app, api)
        api.message(QUESTIONS[1][0])
        texts = await api.replies(USER, 2, timeout=30)  # the outbox keeps the first answer and retries it
        await settle(app, api)
    assert len(texts) == 2  # each answered exactly once, no apology instead of an answer
    assert QUESTIONS[0][1] in texts[0] and QUESTIONS[1][1] in texts[1]


# --------------------------------------------------------------------------- load


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


async def test_load_100_users_10_questions_each_in_order(world, api, tmp_path):
    config = config_for(world[0], api, tmp_path / "data", rate_limit_messages=100)
    app = build_application(config, world[1], TOKEN)
    users = range(10_000, 10_100)
    rss = []
    async with running(app):
        started = time.monotonic()
        for wave in (range(5), range(5, 10)):
            for round_ in wave:
                for user in users:
                    api.message(QUESTIONS[(user + round_) % 4][0], chat_id=user)
            done = 100 * wave[-1] + 100
            await api.await_(lambda done=done: len(api.sent()) >= done, timeout=60, what=f"{done} answers")
            await settle(app, api)
            rss.append(_rss_mb())
        elapsed = time.monotonic() - started
    assert rss[1] - rss[0] < 40, (
        f"memory grew from {rss[0]:.0f} MB to {rss[1]:.0f} MB over the second 500 answers"
    )
    per_chat = defaultdict(list)
    for m in api.sent():
        per_chat[m["chat"]["id"]].append(m["_raw_text"])
    assert len(api.sent()) == 1000
    for user in users:
        expected = [QUESTIONS[(user + r) % 4][1] for r in range(10)]
        got = per_chat[user]
        assert len(got) == 10 and all(e in t for e, t in zip(expected, got, strict=True)), (user, got)
    print(f"1000 Antworten in {elapsed:.1f} s ({1000 / elapsed:.0f}/s)")


# --------------------------------------------------------------------------- security


async def test_user_text_cannot_inject_html(world, api, config):
    app = build_application(config, world[1], TOKEN)
    async with running(app):
        api.message('/kontakt <b>Wirtschaftsförderung</b> & <a href="https://evil">x</a>')
        (text,) = await api.replies(USER)
    assert "&lt;b&gt;Wirtschaftsförderung&lt;/b&gt; &amp; &lt;a href=" in text
    assert "https://evil" not in text.replace("&lt;a href=", "").split('href="')[-1].split('"')[0]
    assert html_problem(text) is None


async def test_webhook_rejects_missing_or_wrong_secret(world, api, config):
    """Our webhook server (as `regiobot run` uses it) in front of the real Application: 403 without the
    secret, the update answered once with it, also when Telegram delivers it twice."""
    app = build_application(config, world[1], TOKEN)
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": USER, "type": "private", "first_name": "A"},
            "from": {"id": USER, "is_bot": False, "first_name": "A"},
            "text": QUESTIONS[0][0],
        },
    }
    api.message("warm-up registers the chat", chat_id=USER)  # never fetched: no polling here
    server = WebhookServer(update_queue_hook(app), "richtiges-geheimnis", "telegram")
    await app.initialize()
    try:
        await app.start()
        await server.start("127.0.0.1", 0)
        await app.bot.set_webhook("https://bot.example.org/telegram", secret_token="richtiges-geheimnis")
        assert api.webhook["secret_token"] == "richtiges-geheimnis"
        url = f"http://127.0.0.1:{server.port}/telegram"
        async with httpx.AsyncClient() as client:
            body = json.dumps(update)
            headers = {"content-type": "application/json"}
            missing = await client.post(url, content=body, headers=headers)
            wrong = await client.post(
                url, content=body, headers={**headers, "X-Telegram-Bot-Api-Secret-Token": "falsch"}
            )
            await asyncio.sleep(0.5)
            assert api.texts(USER) == []
            right = [
                await client.post(
                    url,
                    content=body,
                    headers={**headers, "X-Telegram-Bot-Api-Secret-Token": "richtiges-geheimnis"},
                )
                for _ in range(2)  # a replay: answered 200, processed once
            ]
        statuses = [r.status_code for r in (missing, wrong, *right)]
        assert statuses == [403, 403, 200, 200]
        (text,) = await api.replies(USER)
        assert QUESTIONS[0][1] in text
        await asyncio.sleep(0.3)
        assert len(api.texts(USER)) == 1
    finally:
        await server.stop()
        if app.running:
            await app.stop()
        await app.shutdown()


def test_regiobot_run_webhook_mode_subprocess(tmp_path, api):
    root = tmp_path / "hook"
    write_knowledge(root / "knowledge")
    port = _free_port()
    (root / "config.yaml").write_text(
        config_yaml(
            root,
            api.base_url,
            mode="webhook",
            webhook={
                "listen": "127.0.0.1",
                "port": port,
                "path": "hook",
                "url": "https://bot.example.org/hook",
            },
        )
    )
    secret = "geheimes-webhook-token_123"
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": secret,
        "REGIOBOT_CONFIG": str(root / "config.yaml"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("TELEGRAM_API_BASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        api.wait(lambda: api.calls_to("setWebhook") or proc.poll() is not None, timeout=25, what="setWebhook")
        assert proc.poll() is None, proc.communicate()[1]
        (call,) = api.calls_to("setWebhook")
        assert call.params["url"] == "https://bot.example.org/hook" and call.params["secret_token"] == secret
        api.message("registers the chat")  # queued but never fetched: webhook mode does not poll
        update = {
            "update_id": 77,
            "message": {
                "message_id": 5,
                "date": int(time.time()),
                "chat": {"id": USER, "type": "private", "first_name": "A"},
                "from": {"id": USER, "is_bot": False, "first_name": "A"},
                "text": QUESTIONS[0][0],
            },
        }
        url = f"http://127.0.0.1:{port}/hook"
        deadline = time.monotonic() + 10
        while True:  # the webhook server comes up right after setWebhook
            try:
                bad = httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "falsch"})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        good = httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret})
        assert (bad.status_code, good.status_code) == (403, 200)
        api.wait(lambda: api.texts(USER), timeout=15, what="the answer")
        assert QUESTIONS[0][1] in api.texts(USER)[0] and len(api.texts(USER)) == 1
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert secret not in out + err and TOKEN.split(":")[1] not in out + err


def test_webhook_mode_without_secret_exits_2(world, monkeypatch, capsys):
    config = world[0].model_copy(
        update={"telegram": world[0].telegram.model_copy(update={"mode": "webhook"})}
    )
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    assert run(config) == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_WEBHOOK_SECRET" in err and TOKEN not in err


async def test_token_never_in_logs(world, api, config, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "telegram", "regiobot"):
        caplog.set_level(logging.DEBUG, logger=name)

    class Exploding:
        def __init__(self, engine):
            self._engine = engine

        def __getattr__(self, name):
            return getattr(self._engine, name)

        def ask(self, question, today=None):
            raise RuntimeError(f"Fehler mit {TOKEN} im Text")

    app = build_application(config, Exploding(world[1]), TOKEN)
    async with running(app):
        api.fail("sendMessage", "500")
        api.fail("getUpdates", "json")
        api.message("Frage")
        (text,) = await api.replies(USER, timeout=15)
    assert "Entschuldigung" in text
    secret_part = TOKEN.split(":")[1]
    assert caplog.records
    assert secret_part not in caplog.text
    for record in caplog.records:
        assert secret_part not in record.getMessage()
    assert "<geheim>" in caplog.text  # the exception text was redacted, not dropped


def test_rejected_token_subprocess_exits_2_without_token_in_output(tmp_path):
    with FakeBotAPI(token="987654321:AAHanotherTokenForTests_abcdefghijk") as api:
        root = tmp_path / "run"
        write_knowledge(root / "knowledge")
        (root / "config.yaml").write_text(config_yaml(root, api.base_url))
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,  # the server knows another token → 401
            "REGIOBOT_CONFIG": str(root / "config.yaml"),
            "PYTHONPATH": str(ROOT),
        }
        env.pop("TELEGRAM_API_BASE_URL", None)
        proc = subprocess.run(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2, proc.stderr
    assert "abgelehnt" in proc.stderr
    output = proc.stdout + proc.stderr
    assert TOKEN.split(":")[1] not in output and "Traceback" not in output


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
