"""Retrieval quality as knowledge grows: XQuAD German hidden among synthetic entries (workload "b").

Per size N (240 = XQuAD alone, then 1,000, 5,000, 20,000 and, without --quick, 100,000 entries):
1. knowledge = XQuAD German's 240 paragraphs as `info` entries (`bot.evaluation.xquad_knowledge`) plus
   N − 240 entries from `synthetic.py` (seed 0), in a temp folder;
2. flat build (everything embedded), with the encoder time, the part of it spent on the per-sentence
   vectors (`sentences.npy`; estimated by their share of the embedded characters), and each file's size;
3. a fresh subprocess loads the engine (`Engine.load`, no rebuild), records VmRSS, retrieves every
   XQuAD question once (`Engine.retrieve`, top 10: recall@1/@10, MRR) and times `Engine.ask` on one
   thread (BLAS and FAISS limited to one thread) over a sample of the questions after a warm-up round;
4. plain bm25s over the same entries' texts (German Snowball stemmer via PyStemmer, bm25s's German
   stopwords), recall@1/@10 computed live;
5. txtai's figures (hybrid, same USE encoder) and regiobot's before the fusion fix are quoted from
   ../shared/notes/measurements.md as a fixed reference; txtai is not a dependency.

    python benchmarks/xquad_scale.py [--quick] [--sizes 240,20000] [--json OUT]

--quick: up to 20,000 entries and fewer timed answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import (
    XQUAD,
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

SIZES = [240, 1_000, 5_000, 20_000, 100_000]
QUICK_SIZES = [240, 1_000, 5_000, 20_000]
XQUAD_ENTRIES = 240
ASKED = 400  # questions timed with Engine.ask per size (every k-th XQuAD question)
QUICK_ASKED = 150
REFERENCE_ENCODE_MS = 2.36  # README/results.json of 2026-11-21, the machine the latency targets were set on
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

# measured 2026-11-21 on the same 2-core machine (../shared/notes/measurements.md): entries -> figures
TXTAI = {
    240: {"ask_p50_ms": 7.75, "recall_at_1": 0.908},
    1_000: {"ask_p50_ms": 5.53, "recall_at_1": 0.883},
    5_000: {"ask_p50_ms": 7.87, "recall_at_1": 0.879},
    20_000: {"ask_p50_ms": 6.49, "recall_at_1": 0.862, "recall_at_10": 0.973},
    100_000: {"ask_p50_ms": 9.76, "recall_at_1": 0.862, "note": "IVF"},
}
BEFORE = {  # regiobot before every candidate got its true cosine
    240: {"ask_p50_ms": 4.98, "recall_at_1": 0.936},
    1_000: {"ask_p50_ms": 4.95, "recall_at_1": 0.909},
    5_000: {"ask_p50_ms": 5.11, "recall_at_1": 0.883},
    20_000: {"ask_p50_ms": 8.70, "recall_at_1": 0.839, "recall_at_10": 0.862},
    100_000: {"ask_p50_ms": 36.8, "recall_at_1": 0.748},
}

# (entries, key, label, limit, "ge"/"le", unit)
TARGETS = [
    (240, "recall_at_1", "recall@1, XQuAD allein (240)", 0.93, "ge", ""),
    (20_000, "recall_at_1", "recall@1 bei 20.000 Einträgen", 0.90, "ge", ""),
    (20_000, "recall_at_10", "recall@10 bei 20.000 Einträgen", 0.97, "ge", ""),
    (20_000, "ask_p50_ms", "Antwort warm p50 bei 20.000 Einträgen", 8.0, "le", "ms"),
    (100_000, "ask_p50_ms", "Antwort warm p50 bei 100.000 Einträgen (flat)", 40.0, "le", "ms"),
]


# --------------------------------------------------------------------------- worker (fresh process)


def worker(knowledge: Path, index: Path, pairs_path: Path, asked: int, out: Path) -> None:
    """Load, measure memory, retrieve every question, time `Engine.ask` on a sample."""
    baseline = rss_mb()
    from bot.answer import Engine
    from bot.evaluation import retrieval_metrics

    started = time.perf_counter()
    engine = Engine.load(load_config(), knowledge_dir=knowledge, index_dir=index, rebuild=False)
    load_seconds = time.perf_counter() - started
    after_load = rss_mb()
    pairs = [tuple(p) for p in json.loads(pairs_path.read_text())]
    metrics = retrieval_metrics(engine, pairs)
    sample = [q for q, _ in pairs[:: max(1, len(pairs) // asked)]][:asked]
    for question in sample:  # warm-up
        engine.ask(question)
    seconds, encode_seconds = [], []
    for question in sample:
        started = time.perf_counter()
        engine.ask(question)
        seconds.append(time.perf_counter() - started)
    for question in sample:  # the query encoder alone: the part no index size changes
        started = time.perf_counter()
        engine.encoder.encode([question])
        encode_seconds.append(time.perf_counter() - started)
    out.write_text(
        json.dumps(
            {
                **{k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()},
                **percentiles(seconds, "ask_"),
                "encode_p50_ms": percentiles(encode_seconds)["p50_ms"],
                "load_seconds": round(load_seconds, 2),
                "rss_baseline_mb": baseline["rss_mb"],
                "rss_after_load_mb": after_load["rss_mb"],
                "rss_after_questions_mb": rss_mb()["rss_mb"],
                "peak_rss_mb": rss_mb()["peak_rss_mb"],
            }
        )
    )


def _run_worker(knowledge: Path, index: Path, pairs: Path, asked: int, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--worker", str(knowledge), str(index), str(pairs), str(asked), str(out)]
    env = {**os.environ, **ONE_THREAD, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"xquad_scale worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text())


# --------------------------------------------------------------------------- bm25s baseline


def bm25_baseline(knowledge: Path, pairs: list[tuple[str, str]]) -> dict:
    """Plain bm25s over the entries' texts: German stemmer, German stopwords, nothing else."""
    import bm25s
    import Stemmer

    from bot.knowledge import load_knowledge

    entries = load_knowledge(knowledge).entries
    stemmer = Stemmer.Stemmer("german")
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize([e.text for e in entries], stopwords="de", stemmer=stemmer, show_progress=False),
        show_progress=False,
    )
    queries = bm25s.tokenize([q for q, _ in pairs], stopwords="de", stemmer=stemmer, show_progress=False)
    found, _ = retriever.retrieve(queries, k=10, show_progress=False, n_threads=1)
    ids = [[entries[int(i)].id for i in row] for row in found]
    n = len(pairs)
    return {
        "recall_at_1": round(sum(row[0] == e for row, (_, e) in zip(ids, pairs, strict=True)) / n, 4),
        "recall_at_10": round(sum(e in row for row, (_, e) in zip(ids, pairs, strict=True)) / n, 4),
    }


