"""Faults: is every question answered exactly once when the Bot API fails, is slow, or the bot is killed?

The shipped `build_application` with the real Engine (shipped knowledge) runs in this process with long
polling against `tests/fake_bot_api.FakeBotAPI` on 127.0.0.1. In each scenario 25 people ask one question
each while the fault is active; the run waits until every question is answered or `--patience` ends.
Counted at the fake server: questions sent, people answered, answers lost (never arrived), duplicated
(an answer arrived more than once) and apologies sent instead of an answer.

Scenarios (the shipped settings: request_timeout 10 s, send_timeout 30 s, max_retries 5, delivery 10 min):
- outage-500 / outage-json / outage-reset: every sendMessage fails for 20 s (longer than the immediate retries);
- 429-20s: every sendMessage gets 429 with retry_after 5 for 20 s;
- slow-12s: every sendMessage is answered after 12 s (slower than request_timeout) for 20 s;
- kill-9: `regiobot run` as a subprocess is killed with SIGKILL while answers are in flight (sends take
  0.3 s), then started again.

    python benchmarks/faults.py [--quick] [--json OUT]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from common import TODAY, cli, copy_knowledge, load_config, say, workspace
from fake_bot_api import TOKEN, FakeBotAPI, config_for, config_yaml, running

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Wer leitet das Regionalforum Halle?"
MARKER = "Bannert"
PEOPLE = 25


def _count(api: FakeBotAPI, people: range) -> dict[str, int]:
    answers = Counter(m["chat"]["id"] for m in api.sent() if MARKER in m["_raw_text"])
    return {
        "questions": len(people),
        "answered": sum(1 for p in people if answers[p] >= 1),
        "lost": sum(1 for p in people if answers[p] == 0),
        "duplicated": sum(1 for p in people if answers[p] > 1),
        "apologies": sum("Entschuldigung" in m["_raw_text"] for m in api.sent()),
    }


async def in_process(engine, config, data_dir: Path, fault: tuple, seconds: float, patience: float) -> dict:
    from bot.telegram import build_application

    kind, extra = fault
    people = range(40_000, 40_000 + PEOPLE)
    with FakeBotAPI() as api:
        app = build_application(config_for(config, api, data_dir, rate_limit_messages=1000), engine, TOKEN)
        async with running(app):
            api.fail_for("sendMessage", kind, seconds=seconds, **extra)
            started = time.monotonic()
            for person in people:
                api.message(QUESTION, chat_id=person)
            with contextlib.suppress(AssertionError):
                await api.await_(lambda: _count(api, people)["answered"] == PEOPLE, patience, "every answer")
            await asyncio.sleep(2)  # a late duplicate would arrive now
            result = _count(api, people)
            result["seconds_to_last_answer"] = round(time.monotonic() - started, 1)
    return result


def kill_9(root: Path, patience: float) -> dict:
    copy_knowledge(root / "knowledge")
    (root / "config.yaml").write_text(config_yaml(root, "http://127.0.0.1:9/wrong"), encoding="utf-8")
    people = range(41_000, 41_000 + PEOPLE)
    with FakeBotAPI() as api:
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
                [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip

        api.fail_for("sendMessage", "delay", seconds=3600, delay=0.3)
        proc = start()
        try:
            for person in people:
                api.message(QUESTION, chat_id=person)
            api.wait(lambda: _count(api, people)["answered"] >= 5, timeout=120, what="5 answers")
            killed_at = time.time()
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            before = _count(api, people)["answered"]
            api._faults.clear()
            proc = start()
            with contextlib.suppress(AssertionError):
                api.wait(lambda: _count(api, people)["answered"] == PEOPLE, timeout=patience, what="all")
            time.sleep(2)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        result = _count(api, people)
        result["answered_before_kill"] = before
        # sends started within one delay before the kill: Telegram got them, the bot never heard back
        result["in_flight_at_kill"] = sum(
            1 for c in api.calls if c.method == "sendMessage" and killed_at - 0.35 < c.at <= killed_at
        )
    return result


SCENARIOS = {
    "outage-500": (("500", {}), 20),
    "outage-json": (("json", {}), 20),
    "outage-reset": (("reset", {}), 20),
    "429-20s": (("429", {"retry_after": 5}), 20),
    "slow-12s": (("delay", {"delay": 12}), 20),
}


def run(quick: bool) -> dict:
    from bot.answer import Engine

    config = load_config(today=TODAY)
    patience = 120.0
    out: dict = {}
    with workspace("faults") as root:
        knowledge = copy_knowledge(root / "knowledge")
        config = config.model_copy(update={"knowledge_dir": knowledge})
        engine = Engine.load(config, index_dir=root / "index")
        for name, (fault, seconds) in SCENARIOS.items():
            if quick and name not in ("outage-500", "slow-12s"):
                continue
            say(f"[faults] {name} …")
            out[name] = asyncio.run(in_process(engine, config, root / name, fault, seconds, patience))
        say("[faults] kill -9 …")
        out["kill-9"] = kill_9(root / "kill", patience)
    return out


def describe(r: dict) -> None:
    say("\nFehler der Bot-API und Abstürze: 25 Fragen je Fall (gezählt am Fake-Server)")
    say(
        f"  {'Fall':14} {'gestellt':>8} {'beantwortet':>11} {'verloren':>8} {'doppelt':>7} {'Entschuldigung':>14}"
    )
    for name, s in r.items():
        if not isinstance(s, dict):
            continue
        say(
            f"  {name:14} {s['questions']:>8} {s['answered']:>11} {s['lost']:>8} {s['duplicated']:>7} "
            f"{s['apologies']:>14}"
            + (
                f"   (Sendungen im Flug beim Abbruch: {s['in_flight_at_kill']})"
                if "in_flight_at_kill" in s
                else ""
            )
        )


if __name__ == "__main__":
    cli("faults", run, describe)
