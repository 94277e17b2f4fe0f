"""SQLite store for the Telegram bot: questions, abstentions and feedback, for staff reports.

Privacy: Telegram user ids are never stored in clear text. They are hashed (HMAC-SHA256) with a
secret salt from the environment variable REGIOBOT_SALT or, without it, a random salt created once
in ``data_dir/salt`` (file mode 0600). Stored per question: time, hashed user, kind of chat,
question text, intent, whether the engine answered, the best source and the answer text (so staff
can see what was disliked), and the further results behind the "Weitere Treffer" button.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from bot.config import Config

SALT_ENV = "REGIOBOT_SALT"
DB_NAME = "regiobot.sqlite3"
SALT_FILE = "salt"

SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY,
    asked_at TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    chat_kind TEXT NOT NULL,
    kind TEXT NOT NULL,
    question TEXT NOT NULL,
    intent TEXT NOT NULL,
    found INTEGER NOT NULL,
    source_id TEXT,
    source_title TEXT,
    answer TEXT NOT NULL DEFAULT '',
    more TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS questions_asked_at ON questions(asked_at);
CREATE TABLE IF NOT EXISTS feedback (
    question_id INTEGER NOT NULL REFERENCES questions(id),
    user_hash TEXT NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    at TEXT NOT NULL,
    PRIMARY KEY (question_id, user_hash)
);
"""


def db_path(config: Config) -> Path:
    return Path(config.data_dir) / DB_NAME


def load_salt(config: Config) -> bytes:
    """REGIOBOT_SALT, else data_dir/salt (created once with mode 0600)."""
    env = os.environ.get(SALT_ENV)
    if env:
        return env.encode("utf-8")
    path = Path(config.data_dir) / SALT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        salt = path.read_text(encoding="ascii").strip()
        if salt:
            return salt.encode("ascii")
        path.unlink()  # empty after a crash mid-write: start again
        return load_salt(config)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip().encode("ascii")


def hash_user(salt: bytes, user_id: int | None) -> str:
    if user_id is None:
        return "-"
    return hmac.new(salt, str(user_id).encode("ascii"), hashlib.sha256).hexdigest()[:32]


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class Stats:
    since: date | None
    questions: int
    answered: int
    abstentions: int
    likes: int
    dislikes: int


@dataclass(frozen=True)
class StoredQuestion:
    id: int
    question: str
    found: bool
    more: list[str]


class Store:
    """One SQLite connection shared by the bot's threads, guarded by a lock (writes take < 1 ms)."""

    def __init__(self, config: Config):
        self.path = db_path(config)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.salt = load_salt(config)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def user_hash(self, user_id: int | None) -> str:
        return hash_user(self.salt, user_id)

    def record_question(
        self,
        *,
        user_id: int | None,
        chat_kind: str,
        kind: str,
        question: str,
        intent: str,
        found: bool,
        source_id: str | None = None,
        source_title: str | None = None,
        answer: str = "",
        more: list[str] | None = None,
    ) -> int:
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO questions (asked_at, user_hash, chat_kind, kind, question, intent, found,"
                " source_id, source_title, answer, more) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    _now(),
                    self.user_hash(user_id),
                    chat_kind,
                    kind,
                    question,
                    intent,
                    int(found),
                    source_id,
                    source_title,
                    answer,
                    json.dumps(more or [], ensure_ascii=False),
                ),
            )
            return int(cur.lastrowid or 0)

    def question(self, question_id: int) -> StoredQuestion | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT id, question, found, more FROM questions WHERE id = ?", (question_id,)
            ).fetchone()
        if row is None:
            return None
        return StoredQuestion(row[0], row[1], bool(row[2]), json.loads(row[3] or "[]"))

    def record_feedback(self, question_id: int, user_id: int | None, vote: int) -> bool:
        """Store 👍 (+1) or 👎 (-1); a second vote of the same user replaces the first."""
        if vote not in (-1, 1):
            raise ValueError("vote must be 1 or -1")
        with self._tx() as conn:
            if conn.execute("SELECT 1 FROM questions WHERE id = ?", (question_id,)).fetchone() is None:
                return False
            conn.execute(
                "INSERT INTO feedback (question_id, user_hash, vote, at) VALUES (?,?,?,?) "
                "ON CONFLICT(question_id, user_hash) DO UPDATE SET vote = excluded.vote, at = excluded.at",
                (question_id, self.user_hash(user_id), vote, _now()),
            )
        return True

    def stats(self, since: date | None = None) -> Stats:
        with self._lock:
            return _stats(self._conn, since)


