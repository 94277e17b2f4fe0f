"""The SQLite store after the attack run: recording never waits for SQLite, button tokens bound to their chat,
schema migration, one bot per data folder, an atomic salt, retention and purge, masked e-mail addresses and
phone numbers, no control characters, private files, and clear German errors instead of tracebacks."""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import bot.store as store_module
from bot.cli import app as cli
from bot.config import Config, ConfigError, StoreSettings, load_config
from bot.db import TYPES
from bot.store import (
    Store,
    StoreError,
    acquire_instance_lock,
    db_path,
    format_report,
    load_salt,
    mask_personal,
    new_token,
    stats,
    strip_controls,
)

ROOT = Path(__file__).resolve().parents[1]
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture(autouse=True)
def _no_salt_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGIOBOT_SALT", raising=False)


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "data")


@pytest.fixture
def store(cfg: Config) -> Iterator[Store]:
    s = Store(cfg)
    assert s.flush(5)  # the retention purge every start schedules
    yield s
    s.close()


def ask(
    store: Store, question: str = "Wo ist die Geschäftsstelle?", found: bool = True, **kwargs
) -> int | None:
    kwargs.setdefault("user_id", 1)
    return store.record_question(
        chat_kind="private",
        kind="frage",
        question=question,
        intent="fact" if found else "none",
        found=found,
        **kwargs,
    )


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another process's long write transaction (BEGIN EXCLUSIVE), as in the attack run."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def rows(cfg: Config, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(db_path(cfg))
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --------------------------------------------------------------------------- hashing, grouping, report


