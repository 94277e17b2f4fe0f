"""The handlers: small functions between Telegram updates and the Engine API.

Knows only the Engine API (ask, upcoming_events, funding_overview, contacts_for, overview,
example_questions, reload, stale_reason) and the Store; formatting and sending live in format and
delivery. Engine and store calls run in threads, so one slow answer never blocks other chats.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from telegram import CallbackQuery, ForceReply, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.config import Config
from bot.store import Store
from bot.telegram.delivery import reply
from bot.telegram.flood import FloodLimit, flood_note
from bot.telegram.format import (
    MENU,
    NO_MORE,
    answer_keyboard,
    bullet_list,
    clean,
    esc,
    format_answer,
    format_more,
    html_blocks,
    pack,
)

if TYPE_CHECKING:
    from bot.answer import Answer, Engine

logger = logging.getLogger("regiobot.telegram")

# bot_data keys
ENGINE, STORE, CONFIG, LIMITER, RELOAD_LOCK = "engine", "store", "config", "limiter", "reload_lock"

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
NOT_TEXT = "Ich kann leider nur Textnachrichten lesen. Bitte schreiben Sie Ihre Frage als Text."
EDITED = (
    "Bearbeitete Nachrichten beantworte ich nicht erneut. Bitte schicken Sie die Frage einfach noch einmal."
)
EMPTY_QUESTION = "Wie kann ich helfen? Schreiben Sie Ihre Frage einfach als Nachricht, z. B. „{example}“."
ASK_TOPIC = "Zu welchem Thema suchen Sie eine Ansprechperson? Antworten Sie mit dem Thema, z. B. „{example}“."
APOLOGY = "Entschuldigung, da ist bei mir etwas schiefgelaufen. Bitte versuchen Sie es gleich noch einmal."
THANKS = "Danke für Ihre Rückmeldung!"
EXPIRED = "Diese Auswahl ist nicht mehr verfügbar. Bitte stellen Sie die Frage erneut."

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


async def send_answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, answer: Answer, kind: str, question: str
) -> None:
    """Record the question (for statistics and the buttons), then send the answer with its keyboard."""
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
    """Runs before every handler: ignore group chatter not meant for us; flood limit on questions."""
    if update.callback_query is not None:
        return
    message = update.message
    if message is None:
        if update.edited_message is not None and not _private(update):
            raise ApplicationHandlerStop  # edits in groups: ignore silently
        return
    if not addressed(message, context.bot.username, context.bot.id):
        raise ApplicationHandlerStop
    user = update.effective_user
    if user is None or not message.text or _command_target(message) is not None:
        return  # only free-text questions count: commands and buttons never trip the limit
    limiter: FloodLimit = context.bot_data[LIMITER]
    verdict = limiter.check(user.id)
    if verdict == "ok":
        return
    if verdict == "note":
        await reply(update, context, [esc(flood_note(limiter.wait_seconds(user.id)))])
    raise ApplicationHandlerStop


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: welcome, what the knowledge covers, the menu."""
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
    """/hilfe (and unknown commands): example questions and the public commands."""
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
    """/termine: upcoming events."""
    answer = await _run(_engine(context).upcoming_events)
    await send_answer(update, context, answer, "termine", "/termine")


async def funding(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/foerderung: open and coming funding calls."""
    answer = await _run(_engine(context).funding_overview)
    await send_answer(update, context, answer, "foerderung", "/foerderung")


async def contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/kontakt [Thema]: contacts for the topic, or ask for one."""
    topic = " ".join(context.args or []).strip()
    if not topic:
        await ask_topic(update, context)
        return
    await answer_contacts(update, context, topic)


async def ask_topic(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for a topic; the asker's next text message in this chat is taken as the topic."""
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
    """Contacts for a topic (length-checked like a question)."""
    limit = _config(context).telegram.max_question_chars
    if len(topic) > limit:
        await reply(update, context, [esc(TOO_LONG.format(n=len(topic), max=limit))])
        return
    answer = await _run(_engine(context).contacts_for, topic)
    await send_answer(update, context, answer, "kontakt", f"Kontakt: {topic}")


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A free-text question (or the topic asked for by /kontakt)."""
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
    """Stickers, photos, voice: say that only text is read."""
    await reply(update, context, [esc(NOT_TEXT)])


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edited questions in private chats: ask to send them again."""
    if _private(update) and update.edited_message and update.edited_message.text:
        await context.bot.send_message(update.effective_chat.id, esc(EDITED))


def _is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return bool(user and _private(update) and user.id in _config(context).telegram.admin_ids)


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload (admins, private chat): reload the knowledge; others get the help."""
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
    """Inline buttons: menu entries, 👍/👎, further results."""
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
    """Store a 👍/👎 vote for a recorded question (a second vote replaces the first)."""
    qid, _, sign = rest.partition(":")
    if not qid.isdigit() or sign not in ("+", "-"):
        await query.answer()
        return
    known = await _run(
        _store(context).record_feedback, int(qid), query.from_user.id, 1 if sign == "+" else -1
    )
    await query.answer(THANKS if known else EXPIRED)


async def more(update: Update, context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery, rest: str) -> None:
    """Send the stored further results of an answer, then leave only 👍/👎 under it."""
    stored = await _run(_store(context).question, int(rest)) if rest.isdigit() else None
    if stored is None or not stored.more:
        await query.answer(EXPIRED if stored is None else NO_MORE)
        return
    await query.answer()
    chat_id = query.message.chat.id if query.message else query.from_user.id
    for part in format_more(stored.more):
        await context.bot.send_message(chat_id, part)
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
        await context.bot.send_message(message.chat.id, esc(APOLOGY))
    except Exception as exc:
        logger.warning("Entschuldigung konnte nicht gesendet werden: %s", exc)
