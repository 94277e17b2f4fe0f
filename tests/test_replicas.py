"""Two `regiobot run` replicas in webhook mode sharing a real PostgreSQL and one index, against the fake Bot
API: updates posted alternately to both are each answered once; one replica killed with SIGKILL → the other
keeps answering and delivers what the dead one left in the outbox; a /reload on one replica is served by the
other within seconds; a subscribers' round run by both at once queues each reminder once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
import yaml
from fake_bot_api import TOKEN, FakeBotAPI, config_yaml, make_world, write_knowledge

from bot.answer import Engine
from bot.config import load_config
from bot.notices import CALLS, topic_key
from bot.telegram.mailbox import Mailbox
from bot.telegram.notifier import Notifier

pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.slow,  # subprocesses, a database server and a takeover after replica_seconds
]
ROOT = Path(__file__).resolve().parents[1]
SECRET = "replikat-geheimnis_123"
SALT = "gemeinsames-salz-fuer-beide"
API: list[FakeBotAPI] = []  # the running fake server, for `message`
BERLIN = ZoneInfo("Europe/Berlin")
QUESTION, MARKER = "Wo ist die Geschäftsstelle des Regionalforums?", "Hansering 15"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Replica:
    """One `regiobot run` process with its own config file (webhook port) on the shared folders."""

    def __init__(self, root: Path, name: str, api: FakeBotAPI, url: str):
        self.port = _free_port()
        settings = yaml.safe_load(
            config_yaml(
                root,
                api.base_url,
                admin_ids=(4242,),
                mode="webhook",
                webhook={
                    "listen": "127.0.0.1",
                    "port": self.port,
                    "path": "hook",
                    "url": "https://b.example/hook",
                },
            )
        )
        settings["store"] = {"replica_seconds": 3}
        self.config = root / f"{name}.yaml"
        self.config.write_text(yaml.safe_dump(settings, allow_unicode=True))
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "REGIOBOT_CONFIG": str(self.config),
            "REGIOBOT_STORE_URL": url,
            "REGIOBOT_SALT": SALT,
            "PYTHONPATH": str(ROOT),
            "HF_HUB_OFFLINE": "1",
        }
        env.pop("TELEGRAM_API_BASE_URL", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(root / f"{name}.log", "w"),  # noqa: SIM115 - closed with the process
        )
        self.log = root / f"{name}.log"

    def post(self, update: dict) -> int:
        deadline = time.monotonic() + 30
        while True:  # the webhook server comes up after the engine has loaded
            try:
                response = httpx.post(
                    f"http://127.0.0.1:{self.port}/hook",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                    timeout=10,
                )
                return response.status_code
            except httpx.TransportError:
                assert self.proc.poll() is None, self.log.read_text()
                assert time.monotonic() < deadline, "webhook did not come up"
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def message(update_id: int, chat_id: int, text: str = QUESTION) -> dict:
    """An update as Telegram posts it to a webhook (the fake API learns the chat from its own queue first)."""
    API[0].message("registers the chat", chat_id=chat_id)  # queued, never fetched: webhook mode does not poll
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "A"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "A"},
            "text": text,
            **(
                {"entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}
                if text[0] == "/"
                else {}
            ),
        },
    }


@pytest.fixture
def cluster(tmp_path: Path, encoder, postgres_url: str):
    root = tmp_path / "shared"
    write_knowledge(root / "knowledge")
    with FakeBotAPI() as api:
        API[:] = [api]
        (root / "build.yaml").write_text(config_yaml(root, api.base_url))
        Engine.load(load_config(root / "build.yaml"), encoder=encoder)  # the shared index, built once
        replicas = [Replica(root, "a", api, postgres_url), Replica(root, "b", api, postgres_url)]
        try:
            api.wait(lambda: len(api.calls_to("setWebhook")) >= 2, timeout=60, what="both replicas up")
            yield api, replicas, root
        finally:
            for r in replicas:
                r.stop()


def test_two_replicas_answer_each_update_once_and_survive_a_kill(cluster):
    api, (a, b), _ = cluster
    chats = list(range(5001, 5011))
    for i, chat in enumerate(chats):
        assert (a if i % 2 else b).post(message(100 + i, chat)) == 200
    assert (a.post(message(100, chats[0])), b.post(message(101, chats[1]))) == (200, 200)  # replays
    api.wait(lambda: all(api.texts(c) for c in chats), timeout=40, what="all answered")
    time.sleep(1.0)
    assert all(len(api.texts(c)) == 1 and MARKER in api.texts(c)[0] for c in chats), api.summary()

    # replica a takes a question but Telegram is down; a is killed before it could deliver
    api.fail_for("sendMessage", "500", seconds=6)
    assert a.post(message(200, 6001)) == 200
    api.wait(
        lambda: any(c.method == "sendMessage" and not c.ok for c in api.calls),
        timeout=20,
        what="a failed send",
    )
    a.proc.kill()
    a.proc.wait()
    assert b.post(message(201, 6002)) == 200  # b keeps answering
    api.wait(lambda: api.texts(6002), timeout=30, what="b's answer")
    api.wait(lambda: api.texts(6001), timeout=40, what="a's answer, delivered by b")
    time.sleep(1.5)
    assert len(api.texts(6001)) == 1 and len(api.texts(6002)) == 1
    assert MARKER in api.texts(6001)[0]


def test_a_reload_on_one_replica_is_served_by_the_other(cluster):
    api, (a, b), root = cluster
    (root / "knowledge" / "neu.yaml").write_text(
        """\