def test_store_hashes_users_groups_unanswered_and_filters_by_date(tmp_path, monkeypatch):
    config = Config(data_dir=tmp_path / "data")
    store = Store(config)
    salt_file = tmp_path / "data" / "salt"
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600
    assert load_salt(config) == store.salt  # created once, then reused

    monkeypatch.setattr(store_module, "_now", lambda: "2024-01-10T10:00:00+01:00")
    store.record_question(
        user_id=777001, chat_kind="private", kind="frage", question="Alte Frage?", intent="none", found=False
    )
    monkeypatch.setattr(store_module, "_now", lambda: "2024-03-01T10:00:00+01:00")
    for text in ("Wetter in Paris?", "wetter in  paris", "Wetter in Paris!"):
        store.record_question(
            user_id=777001, chat_kind="private", kind="frage", question=text, intent="none", found=False
        )
    qid = store.record_question(
        user_id=777002,
        chat_kind="group",
        kind="frage",
        question="Wo ist die Geschäftsstelle?",
        intent="fact",
        found=True,
        source_id="geschaeftsstelle",
        source_title="Geschäftsstelle",
        answer="Hansering 15",
        more=["Weiteres"],
    )
    assert qid is not None
    assert store.record_feedback(qid, 777001, -1) and store.record_feedback(qid, 777001, -1)
    assert not store.record_feedback(99999, 777001, 1)
    assert store.question(qid).more == ["Weiteres"]
    store.close()

    report = format_report(config, date(2024, 2, 1))
    assert "seit 01.02.2024" in report
    assert "3×  Wetter in Paris!" in report  # grouped spelling variants, latest spelling shown
    assert "Alte Frage" not in report
    assert "1× 👎  „Geschäftsstelle“ (geschaeftsstelle)" in report
    assert "Alte Frage" in format_report(config, None)
    s = stats(config, date(2024, 2, 1))
    assert (s.questions, s.answered, s.abstentions, s.likes, s.dislikes) == (4, 1, 3, 0, 1)
    raw = db_path(config).read_bytes()
    assert b"777001" not in raw and b"777002" not in raw

    (tmp_path / "config.yaml").write_text(f"data_dir: {tmp_path / 'data'}\n")
    result = CliRunner().invoke(
        cli, ["report", "--since", "2024-02-01", "--config", str(tmp_path / "config.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert "Wetter in Paris" in result.output


def test_report_without_data_says_so(tmp_path):
    report = format_report(Config(data_dir=tmp_path / "nichts"), None)
    assert "Noch keine Daten" in report
    assert not (tmp_path / "nichts").exists()


# --------------------------------------------------------------------------- 1. answering never waits


def test_recording_and_reading_never_wait_for_a_locked_database(store: Store, cfg: Config):
    written = ask(store, "Schon gespeichert?")
    assert store.flush(5)
    with locked(store.path):
        start = time.monotonic()
        ids = [ask(store, f"Frage {i}?") for i in range(200)]
        assert time.monotonic() - start < 0.2  # the old store waited 5 s for the lock, then raised
        assert all(ids)
        for read in (
            lambda: store.question(ids[-1]),  # still queued: answered from memory
            lambda: store.question(written),  # in the database: its own connection, short timeout
            lambda: store.record_feedback(written, 2, 1),
            store.stats,
        ):
            start = time.monotonic()
            assert read()
            assert time.monotonic() - start < 0.6
        assert store.question(ids[0]).question == "Frage 0?"
        assert not store.flush(0.3)  # the writer keeps trying
        assert store.failures >= 1
    assert store.flush(5)
    s = stats(cfg)
    assert (s.questions, s.likes) == (201, 1)


def test_full_queue_drops_with_a_counter_and_one_log_line(tmp_path, caplog):
    cfg = Config(data_dir=tmp_path / "data", store=StoreSettings(queue_size=10))
    store = Store(cfg)
    assert store.flush(5)
    with caplog.at_level(logging.WARNING, logger="regiobot.store"), locked(store.path):
        ids = [ask(store, f"Frage {i}?") for i in range(30)]
    assert sum(i is not None for i in ids) == 10 and ids[10:] == [None] * 20
    assert store.dropped == 20
    assert len([r for r in caplog.records if "Warteschlange voll" in r.getMessage()]) == 1  # rate-limited
    store.close()
    assert stats(cfg).questions == 10


def test_store_failures_are_counted_logged_once_without_payload_and_retried(
    store: Store, cfg: Config, caplog
):
    def disk_full(conn: sqlite3.Connection, op: object) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    original = store._apply
    store._apply = disk_full  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="regiobot.store"):
        for i in range(50):
            assert ask(store, f"GEHEIM-{i} max@beispiel.de") is not None  # never raises
        assert not store.flush(0.4)
    assert store.failures >= 2
    failures = [r for r in caplog.records if "fehlgeschlagen" in r.getMessage()]
    assert 1 <= len(failures) <= 2  # rate-limited: not one line per entry and retry
    assert "GEHEIM" not in caplog.text and "beispiel" not in caplog.text
    store._apply = original  # type: ignore[method-assign]
    assert store.flush(5)  # kept in the queue and written once the disk has room again
    assert stats(cfg).questions == 50


def test_close_writes_what_is_queued(cfg: Config):
    store = Store(cfg)
    for i in range(300):
        ask(store, f"Frage {i}?")
    store.close()
    assert stats(cfg).questions == 300
    assert ask(store, "nach dem Schließen") is None and store.dropped == 1


def test_one_bad_entry_does_not_block_the_others(store: Store, cfg: Config):
    token = new_token()
    with locked(store.path):
        ask(store, "erste", token=token, chat="tg:1")
        ask(store, "gleicher Token", token=token, chat="tg:1")  # a caller bug: the token is unique
        ask(store, "danach")
    assert store.flush(5)
    assert sorted(q for (q,) in rows(cfg, "SELECT question FROM questions")) == ["danach", "erste"]
    assert store.failures >= 1


# --------------------------------------------------------------------------- 2. button tokens


@pytest.mark.parametrize("queued", [True, False], ids=["queued", "written"])
def test_tokens_bind_buttons_to_their_chat_and_only_answers_can_be_rated(store: Store, cfg: Config, queued):
    answered, unanswered = new_token(), new_token()
    with locked(store.path) if queued else _nothing():
        ask(store, "Wo ist die Geschäftsstelle?", token=answered, chat="tg:42", more=["Weiteres"])
        ask(store, "Wetter in Paris?", found=False, token=unanswered, chat="tg:42")
        if not queued:
            assert store.flush(5)
        hit = store.question_by_token(answered, "tg:42")
        assert hit is not None and hit.more == ["Weiteres"] and hit.token == answered and hit.found
        assert store.question_by_token(answered, "tg:43") is None  # another chat: a forged button
        assert store.question_by_token(new_token(), "tg:42") is None
        for forged in ["", "x", "a" * 65, "../../etc/passwd", "'; DROP TABLE questions;--", "ab cd efgh"]:
            assert store.question_by_token(forged, "tg:42") is None
        assert not store.record_feedback_by_token(answered, "tg:43", 7, 1)
        assert not store.record_feedback_by_token(unanswered, "tg:42", 7, -1)  # nothing to rate
        assert not store.record_feedback_by_token("unbekannt-token", "tg:42", 7, -1)
        assert store.record_feedback_by_token(answered, "tg:42", 7, 1)
        assert store.record_feedback_by_token(answered, "tg:42", 7, -1)  # a second vote replaces the first
        with pytest.raises(ValueError):
            store.record_feedback_by_token(answered, "tg:42", 7, 5)
    assert store.flush(5)
    s = stats(cfg)
    assert (s.questions, s.likes, s.dislikes) == (2, 0, 1)
    raw = b"".join(p.read_bytes() for p in db_path(cfg).parent.glob("regiobot.sqlite3*"))
    assert answered.encode() in raw and b"tg:42" not in raw  # the chat key only as HMAC


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def test_tokens_survive_a_restart(cfg: Config):
    token = new_token()
    first = Store(cfg)
    ask(first, token=token, chat="tg:1")
    first.close()
    second = Store(cfg)
    try:
        assert second.question_by_token(token, "tg:1") is not None
        assert second.question_by_token(token, "tg:2") is None
    finally:
        second.close()


def test_ids_need_no_database_grow_in_order_and_do_not_collide():
    ids: list[list[int]] = []

    def draw() -> None:
        ids.append([store_module._new_id() for _ in range(2000)])

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [i for run in ids for i in run]
    assert len(set(flat)) == len(flat)
    assert all(run == sorted(run) for run in ids)
    assert all(2**32 < i < 2**63 for i in flat)
    assert len(f"fb:{max(flat)}:+") <= 64


def test_same_second_questions_keep_the_order_of_asking_in_the_report(store: Store, cfg: Config, monkeypatch):
    monkeypatch.setattr(store_module, "_now", lambda: "2024-03-01T10:00:00+01:00")
    spellings = [f"Wetter in Paris{'?' * (i % 3)}{'!' * (i % 2)}" for i in range(12)] + ["WETTER in Paris"]
    for text in spellings:
        ask(store, text, found=False)
    assert store.flush(5)
    assert "13×  WETTER in Paris  (zuletzt 01.03.2024)" in format_report(cfg)


def test_new_token_is_short_url_safe_and_unguessable():
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{12}", t) for t in tokens)
    assert len(f"fb:{max(tokens)}:+".encode()) <= 64  # Telegram's callback data limit


V0_SCHEMA = """
CREATE TABLE questions (
    id INTEGER PRIMARY KEY, asked_at TEXT NOT NULL, user_hash TEXT NOT NULL, chat_kind TEXT NOT NULL,
    kind TEXT NOT NULL, question TEXT NOT NULL, intent TEXT NOT NULL, found INTEGER NOT NULL, source_id TEXT,
    source_title TEXT, answer TEXT NOT NULL DEFAULT '', more TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX questions_asked_at ON questions(asked_at);
CREATE TABLE feedback (
    question_id INTEGER NOT NULL REFERENCES questions(id), user_hash TEXT NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)), at TEXT NOT NULL, PRIMARY KEY (question_id, user_hash)
);
"""


def test_a_database_of_the_first_release_is_migrated_in_place(cfg: Config):
    cfg.data_dir.mkdir(mode=0o700)
    old = sqlite3.connect(db_path(cfg))
    old.executescript(V0_SCHEMA)
    old.execute(
        "INSERT INTO questions VALUES (1, ?, 'h', 'private', 'frage', 'Alte Frage', 'fact', 1, 's', 'S', 'A', "
        "'[\"mehr\"]')",
        (datetime.now().astimezone().isoformat(timespec="seconds"),),
    )
    old.commit()
    old.close()

    store = Store(cfg)
    try:
        assert rows(cfg, "PRAGMA user_version") == [(store_module.SCHEMA_VERSION,)]
        columns = {r[1] for r in rows(cfg, "PRAGMA table_info(questions)")}
        assert {"token", "chat_hash"} <= columns
        assert store.question(1).more == ["mehr"]  # old buttons keep working
        assert store.record_feedback(1, 5, -1)
        token = new_token()
        ask(store, "Neue Frage", token=token, chat="tg:9")
        assert store.flush(5)
        assert store.question_by_token(token, "tg:9").question == "Neue Frage"
    finally:
        store.close()
    again = Store(cfg)  # a second start finds the current version and changes nothing
    again.close()
    s = stats(cfg)
    assert (s.questions, s.dislikes) == (2, 1)


def test_a_newer_schema_is_refused_in_german(cfg: Config):
    cfg.data_dir.mkdir(mode=0o700)
    conn = sqlite3.connect(db_path(cfg))
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="Schema-Version 99"):
        Store(cfg)


# --------------------------------------------------------------------------- 3. one bot per data folder

HOLD_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, str(os.getpid()).encode())
print("gesperrt", flush=True)
sys.stdin.read()
"""


def test_a_second_instance_on_the_same_data_folder_is_refused(cfg: Config):
    cfg.data_dir.mkdir(mode=0o700)
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(cfg.data_dir / "regiobot.lock")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout.readline().strip() == "gesperrt"
        with pytest.raises(StoreError) as refused:
            acquire_instance_lock(cfg)
        message = str(refused.value)
        assert message.startswith("Ein anderer regiobot läuft bereits mit diesem Datenordner (")
        assert str(cfg.data_dir) in message and str(other.pid) in message
        assert message.endswith("Bitte zuerst beenden.")
    finally:
        other.stdin.close()
        other.wait(10)
    lock = acquire_instance_lock(cfg)  # the kernel released the lock with the process
    try:
        assert mode(lock.path) == 0o600
        with pytest.raises(StoreError, match="läuft bereits"):
            acquire_instance_lock(cfg)  # also within one process
    finally:
        lock.release()
    with acquire_instance_lock(cfg):
        pass


# --------------------------------------------------------------------------- 3. the salt

SALT_WORKER = """
import os, sys, time
sys.path.insert(0, sys.argv[2])
from bot.config import Config
from bot.store import load_salt
print("bereit", flush=True)
while not os.path.exists(sys.argv[3]):
    time.sleep(0.0005)
