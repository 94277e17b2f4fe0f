"""Telegram HTML formatting on its own: escaping, Telegram's length, splitting, sources, keyboards.

The fake Bot API's HTML check (the same one the end-to-end tests rely on) judges every result.
"""

from __future__ import annotations

from fake_bot_api import html_problem, utf16_len

from bot.answer import Answer, SourceRef
from bot.dialogue import Button, Reply
from bot.telegram.format import (
    MAX_MESSAGE,
    NO_TEXT,
    attr,
    clean,
    esc,
    format_reply,
    html_blocks,
    keyboard,
    pack,
    source_blocks,
    tg_len,
)


def answer(
    text: str, note: str = "", sources: list[SourceRef] | None = None, more: tuple[str, ...] = ()
) -> Answer:
    return Answer(
        question="?",
        intent="fact",
        found=True,
        text=text,
        source_note=note,
        sources=sources or [],
        more=list(more),
    )


def ref(document: str, url: str | None) -> SourceRef:
    return SourceRef("id", document, "info", 1.0, document, url)


def test_clean_and_escape():
    assert clean("a\x00b\x1bc\r\nd\re\tf\ud800") == "ab" + "c\nd\ne\tf"
    assert esc('<b>"A & B"</b>') == '&lt;b&gt;"A &amp; B"&lt;/b&gt;'
    assert attr('x"y<z') == "x&quot;y&lt;z"


def test_tg_len_counts_utf16_units():
    assert tg_len("abc") == 3
    assert tg_len("ä") == 1
    assert tg_len("🇩🇪") == 4  # two regional indicators outside the BMP


def test_html_blocks_split_paragraphs_and_stay_within_the_limit():
    text = "Erster Absatz.\n\nZweiter <Absatz> & mehr.\n   \nDritter."
    assert html_blocks(text) == ["Erster Absatz.", "Zweiter &lt;Absatz&gt; &amp; mehr.", "Dritter."]
    assert html_blocks("Notiz", tag="i") == ["<i>Notiz</i>"]
    long = "&" * 3000  # 15,000 characters once escaped
    blocks = html_blocks(long, tag="i", limit=1000)
    assert all(tg_len(b) <= 1000 and html_problem(b) is None for b in blocks)
    assert "".join(b.removeprefix("<i>").removesuffix("</i>") for b in blocks) == "&amp;" * 3000
    assert html_blocks("  \n\n \x00 ") == []


def test_pack_keeps_paragraphs_whole():
    blocks = [f"Absatz {i} " + "x" * 1000 for i in range(10)]
    parts = pack(blocks)
    assert len(parts) == 3
    assert "\n\n".join(parts) == "\n\n".join(blocks)
    assert all(utf16_len(p) <= MAX_MESSAGE for p in parts)


def test_answer_with_note_and_links_to_named_http_sources_only():
    sources = [
        ref("Leitfaden", "https://example.org/leitfaden?a=1&b=2"),
        ref("Nicht genannt", "https://example.org/andere"),
        ref("Broschüre", "javascript:alert(1)"),
        ref("Webseite", "https://example.org/web"),
    ]
    (text,) = format_answer(
        answer("Antwort <mit> Zeichen.", "Quelle: Leitfaden, Webseite, Broschüre", sources)
    )
    assert text.startswith("Antwort &lt;mit&gt; Zeichen.\n\n<i>Quelle: Leitfaden, Webseite, Broschüre</i>")
    assert '<a href="https://example.org/leitfaden?a=1&amp;b=2">Leitfaden</a>' in text
    assert '<a href="https://example.org/web">Webseite</a>' in text
    assert "andere" not in text and "javascript" not in text
    assert html_problem(text) is None
    assert source_blocks(answer("x", "", sources)) == []  # no note, no links


def format_answer(a: Answer) -> list[str]:
    return format_reply(Reply(a.text, answer=a))


def test_empty_answer_and_title():
    assert format_answer(answer("")) == [NO_TEXT]
    (more,) = format_reply(Reply("Eins\n\nZwei & drei", title="Weitere <Treffer>"))
    assert more == "<b>Weitere &lt;Treffer&gt;</b>\n\nEins\n\nZwei &amp; drei"


def test_keyboard_from_reply_buttons():
    reply = Reply(
        "x",
        buttons=[
            [
                Button("👤 Ansprechperson", "step:contact:a"),
                Button("🔗 Quelle öffnen", url="https://example.org"),
            ]
        ],
    )
    (row,) = keyboard(reply).inline_keyboard
    assert (row[0].text, row[0].callback_data, row[0].url) == ("👤 Ansprechperson", "step:contact:a", None)
    assert (row[1].callback_data, row[1].url) == (None, "https://example.org")
    assert keyboard(Reply("x")) is None
    assert keyboard(Reply("x", prompt="Thema")).force_reply is True


def test_unreadable_bot_api_answers_are_logged_in_one_short_line():
    import logging

    from bot.telegram.delivery import quiet_bad_json

    try:
        raise ValueError("x")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "telegram.request.BaseRequest", logging.ERROR, "f", 1, 'Can not load invalid JSON data: "%s"',
            ('{"ok": true, "result": {"from": {"first_name": "Max"}',), sys.exc_info(),
        )  # fmt: skip
    assert quiet_bad_json(record)
    assert record.getMessage() == "Bot API: unlesbare Antwort" and record.exc_info is None
    assert record.levelno == logging.WARNING
    other = logging.LogRecord("telegram.request.BaseRequest", logging.ERROR, "f", 1, "Anderes", (), None)
    assert quiet_bad_json(other) and other.getMessage() == "Anderes"
