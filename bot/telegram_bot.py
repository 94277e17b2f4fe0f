"""Telegram layer of regiobot (python-telegram-bot v22).

Knows only the Engine API (ask, upcoming_events, funding_overview, contacts_for, overview,
example_questions, reload): nothing about indexes or encoders. Handlers stay small; the shared
pieces are the HTML formatting (everything escaped, split at paragraphs below 4,096 characters),
a per-user rate limit, a per-chat ordered update processor (answers in one chat never overtake each
other while other chats run concurrently) and a rate limiter that retries 429s and network errors.
"""

from __future__ import annotations

import asyncio
import copy
import html
import logging
import os
import re
import sys
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from telegram import (
    BotCommand,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.config import Config
from bot.store import Store

if TYPE_CHECKING:
    from bot.answer import Answer, Engine

logger = logging.getLogger("regiobot.telegram")

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
BASE_URL_ENV = "TELEGRAM_API_BASE_URL"
SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
# BotFather tokens: numeric bot id, colon, 35 characters [A-Za-z0-9_-]; accept some slack.
TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,100}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token
MAX_MESSAGE = 4096

# bot_data keys
ENGINE, STORE, CONFIG, LIMITER, RELOAD_LOCK = "engine", "store", "config", "limiter", "reload_lock"

# --------------------------------------------------------------------------- texts (German)

COMMANDS = [
    ("start", "Begrüßung und Überblick"),
    ("hilfe", "Was kann ich fragen?"),
    ("termine", "Anstehende Termine"),
    ("foerderung", "Offene und kommende Förderaufrufe"),
    ("kontakt", "Ansprechpersonen zu einem Thema, z. B. /kontakt Tourismus"),
]
TOO_LONG = (
    "Ihre Nachricht ist mit {n} Zeichen leider zu lang. Bitte stellen Sie Ihre Frage kürzer "
    "(höchstens {max} Zeichen) – am besten eine Frage pro Nachricht."
)
RATE_NOTE = (
    "Sie haben in kurzer Zeit sehr viele Nachrichten geschickt. Bitte warten Sie einen Moment "
    "(etwa {seconds} Sekunden); weitere Nachrichten bis dahin beantworte ich nicht."
)
RATE_NOTE_SHORT = "Bitte warten Sie einen Moment, bevor Sie weitere Anfragen senden."
NOT_TEXT = "Ich kann leider nur Textnachrichten lesen. Bitte schreiben Sie Ihre Frage als Text."
EDITED = (
    "Bearbeitete Nachrichten beantworte ich nicht erneut. Bitte schicken Sie die Frage einfach noch einmal."
)
EMPTY_QUESTION = "Wie kann ich helfen? Schreiben Sie Ihre Frage einfach als Nachricht, z. B. „{example}“."
ASK_TOPIC = "Zu welchem Thema suchen Sie eine Ansprechperson? Antworten Sie mit dem Thema, z. B. „{example}“."
APOLOGY = "Entschuldigung, da ist bei mir etwas schiefgelaufen. Bitte versuchen Sie es gleich noch einmal."
NO_TEXT = "Dazu habe ich leider keine Angaben."
THANKS = "Danke für Ihre Rückmeldung!"
EXPIRED = "Diese Auswahl ist nicht mehr verfügbar. Bitte stellen Sie die Frage erneut."
NO_MORE = "Keine weiteren Treffer."
MORE_BUTTON = "Weitere Treffer"

# --------------------------------------------------------------------------- HTML formatting

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")