print(load_salt(Config(data_dir=sys.argv[1])).decode(), flush=True)
"""


def test_concurrent_processes_get_one_salt(tmp_path: Path):
    data, go = tmp_path / "data", tmp_path / "los"
    env = {k: v for k, v in os.environ.items() if k != "REGIOBOT_SALT"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", SALT_WORKER, str(data), str(ROOT), str(go)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    for w in workers:
        assert w.stdout.readline().strip() == "bereit"
    go.touch()
    salts = {w.communicate(timeout=30)[0].strip() for w in workers}
    assert len(salts) == 1 and len(salts.pop()) == 64
    assert mode(data / "salt") == 0o600
    assert [p.name for p in data.iterdir()] == ["salt"]  # no temporary files left


def _salts_of_racing_threads(cfg: Config, threads: int = 12) -> tuple[list[bytes], int]:
    """Threads taking the salt at the same moment, and how often a watcher saw an empty salt file."""
    path = cfg.data_dir / "salt"
    barrier = threading.Barrier(threads + 1)
    salts: list[bytes] = []
    empty = 0
    done = threading.Event()

    def take() -> None:
        barrier.wait()
        salts.append(load_salt(cfg))

    def watch() -> None:
        nonlocal empty
        barrier.wait()
        while not done.is_set():
            with suppress(FileNotFoundError):
                empty += not path.read_bytes()

    takers = [threading.Thread(target=take) for _ in range(threads)]
    watcher = threading.Thread(target=watch)
    for t in [*takers, watcher]:
        t.start()
    for t in takers:
        t.join()
    done.set()
    watcher.join()
    return salts, empty


def test_concurrent_threads_get_one_salt_and_never_see_an_empty_file(tmp_path: Path):
    for round_ in range(15):
        cfg = Config(data_dir=tmp_path / f"data{round_}")
        cfg.data_dir.mkdir()
        salts, empty = _salts_of_racing_threads(cfg)
        assert len(salts) == 12 and len(set(salts)) == 1
        assert empty == 0  # the old store created the file first and wrote the salt afterwards
        assert (cfg.data_dir / "salt").read_bytes() == salts[0]


def test_an_empty_salt_left_by_an_old_crash_is_replaced(cfg: Config):
    cfg.data_dir.mkdir()
    (cfg.data_dir / "salt").write_bytes(b"")
    salt = load_salt(cfg)
    assert len(salt) == 64 and (cfg.data_dir / "salt").read_bytes() == salt
    assert load_salt(cfg) == salt


def test_salt_from_the_environment_wins(cfg: Config, monkeypatch):
    monkeypatch.setenv("REGIOBOT_SALT", "geheim")
    assert load_salt(cfg) == b"geheim"
    assert not (cfg.data_dir / "salt").exists()


# --------------------------------------------------------------------------- 4. retention


def _old_and_new(store: Store, monkeypatch: pytest.MonkeyPatch, days_ago: int) -> tuple[str, str]:
    old, new = new_token(), new_token()
    past = (datetime.now().astimezone() - timedelta(days=days_ago)).isoformat(timespec="seconds")
    monkeypatch.setattr(store_module, "_now", lambda: past)
    ask(store, "Alte Frage", token=old, chat="tg:1")
    assert store.record_feedback_by_token(old, "tg:1", 3, -1)
    monkeypatch.undo()
    ask(store, "Neue Frage", token=new, chat="tg:1")
    assert store.record_feedback_by_token(new, "tg:1", 3, 1)
    assert store.flush(5)
    return old, new


def test_purge_deletes_old_questions_and_their_feedback(store: Store, cfg: Config, monkeypatch):
    old, new = _old_and_new(store, monkeypatch, days_ago=200)
    assert store.purge(365) == 0
    assert store.purge() == 1  # store.retention_days: 180
    assert store.question_by_token(old, "tg:1") is None
    assert store.question_by_token(new, "tg:1") is not None
    s = stats(cfg)
    assert (s.questions, s.likes, s.dislikes) == (1, 1, 0)
    assert b"Alte Frage" not in b"".join(p.read_bytes() for p in cfg.data_dir.glob("regiobot.sqlite3*"))


def test_retention_is_applied_at_most_once_a_day(store: Store, cfg: Config, monkeypatch):
    old, new = _old_and_new(store, monkeypatch, days_ago=200)
    later = datetime.now() + timedelta(hours=1)
    assert store.maybe_purge(later + timedelta(days=1))  # the start scheduled one already
    assert not store.maybe_purge(later + timedelta(days=1, hours=23))
    assert store.flush(5)
    assert store.question_by_token(old, "tg:1") is None and store.question_by_token(new, "tg:1") is not None
    assert store.maybe_purge(later + timedelta(days=2, minutes=1))


def test_purge_command(cfg: Config, tmp_path: Path, monkeypatch):
    store = Store(cfg)
    _old_and_new(store, monkeypatch, days_ago=40)
    (tmp_path / "config.yaml").write_text(f"data_dir: {cfg.data_dir}\nstore:\n  retention_days: 60\n")
    run = CliRunner().invoke
    config = ["--config", str(tmp_path / "config.yaml")]
    result = run(cli, ["purge", *config])
    assert result.exit_code == 0, result.output
    assert "0 Fragen gelöscht, die älter als 60 Tage waren" in result.output
    result = run(cli, ["purge", "--days", "30", *config])  # while the bot (this store) still runs
    assert result.exit_code == 0, result.output
    assert "1 Fragen gelöscht, die älter als 30 Tage waren" in result.output
    assert run(cli, ["purge", "--days", "0", *config]).exit_code == 2
    assert "Alte Fragen" in run(cli, ["purge", "--help"]).output
    store.close()
    assert stats(cfg).questions == 1


def test_store_settings_default_and_config_yaml():
    assert StoreSettings().retention_days == 180 and Config().store.queue_size == 10_000
    assert load_config(ROOT / "config.yaml").store.retention_days == 180


def test_retention_must_be_positive(tmp_path: Path):
    (tmp_path / "config.yaml").write_text("store:\n  retention_days: 0\n")
    with pytest.raises(ConfigError, match=r"store\.retention_days"):
        load_config(tmp_path / "config.yaml")


# --------------------------------------------------------------------------- 4. masking, control characters


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Schreiben Sie an max@beispiel.de bitte", "Schreiben Sie an [E-Mail] bitte"),
        ("max.mustermann+regio@halle.beispiel-land.de?", "[E-Mail]?"),
        ("Rufen Sie 0345 1234567 an", "Rufen Sie [Telefon] an"),
        ("Tel. +49 345 123456", "Tel. [Telefon]"),
        ("+49 (0) 345 123456", "[Telefon]"),
        ("(0345) 123 45 67", "[Telefon]"),
        ("0345/1234567, danke", "[Telefon], danke"),
        ("mobil 0176-12345678", "mobil [Telefon]"),
        ("0049 345 123456", "[Telefon]"),
    ],
)
def test_email_addresses_and_phone_numbers_are_masked(typed: str, stored: str):
    assert mask_personal(typed) == stored


@pytest.mark.parametrize(
    "kept",
    [
        "Was ist am 13.06.2024?",
        "Regionaldialog 2024",
        "Wer leitet die AG 3?",
        "Termin am 01/02/2024",
        "Termin am 01-02-2024 um 10:00",
        "PLZ 06108 Halle (Saale)",
        "Förderperiode 2021-2027",
        "Budget 0,5 Mio. Euro, 1.000.000 €",
        "Drucksache 7/1234",
        "Version 1.0345678901",
        "von 09-12 Uhr in Raum 0.12",
        "3+4567890",
        "ISO-Datum 2024-06-13",
        "@regiobot hilf mir",
    ],
)
def test_dates_years_and_short_numbers_are_not_masked(kept: str):
    assert mask_personal(kept) == kept


def test_stored_questions_are_masked_and_without_control_characters(store: Store, cfg: Config):
    ask(store, "Mail\x1b[31m an max@beispiel.de\r\x00 oder 0345 1234567\x85\u009b?\tok\nzwei", found=False)
    assert store.flush(5)
    ((question,),) = rows(cfg, "SELECT question FROM questions")
    assert question == "Mail[31m an [E-Mail] oder [Telefon]?\tok\nzwei"
    raw = b"".join(p.read_bytes() for p in cfg.data_dir.glob("regiobot.sqlite3*"))
    assert b"beispiel" not in raw and b"1234567" not in raw


def test_report_prints_no_control_characters(store: Store, cfg: Config):
    """Rows of an older version (or written by hand) cannot reach the staff's terminal as escape sequences."""
    now = datetime.now().astimezone().isoformat(timespec="seconds")
    conn = sqlite3.connect(db_path(cfg))
    for i, question in enumerate(["\x1b]0;gehackt\x07Frage", "zwei\x1f\x1b[2J\rweg", "drei\u202eabc"]):
        conn.execute(
            "INSERT INTO questions (id, asked_at, user_hash, chat_kind, kind, question, intent, found, source_id,"
            " source_title) VALUES (?, ?, 'h', 'private', 'frage', ?, 'fact', ?, 'q\x1b[1m', 'Titel\x9b\x07')",
            (i + 1, now, question, i % 2),
        )
    conn.execute("INSERT INTO feedback VALUES (2, 'h', -1, ?)", (now,))
    conn.commit()
    conn.close()
    report = format_report(cfg)
    assert not CONTROL.search(report.replace("\n", "")), repr(report)
    assert "\u202e" not in report
    assert "]0;gehacktFrage" in report and "Titel" in report
    assert strip_controls("a\x00b\tc\nd\x7f\x80\x9fe") == "ab\tc\nde"


