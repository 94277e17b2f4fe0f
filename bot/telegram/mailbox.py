"""Inbox and outbox of the Telegram channel: nothing lost between a received update and a delivered reply.

One SQLite file (data_dir/telegram.sqlite3, mode 0600) beside the statistics store:

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
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE = "telegram.sqlite3"
KEEP_IDS_SECONDS = 24 * 3600

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    update_id INTEGER PRIMARY KEY,
    received REAL NOT NULL,
    payload TEXT,
    finished REAL
);
CREATE INDEX IF NOT EXISTS inbox_open ON inbox(finished) WHERE finished IS NULL;
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    payload TEXT NOT NULL,
    created REAL NOT NULL,
    next_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_chat ON outbox(chat_id, id);
CREATE TABLE IF NOT EXISTS subscriptions (
    chat_id INTEGER NOT NULL,
    topic TEXT NOT NULL,
    label TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (chat_id, topic)
);
CREATE TABLE IF NOT EXISTS sent (
    chat_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (chat_id, key)
);
CREATE TABLE IF NOT EXISTS seen (
    entry_id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Letter:
    """One reply part waiting for delivery: the sendMessage arguments beside the chat id."""

    id: int
    chat_id: int
    message: dict[str, Any]
    created: float
    attempts: int
    next_at: float


class Mailbox:
    """Thread-safe; every method is one short transaction (the event loop calls them directly)."""

    def __init__(self, data_dir: Path, clock=time.time):
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = data_dir / FILE
        self.clock = clock
        self._lock = threading.Lock()
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=2.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # survives kill -9 (not a power cut)
        self._conn.executescript(SCHEMA)
        self.given_up = 0

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ----------------------------------------------------------------- inbox

    def receive(self, updates: list[dict[str, Any]]) -> list[bool]:
        """Store new updates before they are acknowledged; True for each that is new (to be processed)."""
        now = self.clock()
        fresh: list[bool] = []
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for update in updates:
                    cur = self._conn.execute(
                        "INSERT OR IGNORE INTO inbox (update_id, received, payload) VALUES (?, ?, ?)",
                        (update["update_id"], now, json.dumps(update, ensure_ascii=False)),
                    )
                    fresh.append(cur.rowcount == 1)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return fresh

    def finish(self, update_id: int) -> None:
        """The update needs nothing more (its replies, if any, are in the outbox): forget its payload."""
        with self._lock:
            self._conn.execute(
                "UPDATE inbox SET finished = ?, payload = NULL WHERE update_id = ? AND finished IS NULL",
                (self.clock(), update_id),
            )

    def unfinished(self) -> list[dict[str, Any]]:
        """Updates received but not finished (the bot stopped or crashed in between), oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT payload FROM inbox WHERE finished IS NULL AND payload IS NOT NULL ORDER BY update_id"
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def prune(self) -> None:
        """Forget finished update ids after a day: Telegram never repeats an update that old."""
        with self._lock:
            self._conn.execute(
                "DELETE FROM inbox WHERE finished IS NOT NULL AND finished < ?",
                (self.clock() - KEEP_IDS_SECONDS,),
            )

    # ----------------------------------------------------------------- outbox

    def post(self, chat_id: int, messages: list[dict[str, Any]], update_id: int | None = None) -> list[int]:
        """Queue reply parts for a chat and, in the same transaction, finish the update they answer."""
        now = self.clock()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                ids = [
                    int(
                        self._conn.execute(
                            "INSERT INTO outbox (chat_id, payload, created, next_at) VALUES (?, ?, ?, ?)",
                            (chat_id, json.dumps(m, ensure_ascii=False), now, now),
                        ).lastrowid
                        or 0
                    )
                    for m in messages
                ]
                if update_id is not None:
                    self._conn.execute(
                        "UPDATE inbox SET finished = ?, payload = NULL WHERE update_id = ? AND finished IS NULL",
                        (now, update_id),
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return ids

    def waiting(self, chat_id: int) -> list[Letter]:
        """The chat's undelivered parts in order (a new reply never overtakes an older one)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, chat_id, payload, created, attempts, next_at FROM outbox WHERE chat_id = ? ORDER BY id",
                (chat_id,),
            ).fetchall()
        return [Letter(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5]) for r in rows]

    def due_chats(self) -> list[int]:
        """Chats whose oldest undelivered part is due for another attempt."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT o.chat_id FROM outbox o JOIN (SELECT MIN(id) AS first FROM outbox GROUP BY chat_id) f "
                "ON o.id = f.first WHERE o.next_at <= ? ORDER BY o.id",
                (self.clock(),),
            ).fetchall()
        return [r[0] for r in rows]

    def delivered(self, letter_id: int) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM outbox WHERE id = ?", (letter_id,))

    def retry_later(self, letter_id: int, delay: float) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_at = ? WHERE id = ?",
                (self.clock() + delay, letter_id),
            )

    def give_up(self, letter_id: int) -> None:
        """Delete an undeliverable part (counted by the caller, never retried again)."""
        with self._lock:
            self._conn.execute("DELETE FROM outbox WHERE id = ?", (letter_id,))
        self.given_up += 1

    def counts(self) -> tuple[int, int]:
        """(unfinished updates, undelivered parts), for logs and metrics."""
        with self._lock:
            inbox = self._conn.execute("SELECT COUNT(*) FROM inbox WHERE finished IS NULL").fetchone()[0]
            outbox = self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        return int(inbox), int(outbox)

    # ----------------------------------------------------------------- subscriptions

    def subscribe(self, chat_id: int, topic: str, label: str) -> bool:
        """False when the chat already has this subscription."""
        with self._lock:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO subscriptions (chat_id, topic, label, created) VALUES (?, ?, ?, ?)",
                (chat_id, topic, label, self.clock()),
            )
        return cur.rowcount == 1

    def unsubscribe(self, chat_id: int, topic: str | None = None) -> int:
        """End one subscription; without a topic delete everything stored for the chat (subscriptions, what was
        sent, undelivered notices). Returns how many subscriptions ended."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                if topic is None:
                    n = self._conn.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,)).rowcount
                    self._conn.execute("DELETE FROM sent WHERE chat_id = ?", (chat_id,))
                else:
                    n = self._conn.execute(
                        "DELETE FROM subscriptions WHERE chat_id = ? AND topic = ?", (chat_id, topic)
                    ).rowcount
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return n

    def subscriptions(self, chat_id: int | None = None) -> list[tuple[int, str, str]]:
        """(chat id, topic key, label), oldest first; of one chat or of all."""
        query = "SELECT chat_id, topic, label FROM subscriptions"
        args: tuple = ()
        if chat_id is not None:
            query, args = query + " WHERE chat_id = ?", (chat_id,)
        with self._lock:
            return [tuple(r) for r in self._conn.execute(query + " ORDER BY created, topic", args)]

    def post_once(self, chat_id: int, key: str, messages: list[dict[str, Any]]) -> bool:
        """Queue a notice or reminder unless `key` was already sent to the chat – recorded in the same transaction,
        so a crash in the middle of a round neither loses nor repeats it."""
        now = self.clock()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                cur = self._conn.execute(
                    "INSERT OR IGNORE INTO sent (chat_id, key, at) VALUES (?, ?, ?)", (chat_id, key, now)
                )
                if cur.rowcount == 1:
                    for m in messages:
                        self._conn.execute(
                            "INSERT INTO outbox (chat_id, payload, created, next_at) VALUES (?, ?, ?, ?)",
                            (chat_id, json.dumps(m, ensure_ascii=False), now, now),
                        )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return cur.rowcount == 1

    def seen(self) -> dict[str, str]:
        """Fingerprints of the calls and events the last round knew (empty before the first round)."""
        with self._lock:
            return dict(self._conn.execute("SELECT entry_id, fingerprint FROM seen").fetchall())

    def remember(self, fingerprints: dict[str, str]) -> None:
        """Replace what is known: the next round reports only what differs from this."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("DELETE FROM seen")
                self._conn.executemany(
                    "INSERT INTO seen (entry_id, fingerprint) VALUES (?, ?)", fingerprints.items()
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
