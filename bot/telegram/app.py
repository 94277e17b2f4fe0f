"""Building and running the Application: `regiobot run`.

Setup problems (missing or rejected token, unreachable Bot API, webhook without secret) end the
process with one German line on stderr and a non-zero exit code, never with a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.config import Config
from bot.db import ERRORS as DB_ERRORS
from bot.db import DatabaseError, store_url
from bot.dialogue import COMMANDS, Dialogue
from bot.metrics import METRICS
from bot.store import Store, StoreError, acquire_instance_lock
from bot.telegram import handlers as h
from bot.telegram import health
from bot.telegram import subscribe as s
from bot.telegram.delivery import (
    COURIER,
    MAILBOX,
    ChatOrderedUpdateProcessor,
    Courier,
    Repeating,
    RetryingRateLimiter,
    SafeUpdatesRequest,
    quiet_bad_json,
)
from bot.telegram.flood import FloodLimit
from bot.telegram.mailbox import Mailbox
from bot.telegram.notifier import Notifier
from bot.telegram.redact import protect_secrets, redact

if TYPE_CHECKING:
    from bot.answer import Engine

logger = logging.getLogger("regiobot.telegram")

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
BASE_URL_ENV = "TELEGRAM_API_BASE_URL"
SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
# BotFather tokens: numeric bot id, colon, 35 characters [A-Za-z0-9_-]; accept some slack.
TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,100}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token


async def _post_init(app: Application) -> None:
    """Commands menu; the courier for the outbox; what the last run received but did not finish."""
    mailbox: Mailbox = app.bot_data[MAILBOX]
    app.bot_data[COURIER].start()
    app.bot_data[NOTIFIER].start()
    app.bot_data[REPLICA].start()
    left = mailbox.unfinished()
    for raw in left:
        app.update_queue.put_nowait(Update.de_json(raw, app.bot))
    waiting = mailbox.counts()[1]
    if left or waiting:
        logger.info(
            "Vom letzten Lauf übernommen: %d Nachrichten, %d Antworten im Postausgang", len(left), waiting
        )
    mailbox.prune()
    app.bot_data[WATCHER] = asyncio.get_running_loop().create_task(_stop_builds_on_stop(app))
    _start_health(app)
    await app.bot.set_my_commands([BotCommand(name, text) for name, text in [*COMMANDS, *s.COMMANDS]])


def _replica_step(app: Application) -> Callable[[], Awaitable[None]]:
    """Every few seconds: note that this replica is alive, take over what a silent one left behind, and serve
    a build another replica published (its /reload) – with SQLite only the last does anything."""
    mailbox: Mailbox = app.bot_data[MAILBOX]
    engine: Engine = app.bot_data[h.ENGINE]

    async def step() -> None:
        await asyncio.to_thread(mailbox.beat)
        adopted = await asyncio.to_thread(mailbox.adopt)
        for raw in adopted:
            app.update_queue.put_nowait(Update.de_json(raw, app.bot))
        if adopted:
            logger.warning("Von einem ausgefallenen Replikat übernommen: %d Nachrichten", len(adopted))
        if await asyncio.to_thread(engine.follow):
            METRICS.reloads.labels("followed").inc()
            METRICS.index_entries.set(engine.overview().entries)

    return step


async def _stop_builds_on_stop(app: Application) -> None:
    """A stop waits for running handlers, a /reload among them: tell its build to end as soon as the stop begins."""
    while not app.running:
        await asyncio.sleep(0.2)
    while app.running:
        await asyncio.sleep(0.5)
    app.bot_data[h.STOP_BUILDING].set()


async def _post_stop(app: Application) -> None:
    app.bot_data[h.STOP_BUILDING].set()
    if (watcher := app.bot_data.get(WATCHER)) is not None:
        watcher.cancel()
    await app.bot_data[NOTIFIER].stop()
    await app.bot_data[REPLICA].stop()
    courier = app.bot_data.get(COURIER)
    if courier is not None:
        await courier.stop()


class JsonLines(logging.Formatter):
    """`service.log_format: json`: one JSON object per line for log collectors (secrets are already redacted
    by the record factory in bot.telegram.redact)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "zeit": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "stufe": record.levelname,
            "quelle": record.name,
            "meldung": record.getMessage(),
        }
        if record.exc_info:
            entry["fehler"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _start_health(app: Application) -> None:
    """/healthz and /metrics; a taken port costs the endpoints (logged), never the bot."""
    config: Config = app.bot_data[h.CONFIG]
    engine: Engine = app.bot_data[h.ENGINE]
    mailbox: Mailbox = app.bot_data[MAILBOX]

    def status() -> dict:
        entries = engine.overview().entries
        return {
            "status": "ok" if entries > 0 else "fehler",
            "eintraege": entries,
            "index_veraltet": engine.stale_reason(),
            "postausgang": mailbox.counts()[1],
        }

    def refresh() -> None:
        METRICS.outbox.set(mailbox.counts()[1])
        METRICS.index_entries.set(engine.overview().entries)

    try:
        app.bot_data[HEALTH] = health.serve(config.service.listen, config.service.port, status, refresh)
    except OSError as exc:
        logger.warning(
            "/healthz und /metrics nicht verfügbar: %s:%s (%s)",
            config.service.listen,
            config.service.port,
            exc,
        )


async def _post_shutdown(app: Application) -> None:
    store = app.bot_data.get(h.STORE)
    if store is not None:
        store.close()
    mailbox = app.bot_data.get(MAILBOX)
    if mailbox is not None:
        mailbox.close()
    if (server := app.bot_data.get(HEALTH)) is not None:
        server.stop()


def _finish(mailbox: Mailbox, update: object) -> None:
    """An update whose handlers ran without a reply (group chatter, a button notice) needs nothing more."""
    if isinstance(update, Update):
        mailbox.finish(update.update_id)


WATCHER, NOTIFIER, HEALTH, REPLICA = "stop_watcher", "notifier", "health", "replica"  # bot_data keys

# One handler per kind of button; the data after the prefix is checked by the dialogue layer.
BUTTON_PATTERNS = (
    r"^menu:",
    r"^fb:[A-Za-z0-9_-]{8,64}:[+-]$",
    r"^more:[A-Za-z0-9_-]{8,64}$",
    r"^pick:",
    r"^step:",
    r"^ics:",
)


def build_application(config: Config, engine: Engine, token: str) -> Application:
    """The bot, ready for run_polling/run_webhook (or initialize/start in tests)."""
    protect_secrets(token)
    request_log = logging.getLogger("telegram.request.BaseRequest")
    if quiet_bad_json not in request_log.filters:
        request_log.addFilter(quiet_bad_json)
    tg = config.telegram
    base_url = tg.base_url
    file_url = re.sub(r"/bot$", "/file/bot", base_url) if base_url.endswith("/bot") else base_url
    timeout = tg.request_timeout
    mailbox = Mailbox.for_config(config)
    processor = ChatOrderedUpdateProcessor(workers=tg.workers, on_done=lambda u: _finish(mailbox, u))
    defaults = Defaults(
        parse_mode=ParseMode.HTML,  # every text is built by bot.telegram.format
        link_preview_options=LinkPreviewOptions(is_disabled=True),  # source links would bury the answer
        allow_sending_without_reply=True,  # question deleted meanwhile: answer anyway
    )
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
        .concurrent_updates(processor)
        .connection_pool_size(8)  # few pooled connections: httpcore checks each one on every request
        .read_timeout(max(timeout, tg.send_timeout))  # an unanswered send may have arrived: wait, not resend
        .write_timeout(timeout)
        .connect_timeout(timeout)
        .pool_timeout(timeout)
        .get_updates_request(
            SafeUpdatesRequest(
                mailbox=mailbox,
                connection_pool_size=1,
                read_timeout=timeout,
                write_timeout=timeout,
                connect_timeout=timeout,
                pool_timeout=timeout,
            )
        )
        .defaults(defaults)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    app = builder.build()
    processor.running = lambda: app.running
    store = Store(config)
    app.bot_data.update(
        {
            h.ENGINE: engine,
            h.STORE: store,
            h.DIALOGUE: Dialogue(engine, store, config, reminders=True),
            h.CONFIG: config,
            h.LIMITER: FloodLimit(tg.rate_limit_messages, tg.rate_limit_seconds),
            h.RELOAD_LOCK: asyncio.Lock(),
            h.STOP_BUILDING: threading.Event(),
            MAILBOX: mailbox,
            COURIER: Courier(
                mailbox,
                app.bot,
                tg.delivery_minutes * 60,
                on_give_up=store.record_undelivered,
                on_blocked=mailbox.unsubscribe,  # 403: the person blocked the bot – end their subscriptions
            ),
            NOTIFIER: Notifier(mailbox, engine, config.notices, config.today_or_now),
        }
    )
    app.bot_data[REPLICA] = Repeating(
        _replica_step(app), max(1.0, config.store.replica_seconds / 4), "Abgleich der Replikate"
    )
    message = filters.UpdateType.MESSAGE
    app.add_handler(TypeHandler(Update, h.gate), group=-1)
    app.add_handler(CommandHandler("reload", h.reload_command, filters=message))
    app.add_handler(CommandHandler("stats", h.stats_command, filters=message))
    app.add_handler(CommandHandler("abo", s.abo, filters=message))
    app.add_handler(CommandHandler("abos", s.abos, filters=message))
    app.add_handler(CommandHandler("abbestellen", s.abbestellen, filters=message))
    app.add_handler(CommandHandler("datenschutz", s.datenschutz, filters=message))
    app.add_handler(
        MessageHandler(message & filters.COMMAND, h.command)
    )  # /start, /hilfe, … and unknown ones
    app.add_handler(MessageHandler(message & filters.TEXT, h.question))
    app.add_handler(MessageHandler(message & ~filters.TEXT & ~filters.StatusUpdate.ALL, h.not_text))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, h.edited))
    for pattern in BUTTON_PATTERNS:
        app.add_handler(CallbackQueryHandler(h.button, pattern=pattern))
    app.add_handler(CallbackQueryHandler(s.abo_button, pattern=r"^abo:"))
    app.add_handler(CallbackQueryHandler(s.end_button, pattern=r"^abx:"))
    app.add_handler(CallbackQueryHandler(h.unknown_button))  # forged or outdated data
    app.add_error_handler(h.on_error)
    return app


