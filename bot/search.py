"""Hybrid retrieval: dense cosine (max over an entry's vectors) fused with max-normalised BM25.

The fused score ranks; it is not a confidence. Whether to answer at all is decided from absolute
signals (best cosine, how many query terms the knowledge knows), see `confidence`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from bot.config import SearchSettings
from bot.embedding import Encoder
from bot.index import Index
from bot.knowledge import AnyEntry
from bot.text import decompound, tokens


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


def query_terms(query: str, index: Index) -> list[str]:
    """Query stems; a compound the knowledge does not know is also tried as its known parts."""
    stems = tokens(query)
    vocab = index.bm25.vocab_dict
    return stems + [p for t in stems if t not in vocab for p in decompound(t, index.vocabulary)]


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
    vocab = index.bm25.vocab_dict
    terms = query_terms(query, index)
    known = [t for t in terms if t in vocab]
    if query_vector is None:
        query_vector = encoder.encode([query])
    dense = _dense_scores(index, query_vector, want)
    lexical = index.bm25.get_scores(known) if known else np.zeros(len(index.entries), dtype=np.float32)
    top_lexical = float(lexical.max()) if len(lexical) else 0.0
    lexical_top: list[int] = []
    if top_lexical > 0:
        head = np.argpartition(-lexical, min(want, len(lexical) - 1))[:want]
        lexical_top = [int(i) for i in head[np.argsort(-lexical[head])] if lexical[i] > 0]
    if settings.fusion == "rrf":
        dense_rank = {p: r for r, p in enumerate(sorted(dense, key=dense.__getitem__, reverse=True), 1)}
        lexical_rank = {p: r for r, p in enumerate(lexical_top, 1)}
    hits = []
    for position in set(dense) | set(lexical_top):
        entry = index.entries[position]
        if types and entry.type not in types:
            continue
        lex = float(lexical[position]) if len(lexical) else 0.0
        cos = dense.get(position, 0.0)
        if settings.fusion == "rrf":
            fused = settings.dense_weight / (settings.rrf_k + dense_rank.get(position, 10**6)) + (
                settings.bm25_weight / (settings.rrf_k + lexical_rank.get(position, 10**6))
            )
        else:
            fused = settings.dense_weight * cos + settings.bm25_weight * (
                lex / top_lexical if top_lexical else 0.0
            )
        hits.append(Hit(entry=entry, score=fused, dense=cos, lexical=lex))
    hits.sort(key=lambda h: h.score, reverse=True)
    result = Result(query=query, hits=hits[:want], query_terms=terms, known_terms=known)
    if settings.overlap_rank_weight and hits:
        head = min(settings.rerank_depth, want)
        weights = term_weights(result, index)
        reranked = [
            replace(h, score=h.score + settings.overlap_rank_weight * _overlap(weights, h, index))
            for h in hits[:head]
        ]
        reranked.sort(key=lambda h: h.score, reverse=True)
        result = replace(result, hits=reranked + hits[head:want])
    return result


def idf(index: Index, term: str) -> float:
    """BM25 idf of a stemmed term; a term the knowledge never uses gets the highest possible weight."""
    total = len(index.entries)
    token_id = index.bm25.vocab_dict.get(term)
    if token_id is None:
        df = 0
    else:
        indptr = index.bm25.scores["indptr"]
        df = int(indptr[token_id + 1] - indptr[token_id])
    return math.log(1 + (total - df + 0.5) / (df + 0.5))


def term_weights(result: Result, index: Index) -> dict[str, float]:
    return {t: idf(index, t) for t in result.query_terms}


def _overlap(weights: dict[str, float], hit: Hit, index: Index) -> float:
    total = sum(weights.values())
    if not total:
        return 0.0
    own = set(tokens(f"{hit.entry.title} {hit.entry.text}", index.vocabulary))
    return sum(w for t, w in weights.items() if t in own) / total


def term_overlap(result: Result, hit: Hit, index: Index) -> float:
    """Idf-weighted share of the query's terms that occur in the hit's shown text (rare terms count most)."""
    return _overlap(term_weights(result, index), hit, index)
