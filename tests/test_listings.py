"""Computed lists: soonest first, imprecise dates, the event after one shown, funding status by date."""

from __future__ import annotations

from datetime import date

from bot.answer import listings
from bot.knowledge import Contact, Event, FundingCall, Source, When

SRC = Source(document="Testquelle")
DAY = date(2026, 11, 1)


def _event(n: int, when: str, series: str = "Regionaldialog", status: str = "stattgefunden") -> Event:
    return Event(
        id=f"rd-{n}",
        type="event",
        title=f"{n}. {series}",
        text=f"Der {n}. {series}.",
        series=series,
        number=n,
        date=When.model_validate(when),
        status=status,
        contacts=["k"],
        source=SRC,
        updated=DAY,
    )


EVENTS = [
    _event(1, "2021-09-29"),
    _event(2, "Ende April 2024", status="geplant"),
    _event(3, "2024-06-13"),
    _event(4, "2024-09-01", status="abgesagt"),
    _event(1, "2024-05-02", series="AG Wirtschaftsförderung"),
]
CONTACT = Contact(
    id="k",
    type="contact",
    title="SEG",
    text="SEG.",
    person="SEG",
    email="info@seg-msh.de",
    source=SRC,
    updated=DAY,
)
BY_ID = {"k": CONTACT, **{e.id: e for e in EVENTS}}


def test_upcoming_soonest_first_and_imprecise_dates_until_their_end() -> None:
    chosen = listings.series_events(EVENTS, "Regionaldialog")
    assert [e.number for e in listings.upcoming(chosen, date(2024, 4, 20))] == [
        2,
        3,
    ]  # cancelled one left out
    assert [e.number for e in listings.upcoming(chosen, date(2024, 5, 1))] == [3]
    assert [e.number for e in listings.past(chosen, date(2024, 5, 1))] == [2, 1]


def test_next_events_answer_and_none_left() -> None:
    answer = listings.next_events("q", EVENTS, date(2024, 3, 1), "Regionaldialog", BY_ID, 3)
    assert answer.found and answer.text.index("Ende April 2024") < answer.text.index("13.06.2024")
    assert "info@seg-msh.de" in answer.text and "29.09.2021" not in answer.text
    later = listings.next_events("q", EVENTS, date(2026, 1, 1), "Regionaldialog", BY_ID, 3)
    assert "kein kommender Termin" in later.text and "Zuletzt: 3. Regionaldialog am 13.06.2024" in later.text
    assert not later.found and later.intent == "partial" and later.sources  # the next date is unknown


def test_the_one_after() -> None:
    assert [e.number for e in listings.after(EVENTS, EVENTS[1])] == [3, 4]
    assert listings.after(EVENTS, EVENTS[2])[0].number == 4


def test_funding_overview_orders_by_deadline() -> None:
    calls = [
        FundingCall(
            id="a",
            type="funding_call",
            title="A",
            text="A.",
            programme="A",
            opens=date(2024, 3, 21),
            closes=date(2024, 5, 31),
            contacts=["k"],
            source=SRC,
            updated=DAY,
        ),
        FundingCall(
            id="b",
            type="funding_call",
            title="B",
            text="B.",
            programme="B",
            closes=date(2023, 1, 1),
            source=SRC,
            updated=DAY,
        ),
    ]
    text = listings.funding_overview(calls, date(2024, 4, 1), BY_ID, 3).text
    assert (
        text.index("• A") < text.index("• B")
        and "Offen" in text
        and "Abgelaufen" in text
        and "info@seg-msh.de" in text
    )
    assert "Noch nicht geöffnet" in listings.funding_overview(calls, date(2024, 1, 1), BY_ID, 3).text


def test_english_listings_frame_in_english_and_keep_titles_german() -> None:
    answer = listings.next_events("q", EVENTS, date(2024, 3, 1), "Regionaldialog", BY_ID, 3, language="en")
    assert answer.text.split("\n") == [
        "Upcoming events (Regionaldialog, as of 01.03.2024):",
        "• 2. Regionaldialog at the end of April 2024, announced",
        "• 3. Regionaldialog on 13.06.2024",
        "Contact: SEG, Email: info@seg-msh.de",
    ]
    assert answer.source_note == "Source: Testquelle" and answer.language == "en"
    later = listings.next_events("q", EVENTS, date(2026, 1, 1), "Regionaldialog", BY_ID, 3, language="en")
    assert later.text.startswith(
        "No upcoming event (Regionaldialog) is known at the moment (as of 01.01.2026).\n"
        "Most recent: 3. Regionaldialog on 13.06.2024."
    )
    every = listings.next_events("q", EVENTS, date(2024, 3, 1), None, BY_ID, 3, language="en")
    assert every.text.startswith("Upcoming events (events, as of 01.03.2024):")
    last = listings.last_event("q", EVENTS, date(2026, 1, 1), "AG Wirtschaftsförderung", BY_ID, language="en")
    assert last.text == (
        "Most recent (AG Wirtschaftsförderung, as of 01.01.2026): 1. AG Wirtschaftsförderung on 02.05.2024."
    )


def test_english_funding_overview_and_contact_list() -> None:
    call = FundingCall(
        id="a",
        type="funding_call",
        title="A",
        text="A.",
        programme="UNTERNEHMEN REVIER",
        topics=["Wasserstoff"],
        closes=date(2024, 5, 31),
        contacts=["k"],
        source=SRC,
        updated=DAY,
    )
    answer = listings.funding_overview([call], date(2024, 4, 1), BY_ID, 3, language="en")
    assert answer.question == "Funding calls"
    assert answer.text.split("\n") == [
        "Funding calls (as of 01.04.2024):",
        "• UNTERNEHMEN REVIER – Topics: Wasserstoff. Open: The call runs until 31.05.2024.",
        "Advisers: SEG, Email: info@seg-msh.de",
    ]
    empty = listings.funding_overview([], date(2024, 4, 1), BY_ID, 3, language="en").text
    assert "No open or announced funding call with a deadline is known" in empty
    contacts = listings.contact_list("Wasserstoff", [CONTACT], BY_ID, language="en")
    assert contacts.text == "Contact persons for “Wasserstoff”:\n• SEG, Email: info@seg-msh.de"
    assert listings.contact_list("Wasserstoff", [CONTACT], BY_ID).text.startswith(
        "Ansprechpartner zum Thema „Wasserstoff“:"
    )


def test_past_events_latest_first_and_only_before_today() -> None:
    answer = listings.past_events("q", EVENTS, date(2024, 5, 15), "Regionaldialog", BY_ID, 5)
    lines = answer.text.split("\n")
    assert lines[0].startswith("Bisherige Termine (Regionaldialog, Stand 15.05.2024)")
    assert answer.found and all(
        "3. Regionaldialog" not in line for line in lines
    )  # 13.06.2024 is still ahead
    none = listings.past_events("q", EVENTS, date(2020, 1, 1), "Regionaldialog", BY_ID, 5)
    assert not none.found
