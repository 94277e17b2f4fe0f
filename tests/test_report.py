"""`regiobot report` says what to add: small talk left out, questions grouped by spelling and meaning, the
nearest existing entry named, CSV for German Excel, and a report without model or index still works."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import bot.store as store_module
from bot.cli import app as cli
from bot.config import Config
from bot.report import (
    CSV_COLUMNS,
    DEFAULT_THRESHOLD,
    Missing,
    Report,
    Suggestion,
    build_report,
    format_csv,
    format_text,
    group,
    suggest,
)
from bot.store import Store, format_report

ROOT = Path(__file__).resolve().parents[1]
REGIONALDIALOG = ("Wann ist der nächste Regionaldialog", "wann findet der nächste regionaldialog statt")
WEATHER = "Wie wird das Wetter"


@pytest.fixture(autouse=True)
def _no_salt_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGIOBOT_SALT", raising=False)


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "data", index_dir=tmp_path / "kein-index")


@pytest.fixture
def store(cfg: Config) -> Iterator[Store]:
    s = Store(cfg)
    yield s
    s.close()


def record(store: Store, monkeypatch: pytest.MonkeyPatch, rows: list[tuple[str, str]], found: bool = False):
    """Questions with their time ("2024-03-01T10:00"), as the bot stores them; flushed for reading."""
    for at, question in rows:
        monkeypatch.setattr(store_module, "_now", lambda at=at: f"{at}:00+01:00")
        store.record_question(
            user_id=1,
            chat_kind="private",
            kind="frage",
            question=question,
            intent="fact" if found else "none",
            found=found,
        )
    assert store.flush(5)


def unit(*rows: list[float]) -> np.ndarray:
    v = np.array(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


# --------------------------------------------------------------------------- grouping (pure)


def test_spellings_are_grouped_without_vectors_most_asked_first():
    questions = ["Wetter in Paris?", "Sauerbraten", "wetter in  PARIS", "", "   ?", "Wetter in Paris!"]
    groups = group(questions, None)
    assert [(g.indices, g.keys) for g in groups] == [
        ((0, 2, 5), ("wetter in paris",)),
        ((1,), ("sauerbraten",)),
    ]
    assert groups[0].count == 3 and groups[0].last == 5


def test_meaning_merges_spelling_groups_from_the_threshold_on():
    questions = ["a", "b", "a!", "c"]
    vectors = unit([1, 0, 0], [0.9, 0.436, 0], [1, 0, 0], [0, 0, 1])  # cos(a, b) = 0.9
    groups = group(questions, vectors, threshold=0.85)
    assert [(g.indices, g.keys) for g in groups] == [((0, 1, 2), ("a", "b")), ((3,), ("c",))]
    assert [g.keys for g in group(questions, vectors, threshold=0.95)] == [("a",), ("c",), ("b",)]


def test_meaning_does_not_chain_unrelated_questions():
    """a ~ b and b ~ c, but a and c differ: average linkage keeps them apart (single linkage would chain)."""
    vectors = unit([1, 0], [np.cos(0.45), np.sin(0.45)], [np.cos(0.9), np.sin(0.9)])  # 0.90, 0.90, 0.62
    groups = group(["a", "b", "c"], vectors, threshold=0.85)
    assert len(groups) == 2 and not any({"a", "c"} <= set(g.keys) for g in groups)


def test_a_question_asked_in_several_spellings_is_one_point_at_their_mean():
    questions = ["x", "X?", "y"]
    vectors = unit([1, 0], [0.6, 0.8], [0, 1])  # mean of x: cos 0.447 to y (first only: 0, last only: 0.8)
    assert len(group(questions, vectors, threshold=0.5)) == 2
    assert [g.keys for g in group(questions, vectors, threshold=0.4)] == [("x", "y")]


def test_regionaldialog_rewordings_group_the_weather_does_not(encoder):
    questions = [*REGIONALDIALOG, WEATHER]
    groups = group(questions, encoder.encode(questions), DEFAULT_THRESHOLD)
    assert sorted(g.indices for g in groups) == [(0, 1), (2,)]


# --------------------------------------------------------------------------- the report


def test_small_talk_is_not_missing_knowledge(store: Store, cfg: Config, monkeypatch):
    record(
        store,
        monkeypatch,
        [
            ("2024-03-01T09:00", "hallo"),
            ("2024-03-01T09:01", "Danke schön!"),
            ("2024-03-01T09:02", "Moin moin"),
            ("2024-03-01T09:03", "Hallo, wie mache ich einen Sauerbraten?"),
        ],
    )
    report = build_report(cfg, use_model=False)
    assert report.smalltalk == 3
    assert [m.question for m in report.missing] == ["Hallo, wie mache ich einen Sauerbraten?"]
    text = format_text(report)
    assert "Nicht mitgezählt: 3× Grüße, Dank und Small Talk ohne Antwort." in text
    assert "hallo" not in text and "Danke" not in text
    assert "Hinweis: ohne Sprachmodell" in text


def test_groups_show_count_latest_spelling_time_and_other_spellings(store: Store, cfg: Config, monkeypatch):
    record(
        store,
        monkeypatch,
        [
            ("2024-02-01T10:00", "Wann ist der nächste Regionaldialog?"),
            ("2024-02-02T10:00", "wann ist der nächste regionaldialog"),
            ("2024-02-03T10:00", "wann findet der nächste regionaldialog statt"),
            ("2024-02-04T10:00", WEATHER),
            ("2024-03-01T10:00", "Wann findet der nächste Regionaldialog statt?"),
        ],
    )
    vectors = {  # hand-made: the two Regionaldialog spellings are one question
        "wann ist der nächste regionaldialog": [1.0, 0.0],
        "wann findet der nächste regionaldialog statt": [0.95, 0.31],
        "wie wird das wetter": [0.0, 1.0],
    }

    class Fixed:
        name, dim = "fest", 2

        def encode(self, texts):
            return unit(*[vectors[store_module.normalise(t)] for t in texts])

    report = build_report(cfg, encoder=Fixed())
    assert report.note.startswith("Hinweis: kein Index in ")  # encoder, but no index: no suggestions
    first, second = report.missing
    assert (first.count, first.question, first.last[:10]) == (
        4,
        "Wann findet der nächste Regionaldialog statt?",
        "2024-03-01",
    )
    assert first.spellings == ["wann ist der nächste regionaldialog"]  # latest spelling of the other group
    assert (second.count, second.question, second.suggestion) == (1, WEATHER, None)
    text = format_text(report)
    assert "    4×  Wann findet der nächste Regionaldialog statt?  (zuletzt 01.03.2024)" in text
    assert "        auch: „wann ist der nächste regionaldialog“" in text
    assert "passt vielleicht zu" not in text
    assert len(build_report(cfg, use_model=False).missing) == 3  # by spelling only


def test_the_nearest_entry_is_suggested(shipped_engine, config: Config, tmp_path: Path, monkeypatch):
    hit = suggest(shipped_engine, "Gibt es Parkplätze beim Regionaldialog?")
    assert hit is not None and hit.id.startswith("regionaldialog") and hit.similarity >= 0.45
    assert suggest(shipped_engine, "Wie mache ich einen Sauerbraten?") is None

    cfg = config.model_copy(update={"data_dir": tmp_path / "data"})
    store = Store(cfg)
    try:
        record(store, monkeypatch, [("2024-03-01T10:00", "Gibt es Parkplätze beim Regionaldialog?")])
    finally:
        store.close()
    report = build_report(cfg, engine=shipped_engine)
    (missing,) = report.missing
    assert missing.suggestion is not None and missing.suggestion.id == hit.id
    assert report.note == ""
    title = shipped_engine.entry(hit.id).title
    assert (
        f"        passt vielleicht zu: „{title}“ ({hit.id}) – Frage dort unter `questions:` ergänzen"
        in format_text(report)
    )


def test_csv_is_for_german_excel():
    report = Report(
        None,
        None,
        missing=[
            Missing(3, "Gibt es Förderung für Vereine?", ["förderung vereine", "Zuschuss Verein?"], "2024-03-01T10:07:00+01:00",
                    Suggestion("foerderung", "Förderung; „Ehrenamt“", 0.6)),
            Missing(1, "=HYPERLINK(\"http://x\")\x1b[2J\nzwei", [], "2024-02-01T08:00:00+01:00"),
        ],
    )  # fmt: skip
    data = format_csv(report)
    assert data.startswith("\ufeff") and data.count("\ufeff") == 1
    assert "\r\n" in data
    rows = list(csv.reader(io.StringIO(data.removeprefix("\ufeff"), newline=""), delimiter=";"))
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1] == [
        "3",
        "Gibt es Förderung für Vereine?",
        "förderung vereine | Zuschuss Verein?",
        "2024-03-01 10:07",
        "foerderung",
        "Förderung; „Ehrenamt“",
    ]
    assert rows[2] == ["1", '\'=HYPERLINK("http://x")[2J zwei', "", "2024-02-01 08:00", "", ""]


def test_format_report_keeps_working_without_a_model(store: Store, cfg: Config, monkeypatch):
    record(store, monkeypatch, [("2024-03-01T10:00", f"Frage {i}?") for i in range(25)])
    text = format_report(cfg)
    assert "Frage 24?" in text and "… und 5 weitere (alle: --format csv)" in text
    assert len(build_report(cfg, limit=None, use_model=False).missing) == 25


# --------------------------------------------------------------------------- the command


def _config_file(tmp_path: Path, cfg: Config, **extra: Path) -> Path:
    path = tmp_path / "config.yaml"
    lines = [f"data_dir: {cfg.data_dir}", f"index_dir: {cfg.index_dir}"]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_command_text_and_csv_without_model(store: Store, cfg: Config, tmp_path: Path, monkeypatch):
    record(
        store,
        monkeypatch,
        [
            ("2024-01-05T10:00", "Alte Frage?"),
            ("2024-03-01T10:00", "Wo parke ich?"),
            ("2024-03-02T10:00", "hallo"),
        ],
    )
    record(store, monkeypatch, [("2024-03-02T11:00", "Wer leitet das Forum?")], found=True)
    config_file = _config_file(tmp_path, cfg)
    runner = CliRunner()

    result = runner.invoke(
        cli, ["report", "--since", "2024-02-01", "--no-model", "--config", str(config_file)]
    )
    assert result.exit_code == 0, result.output
    assert "seit 01.02.2024" in result.stdout and "1×  Wo parke ich?  (zuletzt 01.03.2024)" in result.stdout
    assert "Alte Frage" not in result.stdout and "Nicht mitgezählt: 1×" in result.stdout

    result = runner.invoke(cli, ["report", "--format", "csv", "--no-model", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == list(CSV_COLUMNS) and {r[1] for r in rows[1:]} == {"Alte Frage?", "Wo parke ich?"}
    assert "Hinweis: ohne Sprachmodell" in result.stderr  # beside the file, not in it

    result = runner.invoke(cli, ["report", "--format", "xlsx", "--config", str(config_file)])
    assert result.exit_code == 2 and "bitte text oder csv" in result.output


def test_command_without_index_groups_by_meaning_and_says_so(
    store: Store, cfg: Config, tmp_path: Path, monkeypatch, encoder
):
    monkeypatch.setattr("bot.embedding.load_encoder", lambda settings: encoder)  # the session's encoder
    record(
        store, monkeypatch, [("2024-03-01T10:00", REGIONALDIALOG[0]), ("2024-03-01T11:00", REGIONALDIALOG[1])]
    )
    result = CliRunner().invoke(cli, ["report", "--config", str(_config_file(tmp_path, cfg))])
    assert result.exit_code == 0, result.output
    assert f"Hinweis: kein Index in {cfg.index_dir} (regiobot build)" in result.stdout
    assert f"    2×  {REGIONALDIALOG[1]}" in result.stdout and "passt vielleicht zu" not in result.stdout


def test_command_with_the_index_suggests_entries(shipped_engine, tmp_path: Path, monkeypatch, encoder):
    monkeypatch.setattr("bot.embedding.load_encoder", lambda settings: encoder)
    cfg = Config(data_dir=tmp_path / "data", index_dir=shipped_engine.index_dir)
    store = Store(cfg)
    try:
        record(store, monkeypatch, [("2024-03-01T10:00", "Gibt es Parkplätze beim Regionaldialog?")])
    finally:
        store.close()
    config_file = _config_file(tmp_path, cfg, knowledge_dir=ROOT / "knowledge")
    result = CliRunner().invoke(cli, ["report", "--format", "csv", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[1][4].startswith("regionaldialog") and rows[1][5]
    assert "Hinweis" not in result.output


def test_command_without_data_says_so(tmp_path: Path):
    cfg = Config(data_dir=tmp_path / "nichts", index_dir=tmp_path / "kein-index")
    result = CliRunner().invoke(cli, ["report", "--config", str(_config_file(tmp_path, cfg))])
    assert result.exit_code == 0 and "Noch keine Daten" in result.stdout
