"""Framing in the asker's language: English headings, status lines and notes around German knowledge values;
German stays the default and unchanged."""

from __future__ import annotations

from datetime import date

import pytest

from bot.answer.render import (
    LABELS,
    contact_line,
    date_text,
    event_line,
    funding_status,
    labels,
    partial_text,
    source_note,
    when_phrase,
)
from bot.knowledge import Contact, Event, FundingCall, Source, When

SRC = Source(document="Regionalplan Mitteldeutschland", as_of=When.model_validate("2024-03-01"))
DAY = date(2026, 11, 1)


def _call(opens: date | None, closes: date | None) -> FundingCall:
    return FundingCall(
        id="c",
        type="funding_call",
        title="Aufruf",
        text="Ein Aufruf.",
        programme="REVIER",
        opens=opens,
        closes=closes,
        source=SRC,
        updated=DAY,
    )


def _event(when: str, status: str = "stattgefunden", **kw: str) -> Event:
    return Event(
        id="e",
        type="event",
        title="Regionaldialog",
        text="Der Regionaldialog.",
        series="Regionaldialog",
        number=8,
        date=When.model_validate(when),
        status=status,
        source=SRC,
        updated=DAY,
        **kw,
    )


SPRING = (date(2024, 3, 21), date(2024, 5, 31))


@pytest.mark.parametrize(
    ("opens", "closes", "today", "german", "english"),
    [
        (
            *SPRING,
            date(2024, 4, 1),
            "Offen: Der Aufruf läuft vom 21.03.2024 bis 31.05.2024.",
            "Open: The call runs from 21.03.2024 to 31.05.2024.",
        ),
        (
            *SPRING,
            date(2024, 6, 1),
            "Abgelaufen: Der Aufruf lief vom 21.03.2024 bis 31.05.2024.",
            "Closed: The call ran from 21.03.2024 to 31.05.2024.",
        ),
        (
            *SPRING,
            date(2024, 1, 1),
            "Noch nicht geöffnet: Der Aufruf läuft vom 21.03.2024 bis 31.05.2024.",
            "Not yet open: The call runs from 21.03.2024 to 31.05.2024.",
        ),
        (
            None,
            date(2024, 5, 31),
            date(2024, 4, 1),
            "Offen: Der Aufruf läuft bis 31.05.2024.",
            "Open: The call runs until 31.05.2024.",
        ),
        (
            date(2024, 3, 21),
            None,
            date(2024, 4, 1),
            "Der Aufruf läuft ab 21.03.2024; ein Ende ist nicht bekannt.",
            "The call runs from 21.03.2024; no end date is known.",
        ),
    ],
)
def test_funding_status_in_both_languages(
    opens: date | None, closes: date | None, today: date, german: str, english: str
) -> None:
    call = _call(opens, closes)
    assert funding_status(call, today) == german
    assert funding_status(call, today, language="de") == german
    assert funding_status(call, today, language="en") == english


def test_funding_status_without_dates_says_nothing() -> None:
    assert funding_status(_call(None, None), date(2024, 4, 1), language="en") == ""


def test_english_dates_spell_the_month_and_the_part() -> None:
    assert date_text(date(2024, 3, 1), "en") == "01.03.2024"
    assert date_text(date(2024, 3, 1)) == "01.03.2024"
    assert date_text(When.model_validate("Ende April 2024"), "en") == "end of April 2024"
    assert date_text(When.model_validate("Mitte April 2024"), "en") == "mid-April 2024"
    assert date_text(When.model_validate("Anfang 2024"), "en") == "early 2024"
    assert date_text(When.model_validate("2024-04"), "en") == "April 2024"
    assert date_text(When.model_validate("Ende April 2024")) == "Ende April 2024"
    assert when_phrase(When.model_validate("2024-06-13"), "en") == "on 13.06.2024"
    assert when_phrase(When.model_validate("Ende April 2024"), "en") == "at the end of April 2024"
    assert when_phrase(When.model_validate("2024-04"), "en") == "in April 2024"
    assert when_phrase(When.model_validate("2024-06-13")) == "am 13.06.2024"


def test_event_line_frames_in_english_and_keeps_the_knowledge_german() -> None:
    event = _event("2024-06-13", place="Sangerhausen", topic="Strukturwandel")
    assert event_line(event, language="en") == (
        "8. Regionaldialog on 13.06.2024, Place: Sangerhausen, Topic: Strukturwandel"
    )
    assert event_line(event) == "8. Regionaldialog am 13.06.2024, Ort: Sangerhausen, Thema: Strukturwandel"
    assert event_line(_event("Ende April 2024", status="geplant"), language="en") == (
        "8. Regionaldialog at the end of April 2024, announced"
    )
    assert event_line(_event("2024-09-01", status="abgesagt"), language="en").endswith(", cancelled")


def test_source_note_in_english() -> None:
    other = _event("2024-06-13")
    other = other.model_copy(update={"source": Source(document="Protokoll")})
    assert source_note([other], language="en") == "Source: Protokoll"
    assert source_note([_call(None, None), other], language="en") == (
        "Sources: Regionalplan Mitteldeutschland (as of 01.03.2024); Protokoll"
    )
    assert source_note([_call(None, None)]) == "Quelle: Regionalplan Mitteldeutschland (Stand 01.03.2024)"


def test_contact_line_labels_email_and_phone() -> None:
    person = Contact(
        id="k",
        type="contact",
        title="Beyer",
        text="Beyer.",
        person="Madlen Beyer",
        role="Leiterin Wirtschaftsförderung",
        email="m.beyer@example.org",
        phone="03464 535 100",
        source=SRC,
        updated=DAY,
    )
    assert contact_line(person, {}, language="en") == (
        "Madlen Beyer, Leiterin Wirtschaftsförderung, Email: m.beyer@example.org, Phone: 03464 535 100"
    )
    assert contact_line(person, {}).endswith("E-Mail: m.beyer@example.org, Tel.: 03464 535 100")


def test_partial_text_in_english_labels_the_german_passage() -> None:
    text = partial_text("phone", "SEG", "Die SEG berät Unternehmen.", "info@seg-msh.de", language="en")
    assert text.split("\n") == [
        "My sources do not give a phone number for “SEG”.",
        "What they say (in German): Die SEG berät Unternehmen.",
        "General enquiries: info@seg-msh.de",
    ]
    assert partial_text("", "SEG", "x", None, language="en") == (
        "My sources do not give this detail for “SEG”.\nWhat they say (in German): x"
    )
    assert partial_text("phone", "SEG", "x", None) == (
        "Eine Telefonnummer zu „SEG“ nennen meine Quellen nicht.\nBekannt ist: x"
    )


def test_every_language_has_every_label() -> None:
    assert set(LABELS["en"]) == set(LABELS["de"])
    assert labels("fr") is LABELS["de"]  # a language without a table is framed in German
