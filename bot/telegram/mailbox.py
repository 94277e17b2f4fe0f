"""Inbox and outbox of the Telegram channel: nothing lost between a received update and a delivered reply.

One SQLite file (data_dir/telegram.sqlite3, mode 0600) beside the statistics store, or the tables of the
same names in PostgreSQL when several replicas share one database (``store.url``, see bot.db):

- inbox: every update is written before Telegram is told it arrived (before the next getUpdates offset, or
  before the webhook answers 200), and marked finished when its replies are in the outbox – in the same
  transaction, so a crash never answers an update twice. On start the unfinished ones are processed again;
  an update_id seen before (a webhook replay, a re-fetch after a crash) is processed once. The payload (it
  holds names and the message) is deleted when finished; the bare id is kept a day for deduplication.
- subscriptions (with the person's consent: the chat id in clear, the topic, what was sent) and the
  fingerprints of the calls and events last seen, so that a notice or reminder is queued in the outbox in the
  same transaction that records it as sent: never twice, also across restarts and reloads.
- outbox: every reply part is written before it is sent and deleted when Telegram confirmed it; what could not
  be delivered is retried with back-off for `telegram.delivery_minutes`, across restarts, then given up with a
  log line and a counter. It holds the chat id in clear only as long as a reply is undelivered.
- replicas: with PostgreSQL every received update and every queued reply belongs to the replica that took it
  (``owner``); each replica notes that it is alive every few seconds, and one that has been silent for
  ``store.replica_seconds`` is gone: another replica adopts its unfinished updates and undelivered replies.
  The periodic round for subscribers runs under an advisory lock, in one replica at a time. With SQLite there
  is one process (the instance lock in data_dir) and everything belongs to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import db as dbm
from bot.db import Database

FILE = "telegram.sqlite3"
KEEP_IDS_SECONDS = 24 * 3600
LOCAL = "local"  # the owner of everything with SQLite: one process per data folder
SCHEMA_VERSION = 1

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS inbox (
    update_id {int} PRIMARY KEY,
    received {real} NOT NULL,
    payload TEXT,
    finished {real},
    owner TEXT NOT NULL DEFAULT 'local'
)""",
    "CREATE INDEX IF NOT EXISTS inbox_open ON inbox(finished) WHERE finished IS NULL",
    """CREATE TABLE IF NOT EXISTS outbox (
    id {serial},
    chat_id {int} NOT NULL,
    payload TEXT NOT NULL,
    created {real} NOT NULL,
    next_at {real} NOT NULL,
    attempts {int} NOT NULL DEFAULT 0,
    owner TEXT NOT NULL DEFAULT 'local'
)""",
    "CREATE INDEX IF NOT EXISTS outbox_chat ON outbox(chat_id, id)",
    """CREATE TABLE IF NOT EXISTS subscriptions (
    chat_id {int} NOT NULL,
    topic TEXT NOT NULL,
    label TEXT NOT NULL,
    created {real} NOT NULL,
    PRIMARY KEY (chat_id, topic)
)""",
    """CREATE TABLE IF NOT EXISTS sent (
    chat_id {int} NOT NULL,
    key TEXT NOT NULL,
    at {real} NOT NULL,
    PRIMARY KEY (chat_id, key)
)""",
    """CREATE TABLE IF NOT EXISTS seen (
    entry_id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS replicas (
    name TEXT PRIMARY KEY,
    seen {real} NOT NULL
)""",
)
# version 0 (no user_version) had no owners: its rows belong to the one local process
MIGRATION_V1 = ("inbox", "outbox")


@dataclass(frozen=True)
class Letter:
    """One reply part waiting for delivery: the sendMessage arguments beside the chat id."""

    id: int
    chat_id: int
    message: dict[str, Any]
    created: float
    attempts: int
    next_at: float


