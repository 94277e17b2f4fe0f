"""The same store and mailbox on a real PostgreSQL (tests/postgres.py): schema and migration, statistics,
report and purge, button tokens across replicas, and the replica rules of the mailbox (ownership, takeover of a
silent replica's work, one subscribers' round at a time, each notice once)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from bot import db as dbm
from bot.config import Config
from bot.store import Store, StoreError, format_report, purge, stats
from bot.telegram.mailbox import Mailbox

pytestmark = pytest.mark.slow  # starts a PostgreSQL server; `.ci/run` runs it (REGIOBOT_REQUIRE_POSTGRES=1)
SALT = "ein-gemeinsames-geheimnis-fuer-alle-replikate"


@pytest.fixture
def cfg(tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("REGIOBOT_SALT", SALT)
    monkeypatch.delenv(dbm.URL_ENV, raising=False)
    return Config(data_dir=tmp_path / "data", store={"url": postgres_url})


def ask(store: Store, question: str, found: bool = True, **kwargs) -> int | None:
    kwargs.setdefault("user_id", 1)
    return store.record_question(
        chat_kind="private", kind="frage", question=question, intent="fact", found=found, **kwargs
    )


def rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def update(update_id: int) -> dict:
    return {
        "update_id": update_id,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "Frage"},
    }


# --------------------------------------------------------------------------- store


def test_store_records_reads_and_reports_in_postgres(cfg: Config):
    store = Store(cfg)
    try:
        ask(store, "Wer leitet das Regionalforum Halle?", token="tok_aaaaaaaa", chat="c1")
        ask(store, "Wie ist das Wetter in Bremen?", found=False)
        ask(store, "Meine Nummer ist 0176 12345678", found=False)
        assert store.flush(5)
        assert store.record_feedback_by_token("tok_aaaaaaaa", "c1", 7, -1)
        assert not store.record_feedback_by_token("tok_aaaaaaaa", "anderer-chat", 7, 1)
        s = store.stats()
        assert (s.questions, s.answered, s.abstentions, s.dislikes) == (3, 1, 2, 1)
    finally:
        store.close()
    assert (stats(cfg).questions, stats(cfg).likes) == (3, 0)
    report = format_report(cfg)
    assert "Wetter in Bremen" in report and "Regionalforum Halle" in report
    assert "12345678" not in report  # masked before storing, in PostgreSQL as in SQLite
    assert not (cfg.data_dir / "regiobot.sqlite3").exists()  # nothing written to SQLite on the side
    assert rows(cfg.store.url, "SELECT version FROM regiobot_schema WHERE name = 'store'") == [(2,)]


def test_a_button_answered_by_one_replica_works_on_the_other(cfg: Config):
    """Both replicas hash with the shared salt: a token stored by one is found by the other."""
    one, two = Store(cfg), Store(cfg)
    try:
        ask(one, "Wann ist der nächste Regionaldialog?", token="tok_bbbbbbbb", chat="c9", more=["x"])
        assert one.flush(5)
        found = two.question_by_token("tok_bbbbbbbb", "c9")
        assert found is not None and found.more == ["x"]
        assert two.question_by_token("tok_bbbbbbbb", "c8") is None
    finally:
        one.close()
        two.close()


def test_replicas_starting_together_migrate_once(cfg: Config):
    stores: list[Store] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            stores.append(Store(cfg))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert errors == [] and len(stores) == 4
    assert rows(cfg.store.url, "SELECT COUNT(*) FROM regiobot_schema WHERE name = 'store'") == [(1,)]


def test_purge_in_postgres(cfg: Config, monkeypatch: pytest.MonkeyPatch):
    store = Store(cfg)
    try:
        old = (datetime.now() - timedelta(days=400)).astimezone().isoformat(timespec="seconds")
        monkeypatch.setattr("bot.store._now", lambda: old)
        ask(store, "Eine alte Frage", token="tok_cccccccc", chat="c1")
        assert store.flush(5)
        assert store.record_feedback_by_token("tok_cccccccc", "c1", 1, 1)
        monkeypatch.undo()
        monkeypatch.setenv("REGIOBOT_SALT", SALT)
        ask(store, "Eine neue Frage")
        assert store.flush(5)
    finally:
        store.close()
    assert purge(cfg, 30) == 1
    assert rows(cfg.store.url, "SELECT question FROM questions") == [("Eine neue Frage",)]
    assert rows(cfg.store.url, "SELECT COUNT(*) FROM feedback") == [(0,)]


def test_postgres_needs_a_shared_salt(cfg: Config, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("REGIOBOT_SALT")
    with pytest.raises(StoreError, match="REGIOBOT_SALT"):
        Store(cfg)


def test_an_unreachable_server_is_a_german_error_without_password(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("REGIOBOT_SALT", SALT)
    monkeypatch.setenv(dbm.URL_ENV, "postgresql://regiobot:geheim123@127.0.0.1:1/regiobot")
    with pytest.raises(StoreError) as caught:
        Store(Config(data_dir=tmp_path / "data"))
    assert "nicht erreichbar" in str(caught.value) and "geheim123" not in str(caught.value)


def test_report_of_an_empty_postgres_database(cfg: Config):
    assert stats(cfg).questions == 0
    assert "Keine" in format_report(cfg) or "0" in format_report(cfg)


# --------------------------------------------------------------------------- mailbox with several replicas


def test_mailbox_round_trip_in_postgres(postgres_url: str):
    box = Mailbox(None, url=postgres_url)
    try:
        assert box.receive([update(1), update(2)]) == [True, True]
        assert box.receive([update(2)]) == [False]
        box.post(5, [{"text": "a"}, {"text": "b"}], update_id=1)
        assert [u["update_id"] for u in box.unfinished()] == [2]
        assert [m.message["text"] for m in box.waiting(5)] == ["a", "b"]
        assert box.due_chats() == [5]
        assert box.subscribe(2**40, "call:x", "X") and not box.subscribe(
            2**40, "call:x", "X"
        )  # chat ids > 32 bit
        assert box.post_once(2**40, "k", [{"text": "n"}]) and not box.post_once(2**40, "k", [{"text": "n"}])
        box.remember({"e1": "f1"})
        assert box.seen() == {"e1": "f1"}
        assert box.unsubscribe(2**40) == 1
    finally:
        box.close()


def test_each_replica_serves_its_own_and_adopts_what_a_silent_one_left(postgres_url: str):
    now = [1000.0]
    one = Mailbox(None, clock=lambda: now[0], url=postgres_url, replica_seconds=20)
    two = Mailbox(None, clock=lambda: now[0], url=postgres_url, replica_seconds=20)
    try:
        one.receive([update(1)])
        one.post(5, [{"text": "von eins"}])
        two.receive([update(2)])
        # while both are alive, neither takes the other's work
        assert [u["update_id"] for u in two.unfinished()] == [2]
        assert [m.message["text"] for m in two.waiting(5)] == []
        assert two.receive([update(1)]) == [False]  # Telegram's redelivery of 1 to the other replica
        now[0] += 30  # replica one went silent (killed): two keeps beating
        two.beat()
        adopted = two.adopt()
        assert [u["update_id"] for u in adopted] == [1]
        assert [m.message["text"] for m in two.waiting(5)] == ["von eins"]
        assert two.adopt() == []  # taken once
    finally:
        one.close()
        two.close()


def test_the_subscribers_round_runs_in_one_replica_at_a_time(postgres_url: str):
    one, two = Mailbox(None, url=postgres_url), Mailbox(None, url=postgres_url)
    try:
        with one.round_lock() as first, two.round_lock() as second:
            assert first and not second
        with two.round_lock() as again:
            assert again  # released after the round
    finally:
        one.close()
        two.close()


def test_a_round_lock_dies_with_its_replica(postgres_url: str):
    one, two = Mailbox(None, url=postgres_url), Mailbox(None, url=postgres_url)
    try:
        with one.round_lock() as first:
            assert first
            one._db.conn.close()  # the process died: PostgreSQL ends its session and the lock with it
            with two.round_lock() as second:
                assert second
    finally:
        two.close()


def test_a_dropped_connection_is_opened_again(postgres_url: str):
    box = Mailbox(None, url=postgres_url)
    try:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                (f"regiobot-{box.name}"[:63],),
            )
        with pytest.raises(dbm.ERRORS):
            box.receive([update(1)])  # the first use notices the loss …
        assert box.receive([update(1)]) == [True]  # … the next one works on a new connection
    finally:
        box.close()
