""".ics calendar files for events and funding deadlines, so staff and askers can put dates in their calendar.

Pure functions over the knowledge models: the same knowledge always gives the same bytes (DTSTAMP and
LAST-MODIFIED come from the entry's `updated`, never from the clock), and every item keeps its UID when
its date changes, so a calendar that imported or subscribed to a file updates the item instead of doubling
it. Only days are written: an event known as "Ende April 2024" or "Juni 2024" gets no calendar item, since
a made-up day would look like a fact.

Deliberately independent of bot.answer (which loads the search stack): the wording follows render.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar
from icalendar import Event as VEvent

from bot.knowledge import AnyEntry, Event, FundingCall, Source

PRODID = "-//regiobot//DE"
CALENDAR_NAME = "regiobot: Termine und Fristen"
TIMEZONE = "Europe/Berlin"
DOMAIN = "regiobot"
_SEQUENCE_EPOCH = date(2000, 1, 1)
_STATUS = {"stattgefunden": "CONFIRMED", "geplant": "TENTATIVE", "abgesagt": "CANCELLED"}


def has_calendar_day(entry: AnyEntry) -> bool:
    """Whether `entry` has a day a calendar can hold: an event with an exact date, a call with a closing day."""
    return isinstance(entry, Event | FundingCall) and _day(entry) is not None


def event_calendar(entry: Event) -> bytes | None:
    """A calendar file with this one event; None when its day is not known."""
    item = _event(entry)
    return _calendar([item]) if item is not None else None


def deadline_calendar(call: FundingCall) -> bytes | None:
    """A calendar file with the closing day of this call; None when no closing day is known."""
    item = _deadline(call)
    return _calendar([item]) if item is not None else None


def entry_calendar(entry: AnyEntry) -> bytes | None:
    """The calendar file of an event or a call (for a button that takes either); None for anything else."""
    if isinstance(entry, Event):
        return event_calendar(entry)
    if isinstance(entry, FundingCall):
        return deadline_calendar(entry)
    return None


def upcoming(entries: Iterable[AnyEntry], today: date) -> list[Event | FundingCall]:
    """The events with a day and the calls with a closing day on or after `today`, by date (then id)."""
    found = [
        (day, entry.id, entry)
        for entry in entries
        if isinstance(entry, Event | FundingCall) and (day := _day(entry)) is not None and day >= today
    ]
    found.sort(key=lambda item: item[:2])
    return [entry for _, _, entry in found]


def calendar(entries: Iterable[AnyEntry], today: date) -> bytes:
    """One file with everything `upcoming` finds: the calendar a web page offers for subscription.

    Cancelled events stay in (as CANCELLED), so a subscribed calendar learns of the cancellation.
    """
    items = [_event(e) if isinstance(e, Event) else _deadline(e) for e in upcoming(entries, today)]
    return _calendar([item for item in items if item is not None])


def filename(entry: AnyEntry) -> str:
    """A safe ASCII file name: "regionaldialog-9.ics" for an event, "frist-<id>.ics" for a call's deadline."""
    stem = _ascii_slug(entry.id) or "eintrag"
    return f"frist-{stem}.ics" if isinstance(entry, FundingCall) else f"{stem}.ics"


# --------------------------------------------------------------------------- building blocks


def _calendar(items: list[VEvent]) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", CALENDAR_NAME)
    cal.add("x-wr-timezone", TIMEZONE)
    for item in items:
        cal.add_component(item)
    return cal.to_ical()


def _day(entry: Event | FundingCall) -> date | None:
    """The calendar day of an event or a deadline; None when the source names no exact day."""
    if isinstance(entry, FundingCall):
        return entry.closes
    return entry.date.earliest() if entry.date is not None and entry.date.exact else None


def _event(entry: Event) -> VEvent | None:
    day = _day(entry)
    if day is None:
        return None
    item = _item(f"{entry.id}@{DOMAIN}", day, entry.updated)
    name = _event_name(entry)
    item.add("summary", f"Abgesagt: {name}" if entry.status == "abgesagt" else name)
    if entry.place:
        item.add("location", entry.place)
    item.add("description", _description([entry.text], entry.source))
    item.add("status", _STATUS[entry.status])
    _add_url(item, entry.source)
    return item


def _deadline(call: FundingCall) -> VEvent | None:
    if call.closes is None:
        return None
    item = _item(f"{call.id}-frist@{DOMAIN}", call.closes, call.updated)
    item.add("summary", f"Fristende: {call.programme}")
    closes = f"{call.closes:%d.%m.%Y}"
    period = f"vom {call.opens:%d.%m.%Y} bis {closes}" if call.opens else f"bis {closes}"
    lines = [f"Der Förderaufruf läuft {period}.", call.text]
    if call.eligible:
        lines.append(f"Antragsberechtigt: {call.eligible}")
    if call.amount:
        lines.append(f"Förderung: {call.amount}")
    item.add("description", _description(lines, call.source))
    item.add("status", "CONFIRMED")
    _add_url(item, call.source)
    return item


def _item(uid: str, day: date, updated: date) -> VEvent:
    """An all-day item; its stamps come from `updated` so the bytes do not depend on when they are made.

    SEQUENCE counts days since 2000 at `updated`: it rises whenever staff record a change, which is what
    calendars that imported the file compare before they replace their copy.
    """
    stamp = datetime(updated.year, updated.month, updated.day, tzinfo=UTC)
    item = VEvent()
    item.add("uid", uid)
    item.add("dtstamp", stamp)
    item.add("last-modified", stamp)
    item.add("sequence", max((updated - _SEQUENCE_EPOCH).days, 0))
    item.add("dtstart", day)
    item.add("dtend", day + timedelta(days=1))  # DTEND of an all-day item is the (exclusive) next day
    item.add("transp", "TRANSPARENT")  # a date to know, not time the reader is busy
    return item


def _event_name(entry: Event) -> str:
    """As render.event_line names an event ("9. Regionaldialog"), followed by its topic when known."""
    if entry.series:
        name = f"{entry.number}. {entry.series}" if entry.number else entry.series
        return f"{name}: {entry.topic}" if entry.topic else name
    return entry.title


def _description(lines: list[str], source: Source) -> str:
    """The entry's text and, as every answer of the bot, where it comes from."""
    note = "Quelle: " + source.document
    if source.as_of:
        note += f" (Stand {source.as_of.german()})"
    if source.url:
        note += "\n" + source.url
    return "\n\n".join([*lines, note])


def _add_url(item: VEvent, source: Source) -> None:
    if source.url:
        item.add("url", source.url)


def _ascii_slug(text: str) -> str:
    """Lower-case letters, digits and single hyphens only: safe in any file system and download header."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80].strip("-")
