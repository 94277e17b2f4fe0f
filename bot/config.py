"""Settings from config.yaml. Secrets (the Telegram token) never live here: environment only."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

CONFIG_ENV = "REGIOBOT_CONFIG"
DEFAULT_CONFIG = Path("config.yaml")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckSettings(Section):
    max_age_days: int = Field(730, ge=1, description="Warn when an entry's `updated` is older than this.")


class EmbeddingSettings(Section):
    backend: Literal["use-multilingual", "sentence-transformers"] = "use-multilingual"
    model: str | None = Field(
        None, description="sentence-transformers model name or local path; None = bundled all-MiniLM-L6-v2"
    )
    batch_size: int = Field(32, ge=1)
    threads: int = Field(1, ge=1)


class IndexSettings(Section):
    kind: Literal["flat", "hnsw"] = "flat"
    hnsw_m: int = Field(32, ge=4)
    hnsw_ef_construction: int = Field(80, ge=8)
    hnsw_ef_search: int = Field(64, ge=8)


class SearchSettings(Section):
    fusion: Literal["weighted", "rrf"] = Field(
        "weighted", description="weighted: dense cosine + max-normalised BM25; rrf: reciprocal rank fusion."
    )
    rrf_k: int = Field(60, ge=1)
    dense_weight: float = Field(0.7, ge=0, le=1)
    bm25_weight: float = Field(0.3, ge=0, le=1)
    candidates: int = Field(30, ge=1)
    pool: int = Field(
        100,
        ge=1,
        description="Entries each retriever contributes where not every entry is scored: with HNSW, BM25's "
        "best always join the approximate dense neighbours; with RRF, the ranks that count.",
    )
    overlap_rank_weight: float = Field(
        0.0, ge=0, description="Re-rank bonus for query terms in the shown text."
    )
    rerank_depth: int = Field(10, ge=1)
    min_confidence: float = Field(0.5, description="Abstain below this calibrated confidence.")
    min_confidence_en: float | None = Field(
        None,
        description="Threshold for English questions (their words are rarer in German knowledge); None = same.",
    )
    coverage_weight: float = Field(
        0.0, description="Confidence bonus per share of query terms the knowledge knows."
    )
    overlap_weight: float = Field(
        0.0, description="Confidence bonus per share of query terms in the best entry."
    )
    margin: float = Field(0.0, ge=0, description="Ambiguity margin between the two best different answers.")
    place_only_min_dense: float = Field(
        0.6,
        description="A question that shares nothing but a place name with its answer needs this cosine.",
    )


class AnswerSettings(Section):
    max_chars: int = Field(
        320, ge=80, description="Longer passages show only the whole sentences the question asks about."
    )
    max_list: int = Field(3, ge=1)
    more_min_similarity: float = Field(
        0.45, description="Further results and contact lists show hits from this cosine similarity on."
    )
    preference_weight: float = Field(
        0.08,
        ge=0,
        description="Re-rank bonus for entries of the kind the question asks for (a preference, not a route).",
    )
    sibling_gap: float = Field(
        0.06, ge=0, description="Siblings from one source closer than this in score are shown together."
    )
    clarify_overlap: float = Field(
        0.75,
        ge=0,
        le=1,
        description='Share of the question\'s weighted terms each "Meinten Sie …?" candidate must hold.',
    )
    clarify_gap: float = Field(
        0.03, ge=0, description="Candidates this close in score to the best one are offered."
    )
    sentence_lexical_weight: float = Field(
        0.5, ge=0, description="Weight of the question's terms against the cosine when choosing sentences."
    )


class NoticeSettings(Section):
    """Subscriptions: when reminders go out and how often the bot looks for news and due reminders."""

    send_at: str = Field(
        "09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local time (Europe/Berlin)."
    )
    timezone: str = Field("Europe/Berlin")
    check_minutes: float = Field(10, gt=0, description="How often the periodic round runs.")
    call_days: list[int] = Field([7, 1], description="Reminders this many days before a funding call closes.")
    event_days: list[int] = Field([1], description="Reminders this many days before an event.")


class ServiceSettings(Section):
    """Operators' endpoints (/healthz, /metrics) and the log format."""

    listen: str = "127.0.0.1"
    port: int = Field(9090, ge=0, le=65535, description="0 = any free port (tests).")
    log_format: Literal["text", "json"] = Field(
        "text", description="json: one JSON object per line, for log collectors."
    )


class DialogueSettings(Section):
    context_minutes: float = Field(
        15, gt=0, description='How long a chat\'s last answer is remembered for follow-ups ("und wo?").'
    )


