"""bot/db.py without a server: the database address, its redaction, placeholders and lock keys."""

from __future__ import annotations

import pytest

from bot import db as dbm
from bot.config import Config


def test_store_url_from_environment_before_config(monkeypatch):
    monkeypatch.delenv(dbm.URL_ENV, raising=False)
    assert dbm.store_url(Config()) is None  # SQLite by default
    config = Config(store={"url": "postgresql://regiobot@db/regiobot"})
    assert dbm.store_url(config) == "postgresql://regiobot@db/regiobot"
    monkeypatch.setenv(dbm.URL_ENV, " postgres://andere@db2/regiobot ")
    assert dbm.store_url(config) == "postgres://andere@db2/regiobot"


@pytest.mark.parametrize("url", ["mysql://x@db/y", "sqlite:///data/x.db", "db.example.org", "http://db"])
def test_other_addresses_are_refused_in_german(url, monkeypatch):
    monkeypatch.setenv(dbm.URL_ENV, url)
    with pytest.raises(dbm.DatabaseError, match="muss mit postgresql:// beginnen"):
        dbm.store_url(Config())


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://regiobot:geheim@db:5432/x", "postgresql://regiobot:***@db:5432/x"),
        ("postgresql://regiobot@db/x", "postgresql://regiobot@db/x"),
        ("postgresql://db/x", "postgresql://db/x"),
    ],
)
def test_redact_url_hides_only_the_password(url, shown):
    assert dbm.redact_url(url) == shown


def test_placeholders_and_percent_signs_for_psycopg():
    assert (
        dbm._pg("SELECT * FROM t WHERE a = ? AND b LIKE '5%'")
        == "SELECT * FROM t WHERE a = %s AND b LIKE '5%%'"
    )


def test_lock_keys_are_stable_signed_64_bit_and_distinct():
    a, b = dbm.lock_key("regiobot:notices"), dbm.lock_key("regiobot:schema")
    assert a == dbm.lock_key("regiobot:notices") and a != b
    assert all(-(2**63) <= k < 2**63 for k in (a, b))


def test_column_types_per_dialect():
    sqlite = dbm.Database(None, "sqlite")
    postgres = dbm.Database(None, "postgresql")
    statement = "CREATE TABLE t (id {serial}, chat {int}, at {real})"
    assert sqlite.ddl(statement) == "CREATE TABLE t (id INTEGER PRIMARY KEY, chat INTEGER, at REAL)"
    assert "BIGINT" in postgres.ddl(statement) and "DOUBLE PRECISION" in postgres.ddl(statement)


def test_replica_names_differ_per_process_start():
    assert dbm.replica_name() != dbm.replica_name()
