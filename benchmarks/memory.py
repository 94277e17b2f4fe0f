"""Resident memory of the running bot (`regiobot run`) with the default encoder.

The bot runs as its own process – exactly `python -m bot run` with the shipped config.yaml except the
paths (a copy of the shipped knowledge, a temp index and data folder) and the Telegram settings
(`TELEGRAM_API_BASE_URL` pointing at the fake Bot API server in this process, rate limit lifted, send
throttle off). The index is built beforehand, so the bot only loads it. Memory is read from
/proc/<pid>/status: VmRSS once the bot polls (after load), after answering 1,000 questions from 100
users, and (full run) after a second 1,000, to show it stays flat; VmHWM is the peak. The answered
messages per second of this separate process are reported as a second throughput figure.

    python benchmarks/memory.py [--quick] [--json OUT]
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import yaml
from common import (
    CONFIG,
    ROOT,
    TODAY,
    cli,
    copy_knowledge,
    dev_cases,
    load_config,
    rss_mb,
    say,
    target_line,
    workspace,
)
from fake_bot_api import TOKEN, FakeBotAPI


def _config_file(root, api_url: str):
    raw = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    raw.update(
        knowledge_dir=str(root / "knowledge"),
        index_dir=str(root / "index"),
        data_dir=str(root / "data"),
        today=TODAY.isoformat(),
    )
    raw["telegram"].update(
        base_url=api_url, rate_limit_messages=10_000, max_messages_per_second=0, request_timeout=10
    )
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _batch(api: FakeBotAPI, questions: list[str], users: range, per_user: int, offset: int) -> dict:
    wanted = set(users)
    before = sum(m["chat"]["id"] in wanted for m in api.sent())
    total = len(users) * per_user
    started = time.time()
    for round_ in range(per_user):
        for user in users:
            api.message(questions[(user + round_ + offset) % len(questions)], chat_id=user)
    api.wait(
        lambda: sum(m["chat"]["id"] in wanted for m in api.sent()) >= before + total,
        timeout=600,
        what="answers",
    )
    last = max(c.at for c in api.calls_to("sendMessage"))
    return {
        "questions": total,
        "seconds": round(last - started, 2),
        "messages_per_s": round(total / (last - started), 1),
    }


def run(quick: bool) -> dict:
    from bot.embedding import load_encoder
    from bot.index import build_index

    config = load_config()
    questions = [c.question for c in dev_cases()]
    with workspace("memory") as root:
        copy_knowledge(root / "knowledge")
        build_index(
            config, load_encoder(config.embedding), knowledge_dir=root / "knowledge", index_dir=root / "index"
        )
        with FakeBotAPI() as api:
            cfg = _config_file(root, api.base_url)
            env = {
                **os.environ,
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": api.base_url,
                "REGIOBOT_CONFIG": str(cfg),
                "PYTHONPATH": str(ROOT),
            }
            log = open(root / "bot.log", "w")  # noqa: SIM115 - closed below
            started = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=log, stderr=log
            )
            try:
                api.wait(lambda: api.calls_to("getUpdates"), timeout=120, what="bot polling")
                ready_seconds = time.perf_counter() - started
                time.sleep(2)
                after_load = rss_mb(proc.pid)
                users = range(50_000, 50_100)
                say("[memory] 1.000 Fragen …")
                first = _batch(api, questions, users, 10, 0)
                time.sleep(1)
                after_1000 = rss_mb(proc.pid)
                second = after_2000 = None
                if not quick:
                    say("[memory] weitere 1.000 Fragen …")
                    second = _batch(api, questions, users, 10, 3)
                    time.sleep(1)
                    after_2000 = rss_mb(proc.pid)
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                log.close()
            if proc.returncode not in (0, -signal.SIGTERM):
                say((root / "bot.log").read_text()[-3000:])
    return {
        "encoder": config.embedding.backend,
        "ready_seconds": round(ready_seconds, 2),
        "rss_after_load_mb": after_load["rss_mb"],
        "rss_after_questions_mb": after_1000["rss_mb"],
        "rss_after_2000_mb": after_2000["rss_mb"] if after_2000 else None,
        "peak_rss_mb": (after_2000 or after_1000)["peak_rss_mb"],
        "batch_1000": first,
        "batch_2000": second,
        "exit_code": proc.returncode,
    }


def describe(r: dict) -> None:
    say(f"\nSpeicher des laufenden Bots (`regiobot run`, Encoder {r['encoder']})")
    say(f"  bereit (pollt) nach {r['ready_seconds']:.1f} s; RSS nach Laden {r['rss_after_load_mb']:.0f} MB")
    say(
        f"  RSS nach 1.000 Fragen {r['rss_after_questions_mb']:.0f} MB"
        + (f", nach 2.000 {r['rss_after_2000_mb']:.0f} MB" if r["rss_after_2000_mb"] else "")
        + f"; Spitze {r['peak_rss_mb']:.0f} MB"
    )
    say(
        f"  Durchsatz als eigener Prozess: {r['batch_1000']['messages_per_s']:.0f} Antworten/s (1.000 Fragen in {r['batch_1000']['seconds']:.1f} s)"
    )
    say(target_line("Bot-RSS nach 1.000 Fragen", r["rss_after_questions_mb"], 600, "le", "MB"))


if __name__ == "__main__":
    cli("memory", run, describe)