def _migrate(db: Database) -> None:
    if db.version("mailbox") == SCHEMA_VERSION:
        return
    with db.transaction():
        db.migrations_lock()
        version = db.version("mailbox")
        if version > SCHEMA_VERSION:
            raise dbm.DatabaseError(
                f"Der Postausgang hat Schema-Version {version}, dieser regiobot kennt nur bis {SCHEMA_VERSION}. "
                "Bitte regiobot aktualisieren."
            )
        db.script(SCHEMA)
        for table in MIGRATION_V1:
            if "owner" not in db.columns(table):
                db.execute(f"ALTER TABLE {table} ADD COLUMN owner TEXT NOT NULL DEFAULT '{LOCAL}'")
        db.set_version("mailbox", SCHEMA_VERSION)


class Mailbox:
    """Thread-safe; every method is one short transaction (the event loop calls them directly)."""

    def __init__(
        self,
        data_dir: Path | None,
        clock=time.time,
        *,
        url: str | None = None,
        replica_seconds: float = 20.0,
    ):
        self.clock = clock
        self.url = url
        self.replica_seconds = replica_seconds
        self.name = dbm.replica_name() if url else LOCAL
        self._lock = threading.Lock()
        self._round = threading.Lock()
        self.given_up = 0
        if url is None:
            assert data_dir is not None
            data_dir = Path(data_dir)
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.path: Path | None = data_dir / FILE
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        else:
            self.path = None
        self._db = self._connect()
        self.beat()

    @classmethod
    def for_config(cls, config: Any) -> Mailbox:
        """SQLite in data_dir, or PostgreSQL when store.url / REGIOBOT_STORE_URL names one."""
        url = dbm.store_url(config)
        return cls(config.data_dir, url=url, replica_seconds=config.store.replica_seconds)

    def _connect(self) -> Database:
        if self.url:
            db = dbm.connect_postgres(self.url, f"regiobot-{self.name}")
        else:
            assert self.path is not None
            db = dbm.connect_sqlite(self.path, 2.0)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # survives kill -9 (not a power cut)
        try:
            _migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    @contextlib.contextmanager
    def _use(self, transaction: bool = False) -> Iterator[Database]:
        """The connection under the lock (opened again when PostgreSQL dropped it), in a transaction if asked."""
        with self._lock:
            if self._db.broken:
                self._db.close()
                self._db = self._connect()
            if not transaction:
                yield self._db
                return
            with self._db.transaction():
                yield self._db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ----------------------------------------------------------------- replicas

    def beat(self) -> None:
        """Note that this replica is alive (PostgreSQL; with SQLite there is only this process)."""
        if not self.url:
            return
        now = self.clock()
        with self._use() as db:
            db.execute(
                "INSERT INTO replicas (name, seen) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seen = excluded.seen",
                (self.name, now),
            )
            db.execute("DELETE FROM replicas WHERE seen < ?", (now - KEEP_IDS_SECONDS,))

    def adopt(self) -> list[dict[str, Any]]:
        """Take over what replicas that went silent left behind: their unfinished updates (returned, to be
        processed here) and their undelivered replies (delivered by this replica's courier)."""
        if not self.url:
            return []
        gone = "owner <> ? AND owner NOT IN (SELECT name FROM replicas WHERE seen >= ?)"
        args = (self.name, self.clock() - self.replica_seconds)
        with self._use(transaction=True) as db:
            rows = db.execute(
                f"UPDATE inbox SET owner = ? WHERE finished IS NULL AND {gone} RETURNING update_id, payload",
                (self.name, *args),
            ).fetchall()
            db.execute(f"UPDATE outbox SET owner = ? WHERE {gone}", (self.name, *args))
        return [json.loads(r[1]) for r in sorted(rows) if r[1] is not None]

    @contextlib.contextmanager
    def round_lock(self) -> Iterator[bool]:
        """True in exactly one replica (and thread) at a time: the subscribers' round runs there only."""
        if not self._round.acquire(blocking=False):
            yield False
            return
        try:
            if not self.url:
                yield True
                return
            key = dbm.lock_key("regiobot:notices")
            with self._use() as db:
                mine = bool(db.execute("SELECT pg_try_advisory_lock(?)", (key,)).fetchone()[0])
            try:
                yield mine
            finally:
                if mine:
                    with contextlib.suppress(*dbm.ERRORS), self._use() as db:
                        db.execute("SELECT pg_advisory_unlock(?)", (key,))
        finally:
            self._round.release()

    # ----------------------------------------------------------------- inbox

    def receive(self, updates: list[dict[str, Any]]) -> list[bool]:
        """Store new updates before they are acknowledged; True for each that is new (to be processed)."""
        now = self.clock()
        fresh: list[bool] = []
        with self._use(transaction=True) as db:
            for update in updates:
                cur = db.execute(
                    "INSERT INTO inbox (update_id, received, payload, owner) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (update["update_id"], now, json.dumps(update, ensure_ascii=False), self.name),
                )
                fresh.append(cur.rowcount == 1)
        return fresh

    def finish(self, update_id: int) -> None:
        """The update needs nothing more (its replies, if any, are in the outbox): forget its payload."""
        with self._use() as db:
            db.execute(
                "UPDATE inbox SET finished = ?, payload = NULL WHERE update_id = ? AND finished IS NULL",
                (self.clock(), update_id),
            )

    def unfinished(self) -> list[dict[str, Any]]:
        """Updates received but not finished (this process stopped or crashed in between, or, with several
        replicas, one that is gone), oldest first."""
        adopted = self.adopt()
        with self._use() as db:
            rows = db.execute(
                "SELECT payload FROM inbox WHERE finished IS NULL AND payload IS NOT NULL AND owner = ? "
                "ORDER BY update_id",
                (self.name,),
            ).fetchall()
        mine = [json.loads(r[0]) for r in rows]
        seen = {u["update_id"] for u in mine}
        return mine + [u for u in adopted if u["update_id"] not in seen]

    def prune(self) -> None:
        """Forget finished update ids after a day: Telegram never repeats an update that old."""
        with self._use() as db:
            db.execute(
                "DELETE FROM inbox WHERE finished IS NOT NULL AND finished < ?",
                (self.clock() - KEEP_IDS_SECONDS,),
            )

    # ----------------------------------------------------------------- outbox

    def _queue(self, db: Database, chat_id: int, messages: list[dict[str, Any]], now: float) -> list[int]:
        return [
            int(
                db.execute(
                    "INSERT INTO outbox (chat_id, payload, created, next_at, owner) VALUES (?, ?, ?, ?, ?) "
                    "RETURNING id",
                    (chat_id, json.dumps(m, ensure_ascii=False), now, now, self.name),
                ).fetchall()[0][0]
            )
            for m in messages
        ]

    def post(self, chat_id: int, messages: list[dict[str, Any]], update_id: int | None = None) -> list[int]:
        """Queue reply parts for a chat and, in the same transaction, finish the update they answer."""
        now = self.clock()
        with self._use(transaction=True) as db:
            ids = self._queue(db, chat_id, messages, now)
            if update_id is not None:
                db.execute(
                    "UPDATE inbox SET finished = ?, payload = NULL WHERE update_id = ? AND finished IS NULL",
                    (now, update_id),
                )
        return ids

    def waiting(self, chat_id: int) -> list[Letter]:
        """The chat's undelivered parts of this replica in order (a new reply never overtakes an older one)."""
        with self._use() as db:
            rows = db.execute(
                "SELECT id, chat_id, payload, created, attempts, next_at FROM outbox WHERE chat_id = ? "
                "AND owner = ? ORDER BY id",
                (chat_id, self.name),
            ).fetchall()
        return [Letter(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5]) for r in rows]

    def due_chats(self) -> list[int]:
        """Chats whose oldest undelivered part (of this replica) is due for another attempt."""
        with self._use() as db:
            rows = db.execute(
                "SELECT o.chat_id FROM outbox o JOIN (SELECT MIN(id) AS first FROM outbox WHERE owner = ? "
                "GROUP BY chat_id) f ON o.id = f.first WHERE o.next_at <= ? ORDER BY o.id",
                (self.name, self.clock()),
            ).fetchall()
        return [r[0] for r in rows]

    def delivered(self, letter_id: int) -> None:
        with self._use() as db:
            db.execute("DELETE FROM outbox WHERE id = ?", (letter_id,))

    def retry_later(self, letter_id: int, delay: float) -> None:
        with self._use() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_at = ? WHERE id = ?",
                (self.clock() + delay, letter_id),
            )

    def give_up(self, letter_id: int) -> None:
        """Delete an undeliverable part (counted by the caller, never retried again)."""
        with self._use() as db:
            db.execute("DELETE FROM outbox WHERE id = ?", (letter_id,))
        self.given_up += 1

    def counts(self) -> tuple[int, int]:
        """(unfinished updates, undelivered parts) of all replicas, for logs and metrics."""
        with self._use() as db:
            inbox = db.execute("SELECT COUNT(*) FROM inbox WHERE finished IS NULL").fetchone()[0]
            outbox = db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        return int(inbox), int(outbox)

    # ----------------------------------------------------------------- subscriptions

    def subscribe(self, chat_id: int, topic: str, label: str) -> bool:
        """False when the chat already has this subscription."""
        with self._use() as db:
            cur = db.execute(
                "INSERT INTO subscriptions (chat_id, topic, label, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (chat_id, topic, label, self.clock()),
            )
        return cur.rowcount == 1

    def unsubscribe(self, chat_id: int, topic: str | None = None) -> int:
        """End one subscription; without a topic delete everything stored for the chat (subscriptions, what was
        sent, undelivered notices). Returns how many subscriptions ended."""
        with self._use(transaction=True) as db:
            if topic is None:
                n = db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,)).rowcount
                db.execute("DELETE FROM sent WHERE chat_id = ?", (chat_id,))
            else:
                n = db.execute(
                    "DELETE FROM subscriptions WHERE chat_id = ? AND topic = ?", (chat_id, topic)
                ).rowcount
        return int(n)

    def subscriptions(self, chat_id: int | None = None) -> list[tuple[int, str, str]]:
        """(chat id, topic key, label), oldest first; of one chat or of all."""
        query = "SELECT chat_id, topic, label FROM subscriptions"
        args: tuple = ()
        if chat_id is not None:
            query, args = query + " WHERE chat_id = ?", (chat_id,)
        with self._use() as db:
            return [
                (int(r[0]), str(r[1]), str(r[2]))
                for r in db.execute(query + " ORDER BY created, topic", args)
            ]

    def post_once(self, chat_id: int, key: str, messages: list[dict[str, Any]]) -> bool:
        """Queue a notice or reminder unless `key` was already sent to the chat – recorded in the same transaction,
        so a crash in the middle of a round neither loses nor repeats it (nor does a second replica)."""
        now = self.clock()
        with self._use(transaction=True) as db:
            cur = db.execute(
                "INSERT INTO sent (chat_id, key, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (chat_id, key, now),
            )
            fresh = cur.rowcount == 1
            if fresh:
                self._queue(db, chat_id, messages, now)
        return fresh

    def seen(self) -> dict[str, str]:
        """Fingerprints of the calls and events the last round knew (empty before the first round)."""
        with self._use() as db:
            return {
                str(k): str(v) for k, v in db.execute("SELECT entry_id, fingerprint FROM seen").fetchall()
            }

    def remember(self, fingerprints: dict[str, str]) -> None:
        """Replace what is known: the next round reports only what differs from this."""
        with self._use(transaction=True) as db:
            db.execute("DELETE FROM seen")
            if fingerprints:
                db.executemany(
                    "INSERT INTO seen (entry_id, fingerprint) VALUES (?, ?)", list(fingerprints.items())
                )