def clean(text: str) -> str:
    """Drop characters Telegram rejects or mangles: control characters (but newline, tab) and lone surrogates."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def esc(text: str) -> str:
    return html.escape(clean(text), quote=False)


def attr(text: str) -> str:
    return html.escape(clean(text), quote=True)


def tg_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _wrap(escaped: str, tag: str | None) -> str:
    return f"<{tag}>{escaped}</{tag}>" if tag else escaped


def _split_plain(text: str, limit: int) -> list[str]:
    """Cut plain text into pieces whose *escaped* length fits `limit`: at lines, then words, then characters."""
    if tg_len(esc(text)) <= limit:
        return [text]
    pieces: list[str] = []
    current, size = "", 0
    units = re.findall(r"[^\n]*\n|[^\n]+", text)
    for unit in units:
        unit_len = tg_len(esc(unit))
        # a very long line: words, and characters for monster words
        subunits = re.findall(r"\S+\s*|\s+", unit) if unit_len > limit else [unit]
        for sub in subunits:
            sub_len = tg_len(esc(sub))
            if sub_len > limit:
                for ch in sub:
                    ch_len = tg_len(esc(ch))
                    if size + ch_len > limit:
                        pieces.append(current)
                        current, size = "", 0
                    current += ch
                    size += ch_len
                continue
            if size + sub_len > limit:
                pieces.append(current)
                current, size = "", 0
            current += sub
            size += sub_len
    if current:
        pieces.append(current)
    return [p.strip() for p in pieces if p.strip()]


def html_blocks(plain: str, tag: str | None = None, limit: int = MAX_MESSAGE) -> list[str]:
    """Plain text → escaped HTML paragraphs, each self-contained (balanced tags) and ≤ limit."""
    overhead = len(_wrap("", tag))
    blocks = []
    for para in _PARAGRAPH.split(clean(plain)):
        para = para.strip()
        if para:
            blocks.extend(_wrap(esc(piece), tag) for piece in _split_plain(para, limit - overhead))
    return blocks


def pack(blocks: Sequence[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Join self-contained HTML blocks with blank lines into as few messages ≤ limit as possible."""
    parts: list[str] = []
    current = ""
    for block in blocks:
        if not block:
            continue
        candidate = f"{current}\n\n{block}" if current else block
        if tg_len(candidate) <= limit:
            current = candidate
        else:
            if current:
                parts.append(current)
            current = block
    if current:
        parts.append(current)
    return parts


def source_blocks(answer: Answer) -> list[str]:
    """The source note in italics, then links to the sources that have a URL (best first)."""
    note = answer.source_note or ""
    if not note.strip():
        return []
    blocks = html_blocks(note, tag="i")
    links: list[str] = []
    seen: set[str] = set()
    for i, ref in enumerate(answer.sources or []):
        url = (ref.url or "").strip()
        if not re.fullmatch(r"https?://\S+", url) or url in seen:
            continue
        if i > 0 and ref.document not in note:  # only sources the note names
            continue
        seen.add(url)
        name = clean(ref.document or ref.title or url).strip() or url
        links.append(f'<a href="{attr(url)}">{esc(name[:200])}</a>')
        if len(links) == 3:
            break
    if links:
        blocks.append("🔗 " + " · ".join(links))
    return blocks


def format_answer(answer: Answer) -> list[str]:
    """Engine answer → Telegram HTML messages (usually one)."""
    blocks = html_blocks(answer.text or "") or [esc(NO_TEXT)]
    return pack(blocks + source_blocks(answer))


def format_more(more: Sequence[str]) -> list[str]:
    blocks = [f"<b>{MORE_BUTTON}</b>"]
    for item in more:
        blocks.extend(html_blocks(item))
    return pack(blocks) if len(blocks) > 1 else [esc(NO_MORE)]


def bullet_list(items: Sequence[str], shown: int = 8) -> str:
    items = [clean(i).strip() for i in items if clean(i).strip()]
    text = ", ".join(esc(i) for i in items[:shown])
    if len(items) > shown:
        text += f" und {len(items) - shown} weitere"
    return text