# --------------------------------------------------------------------------- reading (CLI, /stats)


def _since_clause(column: str, since: date | None) -> tuple[str, tuple]:
    if since is None:
        return "1=1", ()
    return f"substr({column}, 1, 10) >= ?", (since.isoformat(),)


def _stats(conn: sqlite3.Connection, since: date | None) -> Stats:
    where, args = _since_clause("asked_at", since)
    total, answered = conn.execute(
        f"SELECT COUNT(*), COALESCE(SUM(found), 0) FROM questions WHERE {where}", args
    ).fetchone()
    where_fb, args_fb = _since_clause("at", since)
    likes, dislikes = conn.execute(
        f"SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM feedback WHERE {where_fb}",
        args_fb,
    ).fetchone()
    return Stats(since, int(total), int(answered), int(total) - int(answered), int(likes), int(dislikes))


def _open_readonly(config: Config) -> sqlite3.Connection | None:
    path = db_path(config)
    if not path.exists():
        return None
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def stats(config: Config, since: date | None = None) -> Stats:
    conn = _open_readonly(config)
    if conn is None:
        return Stats(since, 0, 0, 0, 0, 0)
    try:
        return _stats(conn, since)
    finally:
        conn.close()


def normalise(question: str) -> str:
    """Group spellings of the same question: case, spaces and trailing punctuation."""
    text = " ".join(question.lower().split())
    return re.sub(r"[\s?!.,;:]+$", "", text)


def _de(day: str) -> str:
    return f"{day[8:10]}.{day[5:7]}.{day[0:4]}"


def _short(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_report(config: Config, since: date | None = None, limit: int = 20) -> str:
    """Plain-text German report for staff: what to add to the knowledge next."""
    head = f"regiobot-Bericht seit {since:%d.%m.%Y}" if since else "regiobot-Bericht (gesamter Zeitraum)"
    conn = _open_readonly(config)
    if conn is None:
        return f"{head}\n\nNoch keine Daten: {db_path(config)} gibt es noch nicht (der Bot lief noch nicht)."
    try:
        s = _stats(conn, since)
        where, args = _since_clause("asked_at", since)
        unanswered: dict[str, list] = {}
        for question, asked_at in conn.execute(
            f"SELECT question, asked_at FROM questions WHERE found = 0 AND {where} ORDER BY asked_at", args
        ):
            key = normalise(question)
            if not key:
                continue
            item = unanswered.setdefault(key, [0, question, asked_at])
            item[0] += 1
            item[1], item[2] = question, asked_at  # latest spelling and time
        where_fb, args_fb = _since_clause("f.at", since)
        disliked = conn.execute(
            "SELECT COALESCE(q.source_id, ''), COALESCE(q.source_title, ''), COUNT(*), MAX(f.at), "
            "GROUP_CONCAT(q.question, char(31)) "
            "FROM feedback f JOIN questions q ON q.id = f.question_id "
            f"WHERE f.vote = -1 AND {where_fb} "
            "GROUP BY COALESCE(q.source_id, q.question) ORDER BY COUNT(*) DESC, MAX(f.at) DESC LIMIT ?",
            (*args_fb, limit),
        ).fetchall()
    finally:
        conn.close()

    lines = [
        head,
        "",
        f"Fragen: {s.questions}, davon beantwortet: {s.answered}, ohne Antwort: {s.abstentions}",
        f"Rückmeldungen: {s.likes}× 👍, {s.dislikes}× 👎",
        "",
        "Häufigste unbeantwortete Fragen (hier fehlt Wissen):",
    ]
    top = sorted(unanswered.values(), key=lambda v: (v[0], v[2]), reverse=True)[:limit]  # most, latest
    if not top:
        lines.append("  (keine)")
    for count, question, asked_at in top:
        lines.append(f"  {count:>3}×  {_short(question)}  (zuletzt {_de(asked_at)})")
    lines += ["", "Negativ bewertete Antworten (👎; Eintrag prüfen oder ergänzen):"]
    if not disliked:
        lines.append("  (keine)")
    for source_id, title, count, last, questions in disliked:
        name = f"„{title}“ ({source_id})" if source_id else "ohne Quelle"
        examples = list(dict.fromkeys(_short(q, 60) for q in (questions or "").split("\x1f") if q))[:3]
        lines.append(f"  {count:>3}× 👎  {name}, zuletzt {_de(last)}")
        if examples:
            lines.append("        Fragen: " + " | ".join(f"„{q}“" for q in examples))
    return "\n".join(lines)