# --------------------------------------------------------------------------- 4. file permissions


def test_data_folder_database_wal_shm_and_salt_are_private(cfg: Config):
    cfg.data_dir.mkdir(mode=0o755)
    os.chmod(cfg.data_dir, 0o755)
    db_path(cfg).touch()
    os.chmod(db_path(cfg), 0o644)
    store = Store(cfg)
    try:
        ask(store)
        assert store.flush(5)
        assert mode(cfg.data_dir) == 0o700  # tightened on start
        for name in ("regiobot.sqlite3", "regiobot.sqlite3-wal", "regiobot.sqlite3-shm", "salt"):
            assert mode(cfg.data_dir / name) == 0o600, name
    finally:
        store.close()


def test_a_new_data_folder_is_created_private(tmp_path: Path):
    cfg = Config(data_dir=tmp_path / "neu" / "data")
    Store(cfg).close()
    assert mode(cfg.data_dir) == 0o700


# --------------------------------------------------------------------------- 5. robustness


def test_a_data_folder_that_cannot_be_created_gives_a_german_store_error(tmp_path: Path):
    (tmp_path / "datei").write_text("kein Ordner")
    cfg = Config(data_dir=tmp_path / "datei" / "data")
    with pytest.raises(StoreError) as refused:
        Store(cfg)
    message = str(refused.value)
    assert str(cfg.data_dir) in message and "Datenordner" in message and "data_dir" in message


