"""Several replicas: two `regiobot run` processes on PostgreSQL next to one process on SQLite.

Each setup runs as real `regiobot run` subprocesses in webhook mode against `tests/fake_bot_api.FakeBotAPI`
(127.0.0.1), on the shipped knowledge with the default encoder and one index built beforehand:
- sqlite: one process, SQLite stores in its data folder (the default);
- postgresql: two replicas sharing a PostgreSQL server started for the run (tests/postgres.py: Debian's
  `postgresql` binaries, a cluster in a temporary folder) and the one index.

Load: updates posted to the webhooks at Telegram's own per-bot rate of 30 per second for 60 s (`--quick`:
15 s), alternately to the replicas, every update from a new private chat; the example questions of the
knowledge are cycled. Reported per setup: answers that arrived (each must arrive exactly once), latency from
posting an update to its sendMessage reaching the server (p50/p99), and CPU time of the bot processes per
answer (user + system from /proc, after a warm-up). The server and the load generator share the machine's
cores with the bots, so the figures are an upper bound for the bots' own cost.

    python benchmarks/replicas.py [--quick] [--json OUT]
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml
from common import ROOT, TODAY, add_paths, cli, copy_knowledge, load_config, percentiles, say, workspace

add_paths()
from fake_bot_api import TOKEN, FakeBotAPI  # noqa: E402
from postgres import Server  # noqa: E402

SECRET = "benchmark-webhook-secret"
RATE = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


class Bot:
    """One `regiobot run` process in webhook mode."""

    def __init__(self, root: Path, name: str, api: FakeBotAPI, env: dict[str, str]):
        self.port = _free_port()
        settings = {
            "knowledge_dir": str(root / "knowledge"),
            "index_dir": str(root / "index"),
            "data_dir": str(root / f"data-{name}"),
            "today": TODAY.isoformat(),
            "service": {"port": 0},
            "telegram": {
                "base_url": api.base_url,
                "mode": "webhook",
                "rate_limit_messages": 100_000,
                "max_messages_per_second": 0,
                "request_timeout": 10,
                "webhook": {
                    "listen": "127.0.0.1",
                    "port": self.port,
                    "path": "hook",
                    "url": "https://b.example/hook",
                },
            },
        }
        path = root / f"{name}.yaml"
        path.write_text(yaml.safe_dump(settings, allow_unicode=True))
        self.log = open(root / f"{name}.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env={
                **os.environ,
                **env,
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_WEBHOOK_SECRET": SECRET,
                "REGIOBOT_CONFIG": str(path),
                "PYTHONPATH": str(ROOT),
                "HF_HUB_OFFLINE": "1",
            },
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def cpu(self) -> float:
        return _cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _update(update_id: int, chat_id: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "B"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "B"},
            "text": text,
        },
    }


def _load(api: FakeBotAPI, bots: list[Bot], questions: list[str], seconds: float, first: int) -> dict:
    """Post at RATE per second for `seconds`; latency of each update to its chat's first sendMessage."""
    import httpx

    count = int(RATE * seconds)
    chats = list(range(first, first + count))
    for chat in chats:
        api.message("registriert den Chat", chat_id=chat)  # the fake server knows the chat; never fetched
    posted: dict[int, float] = {}
    clients = [httpx.Client(timeout=30) for _ in bots]
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    errors = 0
    start = time.monotonic()
    for i, (chat, question) in enumerate(zip(chats, itertools.cycle(questions), strict=False)):
        delay = start + i / RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        posted[chat] = time.time()
        response = clients[i % len(bots)].post(
            bots[i % len(bots)].url, json=_update(first + i, chat, question), headers=headers
        )
        errors += response.status_code != 200
    api.wait(lambda: all(api.sent(c) for c in chats), timeout=120, what="all answers")
    time.sleep(1.0)
    for client in clients:
        client.close()
    sends: dict[int, list[float]] = {}
    for c in list(api.calls):
        if c.method == "sendMessage" and c.ok:
            sends.setdefault(int(c.params.get("chat_id", 0)), []).append(c.at)
    latencies, duplicates = [], 0
    for chat in chats:
        duplicates += len(sends[chat]) > 1
        latencies.append(min(sends[chat]) - posted[chat])
    return {
        "posted": count,
        "answered": count - sum(not api.sent(c) for c in chats),
        "duplicates": duplicates,
        "http_errors": errors,
        **percentiles(latencies),
    }


def _setup(
    name: str, root: Path, api: FakeBotAPI, questions: list[str], seconds: float, env: dict, n: int
) -> dict:
    bots = [Bot(root, f"{name}-{i}", api, env) for i in range(n)]
    try:
        api.wait(lambda: len(api.calls_to("setWebhook")) >= n, timeout=120, what="bots up")
        import httpx

        for bot in bots:  # the webhook server comes up right after setWebhook
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    httpx.get(bot.url, timeout=2)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
        _load(api, bots, questions, 2.0, 10_000_000)  # warm-up: first requests, connections, caches
        cpu_before = sum(b.cpu() for b in bots)
        result = _load(api, bots, questions, seconds, 20_000_000)
        cpu = sum(b.cpu() for b in bots) - cpu_before
        result["cpu_ms_per_answer"] = round(1000 * cpu / max(1, result["answered"]), 2)
        result["replicas"] = n
        return result
    finally:
        for bot in bots:
            bot.stop()


def run(quick: bool) -> dict:
    from bot.answer import Engine

    seconds = 15.0 if quick else 60.0
    results: dict = {"rate_per_second": RATE, "seconds": seconds}
    with workspace("replicas") as root:
        copy_knowledge(root / "knowledge")
        config = load_config(knowledge_dir=root / "knowledge", index_dir=root / "index")
        engine = Engine.load(config)
        questions = [q for e in engine.entries() for q in e.questions][:200] or [
            "Wer leitet das Regionalforum?"
        ]
        del engine
        say(f"{len(questions)} Beispielfragen, {RATE:.0f} Updates/s für {seconds:.0f} s je Aufbau")
        with FakeBotAPI() as api:
            say("SQLite, ein Prozess …")
            results["sqlite"] = _setup("sqlite", root, api, questions, seconds, {}, 1)
        server = Server()
        try:
            url = server.create("regiobot_bench")
            with FakeBotAPI() as api:
                say("PostgreSQL, zwei Replikate …")
                env = {"REGIOBOT_STORE_URL": url, "REGIOBOT_SALT": "benchmark-salt"}
                results["postgresql"] = _setup("postgresql", root, api, questions, seconds, env, 2)
        finally:
            server.stop()
    return results


def describe(result: dict) -> None:
    say(
        f"\n{result['rate_per_second']:.0f} Updates/s für {result['seconds']:.0f} s, Webhook, je Update ein neuer Chat"
    )
    say("| Aufbau | Prozesse | beantwortet | doppelt | p50 ms | p99 ms | CPU ms/Antwort |")
    say("|---|---|---|---|---|---|---|")
    for name in ("sqlite", "postgresql"):
        r = result[name]
        say(
            f"| {name} | {r['replicas']} | {r['answered']}/{r['posted']} | {r['duplicates']} | {r['p50_ms']} | "
            f"{r['p99_ms']} | {r['cpu_ms_per_answer']} |"
        )


if __name__ == "__main__":
    cli("replicas", run, describe)
