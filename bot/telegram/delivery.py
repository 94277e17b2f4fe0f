"""Getting updates in and replies out reliably.

Replies in one chat never overtake each other while other chats run concurrently; 429s, network
errors, 5xx and malformed responses are retried so that no reply is lost; one unparsable update
cannot stall polling for everybody.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from telegram import ForceReply, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, BaseUpdateProcessor, ContextTypes
from telegram.request import HTTPXRequest

logger = logging.getLogger("regiobot.telegram")


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Updates of different chats run concurrently; updates of one chat strictly one after another."""

    def __init__(self, max_concurrent_updates: int = 512):
        super().__init__(max_concurrent_updates)
        self._tails: dict[int, asyncio.Future[None]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's previous update, then run this one."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        previous = self._tails.get(chat.id)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[chat.id] = done
        try:
            if previous is not None:
                await asyncio.shield(previous)
            await coroutine
        finally:
            if not done.done():
                done.set_result(None)
            if self._tails.get(chat.id) is done:
                del self._tails[chat.id]

    async def initialize(self) -> None:
        """Nothing to set up: the per-chat queues live only while a chat has updates in flight."""

    async def shutdown(self) -> None:
        """Nothing to release (see initialize)."""


def _retryable(exc: TelegramError) -> bool:
    if isinstance(exc, BadRequest | RetryAfter):
        return False
    if isinstance(exc, NetworkError):  # includes TimedOut, 5xx, connection resets
        return True
    return str(exc).startswith("Invalid server response")  # malformed JSON from a proxy or the API


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter (throttling + 429/RetryAfter retries) plus retries with exponential back-off
    for network errors, timeouts, 5xx and malformed responses, so that no reply is lost."""

    def __init__(self, max_retries: int = 5, backoff: float = 0.5, max_backoff: float = 30.0, **kwargs: Any):
        super().__init__(max_retries=max_retries, **kwargs)
        self.network_retries = max_retries
        self.backoff, self.max_backoff = backoff, max_backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """One Bot API call, retried on transient failures with doubling delays."""
        delay = self.backoff
        attempt = 0
        while True:
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except TelegramError as exc:
                if not _retryable(exc) or attempt >= self.network_retries:
                    raise
                attempt += 1
                logger.warning(
                    "Bot API %s fehlgeschlagen (%s: %s); Versuch %d von %d in %.1f s",
                    endpoint,
                    type(exc).__name__,
                    exc,
                    attempt,
                    self.network_retries,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)


class SafeUpdatesRequest(HTTPXRequest):
    """getUpdates connection that drops single updates python-telegram-bot cannot parse.

    Without it one malformed update makes PTB reject (and re-fetch) the whole batch forever, so the
    bot would stop answering everybody. A dropped update keeps its update_id: the offset moves on.
    """

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:
        """The response with each unparsable update reduced to its update_id."""
        data = super().parse_json_payload(payload)
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, list):
            data["result"] = [u for u in map(_parsable_update, result) if u is not None]
        return data


def _parsable_update(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
        logger.warning("Update ohne update_id verworfen")
        return None
    try:
        Update.de_json(copy.deepcopy(raw), None)
    except Exception as exc:
        logger.warning(
            "Update %s nicht lesbar und verworfen: %s: %s", raw["update_id"], type(exc).__name__, exc
        )
        return {"update_id": raw["update_id"]}
    return raw


async def reply(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    parts: Sequence[str],
    markup: InlineKeyboardMarkup | ForceReply | None = None,
) -> list[Message]:
    """Send HTML parts as replies (parse mode and link previews come from the Defaults); the keyboard
    goes on the last part."""
    sent = []
    message = update.effective_message
    chat = update.effective_chat
    for i, part in enumerate(parts):
        keyboard = markup if i == len(parts) - 1 else None
        if isinstance(message, Message) and update.message is not None:
            sent.append(await message.reply_text(part, reply_markup=keyboard))
        elif chat is not None:
            sent.append(await context.bot.send_message(chat.id, part, reply_markup=keyboard))
    return sent
