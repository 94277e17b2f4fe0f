"""Answer engine: question → understanding → hybrid retrieval → decision → German answer with its source."""

from bot.answer.engine import Engine
from bot.answer.render import Answer, Overview, SourceRef

__all__ = ["Answer", "Engine", "Overview", "SourceRef"]
