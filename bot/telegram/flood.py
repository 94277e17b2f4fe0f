"""Per-user flood limit: stops scripts, not people.

Only free-text questions count (each costs an engine search); commands and button presses never do,
so someone clicking through the menu is never told to wait. With the default 30 questions per 60
seconds a person asking a burst of 20 questions passes, a script sending one question per second
is stopped. The first question over the limit gets one note; the rest of the window stays silent.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

Verdict = Literal["ok", "note", "drop"]

FLOOD_NOTE = (
    "Sie haben in kurzer Zeit sehr viele Fragen geschickt. In {wait} können Sie weiterfragen; "
    "bis dahin beantworte ich keine weiteren Fragen. Befehle wie /hilfe funktionieren weiterhin."
)


def flood_note(seconds: int) -> str:
    """The one note a person gets when the limit trips, with the wait in whole seconds."""
    return FLOOD_NOTE.format(wait="1 Sekunde" if seconds == 1 else f"{seconds} Sekunden")


class FloodLimit:
    """At most `limit` questions per user in any `window` seconds (sliding window)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[int, deque[float]] = {}
        self._noted: set[int] = set()
        self._next_prune = clock() + window

    def __len__(self) -> int:
        """Users currently tracked (bounded by pruning: only those active in the last two windows)."""
        return len(self._hits)

    def check(self, user_id: int) -> Verdict:
        """'ok' (counted), 'note' (first question over the limit: tell the person) or 'drop' (silently)."""
        now = self.clock()
        if now >= self._next_prune:
            self._prune(now)
        hits = self._recent(user_id, now)
        if len(hits) < self.limit:
            hits.append(now)
            self._noted.discard(user_id)
            return "ok"
        if user_id in self._noted:
            return "drop"
        self._noted.add(user_id)
        return "note"

    def wait_seconds(self, user_id: int) -> int:
        """Whole seconds until `user_id` may ask again (0 when they may ask now)."""
        if user_id not in self._hits:
            return 0
        now = self.clock()
        hits = self._recent(user_id, now)
        if len(hits) < self.limit:
            return 0
        return max(1, math.ceil(hits[0] + self.window - now))

    def _recent(self, user_id: int, now: float) -> deque[float]:
        hits = self._hits.setdefault(user_id, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def _prune(self, now: float) -> None:
        """Forget users without a question in the last window (runs at most once per window)."""
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]
            self._noted.discard(key)
        self._next_prune = now + self.window
