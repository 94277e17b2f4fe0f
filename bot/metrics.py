"""Prometheus metrics of a running bot: what operators watch. Nothing personal in any label.

One registry per process (`METRICS`); the Telegram layer counts, `/metrics` (bot/telegram/health.py) serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

OUTCOMES = ("answered", "partial", "declined", "clarified", "smalltalk", "command")


def outcome(intent: str, found: bool) -> str:
    """The outcome label of a reply: a fixed, small set (never the question or the person)."""
    if found:
        return "answered"
    return {"partial": "partial", "clarify": "clarified", "smalltalk": "smalltalk", "command": "command"}.get(
        intent, "declined"
    )


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.questions = Counter(
            "regiobot_questions", "Replies to messages, by outcome.", ["outcome"], registry=r
        )
        self.answer_seconds = Histogram(
            "regiobot_answer_seconds",
            "Time from a message to its reply being queued.",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.api_errors = Counter(
            "regiobot_bot_api_errors", "Failed Bot API calls, by kind.", ["kind"], registry=r
        )
        self.api_retries = Counter("regiobot_bot_api_retries", "Bot API calls retried.", registry=r)
        self.undelivered = Counter("regiobot_undelivered", "Replies given up after all retries.", registry=r)
        self.reloads = Counter("regiobot_reloads", "Knowledge reloads, by result.", ["result"], registry=r)
        self.index_entries = Gauge("regiobot_index_entries", "Entries in the loaded index.", registry=r)
        self.build_seconds = Gauge("regiobot_index_build_seconds", "Duration of the last reload.", registry=r)
        self.notices = Counter(
            "regiobot_notices", "Notices and reminders queued, by kind.", ["kind"], registry=r
        )
        self.outbox = Gauge("regiobot_outbox_waiting", "Reply parts waiting for delivery.", registry=r)
        for name in OUTCOMES:
            self.questions.labels(name)
        for result in ("ok", "failed", "followed"):  # followed: another replica's build taken over
            self.reloads.labels(result)
        for kind in ("notice", "reminder"):
            self.notices.labels(kind)

    def text(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)


METRICS = Metrics()
