"""Run every benchmark and write benchmarks/results.json and benchmarks/results.md.

    python benchmarks/run_all.py            # full run (1k/10k/100k entries), about 17–25 minutes on 2 cores
    python benchmarks/run_all.py --quick    # 1k/10k only, fewer repetitions, about 5 minutes
    python benchmarks/run_all.py --only latency,build

xquad_scale (XQuAD among up to 100k entries) adds about 45 minutes to a full run (its 100k build alone
about 25) and about 10 to --quick (up to 20k entries).

Each benchmark runs in its own process (`python benchmarks/<name>.py --json …`), so memory and
threads of one never affect the next; their printed figures appear as they run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import BENCH, TARGETS, machine, say, verdict

ORDER = ["latency", "build", "throughput", "memory", "quality", "scale", "xquad_scale"]


def get(results: dict, dotted: str) -> Any:
    node: Any = results
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def targets(results: dict) -> list[dict]:
    rows = []
    for key, label, limit, op, unit in TARGETS:
        value = get(results, key)
        result = verdict(value, limit, op)
        if key.startswith("scale.largest"):
            entries = get(results, "scale.largest.entries")
            label = f"{label} ({entries:,} Einträge)".replace(",", ".") if entries else label
            if entries and entries < 100_000:
                result = "n/a"  # the target is for 100k entries: a smaller run only indicates
        rows.append(
            {
                "key": key,
                "label": label,
                "value": value,
                "limit": limit,
                "op": op,
                "unit": unit,
                "verdict": result,
            }
        )
    for t in get(results, "xquad_scale.targets") or []:  # the script's own targets (XQuAD as knowledge grows)
        rows.append({"key": "xquad_scale", **t, "verdict": verdict(t["value"], t["limit"], t["op"])})
    return rows


# --------------------------------------------------------------------------- markdown


def _n(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    return f"{value:,.{digits}f}".replace(",", "X").replace(".", ",").replace("X", ".")


def markdown(doc: dict) -> str:
    m, r = doc["machine"], doc["benchmarks"]
    lines = [
        "# regiobot – Benchmark-Ergebnisse",
        "",
        f"Rechner: {m['cpu']}, {m['cores']} Kerne, {_n(m['ram_gb'])} GB RAM, Python {m['python']}, {m['os']}; "
        f"Lauf vom {m['date']}{' (--quick)' if doc['quick'] else ''}, Dauer {_n(doc['total_seconds'] / 60)} min.",
        "",
        "## Zielwerte",
        "",
        "| Ziel | gemessen | Grenze | Ergebnis |",
        "|---|---:|---:|---|",
    ]
    for t in doc["targets"]:
        sign = "≤" if t["op"] == "le" else "≥"
        lines.append(
            f"| {t['label']} | {_n(t['value'], 2)} {t['unit']} | {sign} {_n(t['limit'], 0 if float(t['limit']).is_integer() else 2)} {t['unit']} | **{t['verdict']}** |"
        )
    if "latency" in r:
        w, c = r["latency"]["warm"], r["latency"]["cold"]
        lines += [
            "",
            f"## Antwortlatenz (ausgeliefertes Wissen: {r['latency']['entries']} Einträge, {r['latency']['vectors']} Vektoren)",
            "",
            "| Messung | p50 | p95 | p99 | max |",
            "|---|---:|---:|---:|---:|",
            f"| `Engine.ask`, warm, 1 Thread ({w['questions']} Fragen × {w['rounds']} Runden) | {_n(w['p50_ms'], 2)} ms | {_n(w['p95_ms'], 2)} ms | {_n(w['p99_ms'], 2)} ms | {_n(w['max_ms'], 2)} ms |",
            "",
            f"Davon Query-Encoder p50 {_n(w['encode_p50_ms'], 2)} ms, Retrieval (mit Encoder) p50 {_n(w['retrieve_p50_ms'], 2)} ms. "
            f'Kaltstart `regiobot ask "…"` (Index gebaut): erste Antwort nach {_n(c["first_answer_median_s"], 2)} s (Median aus {c["repetitions"]}); '
            "Phasen: "
            + ", ".join(f"{k.removesuffix('_s')} {_n(v, 2)} s" for k, v in c["phases_s"].items())
            + ".",
        ]
    if "build" in r:
        b = r["build"]
        lines += [
            "",
            f"## Indexbau (ausgeliefertes Wissen, {b['full']['entries']} Einträge, {b['full']['vectors']} Vektoren)",
            "",
            "| Vorgang | Zeit | eingebettet | übernommen | entfernt |",
            "|---|---:|---:|---:|---:|",
            f"| voller Bau | {_n(b['full']['seconds'], 2)} s | {b['full']['embedded']} | 0 | – |",
            f"| ohne Änderung (übersprungen) | {_n(b['unchanged']['seconds'], 2)} s | 0 | – | – |",
        ]
        names = {
            "changed": "1 Eintrag geändert",
            "added": "1 Eintrag hinzugefügt",
            "removed": "1 Eintrag entfernt",
        }
        for op, label in names.items():
            s = b["incremental"][op]
            lines.append(
                f"| {label} (+ Laden {_n(1000 * s['load_seconds'], 0)} ms) | {_n(s['seconds'], 2)} s | {s['embedded']} | {s['reused']} | {s['removed']} |"
            )
    if "scale" in r:
        sc = r["scale"]
        lines += [
            "",
            f"## Skalierung (synthetisches Wissen, {sc['queries']} Fragen je Größe, Encoder mit {sc['threads']} Thread)",
            "",
            "| Einträge | Vektoren | Index | Bau | Größe | ask p50 | ask p95 | ask p99 | RSS nach Laden | HNSW recall@10 (hybrid / dicht) | Top-1 gleich |",
            "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for n, s in sc["sizes"].items():
            for kind in ("flat", "hnsw"):
                build = s[f"{kind}_build"]
                rec = s["recall"]
                recall = (
                    f"{_n(rec['hybrid_top10_overlap'], 3)} / {_n(rec['dense_recall_at_10'], 3)}"
                    if kind == "hnsw"
                    else "exakt"
                )
                top1 = _n(rec["hybrid_top1_agreement"], 3) if kind == "hnsw" else "–"
                build_note = "" if kind == "flat" else " ¹"
                lines.append(
                    f"| {_n(int(n))} | {_n(s['flat_build']['vectors'])} | {kind} | {_n(build['seconds'])} s{build_note} | "
                    f"{_n(build['index_bytes'] / 1e6)} MB | {_n(s[kind]['ask_p50_ms'], 1)} ms | {_n(s[kind]['ask_p95_ms'], 1)} ms | "
                    f"{_n(s[kind]['ask_p99_ms'], 1)} ms | "
                    f"{_n(s[kind]['rss_after_load_mb'], 0)} MB | {recall} | {top1} |"
                )
        lines += [
            "",
            "¹ HNSW-Bau mit übernommenen Vektoren (Indexordner des flat-Baus kopiert, Vektoren aus dessen `dense.faiss` "
            "gelesen): nur YAML, BM25 und FAISS werden neu gebaut.",
            "",
        ]
        first = next(iter(sc["sizes"].values()))
        lines.append(
            "Bauphasen flat (YAML+Schema / Encoder / FAISS / Rest): "
            + "; ".join(
                f"{_n(int(n))}: {_n(s['flat_build']['phases']['load_knowledge'])} / {_n(s['flat_build']['phases']['embed'])} / "
                f"{_n(s['flat_build']['phases']['faiss'])} / {_n(s['flat_build']['phases']['rest'])} s"
                for n, s in sc["sizes"].items()
            )
            + f". Encoder: {_n(first['flat_build']['vectors_per_second'], 0)} Vektoren/s."
        )
        lines.append("")
        lines.append(
            "Bauphasen hnsw aus Kopie (YAML+Schema / Übernahme der Vektoren / FAISS / Rest): "
            + "; ".join(
                f"{_n(int(n))}: {_n(s['hnsw_build']['phases']['load_knowledge'])} / {_n(s['hnsw_build']['phases']['reuse'])} / "
                f"{_n(s['hnsw_build']['phases']['faiss'])} / {_n(s['hnsw_build']['phases']['rest'])} s"
                for n, s in sc["sizes"].items()
            )
            + "."
        )
        largest = str(sc["largest"]["entries"])
        for kind in ("flat", "hnsw"):
            by_kind = sc["sizes"][largest][kind]["ask_p50_by_kind_ms"]
            lines += [
                "",
                f"ask p50 je Fragetyp bei {_n(int(largest))} Einträgen ({kind}): "
                + ", ".join(f"{k} {_n(v, 1)} ms" for k, v in by_kind.items())
                + ".",
            ]
    if "throughput" in r:
        t = r["throughput"]
        names = {
            "burst": "1.000 Updates auf einmal, ohne Drossel",
            "paced": "gleichmäßig 30 Updates/s, ohne Drossel",
            "throttled": "auf einmal, ausgelieferte Drossel 30/s",
        }
        lines += [
            "",
            "## Telegram-Bot (PTB-Application + Engine, Fake-Bot-API auf 127.0.0.1, 100 Nutzer)",
            "",
            "| Szenario | Updates | Antworten/s | Latenz p50 | p95 | p99 | CPU-Kerne |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for key, label in names.items():
            if key not in t:
                continue
            s = t[key]
            lines.append(
                f"| {label} | {_n(s['updates'])} | {_n(s['messages_per_s'], 0)} | {_n(s['latency_p50_ms'], 0)} ms | "
                f"{_n(s['latency_p95_ms'], 0)} ms | {_n(s['latency_p99_ms'], 0)} ms | {_n(s['cpu_cores_used'], 2)} |"
            )
        lines += [
            "",
            "Application wie ausgeliefert (`build_application`: Verbindungspool 8; `sniffio` installiert: "
            + ("ja" if t.get("sniffio_installed") else "nein")
            + "); nur Server-URL, Nutzer-Ratenlimit und Drossel sind je Szenario angepasst.",
        ]
    if "memory" in r:
        mm = r["memory"]
        lines += [
            "",
            "## Speicher des laufenden Bots (`regiobot run`, eigener Prozess)",
            "",
            f"RSS nach Laden {_n(mm['rss_after_load_mb'], 0)} MB, nach 1.000 Fragen {_n(mm['rss_after_questions_mb'], 0)} MB"
            + (
                f", nach 2.000 Fragen {_n(mm['rss_after_2000_mb'], 0)} MB"
                if mm.get("rss_after_2000_mb")
                else ""
            )
            + f", Spitze {_n(mm['peak_rss_mb'], 0)} MB; bereit nach {_n(mm['ready_seconds'])} s; "
            f"als eigener Prozess {_n(mm['batch_1000']['messages_per_s'], 0)} Antworten/s.",
        ]
    if "quality" in r:
        q = r["quality"]
        lines += [
            "",
            f"## Encoder und Fusion (XQuAD deutsch: {q['xquad_questions']} Fragen; Entwicklungsfragen: {q['dev_cases']})",
            "",
            "| Einstellung | XQuAD R@1 | R@3 | R@10 | MRR | ms/Frage (XQuAD) | Antwort richtig | Enthaltung richtig | Near Miss abgelehnt | Länge (Median) | ms/Frage (Dev) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s in q["settings"].values():
            x, d = s["xquad"], s["dev"]
            lines.append(
                f"| {s['label']} | {_n(x['recall_at_1'], 3)} | {_n(x['recall_at_3'], 3)} | {_n(x['recall_at_10'], 3)} | "
                f"{_n(x['mrr'], 3)} | {_n(x['mean_latency_ms'], 1)} | {_n(d['answer_accuracy'], 3)} | "
                f"{_n(d['abstention_accuracy'], 3)} | {_n(d['near_miss_declined'], 3)} | {_n(d['median_answer_chars'], 0)} | "
                f"{_n(d['mean_latency_ms'], 1)} |"
            )
    if "xquad_scale" in r:
        lines += [
            "",
            "## XQuAD unter wachsendem Wissen (240 Absätze + synthetische Einträge, 1.190 Fragen)",
            "",
            "| Einträge | R@1 | R@10 | MRR | ask p50 | ask p99 | bm25s R@1 / R@10 | txtai R@1 / R@10 / p50 ¹ | vorher R@1 ¹ | Bau (davon Satzvektoren) | sentences.npy | RSS nach Laden |",
            "|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|",
        ]
        for n, s in r["xquad_scale"]["sizes"].items():
            g, bm, b = s["regiobot"], s["bm25s"], s["build"]
            tx, before = s.get("txtai_reference") or {}, s.get("before_reference") or {}
            lines.append(
                f"| {_n(int(n))} | {_n(g['recall_at_1'], 3)} | {_n(g['recall_at_10'], 3)} | {_n(g['mrr'], 3)} | "
                f"{_n(g['ask_p50_ms'], 2)} ms | {_n(g['ask_p99_ms'], 2)} ms | {_n(bm['recall_at_1'], 3)} / {_n(bm['recall_at_10'], 3)} | "
                f"{_n(tx.get('recall_at_1'), 3)} / {_n(tx.get('recall_at_10'), 3)} / {_n(tx.get('ask_p50_ms'), 2)} ms | "
                f"{_n(before.get('recall_at_1'), 3)} | {_n(b['seconds'])} s ({_n(b['sentence_embed_seconds_estimate'])} s) | "
                f"{_n(b['files'].get('sentences.npy', 0) / 1e6)} MB | {_n(g['rss_after_load_mb'], 0)} MB |"
            )
        lines += [
            "",
            "¹ zitiert aus ../shared/notes/measurements.md (gleicher Rechner, txtai 9.14 hybrid mit USE; "
            "„vorher“ = regiobot vor der Fusion mit echtem Kosinus für jeden Kandidaten); txtai ist keine Abhängigkeit.",
        ]
    if doc.get("errors"):
        lines += ["", "## Fehler", ""] + [f"- {k}: {v}" for k, v in doc["errors"].items()]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description="Alle regiobot-Benchmarks ausführen")
    parser.add_argument("--quick", action="store_true", help="1k/10k, weniger Wiederholungen (etwa 5 min)")
    parser.add_argument("--only", help="kommagetrennt, z. B. latency,build")
    parser.add_argument("--out", type=Path, default=BENCH, help="Ordner für results.json/results.md")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else ORDER
    doc: dict[str, Any] = {
        "machine": machine(),
        "quick": args.quick,
        "benchmarks": {},
        "seconds": {},
        "errors": {},
    }
    say(
        f"Rechner: {doc['machine']['cpu']}, {doc['machine']['cores']} Kerne, {doc['machine']['ram_gb']} GB, Python {doc['machine']['python']}"
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.json"
            cmd = [sys.executable, str(BENCH / f"{name}.py"), "--json", str(out)] + (
                ["--quick"] if args.quick else []
            )
            say(f"\n=== {name} ===")
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, cwd=BENCH.parent)
            doc["seconds"][name] = round(time.perf_counter() - t0, 1)
            if proc.returncode == 0 and out.exists():
                doc["benchmarks"][name] = json.loads(out.read_text())
            else:
                doc["errors"][name] = f"exit code {proc.returncode}"
    doc["total_seconds"] = round(time.perf_counter() - started, 1)
    doc["targets"] = targets(doc["benchmarks"])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False, default=str) + "\n")
    (args.out / "results.md").write_text(markdown(doc))
    say("\nZielwerte:")
    for t in doc["targets"]:
        sign = "≤" if t["op"] == "le" else "≥"
        value = "–" if t["value"] is None else f"{t['value']:.2f}"
        say(f"  {t['verdict']:4}  {t['label']}: {value} {t['unit']} (Ziel {sign} {t['limit']:g} {t['unit']})")
    say(
        f"\nGeschrieben: {args.out / 'results.json'}, {args.out / 'results.md'} ({doc['total_seconds'] / 60:.1f} min)"
    )
    if doc["errors"]:
        say(f"Fehler: {doc['errors']}")
        sys.exit(1)


if __name__ == "__main__":
    main()
