"""The statistics store: questions, abstentions and feedback, for staff reports.

SQLite in the data folder by default; PostgreSQL when ``store.url`` or REGIOBOT_STORE_URL names one (several
replicas then share it, see bot.db). The schema is the same in both, versioned and migrated on start.

Answering never waits for statistics: ``record_question`` hands the entry to one writer thread through a
bounded queue and returns at once. The writer uses a short busy timeout and retries later, so a locked,
full or deleted database costs entries (counted in ``Store.failures`` and ``Store.dropped``), never answers.
Reads (``question``, ``stats``) open their own short-lived connection with a short timeout and take no lock.

Privacy: Telegram user ids and chat keys are never stored in clear text but as HMAC-SHA256 with a secret salt
from the environment variable REGIOBOT_SALT or, without it, a random salt created once in ``data_dir/salt``.
E-mail addresses and phone numbers in questions are masked before storing, control characters stripped.
Entries older than ``store.retention_days`` are deleted once a day (and by ``regiobot purge``). The data
folder is 0700, database, WAL/SHM files and salt are 0600. Stored per question: time, hashed user, hashed chat,
kind of chat, question text, intent, whether the engine answered, the best source and the answer text (so
staff can see what was disliked), the further results behind the "Weitere Treffer" button and the button token.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import hmac
import itertools
import json
import logging
import os
import re
import secrets
import sqlite3
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from bot import db as dbm
from bot.config import Config
from bot.db import Database

T = TypeVar("T")

log = logging.getLogger("regiobot.store")

SALT_ENV = "REGIOBOT_SALT"
DB_NAME = "regiobot.sqlite3"
SALT_FILE = "salt"
LOCK_FILE = "regiobot.lock"
SCHEMA_VERSION = 2

WRITE_TIMEOUT = 0.2  # busy wait of the writer thread; it retries from its queue afterwards
READ_TIMEOUT = 0.2  # busy wait of a read: no caller waits much longer than this
START_TIMEOUT = 2.0  # schema check at start; when still locked the writer thread migrates later
ADMIN_TIMEOUT = 5.0  # `regiobot purge` and `regiobot report` may wait for a running bot
BATCH = 200
RETRY_DELAYS = (0.05, 2.0)  # first and longest pause before the writer tries a failed batch again
LOG_EVERY = 60.0  # seconds between two log lines about the same kind of failure
DAY = timedelta(hours=24)

# version 0: the first release (no user_version); version 1 adds the button token and the hashed chat key
SCHEMA_V0 = (
    """CREATE TABLE IF NOT EXISTS questions (
        id {int} PRIMARY KEY,
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
    )""",
    "CREATE INDEX IF NOT EXISTS questions_asked_at ON questions(asked_at)",
    """CREATE TABLE IF NOT EXISTS feedback (
        question_id {int} NOT NULL REFERENCES questions(id),
        user_hash TEXT NOT NULL,
        vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
        at TEXT NOT NULL,
        PRIMARY KEY (question_id, user_hash)
    )""",
)
# SQLite cannot ADD COLUMN ... UNIQUE: the uniqueness comes from the index (NULLs, old rows, may repeat)
MIGRATION_V1 = (
    ("token", "ALTER TABLE questions ADD COLUMN token TEXT"),
    ("chat_hash", "ALTER TABLE questions ADD COLUMN chat_hash TEXT"),
)
INDEX_V1 = "CREATE UNIQUE INDEX IF NOT EXISTS questions_token ON questions(token)"
# version 2: whether the answer reached the person (the Telegram outbox gave up after its retries: 0)
MIGRATION_V2 = ("delivered", "ALTER TABLE questions ADD COLUMN delivered INTEGER NOT NULL DEFAULT 1")

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# C0 except \t and \n, DEL and C1: terminal escapes, carriage returns and NULs in stored or printed text
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
BIDI_RE = re.compile(r"[\u202a-\u202e\u2066-\u2069]")  # reorder a report line on the terminal
EMAIL_RE = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# "+49 345 123456", "0345 1234567", "(0345) 123 45 67", "0176-12345678": a "+" or a leading 0, then digits
# with single spaces, slashes, hyphens or brackets. Dots and commas end a candidate, so dates (13.06.2024),
# decimals and versions never match; fewer than 8 digits (postcodes, years, "AG 3") are left alone.
PHONE_RE = re.compile(r"(?<![\w+.,/-])(?:\+|\(?0)(?:[ ()/-]{0,3}\d){6,}")
DATE_LIKE_RE = re.compile(r"^\(?\d{1,2}[/-]\d{1,2}[/-]\d{2,4}$")
MIN_PHONE_DIGITS = 8


class StoreError(Exception):
    """The store cannot work (folder not writable, another instance running, newer schema): German, with what to do."""


# --------------------------------------------------------------------------- text hygiene


def strip_controls(text: str) -> str:
    """Without C0 (except newline and tab) and C1 control characters: nothing a terminal would execute."""
    return CONTROL_RE.sub("", text)


def _phone(match: re.Match[str]) -> str:
    candidate = match.group(0)
    digits = sum(c.isdigit() for c in candidate)
    if digits < MIN_PHONE_DIGITS or DATE_LIKE_RE.match(candidate.strip()):
        return candidate
    return "[Telefon]"


def mask_personal(text: str) -> str:
    """E-mail addresses and phone numbers people type are not kept: "[E-Mail]", "[Telefon]"."""
    return PHONE_RE.sub(_phone, EMAIL_RE.sub("[E-Mail]", text))


def clean_question(text: str) -> str:
    return mask_personal(strip_controls(text))


# --------------------------------------------------------------------------- files and folders


def _reason(exc: BaseException) -> str:
    """A short German reason for a file or SQLite error (no data, no traceback)."""
    if isinstance(exc, OSError):
        reasons = {
            errno.EACCES: "keine Berechtigung",
            errno.EPERM: "keine Berechtigung",
            errno.EROFS: "Dateisystem ist schreibgeschützt",
            errno.ENOSPC: "Datenträger voll",
            errno.ENOTDIR: "ein Teil des Pfads ist eine Datei, kein Ordner",
            errno.EEXIST: "dort liegt eine Datei, kein Ordner",
            errno.ENOENT: "nicht vorhanden",
        }
        return reasons.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    name = getattr(exc, "sqlite_errorname", "") or ""
    for prefix, reason in (
        ("SQLITE_READONLY", "nur lesbar"),
        ("SQLITE_CANTOPEN", "Datei lässt sich nicht öffnen"),
        ("SQLITE_NOTADB", "keine SQLite-Datenbank"),
        ("SQLITE_CORRUPT", "Datenbank beschädigt"),
        ("SQLITE_FULL", "Datenträger voll"),
        ("SQLITE_BUSY", "von einem anderen Prozess gesperrt"),
        ("SQLITE_LOCKED", "gesperrt"),
        ("SQLITE_IOERR", "Ein-/Ausgabefehler"),
        ("SQLITE_PERM", "keine Berechtigung"),
    ):
        if name.startswith(prefix):
            return reason
    return str(exc) or type(exc).__name__


def _tighten(path: Path, mode: int) -> None:
    """Take group and other rights away from an existing file or folder (logged when not allowed)."""
    try:
        current = path.stat().st_mode & 0o777
        if current & ~mode:
            os.chmod(path, current & mode)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("Rechte von %s lassen sich nicht einschränken (%s).", path, _reason(exc))


def _make_dir(folder: Path) -> None:
    """The data folder with mode 0700; an existing looser one is tightened."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(folder, 0o700)


