"""Subscriptions on Telegram: /abo, /abos, /abbestellen, /datenschutz and the "🔔 Erinnern" button under answers.

A subscription needs the chat id in clear to send later; it is stored only with the person's consent (the
confirmation says so), beside the topic and what was sent, and /abbestellen without a topic deletes it all.
What matches a topic and what the notices say live in `bot.notices` (its lookups walk the knowledge, so they run
off the event loop); sending goes through the outbox.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot import notices
from bot.knowledge import AnyEntry
from bot.telegram.delivery import MAILBOX, reply
from bot.telegram.format import esc
from bot.telegram.mailbox import Mailbox

logger = logging.getLogger("regiobot.telegram")

COMMANDS = [
    ("abo", "Benachrichtigungen zu Förderung, Terminen oder einem Thema"),
    ("abos", "Meine Abos anzeigen und beenden"),
    ("abbestellen", "Abos beenden und gespeicherte Daten löschen"),
    ("datenschutz", "Was gespeichert wird"),
]
ASK = "Worüber soll ich Sie benachrichtigen? Wählen Sie ein Thema oder schreiben Sie z. B. /abo Wasserstoff."
UNKNOWN = (
    "Zu „{text}“ kenne ich kein Thema. Wählen Sie eines der Themen unten oder versuchen Sie ein anderes Wort."
)
WHICH = "Meinten Sie eines dieser Themen?"
NONE = "Sie haben keine Abos. Mit /abo wählen Sie ein Thema."
LISTED = "Ihre Abos (zum Beenden antippen):"
ALREADY = "Das Abo „{label}“ besteht schon."
ENDED = "Abo „{label}“ beendet."
ENDED_ALL = (
    "Alle Abos beendet. Gespeichert war nur: Ihre Chat-ID, die Themen und welche Nachrichten Sie schon bekommen "
    "haben – das ist jetzt gelöscht."
)
NOT_SUBSCRIBED = "Ein Abo „{text}“ haben Sie nicht. /abos zeigt Ihre Abos."
GROUPS = "Abos gibt es nur im privaten Chat mit mir."
EXPIRED = "Diese Schaltfläche ist abgelaufen. Bitte /abo erneut senden."
PRIVACY = (
    "<b>Datenschutz</b>\n"
    "Fragen: gespeichert werden Zeitpunkt, Fragetext (E-Mail-Adressen und Telefonnummern ersetzt), die Antwort "
    "und Ihre 👍/👎 – Ihre Telegram-Kennung nur verschlüsselt (HMAC), nie im Klartext. Gelöscht nach {days} Tagen.\n"
    "Abos (nur wenn Sie eines abschließen): Ihre Chat-ID im Klartext – sonst könnte ich Ihnen nichts schicken –, "
    "die gewählten Themen und welche Hinweise Sie schon bekommen haben.\n"
    "Nachrichten und Antworten, die noch unterwegs sind, liegen kurz im Posteingang/-ausgang und werden nach der "
    "Zustellung gelöscht.\n"
    "/abbestellen beendet alle Abos und löscht alles, was zu Ihrem Chat gespeichert ist."
)


def _mailbox(context: ContextTypes.DEFAULT_TYPE) -> Mailbox:
    return context.bot_data[MAILBOX]


def _entries(context: ContextTypes.DEFAULT_TYPE) -> list:
    return context.bot_data["engine"].entries()


def _private(update: Update) -> bool:
    return bool(update.effective_chat and update.effective_chat.type == "private")


def topic_buttons(topics: list[notices.Topic]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t.label[:60], callback_data=f"abo:{notices.topic_key(t)}")] for t in topics]
    )


def main_topics(entries: list) -> list[notices.Topic]:
    """Förderung, Termine and the event series of the knowledge: what /abo offers without a word."""
    out: list[notices.Topic] = []
    for word in ("Förderung", "Termine", *sorted({e.series for e in entries if getattr(e, "series", None)})):
        topic = notices.resolve_topic(word, entries)
        if isinstance(topic, notices.Topic) and topic not in out:
            out.append(topic)
    return out[:8]


def _entry_of(topic: notices.Topic, entries: list[AnyEntry]) -> AnyEntry | None:
    """The call or event a "🔔 Erinnern" topic stands for (its confirmation names only the fitting reminders)."""
    key = notices.topic_key(topic)
    return next((e for e in entries if notices.topic_key(notices.entry_topic(e)) == key), None)


async def abo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/abo [Thema]: subscribe directly, or choose from buttons."""
    if not _private(update):
        await reply(update, context, [esc(GROUPS)])
        return
    entries = _entries(context)
    text = " ".join(context.args or []).strip()
    if not text:
        await reply(update, context, [esc(ASK)], topic_buttons(await asyncio.to_thread(main_topics, entries)))
        return
    found = await asyncio.to_thread(notices.resolve_topic, text[:100], entries)
    if found is None:
        topics = await asyncio.to_thread(main_topics, entries)
        await reply(update, context, [esc(UNKNOWN.format(text=text[:100]))], topic_buttons(topics))
    elif isinstance(found, list):
        await reply(update, context, [esc(WHICH)], topic_buttons(found))
    else:
        await _subscribe(update, context, found)