def answer_keyboard(question_id: int, has_more: bool, feedback: bool = True) -> InlineKeyboardMarkup | None:
    rows = []
    if has_more:
        rows.append([InlineKeyboardButton(MORE_BUTTON, callback_data=f"more:{question_id}")])
    if feedback:
        rows.append(
            [
                InlineKeyboardButton("👍", callback_data=f"fb:{question_id}:+"),
                InlineKeyboardButton("👎", callback_data=f"fb:{question_id}:-"),
            ]
        )
    return InlineKeyboardMarkup(rows) if rows else None


MENU = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("📅 Termine", callback_data="menu:termine"),
            InlineKeyboardButton("💶 Förderung", callback_data="menu:foerderung"),
        ],
        [
            InlineKeyboardButton("👥 Kontakte", callback_data="menu:kontakt"),
            InlineKeyboardButton("❓ Hilfe", callback_data="menu:hilfe"),
        ],
    ]
)

# --------------------------------------------------------------------------- secrets never in logs

_SECRETS: set[str] = set()
_factory_installed = False


def redact(text: str) -> str:
    for secret in _SECRETS:
        if secret:
            text = text.replace(secret, "<geheim>")
    return text


def protect_secrets(*secrets: str | None) -> None:
    """Replace the given secrets in every log record created from now on (message and traceback)."""
    global _factory_installed
    _SECRETS.update(s for s in secrets if s)
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if not _SECRETS:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging's own error handling
            return record
        if any(s in message for s in _SECRETS):
            record.msg, record.args = redact(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            if any(s in text for s in _SECRETS):
                record.exc_text = redact(text)
        return record

    logging.setLogRecordFactory(factory)
    # httpx logs every request URL (which contains the token) at INFO
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    _factory_installed = True


# --------------------------------------------------------------------------- robustness helpers


class UserRateLimit:
    """At most `limit` messages per user in `window` seconds; the first rejected one gets a note."""

    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self._hits: dict[int, deque[float]] = {}
        self._noted: set[int] = set()

    def check(self, user_id: int, now: float | None = None) -> str:
        """'ok', 'note' (first message over the limit) or 'drop'."""
        now = time.monotonic() if now is None else now
        if len(self._hits) > 10_000:
            self._prune(now)
        hits = self._hits.setdefault(user_id, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            self._noted.discard(user_id)
            return "ok"
        if user_id in self._noted:
            return "drop"
        self._noted.add(user_id)
        return "note"

    def wait_seconds(self, user_id: int, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        hits = self._hits.get(user_id)
        if not hits:
            return 0
        return max(1, round(hits[0] + self.window - now))

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]
            self._noted.discard(key)


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Updates of different chats run concurrently; updates of one chat strictly one after another."""

    def __init__(self, max_concurrent_updates: int = 512):
        super().__init__(max_concurrent_updates)
        self._tails: dict[int, asyncio.Future[None]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
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
        pass

    async def shutdown(self) -> None:
        pass


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


# --------------------------------------------------------------------------- context helpers


def _engine(context: ContextTypes.DEFAULT_TYPE) -> Engine:
    return context.bot_data[ENGINE]


def _store(context: ContextTypes.DEFAULT_TYPE) -> Store:
    return context.bot_data[STORE]


def _config(context: ContextTypes.DEFAULT_TYPE) -> Config:
    return context.bot_data[CONFIG]


def _private(update: Update) -> bool:
    return bool(update.effective_chat and update.effective_chat.type == ChatType.PRIVATE)


def _command_target(message: Message) -> str | None:
    """'' for a command without @bot, the bot name after @ otherwise; None if not a command."""
    entities = message.entities or ()
    if not message.text or not entities:
        return None
    first = entities[0]
    if first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    command = message.text[: first.length]
    return command.partition("@")[2].lower()


def _mentions_bot(message: Message, username: str, bot_id: int) -> bool:
    for entity, text in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        if entity.type == MessageEntity.MENTION and text.lower() == f"@{username}".lower():
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
    return False


def addressed(message: Message, username: str, bot_id: int) -> bool:
    """Private chats: always. Groups: commands (for us), mentions of the bot, replies to the bot."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    target = _command_target(message)
    if target is not None:
        return target in ("", username.lower())
    reply = message.reply_to_message
    if reply and reply.from_user and reply.from_user.id == bot_id:
        return True
    return _mentions_bot(message, username, bot_id)


def question_text(message: Message, username: str) -> str:
    text = message.text or ""
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


async def reply(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    parts: Sequence[str],
    markup: InlineKeyboardMarkup | ForceReply | None = None,
) -> list[Message]:
    """Send HTML parts as replies; the keyboard goes on the last part."""
    sent = []
    message = update.effective_message
    chat = update.effective_chat
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        kwargs: dict[str, Any] = {
            "parse_mode": ParseMode.HTML,
            "reply_markup": markup if last else None,
            "link_preview_options": LinkPreviewOptions(is_disabled=True),
        }
        if isinstance(message, Message) and update.message is not None:
            sent.append(await message.reply_text(part, **kwargs))
        elif chat is not None:
            sent.append(await context.bot.send_message(chat.id, part, **kwargs))
    return sent


async def _run(func: Callable[..., Any], *args: Any) -> Any:
    """Engine and store work off the event loop: one slow answer never blocks other chats."""
    return await asyncio.to_thread(func, *args)


async def send_answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, answer: Answer, kind: str, question: str
) -> None:
    top = answer.sources[0] if answer.found and answer.sources else None
    user = update.effective_user
    question_id = await _run(
        lambda: _store(context).record_question(
            user_id=user.id if user else None,
            chat_kind=update.effective_chat.type if update.effective_chat else "?",
            kind=kind,
            question=question,
            intent=answer.intent,
            found=answer.found,
            source_id=top.id if top else None,
            source_title=top.title if top else None,
            answer=answer.text if answer.found else "",
            more=list(answer.more or []),
        )
    )
    markup = answer_keyboard(question_id, bool(answer.more), feedback=answer.found)
    await reply(update, context, format_answer(answer), markup)


def _example(context: ContextTypes.DEFAULT_TYPE, fallback: str) -> str:
    try:
        examples = _engine(context).example_questions(1)
    except Exception:
        logger.exception("example_questions fehlgeschlagen")
        examples = []
    return examples[0] if examples else fallback


# --------------------------------------------------------------------------- handlers


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every handler: ignore group chatter not meant for us; per-user rate limit."""
    limiter: UserRateLimit = context.bot_data[LIMITER]
    user = update.effective_user
    if update.callback_query is not None:
        if user and limiter.check(user.id) != "ok":
            await update.callback_query.answer(RATE_NOTE_SHORT)
            raise ApplicationHandlerStop
        return
    message = update.message
    if message is None:
        if update.edited_message is not None and not _private(update):
            raise ApplicationHandlerStop  # edits in groups: ignore silently
        return
    if not addressed(message, context.bot.username, context.bot.id):
        raise ApplicationHandlerStop
    if user is None:
        return
    verdict = limiter.check(user.id)
    if verdict == "ok":
        return
    if verdict == "note":
        await reply(update, context, [esc(RATE_NOTE.format(seconds=limiter.wait_seconds(user.id)))])
    raise ApplicationHandlerStop


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    overview = await _run(_engine(context).overview)
    lines = [
        "<b>Willkommen beim Regiobot!</b>",
        "Ich beantworte Fragen zur regionalen Zusammenarbeit in Mitteldeutschland: Foren, "
        "Arbeitsgruppen, Veranstaltungen wie den Regionaldialog, Förderaufrufe und Ansprechpersonen.",
        "",
        f"Mein Wissen umfasst {overview.entries} Einträge, unter anderem zu:",
    ]
    for label, items in (
        ("Regionen", overview.regions),
        ("Gremien und Netzwerke", overview.bodies),
        ("Themen", overview.topics),
    ):
        if items:
            lines.append(f"• {label}: {bullet_list(items)}")
    example = esc(_example(context, "Wann ist der nächste Regionaldialog?"))
    lines += ["", f"Fragen Sie einfach, z. B. „{example}“ – oder wählen Sie unten:"]
    await reply(update, context, pack(["\n".join(lines)]), MENU)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    examples = await _run(_engine(context).example_questions, 5)
    lines = [
        "<b>So können Sie mich fragen</b>",
        "Schreiben Sie Ihre Frage einfach als Nachricht – auf Deutsch oder Englisch.",
    ]
    if examples:
        lines += ["", "Zum Beispiel:"] + [f"• {esc(q)}" for q in examples]
    lines += [
        "",
        "<b>Befehle</b>",
        *(f"/{name} – {esc(text)}" for name, text in COMMANDS if name != "start"),
        "",
        "In Gruppen antworte ich auf Befehle und auf Nachrichten, die mich erwähnen "
        f"(@{esc(context.bot.username or 'bot')}) oder auf meine Nachrichten antworten.",
        "Unter jeder Antwort können Sie mit 👍 oder 👎 sagen, ob sie geholfen hat – "
        "so erfahren wir, welches Wissen noch fehlt.",
    ]
    await reply(update, context, pack(["\n".join(lines)]))


async def events(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    answer = await _run(_engine(context).upcoming_events)
    await send_answer(update, context, answer, "termine", "/termine")


async def funding(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    answer = await _run(_engine(context).funding_overview)
    await send_answer(update, context, answer, "foerderung", "/foerderung")


async def contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    topic = " ".join(context.args or []).strip()
    if not topic:
        await ask_topic(update, context)
        return
    await answer_contacts(update, context, topic)


async def ask_topic(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.chat_data is not None:
        context.chat_data["awaiting_topic"] = update.effective_user.id if update.effective_user else None
    text = ASK_TOPIC.format(example=_topic_example(context))
    await reply(update, context, [esc(text)], ForceReply(selective=True, input_field_placeholder="Thema"))


def _topic_example(context: ContextTypes.DEFAULT_TYPE) -> str:
    try:
        topics = _engine(context).overview().topics
    except Exception:
        topics = []
    return topics[0] if topics else "Tourismus"


async def answer_contacts(update: Update, context: ContextTypes.DEFAULT_TYPE, topic: str) -> None:
    limit = _config(context).telegram.max_question_chars
    if len(topic) > limit:
        await reply(update, context, [esc(TOO_LONG.format(n=len(topic), max=limit))])
        return
    answer = await _run(_engine(context).contacts_for, topic)
    await send_answer(update, context, answer, "kontakt", f"Kontakt: {topic}")


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is None:
        return
    text = clean(question_text(message, context.bot.username)).strip()
    if not text:
        example = _example(context, "Wann ist der nächste Regionaldialog?")
        await reply(update, context, [esc(EMPTY_QUESTION.format(example=example))])
        return
    user_id = update.effective_user.id if update.effective_user else None
    if context.chat_data is not None and context.chat_data.get("awaiting_topic", "-") == user_id:
        del context.chat_data["awaiting_topic"]
        await answer_contacts(update, context, text)
        return
    limit = _config(context).telegram.max_question_chars
    if len(text) > limit:
        await reply(update, context, [esc(TOO_LONG.format(n=len(text), max=limit))])
        return
    answer = await _run(_engine(context).ask, text)
    await send_answer(update, context, answer, "frage", text)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply(update, context, [esc(NOT_TEXT)])


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if _private(update) and update.edited_message and update.edited_message.text:
        await context.bot.send_message(update.effective_chat.id, esc(EDITED), parse_mode=ParseMode.HTML)


def _is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return bool(user and _private(update) and user.id in _config(context).telegram.admin_ids)


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not _is_admin(update, context):
        await help_command(update, context)
        return
    lock: asyncio.Lock = context.bot_data[RELOAD_LOCK]
    if lock.locked():
        await reply(update, context, [esc("Das Wissen wird gerade schon neu geladen. Bitte kurz warten.")])
        return
    async with lock:
        started = time.monotonic()
        problems = await _run(_engine(context).reload)
        seconds = time.monotonic() - started
    if problems:
        head = (
            f"<b>Neuladen abgebrochen: {len(problems)} Problem(e) im Wissen.</b>\n"
            "Der Bot beantwortet Fragen weiter mit dem bisherigen Stand. Bitte korrigieren und erneut /reload senden."
        )
        await reply(update, context, pack([head, *html_blocks("\n".join(problems))]))
        return
    overview = await _run(_engine(context).overview)
    await reply(
        update,
        context,
        [
            esc(
                f"Wissen neu geladen: {overview.entries} Einträge, in {seconds:.1f} s. Neue Fragen nutzen den neuen Stand."
            )
        ],
    )


def parse_day(text: str) -> date | None:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not _is_admin(update, context):
        await help_command(update, context)
        return
    since = None
    if context.args:
        try:
            since = parse_day(context.args[0])
        except ValueError:
            await reply(
                update,
                context,
                [esc("Datum bitte als JJJJ-MM-TT oder TT.MM.JJJJ angeben, z. B. /stats 2024-01-31.")],
            )
            return
    s = await _run(_store(context).stats, since)
    stale = await _run(_engine(context).stale_reason)
    head = f"seit {since:%d.%m.%Y}" if since else "gesamt"
    lines = [
        f"<b>Statistik ({head})</b>",
        f"Fragen: {s.questions}",
        f"Beantwortet: {s.answered}",
        f"Ohne Antwort: {s.abstentions}",
        f"Rückmeldungen: {s.likes}× 👍, {s.dislikes}× 👎",
        esc(f"Index veraltet ({stale}): mit /reload neu laden.") if stale else "Index: aktuell",
        "",
        "Häufigste offene Fragen: <code>regiobot report"
        + (f" --since {since.isoformat()}" if since else "")
        + "</code>",
    ]
    await reply(update, context, ["\n".join(lines)])


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    kind, _, rest = (query.data or "").partition(":")
    if kind == "menu":
        await query.answer()
        handler = {"termine": events, "foerderung": funding, "kontakt": ask_topic, "hilfe": help_command}.get(
            rest
        )
        if handler:
            await handler(update, context)
        return
    if kind == "fb":
        await feedback(query, context, rest)
        return
    if kind == "more":
        await more(update, context, query, rest)
        return
    await query.answer()


async def feedback(query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, rest: str) -> None:
    qid, _, sign = rest.partition(":")
    if not qid.isdigit() or sign not in ("+", "-"):
        await query.answer()
        return
    known = await _run(
        _store(context).record_feedback, int(qid), query.from_user.id, 1 if sign == "+" else -1
    )
    await query.answer(THANKS if known else EXPIRED)


async def more(update: Update, context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery, rest: str) -> None:
    stored = await _run(_store(context).question, int(rest)) if rest.isdigit() else None
    if stored is None or not stored.more:
        await query.answer(EXPIRED if stored is None else NO_MORE)
        return
    await query.answer()
    chat_id = query.message.chat.id if query.message else query.from_user.id
    for part in format_more(stored.more):
        await context.bot.send_message(
            chat_id,
            part,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
    if isinstance(query.message, Message):  # the button has done its job: keep only 👍/👎
        try:
            await query.edit_message_reply_markup(answer_keyboard(stored.id, False, feedback=stored.found))
        except BadRequest as exc:  # e.g. "message is not modified" after a double tap
            logger.info("Tastatur nicht geändert: %s", exc)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One global error handler: log (secrets redacted by the log record factory), apologise."""
    logger.error("Fehler bei der Verarbeitung eines Updates", exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(APOLOGY)
            return
        message = update.message
        if message is None or not addressed(message, context.bot.username, context.bot.id):
            return
        await context.bot.send_message(message.chat.id, esc(APOLOGY), parse_mode=ParseMode.HTML)
    except Exception as exc:
        logger.warning("Entschuldigung konnte nicht gesendet werden: %s", exc)


# --------------------------------------------------------------------------- application


async def _post_init(app: Application) -> None:
    await app.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])


