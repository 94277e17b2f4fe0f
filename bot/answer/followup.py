"""Follow-ups about the entry just shown: what kind of follow-up a message is and where its answer lives.

Pure functions over a `Query` and entries. A follow-up is a message without a subject of its own
("und wo?", "bis wann?", "und wer vertritt ihn?", "und der danach?", "mehr dazu"); a message that
names something the shown entry is not about, asks for a list or for a numbered event is a new question.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.answer.query import Query
from bot.knowledge import AnyEntry, Contact, Event, Organisation
from bot.text import tokens

Kind = Literal["after", "before", "more", "field"]

# "und der danach?", "and the one after that?": the next event of the same series after the shown one
AFTER_WORDS = frozenset(
    {"danach", "darauf", "darauffolgende", "darauffolgenden", "uebernachste", "ubernachste", "after"}
)
# "und der davor?": the one before
BEFORE_WORDS = frozenset({"davor", "vorher", "vorherige", "vorherigen", "vorige", "vorigen", "before"})
# "mehr dazu", "Details", "tell me more": the whole entry
MORE_WORDS = frozenset(
    {"mehr", "more", "details", "detail", "genauer", "ausfuhrlicher", "ausfuehrlicher", "naheres", "naeheres"}
)
# words that point back instead of naming a subject; they are no content of their own
ANAPHORS = frozenset(
    {
        "da", "dort", "dorthin", "dazu", "davon", "dafur", "dafuer", "dabei", "darum", "daruber", "darueber",
        "ihn", "ihm", "ihr", "ihnen", "sie", "er", "es", "der", "die", "das", "den", "dem", "dessen", "deren",
        "dieser", "diese", "dieses", "diesen", "diesem", "denn", "und", "aber", "auch", "noch", "eigentlich",
        "genau", "denen", "welchem", "welcher", "mal", "there", "it", "him", "her", "them", "that", "this",
        "one", "and", "then", "also", "dann", "naechste", "nachste", "naechsten", "nachsten", "nochmal",
    }
)  # fmt: skip


def kind_of(query: Query) -> Kind | None:
    """What a message asks about the shown entry, or None when it is no follow-up."""
    words = set(query.words)
    if words & AFTER_WORDS:
        return "after"
    if words & BEFORE_WORDS:
        return "before"
    if query.ordinal is not None or query.listing is not None or query.time in ("current", "past"):
        return None
    if query.time == "next":
        return None  # "Wann ist der nächste Termin?" asks for the next of all, not of the shown one
    if words & MORE_WORDS and len(query.words) <= 5:
        return "more"
    return "field" if query.field else None


def own_subject(
    query: Query, about: frozenset[str], named: set[str], near: set[str], vocabulary: frozenset[str]
) -> bool:
    """Whether the message names a subject of its own instead of pointing back: an entity other than the shown
    entry and what it links to ("und wer leitet das Regionalforum Halle?"), or words the knowledge does not know
    at all (off its topics: a new question, which will be declined)."""
    if named - near:
        return True
    pointing = ANAPHORS | AFTER_WORDS | BEFORE_WORDS | MORE_WORDS
    skip = set(tokens(" ".join(w for w in query.words if w in pointing)))
    return any(t not in vocabulary and t not in about for t in query.content if t not in skip)


@dataclass(frozen=True)
class Links:
    """Who belongs to which body, computed once per loaded index so a follow-up never walks every entry."""

    people: dict[str, list[Contact]]
    """Organisation id → its contacts (`organisation:`), in knowledge order."""
    bodies: dict[str, list[Organisation]]
    """Contact id → the organisations they chair or deputise."""
    order: dict[str, int]
    """Entry id → position in the knowledge: people of several bodies come in knowledge order."""


def links(entries: Iterable[AnyEntry]) -> Links:
    people: dict[str, list[Contact]] = {}
    bodies: dict[str, list[Organisation]] = {}
    order: dict[str, int] = {}
    for e in entries:
        order[e.id] = len(order)
        if isinstance(e, Contact) and e.organisation:
            people.setdefault(e.organisation, []).append(e)
        elif isinstance(e, Organisation):
            for ref in dict.fromkeys(r for r in (e.chair, e.deputy) if r):
                bodies.setdefault(ref, []).append(e)
    return Links(people, bodies, order)


def linked(entry: AnyEntry, by_id: dict[str, AnyEntry], known: Links) -> list[AnyEntry]:
    """Where a field the entry lacks is looked up next: its people, then the bodies it belongs to.

    A person also links to the bodies they chair or deputise ("und wer vertritt ihn?")."""
    out: list[AnyEntry] = []
    refs: list[str] = []
    if isinstance(entry, Organisation):
        refs += [r for r in (entry.chair, entry.deputy) if r]
    refs += list(getattr(entry, "contacts", []))
    refs += [
        r for name in ("organisation", "organiser", "body", "parent") if (r := getattr(entry, name, None))
    ]
    for ref in refs:
        if (target := by_id.get(ref)) is not None and target not in out and target is not entry:
            out.append(target)
    if isinstance(entry, Contact):
        out += [e for e in known.bodies.get(entry.id, []) if e not in out]
    members = {
        e.id: e
        for body in [entry, *out]
        if isinstance(body, Organisation)
        for e in known.people.get(body.id, [])
    }
    out += [
        e
        for e in sorted(members.values(), key=lambda e: known.order[e.id])
        if e not in out and e is not entry
    ]
    return out


def event_field(event: Event, field: str) -> bool:
    """Whether an event answers a question for `field` from its own fields (date, place, topic)."""
    return bool(
        (field == "date" and event.date)
        or (field == "place" and event.place)
        or (field == "topic" and event.topic)
    )


@dataclass(frozen=True)
class Step:
    """A next step under an answer: "contact", "deadline", "next" (event) or "source" (with its URL)."""

    kind: str
    entry_id: str
    url: str | None = None
