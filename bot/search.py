"""Hybrid retrieval: dense cosine (max over an entry's vectors) fused with max-normalised BM25.

Every candidate is fused with its true cosine, wherever it was found: as knowledge grows, the nearest
vectors of a question are mostly other entries' example questions, and a paragraph found only by BM25
must not compete with a dense score of 0. With the exact (flat) index the result is the exact weighted
fusion over every entry (a float16 scan names the nearest entries, a bound on everyone else's cosine
decides which BM25 hits can still rank, and all of them are scored with float32 vectors); with HNSW the
candidates are the approximate dense neighbours plus BM25's best `search.pool` entries.

The fused score ranks; it is not a confidence. Whether to answer at all is decided from absolute
signals (best cosine, how many query terms the knowledge knows), see the engine's confidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import faiss
import numpy as np

from bot.config import SearchSettings
from bot.embedding import Encoder
from bot.index import Index
from bot.knowledge import AnyEntry
from bot.text import sentences, tokens, unknown_parts

SCAN_TOLERANCE = 2e-3  # bound on a cosine's error from float16 vectors (about 5e-4 for unit vectors)
SHOWN_TERMS_CACHE = 20_000  # entries whose shown terms stay tokenised (the re-rank asks for the top 10)


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
    return tokens(query) + unknown_parts(query, index.bm25.vocab_dict, index.vocabulary)


def _flat(query_vector: np.ndarray) -> np.ndarray:
    return np.asarray(query_vector, dtype=np.float32).reshape(-1)


def _inner_products(vectors: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Every row's inner product with `q`, with FAISS's SIMD kernel: one thread, like FAISS's own flat
    search, and about a fifth faster than a single-threaded BLAS gemv for one query."""
    out = np.empty(len(vectors), dtype=np.float32)
    if len(vectors):
        q = np.ascontiguousarray(q, dtype=np.float32)
        faiss.fvec_inner_products_ny(
            faiss.swig_ptr(out), faiss.swig_ptr(q), faiss.swig_ptr(vectors), len(q), len(vectors)
        )
    return out


def _entry_rows(index: Index, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The vector rows of the given entries, concatenated, and where each entry's rows begin among them."""
    rows = index.entry_rows
    starts, lengths = rows[positions], rows[positions + 1] - rows[positions]
    firsts = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum())) - np.repeat(firsts - starts, lengths), firsts


def cosines(index: Index, query_vector: np.ndarray, positions: np.ndarray | None = None) -> np.ndarray:
    """True cosine of entries (the best of each entry's vectors); of all entries when `positions` is None."""
    q = _flat(query_vector)
    if positions is None:
        if not len(index.vectors):
            return np.zeros(len(index.entries), dtype=np.float32)
        return np.maximum.reduceat(_inner_products(index.vectors, q), index.entry_rows[:-1])
    positions = np.asarray(positions, dtype=np.int64)
    if not len(positions):
        return np.zeros(0, dtype=np.float32)
    gathered, firsts = _entry_rows(index, positions)
    return np.maximum.reduceat(index.vectors[gathered] @ q, firsts)