async def _post_shutdown(app: Application) -> None:
    store = app.bot_data.get(STORE)
    if store is not None:
        store.close()


def build_application(config: Config, engine: Engine, token: str) -> Application:
    """The bot, ready for run_polling/run_webhook (or initialize/start in tests)."""
    protect_secrets(token)
    tg = config.telegram
    base_url = tg.base_url
    file_url = re.sub(r"/bot$", "/file/bot", base_url) if base_url.endswith("/bot") else base_url
    timeout = tg.request_timeout
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(file_url)
        .rate_limiter(
            RetryingRateLimiter(
                max_retries=tg.max_retries,
                overall_max_rate=tg.max_messages_per_second,
            )
        )
        .concurrent_updates(ChatOrderedUpdateProcessor(512))
        .connection_pool_size(8)  # few pooled connections: httpcore checks each one on every request
        .read_timeout(timeout)
        .write_timeout(timeout)
        .connect_timeout(timeout)
        .pool_timeout(timeout)
        .get_updates_request(
            SafeUpdatesRequest(
                connection_pool_size=1,
                read_timeout=timeout,
                write_timeout=timeout,
                connect_timeout=timeout,
                pool_timeout=timeout,
            )
        )
        .defaults(Defaults(allow_sending_without_reply=True))  # question deleted meanwhile: answer anyway
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    app = builder.build()
    app.bot_data.update(
        {
            ENGINE: engine,
            STORE: Store(config),
            CONFIG: config,
            LIMITER: UserRateLimit(tg.rate_limit_messages, tg.rate_limit_seconds),
            RELOAD_LOCK: asyncio.Lock(),
        }
    )
    message = filters.UpdateType.MESSAGE
    app.add_handler(TypeHandler(Update, gate), group=-1)
    app.add_handler(CommandHandler("start", start, filters=message))
    app.add_handler(CommandHandler(["hilfe", "help"], help_command, filters=message))
    app.add_handler(CommandHandler("termine", events, filters=message))
    app.add_handler(CommandHandler(["foerderung", "forderung"], funding, filters=message))
    app.add_handler(CommandHandler(["kontakt", "kontakte"], contact, filters=message))
    app.add_handler(CommandHandler("reload", reload_command, filters=message))
    app.add_handler(CommandHandler("stats", stats_command, filters=message))
    app.add_handler(MessageHandler(message & filters.COMMAND, help_command))  # unknown commands
    app.add_handler(MessageHandler(message & filters.TEXT, question))
    app.add_handler(MessageHandler(message & ~filters.TEXT & ~filters.StatusUpdate.ALL, not_text))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, edited))
    app.add_handler(CallbackQueryHandler(button))
    app.add_error_handler(on_error)
    return app


