"""Scale: synthetic knowledge of 1k, 10k, 100k entries, exact FAISS (flat) vs HNSW.

Per size (see synthetic.py for how the knowledge is made):
1. generate the knowledge and 200 queries from the templates;
2. build with `index.kind: flat` (embeds everything: the build time a new deployment pays), with a
   phase breakdown (YAML + schema, encoder, FAISS, rest = BM25, hashing, writing);
3. copy the flat index folder and build it again with `index.kind: hnsw`: all vectors are reused
   (0 embedded; they are read back from the copied `dense.faiss`), only FAISS/BM25 are rebuilt – the
   HNSW build time is that rebuild;
4. for flat and for hnsw, a fresh subprocess loads the engine (`Engine.load`, no rebuild), records the
   resident memory (VmRSS) after load, asks the 200 queries once to warm up and once timed (p50/p95/p99
   of `Engine.ask`), and writes the top-10 entry ids of `Engine.retrieve` and the top-10 vector rows of
   the bare FAISS search per query; then a cProfile of one more pass over the queries;
5. HNSW against exact: mean overlap of the top-10 (hybrid retrieval and bare dense search) and top-1
   agreement; plus how often the entry a query was generated from is first / in the top 10.

    python benchmarks/scale.py [--quick] [--sizes 1000,10000] [--json OUT]

--quick: 1k and 10k only. The encoder runs with the shipped `embedding.threads` (1).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import (
    TODAY,
    build_phases,
    cli,
    dir_size,
    load_config,
    percentiles,
    rss_mb,
    say,
    target_line,
    workspace,
)

SIZES = [1_000, 10_000, 100_000]
QUICK_SIZES = [1_000, 10_000]
N_QUERIES = 200


# --------------------------------------------------------------------------- worker (fresh process)


def worker(kind: str, knowledge: Path, index: Path, queries_path: Path, out: Path) -> None:
    baseline = rss_mb()
    import cProfile
    import pstats

    from bot.answer import Engine

    config = load_config(index={"kind": kind})
    started = time.perf_counter()
    engine = Engine.load(config, knowledge_dir=knowledge, index_dir=index, rebuild=False)
    load_seconds = time.perf_counter() - started
    after_load = rss_mb()
    queries = json.loads(queries_path.read_text())
    for q in queries:  # warm-up
        engine.ask(q["question"], today=TODAY)
    seconds, by_kind, found = [], {}, 0
    for q in queries:
        started = time.perf_counter()
        answer = engine.ask(q["question"], today=TODAY)
        elapsed = time.perf_counter() - started
        seconds.append(elapsed)
        by_kind.setdefault(q["kind"], []).append(elapsed)
        found += answer.found
    retrieve_seconds, top10, dense10 = [], [], []
    for q in queries:
        started = time.perf_counter()
        result = engine.retrieve(q["question"], limit=10)
        retrieve_seconds.append(time.perf_counter() - started)
        top10.append([h.entry.id for h in result.hits])
        _, rows = engine.index.dense.search(engine.encoder.encode([q["question"]]), 10)
        dense10.append([int(r) for r in rows[0]])
    after_queries = rss_mb()
    profiler = cProfile.Profile()
    profiler.enable()
    for q in queries:
        engine.ask(q["question"], today=TODAY)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(tt for (_cc, _nc, tt, _ct, _c) in stats.stats.values())
    rows = []
    for (file, line, name), (_cc, ncalls, tt, ct, _callers) in stats.stats.items():
        short = file.split("/site-packages/")[-1].split("/main/")[-1]
        rows.append(
            {
                "function": f"{short}:{line}({name})",
                "calls": ncalls,
                "own_s": round(tt, 4),
                "cum_s": round(ct, 4),
            }
        )
    profile = {
        "total_s": round(total, 3),
        "by_cumulative": sorted(
            (r for r in rows if r["function"].startswith("bot/")), key=lambda r: -r["cum_s"]
        )[:12],
        "by_own_time": sorted(rows, key=lambda r: -r["own_s"])[:10],
    }
    out.write_text(
        json.dumps(
            {
                "kind": kind,
                "load_seconds": round(load_seconds, 2),
                "rss_baseline_mb": baseline["rss_mb"],
                "rss_after_load_mb": after_load["rss_mb"],
                "rss_after_queries_mb": after_queries["rss_mb"],
                "peak_rss_mb": after_queries["peak_rss_mb"],
                **percentiles(seconds, "ask_"),
                **percentiles(retrieve_seconds, "retrieve_"),
                "ask_p50_by_kind_ms": {k: round(1000 * statistics.median(v), 2) for k, v in by_kind.items()},
                "answered": found,
                "top10": top10,
                "dense10": dense10,
                "profile": profile,
            }
        )
    )


def _run_worker(kind: str, knowledge: Path, index: Path, queries: Path, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, str(knowledge), str(index), str(queries), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"scale worker ({kind}) failed:\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text())


# --------------------------------------------------------------------------- per size


def _sizes(build: Path) -> dict[str, int]:
    out = {}
    for path in build.iterdir():
        out[path.name] = dir_size(path) if path.is_dir() else path.stat().st_size
    return out


def _overlap(a: list[list], b: list[list]) -> float:
    return statistics.mean(len(set(x) & set(y)) / max(1, len(x)) for x, y in zip(a, b, strict=True))


def one_size(n: int, encoder, root: Path) -> dict:
    from synthetic import generate

    from bot.index import build_index, current_build

    say(f"[scale] {n:,} Einträge: erzeugen …")
    knowledge = root / "knowledge"
    gen = generate(n, knowledge, n_queries=N_QUERIES)
    queries = gen.pop("queries")
    queries_path = root / "queries.json"
    queries_path.write_text(json.dumps(queries, ensure_ascii=False))
    result: dict = {"entries": n, "generate": gen}

    say(f"[scale] {n:,}: flat bauen (alles einbetten) …")
    flat_dir, hnsw_dir = root / "flat", root / "hnsw"
    with build_phases() as phases:
        report = build_index(
            load_config(index={"kind": "flat"}), encoder, knowledge_dir=knowledge, index_dir=flat_dir
        )
    build = current_build(flat_dir)
    manifest = json.loads((build / "manifest.json").read_text())
    phases = {k: round(v, 2) for k, v in phases.items()}
    phases["rest"] = round(report.seconds - sum(phases.values()), 2)
    result["flat_build"] = {
        "seconds": round(report.seconds, 2),
        "embedded": report.embedded,
        "vectors": manifest["vectors"],
        "vectors_per_second": round(manifest["vectors"] / phases["embed"], 1) if phases["embed"] else None,
        "phases": phases,
        "index_bytes": dir_size(build),
        "files": _sizes(build),
    }
    say(f"[scale] {n:,}: flat {report.seconds:.1f} s ({manifest['vectors']:,} Vektoren) · Phasen {phases}")

    say(f"[scale] {n:,}: hnsw bauen (Vektoren übernommen) …")
    shutil.copytree(flat_dir, hnsw_dir)
    with build_phases() as phases:
        report = build_index(
            load_config(index={"kind": "hnsw"}), encoder, knowledge_dir=knowledge, index_dir=hnsw_dir
        )
    phases = {k: round(v, 2) for k, v in phases.items()}
    phases["rest"] = round(report.seconds - sum(phases.values()), 2)
    build = current_build(hnsw_dir)
    result["hnsw_build"] = {
        "seconds": round(report.seconds, 2),
        "embedded": report.embedded,
        "reused": report.reused,
        "phases": phases,
        "index_bytes": dir_size(build),
        "files": _sizes(build),
    }
    say(f"[scale] {n:,}: hnsw {report.seconds:.1f} s ({report.embedded} eingebettet) · Phasen {phases}")

    for kind, index in (("flat", flat_dir), ("hnsw", hnsw_dir)):
        say(f"[scale] {n:,}: {kind} abfragen (eigener Prozess) …")
        result[kind] = _run_worker(kind, knowledge, index, queries_path, root / f"{kind}.json")
    flat, hnsw = result["flat"], result["hnsw"]
    expected = [q["expect"] for q in queries]
    with_target = [(e, t) for e, t in zip(expected, flat["top10"], strict=True) if e]
    result["recall"] = {
        "hybrid_top10_overlap": round(_overlap(hnsw["top10"], flat["top10"]), 4),
        "hybrid_top1_agreement": round(
            statistics.mean(a[:1] == b[:1] for a, b in zip(hnsw["top10"], flat["top10"], strict=True)), 4
        ),
        "dense_recall_at_10": round(_overlap(hnsw["dense10"], flat["dense10"]), 4),
        "dense_top1_agreement": round(
            statistics.mean(a[:1] == b[:1] for a, b in zip(hnsw["dense10"], flat["dense10"], strict=True)), 4
        ),
        "source_hit_at_1_flat": round(statistics.mean(t[:1] == [e] for e, t in with_target), 4),
        "source_hit_at_10_flat": round(statistics.mean(e in t for e, t in with_target), 4),
        "queries": len(queries),
        "queries_with_source": len(with_target),
    }
    for kind in ("flat", "hnsw"):
        del result[kind]["top10"], result[kind]["dense10"]
    return result


def run(quick: bool, sizes: list[int] | None = None) -> dict:
    from bot.embedding import load_encoder

    sizes = sizes or (QUICK_SIZES if quick else SIZES)
    env_sizes = os.environ.get("REGIOBOT_BENCH_SIZES")
    if env_sizes:
        sizes = [int(s) for s in env_sizes.split(",")]
    config = load_config()
    encoder = load_encoder(config.embedding)
    out = {"sizes": {}, "queries": N_QUERIES, "encoder": encoder.name, "threads": config.embedding.threads}
    for n in sizes:
        started = time.perf_counter()
        with workspace(f"scale-{n}") as root:
            out["sizes"][str(n)] = one_size(n, encoder, root)
        out["sizes"][str(n)]["wall_seconds"] = round(time.perf_counter() - started, 1)
        describe_size(out["sizes"][str(n)])
    largest = str(max(sizes))
    out["largest"] = {"entries": int(largest), **{k: out["sizes"][largest][k] for k in ("flat", "hnsw")}}
    return out


def describe_size(s: dict) -> None:
    fb, hb, r = s["flat_build"], s["hnsw_build"], s["recall"]
    say(
        f"\nSkalierung: {s['entries']:,} Einträge ({fb['vectors']:,} Vektoren, YAML {s['generate']['bytes'] / 1e6:.1f} MB)"
    )
    say(
        f"  Bau flat {fb['seconds']:.1f} s (Encoder {fb['phases']['embed']:.1f} s = {fb['vectors_per_second']} Vektoren/s, "
        f"YAML+Schema {fb['phases']['load_knowledge']:.1f} s), Index {fb['index_bytes'] / 1e6:.1f} MB"
    )
    say(
        f"  Bau hnsw {hb['seconds']:.1f} s (Einträge mit übernommenen Vektoren: {hb['reused']:,} in {hb['phases']['reuse']:.1f} s; "
        f"YAML+Schema {hb['phases']['load_knowledge']:.1f} s; FAISS {hb['phases']['faiss']:.1f} s), "
        f"Index {hb['index_bytes'] / 1e6:.1f} MB"
    )
    for kind in ("flat", "hnsw"):
        k = s[kind]
        say(
            f"  {kind:5}: ask p50 {k['ask_p50_ms']:.1f} ms · p95 {k['ask_p95_ms']:.1f} · p99 {k['ask_p99_ms']:.1f} ms; "
            f"retrieve p50 {k['retrieve_p50_ms']:.1f} ms; laden {k['load_seconds']:.1f} s; "
            f"RSS nach Laden {k['rss_after_load_mb']:.0f} MB, nach Fragen {k['rss_after_queries_mb']:.0f} MB"
        )
        say(f"         p50 je Fragetyp: {k['ask_p50_by_kind_ms']}")
    say(
        f"  HNSW vs exakt: Top-10-Überlappung hybrid {r['hybrid_top10_overlap']:.3f}, Top-1 gleich {r['hybrid_top1_agreement']:.3f}; "
        f"dichte Suche recall@10 {r['dense_recall_at_10']:.3f}, Top-1 {r['dense_top1_agreement']:.3f}"
    )
    say(
        f"  Quell-Eintrag auf Platz 1: {r['source_hit_at_1_flat']:.2f}, in Top 10: {r['source_hit_at_10_flat']:.2f} (flat)"
    )


def describe(out: dict) -> None:
    lg = out["largest"]
    say(f"\nZiel bei {lg['entries']:,} Einträgen (100k verlangt):")
    say(target_line("flat p50", lg["flat"]["ask_p50_ms"], 50, "le", "ms"))
    say(target_line("hnsw p50", lg["hnsw"]["ask_p50_ms"], 50, "le", "ms"))
    for kind in ("flat", "hnsw"):
        prof = lg[kind]["profile"]["by_cumulative"][:6]
        say(f"  Profil {kind}: " + "; ".join(f"{p['function']} {p['cum_s']:.2f} s" for p in prof))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], *map(Path, sys.argv[3:7]))
    else:
        cli("scale", run, describe)
