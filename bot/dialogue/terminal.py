"""The terminal channel of `regiobot chat`: replies as plain text, buttons as numbered choices.

Typing a number presses that button, "mehr" presses "Weitere Treffer"; URL buttons show their address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from bot.dialogue.dialogue import Chat, Dialogue
from bot.dialogue.replies import Button, Reply

EXIT_WORDS = frozenset({"exit", "quit", "ende", "/ende", "/exit"})
MORE_WORDS = frozenset({"mehr", "more", "weitere treffer"})


def render(replies: Iterable[Reply]) -> tuple[str, list[Button]]:
    """Plain text of the replies and the buttons that can be pressed next, numbered from 1."""
    lines: list[str] = []
    pressable: list[Button] = []
    for reply in replies:
        lines.append(reply.plain())
        choices = []
        for row in reply.buttons:
            for button in row:
                if button.url:
                    choices.append(f"{button.label}: {button.url}")
                else:
                    pressable.append(button)
                    choices.append(f"[{len(pressable)}] {button.label}")
        if choices:
            lines.append("  ".join(choices))
    return "\n\n".join(lines), pressable


def run(
    dialogue: Dialogue,
    read: Callable[[], str],
    write: Callable[[str], None],
    today: date | None = None,
    chat: Chat | None = None,
) -> None:
    """Read lines until EOF or "exit"; each is a message, a button number or "mehr"."""
    chat = chat or Chat("terminal", None, "terminal")
    buttons: list[Button] = []
    while True:
        try:
            line = read().strip()
        except (EOFError, KeyboardInterrupt):
            break
        if line.lower() in EXIT_WORDS:
            break
        if not line:
            continue
        pressed = _chosen(line, buttons)
        if pressed is not None:
            result = dialogue.button(chat, pressed.data, today)
            if result.notice:
                write(result.notice)
            replies = result.replies or []
            if result.done:
                buttons = [b for b in buttons if b is not pressed]
            if not replies:
                continue
        else:
            replies = dialogue.message(chat, line, today)
        text, buttons = render(replies)
        write(text)
        for reply in replies:
            if reply.document is not None:
                name, data = reply.document
                path = Path(name).resolve()
                path.write_bytes(data)
                write(f"Datei gespeichert: {path}")


def _chosen(line: str, buttons: list[Button]) -> Button | None:
    if line.isdigit() and 1 <= int(line) <= len(buttons):
        return buttons[int(line) - 1]
    if line.lower() in MORE_WORDS:
        return next((b for b in buttons if b.data.startswith("more:")), None)
    return None
