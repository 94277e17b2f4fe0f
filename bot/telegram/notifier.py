"""The periodic round that tells subscribers what matters: news about calls and events, reminders before dates.

One job instead of one per reminder: every `notices.check_minutes` (and right after a /reload or a rebuild)
it compares the loaded knowledge with the fingerprints of the last round (new or changed calls and events →
notices) and, from `notices.send_at` local time on, works out today's reminders. Each notice and reminder is
queued in the outbox in the same transaction that records it as sent, so a crash in the middle of a round
neither repeats nor loses one; the courier delivers them through the rate limiter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot import notices
from bot.answer import Engine
from bot.config import NoticeSettings
from bot.metrics import METRICS
from bot.telegram.delivery import Repeating, letter
from bot.telegram.format import html_blocks, pack
from bot.telegram.mailbox import Mailbox

logger = logging.getLogger("regiobot.telegram")


def _letters(text: str) -> list[dict]:
    return [letter(part, None, None) for part in pack(html_blocks(text))]


class Notifier:
    def __init__(
        self,
        mailbox: Mailbox,
        engine: Engine,
        settings: NoticeSettings,
        today: Callable[[], date],
        now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
    ):
        self.mailbox, self.engine, self.settings = mailbox, engine, settings
        self.today, self.now = today, now
        self._loop = Repeating(self._round, settings.check_minutes * 60, "Runde für Abos")

    def round(self) -> int:
        """One round; returns how many notices and reminders were queued. With several replicas only the one
        holding the round lock works (the others return 0 at once); each notice is recorded as sent together
        with its letter, so a replica dying mid-round leaves nothing for the next one to repeat."""
        with self.mailbox.round_lock() as mine:
            return self._round_here() if mine else 0

    def _round_here(self) -> int:
        # drafts an import marked `review: offen` are not announced until staff checked them
        entries = [e for e in self.engine.entries() if getattr(e, "review", None) != "offen"]
        today = self.today()
        by_chat: dict[int, list[notices.Topic]] = {}
        for chat_id, key, label in self.mailbox.subscriptions():
            try:
                by_chat.setdefault(chat_id, []).append(notices.topic_from_key(key, label))
            except ValueError:
                logger.warning("Abo mit unlesbarem Thema übersprungen")
        queued = self._news(entries, by_chat, today)
        send_at = time.fromisoformat(self.settings.send_at)
        if self.now().astimezone(ZoneInfo(self.settings.timezone)).time() >= send_at:
            for reminder in notices.reminders(
                entries,
                by_chat,
                today,
                call_days=tuple(self.settings.call_days),
                event_days=tuple(self.settings.event_days),
            ):
                text = notices.reminder_text(reminder, today)
                if self.mailbox.post_once(reminder.chat_id, f"r:{reminder.key}", _letters(text)):
                    queued += 1
                    METRICS.notices.labels("reminder").inc()
        return queued

    def _news(self, entries: list, by_chat: dict[int, list[notices.Topic]], today: date) -> int:
        """Notices for calls and events that are new or changed since the last round. The very first round only
        learns what exists: nobody is told about everything at once."""
        current = {c.entry.id: c for c in notices.changes([], entries, today=today)}  # past items are no news
        seen = self.mailbox.seen()
        queued = 0
        if seen:
            for entry_id, change in current.items():
                if seen.get(entry_id) == change.fingerprint:
                    continue
                change = replace(change, kind="geändert" if entry_id in seen else "neu")
                text = notices.notice_text(change, today)
                key = f"n:{entry_id}:{change.fingerprint}"
                for chat_id, topics in by_chat.items():
                    wanted = any(notices.matches(t, change.entry) for t in topics)
                    if wanted and self.mailbox.post_once(chat_id, key, _letters(text)):
                        queued += 1
                        METRICS.notices.labels("notice").inc()
        self.mailbox.remember({entry_id: c.fingerprint for entry_id, c in current.items()})
        return queued

    def poke(self) -> None:
        """Run a round soon (after a /reload or a rebuild picked up)."""
        self._loop.poke()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _round(self) -> None:
        if queued := await asyncio.to_thread(self.round):
            logger.info("%d Hinweise und Erinnerungen in den Postausgang gelegt", queued)