class WebhookSettings(Section):
    listen: str = "127.0.0.1"
    port: int = 8443
    url: str | None = Field(None, description="Public HTTPS URL Telegram posts updates to.")
    path: str = "telegram"
    max_connections: int = Field(
        40,
        ge=1,
        le=100,
        description="Simultaneous connections Telegram may open to the webhook (setWebhook).",
    )


class TelegramSettings(Section):
    base_url: str = "https://api.telegram.org/bot"
    mode: Literal["polling", "webhook"] = "polling"
    webhook: WebhookSettings = WebhookSettings()
    admin_ids: list[int] = []
    max_question_chars: int = Field(500, ge=10)
    rate_limit_messages: int = Field(
        30, ge=1, description="Free-text questions per user per window; commands and buttons do not count."
    )
    rate_limit_seconds: float = Field(60.0, gt=0, description="Sliding window of the flood limit.")
    max_retries: int = Field(5, ge=0)
    request_timeout: float = Field(
        10.0, gt=0, description="Seconds to wait for a Bot API response before retrying."
    )
    send_timeout: float = Field(
        30.0, gt=0, description="Seconds to wait for Telegram's answer to a send before it counts as unknown."
    )
    delivery_minutes: float = Field(
        10.0,
        gt=0,
        description="How long an undelivered reply is retried (also across restarts) before giving up.",
    )
    workers: int = Field(
        16, ge=1, description="Updates processed at once (different chats; one chat in order)."
    )
    max_messages_per_second: float = Field(
        30.0, ge=0, description="Proactive send throttle (Telegram allows about 30/s per bot); 0 = off."
    )


class LimitSettings(Section):
    """Bounds on what the knowledge loader accepts, so one bad or hostile file cannot exhaust the bot."""

    max_file_mb: float = Field(
        2.0, gt=0, description="Largest knowledge file in MB; larger files are refused before they are read."
    )
    max_entries: int = Field(
        100_000,
        ge=1,
        description="Most entries in all knowledge files together (100,000 is the size the benchmarks measure).",
    )
    max_value_chars: int = Field(20_000, ge=1, description="Longest text of any single field value.")


class StoreSettings(Section):
    url: str | None = Field(
        None,
        description="PostgreSQL address (postgresql://user@host:5432/db) for several replicas; empty: SQLite in "
        "data_dir. REGIOBOT_STORE_URL overrides it (put a password there, not here).",
    )
    replica_seconds: int = Field(
        20,
        ge=3,
        le=600,
        description="With PostgreSQL: a replica silent this long counts as gone; another one takes over its "
        "unanswered messages and undelivered replies.",
    )
    retention_days: int = Field(
        180,
        ge=1,
        description="Questions and their feedback older than this are deleted (daily, and by `regiobot purge`).",
    )
    queue_size: int = Field(
        10_000,
        ge=10,
        description="Entries waiting for the database writer; when it stalls, further ones are dropped and "
        "counted (answers never wait for statistics).",
    )


class Config(Section):
    knowledge_dir: Path = Path("knowledge")
    index_dir: Path = Path("index")
    data_dir: Path = Path("data")
    today: date | None = Field(None, description="Fixed 'today' for tests and demos.")
    check: CheckSettings = CheckSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    index: IndexSettings = IndexSettings()
    search: SearchSettings = SearchSettings()
    answer: AnswerSettings = AnswerSettings()
    dialogue: DialogueSettings = DialogueSettings()
    notices: NoticeSettings = NoticeSettings()
    service: ServiceSettings = ServiceSettings()
    telegram: TelegramSettings = TelegramSettings()
    store: StoreSettings = StoreSettings()
    limits: LimitSettings = LimitSettings()

    def today_or_now(self) -> date:
        return self.today or date.today()


class ConfigError(Exception):
    """Config file missing or invalid; the message says what to fix."""


def load_config(path: Path | str | None = None) -> Config:
    """Load `path`, else $REGIOBOT_CONFIG, else ./config.yaml; relative paths resolve against the file."""
    chosen = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
    if not chosen.exists():
        if path or os.environ.get(CONFIG_ENV):
            raise ConfigError(f"Konfigurationsdatei {chosen} nicht gefunden.")
        return Config()
    try:
        raw = yaml.safe_load(chosen.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{chosen}: keine gültige YAML-Datei: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{chosen}: erwartet wird eine Zuordnung (Schlüssel: Wert).")
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{chosen}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("\n".join(lines)) from exc
    base = chosen.resolve().parent
    return config.model_copy(
        update={
            name: (base / getattr(config, name)).resolve()
            for name in ("knowledge_dir", "index_dir", "data_dir")
            if not getattr(config, name).is_absolute()
        }
    )
