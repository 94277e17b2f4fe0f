"""Hybrid retrieval: dense cosine (max over an entry's vectors) fused with max-normalised BM25.

The fused score ranks; it is not a confidence. Whether to answer at all is decided from absolute
signals (best cosine, how many query terms the knowledge knows), see `confidence`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.config import SearchSettings
from bot.embedding import Encoder
from bot.index import Index, lexical_document
from bot.knowledge import AnyEntry
from bot.text import tokens


@dataclass(frozen=True)
class Hit:
    entry: AnyEntry
    score: float
    dense: float
    lexical: float


@dataclass(frozen=True)
class Result:
    query: str
    hits: list[Hit]
    query_terms: list[str]
    known_terms: list[str]

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


def _dense_scores(index: Index, query_vector: np.ndarray, want: int) -> dict[int, float]:
    total = index.dense.ntotal
    if total == 0:
        return {}
    k = min(total, max(want * 8, 64))
    sims, rows = index.dense.search(query_vector, k)
    best: dict[int, float] = {}
    for sim, row in zip(sims[0], rows[0], strict=True):
        if row < 0:
            continue
        position = int(index.vector_entry[row])
        if sim > best.get(position, -1.0):
            best[position] = float(sim)
    return best


def search(
    index: Index,
    encoder: Encoder,
    query: str,
    settings: SearchSettings,
    *,
    types: set[str] | None = None,
    limit: int | None = None,
    query_vector: np.ndarray | None = None,
) -> Result:
    """Rank entries for `query`; `types` restricts to entry types (e.g. {"event"})."""
    want = limit or settings.candidates
    terms = tokens(query, index.vocabulary)
    vocab = index.bm25.vocab_dict
    known = [t for t in terms if t in vocab]
    if query_vector is None:
        query_vector = encoder.encode([query])
    dense = _dense_scores(index, query_vector, want)
    lexical = index.bm25.get_scores(known) if known else np.zeros(len(index.entries), dtype=np.float32)
    top_lexical = float(lexical.max()) if len(lexical) else 0.0
    candidates = set(dense)
    if top_lexical > 0:
        candidates |= {int(i) for i in np.argsort(-lexical)[:want] if lexical[i] > 0}
    hits = []
    for position in candidates:
        entry = index.entries[position]
        if types and entry.type not in types:
            continue
        lex = float(lexical[position]) if len(lexical) else 0.0
        cos = dense.get(position, 0.0)
        fused = settings.dense_weight * cos + settings.bm25_weight * (
            lex / top_lexical if top_lexical else 0.0
        )
        hits.append(Hit(entry=entry, score=fused, dense=cos, lexical=lex))
    hits.sort(key=lambda h: h.score, reverse=True)
    return Result(query=query, hits=hits[:want], query_terms=terms, known_terms=known)


def term_overlap(result: Result, hit: Hit, index: Index) -> float:
    """Share of the query's content terms that occur in the hit's own text."""
    if not result.query_terms:
        return 0.0
    own = set(tokens(lexical_document(hit.entry), index.vocabulary))
    return sum(t in own for t in result.query_terms) / len(result.query_terms)
