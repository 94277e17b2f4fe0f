"""Build and load the hybrid index (FAISS vectors + BM25 + per-sentence vectors) in `index/`.

Builds are incremental (entries whose content and encoder did not change keep their vectors) and
atomic: each build is written to its own folder and only then published by replacing the one-line
file `CURRENT`, so a crash or invalid knowledge never leaves a broken index behind. A build can be
stopped (`stop`, checked between files and between embedding batches); a stopped build publishes nothing.

Per-sentence vectors of each entry's text (`sentences.npy`, float16) live outside FAISS: they serve the
answer's sentence selection and must not change which entry ranks first.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import bm25s
import faiss
import numpy as np
from pydantic import Field, TypeAdapter

from bot.config import Config, IndexSettings, LimitSettings
from bot.embedding import Encoder
from bot.knowledge import (
    AnyEntry,
    Knowledge,
    LoadCancelled,
    load_knowledge,
    max_file_bytes,
    scan_knowledge,
)
from bot.text import TOKENIZER_VERSION, sentences, tokens, vocabulary

logging.getLogger("bm25s").setLevel(logging.WARNING)

FORMAT = 4  # 4: per-sentence vectors (sentences.npy, sentence_rows.npy)
CURRENT = "CURRENT"
BUILDS = "builds"
_ENTRIES = TypeAdapter(list[Annotated[AnyEntry, Field(discriminator="type")]])
WINDOW_CHARS = 320


class IndexMissing(Exception):
    """No usable index has been built yet."""


class BuildError(Exception):
    """Knowledge is invalid; nothing was built. `problems` are `file:line: message` lines."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class BuildCancelled(BuildError):
    """`stop` was set during the build: it ended early and the published index is untouched."""

    def __init__(self) -> None:
        super().__init__(
            ["Der Neuaufbau des Index wurde abgebrochen; der bisherige Index bleibt in Gebrauch."]
        )