def prepare_data_dir(config: Config) -> Path:
    """data_dir, created with mode 0700 (tightened when looser), or a StoreError saying what to fix."""
    folder = Path(config.data_dir)
    advice = (
        "Bitte dem Benutzer des Bots Schreibrechte geben (z. B. mit chown/chmod) oder in config.yaml "
        "unter data_dir einen beschreibbaren Ordner eintragen."
    )
    try:
        _make_dir(folder)
    except OSError as exc:
        raise StoreError(
            f"Der Datenordner {folder} lässt sich nicht anlegen ({_reason(exc)}). {advice}"
        ) from exc
    if not folder.is_dir():
        raise StoreError(f"Der Datenordner {folder} ist kein Ordner. {advice}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(f"Der Datenordner {folder} ist nicht beschreibbar. {advice}")
    return folder


def db_path(config: Config) -> Path:
    return Path(config.data_dir) / DB_NAME


def _tighten_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        _tighten(path.with_name(path.name + suffix), 0o600)


# --------------------------------------------------------------------------- salt and hashes


def _read_salt(path: Path) -> bytes | None:
    """The salt, b"" for an empty file (left by a crash of an older version), None when missing."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        return None


def _create_salt(path: Path) -> bytes | None:
    """Write a new salt to a temporary 0600 file and link it into place: the salt file appears complete or
    not at all. None when another process or thread was first (then its salt counts)."""
    salt = secrets.token_hex(32).encode("ascii")
    fd, tmp = tempfile.mkstemp(prefix=".salt-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(salt)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return None
        except OSError as exc:
            raise StoreError(
                f"Das Salz {path} lässt sich nicht anlegen ({_reason(exc)}). Bitte Rechte des Datenordners "
                f"prüfen oder das Salz in der Umgebungsvariable {SALT_ENV} setzen."
            ) from exc
        return salt
    finally:
        Path(tmp).unlink(missing_ok=True)


def _repair_empty_salt(path: Path) -> None:
    """An empty salt file (crash of a version before the atomic link): fill it once, under a file lock."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if not os.pread(fd, 256, 0).strip():
            log.warning(
                "Leere Salz-Datei %s gefunden (Absturz einer älteren Version); neues Salz angelegt.", path
            )
            os.ftruncate(fd, 0)
            os.pwrite(fd, secrets.token_hex(32).encode("ascii"), 0)
            os.fsync(fd)
    finally:
        os.close(fd)


def load_salt(config: Config) -> bytes:
    """REGIOBOT_SALT, else data_dir/salt (created once, atomically, mode 0600; all processes get the same)."""
    env = os.environ.get(SALT_ENV)
    if env:
        return env.encode("utf-8")
    path = prepare_data_dir(config) / SALT_FILE
    try:
        for _ in range(100):
            salt = _read_salt(path)
            if salt:
                _tighten(path, 0o600)
                return salt
            if salt is None:
                salt = _create_salt(path)
                if salt is not None:
                    return salt
            else:
                _repair_empty_salt(path)
    except OSError as exc:
        raise StoreError(f"Das Salz {path} lässt sich nicht lesen oder anlegen ({_reason(exc)}).") from exc
    raise StoreError(f"Das Salz {path} lässt sich nicht lesen oder anlegen (verschwindet immer wieder).")


def hash_user(salt: bytes, user_id: int | None) -> str:
    if user_id is None:
        return "-"
    return hmac.new(salt, str(user_id).encode("ascii"), hashlib.sha256).hexdigest()[:32]


def hash_chat(salt: bytes, chat: str) -> str:
    """The chat key ("tg:42") as HMAC: a button works in its own chat, and no chat id is stored."""
    return hmac.new(salt, chat.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def new_token() -> str:
    """An unguessable button token (12 URL-safe characters, fits Telegram's 64-byte callback data)."""
    return secrets.token_urlsafe(9)


class _IdClock:
    """Question ids made without asking SQLite, so recording never waits: microseconds since 1970 (growing
    within a process, so ties in the report keep the order of asking) and three random digits (two processes
    writing one database practically never collide). Far above the sequential ids of older versions and
    below 2**63 until the year 2262."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._micros = 0

    def __call__(self) -> int:
        with self._lock:
            self._micros = max(time.time_ns() // 1000, self._micros + 1)
            return self._micros * 1000 + secrets.randbelow(1000)


_new_id = _IdClock()


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


# --------------------------------------------------------------------------- instance lock


class InstanceLock:
    """The exclusive lock on data_dir/regiobot.lock; the kernel drops it when the process ends, even on a crash."""

    def __init__(self, path: Path, fd: int):
        self.path, self._fd = path, fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire_instance_lock(config: Config) -> InstanceLock:
    """One bot per data folder: a second one would write the same database and answer the same chats."""
    folder = prepare_data_dir(config)
    path = folder / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StoreError(f"Die Sperrdatei {path} lässt sich nicht öffnen ({_reason(exc)}).") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        os.close(fd)
        if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
            raise StoreError(f"Die Sperrdatei {path} lässt sich nicht sperren ({_reason(exc)}).") from exc
        pid = f", Prozess {holder}" if holder.isdigit() else ""
        raise StoreError(
            f"Ein anderer regiobot läuft bereits mit diesem Datenordner ({folder}{pid}). Bitte zuerst beenden."
        ) from exc
    with contextlib.suppress(OSError):  # the process id only helps the message of a second instance
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    _tighten(path, 0o600)
    return InstanceLock(path, fd)


# --------------------------------------------------------------------------- schema


def _migrate(db: Database) -> None:
    """Create or upgrade the schema in place (SQLite: PRAGMA user_version; PostgreSQL: table regiobot_schema)."""
    if db.version("store") == SCHEMA_VERSION:
        return
    with db.transaction():
        db.migrations_lock()
        version = db.version("store")  # another process may have been first
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"Die Datenbank hat Schema-Version {version}, dieser regiobot kennt nur bis {SCHEMA_VERSION}. "
                "Bitte regiobot aktualisieren."
            )
        if version < 1:
            db.script(SCHEMA_V0)
            columns = db.columns("questions")
            for column, statement in MIGRATION_V1:
                if column not in columns:
                    db.execute(statement)
            db.execute(INDEX_V1)
        if version < 2 and MIGRATION_V2[0] not in db.columns("questions"):
            db.execute(MIGRATION_V2[1])
        db.set_version("store", SCHEMA_VERSION)


def _is_busy(exc: BaseException) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc)


def _cutoff(days: int, now: datetime | None = None) -> str:
    if days < 1:
        raise ValueError("days must be at least 1")
    return ((now or datetime.now()) - timedelta(days=days)).date().isoformat()


def _purge(db: Database, cutoff: str) -> int:
    """Questions asked before the cutoff day and their feedback; called inside a transaction."""
    old = "SELECT id FROM questions WHERE substr(asked_at, 1, 10) < ?"
    db.execute(f"DELETE FROM feedback WHERE question_id IN ({old})", (cutoff,))
    return int(db.execute("DELETE FROM questions WHERE substr(asked_at, 1, 10) < ?", (cutoff,)).rowcount)


def _checkpoint(db: Database) -> None:
    """Deleted rows also leave SQLite's WAL file (best effort: a busy reader just postpones it)."""
    if not db.postgres:
        with contextlib.suppress(sqlite3.Error):
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _where(config: Config) -> str:
    """The database for messages: the SQLite file or the PostgreSQL address without password."""
    url = dbm.store_url(config)
    return dbm.redact_url(url) if url else str(db_path(config))


def _connect_admin(config: Config, readonly: bool) -> Database | None:
    """A connection for `regiobot purge`/`report` (waits a few seconds for a running bot); None when the
    SQLite file does not exist yet (nothing recorded)."""
    url = dbm.store_url(config)
    if url:
        try:
            return dbm.connect_postgres(url, "regiobot-admin", ADMIN_TIMEOUT)
        except dbm.DatabaseError as exc:
            raise StoreError(str(exc)) from exc
    path = db_path(config).absolute()
    if not path.exists():
        return None
    db = dbm.connect_sqlite(path.as_uri() + ("?mode=ro" if readonly else "?mode=rw"), ADMIN_TIMEOUT, uri=True)
    if not readonly:
        return db  # a damaged file shows in the purge itself
    try:
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except BaseException:
        db.close()
        raise
    return db


def _purge_db(config: Config, days: int) -> int:
    """Delete old entries, waiting a few seconds for a running bot."""
    cutoff = _cutoff(days)
    try:
        db = _connect_admin(config, readonly=False)
    except (OSError, *dbm.ERRORS) as exc:
        raise StoreError(
            f"Die Datenbank {_where(config)} lässt sich nicht öffnen ({_reason(exc)}). Bitte als derselbe "
            "Benutzer wie der Bot starten und die Rechte des Datenordners prüfen."
        ) from exc
    if db is None:
        return 0
    try:
        if db.postgres and not db.columns("questions"):
            return 0
        if not db.postgres:
            db.execute("PRAGMA secure_delete=ON")  # deleted questions are overwritten, not just unlinked
        with db.transaction():
            count = _purge(db, cutoff)
        _checkpoint(db)
        return count
    except dbm.ERRORS as exc:
        raise StoreError(
            f"Alte Einträge in {_where(config)} lassen sich nicht löschen ({_reason(exc)}). Bitte später "
            "erneut versuchen."
        ) from exc
    finally:
        db.close()


# --------------------------------------------------------------------------- the store


@dataclass(frozen=True)
class Stats:
    since: date | None
    questions: int
    answered: int
    abstentions: int
    likes: int
    dislikes: int
    undelivered: int = 0
    """Answers that never reached the person (counted as neither answered nor unanswered)."""


@dataclass(frozen=True)
class StoredQuestion:
    id: int
    question: str
    found: bool
    more: list[str]
    token: str | None = None


@dataclass
class _Op:
    """One write for the writer thread: a question, a vote or a purge."""

    kind: str
    params: tuple[Any, ...] = ()
    stored: StoredQuestion | None = None
    chat_hash: str | None = None


class _Throttled:
    """At most one log line per kind of trouble and minute, with how many were left out."""

    def __init__(self, every: float = LOG_EVERY):
        self.every = every
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def warning(self, key: str, message: str, *args: object) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.every:
                self._skipped[key] = self._skipped.get(key, 0) + 1
                return
            self._last[key] = now
            skipped = self._skipped.pop(key, 0)
        suffix = f" ({skipped} gleiche Meldungen seit der letzten ausgelassen)" if skipped else ""
        log.warning(message + suffix, *args)


_LIVE: weakref.WeakSet[Store] = weakref.WeakSet()


class Store:
    """Questions and feedback for the report. One writer thread owns all writes; callers never wait for SQLite."""

    check_interval = 3.0
    """Seconds between the writer's checks that the database file is still the one it writes to."""

    def __init__(self, config: Config):
        settings = config.store
        self.config = config
        self.retention_days = settings.retention_days
        try:
            self.url = dbm.store_url(config)
        except dbm.DatabaseError as exc:
            raise StoreError(str(exc)) from exc
        if self.url and not os.environ.get(SALT_ENV):
            raise StoreError(
                f"Mit PostgreSQL braucht jeder Bot dasselbe Geheimnis in der Umgebungsvariable {SALT_ENV} "
                "(z. B. erzeugt mit: openssl rand -hex 32), sonst passen Auswertung und Knöpfe nicht zusammen."
            )
        prepare_data_dir(config)
        self.path = db_path(config).absolute()
        self.where = dbm.redact_url(self.url) if self.url else str(self.path)
        self.salt = load_salt(config)
        self.failures = 0
        """Store errors so far (failed writes and reads, entries given up); never raised to recording callers."""
        self.dropped = 0
        """Entries not recorded because the queue was full or the store closed."""
        self._maxsize = settings.queue_size
        self._throttled = _Throttled()
        self._cond = threading.Condition()
        self._queue: deque[_Op] = deque()
        self._pending_ids: dict[int, _Op] = {}
        self._pending_tokens: dict[str, _Op] = {}
        self._enqueued = self._done = 0
        self._closed = False
        self._wake = threading.Event()  # ends the pause after a failed write: flush and close try at once
        self._last_purge: datetime | None = None
        self._identity: tuple[int, int] | None = None
        self._checked = time.monotonic()
        self._uri = self.path.as_uri() + "?mode=rw"  # reads never create a (deleted) database
        self._reader: Database | None = None  # PostgreSQL: one reading connection, behind _reader_lock
        self._reader_lock = threading.Lock()
        try:
            self._conn: Database | None = self._open(START_TIMEOUT)
        except (OSError, dbm.DatabaseError, *dbm.ERRORS) as exc:
            if self.url or not _is_busy(exc):
                raise StoreError(
                    f"Die Datenbank {self.where} lässt sich nicht öffnen ({_reason(exc)}). "
                    + (
                        "Bitte Adresse, Rechte und Erreichbarkeit prüfen."
                        if self.url
                        else "Bitte Rechte und freien Platz im Datenordner prüfen; eine beschädigte Datei "
                        "beiseitelegen, dann legt der Bot eine neue an."
                    )
                ) from exc
            log.warning("Datenbank %s ist gesperrt; der Schreib-Thread versucht es weiter.", self.where)
            self._conn = None
        self._thread = threading.Thread(target=self._run, name="regiobot-store", daemon=True)
        self._thread.start()
        _LIVE.add(self)
        self.maybe_purge()

    # ----------------------------------------------------------------- connections

    def _open(self, timeout: float) -> Database:
        """The writer's connection with a current schema; a SQLite file is created 0600 (its WAL and SHM files
        inherit the mode)."""
        if self.url:
            db = dbm.connect_postgres(self.url, "regiobot-store", timeout)
            try:
                _migrate(db)
            except BaseException:
                db.close()
                raise
            return db
        _make_dir(self.path.parent)  # recreated when deleted while running
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
        db = dbm.connect_sqlite(self.path, timeout)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA secure_delete=ON")
            _migrate(db)
            db.execute(f"PRAGMA busy_timeout = {int(WRITE_TIMEOUT * 1000)}")
            st = os.stat(self.path)
        except BaseException:
            db.close()
            raise
        self._identity = (st.st_dev, st.st_ino)
        _tighten_db(self.path)
        return db

    def _read(self, query: Callable[[Database], T], what: str, strict: bool = False) -> T | None:
        """A read with a short timeout (SQLite: its own connection; PostgreSQL: the reading connection, opened
        again after a failure); None (counted, logged) when it fails."""
        try:
            if self.url:
                with self._reader_lock:
                    if self._reader is None or self._reader.broken:
                        self._reader = dbm.connect_postgres(
                            self.url, "regiobot-store-read", READ_TIMEOUT * 10
                        )
                    try:
                        return query(self._reader)
                    except dbm.ERRORS:
                        self._reader.close()
                        self._reader = None
                        raise
            db = dbm.connect_sqlite(self._uri, READ_TIMEOUT, uri=True)
            try:
                db.execute("PRAGMA query_only = 1")
                return query(db)
            finally:
                db.close()
        except (dbm.DatabaseError, *dbm.ERRORS) as exc:
            self._failed(exc, "Lesen" if what == "Lesen" else what)
            if strict:
                raise StoreError(
                    f"Die Statistik ist gerade nicht lesbar ({_reason(exc)}). Bitte gleich noch einmal versuchen."
                ) from exc
            return None

    def _failed(self, exc: BaseException, what: str) -> None:
        with self._cond:
            self.failures += 1
        self._throttled.warning(
            f"{what}:{type(exc).__name__}:{getattr(exc, 'sqlite_errorname', '')}",
            "Statistik-Speicher: %s fehlgeschlagen (%s, %s). Antworten laufen weiter.",
            what,
            type(exc).__name__,
            _reason(exc),
        )

    # ----------------------------------------------------------------- queue

    def _enqueue(self, op: _Op, bounded: bool = True) -> bool:
        with self._cond:
            full = bounded and len(self._queue) >= self._maxsize
            if self._closed or full:
                self.dropped += 1
                dropped = self.dropped
            else:
                self._queue.append(op)
                self._enqueued += 1
                if op.stored is not None:
                    self._pending_ids[op.stored.id] = op
                    if op.stored.token:
                        self._pending_tokens[op.stored.token] = op
                self._cond.notify_all()
                return True
        reason = "geschlossen" if self._closed else f"Warteschlange voll ({self._maxsize})"
        self._throttled.warning(
            "dropped", "Statistik-Speicher %s: Eintrag verworfen (bisher %d verworfen).", reason, dropped
        )
        return False

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is written (or given up); False when the timeout came first."""
        with self._cond:
            target = self._enqueued
            self._cond.notify_all()
            self._wake.set()
            return self._cond.wait_for(lambda: self._done >= target, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (up to timeout), stop the writer thread, close the database."""
        if self._closed:
            return
        self.flush(timeout)
        with self._cond:
            self._closed = True
            left = len(self._queue)
            self._cond.notify_all()
        self._wake.set()
        self._thread.join(timeout=WRITE_TIMEOUT * 10)
        if left:
            log.warning("Statistik-Speicher: %d Einträge beim Beenden nicht gespeichert.", left)
        if not self._thread.is_alive() and self._conn is not None:
            self._conn.close()
            self._conn = None
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        _LIVE.discard(self)

    # ----------------------------------------------------------------- the writer thread

    def _run(self) -> None:
        delay = 0.0
        while True:
            with self._cond:
                if not self._queue and not self._closed:
                    self._cond.wait(self.check_interval)
                if self._closed:
                    return
                batch = list(itertools.islice(self._queue, BATCH))  # only this thread takes items off
            self._housekeeping()
            if not batch:
                continue
            finished = self._write(batch)
            if finished:
                self._finish(finished)
                delay = 0.0
            else:
                delay = min(max(delay * 2, RETRY_DELAYS[0]), RETRY_DELAYS[1])
                self._wake.wait(delay)
                self._wake.clear()

    def _housekeeping(self) -> None:
        if self._conn is None or time.monotonic() - self._checked >= self.check_interval:
            self._check_file()
        self.maybe_purge()

    def _check_file(self) -> None:
        """Notice a deleted or replaced SQLite file instead of writing on into an unlinked file; open a new
        PostgreSQL connection after the server dropped the old one."""
        self._checked = time.monotonic()
        if self.url:
            same = self._conn is not None and not self._conn.broken
        else:
            try:
                st = os.stat(self.path)
                same = (st.st_dev, st.st_ino) == self._identity
            except FileNotFoundError:
                same = False
            except OSError:
                return  # cannot tell; the next write reports what is wrong
        if self._conn is not None and not same:
            if not self.url:
                log.warning(
                    "Die Datenbank %s wurde gelöscht oder ersetzt; sie wird neu angelegt. Bisherige Einträge "
                    "fehlen im Bericht, falls keine Sicherung besteht.",
                    self.path,
                )
            self._conn.close()
            self._conn = None
        if self._conn is None:
            try:
                self._conn = self._open(WRITE_TIMEOUT if not self.url else START_TIMEOUT)
            except (OSError, StoreError, dbm.DatabaseError, *dbm.ERRORS) as exc:
                self._failed(exc, "Öffnen")

    def _write(self, batch: list[_Op]) -> int:
        """Write a batch in one transaction; how many ops are done (written or given up), 0 to retry later."""
        db = self._conn
        if db is None:
            return 0
        try:
            with db.transaction():
                purged = sum(self._apply(db, op) for op in batch)
        except dbm.PERMANENT as exc:
            if len(batch) > 1:
                return self._write(batch[:1])  # find the one entry that can never be written
            self._failed(exc, "Schreiben (Eintrag verworfen)")
            return 1
        except (OSError, *dbm.ERRORS) as exc:
            self._failed(exc, "Schreiben")
            if not _is_busy(exc):
                self._check_file()  # e.g. "readonly database" after the file was moved, or a dropped connection
            return 0
        if purged:
            log.info("Aufbewahrungsfrist: %d alte Fragen gelöscht.", purged)
            _checkpoint(db)
        return len(batch)

    @staticmethod
    def _apply(conn: Database, op: _Op) -> int:
        if op.kind == "question":
            conn.execute(
                "INSERT INTO questions (id, asked_at, user_hash, chat_kind, kind, question, intent, found,"
                " source_id, source_title, answer, more, token, chat_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                op.params,
            )
        elif op.kind == "feedback":
            conn.execute(
                "INSERT INTO feedback (question_id, user_hash, vote, at) "
                "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM questions WHERE id = ?) "
                "ON CONFLICT(question_id, user_hash) DO UPDATE SET vote = excluded.vote, at = excluded.at",
                (*op.params, op.params[0]),
            )
        elif op.kind == "undelivered":
            conn.execute("UPDATE questions SET delivered = 0 WHERE token = ?", op.params)
        elif op.kind == "purge":
            return _purge(conn, op.params[0])
        return 0

    def _finish(self, count: int) -> None:
        with self._cond:
            for _ in range(count):
                op = self._queue.popleft()
                if op.stored is not None:
                    self._pending_ids.pop(op.stored.id, None)
                    if op.stored.token:
                        self._pending_tokens.pop(op.stored.token, None)
            self._done += count
            self._cond.notify_all()

    # ----------------------------------------------------------------- API

    def user_hash(self, user_id: int | None) -> str:
        return hash_user(self.salt, user_id)

    def chat_hash(self, chat: str) -> str:
        return hash_chat(self.salt, chat)

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
        token: str | None = None,
        chat: str | None = None,
    ) -> int | None:
        """Queue the question for the report and return its id at once (None when it was dropped).

        Never raises and never waits for SQLite: statistics must not cost an answer. ``token`` (see
        ``new_token``) and ``chat`` (the channel's chat key) bind the answer's buttons to that chat."""
        try:
            text = clean_question(question)
            extra = list(more or [])
            stored = StoredQuestion(_new_id(), text, bool(found), extra, token)
            chat_hash = self.chat_hash(chat) if chat is not None else None
            params = (
                stored.id,
                _now(),
                self.user_hash(user_id),
                chat_kind,
                kind,
                text,
                intent,
                int(bool(found)),
                source_id,
                source_title,
                answer,
                json.dumps(extra, ensure_ascii=False),
                token,
                chat_hash,
            )
        except Exception as exc:
            self._failed(exc, "Aufbereiten")
            return None
        op = _Op("question", params, stored, chat_hash)
        return stored.id if self._enqueue(op) else None

    def question(self, question_id: int) -> StoredQuestion | None:
        """A question by id (old buttons); None when unknown or unreadable right now."""
        if not isinstance(question_id, int) or not 0 < question_id < 2**63:
            return None  # forged button data beyond SQLite's integers
        with self._cond:
            op = self._pending_ids.get(question_id)
        if op is not None:
            return op.stored
        row = self._read(
            lambda c: c.execute(
                "SELECT id, question, found, more, token FROM questions WHERE id = ?", (question_id,)
            ).fetchone(),
            "Lesen",
        )
        return _stored(row) if row is not None else None

    def question_by_token(self, token: str, chat: str) -> StoredQuestion | None:
        """The question behind a button, only in the chat it was answered in; None otherwise."""
        if not isinstance(token, str) or not TOKEN_RE.match(token):
            return None
        expected = self.chat_hash(chat)
        with self._cond:
            op = self._pending_tokens.get(token)
        if op is not None:
            same = op.chat_hash is not None and hmac.compare_digest(op.chat_hash, expected)
            return op.stored if same else None
        row = self._read(
            lambda c: c.execute(
                "SELECT id, question, found, more, token, chat_hash FROM questions WHERE token = ?", (token,)
            ).fetchone(),
            "Lesen",
        )
        if row is None or not row[5] or not hmac.compare_digest(row[5], expected):
            return None
        return _stored(row)

    def record_feedback(self, question_id: int, user_id: int | None, vote: int) -> bool:
        """Store 👍 (+1) or 👎 (-1) by question id (old buttons); a second vote of the same user replaces the
        first. False for an unknown question; the vote itself is written in the background."""
        if vote not in (-1, 1):
            raise ValueError("vote must be 1 or -1")
        stored = self.question(question_id)
        if stored is None:
            return False
        self._enqueue(_Op("feedback", (stored.id, self.user_hash(user_id), vote, _now())))
        return True

    def record_feedback_by_token(self, token: str, chat: str, user_id: int | None, vote: int) -> bool:
        """👍/👎 on the answer behind a token: False for unknown tokens, other chats and unanswered questions
        (nothing to rate). True means the vote was accepted; it is written in the background."""
        if vote not in (-1, 1):
            raise ValueError("vote must be 1 or -1")
        stored = self.question_by_token(token, chat)
        if stored is None or not stored.found:
            return False
        self._enqueue(_Op("feedback", (stored.id, self.user_hash(user_id), vote, _now())))
        return True

    def record_undelivered(self, token: str) -> None:
        """The answer behind `token` never reached the person: the report must not count it as answered."""
        if isinstance(token, str) and TOKEN_RE.match(token):
            self._enqueue(_Op("undelivered", (token,)))

    def stats(self, since: date | None = None) -> Stats:
        """Counts for /stats: what is queued gets a moment to be written, then one short read."""
        self.flush(READ_TIMEOUT)
        result = self._read(lambda c: _stats(c, since), "Statistik lesen", strict=True)
        assert result is not None
        return result

    def purge(self, older_than_days: int | None = None) -> int:
        """Delete questions (and their feedback) older than that many days (default store.retention_days)."""
        self.flush(ADMIN_TIMEOUT)
        return _purge_db(self.config, self.retention_days if older_than_days is None else older_than_days)

    def maybe_purge(self, now: datetime | None = None) -> bool:
        """Apply the retention period in the writer thread, at most once per 24 hours; True when scheduled."""
        now = now or datetime.now()
        with self._cond:
            if self._last_purge is not None and now - self._last_purge < DAY:
                return False
            self._last_purge = now
        return self._enqueue(_Op("purge", (_cutoff(self.retention_days, now),)), bounded=False)


def _stored(row: tuple) -> StoredQuestion:
    """A row as a question; a damaged list of further results (edited by hand) just means no further results."""
    try:
        more = json.loads(row[3] or "[]")
    except ValueError:
        more = []
    if not isinstance(more, list) or not all(isinstance(m, str) for m in more):
        more = []
    return StoredQuestion(int(row[0]), str(row[1]), bool(row[2]), more, row[4])


def _flush_live(config: Config) -> None:
    """Read your own writes: a report in the process that records (tests, the terminal) sees all it recorded."""
    where = _where(config)
    for store in list(_LIVE):
        if store.where == where:
            store.flush(ADMIN_TIMEOUT)


def purge(config: Config, older_than_days: int | None = None) -> int:
    """`regiobot purge`: delete entries older than the retention period (works while the bot runs)."""
    days = config.store.retention_days if older_than_days is None else older_than_days
    _flush_live(config)
    return _purge_db(config, days)


# --------------------------------------------------------------------------- reading (CLI, /stats)


def _since_clause(column: str, since: date | None) -> tuple[str, tuple]:
    if since is None:
        return "1=1", ()
    return f"substr({column}, 1, 10) >= ?", (since.isoformat(),)


def _stats(db: Database, since: date | None) -> Stats:
    where, args = _since_clause("asked_at", since)
    delivered = "delivered" if "delivered" in db.columns("questions") else "1"  # read-only, not yet migrated
    total, answered, lost = db.execute(
        f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN found = 1 AND {delivered} = 1 THEN 1 ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN {delivered} = 0 THEN 1 ELSE 0 END), 0) FROM questions WHERE {where}",
        args,
    ).fetchone()
    where_fb, args_fb = _since_clause("at", since)
    likes, dislikes = db.execute(
        "SELECT COALESCE(SUM(CASE WHEN vote = 1 THEN 1 ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN vote = -1 THEN 1 ELSE 0 END), 0) FROM feedback WHERE {where_fb}",
        args_fb,
    ).fetchone()
    abstentions = int(total) - int(answered) - int(lost)
    return Stats(since, int(total), int(answered), abstentions, int(likes), int(dislikes), int(lost))


