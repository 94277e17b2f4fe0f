"""Bot throughput: the real python-telegram-bot Application against the fake Bot API server.

`bot.telegram.build_application` with the real Engine (shipped knowledge, default encoder) runs
in this process with long polling against `tests/fake_bot_api.FakeBotAPI` on 127.0.0.1 (its own
thread and event loop), using the helpers `running` and `config_for` from tests/fake_bot_api.py – the
same setup as the load test in tests/test_telegram_faults.py.

Scenarios (100 simulated users = 100 private chats, questions cycled from the dev questions):
- burst: 1,000 updates queued at once; answered messages per second from the first update to the
  last sendMessage, and the latency from queuing an update to the matching sendMessage arriving at the
  server (p50/p95/p99; in a burst this is mostly waiting in the queue);
- paced: 30 updates per second (Telegram's own per-bot limit) for 10 s: latency without a backlog;
- throttled: the burst again with the shipped send throttle `telegram.max_messages_per_second: 30`
  (the other scenarios switch it off to measure the bot itself).
The application is exactly the shipped `build_application` (its connection pool of 8, `sniffio` as a
dependency); only the config is adapted (fake server URL, rate limit lifted, throttle per scenario).
Replies in one chat are strictly ordered (ChatOrderedUpdateProcessor), so the k-th sendMessage to a
chat answers the k-th question of that chat; every answer is checked to be a single message.

    python benchmarks/throughput.py [--quick] [--json OUT]
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import resource
import time

from common import (
    TODAY,
    cli,
    copy_knowledge,
    dev_cases,
    load_config,
    percentiles,
    say,
    target_line,
    workspace,
)
from fake_bot_api import TOKEN, FakeBotAPI, config_for, running


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def scenario(engine, config, data_dir, questions, users, per_user, rate=None, **telegram) -> dict:
    from bot.telegram import build_application

    with FakeBotAPI() as api:
        cfg = config_for(config, api, data_dir, rate_limit_messages=10_000, request_timeout=10, **telegram)
        app = build_application(cfg, engine, TOKEN)
        async with running(app):
            warm = 900_000  # one warm-up chat: first-call costs (HTTP pool, SQLite, caches) not counted
            for q in questions[:5]:
                api.message(q, chat_id=warm)
            await api.await_(lambda: len(api.sent(warm)) >= 5, timeout=60, what="warm-up")
            enqueued: dict[int, list[float]] = {u: [] for u in users}
            total = len(users) * per_user
            cpu0, started = _cpu(), time.time()
            k = 0
            for round_ in range(per_user):
                for user in users:
                    enqueued[user].append(time.time())
                    api.message(questions[(user * 7 + round_) % len(questions)], chat_id=user)
                    k += 1
                    if rate:
                        await asyncio.sleep(max(0.0, started + k / rate - time.time()))

            wanted = set(users)

            def done() -> bool:  # one pass over the sent messages: the check must not slow the bot
                return sum(m["chat"]["id"] in wanted for m in api.sent()) >= total

            await api.await_(done, timeout=600, what=f"{total} answers")
            cpu = _cpu() - cpu0
            sends = {
                u: sorted(c.at for c in api.calls_to("sendMessage") if int(c.params["chat_id"]) == u)
                for u in users
            }
        latencies, mismatched = [], 0
        for user in users:
            if len(sends[user]) != per_user:
                mismatched += 1
            latencies += [s - e for s, e in zip(sends[user], enqueued[user], strict=False)]
        last = max(max(s) for s in sends.values() if s)
        wall = last - started
        return {
            "updates": total,
            "users": len(users),
            "answered": sum(len(s) for s in sends.values()),
            "chats_with_other_than_one_message_per_question": mismatched,
            "seconds": round(wall, 2),
            "messages_per_s": round(total / wall, 1),
            "cpu_seconds": round(cpu, 2),
            "cpu_cores_used": round(cpu / wall, 2),
            "offered_rate_per_s": rate,
            **percentiles(latencies, "latency_"),
        }


async def main_async(engine, config, root, quick: bool) -> dict:
    questions = [c.question for c in dev_cases()]
    users = list(range(10_000, 10_100))
    out = {}
    say("[throughput] Burst: 1.000 Updates von 100 Nutzern …")
    out["burst"] = await scenario(
        engine, config, root / "d1", questions, users, 10, max_messages_per_second=0
    )
    say("[throughput] gleichmäßig 30/s …")
    paced_users = list(range(20_000, 20_100))
    out["paced"] = await scenario(
        engine,
        config,
        root / "d2",
        questions,
        paced_users,
        2 if quick else 3,
        rate=30,
        max_messages_per_second=0,
    )
    say("[throughput] Burst mit ausgelieferter Drossel (30/s) …")
    throttled_users = list(range(30_000, 30_100))
    out["throttled"] = await scenario(
        engine, config, root / "d3", questions, throttled_users, 2 if quick else 3, max_messages_per_second=30
    )
    return out


def run(quick: bool) -> dict:
    from bot.answer import Engine

    config = load_config(today=TODAY)
    with workspace("throughput") as root:
        knowledge = copy_knowledge(root / "knowledge")
        engine = Engine.load(config, knowledge_dir=knowledge, index_dir=root / "index")
        result = asyncio.run(main_async(engine, config, root, quick))
    result["cores"] = os.cpu_count()
    result["sniffio_installed"] = importlib.util.find_spec("sniffio") is not None
    result["encoder"] = engine.encoder.name
    return result


def describe(r: dict) -> None:
    names = {
        "burst": "Burst, ohne Drossel",
        "paced": "gleichmäßig 30/s, ohne Drossel",
        "throttled": "Burst, Drossel 30/s (ausgeliefert)",
    }
    say("\nBot-Durchsatz (PTB-Application + Engine im Prozess, Fake-Bot-API auf 127.0.0.1)")
    for key, label in names.items():
        s = r[key]
        say(
            f"  {label}: {s['updates']} Updates von {s['users']} Nutzern in {s['seconds']:.1f} s → "
            f"{s['messages_per_s']:.0f} Antworten/s; Latenz p50 {s['latency_p50_ms']:.0f} ms · p95 "
            f"{s['latency_p95_ms']:.0f} · p99 {s['latency_p99_ms']:.0f} ms; CPU {s['cpu_cores_used']:.2f} Kerne"
            + (
                f"; {s['chats_with_other_than_one_message_per_question']} Chats mit Mehrteilern"
                if s["chats_with_other_than_one_message_per_question"]
                else ""
            )
        )
    say(target_line("Durchsatz (Burst, ohne Drossel)", r["burst"]["messages_per_s"], 100, "ge", "/s"))


if __name__ == "__main__":
    cli("throughput", run, describe)