def _check_stop(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise BuildCancelled


@dataclass
class Manifest:
    format: int
    encoder: str
    dim: int
    kind: str
    knowledge_digest: str
    entries: dict[str, str]
    built_at: str
    vectors: int
    settings: dict[str, Any] = field(default_factory=dict)
    sentences: int = 0


@dataclass(eq=False)
class Index:
    """A loaded build: everything search needs, immutable once loaded.

    `vectors` is a read-only view of FAISS's own storage (no float32 copy), so search can
    score any entry by its true cosine: entry p owns rows `entry_rows[p]:entry_rows[p + 1]`. Its
    sentences own rows `sentence_rows[p]:sentence_rows[p + 1]` of the memory-mapped `sentence_vectors`.
    `scan` is a float16 copy of a flat index's vectors (1 KB per vector): a question's full scan
    reads half the bytes, and search rescores what it names exactly. `shown_cache` holds the stems of
    entries' shown texts, filled by search's re-rank as it needs them.
    """

    path: Path
    manifest: Manifest
    entries: list[AnyEntry]
    vector_entry: np.ndarray
    dense: faiss.Index
    bm25: bm25s.BM25
    vocabulary: frozenset[str]
    vectors: np.ndarray
    entry_rows: np.ndarray
    sentence_vectors: np.ndarray
    sentence_rows: np.ndarray
    entry_types: np.ndarray
    scan: faiss.Index | None = None
    shown_cache: dict[int, frozenset[str]] = field(default_factory=dict, repr=False)


@dataclass
class BuildReport:
    path: Path
    entries: int
    embedded: int
    reused: int
    removed: int
    seconds: float
    skipped: bool = False
    texts_embedded: int = 0  # encoder inputs (passages, windows, questions, sentences; duplicates once)


# --------------------------------------------------------------------------- what gets indexed


def lexical_document(entry: AnyEntry) -> str:
    """The words an entry is found by: what it shows (title, text) plus its example questions and tags."""
    return " ".join([entry.title, entry.text, *entry.questions, *entry.tags])


def _windows(text: str) -> list[str]:
    """Sentence groups of about half a window each; only for passages too long for one good vector."""
    if len(text) <= WINDOW_CHARS:
        return []
    out, current = [], ""
    for sentence in sentences(text):
        current = f"{current} {sentence}".strip()
        if len(current) >= WINDOW_CHARS // 2:
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out if len(out) > 1 else []


def dense_texts(entry: AnyEntry) -> list[str]:
    """Several vectors per entry: the whole passage, sentence groups of long passages, each example question."""
    return [f"{entry.title}. {entry.text}", *_windows(entry.text), *entry.questions]


def entry_hash(entry: AnyEntry, encoder_name: str) -> str:
    """Covers every embedded text, sentence vectors included: equal hash, reusable vectors."""
    payload = json.dumps([encoder_name, dense_texts(entry), sentences(entry.text)], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def knowledge_digest(folder: Path, limits: LimitSettings | None = None) -> str:
    """Fingerprint of the knowledge files' names and bytes: any edit makes the index stale.

    Files over the size limit count by size and time only (they are refused, so never read whole), and
    refused links by name, so adding or removing one changes the fingerprint too.
    """
    limit = max_file_bytes(limits or LimitSettings())
    files, refused = scan_knowledge(folder)
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(folder)).encode())
        with contextlib.suppress(OSError):
            stat = path.stat()
            if stat.st_size > limit:
                digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
                continue
            with open(path, "rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())
    for link in refused:
        digest.update(f"link:{link.relative_to(folder)}".encode())
    return digest.hexdigest()


def _settings_key(settings: IndexSettings) -> dict[str, Any]:
    """What else a build depends on: index settings and the tokenizer BM25 was built with."""
    return {**settings.model_dump(), "tokenizer": TOKENIZER_VERSION}


# --------------------------------------------------------------------------- files


@contextlib.contextmanager
def _build_lock(index_dir: Path, stop: threading.Event | None = None) -> Iterator[None]:
    """One build at a time per index folder (CLI and a running bot may both build); `stop` ends the wait."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        if stop is None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        else:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if stop.wait(0.1):
                        raise BuildCancelled from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_build(index_dir: Path) -> Path | None:
    try:
        name = (index_dir / CURRENT).read_text().strip()
    except OSError:
        return None
    path = index_dir / BUILDS / name
    return path if name and (path / "manifest.json").exists() else None


def read_manifest(build: Path) -> Manifest:
    return Manifest(**json.loads((build / "manifest.json").read_text()))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(index_dir: Path, build: Path) -> None:
    pointer = index_dir / f".{CURRENT}.tmp"
    with open(pointer, "w") as handle:
        handle.write(build.name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pointer, index_dir / CURRENT)
    _fsync_dir(index_dir)


def _clean_old(index_dir: Path, keep: set[str]) -> None:
    builds = index_dir / BUILDS
    for path in builds.iterdir():
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- build


def _stack(blocks: list[np.ndarray], dim: int, dtype: type) -> np.ndarray:
    return np.vstack(blocks).astype(dtype, copy=False) if blocks else np.zeros((0, dim), dtype)


def _make_dense(vectors: np.ndarray, settings: IndexSettings) -> faiss.Index:
    dim = vectors.shape[1]
    if settings.kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = settings.hnsw_ef_construction
        index.hnsw.efSearch = settings.hnsw_ef_search
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(vectors)
    return index


class _Keeper:
    """Makes a numpy view of FAISS memory hold the FAISS index, so the view never outlives its buffer."""

    def __init__(self, owner: faiss.Index, view: np.ndarray):
        self.owner = owner
        self.__array_interface__ = view.__array_interface__


def stored_vectors(dense: faiss.Index) -> np.ndarray:
    """The vectors FAISS holds, as a read-only view of its own buffer when it has one (flat, HNSW).

    A view instead of `reconstruct_n`: a second copy would cost 2 KB per vector (400 MB at 100k entries).
    """
    flat = faiss.downcast_index(dense.storage) if isinstance(dense, faiss.IndexHNSW) else dense
    if not isinstance(flat, faiss.IndexFlat):
        return dense.reconstruct_n(0, dense.ntotal)
    if flat.ntotal == 0:
        return np.zeros((0, flat.d), dtype=np.float32)
    raw = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d)
    view = np.asarray(_Keeper(dense, raw))
    view.flags.writeable = False
    return view


def _scan_index(dense: faiss.Index) -> faiss.Index | None:
    """Float16 copy of a flat index for search's full scans (memory-bound: half the bytes, ~35 % faster)."""
    if not isinstance(dense, faiss.IndexFlat):
        return None
    scan = faiss.IndexScalarQuantizer(dense.d, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    if dense.ntotal:
        scan.add(stored_vectors(dense))
    return scan


def _rows(owner: np.ndarray, entries: int) -> np.ndarray:
    """Start/stop offsets per entry; rows of one entry are contiguous because builds append entry by entry."""
    return np.searchsorted(owner, np.arange(entries + 1)).astype(np.int64)


def _previous_vectors(
    index_dir: Path, encoder: Encoder
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], Manifest | None]:
    """Vectors and sentence vectors of the last build by entry hash, so unchanged entries are not embedded again."""
    build = current_build(index_dir)
    if build is None:
        return {}, None
    try:
        manifest = read_manifest(build)
        if manifest.encoder != encoder.name or manifest.dim != encoder.dim or manifest.format != FORMAT:
            return {}, manifest
        vectors = stored_vectors(faiss.read_index(str(build / "dense.faiss")))
        bounds = _rows(np.load(build / "vector_entry.npy"), len(manifest.entries))
        sentence_vectors = np.load(build / "sentences.npy", mmap_mode="r")
        sentence_bounds = np.load(build / "sentence_rows.npy")
        ids = list(manifest.entries)
        return {
            manifest.entries[entry_id]: (
                vectors[bounds[i] : bounds[i + 1]],
                sentence_vectors[sentence_bounds[i] : sentence_bounds[i + 1]],
            )
            for i, entry_id in enumerate(ids)
        }, manifest
    except (OSError, ValueError, TypeError, KeyError, RuntimeError, IndexError):
        return {}, None


def _embed(
    encoder: Encoder, texts: list[str], batch: int, progress: bool, stop: threading.Event | None = None
) -> np.ndarray:
    """Vectors of `texts` batch by batch; `stop` is looked at before each batch (BuildCancelled)."""
    if not texts:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    out = []
    with contextlib.ExitStack() as stack:
        bar = task = None
        if progress and len(texts) > batch * 4:
            from rich.progress import Progress

            bar = stack.enter_context(Progress(transient=True))
            task = bar.add_task("Einbetten", total=len(texts))
        for i in range(0, len(texts), batch):
            _check_stop(stop)
            out.append(encoder.encode(texts[i : i + batch]))
            if bar is not None and task is not None:
                bar.advance(task, len(texts[i : i + batch]))
    return np.vstack(out)


def build_index(
    config: Config,
    encoder: Encoder,
    *,
    knowledge_dir: Path | None = None,
    index_dir: Path | None = None,
    force: bool = False,
    progress: bool = False,
    stop: threading.Event | None = None,
) -> BuildReport:
    """Validate knowledge and publish a new index build.

    Raises BuildError on invalid knowledge (any failure reading it included) and BuildCancelled when
    `stop` is set before the new build is published; either way the current index stays as it is.
    """
    knowledge_dir = knowledge_dir or config.knowledge_dir
    index_dir = index_dir or config.index_dir
    started = time.perf_counter()
    with _build_lock(index_dir, stop):
        _check_stop(stop)
        digest = knowledge_digest(knowledge_dir, config.limits)
        try:
            kb: Knowledge = load_knowledge(knowledge_dir, limits=config.limits, stop=stop)
        except LoadCancelled:
            raise BuildCancelled from None
        if not kb.ok:
            raise BuildError([str(p) for p in kb.errors])
        previous, old_manifest = _previous_vectors(index_dir, encoder)
        settings = _settings_key(config.index)
        if (
            not force
            and old_manifest is not None
            and old_manifest.format == FORMAT
            and old_manifest.knowledge_digest == digest
            and old_manifest.encoder == encoder.name
            and old_manifest.settings == settings
        ):
            return BuildReport(
                current_build(index_dir), len(kb.entries), 0, len(kb.entries), 0, 0.0, skipped=True
            )

        hashes = {e.id: entry_hash(e, encoder.name) for e in kb.entries}
        todo = list({hashes[e.id]: e for e in kb.entries if hashes[e.id] not in previous}.values())
        per_entry = [(dense_texts(e), sentences(e.text)) for e in todo]
        unique = list(dict.fromkeys(t for texts, said in per_entry for t in (*texts, *said)))
        embedded = _embed(encoder, unique, config.embedding.batch_size, progress, stop)
        row_of = {text: row for row, text in enumerate(unique)}
        fresh = {
            hashes[entry.id]: (
                embedded[[row_of[t] for t in texts]].reshape(len(texts), encoder.dim),
                embedded[[row_of[t] for t in said]].reshape(len(said), encoder.dim).astype(np.float16),
            )
            for entry, (texts, said) in zip(todo, per_entry, strict=True)
        }

        blocks = [fresh[h] if h in fresh else previous[h] for h in (hashes[e.id] for e in kb.entries)]
        vectors = _stack([b[0] for b in blocks], encoder.dim, np.float32)
        sentence_vectors = _stack([b[1] for b in blocks], encoder.dim, np.float16)
        owner = np.repeat(np.arange(len(blocks), dtype=np.int32), [len(b[0]) for b in blocks])
        sentence_rows = np.concatenate([[0], np.cumsum([len(b[1]) for b in blocks], dtype=np.int64)])

        documents = [lexical_document(e) for e in kb.entries]
        vocab = vocabulary(documents)
        bm25 = bm25s.BM25()
        bm25.index([tokens(d, vocab) or [""] for d in documents], show_progress=False)
        _check_stop(stop)

        name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + f"-{os.getpid()}"
        builds = index_dir / BUILDS
        builds.mkdir(parents=True, exist_ok=True)
        for stale_tmp in builds.glob(".tmp-*"):
            shutil.rmtree(stale_tmp, ignore_errors=True)
        tmp = builds / f".tmp-{name}"
        tmp.mkdir()
        np.save(tmp / "vector_entry.npy", owner)
        np.save(tmp / "sentences.npy", sentence_vectors)
        np.save(tmp / "sentence_rows.npy", sentence_rows)
        faiss.write_index(_make_dense(vectors, config.index), str(tmp / "dense.faiss"))
        bm25.save(str(tmp / "bm25"), show_progress=False)
        (tmp / "vocabulary.json").write_text(json.dumps(sorted(vocab), ensure_ascii=False))
        (tmp / "entries.json").write_text(
            json.dumps([e.model_dump(mode="json") for e in kb.entries], ensure_ascii=False)
        )
        manifest = Manifest(
            format=FORMAT,
            encoder=encoder.name,
            dim=encoder.dim,
            kind=config.index.kind,
            knowledge_digest=digest,
            entries=hashes,
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            vectors=len(vectors),
            settings=settings,
            sentences=len(sentence_vectors),
        )
        (tmp / "manifest.json").write_text(json.dumps(asdict(manifest), indent=1, ensure_ascii=False))
        for path in tmp.rglob("*"):
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
        if stop is not None and stop.is_set():
            shutil.rmtree(tmp, ignore_errors=True)
            raise BuildCancelled
        final = builds / name
        os.replace(tmp, final)
        _fsync_dir(builds)
        old = current_build(index_dir)
        _publish(index_dir, final)
        _clean_old(index_dir, {final.name} | ({old.name} if old else set()))
        removed = len(set(old_manifest.entries) - set(hashes)) if old_manifest else 0
        reused = sum(hashes[e.id] in previous for e in kb.entries)
        return BuildReport(
            final,
            len(kb.entries),
            embedded=len(kb.entries) - reused,
            reused=reused,
            removed=removed,
            seconds=time.perf_counter() - started,
            texts_embedded=len(unique),
        )


# --------------------------------------------------------------------------- load


def load_index(index_dir: Path, threads: int = 1) -> Index:
    build = current_build(index_dir)
    if build is None:
        raise IndexMissing(f"Kein Index in {index_dir}. Bitte „regiobot build“ ausführen.")
    faiss.omp_set_num_threads(threads)
    manifest = read_manifest(build)
    entries = _ENTRIES.validate_json((build / "entries.json").read_bytes())
    dense = faiss.read_index(str(build / "dense.faiss"))
    vector_entry = np.load(build / "vector_entry.npy")
    if (build / "sentence_rows.npy").exists():
        sentence_vectors = np.load(build / "sentences.npy", mmap_mode="r")
        sentence_rows = np.load(build / "sentence_rows.npy")
    else:  # a build of an older format: serves until `stale_reason` has it rebuilt, without sentences
        sentence_vectors = np.zeros((0, manifest.dim), np.float16)
        sentence_rows = np.zeros(len(entries) + 1, np.int64)
    return Index(
        path=build,
        manifest=manifest,
        entries=entries,
        vector_entry=vector_entry,
        dense=dense,
        bm25=bm25s.BM25.load(str(build / "bm25"), show_progress=False),
        vocabulary=frozenset(json.loads((build / "vocabulary.json").read_text())),
        vectors=stored_vectors(dense),
        entry_rows=_rows(vector_entry, len(entries)),
        sentence_vectors=sentence_vectors,
        sentence_rows=sentence_rows,
        entry_types=np.array([e.type for e in entries], dtype=str),
        scan=_scan_index(dense),
    )


def stale_reason(
    manifest: Manifest, config: Config, encoder_name: str, knowledge_dir: Path | None = None
) -> str | None:
    """Why the index no longer matches knowledge, encoder or settings; None when it is current."""
    if manifest.format != FORMAT:
        return "Indexformat veraltet"
    if manifest.encoder != encoder_name:
        return f"Encoder geändert ({manifest.encoder} → {encoder_name})"
    if manifest.settings.get("tokenizer") != TOKENIZER_VERSION:
        return "Tokenizer geändert"
    if manifest.settings != _settings_key(config.index):
        return "Index-Einstellungen geändert"
    if manifest.knowledge_digest != knowledge_digest(knowledge_dir or config.knowledge_dir, config.limits):
        return "Wissensdateien geändert"
    return None