# --------------------------------------------------------------------------- per size


def one_size(n: int, encoder, root: Path, asked: int) -> dict:
    from synthetic import generate

    from bot.evaluation import xquad_knowledge
    from bot.index import build_index, current_build, dense_texts, load_index, read_manifest
    from bot.text import sentences

    knowledge = root / "knowledge"
    pairs = xquad_knowledge(XQUAD, knowledge)
    if n > XQUAD_ENTRIES:
        generate(n - XQUAD_ENTRIES, knowledge / "synthetic", seed=0)
    pairs_path = root / "pairs.json"
    pairs_path.write_text(json.dumps(pairs, ensure_ascii=False))

    say(f"[xquad_scale] {n:,} Einträge: bauen …")
    with build_phases() as phases:
        report = build_index(load_config(), encoder, knowledge_dir=knowledge, index_dir=root / "index")
    build = current_build(root / "index")
    manifest = read_manifest(build)
    files = {p.name: (dir_size(p) if p.is_dir() else p.stat().st_size) for p in build.iterdir()}
    # the encoder's cost grows with text length: the sentences' share of the embedded characters
    entries = load_index(root / "index").entries
    dense = set(t for e in entries for t in dense_texts(e))
    extra = set(t for e in entries for t in sentences(e.text)) - dense
    share = sum(map(len, extra)) / (sum(map(len, extra)) + sum(map(len, dense)))
    result: dict = {
        "entries": n,
        "questions": len(pairs),
        "build": {
            "seconds": round(report.seconds, 2),
            "embed_seconds": round(phases["embed"], 2),
            "vectors": manifest.vectors,
            "sentences": manifest.sentences,
            "texts_embedded": report.texts_embedded,
            "sentence_embed_seconds_estimate": round(phases["embed"] * share, 2),
            "sentence_share_of_embedded_chars": round(share, 3),
            "index_bytes": dir_size(build),
            "files": files,
        },
    }
    say(f"[xquad_scale] {n:,}: Retrieval und Antworten (eigener Prozess) …")
    result["regiobot"] = _run_worker(knowledge, root / "index", pairs_path, asked, root / "worker.json")
    result["bm25s"] = bm25_baseline(knowledge, pairs)
    result["txtai_reference"] = TXTAI.get(n)
    result["before_reference"] = BEFORE.get(n)
    return result


