"""The handlers: small functions between Telegram updates and the dialogue layer.

Questions, commands and buttons go to `bot.dialogue` (the same layer `regiobot chat` uses); what stays here
is Telegram's own: who is addressed in groups, the flood limit, edits and non-text messages, the admin
commands /reload and /stats. Dialogue, engine and store calls run in threads, so one slow answer never
blocks other chats; formatting and sending live in format and delivery.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup, InputFile, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.config import Config
from bot.dialogue import Chat, Dialogue, Reply
from bot.knowledge import summarise
from bot.metrics import METRICS, outcome
from bot.store import Store, StoreError
from bot.telegram.delivery import Part, post, reply
from bot.telegram.flood import FloodLimit, flood_note
from bot.telegram.format import clean, esc, format_reply, html_blocks, keyboard, pack

if TYPE_CHECKING:
    from bot.answer import Engine

logger = logging.getLogger("regiobot.telegram")

# bot_data keys
ENGINE, STORE, CONFIG, LIMITER, RELOAD_LOCK, DIALOGUE, STOP_BUILDING = (
    "engine", "store", "config", "limiter", "reload_lock", "dialogue", "stop_building"
)  # fmt: skip

NOT_TEXT = "Ich kann leider nur Textnachrichten lesen. Bitte schreiben Sie Ihre Frage als Text."
EDITED = (
    "Bearbeitete Nachrichten beantworte ich nicht erneut. Bitte schicken Sie die Frage einfach noch einmal."
)
APOLOGY = "Entschuldigung, da ist bei mir etwas schiefgelaufen. Bitte versuchen Sie es gleich noch einmal."
EXPIRED = "Diese Schaltfläche ist abgelaufen. Bitte stellen Sie die Frage erneut."

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
    reply_to = message.reply_to_message
    if reply_to and reply_to.from_user and reply_to.from_user.id == bot_id:
        return True
    return _mentions_bot(message, username, bot_id)


def question_text(message: Message, username: str) -> str:
    """The message text without mentions of the bot (groups address it with @name)."""
    text = message.text or ""
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


async def _run(func: Callable[..., Any], *args: Any) -> Any:
    """Engine and store work off the event loop: one slow answer never blocks other chats."""
    return await asyncio.to_thread(func, *args)


def _dialogue(context: ContextTypes.DEFAULT_TYPE) -> Dialogue:
    return context.bot_data[DIALOGUE]


def _chat(update: Update) -> Chat:
    """The dialogue's chat: in groups one per person, so one member's "und wo?" never follows another's question."""
    chat, user = update.effective_chat, update.effective_user
    key = f"tg:{chat.id if chat else '-'}"
    if chat is not None and chat.type != ChatType.PRIVATE and user is not None:
        key += f":{user.id}"
    return Chat(key, user.id if user else None, chat.type if chat else "?")


async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, replies: list[Reply]) -> None:
    """Each reply as HTML parts with its keyboard (or a reply field when it asks for text) and its token."""
    parts: list[Part] = []
    for item in replies:
        texts = format_reply(item)
        parts += [
            (text, keyboard(item) if i == len(texts) - 1 else None, item.token)
            for i, text in enumerate(texts)
        ]
    await post(update, context, parts)
    for item in replies:
        if item.document is not None and update.effective_chat is not None:
            name, data = item.document
            try:  # a file on request: sent directly (a failure is logged; pressing again sends it again)
                await context.bot.send_document(update.effective_chat.id, InputFile(data, filename=name))
            except TelegramError as exc:
                logger.warning("Datei %s nicht gesendet (%s)", name, type(exc).__name__)


