"""Computed lists: next events of a series, the funding overview, contact persons for a topic.

Pure functions over entries and a date; the engine decides whether a list answers the question.
"""

from __future__ import annotations

from datetime import date

from bot.answer.render import (
    Answer,
    bullets,
    contact_line,
    event_line,
    funding_status,
    source_note,
    source_ref,
)
from bot.knowledge import AnyEntry, Contact, Event, FundingCall


def series_events(events: list[Event], series: str | None) -> list[Event]:
    """Events of `series` (all when None) that were not cancelled."""
    return [e for e in events if e.status != "abgesagt" and (series is None or e.series == series)]


def upcoming(events: list[Event], today: date) -> list[Event]:
    """Events not yet over on `today`, soonest first (an imprecise "Ende April" counts until its last day)."""
    return sorted((e for e in events if e.date and e.date.latest() >= today), key=lambda e: e.date.earliest())


def past(events: list[Event], today: date) -> list[Event]:
    """Events over before `today`, latest first."""
    return sorted(
        (e for e in events if e.date and e.date.latest() < today),
        key=lambda e: e.date.earliest(),
        reverse=True,
    )


def after(events: list[Event], shown: Event) -> list[Event]:
    """Events of the same series dated after `shown`, soonest first ("und der danach?")."""
    if not shown.date:
        return []
    return sorted(
        (
            e
            for e in events
            if e.series == shown.series and e.date and e.date.earliest() > shown.date.latest()
        ),
        key=lambda e: e.date.earliest(),
    )


def contacts_of(entries: list[AnyEntry], by_id: dict[str, AnyEntry]) -> list[Contact]:
    out: list[Contact] = []
    for entry in entries:
        for ref in getattr(entry, "contacts", []):
            contact = by_id.get(ref)
            if isinstance(contact, Contact) and contact not in out:
                out.append(contact)
    return out


def next_events(
    question: str,
    events: list[Event],
    today: date,
    series: str | None,
    by_id: dict[str, AnyEntry],
    limit: int,
) -> Answer:
    """Upcoming events of `series` after `today`, soonest first; when none is known, the latest one."""
    chosen = series_events(events, series)
    label = series or "Veranstaltungen"
    coming = upcoming(chosen, today)
    if coming:
        shown = coming[:limit]
        text = bullets(f"Nächste Termine ({label}, Stand {today:%d.%m.%Y}):", [event_line(e) for e in shown])
    else:
        shown = past(chosen, today)[:1]
        text = f"Zurzeit ist kein kommender Termin ({label}) bekannt (Stand {today:%d.%m.%Y})."
        if shown:
            text += f"\nZuletzt: {event_line(shown[0])}."
    contacts = contacts_of(list(shown), by_id)
    if contacts:
        text += "\nKontakt: " + "; ".join(contact_line(c, by_id) for c in contacts[:2])
    return Answer(
        question=question,
        intent="event",
        found=bool(shown),
        text=text,
        source_note=source_note(list(shown)) if shown else "",
        sources=[source_ref(e) for e in shown],
    )


def last_event(
    question: str, events: list[Event], today: date, series: str | None, by_id: dict[str, AnyEntry]
) -> Answer:
    """The latest event of `series` before `today`."""
    shown = past(series_events(events, series), today)[:1]
    if not shown:
        return Answer(question=question, intent="event", found=False, text="")
    text = f"Zuletzt ({series or 'Veranstaltungen'}, Stand {today:%d.%m.%Y}): {event_line(shown[0])}."
    return Answer(
        question=question,
        intent="event",
        found=True,
        text=text,
        source_note=source_note(list(shown)),
        sources=[source_ref(shown[0])],
    )


def funding_overview(calls: list[FundingCall], today: date, by_id: dict[str, AnyEntry], limit: int) -> Answer:
    """Open and coming calls by deadline, then the most recently closed ones; who advises."""
    current = [c for c in calls if not (c.closes and c.closes < today)]
    closed = sorted((c for c in calls if c.closes and c.closes < today), key=lambda c: c.closes, reverse=True)
    lines = [f"Förderaufrufe (Stand {today:%d.%m.%Y}):"]
    if not any(c.opens or c.closes for c in current):
        lines.append("Derzeit ist kein offener oder angekündigter Förderaufruf mit Frist bekannt.")
    for call in sorted(current, key=lambda c: (c.closes is None, c.closes or today)):
        topics = f" – Themen: {', '.join(call.topics)}" if call.topics else ""
        status = funding_status(call, today) or "Keine Frist bekannt."
        lines.append(f"• {call.programme}{topics}. {status}")
    for call in closed[:limit]:
        lines.append(f"• {call.programme}: {funding_status(call, today)}")
    shown: list[AnyEntry] = [*current, *closed[:limit]]
    contacts = contacts_of(shown, by_id)
    if contacts:
        lines.append("Beratung: " + "; ".join(contact_line(c, by_id) for c in contacts[:2]))
    return Answer(
        question="Förderaufrufe",
        intent="funding",
        found=bool(shown),
        text="\n".join(lines),
        source_note=source_note(shown) if shown else "",
        sources=[source_ref(c) for c in shown],
    )


def contact_list(topic: str, contacts: list[Contact], by_id: dict[str, AnyEntry]) -> Answer:
    return Answer(
        question=topic,
        intent="contact",
        found=bool(contacts),
        text=bullets(f"Ansprechpartner zum Thema „{topic}“:", [contact_line(c, by_id) for c in contacts]),
        source_note=source_note(list(contacts)) if contacts else "",
        sources=[source_ref(c) for c in contacts],
    )