@contextmanager
def _read_only(folder: Path) -> Iterator[None]:
    """A folder the bot cannot write: chmod for ordinary users, the immutable flag for root."""
    if os.geteuid() != 0:
        os.chmod(folder, 0o500)
        try:
            yield
        finally:
            os.chmod(folder, 0o700)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("root without chattr: cannot make a folder read-only")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_read_only_data_folder_gives_a_german_store_error(cfg: Config):
    cfg.data_dir.mkdir(mode=0o700)
    with _read_only(cfg.data_dir), pytest.raises(StoreError) as refused:
        Store(cfg)
    message = str(refused.value)
    assert f"Der Datenordner {cfg.data_dir} ist nicht beschreibbar" in message
    assert "Schreibrechte" in message


def test_report_on_an_unreadable_database_exits_2_with_a_german_line(cfg: Config, tmp_path: Path):
    cfg.data_dir.mkdir(mode=0o700)
    db_path(cfg).write_bytes(b"kein SQLite, sondern Unsinn" * 100)
    with pytest.raises(StoreError, match="lässt sich nicht lesen"):
        format_report(cfg)
    (tmp_path / "config.yaml").write_text(f"data_dir: {cfg.data_dir}\n")
    result = CliRunner().invoke(cli, ["report", "--config", str(tmp_path / "config.yaml")])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)  # no traceback
    assert "lässt sich nicht lesen (keine SQLite-Datenbank)" in result.output


