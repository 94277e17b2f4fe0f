"""Secrets and update payloads never in logs.

Secrets: the bot token (it is part of every Bot API URL) and the webhook secret, also URL-encoded
(the token's ":" as "%3A" in a logged URL). Payloads: names, ids and texts of Telegram updates, which
libraries (PTB, tornado, asyncio) may put into a log record's arguments or exception text.

A log record factory cleans every record's message and traceback, so no logger, handler or library
can leak them, whoever configures logging.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

RecordFactory = Callable[..., logging.LogRecord]

_SECRETS: set[str] = set()
_FORMS: list[str] = []  # every secret in every spelling, longest first
_factory_installed = False

# Loggers of libraries that see raw updates; their records lose anything that looks like one.
PAYLOAD_LOGGERS = ("telegram", "tornado", "asyncio")
# field names as they appear in update JSON, dict reprs and Telegram object reprs ("chat=Chat(…")
_PAYLOAD_HINT = re.compile(
    r"update_id|first_name|last_name|username|[\"']?\b(?:chat|from|from_user|text)\b[\"']?\s*[:=]"
)
_MAX_EXC_TEXT = 200


def _forms(secret: str) -> set[str]:
    """The secret as written, percent-encoded (quote, quote_plus, lower-case escapes) and encoded twice."""
    encoded = {quote(secret, safe=""), quote(secret), quote_plus(secret)}
    forms = {secret, *encoded}
    for form in encoded:
        forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), form))
        forms.add(form.replace("%", "%25"))
    return forms


def redact(text: str) -> str:
    """`text` with every protected secret (in any spelling) replaced by <geheim>."""
    for form in _FORMS:
        if form in text:
            text = text.replace(form, "<geheim>")
    return text


def _has_secret(text: str) -> bool:
    return any(form in text for form in _FORMS)


# --------------------------------------------------------------------------- update payloads


def _safe_exc_message(exc: BaseException) -> str:
    """The exception's text unless it may quote an update (too long or mentions update fields)."""
    try:
        text = str(exc)
    except Exception:
        return "<Text nicht lesbar>"
    if len(text) > _MAX_EXC_TEXT or _PAYLOAD_HINT.search(text):
        return f"<Text entfernt, {len(text)} Zeichen>"
    return text


def _safe_arg(arg: Any) -> Any:
    """Containers and Telegram objects become a placeholder with their size; numbers stay."""
    if arg is None or isinstance(arg, bool | int | float):
        return arg
    if isinstance(arg, BaseException):
        return _safe_exc_message(arg)
    if isinstance(arg, str):
        return f"<Daten entfernt, {len(arg)} Zeichen>" if _PAYLOAD_HINT.search(arg) else arg
    if isinstance(arg, bytes | bytearray | memoryview):
        return f"<Daten entfernt, {len(arg)} Bytes>"
    return f"<{type(arg).__name__} entfernt>"


def _safe_message(record: logging.LogRecord) -> str:
    msg = record.msg if isinstance(record.msg, str) else str(_safe_arg(record.msg))
    args = record.args
    try:
        if isinstance(args, Mapping) and "%(" in msg:  # logging's named form: log("%(a)s", {"a": …})
            text = msg % {key: _safe_arg(value) for key, value in args.items()}
        elif isinstance(args, Mapping):  # one dict argument, unpacked by LogRecord
            text = msg % (_safe_arg(args),)
        elif args:
            text = msg % tuple(_safe_arg(arg) for arg in args)
        else:
            text = msg
    except (TypeError, ValueError, KeyError):  # a placeholder where %d wanted a number
        text = f"{msg} <Argumente entfernt>"
    if _PAYLOAD_HINT.search(text):
        return f"<Meldung mit Update-Daten entfernt, {len(text)} Zeichen>"
    return text


def safe_traceback(exc: BaseException) -> str:
    """Frames and exception types of the chain, the exception texts only where they cannot quote an update."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts = [
        "Traceback (most recent call last):\n"
        + "".join(traceback.format_tb(e.__traceback__))
        + f"{type(e).__qualname__}: {_safe_exc_message(e)}"
        for e in reversed(chain)
    ]
    return "\n\nDaraus folgte:\n\n".join(parts)


def _scrub_payload(record: logging.LogRecord) -> None:
    try:
        message = _safe_message(record)
    except Exception:  # broken format string: logging reports it itself
        return
    record.msg, record.args = message, ()
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = safe_traceback(record.exc_info[1])


# --------------------------------------------------------------------------- the record factory


def _redacting(previous: RecordFactory) -> RecordFactory:
    """Wrap the installed factory rather than replace it, so other record customisations keep working."""

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.name.startswith(PAYLOAD_LOGGERS):
            _scrub_payload(record)
        if not _FORMS:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging's own error handling
            return record
        if _has_secret(message):
            record.msg, record.args = redact(message), ()
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        elif record.exc_info and record.exc_info[0] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            if _has_secret(text):
                record.exc_text = redact(text)
        return record

    return factory


def install() -> None:
    """Install the cleaning record factory (once); protect_secrets does it too."""
    global _factory_installed
    if _factory_installed:
        return
    logging.setLogRecordFactory(_redacting(logging.getLogRecordFactory()))
    # httpx logs every request URL (which contains the token) at INFO
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    _factory_installed = True


def protect_secrets(*secrets: str | None) -> None:
    """Replace the given secrets in every log record created from now on (message and traceback)."""
    _SECRETS.update(s for s in secrets if s)
    _FORMS[:] = sorted({form for secret in _SECRETS for form in _forms(secret)}, key=len, reverse=True)
    install()