# --------------------------------------------------------------------------- regiobot run


def _fail(message: str, code: int = 2) -> int:
    print(redact(message), file=sys.stderr)
    return code


def _no_token_tracebacks(record: logging.LogRecord) -> bool:
    """A rejected token is explained in one German line by run(); PTB's traceback would only confuse."""
    if record.exc_info and isinstance(record.exc_info[1], InvalidToken):
        record.exc_info, record.exc_text = None, None
    return True


def check_token(token: str | None) -> str | None:
    """A German problem description, or None when the token looks like a BotFather token."""
    if not token:
        return (
            f"Kein Bot-Token: Bitte die Umgebungsvariable {TOKEN_ENV} setzen "
            "(Token von @BotFather, z. B. export TELEGRAM_BOT_TOKEN=123456789:AA…)."
        )
    if not TOKEN_RE.fullmatch(token):
        return (
            f"Das Bot-Token in {TOKEN_ENV} hat nicht das erwartete Format „Zahl:Zeichenfolge“ "
            "(z. B. 123456789:AAH…, 35 Zeichen nach dem Doppelpunkt). Bitte das Token von @BotFather "
            "vollständig und ohne Leer- oder Anführungszeichen kopieren."
        )
    return None


def run(config: Config) -> int:
    """`regiobot run`: serve Telegram until SIGTERM/SIGINT; 0 after a clean stop, 2 on setup errors."""
    token = (os.environ.get(TOKEN_ENV) or "").strip()
    if problem := check_token(token):
        return _fail(problem)
    protect_secrets(token)
    tg = config.telegram
    base_url = (os.environ.get(BASE_URL_ENV) or tg.base_url).strip()
    if not re.fullmatch(r"https?://\S+", base_url):
        return _fail(
            f"Die Bot-API-Adresse „{base_url}“ ist keine http(s)-Adresse ({BASE_URL_ENV} oder telegram.base_url)."
        )
    secret = None
    if tg.mode == "webhook":
        secret = (os.environ.get(SECRET_ENV) or "").strip()
        if not SECRET_RE.fullmatch(secret):
            return _fail(
                f"Webhook-Modus braucht ein geheimes Token in der Umgebungsvariable {SECRET_ENV} "
                "(1–256 Zeichen: Buchstaben, Ziffern, _ und -), z. B. erzeugt mit: openssl rand -hex 32"
            )
        if not tg.webhook.url or not tg.webhook.url.startswith("https://"):
            return _fail(
                "Webhook-Modus braucht telegram.webhook.url in config.yaml (öffentliche https://-Adresse)."
            )
        protect_secrets(secret)
    config = config.model_copy(update={"telegram": tg.model_copy(update={"base_url": base_url})})

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logger.setLevel(logging.INFO)  # start/stop and retries even when the CLI logs only warnings
    for handler in logging.getLogger().handlers:
        handler.addFilter(_no_token_tracebacks)
    logger.info("Lade Encoder und Index …")
    try:
        from bot.answer import Engine

        engine = Engine.load(config)
    except Exception as exc:
        logger.debug("Engine.load", exc_info=exc)
        problems = "".join(f"\n  {line}" for line in getattr(exc, "problems", None) or [])
        return _fail(f"Die Antwort-Engine konnte nicht geladen werden: {exc}{problems}", 1)

    if stale := engine.stale_reason():
        logger.warning(
            "Index veraltet (%s); es wird der letzte gültige Stand beantwortet. /reload nach Korrektur.",
            stale,
        )
    app = build_application(config, engine, token)
    allowed = ["message", "edited_message", "callback_query"]
    logger.info("regiobot startet (%s, %s)", tg.mode, redact(base_url))
    try:
        if tg.mode == "webhook":
            app.run_webhook(
                listen=tg.webhook.listen,
                port=tg.webhook.port,
                url_path=tg.webhook.path,
                webhook_url=tg.webhook.url,
                secret_token=secret,
                allowed_updates=allowed,
            )
        else:
            app.run_polling(allowed_updates=allowed)
    except InvalidToken:
        return _fail(
            f"Telegram hat das Bot-Token abgelehnt. Bitte {TOKEN_ENV} prüfen (Token von @BotFather)."
        )
    except TelegramError as exc:
        return _fail(f"Keine Verbindung zur Telegram-Bot-API ({redact(base_url)}): {redact(str(exc))}", 1)
    except OSError as exc:  # e.g. webhook port in use
        return _fail(f"Start fehlgeschlagen: {redact(str(exc))}", 1)
    logger.info("regiobot beendet")
    return 0
