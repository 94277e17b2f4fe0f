"""Secrets never in logs: the bot token (it is part of every Bot API URL) and the webhook secret.

A log record factory replaces them in every record's message and traceback, so no logger, handler
or library (httpx, PTB) can leak them, whoever configures logging.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

RecordFactory = Callable[..., logging.LogRecord]

_SECRETS: set[str] = set()
_factory_installed = False


def redact(text: str) -> str:
    """`text` with every protected secret replaced by <geheim>."""
    for secret in _SECRETS:
        if secret:
            text = text.replace(secret, "<geheim>")
    return text


def _redacting(previous: RecordFactory) -> RecordFactory:
    """Wrap the installed factory rather than replace it, so other record customisations keep working."""

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

    return factory


def protect_secrets(*secrets: str | None) -> None:
    """Replace the given secrets in every log record created from now on (message and traceback)."""
    global _factory_installed
    _SECRETS.update(s for s in secrets if s)
    if _factory_installed:
        return
    logging.setLogRecordFactory(_redacting(logging.getLogRecordFactory()))
    # httpx logs every request URL (which contains the token) at INFO
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    _factory_installed = True