# --------------------------------------------------------------------------- regiobot run


def _fail(message: str, code: int = 2) -> int:
    print(redact(message), file=sys.stderr)
    return code


def _startup_noise(record: logging.LogRecord) -> bool:
    """Keep PTB's own reports of a failed start out of the output: run() explains them in one German
    line, and their tracebacks would only confuse whoever starts the bot."""
    bootstrap = record.name.startswith("telegram") and record.levelno >= logging.ERROR
    if bootstrap and record.getMessage().startswith("Network Retry Loop (Bootstrap"):
        return False
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
    """`regiobot run`: serve Telegram until SIGTERM/SIGINT; 0 after a clean stop, 2 on setup errors,
    1 when the engine cannot load or the Bot API cannot be reached."""
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
    if config.service.log_format == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonLines())
    logger.setLevel(logging.INFO)  # start/stop and retries even when the CLI logs only warnings
    for handler in logging.getLogger().handlers:
        handler.addFilter(_startup_noise)
    try:  # one process per data folder with SQLite; replicas sharing PostgreSQL need no lock
        lock = None if store_url(config) else acquire_instance_lock(config)  # held until the process ends
    except (StoreError, DatabaseError) as exc:
        return _fail(str(exc))
    logger.info("Lade Encoder und Index …")
    try:
        from bot.answer import Engine
        from bot.index import IndexMissing

        try:  # serve the last build at once; a change since then is built in the background
            engine = Engine.load(config, rebuild=False)
        except IndexMissing:
            engine = Engine.load(config)
    except Exception as exc:
        logger.debug("Engine.load", exc_info=exc)
        problems = "".join(f"\n  {line}" for line in getattr(exc, "problems", None) or [])
        return _fail(f"Die Antwort-Engine konnte nicht geladen werden: {exc}{problems}", 1)
    try:
        app = build_application(config, engine, token)
    except (StoreError, DatabaseError) as exc:
        return _fail(str(exc))
    except DB_ERRORS as exc:
        return _fail(f"Die Datenbank ist nicht nutzbar: {redact(str(exc))}")
    stop_building: threading.Event = app.bot_data[h.STOP_BUILDING]
    if stale := engine.stale_reason():
        logger.warning("Index veraltet (%s); der letzte Stand antwortet, bis der neue gebaut ist.", stale)
        notifier: Notifier = app.bot_data[NOTIFIER]
        threading.Thread(
            target=_rebuild, args=(engine, stop_building, notifier), daemon=True, name="rebuild"
        ).start()
    allowed = ["message", "edited_message", "callback_query"]
    logger.info("regiobot startet (%s, %s)", tg.mode, redact(base_url))
    try:
        if tg.mode == "webhook":  # our own server (bot.telegram.webhook), not PTB's run_webhook
            from bot.telegram.webhook import serve_application

            asyncio.run(serve_application(app, tg.webhook, secret or "", allowed))
        else:
            app.run_polling(allowed_updates=allowed)
    except InvalidToken:
        return _fail(
            f"Telegram hat das Bot-Token abgelehnt. Bitte {TOKEN_ENV} prüfen (Token von @BotFather)."
        )
    except TelegramError as exc:
        return _fail(
            f"Die Telegram-Bot-API unter {redact(base_url)} ist nicht erreichbar ({redact(str(exc))}). "
            f"Bitte Netzwerk und Adresse prüfen ({BASE_URL_ENV} oder telegram.base_url).",
            1,
        )
    except OSError as exc:  # e.g. webhook port in use
        return _fail(f"Start fehlgeschlagen: {redact(str(exc))}", 1)
    finally:
        stop_building.set()  # a background build ends at its next step; the published index stays
        if lock is not None:
            lock.release()
    logger.info("regiobot beendet")
    return 0


def _rebuild(engine: Engine, stop: threading.Event, notifier: Notifier) -> None:
    """The start-up build of a changed knowledge folder, while the previous build answers."""
    problems = engine.reload(stop)
    if stop.is_set():
        return
    if problems:
        logger.warning(
            "Neuer Stand nicht gebaut (%d Probleme; `regiobot check` zeigt sie). Es antwortet der bisherige.",
            len(problems),
        )
    else:
        logger.info("Neuer Stand des Wissens gebaut und übernommen.")
        notifier.round()  # news for subscribers (the outbox is thread-safe; the courier sends)
