"""Knowledge faults during builds: the previous index keeps answering, and the next build recovers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bot.answer import Engine
from bot.config import Config
from bot.index import BuildError, build_index, current_build, load_index, stale_reason

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = """\
defaults:
  source: {document: Testquelle}
  updated: 2026-11-01
entries:
  - id: bibliothek
    type: info
    title: Öffnungszeiten der Bibliothek
    text: Die Stadtbibliothek Sangerhausen öffnet montags bis freitags um 9 Uhr.
  - id: museum
    type: info
    title: Bergbaumuseum Wettelrode
    text: Das ErlebnisZentrum Bergbau Röhrigschacht Wettelrode zeigt die Geschichte des Kupferbergbaus.
"""

ALIAS_BOMB = "\n".join(  # "billion laughs": 9**9 leaves from 700 bytes as a type once froze the bot
    ["lol:", "  - &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"  - &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    + ["entries:", "  - {id: bombe, type: *l8, title: Bombe, text: Bumm.}"]
)


@pytest.fixture
def world(tmp_path: Path, encoder) -> tuple[Config, Path, Path]:
    knowledge, index = tmp_path / "knowledge", tmp_path / "index"
    knowledge.mkdir()
    (knowledge / "a.yaml").write_text(ENTRIES, encoding="utf-8")
    (knowledge / "b.yaml").write_text(
        ENTRIES.replace("bibliothek", "rathaus")
        .replace("museum", "schwimmbad")
        .replace("Öffnungszeiten der Bibliothek", "Rathaus")
        .replace("Bergbaumuseum Wettelrode", "Schwimmbad"),
        encoding="utf-8",
    )
    config = Config(knowledge_dir=knowledge, index_dir=index)
    build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
    return config, knowledge, index


def still_answers(config: Config, index: Path, encoder) -> None:
    engine = Engine.load(config, index_dir=index, encoder=encoder, rebuild=False)
    answer = engine.ask("Wann öffnet die Bibliothek in Sangerhausen?")
    assert answer.found and "9 Uhr" in answer.text


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(
            lambda p: p.write_text(p.read_text(encoding="utf-8")[:30], encoding="utf-8"), id="truncated"
        ),
        pytest.param(
            lambda p: p.write_bytes("entries:\n  - title: Größe\n".encode("latin-1")), id="not-utf8"
        ),
        pytest.param(lambda p: p.write_bytes(b"\x00\xff\xfe garbage"), id="binary"),
        pytest.param(lambda p: p.write_text(ALIAS_BOMB, encoding="utf-8"), id="alias-bomb"),
    ],
)
def test_damaged_file_keeps_previous_index(world, encoder, damage) -> None:
    config, knowledge, index = world
    before = current_build(index)
    damage(knowledge / "b.yaml")
    with pytest.raises(BuildError) as err:
        build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
    assert all("b.yaml:" in p for p in err.value.problems)
    assert current_build(index) == before
    still_answers(config, index, encoder)
    engine = Engine.load(
        config, index_dir=index, encoder=encoder
    )  # CLI-style load: rebuild fails, old index serves
    assert engine.stale and engine.reload() and engine.ask("Wann öffnet die Bibliothek?").found


def test_file_deleted_during_build_is_detected_and_recovered(world, encoder, monkeypatch) -> None:
    config, knowledge, index = world
    (knowledge / "a.yaml").write_text(ENTRIES.replace("9 Uhr", "10 Uhr"), encoding="utf-8")
    import bot.index

    original = bot.index.load_knowledge

    def delete_then_load(folder, *args, **kwargs):
        (knowledge / "b.yaml").unlink()  # staff delete a file while the build runs
        return original(folder, *args, **kwargs)

    monkeypatch.setattr(bot.index, "load_knowledge", delete_then_load)
    build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
    monkeypatch.undo()
    loaded = load_index(index)
    assert {e.id for e in loaded.entries} == {"bibliothek", "museum"}
    # the fingerprint was taken before the deletion, so the index knows it may be behind
    assert stale_reason(loaded.manifest, config, encoder.name, knowledge) == "Wissensdateien geändert"
    report = build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
    assert not report.skipped and report.entries == 2
    assert stale_reason(load_index(index).manifest, config, encoder.name, knowledge) is None


def test_file_rewritten_during_build_marks_index_stale(world, encoder, monkeypatch) -> None:
    config, knowledge, index = world
    import bot.index

    original = bot.index.load_knowledge

    def load_then_rewrite(folder, *args, **kwargs):
        kb = original(folder, *args, **kwargs)
        (knowledge / "a.yaml").write_text(ENTRIES.replace("9 Uhr", "11 Uhr"), encoding="utf-8")
        return kb

    (knowledge / "a.yaml").write_text(ENTRIES.replace("9 Uhr", "10 Uhr"), encoding="utf-8")
    monkeypatch.setattr(bot.index, "load_knowledge", load_then_rewrite)
    build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
    monkeypatch.undo()
    built = load_index(index)
    assert stale_reason(built.manifest, config, encoder.name, knowledge) == "Wissensdateien geändert"
    build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
    engine = Engine.load(config, index_dir=index, encoder=encoder, rebuild=False)
    assert not engine.stale and "11 Uhr" in engine.ask("Wann öffnet die Bibliothek?").text


KILLED_BUILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import bot.index
    from bot.config import Config
    from bot.embedding import load_encoder

    def stuck(index, path):
        Path(path).write_bytes(b"half-written")
        print("WRITING", flush=True)
        time.sleep(60)

    bot.index.faiss.write_index = stuck
    knowledge, index = Path(sys.argv[1]), Path(sys.argv[2])
    config = Config(knowledge_dir=knowledge, index_dir=index)
    bot.index.build_index(config, load_encoder(config.embedding), force=True)
    """
)


@pytest.mark.slow
def test_build_process_killed_mid_write(world, encoder) -> None:
    config, knowledge, index = world
    before = current_build(index)
    (knowledge / "a.yaml").write_text(ENTRIES.replace("9 Uhr", "10 Uhr"), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_BUILD, str(knowledge), str(index)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.stdout.readline().strip() != b"WRITING":
            pass
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert list((index / "builds").glob(".tmp-*")), "the killed build left its temporary folder"
    assert current_build(index) == before
    still_answers(config, index, encoder)
    build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
    assert not list((index / "builds").glob(".tmp-*"))
    engine = Engine.load(config, index_dir=index, encoder=encoder, rebuild=False)
    assert "10 Uhr" in engine.ask("Wann öffnet die Bibliothek in Sangerhausen?").text
