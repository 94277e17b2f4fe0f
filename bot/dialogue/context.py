"""What a chat's last answer was about, so that "und wo?" or "bis wann?" can be resolved.

Kept in memory per chat for a configurable time (a conversation, not a profile): the entry ids shown, the
language, a question waiting for a "Meinten Sie …?" choice, and whether /kontakt waits for a topic.
Bounded in size; the least recently used chats are forgotten first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from bot.answer import SourceRef

MAX_CHATS = 20_000


@dataclass(frozen=True)
class ChatContext:
    focus: str | None = None
    """Id of the entry the last answer was about."""
    shown: tuple[SourceRef, ...] = ()
    """What the last answer showed, best first."""
    listed: bool = False
    """The last answer was a list: a follow-up must first say which of its entries it means."""
    text: str = ""
    """The last answer's text: "mehr dazu" shows the whole entry only when this was not already all of it."""
    token: str | None = None
    """The button token of the last answer (its stored "Weitere Treffer")."""
    language: str = "de"
    pending: str | None = None
    """A question waiting for the person's choice among "Meinten Sie …?" candidates."""
    options: tuple[str, ...] = ()
    awaiting_topic: bool = False
    at: float = field(default=0.0, compare=False)


class Contexts:
    """Chat contexts that expire `ttl` seconds after the last answer; thread-safe (the engine runs in threads)."""

    def __init__(self, ttl: float, clock=time.monotonic, limit: int = MAX_CHATS):
        self.ttl, self.clock, self.limit = ttl, clock, limit
        self._items: OrderedDict[str, ChatContext] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, chat: str) -> ChatContext:
        """The chat's context, or an empty one when there is none or it expired."""
        with self._lock:
            ctx = self._items.get(chat)
            if ctx is None:
                return ChatContext()
            if self.clock() - ctx.at > self.ttl:
                del self._items[chat]
                return ChatContext()
            return ctx

    def put(self, chat: str, ctx: ChatContext) -> None:
        with self._lock:
            self._items[chat] = replace(ctx, at=self.clock())
            self._items.move_to_end(chat)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def forget(self, chat: str) -> None:
        with self._lock:
            self._items.pop(chat, None)

    def __len__(self) -> int:
        return len(self._items)
