"""Telegram HTML for dialogue replies: everything escaped, split at paragraphs below 4,096 characters.

Telegram rejects a whole message for one unbalanced tag or one character too many, so every block
built here is self-contained (balanced tags) and measured the way Telegram measures (UTF-16).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup

if TYPE_CHECKING:
    from bot.answer import Answer
    from bot.dialogue import Reply

MAX_MESSAGE = 4096
NO_TEXT = "Dazu habe ich leider keine Angaben."

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")


def clean(text: str) -> str:
    """Drop characters Telegram rejects or mangles: control characters (but newline, tab) and lone surrogates."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def esc(text: str) -> str:
    """Text for an HTML message body: user and knowledge text never becomes markup."""
    return html.escape(clean(text), quote=False)


def attr(text: str) -> str:
    """Text for an HTML attribute value (quotes escaped too)."""
    return html.escape(clean(text), quote=True)


def tg_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _wrap(escaped: str, tag: str | None) -> str:
    return f"<{tag}>{escaped}</{tag}>" if tag else escaped


def _split_plain(text: str, limit: int) -> list[str]:
    """Cut plain text into pieces whose *escaped* length fits `limit`: at lines, then words, then characters."""
    if tg_len(esc(text)) <= limit:
        return [text]
    pieces: list[str] = []
    current, size = "", 0
    units = re.findall(r"[^\n]*\n|[^\n]+", text)
    for unit in units:
        unit_len = tg_len(esc(unit))
        # a very long line: words, and characters for monster words
        subunits = re.findall(r"\S+\s*|\s+", unit) if unit_len > limit else [unit]
        for sub in subunits:
            sub_len = tg_len(esc(sub))
            if sub_len > limit:
                for ch in sub:
                    ch_len = tg_len(esc(ch))
                    if size + ch_len > limit:
                        pieces.append(current)
                        current, size = "", 0
                    current += ch
                    size += ch_len
                continue
            if size + sub_len > limit:
                pieces.append(current)
                current, size = "", 0
            current += sub
            size += sub_len
    if current:
        pieces.append(current)
    return [p.strip() for p in pieces if p.strip()]


def html_blocks(plain: str, tag: str | None = None, limit: int = MAX_MESSAGE) -> list[str]:
    """Plain text → escaped HTML paragraphs, each self-contained (balanced tags) and ≤ limit."""
    overhead = len(_wrap("", tag))
    blocks = []
    for para in _PARAGRAPH.split(clean(plain)):
        para = para.strip()
        if para:
            blocks.extend(_wrap(esc(piece), tag) for piece in _split_plain(para, limit - overhead))
    return blocks


def pack(blocks: Sequence[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Join self-contained HTML blocks with blank lines into as few messages ≤ limit as possible."""
    parts: list[str] = []
    current = ""
    for block in blocks:
        if not block:
            continue
        candidate = f"{current}\n\n{block}" if current else block
        if tg_len(candidate) <= limit:
            current = candidate
        else:
            if current:
                parts.append(current)
            current = block
    if current:
        parts.append(current)
    return parts


def source_blocks(answer: Answer) -> list[str]:
    """The source note in italics, then links to the sources that have a URL (best first)."""
    note = answer.source_note or ""
    if not note.strip():
        return []
    blocks = html_blocks(note, tag="i")
    links: list[str] = []
    seen: set[str] = set()
    for i, ref in enumerate(answer.sources or []):
        url = (ref.url or "").strip()
        if not re.fullmatch(r"https?://\S+", url) or url in seen:
            continue
        if i > 0 and ref.document not in note:  # only sources the note names
            continue
        seen.add(url)
        name = clean(ref.document or ref.title or url).strip() or url
        links.append(f'<a href="{attr(url)}">{esc(name[:200])}</a>')
        if len(links) == 3:
            break
    if links:
        blocks.append("🔗 " + " · ".join(links))
    return blocks


def format_reply(reply: Reply) -> list[str]:
    """A dialogue reply → Telegram HTML messages: bold title, text, the answer's source note and links."""
    blocks = [f"<b>{esc(reply.title)}</b>"] if reply.title else []
    blocks += html_blocks(reply.text or "") or ([] if reply.title else [esc(NO_TEXT)])
    if reply.answer is not None:
        blocks += source_blocks(reply.answer)
    return pack(blocks)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | ForceReply | None:
    """The reply's buttons as an inline keyboard (URL buttons open their address); a reply field when it asks."""
    if reply.prompt:
        return ForceReply(selective=True, input_field_placeholder=reply.prompt[:64])
    rows = [
        [
            InlineKeyboardButton(b.label, url=b.url)
            if b.url
            else InlineKeyboardButton(b.label, callback_data=b.data)
            for b in row
        ]
        for row in reply.buttons
    ]
    return InlineKeyboardMarkup(rows) if rows else None