# --------------------------------------------------------------------------- handlers


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every handler: ignore group chatter not meant for us; flood limit on everything a person
    sends that gets a reply – questions, stickers, edits – but never on commands and buttons."""
    if update.callback_query is not None:
        return
    message = update.message
    if message is None:
        if update.edited_message is None:
            return
        if not _private(update):
            raise ApplicationHandlerStop  # edits in groups: ignore silently
    elif not addressed(message, context.bot.username, context.bot.id):
        raise ApplicationHandlerStop
    elif _command_target(message) is not None:
        return
    user = update.effective_user
    if user is None:
        return
    limiter: FloodLimit = context.bot_data[LIMITER]
    verdict = limiter.check(user.id)
    if verdict == "ok":
        return
    if verdict == "note":
        await reply(update, context, [esc(flood_note(limiter.wait_seconds(user.id)))])
    raise ApplicationHandlerStop


async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, /hilfe, /termine, /foerderung, /kontakt [Thema] and unknown commands (help)."""
    message = update.message
    if message is None or not message.text:
        return
    head, _, args = message.text.partition(" ")
    name = head[1:].split("@")[0]
    await send(update, context, await _run(_dialogue(context).command, _chat(update), name, args))


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text: a question, a follow-up, small talk or the topic /kontakt asked for."""
    message = update.message
    if message is None:
        return
    text = clean(question_text(message, context.bot.username))
    started = time.monotonic()
    replies = await _run(_dialogue(context).message, _chat(update), text)
    await send(update, context, replies)
    METRICS.answer_seconds.observe(time.monotonic() - started)
    for item in replies:
        METRICS.questions.labels(outcome(item.intent, item.found)).inc()


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice: say that only text is read."""
    await reply(update, context, [esc(NOT_TEXT)])


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edited questions in private chats: ask to send them again."""
    if _private(update) and update.edited_message and update.edited_message.text:
        await reply(update, context, [esc(EDITED)])


def _is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return bool(user and _private(update) and user.id in _config(context).telegram.admin_ids)


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload (admins, private chat): reload the knowledge; others get the help."""
    if not _is_admin(update, context):
        await send(update, context, await _run(_dialogue(context).command, _chat(update), "hilfe", ""))
        return
    lock: asyncio.Lock = context.bot_data[RELOAD_LOCK]
    if lock.locked():
        await reply(update, context, [esc("Das Wissen wird gerade schon neu geladen. Bitte kurz warten.")])
        return
    async with lock:
        started = time.monotonic()
        problems = await _run(_engine(context).reload, context.bot_data[STOP_BUILDING])
        seconds = time.monotonic() - started
    METRICS.reloads.labels("failed" if problems else "ok").inc()
    METRICS.build_seconds.set(seconds)
    if problems:
        head = (
            f"<b>Neuladen abgebrochen: {len(problems)} Problem(e) im Wissen.</b>\n"
            "Der Bot beantwortet Fragen weiter mit dem bisherigen Stand. Bitte korrigieren und erneut /reload senden."
        )
        await reply(update, context, pack([head, *html_blocks("\n".join(summarise(problems)))]))
        return
    context.bot_data["notifier"].poke()  # news for subscribers
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
    """JJJJ-MM-TT or TT.MM.JJJJ; ValueError otherwise."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats [Datum] (admins, private chat): question and feedback counts; others get the help."""
    if not _is_admin(update, context):
        await send(update, context, await _run(_dialogue(context).command, _chat(update), "hilfe", ""))
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
    try:
        s = await _run(_store(context).stats, since)
    except StoreError as exc:
        await reply(update, context, [esc(f"Statistik gerade nicht lesbar: {exc}")])
        return
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
    """A known button (menu, 👍/👎, more, a "Meinten Sie" choice, a next step): the dialogue's answer."""
    query = update.callback_query
    if query is None:
        return
    pressed = await _run(_dialogue(context).button, _chat(update), query.data or "")
    await query.answer(pressed.notice)
    await send(update, context, pressed.replies or [])
    if pressed.done and isinstance(query.message, Message) and query.message.reply_markup:
        rows = [
            [b for b in row if b.callback_data != query.data]
            for row in query.message.reply_markup.inline_keyboard
        ]
        try:  # the button has done its job ("Weitere Treffer"): the others stay
            await query.edit_message_reply_markup(InlineKeyboardMarkup([r for r in rows if r]))
        except BadRequest as exc:  # e.g. "message is not modified" after a double tap
            logger.info("Tastatur nicht geändert: %s", exc)


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Data no button of ours carries (forged or from an old version): a short notice, nothing else."""
    if update.callback_query is not None:
        await update.callback_query.answer(EXPIRED)


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
        await reply(update, context, [esc(APOLOGY)])
    except Exception as exc:
        logger.warning("Entschuldigung konnte nicht gesendet werden: %s", exc)
