"""Nothing lost, nothing twice: Bot API outages and slow answers, a busy group, restarts and kill -9 – against the
fake Bot API with time-based faults. Each question is asked by its own person, so every answer can be counted."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from fake_bot_api import (
    NEW_ENTRY,
    TOKEN,
    FakeBotAPI,
    config_for,
    config_yaml,
    make_world,
    running,
    settle,
    write_knowledge,
)

from bot.telegram import build_application
from bot.telegram.mailbox import Mailbox

pytestmark = [pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"), pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
QUESTION, MARKER = "Wo ist die Geschäftsstelle des Regionalforums?", "Hansering 15"
PEOPLE = range(50_000, 50_025)


@pytest.fixture(scope="module")
def world(tmp_path_factory, encoder):
    return make_world(tmp_path_factory.mktemp("reliability"), encoder)


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


def answered(api: FakeBotAPI) -> Counter[int]:
    """How often each person got the answer."""
    return Counter(m["chat"]["id"] for m in api.sent() if MARKER in m["_raw_text"])


def apologies(api: FakeBotAPI) -> int:
    return sum("Entschuldigung" in m["_raw_text"] for m in api.sent())


@pytest.mark.parametrize("kind", ["500", "json", "reset"])
async def test_outage_longer_than_the_immediate_retries_loses_nothing(world, api, tmp_path, kind):
    config = config_for(world[0], api, tmp_path / "data", request_timeout=1.0, max_retries=2)
    app = build_application(config, world[1], TOKEN)
    async with running(app):
        api.fail_for("sendMessage", kind, seconds=6)
        for person in PEOPLE:
            api.message(QUESTION, chat_id=person)
        await api.await_(lambda: len(answered(api)) == len(PEOPLE), timeout=60, what="every answer")
        await settle(app, api)
    assert all(n == 1 for n in answered(api).values()), answered(api)
    assert apologies(api) == 0


async def test_long_429_is_waited_out(world, api, tmp_path):
    config = config_for(world[0], api, tmp_path / "data", request_timeout=1.0, max_retries=1)
    app = build_application(config, world[1], TOKEN)
    async with running(app):
        api.fail_for("sendMessage", "429", seconds=6, retry_after=2)
        for person in PEOPLE:
            api.message(QUESTION, chat_id=person)
        await api.await_(lambda: len(answered(api)) == len(PEOPLE), timeout=60, what="every answer")
        await settle(app, api)
    assert all(n == 1 for n in answered(api).values()), answered(api)


async def test_answers_slower_than_the_request_timeout_are_not_sent_twice(world, api, tmp_path):
    config = config_for(world[0], api, tmp_path / "data", request_timeout=1.0, send_timeout=10.0)
    app = build_application(config, world[1], TOKEN)
    async with running(app):
        api.fail_for("sendMessage", "delay", seconds=5, delay=2.5)
        for person in PEOPLE:
            api.message(QUESTION, chat_id=person)
        await api.await_(lambda: len(answered(api)) == len(PEOPLE), timeout=60, what="every answer")
        await settle(app, api)
    assert all(n == 1 for n in answered(api).values()), answered(api)


async def test_a_busy_group_stalls_no_private_chat_and_stop_leaves_its_backlog_in_the_inbox(
    world, api, tmp_path
):
    config = config_for(world[0], api, tmp_path / "data", rate_limit_messages=1000)
    app = build_application(config, world[1], TOKEN)
    async with running(app):
        for i in range(100):  # Telegram allows 20 messages a minute in a group: a backlog of minutes
            api.message("/termine", chat_id=-500, chat_type="group", user_id=60_000 + i % 20)
        await api.await_(lambda: len(api.sent(-500)) >= 5, timeout=30, what="the group's first answers")
        api.message(QUESTION, chat_id=7)
        await api.await_(lambda: answered(api)[7] == 1, timeout=30, what="the private answer")
        assert len(api.sent(-500)) < 100
    left = Mailbox(tmp_path / "data").unfinished()  # the stop did not wait for the backlog
    assert 0 < len(left) < 100 and all(u["message"]["chat"]["id"] == -500 for u in left)


async def test_undelivered_answers_are_sent_after_a_restart(world, api, tmp_path):
    config = config_for(world[0], api, tmp_path / "data", request_timeout=1.0, max_retries=0)
    api.fail_for("sendMessage", "500", seconds=3600)
    first = build_application(config, world[1], TOKEN)
    async with running(first):
        for person in PEOPLE[:5]:
            api.message(QUESTION, chat_id=person)
        await api.await_(
            lambda: Mailbox(tmp_path / "data").counts()[1] == 5, timeout=30, what="5 in the outbox"
        )
    assert not answered(api)
    api._faults.clear()
    second = build_application(config, world[1], TOKEN)
    async with running(second):
        await api.await_(lambda: len(answered(api)) == 5, timeout=30, what="the answers after the restart")
        await settle(second, api)
    assert all(n == 1 for n in answered(api).values())


def test_kill_9_loses_no_question(tmp_path, api):
    root = tmp_path / "run"
    write_knowledge(root / "knowledge")
    (root / "config.yaml").write_text(config_yaml(root, "http://127.0.0.1:9/wrong"))
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "REGIOBOT_CONFIG": str(root / "config.yaml"),
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
    }

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    people = range(70_000, 70_030)
    api.fail_for("sendMessage", "delay", seconds=3600, delay=0.3)  # answers in flight when the process dies
    proc = start()
    try:
        for person in people:
            api.message(QUESTION, chat_id=person)
        api.wait(lambda: len(answered(api)) >= 5 or proc.poll() is not None, timeout=60, what="5 answers")
        assert proc.poll() is None, proc.communicate()[1]
        killed_at = time.time()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert len(answered(api)) < len(people), "all answered before the kill: the test proves nothing"
        api._faults.clear()
        proc = start()
        api.wait(lambda: len(answered(api)) == len(people), timeout=90, what="every answer after the restart")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    counts = answered(api)
    assert set(counts) == set(people)
    # a duplicate is only possible for a send in flight at the kill: Telegram had it, the bot never heard back
    first_send = {}
    for call in api.calls:
        if call.method == "sendMessage" and call.ok:
            first_send.setdefault(int(call.params["chat_id"]), call.at)
    twice = [p for p, n in counts.items() if n > 1]
    assert all(killed_at - 2.0 < first_send[p] <= killed_at for p in twice), (twice, killed_at, first_send)


async def test_answers_never_delivered_are_not_counted_as_answered(world, api, tmp_path):
    from bot.store import stats

    config = config_for(
        world[0], api, tmp_path / "data", request_timeout=1.0, max_retries=0, delivery_minutes=0.02
    )
    app = build_application(config, world[1], TOKEN)
    async with running(app):
        api.fail("sendMessage", "403")  # the person blocked the bot: given up at once
        api.message(QUESTION, chat_id=1)
        await settle(app, api)
        api.fail_for("sendMessage", "500", seconds=4)  # longer than delivery_minutes (1.2 s): given up
        api.message(QUESTION, chat_id=2)
        await asyncio.sleep(4.5)
        await api.await_(lambda: Mailbox(tmp_path / "data").counts()[1] == 0, timeout=30, what="the give-up")
        api.message(QUESTION, chat_id=3)
        await api.await_(lambda: answered(api)[3] == 1, timeout=30, what="the third answer")
        await settle(app, api)
    s = stats(config)
    assert (s.questions, s.answered, s.undelivered) == (3, 1, 2)
    assert not answered(api)[1] and not answered(api)[2]


def test_restart_with_changed_knowledge_answers_from_the_last_build_while_building(tmp_path, api, encoder):
    from bot.config import load_config
    from bot.index import build_index

    root = tmp_path / "run"
    write_knowledge(root / "knowledge")
    (root / "config.yaml").write_text(config_yaml(root, "http://127.0.0.1:9/wrong"))
    build_index(load_config(root / "config.yaml"), encoder)
    (root / "knowledge" / "neu.yaml").write_text(NEW_ENTRY, encoding="utf-8")  # changed since the build
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "REGIOBOT_CONFIG": str(root / "config.yaml"),
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        api.message(QUESTION, chat_id=1)
        api.wait(lambda: answered(api)[1] == 1 or proc.poll() is not None, timeout=60, what="the old answer")
        for attempt in range(40):  # the new entry is answered once the background build is in
            api.message("Wie lang wird das Radwegenetz Kyffhäuser erweitert?", chat_id=100 + attempt)
            api.wait(lambda a=attempt: api.texts(100 + a), timeout=30, what="an answer")
            if "120 Kilometer" in api.texts(100 + attempt)[0]:
                break
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert answered(api)[1] == 1
    assert "der letzte Stand antwortet, bis der neue gebaut ist" in err
    assert "120 Kilometer" in api.texts(100 + attempt)[0]