def _unreadable(config: Config, exc: BaseException) -> StoreError:
    return StoreError(
        f"Die Datenbank {_where(config)} lässt sich nicht lesen ({_reason(exc)}). Bitte Leserechte für den "
        "Datenordner prüfen (regiobot report als derselbe Benutzer wie der Bot starten), die Adresse der "
        "Datenbank prüfen oder eine beschädigte Datei beiseitelegen."
    )


def open_readonly(config: Config) -> Database | None:
    """A connection for reports; None when nothing was recorded yet. Raises StoreError when unreadable."""
    _flush_live(config)
    try:
        db = _connect_admin(config, readonly=True)
        if db is not None and db.postgres and not db.columns("questions"):
            db.close()
            return None
        return db
    except (OSError, *dbm.ERRORS) as exc:
        raise _unreadable(config, exc) from exc


def stats(config: Config, since: date | None = None) -> Stats:
    db = open_readonly(config)
    if db is None:
        return Stats(since, 0, 0, 0, 0, 0)
    try:
        return _stats(db, since)
    except dbm.ERRORS as exc:
        raise _unreadable(config, exc) from exc
    finally:
        db.close()


def normalise(question: str) -> str:
    """Group spellings of the same question: case, spaces and trailing punctuation."""
    text = " ".join(strip_controls(question).lower().split())
    return re.sub(r"[\s?!.,;:]+$", "", text)


def _de(day: str) -> str:
    return f"{day[8:10]}.{day[5:7]}.{day[0:4]}"


def _short(text: str, limit: int = 100) -> str:
    text = " ".join(BIDI_RE.sub("", strip_controls(text)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_report(config: Config, since: date | None = None, limit: int = 20) -> str:
    """Plain-text German report for staff, grouped by spelling only (no model to load): see bot.report,
    which `regiobot report` uses with grouping by meaning. Raises StoreError when the database cannot be
    read; prints no control characters, whatever people typed."""
    from bot.report import build_report, format_text  # bot.report reads through this module

    return format_text(build_report(config, since, limit, use_model=False))
