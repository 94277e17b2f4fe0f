"""Index build on the shipped knowledge: full build, then incremental rebuilds.

The knowledge is copied to a temp folder with its own index folder. Figures:
- full build (`build_index(force=True)`, fresh index folder each time; the encoder is loaded once
  beforehand and not counted), median of a few repetitions;
- rebuild without changes (skipped: only the knowledge digest is compared);
- incremental rebuild after (a) one entry's text changed, (b) one entry added, (c) one entry removed,
  each with the embedded/reused counts of its BuildReport, plus the time to load the new build
  (`load_index`), i.e. what `/reload` costs in the running bot;
- a cProfile of one incremental rebuild: where the time goes.

Edits are made like a person would: the YAML file is read, the entry changed, the file written back.

    python benchmarks/build.py [--quick] [--json OUT]
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import time
from pathlib import Path

import yaml
from common import cli, copy_knowledge, dir_size, load_config, say, target_line, workspace


def _entry_files(folder: Path) -> dict[str, Path]:
    out = {}
    for path in sorted(folder.glob("*.yaml")):
        for raw in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("entries", []):
            out[raw["id"]] = path
    return out


def _edit(path: Path, change) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc["entries"])
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")


def change_text(path: Path, entry_id: str, variant: int) -> None:
    def change(entries):
        for raw in entries:
            if raw["id"] == entry_id:
                raw["text"] = raw["text"].rstrip() + f" (Angaben geprüft, Durchlauf {variant}.)"

    _edit(path, change)


def add_entry(path: Path, n: int) -> None:
    def change(entries):
        entries.append(
            {
                "id": f"benchmark-neu-{n}",
                "type": "info",
                "title": f"Radwegenetz Saale-Unstrut, Abschnitt {n}",
                "text": (
                    f"Der Abschnitt {n} des Radwegenetzes Saale-Unstrut verbindet Sangerhausen mit Allstedt "
                    "und wird bis 2026 um 12 Kilometer erweitert."
                ),
                "questions": [f"Wie lang wird Abschnitt {n} des Radwegenetzes Saale-Unstrut?"],
            }
        )

    _edit(path, change)


def remove_entry(path: Path, entry_id: str) -> None:
    def change(entries):
        entries[:] = [e for e in entries if e["id"] != entry_id]

    _edit(path, change)


def _unreferenced(knowledge: Path) -> list[str]:
    from bot.knowledge import load_knowledge

    kb = load_knowledge(knowledge)
    referenced = {ref for e in kb.entries for _, ref in e.references()}
    return [e.id for e in kb.entries if e.id not in referenced]


def _profile(func, top: int = 12) -> list[dict]:
    profiler = cProfile.Profile()
    profiler.enable()
    func()
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (file, line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        short = file.split("/site-packages/")[-1].split("/main/")[-1]
        rows.append({"function": f"{short}:{line}({name})", "cumulative_s": round(ct, 4)})
    rows.sort(key=lambda r: -r["cumulative_s"])
    keep = [
        r for r in rows if "bot/" in r["function"] or "faiss" in r["function"] or "bm25s" in r["function"]
    ]
    return keep[:top]


def run(quick: bool) -> dict:
    from bot.embedding import load_encoder
    from bot.index import build_index, current_build, load_index, read_manifest

    config = load_config()
    reps = 1 if quick else 3
    with workspace("build") as root:
        knowledge = copy_knowledge(root / "knowledge")
        started = time.perf_counter()
        encoder = load_encoder(config.embedding)
        encoder_seconds = time.perf_counter() - started

        say(f"[build] voller Bau × {reps} …")
        full = []
        for i in range(reps):
            index = root / ("index" if i == 0 else f"index-{i}")
            report = build_index(config, encoder, knowledge_dir=knowledge, index_dir=index, force=True)
            full.append(report)
        index = root / "index"
        size = dir_size(current_build(index))
        vectors = read_manifest(current_build(index)).vectors
        first = full[0]

        started = time.perf_counter()
        unchanged = build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
        unchanged_seconds = time.perf_counter() - started

        files = _entry_files(knowledge)
        candidates = _unreferenced(knowledge)
        target = next(i for i in files if i not in candidates)  # an entry others point to: still fine to edit
        removable = [c for c in candidates if c != target]
        ops: dict[str, list[dict]] = {"changed": [], "added": [], "removed": []}
        say(f"[build] inkrementell × {reps} (geändert: {target}) …")
        for rep in range(reps):
            for op in ops:
                if op == "changed":
                    change_text(files[target], target, rep)
                elif op == "added":
                    add_entry(files[target], rep)
                else:
                    victim = removable[rep]
                    remove_entry(files[victim], victim)
                report = build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
                started = time.perf_counter()
                load_index(index, config.embedding.threads)
                load_seconds = time.perf_counter() - started
                ops[op].append(
                    {
                        "seconds": round(report.seconds, 3),
                        "load_seconds": round(load_seconds, 3),
                        "embedded": report.embedded,
                        "reused": report.reused,
                        "removed": report.removed,
                        "entries": report.entries,
                    }
                )
        change_text(files[target], target, 99)
        profile = _profile(lambda: build_index(config, encoder, knowledge_dir=knowledge, index_dir=index))

    def summary(rows: list[dict]) -> dict:
        last = rows[-1]
        return {
            "seconds": round(statistics.median(r["seconds"] for r in rows), 3),
            "load_seconds": round(statistics.median(r["load_seconds"] for r in rows), 3),
            "embedded": last["embedded"],
            "reused": last["reused"],
            "removed": last["removed"],
            "entries": last["entries"],
            "runs": rows,
        }

    return {
        "encoder": encoder.name,
        "encoder_load_seconds": round(encoder_seconds, 2),
        "full": {
            "seconds": round(statistics.median(r.seconds for r in full), 3),
            "runs": [round(r.seconds, 3) for r in full],
            "entries": first.entries,
            "embedded": first.embedded,
            "vectors": vectors,
            "index_bytes": size,
        },
        "unchanged": {"seconds": round(unchanged_seconds, 3), "skipped": unchanged.skipped},
        "incremental": {op: summary(rows) for op, rows in ops.items()},
        "profile_changed": profile,
    }


def describe(r: dict) -> None:
    f = r["full"]
    say(
        f"\nIndexbau, ausgeliefertes Wissen ({f['entries']} Einträge, {f['vectors']} Vektoren, {r['encoder']})"
    )
    say(f"  Encoder laden: {r['encoder_load_seconds']:.2f} s (nicht mitgezählt)")
    say(f"  voller Bau: {f['seconds']:.2f} s (Median; {f['runs']}), Index {f['index_bytes'] / 1e6:.1f} MB")
    say(
        f"  ohne Änderung: {r['unchanged']['seconds'] * 1000:.0f} ms (übersprungen: {r['unchanged']['skipped']})"
    )
    names = {
        "changed": "1 Eintrag geändert",
        "added": "1 Eintrag hinzugefügt",
        "removed": "1 Eintrag entfernt",
    }
    for op, s in r["incremental"].items():
        say(
            f"  {names[op]}: {s['seconds']:.2f} s + Laden {1000 * s['load_seconds']:.0f} ms "
            f"({s['embedded']} eingebettet, {s['reused']} übernommen, {s['removed']} entfernt)"
        )
    say(target_line("inkrementell, 1 Eintrag geändert", r["incremental"]["changed"]["seconds"], 2, "le", "s"))
    say(
        "  Profil (kumulativ): "
        + "; ".join(f"{p['function']} {p['cumulative_s']:.3f} s" for p in r["profile_changed"][:6])
    )


if __name__ == "__main__":
    cli("build", run, describe)