async def _subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE, topic: notices.Topic) -> None:
    chat = update.effective_chat
    assert chat is not None
    new = _mailbox(context).subscribe(chat.id, notices.topic_key(topic), topic.label)
    settings = context.bot_data["config"].notices
    entry = await asyncio.to_thread(_entry_of, topic, _entries(context)) if topic.kind == "entry" else None
    text = (
        notices.confirmation_text(topic, settings.call_days, settings.event_days, entry=entry)
        if new
        else ALREADY.format(label=topic.label)
    )
    await reply(update, context, [esc(text)])


async def abo_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A topic button (from /abo or "🔔 Erinnern" under an answer)."""
    query = update.callback_query
    assert query is not None
    if not _private(update):
        await query.answer(GROUPS)
        return
    topic = await asyncio.to_thread(notices.topic_for_key, (query.data or "")[4:], _entries(context))
    if topic is None:
        await query.answer(EXPIRED)
        return
    await query.answer()
    await _subscribe(update, context, topic)


async def abos(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/abos: a person's subscriptions, each with a button to end it."""
    chat = update.effective_chat
    assert chat is not None
    mine = _mailbox(context).subscriptions(chat.id)
    if not mine:
        await reply(update, context, [esc(NONE)])
        return
    buttons = [
        [InlineKeyboardButton(f"❌ {label[:55]}", callback_data=f"abx:{key}")] for _, key, label in mine
    ]
    await reply(update, context, [esc(LISTED)], InlineKeyboardMarkup(buttons))


async def end_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """❌ under /abos: end that subscription."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None
    key = (query.data or "")[4:]
    labels = {k: label for _, k, label in _mailbox(context).subscriptions(chat.id)}
    if key not in labels:
        await query.answer(EXPIRED)
        return
    _mailbox(context).unsubscribe(chat.id, key)
    await query.answer(ENDED.format(label=labels[key]))
    await reply(update, context, [esc(ENDED.format(label=labels[key]))])


async def abbestellen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/abbestellen [Thema]: end one subscription, or all and delete what is stored for the chat."""
    chat = update.effective_chat
    assert chat is not None
    text = " ".join(context.args or []).strip()
    box = _mailbox(context)
    if not text:
        box.unsubscribe(chat.id)
        await reply(update, context, [esc(ENDED_ALL)])
        return
    mine = box.subscriptions(chat.id)
    wanted = await asyncio.to_thread(notices.resolve_topic, text[:100], _entries(context))
    keys = {
        notices.topic_key(t) for t in (wanted if isinstance(wanted, list) else [wanted] if wanted else [])
    }
    hit = next(((k, label) for _, k, label in mine if k in keys or label.casefold() == text.casefold()), None)
    if hit is None:
        await reply(update, context, [esc(NOT_SUBSCRIBED.format(text=text[:100]))])
        return
    box.unsubscribe(chat.id, hit[0])
    await reply(update, context, [esc(ENDED.format(label=hit[1]))])


async def datenschutz(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/datenschutz: what is stored, for how long, and how to delete it."""
    days = context.bot_data["config"].store.retention_days
    await reply(update, context, [PRIVACY.format(days=days)])
