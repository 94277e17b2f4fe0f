"""Computed lists: next events of a series, the funding overview, contact persons for a topic.

Pure functions over entries and a date; the engine decides whether a list answers the question. Headings
and notes follow `language` (see `render.LABELS`); titles, series and places stay as the knowledge has them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.answer.render import (
    Answer,
    as_of,
    bullets,
    contact_line,
    event_line,
    funding_status,
    labels,
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


def before(events: list[Event], shown: Event) -> list[Event]:
    """Events of the same series dated before `shown`, latest first ("und der davor?")."""
    if not shown.date:
        return []
    return sorted(
        (
            e
            for e in events
            if e.series == shown.series and e.date and e.date.latest() < shown.date.earliest()
        ),
        key=lambda e: e.date.earliest(),
        reverse=True,
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
    language: str = "de",
) -> Answer:
    """Upcoming events of `series` after `today`, soonest first; when none is known, the latest one."""
    words = labels(language)
    chosen = series_events(events, series)
    label = series or words["events"]
    stand = as_of(today, language)
    coming = upcoming(chosen, today)
    if coming:
        shown = coming[:limit]
        heading = words["next_heading"].format(label=label, as_of=stand)
        text = bullets(heading, [event_line(e, language) for e in shown])
    else:
        shown = past(chosen, today)[:1]
        text = words["none_coming"].format(label=label, as_of=stand)
        if shown:
            text += "\n" + words["latest"].format(line=event_line(shown[0], language))
    contacts = contacts_of(list(shown), by_id)
    if contacts:
        text += "\n" + words["contact"] + "; ".join(contact_line(c, by_id, language) for c in contacts[:2])
    answer = _listed(question, shown, text, language)
    return answer if coming else replace(answer, found=False, intent="partial")  # the next one is unknown


def _listed(question: str, shown: list[Event], text: str, language: str) -> Answer:
    """An event list as an answer: found when it shows an event, sourced by the events it shows."""
    return Answer(
        listed=True,
        question=question,
        intent="event",
        found=bool(shown),
        text=text,
        source_note=source_note(list(shown), language) if shown else "",
        sources=[source_ref(e) for e in shown],
        language=language,
    )


def past_events(
    question: str,
    events: list[Event],
    today: date,
    series: str | None,
    by_id: dict[str, AnyEntry],
    limit: int,
    language: str = "de",
) -> Answer:
    """The events of `series` before `today`, latest first ("Welche Themen hatten die bisherigen Regionaldialoge?")."""
    shown = past(series_events(events, series), today)[:limit]
    if not shown:
        return Answer(question=question, intent="event", found=False, text="", language=language)
    words = labels(language)
    heading = words["past_heading"].format(label=series or words["events"], as_of=as_of(today, language))
    return _listed(question, shown, bullets(heading, [event_line(e, language) for e in shown]), language)


def last_event(
    question: str,
    events: list[Event],
    today: date,
    series: str | None,
    by_id: dict[str, AnyEntry],
    language: str = "de",
) -> Answer:
    """The latest event of `series` before `today`."""
    shown = past(series_events(events, series), today)[:1]
    if not shown:
        return Answer(question=question, intent="event", found=False, text="", language=language)
    words = labels(language)
    text = words["last_heading"].format(
        label=series or words["events"], as_of=as_of(today, language), line=event_line(shown[0], language)
    )
    return _listed(question, shown, text, language)


def funding_overview(
    calls: list[FundingCall], today: date, by_id: dict[str, AnyEntry], limit: int, language: str = "de"
) -> Answer:
    """Open and coming calls by deadline, then the most recently closed ones; who advises."""
    words = labels(language)
    current = [c for c in calls if not (c.closes and c.closes < today)]
    closed = sorted((c for c in calls if c.closes and c.closes < today), key=lambda c: c.closes, reverse=True)
    lines = [words["calls_heading"].format(as_of=as_of(today, language))]
    if not any(c.opens or c.closes for c in current):
        lines.append(words["no_calls"])
    for call in sorted(current, key=lambda c: (c.closes is None, c.closes or today)):
        topics = words["call_topics"].format(topics=", ".join(call.topics)) if call.topics else ""
        status = funding_status(call, today, language) or words["no_deadline"]
        lines.append(f"• {call.programme}{topics}. {status}")
    for call in closed[:limit]:
        lines.append(f"• {call.programme}: {funding_status(call, today, language)}")
    shown: list[AnyEntry] = [*current, *closed[:limit]]
    contacts = contacts_of(shown, by_id)
    if contacts:
        lines.append(words["advisers"] + "; ".join(contact_line(c, by_id, language) for c in contacts[:2]))
    return Answer(
        listed=True,
        question=words["calls"],
        intent="funding",
        found=bool(shown),
        text="\n".join(lines),
        source_note=source_note(shown, language) if shown else "",
        sources=[source_ref(c) for c in shown],
        language=language,
    )


def contact_list(
    topic: str, contacts: list[Contact], by_id: dict[str, AnyEntry], language: str = "de"
) -> Answer:
    """Contact persons for a topic the asker named (the topic is quoted as asked)."""
    heading = labels(language)["contacts_heading"].format(topic=topic)
    return Answer(
        listed=True,
        question=topic,
        intent="contact",
        found=bool(contacts),
        text=bullets(heading, [contact_line(c, by_id, language) for c in contacts]),
        source_note=source_note(list(contacts), language) if contacts else "",
        sources=[source_ref(c) for c in contacts],
        language=language,
    )
