"""Answer latency: warm in-process `Engine.ask` (one thread) and cold start of `regiobot ask`.

Warm: the shipped knowledge (copied to a temp folder, own index), the dev questions asked with their
`today`; one warm-up round, then several timed rounds; p50/p95/p99 over all timed answers, plus the
share of the time the query encoder and the retrieval take.

Cold: `regiobot ask "…"` as a subprocess on the already built index, from process start to the first
answer line on stdout (and to process exit), a few repetitions, median. One more subprocess times the
phases of a start (imports, encoder, index, first answer).

    python benchmarks/latency.py [--quick] [--json OUT]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import (
    ROOT,
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

COLD_QUESTION = "Wann ist der nächste Regionaldialog?"

PHASES = r"""
import time, json, sys
t0 = time.perf_counter()
from bot.answer import Engine
from bot.config import load_config
t1 = time.perf_counter()
from bot.embedding import load_encoder
config = load_config(sys.argv[1])
encoder = load_encoder(config.embedding)
t2 = time.perf_counter()
from pathlib import Path
engine = Engine.load(config, knowledge_dir=Path(sys.argv[2]), index_dir=Path(sys.argv[3]), encoder=encoder)
t3 = time.perf_counter()
engine.ask(sys.argv[4])
t4 = time.perf_counter()
print(json.dumps({"imports_s": t1 - t0, "encoder_s": t2 - t1, "index_s": t3 - t2, "first_answer_s": t4 - t3}))
"""


def warm(engine, cases, rounds: int) -> dict:
    for case in cases:  # warm-up: caches, lazy imports, first FAISS call
        engine.ask(case.question, today=case.today or TODAY)
    seconds, per_case = [], {c.id: [] for c in cases}
    for _ in range(rounds):
        for case in cases:
            started = time.perf_counter()
            engine.ask(case.question, today=case.today or TODAY)
            elapsed = time.perf_counter() - started
            seconds.append(elapsed)
            per_case[case.id].append(elapsed)
    steps: dict[str, list[float]] = {"understand": [], "encode": [], "retrieve": []}
    for case in cases:  # each step of `ask` on its own: what every new step costs
        started = time.perf_counter()
        query = engine.understand(case.question)
        steps["understand"].append(time.perf_counter() - started)
        started = time.perf_counter()
        vector = engine.encoder.encode([query.text])
        steps["encode"].append(time.perf_counter() - started)
        started = time.perf_counter()
        engine.retrieve(query.text, query_vector=vector)
        steps["retrieve"].append(time.perf_counter() - started)
    step_p50 = {name: 1000 * statistics.median(values) for name, values in steps.items()}
    total_p50 = 1000 * statistics.median(seconds)
    slowest = sorted(per_case.items(), key=lambda kv: -statistics.median(kv[1]))[:3]
    return {
        **percentiles(seconds),
        "rounds": rounds,
        "questions": len(cases),
        "encode_p50_ms": round(step_p50["encode"], 2),
        "retrieve_p50_ms": round(step_p50["retrieve"], 2),
        "understand_p50_ms": round(step_p50["understand"], 2),
        "decide_and_compose_p50_ms": round(max(0.0, total_p50 - sum(step_p50.values())), 2),
        "slowest": [{"id": k, "median_ms": round(1000 * statistics.median(v), 2)} for k, v in slowest],
    }


def cold(knowledge: Path, index: Path, repetitions: int) -> dict:
    exe = Path(sys.executable).with_name("regiobot")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot"]
    cmd += ["ask", "--knowledge", str(knowledge), "--index", str(index), "--today", TODAY.isoformat()]
    cmd += [COLD_QUESTION]
    env = {**os.environ, "REGIOBOT_CONFIG": str(ROOT / "config.yaml"), "PYTHONUNBUFFERED": "1"}
    first, total = [], []
    for _ in range(repetitions):
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        line = proc.stdout.readline()
        first.append(time.perf_counter() - started)
        _, err = proc.communicate(timeout=120)
        total.append(time.perf_counter() - started)
        if proc.returncode != 0 or not line.strip():
            raise RuntimeError(f"regiobot ask failed ({proc.returncode}): {err[-2000:]}")
    phases = subprocess.run(
        [sys.executable, "-c", PHASES, str(ROOT / "config.yaml"), str(knowledge), str(index), COLD_QUESTION],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        "repetitions": repetitions,
        "first_answer_median_s": round(statistics.median(first), 3),
        "first_answer_min_s": round(min(first), 3),
        "exit_median_s": round(statistics.median(total), 3),
        "all_first_answer_s": [round(x, 3) for x in first],
        "phases_s": {k: round(v, 3) for k, v in json.loads(phases.stdout.strip().splitlines()[-1]).items()},
        "command": "regiobot ask --knowledge … --index … " + f'"{COLD_QUESTION}"',
    }


def run(quick: bool) -> dict:
    from bot.answer import Engine
    from bot.index import build_index

    config = load_config()
    cases = dev_cases()
    with workspace("latency") as root:
        knowledge = copy_knowledge(root / "knowledge")
        index = root / "index"
        say("[latency] Index bauen …")
        engine = Engine.load(config, knowledge_dir=knowledge, index_dir=index)
        build_index(config, engine.encoder, knowledge_dir=knowledge, index_dir=index)  # current: skipped
        say(f"[latency] warm: {len(cases)} Fragen × {2 if quick else 5} Runden …")
        warm_result = warm(engine, cases, rounds=2 if quick else 5)
        say("[latency] Kaltstart `regiobot ask` …")
        cold_result = cold(knowledge, index, repetitions=3 if quick else 5)
    return {
        "entries": len(engine.index.entries),
        "vectors": engine.index.manifest.vectors,
        "encoder": engine.encoder.name,
        "warm": warm_result,
        "cold": cold_result,
    }


def describe(r: dict) -> None:
    w, c = r["warm"], r["cold"]
    say(f"\nAntwortlatenz, warm ({r['entries']} Einträge, {r['vectors']} Vektoren, {r['encoder']}, 1 Thread)")
    say(
        f"  p50 {w['p50_ms']:.2f} ms · p95 {w['p95_ms']:.2f} ms · p99 {w['p99_ms']:.2f} ms · "
        f"max {w['max_ms']:.2f} ms  (n={w['n']})"
    )
    say(
        f"  Schritte (p50): Frage verstehen {w['understand_p50_ms']:.2f} ms, Encoder {w['encode_p50_ms']:.2f} ms, "
        f"Suche {w['retrieve_p50_ms']:.2f} ms, Auswahl/Entscheidung/Text {w['decide_and_compose_p50_ms']:.2f} ms"
    )
    say("  langsamste Fragen: " + ", ".join(f"{s['id']} {s['median_ms']:.1f} ms" for s in w["slowest"]))
    say(target_line("warm p50", w["p50_ms"], 10, "le", "ms"))
    say(target_line("warm p99", w["p99_ms"], 25, "le", "ms"))
    say(
        f"Kaltstart `regiobot ask`: erste Antwort nach {c['first_answer_median_s']:.2f} s (Median von "
        f"{c['repetitions']}), Prozessende {c['exit_median_s']:.2f} s"
    )
    say("  Phasen: " + ", ".join(f"{k} {v:.2f} s" for k, v in c["phases_s"].items()))


if __name__ == "__main__":
    cli("latency", run, describe)
