"""Telegram layer of regiobot (python-telegram-bot v22).

format: Telegram HTML; delivery: ordered, retried updates and replies; flood: the per-user limit;
redact: secrets out of logs; handlers: the commands, questions and buttons; app: building and running.
"""

from bot.telegram.app import build_application, check_token, run

__all__ = ["build_application", "check_token", "run"]
