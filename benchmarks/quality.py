"""Retrieval quality next to speed, per encoder/fusion setting.

- XQuAD German (../shared/eval/xquad.de.json): one `info` entry per paragraph (bot.evaluation.
  xquad_knowledge), every question retrieved once (bot.evaluation.retrieval_metrics): recall@1/@3/@10,
  MRR and mean query latency.
- Dev set (../shared/eval/dev_questions.yaml) on the shipped knowledge (bot.evaluation.evaluate):
  answer accuracy (in scope), abstention accuracy (out of scope), near misses declined, median answer
  length, mean latency.

Settings (config.yaml as shipped, then `config.model_copy(update=…)`):
  USE weighted (shipped) · USE RRF · USE dense only · BM25 only · USE weighted without the overlap
  re-rank · all-MiniLM-L6-v2 weighted.
The index depends only on the encoder (and `index.*`), not on `search.*`, so each encoder builds its
XQuAD and its knowledge index once (own temp folders) and the search settings are applied at query
time. The abstention threshold was calibrated for USE; the MiniLM dev-set figures use it unchanged.

    python benchmarks/quality.py [--quick] [--json OUT]

--quick: every third XQuAD question, and only the shipped encoder (no MiniLM build).
"""

from __future__ import annotations

import time

from common import XQUAD, cli, copy_knowledge, dev_cases, load_config, say, with_settings, workspace

SETTINGS = [
    ("use-weighted", "USE, gewichtet (ausgeliefert)", {}),
    ("use-rrf", "USE, RRF", {"search": {"fusion": "rrf", "overlap_rank_weight": 0.0}}),
    ("use-dense", "USE, nur dicht", {"search": {"bm25_weight": 0.0, "overlap_rank_weight": 0.0}}),
    ("bm25", "nur BM25", {"search": {"dense_weight": 0.0, "overlap_rank_weight": 0.0}}),
    ("use-no-rerank", "USE, gewichtet ohne Overlap-Re-Ranking", {"search": {"overlap_rank_weight": 0.0}}),
    ("minilm-weighted", "all-MiniLM-L6-v2, gewichtet", {"embedding": {"backend": "sentence-transformers"}}),
]


def run(quick: bool) -> dict:
    from bot.answer import Engine
    from bot.embedding import load_encoder
    from bot.evaluation import evaluate, retrieval_metrics, xquad_knowledge
    from bot.index import build_index

    base = load_config()
    cases = dev_cases()
    out: dict = {"settings": {}, "builds": {}}
    with workspace("quality") as root:
        xq_knowledge = root / "xquad-knowledge"
        pairs = xquad_knowledge(XQUAD, xq_knowledge)
        if quick:
            pairs = pairs[::3]
        kb = copy_knowledge(root / "knowledge")
        encoders: dict[str, object] = {}
        for key, label, updates in SETTINGS:
            config = with_settings(base, **updates)
            backend = config.embedding.backend
            if quick and backend != base.embedding.backend:
                say(
                    f"[quality] {label}: übersprungen (--quick; der Bau mit diesem Encoder dauert etwa 2 min)"
                )
                continue
            if backend not in encoders:
                started = time.perf_counter()
                encoders[backend] = encoder = load_encoder(config.embedding)
                load_s = time.perf_counter() - started
                say(f"[quality] {encoder.name}: XQuAD- und Wissens-Index bauen …")
                xq = build_index(
                    config, encoder, knowledge_dir=xq_knowledge, index_dir=root / f"xq-{backend}"
                )
                kbi = build_index(config, encoder, knowledge_dir=kb, index_dir=root / f"kb-{backend}")
                out["builds"][backend] = {
                    "encoder": encoder.name,
                    "encoder_load_s": round(load_s, 2),
                    "xquad_build_s": round(xq.seconds, 2),
                    "xquad_entries": xq.entries,
                    "knowledge_build_s": round(kbi.seconds, 2),
                }
            encoder = encoders[backend]
            say(f"[quality] {label} …")
            xq_engine = Engine.load(
                config,
                knowledge_dir=xq_knowledge,
                index_dir=root / f"xq-{backend}",
                encoder=encoder,
                rebuild=False,
            )
            metrics = retrieval_metrics(xq_engine, pairs)
            kb_engine = Engine.load(
                config, knowledge_dir=kb, index_dir=root / f"kb-{backend}", encoder=encoder, rebuild=False
            )
            summary = evaluate(kb_engine, cases).summary()
            out["settings"][key] = {
                "label": label,
                "encoder": encoder.name,
                "changes": updates,
                "xquad": {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()},
                "dev": {k: round(v, 4) if isinstance(v, float) else v for k, v in summary.items()},
            }
    out["xquad_questions"] = len(pairs)
    out["dev_cases"] = len(cases)
    return out


def describe(r: dict) -> None:
    say(
        f"\nQualität und Geschwindigkeit ({r['xquad_questions']} XQuAD-Fragen, {r['dev_cases']} Entwicklungsfragen)"
    )
    say(
        f"  {'Einstellung':42} {'R@1':>5} {'R@3':>5} {'R@10':>5} {'MRR':>5} {'ms':>6} | {'Antw.':>5} {'Enth.':>5} {'Near':>5} {'Länge':>5} {'ms':>5}"
    )
    for s in r["settings"].values():
        x, d = s["xquad"], s["dev"]
        say(
            f"  {s['label']:42} {x['recall_at_1']:5.3f} {x['recall_at_3']:5.3f} {x['recall_at_10']:5.3f} {x['mrr']:5.3f} "
            f"{x['mean_latency_ms']:6.1f} | {d['answer_accuracy']:5.3f} {d['abstention_accuracy']:5.3f} "
            f"{d['near_miss_declined']:5.3f} {d['median_answer_chars']:5.0f} {d['mean_latency_ms']:5.1f}"
        )


if __name__ == "__main__":
    cli("quality", run, describe)