def run(quick: bool) -> dict:
    from bot.embedding import load_encoder

    sizes = QUICK_SIZES if quick else SIZES
    if env_sizes := os.environ.get("REGIOBOT_BENCH_SIZES"):
        sizes = [int(s) for s in env_sizes.split(",")]
    config = load_config()
    encoder = load_encoder(config.embedding)
    out: dict = {"sizes": {}, "encoder": encoder.name, "reference": "../shared/notes/measurements.md"}
    for n in sizes:
        started = time.perf_counter()
        with workspace(f"xquad-{n}") as root:
            out["sizes"][str(n)] = one_size(n, encoder, root, QUICK_ASKED if quick else ASKED)
        out["sizes"][str(n)]["wall_seconds"] = round(time.perf_counter() - started, 1)
        describe_size(out["sizes"][str(n)])
    out["targets"] = targets(out)
    return out


def targets(out: dict) -> list[dict]:
    rows = []
    for n, key, label, limit, op, unit in TARGETS:
        size = out["sizes"].get(str(n))
        value = size["regiobot"][key] if size else None
        rows.append({"label": label, "value": value, "limit": limit, "op": op, "unit": unit})
    return rows


def _ref(figures: dict | None, key: str) -> str:
    return f"{figures[key]:.3f}" if figures and key in figures else "  –  "


def describe_size(s: dict) -> None:
    r, b, bm = s["regiobot"], s["build"], s["bm25s"]
    say(
        f"\nXQuAD unter {s['entries']:,} Einträgen ({s['questions']} Fragen; {b['vectors']:,} Vektoren, "
        f"{b['sentences']:,} Satzvektoren)"
    )
    say(
        f"  regiobot   R@1 {r['recall_at_1']:.3f} · R@10 {r['recall_at_10']:.3f} · MRR {r['mrr']:.3f} · "
        f"ask p50 {r['ask_p50_ms']:.2f} ms · p99 {r['ask_p99_ms']:.2f} ms ({r['ask_n']} Fragen, 1 Thread; "
        f"davon Query-Encoder p50 {r['encode_p50_ms']:.2f} ms)"
    )
    say(f"  bm25s      R@1 {bm['recall_at_1']:.3f} · R@10 {bm['recall_at_10']:.3f} (live, gleiche Texte)")
    tx, before = s["txtai_reference"], s["before_reference"]
    if tx:
        say(
            f"  txtai      R@1 {_ref(tx, 'recall_at_1')} · R@10 {_ref(tx, 'recall_at_10')} · "
            f"p50 {tx['ask_p50_ms']:.2f} ms{' (' + tx['note'] + ')' if 'note' in tx else ''} (zitiert, measurements.md)"
        )
    if before:
        say(
            f"  vorher     R@1 {_ref(before, 'recall_at_1')} · R@10 {_ref(before, 'recall_at_10')} · "
            f"p50 {before['ask_p50_ms']:.2f} ms (zitiert, measurements.md)"
        )
    say(
        f"  Bau {b['seconds']:.1f} s (Encoder {b['embed_seconds']:.1f} s, davon Satzvektoren ≈ "
        f"{b['sentence_embed_seconds_estimate']:.1f} s); Index {b['index_bytes'] / 1e6:.1f} MB, "
        f"sentences.npy {b['files'].get('sentences.npy', 0) / 1e6:.1f} MB; RSS nach Laden "
        f"{r['rss_after_load_mb']:.0f} MB, nach Fragen {r['rss_after_questions_mb']:.0f} MB"
    )


def describe(out: dict) -> None:
    say(
        "\nZiele (die Latenzziele gelten für den Rechner der Referenzmessung, dort Query-Encoder p50 "
        f"{REFERENCE_ENCODE_MS} ms; hier siehe „davon Query-Encoder“):"
    )
    for t in out["targets"]:
        say(target_line(t["label"], t["value"], t["limit"], t["op"], t["unit"]))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*map(Path, sys.argv[2:5]), int(sys.argv[5]), Path(sys.argv[6]))
    else:
        if "--sizes" in sys.argv:  # same as REGIOBOT_BENCH_SIZES=240,20000
            at = sys.argv.index("--sizes")
            os.environ["REGIOBOT_BENCH_SIZES"] = sys.argv[at + 1]
            del sys.argv[at : at + 2]
        cli("xquad_scale", run, describe)