@pytest.mark.parametrize(
    "files", ["regiobot.sqlite3", "regiobot.sqlite3*"], ids=["database", "with-wal-and-shm"]
)
def test_a_deleted_database_is_noticed_and_recreated(store: Store, cfg: Config, caplog, files: str):
    store.check_interval = 0.05
    ask(store, "vor dem Löschen")
    assert store.flush(5)
    with caplog.at_level(logging.WARNING, logger="regiobot.store"):
        for path in cfg.data_dir.glob(files):
            path.unlink()
        deadline = time.monotonic() + 3
        while not db_path(cfg).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    assert db_path(cfg).exists()  # without the check the writer wrote on into the unlinked file
    assert "wurde gelöscht oder ersetzt; sie wird neu angelegt" in caplog.text
    ask(store, "nach dem Löschen", found=False)
    assert store.flush(5)
    assert [q for (q,) in rows(cfg, "SELECT question FROM questions")] == ["nach dem Löschen"]
    assert mode(db_path(cfg)) == 0o600


def test_reads_of_a_missing_database_fail_fast_and_quietly(store: Store, cfg: Config):
    qid = ask(store)
    assert store.flush(5)
    store.check_interval = 3600.0  # the writer has not noticed yet
    for path in cfg.data_dir.glob("regiobot.sqlite3*"):
        path.unlink()
    start = time.monotonic()
    assert store.question(qid) is None
    assert store.question_by_token(new_token(), "tg:1") is None
    assert not store.record_feedback(qid, 1, 1)
    with pytest.raises(StoreError, match="nicht lesbar"):
        store.stats()
    assert time.monotonic() - start < 1.0
    assert store.failures >= 4


