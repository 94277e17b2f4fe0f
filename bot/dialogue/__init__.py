"""Channel-neutral dialogue: commands, buttons, follow-ups, small talk and "Meinten Sie …?"."""

from bot.dialogue.context import ChatContext, Contexts
from bot.dialogue.dialogue import COMMANDS, Chat, Dialogue, Pressed
from bot.dialogue.replies import Button, Reply, menu

__all__ = ["COMMANDS", "Button", "Chat", "ChatContext", "Contexts", "Dialogue", "Pressed", "Reply", "menu"]