entries:
  - id: wasserstoff-netzwerk
    type: info
    title: "Wasserstoff-Netzwerk Saalekreis"
    text: Das Wasserstoff-Netzwerk Saalekreis trifft sich jeden ersten Dienstag im Monat in Merseburg.
    source: {document: "Testquelle Wasserstoff"}
    updated: 2024-03-01
""",
        encoding="utf-8",
    )
    assert a.post(message(300, 4242, "/reload")) == 200
    (done,) = api.wait(lambda: api.texts(4242), timeout=90, what="the reload's reply")
    assert "Einträge" in done, done
    time.sleep(3.0)  # the other replica checks the shared index every replica_seconds / 4
    assert b.post(message(301, 7001, "Wann trifft sich das Wasserstoff-Netzwerk Saalekreis?")) == 200
    (answer,) = api.wait(lambda: api.texts(7001), timeout=30, what="b's answer")
    assert "Merseburg" in answer


def test_a_round_run_by_two_replicas_at_once_queues_each_reminder_once(tmp_path, encoder, postgres_url):
    config, engine = make_world(tmp_path / "world", encoder)
    day = date(2024, 4, 23)  # the test call closes 30.04.2024: a reminder 7 days before
    boxes = [Mailbox(None, url=postgres_url) for _ in range(2)]
    try:
        for chat in range(8001, 8021):
            boxes[0].subscribe(chat, topic_key(CALLS), "Förderaufrufe")
        notifiers = [
            Notifier(
                box, engine, config.notices, lambda: day, lambda: datetime(2024, 4, 23, 10, tzinfo=BERLIN)
            )
            for box in boxes
        ]
        queued: list[int] = []
        start = threading.Barrier(2)

        def run(n: Notifier) -> None:
            start.wait()
            for _ in range(3):
                queued.append(n.round())

        threads = [threading.Thread(target=run, args=(n,)) for n in notifiers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with psycopg.connect(postgres_url) as conn:
            per_chat = dict(conn.execute("SELECT chat_id, COUNT(*) FROM outbox GROUP BY chat_id").fetchall())
        assert sum(queued) == 20 and per_chat == {chat: 1 for chat in range(8001, 8021)}
    finally:
        for box in boxes:
            box.close()