def test_forged_ids_beyond_sqlite_integers_are_unknown(store: Store):
    for forged in (2**63, 2**70, -1, 0):
        assert store.question(forged) is None
        assert not store.record_feedback(forged, 1, 1)


def test_purge_of_an_unreadable_database_exits_2(cfg: Config, tmp_path: Path):
    cfg.data_dir.mkdir(mode=0o700)
    db_path(cfg).write_bytes(b"kein SQLite" * 500)
    (tmp_path / "config.yaml").write_text(f"data_dir: {cfg.data_dir}\n")
    result = CliRunner().invoke(cli, ["purge", "--config", str(tmp_path / "config.yaml")])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "lassen sich nicht löschen (keine SQLite-Datenbank)" in result.output


def test_stored_more_survives_json_roundtrip_and_damage(store: Store, cfg: Config):
    qid = ask(store, more=["„Zitat“ – ümlaut", json.dumps({"x": 1})])
    assert store.flush(5)
    assert store.question(qid).more == ["„Zitat“ – ümlaut", '{"x": 1}']
    conn = sqlite3.connect(db_path(cfg))
    for damaged in ("{kaputt", '{"x": 1}', "[1, 2]"):
        conn.execute("UPDATE questions SET more = ? WHERE id = ?", (damaged, qid))
        conn.commit()
        assert store.question(qid).more == []
    conn.close()