def _exact_top(
    index: Index,
    query_vector: np.ndarray,
    lexical_norm: np.ndarray,
    mask: np.ndarray | None,
    want: int,
    s: SearchSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Every entry that can be among the `want` best by weighted fusion, with its true cosine (flat index).

    The float16 scan (`index.scan`, half the bytes of a float32 scan) names the entries owning the nearest
    vectors; no other entry's cosine exceeds the last of them (plus the float16 error), so of the rest only
    entries whose BM25 part can make up the difference can still rank, and those are scored exactly too.
    """
    q = _flat(query_vector)
    total = index.scan.ntotal
    lexical = np.flatnonzero(lexical_norm)
    if mask is not None:
        lexical = lexical[mask[lexical]]
    take = 4 * want
    while True:
        sims, rows = index.scan.search(q.reshape(1, -1), min(take, total))
        found = rows[0][rows[0] >= 0]
        owners = np.fromiter(dict.fromkeys(index.vector_entry[found].tolist()), dtype=np.int64)
        if mask is not None:
            owners = owners[mask[owners]]
        complete = take >= total
        ceiling = -np.inf if complete else float(sims[0][-1]) + SCAN_TOLERANCE
        first = np.union1d(owners, lexical[np.argsort(-lexical_norm[lexical])[:want]])
        dense = cosines(index, q, first)
        fused = s.dense_weight * dense + s.bm25_weight * lexical_norm[first]
        bar = float(np.partition(fused, -want)[-want]) if len(fused) >= want else -np.inf
        if complete or s.dense_weight * ceiling < bar:
            break
        take *= 4
    reach = np.setdiff1d(
        lexical[s.dense_weight * ceiling + s.bm25_weight * lexical_norm[lexical] >= bar], first
    )
    candidates = np.concatenate([first, reach])
    return candidates, np.concatenate([dense, cosines(index, q, reach)])


def entry_cosine(index: Index, position: int, query_vector: np.ndarray) -> float:
    """True cosine of one entry: the best of its vectors (passage, sentence groups, example questions)."""
    start, stop = index.entry_rows[position], index.entry_rows[position + 1]
    return float((index.vectors[start:stop] @ _flat(query_vector)).max()) if stop > start else 0.0


def sentence_scores(index: Index, position: int, query_vector: np.ndarray) -> list[tuple[str, float]]:
    """Each sentence of the entry's text (as `bot.text.sentences` splits it) with its cosine to the query.

    Empty when the build has no sentence vectors for this entry (an index of an older format, or a
    sentence splitter that changed since the build): the caller then chooses without cosines.
    """
    said = sentences(index.entries[position].text)
    start, stop = int(index.sentence_rows[position]), int(index.sentence_rows[position + 1])
    if stop - start != len(said):
        return []
    sims = np.asarray(index.sentence_vectors[start:stop], dtype=np.float32) @ _flat(query_vector)
    return [(s, float(c)) for s, c in zip(said, sims, strict=True)]


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest scores, best first (ties: lower position first)."""
    head = np.arange(len(scores)) if k >= len(scores) else np.sort(np.argpartition(-scores, k)[:k])
    return head[np.argsort(-scores[head], kind="stable")]


def _dense_neighbours(index: Index, query_vector: np.ndarray, pool: int) -> np.ndarray:
    """Entries owning the approximate nearest vectors (HNSW); their scores are recomputed exactly."""
    total = index.dense.ntotal
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    _, rows = index.dense.search(_flat(query_vector).reshape(1, -1), min(total, max(4 * pool, 64)))
    found = rows[0][rows[0] >= 0]
    return np.unique(index.vector_entry[found]).astype(np.int64)


def search(
    index: Index,
    encoder: Encoder,
    query: str,
    settings: SearchSettings,
    *,
    types: set[str] | None = None,
    limit: int | None = None,
    query_vector: np.ndarray | None = None,
    terms: list[str] | None = None,
) -> Result:
    """Rank entries for `query`; `types` restricts to entry types (e.g. {"event"}).

    `terms` replaces the query's own stems (`query_terms`) as its lexical terms, e.g. expanded with synonyms.
    """
    want = limit or settings.candidates
    pool = max(want, settings.pool)
    n = len(index.entries)
    vocab = index.bm25.vocab_dict
    terms = query_terms(query, index) if terms is None else list(terms)
    known = [t for t in terms if t in vocab]
    if query_vector is None:
        query_vector = encoder.encode([query])
    lexical = (
        np.asarray(index.bm25.get_scores(known), dtype=np.float32) if known and n else np.zeros(n, np.float32)
    )
    top_lexical = float(lexical.max()) if n else 0.0
    lexical_norm = lexical / top_lexical if top_lexical > 0 else lexical
    mask = np.isin(index.entry_types, sorted(types)) if types else None

    if isinstance(index.dense, faiss.IndexFlat) and settings.fusion == "weighted":
        candidates, dense = _exact_top(index, query_vector, lexical_norm, mask, want, settings)
    elif isinstance(index.dense, faiss.IndexFlat):
        candidates = np.arange(n) if mask is None else np.flatnonzero(mask)
        dense = cosines(index, query_vector)[candidates]
    else:
        lexical_pool = _top(lexical if mask is None else np.where(mask, lexical, 0), pool)
        found = np.union1d(
            _dense_neighbours(index, query_vector, pool), lexical_pool[lexical[lexical_pool] > 0]
        )
        candidates = found if mask is None else found[mask[found]]
        dense = cosines(index, query_vector, candidates)
    lexical_candidates = lexical[candidates]

    if settings.fusion == "rrf":
        fused = settings.dense_weight * _rrf(dense, pool, settings.rrf_k) + settings.bm25_weight * _rrf(
            lexical_candidates, pool, settings.rrf_k, positive=True
        )
    else:
        fused = settings.dense_weight * dense + settings.bm25_weight * lexical_norm[candidates]
    order = _top(fused, want)
    hits = [
        Hit(
            entry=index.entries[int(candidates[i])],
            score=float(fused[i]),
            dense=float(dense[i]),
            lexical=float(lexical_candidates[i]),
        )
        for i in order
    ]
    result = Result(query=query, hits=hits, query_terms=terms, known_terms=known)
    if settings.overlap_rank_weight and hits:
        head = min(settings.rerank_depth, want)
        weights = term_weights(result, index)
        positions = [int(candidates[i]) for i in order[:head]]
        reranked = [
            replace(h, score=h.score + settings.overlap_rank_weight * _overlap(weights, p, index))
            for h, p in zip(hits[:head], positions, strict=True)
        ]
        reranked.sort(key=lambda h: h.score, reverse=True)
        result = replace(result, hits=reranked + hits[head:])
    return result


def _rrf(scores: np.ndarray, pool: int, k: int, positive: bool = False) -> np.ndarray:
    """Reciprocal rank of each candidate within its retriever's best `pool` (0 outside it)."""
    out = np.zeros(len(scores), dtype=np.float64)
    head = _top(scores, pool)
    if positive:
        head = head[scores[head] > 0]
    out[head] = 1.0 / (k + np.arange(1, len(head) + 1))
    return out


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


def shown_terms(index: Index, position: int) -> frozenset[str]:
    """Stems of the text an entry shows (title and text), tokenised once per loaded index (bounded cache)."""
    found = index.shown_cache.get(position)
    if found is None:
        if len(index.shown_cache) >= SHOWN_TERMS_CACHE:
            index.shown_cache.clear()
        entry = index.entries[position]
        found = index.shown_cache[position] = frozenset(
            tokens(f"{entry.title} {entry.text}", index.vocabulary)
        )
    return found


def _overlap(weights: dict[str, float], position: int, index: Index) -> float:
    total = sum(weights.values())
    if not total:
        return 0.0
    own = shown_terms(index, position)
    return sum(w for t, w in weights.items() if t in own) / total


def term_overlap(result: Result, hit: Hit, index: Index) -> float:
    """Idf-weighted share of the query's terms that occur in the hit's shown text (rare terms count most)."""
    weights = term_weights(result, index)
    total = sum(weights.values())
    if not total:
        return 0.0
    own = set(tokens(f"{hit.entry.title} {hit.entry.text}", index.vocabulary))
    return sum(w for t, w in weights.items() if t in own) / total
