"""Shared helpers for the benchmark scripts: machine description, percentiles, temp workspaces, RSS.

Every benchmark script is runnable alone (`python benchmarks/<name>.py [--quick] [--json OUT]`) and
exposes `run(quick: bool) -> dict`; `run_all.py` runs each script in its own process and merges the
JSON. Nothing here is a test: the scripts print figures, the targets are only compared and labelled.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
KNOWLEDGE = ROOT / "knowledge"
CONFIG = ROOT / "config.yaml"
EVAL = ROOT.parent / "shared" / "eval"
DEV_QUESTIONS = EVAL / "dev_questions.yaml"
XQUAD = EVAL / "xquad.de.json"
TODAY = date(2024, 3, 1)  # fixed "today" for questions without their own date (like the tests)

# the targets of issue 5, section 1: (key in the flat figures, label, limit, "le" or "ge", unit)
TARGETS = [
    ("latency.warm.p50_ms", "Antwort warm p50 (ausgeliefertes Wissen)", 15.0, "le", "ms"),
    ("latency.warm.p99_ms", "Antwort warm p99 (ausgeliefertes Wissen)", 50.0, "le", "ms"),
    ("scale.largest.flat.ask_p50_ms", "Antwort p50 beim größten Umfang (flat)", 50.0, "le", "ms"),
    ("scale.largest.hnsw.ask_p50_ms", "Antwort p50 beim größten Umfang (HNSW)", 50.0, "le", "ms"),
    ("build.incremental.changed.seconds", "Inkrementeller Neubau, 1 Eintrag geändert", 2.0, "le", "s"),
    ("throughput.burst.messages_per_s", "Bot-Durchsatz (Antworten/s)", 100.0, "ge", "/s"),
    ("memory.rss_after_questions_mb", "Bot-RSS nach 1.000 Fragen", 600.0, "le", "MB"),
]


def add_paths() -> None:
    """The repo root (for `bot`) and tests/ (for `fake_bot_api`) on sys.path."""
    for path in (ROOT, ROOT / "tests"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


add_paths()


# --------------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    versions = {}
    for name in ("numpy", "faiss", "bm25s", "telegram", "torch", "sentence_transformers"):
        try:
            module = __import__(name)
            versions[name] = getattr(module, "__version__", "?")
        except Exception:
            versions[name] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "ram_gb": ram_gb,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions,
    }


# --------------------------------------------------------------------------- numbers


def percentiles(seconds: Iterable[float], prefix: str = "") -> dict[str, float]:
    """p50/p95/p99/mean/max in milliseconds."""
    ms = np.asarray(list(seconds), dtype=float) * 1000
    if not len(ms):
        return {}
    return {
        f"{prefix}p50_ms": round(float(np.percentile(ms, 50)), 2),
        f"{prefix}p95_ms": round(float(np.percentile(ms, 95)), 2),
        f"{prefix}p99_ms": round(float(np.percentile(ms, 99)), 2),
        f"{prefix}mean_ms": round(float(ms.mean()), 2),
        f"{prefix}max_ms": round(float(ms.max()), 2),
        f"{prefix}n": len(ms),
    }


def timed(func: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = func()
    return value, time.perf_counter() - started


def rss_mb(pid: int | str = "self") -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of a process in MB, from /proc/<pid>/status."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": out.get("VmRSS", 0.0), "peak_rss_mb": out.get("VmHWM", 0.0)}


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def verdict(value: float | None, limit: float, op: str) -> str:
    if value is None:
        return "n/a"
    return "PASS" if (value <= limit if op == "le" else value >= limit) else "MISS"


def target_line(label: str, value: float | None, limit: float, op: str, unit: str) -> str:
    sign = "≤" if op == "le" else "≥"
    shown = "–" if value is None else f"{value:.2f}"
    return f"  {verdict(value, limit, op):4}  {label}: {shown} {unit} (Ziel {sign} {limit:g} {unit})"


# --------------------------------------------------------------------------- workspaces


@contextmanager
def workspace(name: str):
    """A temporary folder, removed afterwards (set REGIOBOT_BENCH_KEEP=1 to keep it)."""
    root = Path(tempfile.mkdtemp(prefix=f"regiobot-bench-{name}-"))
    try:
        yield root
    finally:
        if not os.environ.get("REGIOBOT_BENCH_KEEP"):
            shutil.rmtree(root, ignore_errors=True)


def copy_knowledge(dest: Path) -> Path:
    shutil.copytree(KNOWLEDGE, dest)
    return dest


def load_config(**updates: Any):
    """The shipped config.yaml (paths resolved against the repo), optionally with section updates.

    `updates` maps a section name to a dict of field changes, e.g. search={"fusion": "rrf"}; other
    keys replace top-level fields.
    """
    from bot.config import load_config as _load

    config = _load(CONFIG)
    return with_settings(config, **updates)


def with_settings(config, **updates: Any):
    changes = {}
    for key, value in updates.items():
        if isinstance(value, dict):
            changes[key] = getattr(config, key).model_copy(update=value)
        else:
            changes[key] = value
    return config.model_copy(update=changes)


def dev_cases():
    from bot.evaluation import load_cases

    return load_cases(DEV_QUESTIONS)


# --------------------------------------------------------------------------- CLI


def cli(name: str, run: Callable[[bool], dict[str, Any]], describe: Callable[[dict], None] | None = None):
    """`python benchmarks/<name>.py [--quick] [--json OUT]`."""
    parser = argparse.ArgumentParser(description=f"regiobot benchmark: {name}")
    parser.add_argument("--quick", action="store_true", help="kleinere Läufe, weniger Wiederholungen")
    parser.add_argument("--json", type=Path, help="Ergebnis zusätzlich als JSON in diese Datei schreiben")
    args = parser.parse_args()
    started = time.perf_counter()
    result = run(args.quick)
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    if describe:
        describe(result)
    print(f"[{name}] fertig in {result['wall_seconds']:.0f} s", flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str))
    return result


def say(*parts: Any) -> None:
    print(*parts, flush=True)


@contextmanager
def build_phases():
    """Time the phases of `bot.index.build_index` by wrapping its module-level helpers (no profiler overhead).

    Yields a dict that is filled with seconds for: load_knowledge (YAML + schema), reuse (reading the
    previous build's vectors back from its dense.faiss and matching them to entries), embed (encoder),
    faiss (building the dense index), vocabulary (compound vocabulary for BM25 tokens).
    """
    import bot.index as index_module

    names = {
        "load_knowledge": "load_knowledge",
        "_previous_vectors": "reuse",
        "_embed": "embed",
        "_make_dense": "faiss",
        "vocabulary": "vocabulary",
    }
    seconds: dict[str, float] = dict.fromkeys(names.values(), 0.0)
    originals = {name: getattr(index_module, name) for name in names}

    def wrap(name: str, func: Callable) -> Callable:
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                seconds[names[name]] += time.perf_counter() - started

        return timed_call

    for name, func in originals.items():
        setattr(index_module, name, wrap(name, func))
    try:
        yield seconds
    finally:
        for name, func in originals.items():
            setattr(index_module, name, func)
