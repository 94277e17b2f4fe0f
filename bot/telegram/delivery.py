"""Getting updates in and replies out reliably.

Replies in one chat never overtake each other while other chats run concurrently; 429s, network
errors, 5xx and malformed responses are retried so that no reply is lost; one unparsable update
cannot stall polling for everybody.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from telegram import Bot, ForceReply, InlineKeyboardMarkup, ReplyParameters, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, BaseUpdateProcessor, ContextTypes
from telegram.request import HTTPXRequest

from bot.metrics import METRICS
from bot.telegram.mailbox import Letter, Mailbox

logger = logging.getLogger("regiobot.telegram")
MAILBOX, COURIER = "mailbox", "courier"  # bot_data keys


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Updates of one chat strictly one after another, different chats concurrently – and waiting is free.

    PTB's own semaphore is held for the whole of `do_process_update`, so it is set high and only bounds the
    updates in hand; `workers` bounds how many run at once. A chat's later update waits for the chat's previous
    one *without* a worker, so a busy group occupies at most one worker and never stalls private chats.
    Once the application stops, updates not yet started are skipped: they stay unfinished in the inbox and are
    answered after the restart, so SIGTERM never waits for a backlog; `on_done` marks an update finished once
    its handlers have run.
    """

    def __init__(
        self,
        workers: int = 16,
        on_done: Callable[[object], Any] | None = None,
        in_hand: int = 100_000,
    ):
        super().__init__(in_hand)
        self._workers = asyncio.Semaphore(workers)
        self._tails: dict[int, asyncio.Future[None]] = {}
        self._on_done = on_done
        self.running: Callable[[], bool] = lambda: True
        """Set to the Application's `running`: once it stops, updates not yet started stay in the inbox."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait (without a worker) for the chat's previous update, then run this one with a worker."""
        chat = update.effective_chat if isinstance(update, Update) else None
        key = chat.id if chat is not None else None
        previous = self._tails.get(key) if key is not None else None
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if key is not None:
            self._tails[key] = done
        try:
            if previous is not None:
                await asyncio.shield(previous)
            if not self.running():
                if isinstance(coroutine, Coroutine):
                    coroutine.close()
                return
            async with self._workers:
                await coroutine
            if self._on_done is not None:
                self._on_done(update)
        finally:
            if not done.done():
                done.set_result(None)
            if key is not None and self._tails.get(key) is done:
                del self._tails[key]

    async def initialize(self) -> None:
        """Nothing to set up: the per-chat tails live only while a chat has updates in flight."""

    async def shutdown(self) -> None:
        """Nothing to release (see initialize)."""


def quiet_bad_json(record: logging.LogRecord) -> bool:
    """PTB logs every unreadable Bot API response with its text and a traceback; during an outage that floods
    the log (and the text may echo a request). One short line instead; the retry is logged by the limiter."""
    if record.getMessage().startswith("Can not load invalid JSON data"):
        record.msg, record.args, record.exc_info, record.exc_text = (
            "Bot API: unlesbare Antwort",
            (),
            None,
            None,
        )
        record.levelno, record.levelname = logging.WARNING, "WARNING"
    return True


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
                METRICS.api_retries.inc()
                METRICS.api_errors.labels(type(exc).__name__).inc()
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
    """getUpdates connection that writes each update to the inbox before it is acknowledged.

    Telegram counts an update as delivered once the next getUpdates asks for a higher offset, so what is
    parsed here is stored first (a crash afterwards loses nothing). An update seen before (re-fetched after a
    crash, already in the inbox) and one python-telegram-bot cannot parse are reduced to their update_id: the
    offset moves on, nothing is processed twice, and one malformed update cannot stall polling for everybody.
    """

    def __init__(self, *args: Any, mailbox: Mailbox | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.mailbox = mailbox

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:
        """The response with each unparsable or already received update reduced to its update_id."""
        data = super().parse_json_payload(payload)
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, list):
            updates = [u for u in map(_parsable_update, result) if u is not None]
            if self.mailbox is not None and updates:
                fresh = self.mailbox.receive(updates)  # raises when it cannot store: then nothing is acked
                updates = [
                    u if new else {"update_id": u["update_id"]} for u, new in zip(updates, fresh, strict=True)
                ]
            data["result"] = updates
        return data


