"""Index builds: per-sentence vectors beside FAISS, aligned with `sentences()`, reused incrementally;
stopped or failing builds leave the published index as it was."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np
import pytest

import bot.knowledge
from bot.config import Config
from bot.index import (
    FORMAT,
    BuildCancelled,
    BuildError,
    build_index,
    current_build,
    dense_texts,
    load_index,
    stale_reason,
    stored_vectors,
)
from bot.text import sentences

ROOT = Path(__file__).resolve().parents[1]
TOPICS = [
    ("Wasserstoff", "Elektrolyse", "Zeitz"),
    ("Radverkehr", "Radwege", "Sangerhausen"),
    ("Breitband", "Glasfaser", "Allstedt"),
    ("Tourismus", "Wanderwege", "Wettelrode"),
    ("Fachkräfte", "Ausbildung", "Eisleben"),
    ("Holzbau", "Bauholz", "Hettstedt"),
]


def write_knowledge(folder: Path, changed: str | None = None) -> Path:
    """Info entries of one to three sentences (one with an example question); `changed` edits one text."""
    entries = []
    for n, (topic, detail, place) in enumerate(TOPICS):
        text = f"Die Arbeitsgruppe {topic} in {place} trifft sich monatlich."
        if n % 3:
            text += f" Sie kümmert sich vor allem um {detail}."
        if n % 3 == 2:
            text += f" Ansprechpartnerin ist Frau Muster{n} aus {place}."
        if changed and n == 1:
            text = text.replace("monatlich", changed)
        entry = {"id": f"ag-{n}", "type": "info", "title": f"AG {topic} {place}", "text": text}
        if n == 0:
            entry["questions"] = [f"Wer kümmert sich um {topic}?"]
        entries.append(entry)
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"defaults": {"source": {"document": "Test"}, "updated": "2026-11-01"}, "entries": entries}
    (folder / "ag.yaml").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.fixture
def built(config: Config, encoder, tmp_path: Path) -> tuple[Path, Path]:
    knowledge, index = write_knowledge(tmp_path / "k"), tmp_path / "i"
    build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
    return knowledge, index


def test_sentence_vectors_are_stored_beside_faiss_and_aligned(encoder, built) -> None:
    _, index_dir = built
    index = load_index(index_dir)
    said = [sentences(e.text) for e in index.entries]
    assert index.manifest.format == FORMAT
    assert index.manifest.sentences == sum(map(len, said)) == len(index.sentence_vectors)
    assert index.sentence_vectors.dtype == np.float16 and isinstance(index.sentence_vectors, np.memmap)
    assert np.array_equal(index.sentence_rows, np.cumsum([0, *map(len, said)]))
    # they are not in FAISS: FAISS holds exactly the entry vectors
    assert index.dense.ntotal == index.manifest.vectors == sum(len(dense_texts(e)) for e in index.entries)
    for position, entry in enumerate(index.entries):
        rows = index.sentence_vectors[index.sentence_rows[position] : index.sentence_rows[position + 1]]
        expected = encoder.encode(sentences(entry.text))
        assert np.allclose(np.asarray(rows, dtype=np.float32), expected, atol=2e-3), entry.id


def test_entry_vectors_are_a_view_in_entry_order(encoder, built) -> None:
    _, index_dir = built
    index = load_index(index_dir)
    assert np.array_equal(index.vectors, index.dense.reconstruct_n(0, index.dense.ntotal))
    assert not index.vectors.flags.writeable and not index.vectors.flags.owndata
    for position, entry in enumerate(index.entries):
        start, stop = index.entry_rows[position], index.entry_rows[position + 1]
        assert (index.vector_entry[start:stop] == position).all()
        assert np.allclose(index.vectors[start:stop], encoder.encode(dense_texts(entry)), atol=1e-5)


def test_stored_vectors_outlive_their_faiss_object() -> None:
    vectors = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    for dense in (faiss.IndexFlatIP(8), faiss.IndexHNSWFlat(8, 8, faiss.METRIC_INNER_PRODUCT)):
        dense.add(vectors)
        view = stored_vectors(dense)
        del dense
        assert np.array_equal(view, vectors)


def test_unchanged_knowledge_embeds_nothing(config: Config, encoder, built) -> None:
    knowledge, index_dir = built
    before = load_index(index_dir)
    again = build_index(config, encoder, knowledge_dir=knowledge, index_dir=index_dir, force=True)
    assert (again.embedded, again.reused, again.texts_embedded) == (0, len(TOPICS), 0)
    after = load_index(index_dir)
    assert np.array_equal(after.sentence_vectors, before.sentence_vectors)
    assert np.array_equal(after.vectors, before.vectors)
    assert build_index(config, encoder, knowledge_dir=knowledge, index_dir=index_dir).skipped


def test_one_changed_entry_re_embeds_only_its_texts(config: Config, encoder, built) -> None:
    knowledge, index_dir = built
    before = load_index(index_dir)
    write_knowledge(knowledge, changed="wöchentlich")
    report = build_index(config, encoder, knowledge_dir=knowledge, index_dir=index_dir)
    after = load_index(index_dir)
    entry = after.entries[1]
    assert "wöchentlich" in entry.text
    assert (report.embedded, report.reused) == (1, len(TOPICS) - 1)
    assert report.texts_embedded == len(set(dense_texts(entry)) | set(sentences(entry.text)))
    for position in range(len(TOPICS)):
        old = before.sentence_vectors[before.sentence_rows[position] : before.sentence_rows[position + 1]]
        new = after.sentence_vectors[after.sentence_rows[position] : after.sentence_rows[position + 1]]
        assert np.array_equal(old, new) == (position != 1)
    changed = after.sentence_vectors[after.sentence_rows[1] : after.sentence_rows[2]]
    assert np.allclose(np.asarray(changed, np.float32), encoder.encode(sentences(entry.text)), atol=2e-3)


def test_older_format_loads_is_stale_and_is_rebuilt(config: Config, encoder, built) -> None:
    knowledge, index_dir = built
    build = current_build(index_dir)
    manifest = json.loads((build / "manifest.json").read_text())
    (build / "manifest.json").write_text(json.dumps({**manifest, "format": FORMAT - 1}))
    (build / "sentences.npy").unlink()
    (build / "sentence_rows.npy").unlink()
    old = load_index(index_dir)  # still serves (without sentences) until it is rebuilt
    assert len(old.sentence_vectors) == 0 and len(old.sentence_rows) == len(old.entries) + 1
    assert stale_reason(old.manifest, config, encoder.name, knowledge) == "Indexformat veraltet"
    report = build_index(config, encoder, knowledge_dir=knowledge, index_dir=index_dir)
    assert report.embedded == len(TOPICS) and not report.skipped
    assert stale_reason(load_index(index_dir).manifest, config, encoder.name, knowledge) is None


def test_tokenizer_change_rebuilds_bm25_but_reuses_vectors(
    config: Config, encoder, built, monkeypatch
) -> None:
    knowledge, index_dir = built
    monkeypatch.setattr("bot.index.TOKENIZER_VERSION", -1)
    assert (
        stale_reason(load_index(index_dir).manifest, config, encoder.name, knowledge) == "Tokenizer geändert"
    )
    report = build_index(config, encoder, knowledge_dir=knowledge, index_dir=index_dir)
    assert not report.skipped and report.texts_embedded == 0


# --------------------------------------------------------------------------- stopped and failing builds


class FakeEncoder:
    """Deterministic unit vectors from text hashes, no model; `on_encode` runs at each batch."""

    name = "fake-8"
    dim = 8

    def __init__(self, on_encode=None) -> None:
        self.calls = 0
        self.on_encode = on_encode

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.on_encode:
            self.on_encode()
        seeds = [int.from_bytes(hashlib.sha256(t.encode()).digest()[:4], "little") for t in texts]
        vectors = np.array([np.random.default_rng(s).standard_normal(self.dim) for s in seeds], np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def fake_built(tmp_path: Path) -> tuple[Config, Path, Path]:
    knowledge, index = write_knowledge(tmp_path / "k"), tmp_path / "i"
    config = Config(knowledge_dir=knowledge, index_dir=index, embedding={"batch_size": 1})
    build_index(config, FakeEncoder(), knowledge_dir=knowledge, index_dir=index)
    return config, knowledge, index


def test_stopped_build_ends_between_batches_and_keeps_the_index(fake_built) -> None:
    config, knowledge, index = fake_built
    before = current_build(index)
    write_knowledge(knowledge, changed="wöchentlich")
    stop = threading.Event()
    encoder = FakeEncoder(on_encode=stop.set)  # stop arrives while the first batch is embedded
    with pytest.raises(BuildCancelled) as err:
        build_index(config, encoder, knowledge_dir=knowledge, index_dir=index, stop=stop)
    assert isinstance(err.value, BuildError) and "abgebrochen" in err.value.problems[0]
    assert encoder.calls == 1, "embedding went on after the stop"
    assert current_build(index) == before and not list((index / "builds").glob(".tmp-*"))
    assert "monatlich" in load_index(index).entries[1].text
    report = build_index(config, FakeEncoder(), knowledge_dir=knowledge, index_dir=index)
    assert report.embedded == 1 and "wöchentlich" in load_index(index).entries[1].text


def test_stopped_build_ends_while_loading_files(fake_built, monkeypatch) -> None:
    config, knowledge, index = fake_built
    before = current_build(index)
    write_knowledge(knowledge, changed="wöchentlich")
    (knowledge / "zweite.yaml").write_text((knowledge / "ag.yaml").read_text().replace('"ag-', '"zweite-'))
    stop = threading.Event()
    read_yaml = bot.knowledge._read_yaml
    read: list[str] = []

    def read_then_stop(path: Path, *args, **kwargs):
        read.append(path.name)
        stop.set()  # staff stop the build while the first file is read
        return read_yaml(path, *args, **kwargs)

    monkeypatch.setattr(bot.knowledge, "_read_yaml", read_then_stop)
    encoder = FakeEncoder()
    with pytest.raises(BuildCancelled):
        build_index(config, encoder, knowledge_dir=knowledge, index_dir=index, stop=stop)
    assert read == ["ag.yaml"] and encoder.calls == 0 and current_build(index) == before


def test_memory_error_in_the_loader_is_a_build_error_and_keeps_the_index(fake_built, monkeypatch) -> None:
    config, knowledge, index = fake_built
    before = current_build(index)
    write_knowledge(knowledge, changed="wöchentlich")

    def exhausted(loader):
        raise MemoryError

    monkeypatch.setattr(bot.knowledge._Loader, "get_single_data", exhausted)
    with pytest.raises(BuildError) as err:
        build_index(config, FakeEncoder(), knowledge_dir=knowledge, index_dir=index)
    [problem] = err.value.problems
    assert problem.endswith(
        "ag.yaml:1: Die Datei konnte nicht verarbeitet werden: nicht genug Speicher "
        "(MemoryError). Ist sie ungewöhnlich groß oder tief verschachtelt?"
    )
    assert current_build(index) == before