def test_an_answer_never_delivered_is_not_counted_as_answered(store: Store, cfg: Config):
    token = new_token()
    ask(store, token=token, chat="tg:1")
    ask(store, token=new_token(), chat="tg:2")
    store.record_undelivered(token)
    store.record_undelivered("kein token!")  # malformed: ignored
    assert store.flush(5)
    s = store.stats()
    assert (s.questions, s.answered, s.abstentions, s.undelivered) == (2, 1, 0, 1)
    assert "nicht zugestellt: 1" in format_report(cfg)


def test_report_reads_a_database_the_bot_has_not_migrated_yet(cfg: Config):
    import sqlite3

    from bot import store as store_module

    path = db_path(cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    for statement in store_module.SCHEMA_V0:
        conn.execute(statement.format(**TYPES["sqlite"]))
    for _, statement in store_module.MIGRATION_V1:
        conn.execute(statement)
    conn.execute("INSERT INTO questions (id, asked_at, user_hash, chat_kind, kind, question, intent, found) "
                 "VALUES (1, '2024-03-01T10:00:00', 'x', 'private', 'frage', 'Alte Frage', 'fact', 1)")  # fmt: skip
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    s = stats(cfg)  # read-only, as `regiobot report` while the old bot still runs
    assert (s.questions, s.answered, s.undelivered) == (1, 1, 0)