def _parsable_update(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
        logger.warning("Update ohne update_id verworfen")
        return None
    try:
        Update.de_json(copy.deepcopy(raw), None)
    except Exception as exc:
        logger.warning("Update %s nicht lesbar und verworfen (%s)", raw["update_id"], type(exc).__name__)
        return {"update_id": raw["update_id"]}
    return raw


def letter(
    text: str,
    markup: InlineKeyboardMarkup | ForceReply | None,
    reply_to: int | None,
    token: str | None = None,
) -> dict[str, Any]:
    """The sendMessage arguments of one reply part, as JSON for the outbox (with the answer's token, so that a
    part given up can be recorded as not delivered)."""
    message: dict[str, Any] = {"text": text}
    if token is not None:
        message["token"] = token
    if markup is not None:
        message["reply_markup"] = markup.to_dict()
    if reply_to is not None:
        message["reply_to"] = reply_to
    return message


def _markup(data: dict[str, Any] | None) -> InlineKeyboardMarkup | ForceReply | None:
    if not data:
        return None
    return (
        ForceReply.de_json(data, None)
        if data.get("force_reply")
        else InlineKeyboardMarkup.de_json(data, None)
    )


class Courier:
    """Delivers the outbox: each chat's parts strictly in order; what fails is retried with growing pauses
    (1 s … 1 min) for `patience` seconds, also after a restart, then given up with a log line.

    Telegram's refusals that no retry can change (the person blocked the bot, the chat is gone, the message is
    invalid) give up at once. A timeout leaves Telegram's answer unknown: the part is sent again, the one case
    where a duplicate is accepted (sends wait `send_timeout` seconds for an answer, so this stays rare).
    """

    def __init__(
        self,
        mailbox: Mailbox,
        bot: Bot,
        patience: float,
        clock=time.time,
        on_give_up: Callable[[str], Any] | None = None,
        on_blocked: Callable[[int], Any] | None = None,
    ):
        self.mailbox, self.bot, self.patience, self.clock = mailbox, bot, patience, clock
        self.on_give_up = on_give_up
        self.on_blocked = on_blocked
        """Called with the chat id when Telegram says the person blocked the bot (403): end their subscriptions."""
        """Called with the answer's token when a part is given up (the store records it as not delivered)."""
        self._locks: dict[int, asyncio.Lock] = {}
        self._loop = Repeating(self._deliver_due, 1.0, "Zustellung aus dem Postausgang")

    async def deliver(self, chat_id: int) -> bool:
        """Send the chat's due parts in order; True when nothing of the chat is left waiting."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            for item in self.mailbox.waiting(chat_id):
                if item.next_at > self.clock():
                    return False  # backing off: a later part must not overtake it
                if not await self._send(item):
                    return False
        if not lock.locked():
            self._locks.pop(chat_id, None)
        return True

    async def _send(self, item: Letter) -> bool:
        message = item.message
        kwargs: dict[str, Any] = {"reply_markup": _markup(message.get("reply_markup"))}
        if message.get("reply_to"):
            kwargs["reply_parameters"] = ReplyParameters(
                message["reply_to"], allow_sending_without_reply=True
            )
        try:
            await self.bot.send_message(item.chat_id, message["text"], **kwargs)
        except (Forbidden, BadRequest) as exc:
            logger.warning("Antwort an einen Chat verworfen: Telegram lehnt sie ab (%s)", type(exc).__name__)
            self._give_up(item)
            if isinstance(exc, Forbidden) and self.on_blocked is not None:
                self.on_blocked(item.chat_id)
            return True
        except TelegramError as exc:
            if self.clock() - item.created > self.patience:
                logger.error(
                    "Antwort nach %.0f min nicht zustellbar, aufgegeben (%s)",
                    self.patience / 60,
                    type(exc).__name__,
                )
                self._give_up(item)
                return True
            delay = min(60.0, 2.0**item.attempts)
            logger.warning(
                "Antwort nicht zugestellt (%s); neuer Versuch in %.0f s", type(exc).__name__, delay
            )
            self.mailbox.retry_later(item.id, delay)
            return False
        self.mailbox.delivered(item.id)
        return True

    def _give_up(self, item: Letter) -> None:
        self.mailbox.give_up(item.id)
        METRICS.undelivered.inc()
        if self.on_give_up is not None and (token := item.message.get("token")):
            self.on_give_up(token)

    def start(self) -> None:
        """Retry what is due once a second (and what a previous run left) until `stop`."""
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _deliver_due(self) -> None:
        for chat_id in self.mailbox.due_chats():
            await self.deliver(chat_id)


class Repeating:
    """A background task that runs `step` again and again, `pause` seconds apart (sooner when poked), until
    stopped; a failing step is logged and tried again, it never ends the loop."""

    def __init__(self, step: Callable[[], Awaitable[Any]], pause: float, what: str):
        self.step, self.pause, self.what = step, pause, what
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def poke(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("%s fehlgeschlagen", self.what)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.pause)


async def reply(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    parts: Sequence[str],
    markup: InlineKeyboardMarkup | ForceReply | None = None,
) -> None:
    """HTML parts as one reply (the keyboard on the last part)."""
    await post(
        update,
        context,
        [(part, markup if i == len(parts) - 1 else None, None) for i, part in enumerate(parts)],
    )


Part = tuple[str, InlineKeyboardMarkup | ForceReply | None, str | None]
"""HTML text, keyboard, the answer's token (or None)."""


async def post(update: Update, context: ContextTypes.DEFAULT_TYPE, parts: Sequence[Part]) -> None:
    """Queue reply parts in the outbox, finishing the update they answer in the same transaction, and deliver
    them now if Telegram is reachable; otherwise the courier keeps trying."""
    chat = update.effective_chat
    if chat is None or not parts:
        return
    message = update.message
    reply_to = message.message_id if message is not None and chat.type != "private" else None
    mailbox: Mailbox = context.bot_data[MAILBOX]
    letters = [letter(text, markup, reply_to, token) for text, markup, token in parts]
    mailbox.post(chat.id, letters, update.update_id)
    await context.bot_data[COURIER].deliver(chat.id)
