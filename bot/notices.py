"""Subscriptions, notices about news and reminders: the channel-neutral rules, as pure functions.

A chat subscribes to a `Topic` (all funding calls, all events, an event series, a tag, a region or one
entry); `matches` says which calls and events it covers. After a reload `changes` compares the old and the
new knowledge and says what is news; `reminders` says which reminders are due on a day. Both come with
stable keys (a fingerprint of the fields that matter, a key per occasion), so the caller can record what it
sent and never sends the same message twice, also after a restart or when its job runs twice a day.
Storing, sending and scheduling are the caller's: nothing here touches Telegram, SQLite or the encoder.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

from bot.answer.render import event_line, funding_status, source_note
from bot.knowledge import AnyEntry, Event, FundingCall, When
from bot.places import LAENDER, LANDKREISE, METROPOLREGIONEN, REGION, places_in, within
from bot.text import fold

KINDS = ("foerderung", "termine", "series", "region", "tag", "entry")
"""Topic kinds, in the order candidates are offered."""
KEY_BYTES = 50  # a stored key plus a button prefix ("abo:", "abx:") must fit Telegram's 64-byte callback data
ALL = "alle"  # the key of the two topics that cover every call or every event
MAX_CANDIDATES = 5  # buttons offered for an ambiguous word
FUZZY_CUTOFF = 0.85  # difflib ratio a typo must reach ("regionaldialg" ~ "regionaldialog": 0.96)
FUZZY_MARGIN = 0.05  # how far the best guess must lead the next one to be taken without asking
MIN_FUZZY = 4  # shorter words are only matched exactly or as a word of a name ("AG")
MIN_PREFIX = 3  # "Regional" offers every name with a word starting so; "Re" offers nothing
MAX_INPUT = 200  # longer input is cut before comparing: difflib is quadratic
UNSUBSCRIBE = "Abbestellen: /abbestellen"

_SLUG_MAP = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_KEY_VALUE = re.compile(r"^[a-z0-9~-]+$")
_ALL_CALLS = (
    "Förderung", "Förderungen", "Förderaufruf", "Förderaufrufe", "Fördermittel", "Förderprogramm",
    "Förderprogramme", "Funding", "Funding calls", "Calls", "Aufrufe", "Ausschreibungen",
)  # fmt: skip
_ALL_EVENTS = ("Termine", "Termin", "Veranstaltungen", "Veranstaltung", "Events", "Event")
_FILLERS = frozenset({
    "der", "die", "das", "den", "dem", "des", "zum", "zur", "zu", "fur", "uber", "alle", "allen", "neue",
    "neuen", "nachste", "nachsten", "thema", "themen", "abo", "abos", "the", "about",
})  # fmt: skip  # in `_loose` form: "für" → "fur"
_REGION_WORDS = frozenset({
    "landkreis", "kreis", "lk", "metropolregion", "region", "stadt", "gemeinde", "freistaat", "land", "raum",
})  # fmt: skip


# --------------------------------------------------------------------------- normal forms


def slug(text: str) -> str:
    """Key form of a name: lower case, umlauts as ae/oe/ue/ss (like the entry ids), words joined by "-"."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_SLUG_MAP)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _loose(text: str) -> str:
    """Comparison form: "Förderung", "Foerderung" and "Forderung" all become "forderung"."""
    folded = slug(fold(text)).replace("ae", "a").replace("oe", "o").replace("ue", "u")
    return folded.replace("-", "")


def _loose_words(text: str) -> list[str]:
    return [w for w in (_loose(p) for p in slug(fold(text)).split("-")) if w]


def _short(kind: str, value: str) -> str:
    """`value` cut so that "kind:value" stays within KEY_BYTES; a cut value ends in "~" and a stable hash,
    a character slugs never contain, so it cannot collide with an uncut value."""
    budget = KEY_BYTES - len(kind) - 1
    if len(value.encode()) <= budget:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return value[: budget - len(digest) - 1].rstrip("-") + "~" + digest


# --------------------------------------------------------------------------- topics


@dataclass(frozen=True)
class Topic:
    """What a chat subscribed to. `key` is normalised and short enough for storage and buttons; `label` is
    German and shown to people ("Regionaldialog", "Förderaufrufe")."""

    kind: str
    key: str
    label: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown topic kind {self.kind!r}")
        if not _KEY_VALUE.match(self.key) or len(f"{self.kind}:{self.key}".encode()) > KEY_BYTES:
            raise ValueError(f"bad topic key {self.key!r}")


CALLS = Topic("foerderung", ALL, "Förderaufrufe")
EVENTS = Topic("termine", ALL, "Termine")


def topic_key(topic: Topic) -> str:
    """The string stored for a subscription and put into buttons: "series:regionaldialog" (≤ 50 bytes)."""
    return f"{topic.kind}:{topic.key}"


def topic_from_key(key: str, label: str) -> Topic:
    """The topic a stored key stands for, with the label stored beside it; ValueError for a malformed key."""
    kind, sep, value = key.partition(":")
    if not sep:
        raise ValueError(f"bad topic key {key!r}")
    return Topic(kind, value, label)


def topic_for_key(key: str, entries: Sequence[AnyEntry]) -> Topic | None:
    """A topic from a button's key with its label from the current knowledge; None when the key is malformed
    or the knowledge no longer has anything it covers (the button is then out of date)."""
    try:
        bare = topic_from_key(key, "")
    except ValueError:
        return None
    if bare.kind in {"foerderung", "termine"}:
        return CALLS if bare.kind == "foerderung" else EVENTS
    if bare.kind == "entry":
        entry = next((e for e in _items(entries) if matches(bare, e)), None)
        return entry_topic(entry) if entry is not None else None
    for topic, _ in _candidates(entries):
        if topic.kind == bare.kind and topic.key == bare.key:
            return topic
    if bare.kind == "region" and any(matches(bare, e) for e in _items(entries)):
        return Topic("region", bare.key, _region_label(bare.key, "", entries))
    return None


def event_name(event: Event) -> str:
    """How an event is called in a sentence: "9. Regionaldialog", else its series, else its title."""
    if event.number and event.series:
        return f"{event.number}. {event.series}"
    return event.series or event.title


def entry_topic(entry: AnyEntry) -> Topic:
    """The topic behind "🔔 Erinnern" under one call or event: that entry only."""
    label = event_name(entry) if isinstance(entry, Event) else entry.title
    return Topic("entry", _short("entry", entry.id), label)


def _items(entries: Iterable[AnyEntry]) -> list[FundingCall | Event]:
    return [e for e in entries if isinstance(e, FundingCall | Event)]


def _about(entry: FundingCall | Event) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(short values, prose values) an entry is about: tags, call topics, place, series; title, event topic,
    programme."""
    short = [*entry.tags]
    prose = [entry.title]
    if isinstance(entry, FundingCall):
        short += entry.topics
        prose.append(entry.programme)
    else:
        short += [v for v in (entry.place, entry.series) if v]
        prose += [v for v in (entry.topic,) if v]
    return tuple(short), tuple(prose)


@lru_cache(maxsize=4096)
def _places(short: tuple[str, ...], prose: tuple[str, ...]) -> frozenset[str]:
    """Folded places named in an entry's fields; short values read as after "in", so "Halle" counts."""
    found: set[str] = set()
    for value in short:
        found |= places_in(f"in {value}")
    for value in prose:
        found |= places_in(value)
    return frozenset(found)


def _entry_places(entry: FundingCall | Event) -> frozenset[str]:
    """Places an entry is about; its source document counts too, as the publisher's region
    ("SEG Mansfeld-Südharz: Regionaldialog" makes every Regionaldialog one of Mansfeld-Südharz)."""
    short, prose = _about(entry)
    return _places(short, (*prose, entry.source.document))


def _without_region_word(text: str) -> str:
    words = text.split()
    while len(words) > 1 and _loose(words[0]) in _REGION_WORDS:
        words = words[1:]
    return re.sub(r"\s*\(.*?\)", "", " ".join(words)).strip()


def _tag_region(tag: str) -> str | None:
    """The folded place a tag is the name of ("Landkreis Peine" → "peine"), or None for other tags."""
    bare = _without_region_word(tag)
    for place in places_in(f"in {tag}"):
        if _loose(place) == _loose(bare):
            return place
    return None


def _spelling(place: str, texts: Iterable[str]) -> str | None:
    """`place` (folded) as some text writes it: "mansfeld-sudharz" → "Mansfeld-Südharz"."""
    for text in texts:
        words = re.findall(r"[^\W_]+(?:-[^\W_]+)*", text)
        for i in range(len(words)):
            for j in range(i + 1, min(i + 5, len(words) + 1)):
                if fold(" ".join(words[i:j])) == place:
                    return " ".join(words[i:j])
    return None


def _region_label(place: str, typed: str, entries: Sequence[AnyEntry]) -> str:
    """A region's name as the knowledge or the list of places writes it, else as typed."""
    items = _items(entries)
    texts = [t for e in items for t in e.tags]
    tables = [*LAENDER, *(k for kreise in LANDKREISE.values() for k in kreise), *METROPOLREGIONEN, *REGION]
    texts += tables + [t for e in items for part in _about(e) for t in part]
    found = _spelling(place, texts) or _spelling(place.replace("-", " "), texts)
    if found:
        return found
    bare = _without_region_word(typed).strip()
    return bare.title() if bare == bare.lower() else bare or place


def _candidates(entries: Sequence[AnyEntry]) -> list[tuple[Topic, list[str]]]:
    """Every topic the knowledge offers, with the names it can be asked by, in `KINDS` order."""
    items = _items(entries)
    found: dict[tuple[str, str], tuple[Topic, list[str]]] = {
        ("foerderung", ALL): (CALLS, list(_ALL_CALLS)),
        ("termine", ALL): (EVENTS, list(_ALL_EVENTS)),
    }
    taken = {_loose(n) for n in (*_ALL_CALLS, *_ALL_EVENTS)}

    def add(topic: Topic, name: str) -> None:
        names = found.setdefault((topic.kind, topic.key), (topic, []))[1]
        if name not in names:
            names.append(name)
        taken.add(_loose(name))

    for series in (e.series for e in items if isinstance(e, Event) and e.series):
        key = _short("series", slug(series))
        if ("series", key) in found or _loose(series) not in taken:
            add(Topic("series", key, series), series)
    for entry in items:
        for place in sorted(_entry_places(entry)):
            key = _short("region", slug(place))
            if ("region", key) not in found:
                label = _region_label(place, place, entries)
                add(Topic("region", key, label), label)
        for tag in entry.tags:
            place = _tag_region(tag)
            if place is not None:
                add(Topic("region", _short("region", slug(place)), _region_label(place, tag, entries)), tag)
    for entry in items:
        for tag in (*entry.tags, *(entry.topics if isinstance(entry, FundingCall) else ())):
            key = _short("tag", slug(tag))
            if key and (("tag", key) in found or _loose(tag) not in taken):
                add(Topic("tag", key, tag), tag)
    order = {kind: n for n, kind in enumerate(KINDS)}
    return sorted(found.values(), key=lambda c: order[c[0].kind])


def _region_typed(text: str, entries: Sequence[AnyEntry]) -> Topic | None:
    """A place typed on its own ("Sachsen-Anhalt", "Landkreis Peine") that some call or event lies in."""
    bare = _without_region_word(text)
    if not bare:
        return None
    capitalised = "-".join(part[:1].upper() + part[1:] for part in bare.split("-"))
    capitalised = " ".join(w[:1].upper() + w[1:] for w in capitalised.split(" "))
    for place in places_in(f"in {capitalised}"):
        if _loose(place) != _loose(bare):
            continue
        topic = Topic("region", _short("region", slug(place)), place)
        if any(matches(topic, e) for e in _items(entries)):
            return Topic("region", topic.key, _region_label(place, text, entries))
    return None


def _word_match(query: list[str], name: str) -> bool:
    """Every typed word is a word of `name` or (from MIN_PREFIX letters on) begins one."""
    words = _loose_words(name)
    return all(any(w == q or (len(q) >= MIN_PREFIX and w.startswith(q)) for w in words) for q in query)


def resolve_topic(text: str, entries: Sequence[AnyEntry]) -> Topic | list[Topic] | None:
    """The topic a person names after /abo, forgivingly, or candidates to choose from, or None.

    Taken at once: an exact name (case, umlauts written as ae/oe/ue/ss and hyphens do not matter) or a typo
    close to exactly one name ("regionaldialg"). Offered as a list of at most MAX_CANDIDATES: names that
    several fit about equally, and names the input is only a word or beginning of ("AG", "Tourismus" for
    "AG Tourismus", "Regional") – the person may mean something broader, so a fragment is never subscribed
    silently. "Förderung" and
    "Termine" are all calls and all events; a region must be a place some call or event is about.
    """
    words = [w for w in text[:MAX_INPUT].split() if _loose(w) not in _FILLERS]
    typed = " ".join(words)
    query = _loose(typed)
    if not query:
        return None
    candidates = _candidates(entries)
    exact = [t for t, names in candidates if any(_loose(n) == query for n in names)]
    region = _region_typed(typed, entries)
    if region is not None and all((t.kind, t.key) != (region.kind, region.key) for t in exact):
        exact.append(region)
    if exact:
        return exact[0] if len(exact) == 1 else exact[:MAX_CANDIDATES]
    scored: list[tuple[float, Topic]] = []
    if len(query) >= MIN_FUZZY:
        for topic, names in candidates:
            best = 0.0
            for name in names:
                matcher = difflib.SequenceMatcher(None, query, _loose(name))
                if matcher.real_quick_ratio() >= FUZZY_CUTOFF and matcher.quick_ratio() >= FUZZY_CUTOFF:
                    best = max(best, matcher.ratio())
            if best >= FUZZY_CUTOFF:
                scored.append((best, topic))
        scored.sort(key=lambda s: -s[0])
    query_words = _loose_words(typed)
    partial = [t for t, names in candidates if any(_word_match(query_words, n) for n in names)]
    if not partial and scored and (len(scored) == 1 or scored[0][0] - scored[1][0] >= FUZZY_MARGIN):
        return scored[0][1]
    offered = [t for _, t in scored]
    offered += [t for t in partial if t not in offered]
    return offered[:MAX_CANDIDATES] or None


def matches(topic: Topic, entry: AnyEntry) -> bool:
    """Whether a subscription to `topic` covers `entry`; only funding calls and events are ever covered.

    A series covers its events; a tag covers calls and events with that tag or call topic, or whose title,
    event topic or programme has it as whole words ("Wasserstoff" in "Wasserstoff im Revier"); a region
    covers calls and events whose tags, place, title, topic or source document name it or a place in it.
    """
    if not isinstance(entry, FundingCall | Event):
        return False
    if topic.kind == "foerderung":
        return isinstance(entry, FundingCall)
    if topic.kind == "termine":
        return isinstance(entry, Event)
    if topic.kind == "entry":
        return _short("entry", entry.id) == topic.key
    if topic.kind == "series":
        return (
            isinstance(entry, Event)
            and bool(entry.series)
            and _short("series", slug(entry.series or "")) == topic.key
        )
    if topic.kind == "tag":
        return any(
            _short("tag", s := slug(v)) == topic.key or f"-{topic.key}-" in f"-{s}-"
            for part in _about(entry)
            for v in part
        )
    if topic.kind == "region":
        return any(
            _short("region", slug(p)) == topic.key or within(p, topic.key) for p in _entry_places(entry)
        )
    return False


def topic_description(topic: Topic) -> str:
    """What a subscription covers, in words: "Termine der Reihe „Regionaldialog“"."""
    return {
        "foerderung": "alle Förderaufrufe",
        "termine": "alle Termine",
        "series": f"Termine der Reihe „{topic.label}“",
        "tag": f"Förderaufrufe und Termine zum Thema „{topic.label}“",
        "region": f"Förderaufrufe und Termine zu „{topic.label}“",
        "entry": f"„{topic.label}“",
    }[topic.kind]


def subscribers(entry: AnyEntry, topics_by_chat: Mapping[int, Sequence[Topic]]) -> list[int]:
    """Chats with a subscription covering `entry`, in ascending order."""
    return sorted(chat for chat, topics in topics_by_chat.items() if any(matches(t, entry) for t in topics))


# --------------------------------------------------------------------------- news


EVENT_FIELDS = ("title", "date", "status", "place", "topic")
CALL_FIELDS = ("title", "programme", "opens", "closes", "topics")
_FIELD_NAMES = {
    "title": "Titel", "date": "Termin", "status": "Status", "place": "Ort", "topic": "Thema",
    "programme": "Programm", "opens": "Beginn", "closes": "Frist", "topics": "Themen",
}  # fmt: skip
_STATUS = {"geplant": "angekündigt", "abgesagt": "abgesagt", "stattgefunden": "stattgefunden"}


@dataclass(frozen=True)
class Change:
    """News about one call or event. `before` and `fields` (what changed) are set for "geändert"."""

    entry: AnyEntry
    kind: Literal["neu", "geändert"]
    fingerprint: str
    before: AnyEntry | None = None
    fields: tuple[str, ...] = ()


def _relevant(entry: FundingCall | Event) -> dict[str, object]:
    """The fields whose change is news, as plain JSON values (whitespace and list order do not count)."""
    out: dict[str, object] = {}
    for name in CALL_FIELDS if isinstance(entry, FundingCall) else EVENT_FIELDS:
        value = getattr(entry, name)
        if isinstance(value, When):
            value = value.model_dump()
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, str):
            value = " ".join(value.split())
        elif isinstance(value, list):
            value = sorted(" ".join(v.split()) for v in value)
        out[name] = value
    return out


def fingerprint(entry: FundingCall | Event) -> str:
    """A stable hash (the same in every process and after restarts) of the id, type and relevant fields."""
    data = {"id": entry.id, "type": entry.type, **_relevant(entry)}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def _current(entry: FundingCall | Event, today: date) -> bool:
    """Still of use to hear about: an event not over, a call not closed (no date: always)."""
    if isinstance(entry, FundingCall):
        return entry.closes is None or entry.closes >= today
    return entry.date is None or entry.date.latest() >= today


def changes(old: Sequence[AnyEntry], new: Sequence[AnyEntry], today: date | None = None) -> list[Change]:
    """New or changed funding calls and events between two loaded knowledge states, in `new`'s order.

    News are only what a subscriber acts on: for events title, date, status, place and topic; for calls
    title, programme, opens, closes and topics. An edit of the text, tags, contacts, sources or `updated`
    is not news, nor is an event only marked "stattgefunden" afterwards. Removed or unchanged items give
    nothing; an entry whose type changed counts as new. With `today`, events already over and calls
    already closed are left out (history added to the knowledge is not news). On the very first load there
    is no old state: the caller should record the fingerprints then instead of notifying.
    """
    before = {e.id: e for e in _items(old)}
    out: list[Change] = []
    for entry in _items(new):
        if today is not None and not _current(entry, today):
            continue
        previous = before.get(entry.id)
        mark = fingerprint(entry)
        if previous is None or previous.type != entry.type:
            out.append(Change(entry, "neu", mark))
            continue
        was, now = _relevant(previous), _relevant(entry)
        fields = tuple(name for name in now if now[name] != was[name])
        if not fields or (fields == ("status",) and now["status"] == "stattgefunden"):
            continue
        out.append(Change(entry, "geändert", mark, previous, fields))
    return out


# --------------------------------------------------------------------------- reminders


@dataclass(frozen=True)
class Reminder:
    """A reminder due for one chat. `key` names the entry and the occasion ("regionaldialog-9:20240613:1d");
    recorded per chat, (chat_id, key) is unique, so the caller sends each reminder once."""

    chat_id: int
    entry: AnyEntry
    key: str


def _occasions(
    entry: FundingCall | Event, call_days: Sequence[int], event_days: Sequence[int]
) -> list[tuple[date, date, str]]:
    """(day the reminder is due, last day it still makes sense, key) for each reminder `entry` can have.

    Keys carry the date of the occasion: a postponed event or an extended deadline is reminded of again.
    A call's deadline day still counts (one can apply that day); an event must still be ahead.
    """
    short = _short("entry", entry.id)
    if isinstance(entry, FundingCall):
        if entry.closes is None:
            return []
        return [
            (entry.closes - timedelta(days=d), entry.closes, f"{short}:{entry.closes:%Y%m%d}:{d}d")
            for d in call_days
        ]
    if entry.date is None or entry.status == "abgesagt":
        return []
    if entry.date.exact:
        day = entry.date.earliest()
        return [
            (day - timedelta(days=d), day - timedelta(days=1), f"{short}:{day:%Y%m%d}:{d}d")
            for d in event_days
        ]
    return [(entry.date.earliest(), entry.date.latest(), f"{short}:{slug(entry.date.german())}:ungefaehr")]


def reminders(
    entries: Sequence[AnyEntry],
    topics_by_chat: Mapping[int, Sequence[Topic]],
    today: date,
    call_days: Sequence[int] = (7, 1),
    event_days: Sequence[int] = (1,),
    catch_up_days: int = 1,
) -> list[Reminder]:
    """Reminders due `today` for each chat: `call_days` before a matching call closes, `event_days` before a
    matching event with an exact day, and once on the first day of a partial date's period ("Ende April
    2024": its earliest day), saying the day is not known. Cancelled events and past items get none.

    Catch-up: a reminder whose day passed at most `catch_up_days` ago is still due while its occasion has not
    passed, so a bot that was down on that day sends it the next day (the text then says "heute" or "in 6
    Tagen" as it is). Of several reminders due for one entry only the nearest to the occasion is given.
    Keys repeat on every run of the same day, so a job running twice sends nothing twice if the caller
    records them.
    """
    due: dict[str, tuple[date, str, FundingCall | Event]] = {}  # entry id → (last useful day, key, entry)
    for entry in _items(entries):
        hits = [
            (day, last, key)
            for day, last, key in _occasions(entry, call_days, event_days)
            if day <= today <= min(last, day + timedelta(days=catch_up_days))
        ]
        if hits:
            _, last, key = max(hits)  # the latest due day is the reminder nearest to the occasion
            due[entry.id] = (last, key, entry)
    out = [
        Reminder(chat, entry, key)
        for chat, topics in topics_by_chat.items()
        for _, key, entry in due.values()
        if any(matches(t, entry) for t in topics)
    ]
    return sorted(out, key=lambda r: (r.chat_id, due[r.entry.id][0], r.key))


# --------------------------------------------------------------------------- texts


def _value(name: str, value: object) -> str:
    if value is None or value == [] or value == "":
        return "nicht angegeben"
    if isinstance(value, When):
        return value.german()
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    if isinstance(value, list):
        return ", ".join(value)
    if name == "status":
        return _STATUS.get(str(value), str(value))
    return str(value)


def _footer(entry: AnyEntry) -> str:
    return f"{source_note([entry])}\n{UNSUBSCRIBE}"


def _call_lines(call: FundingCall, today: date) -> list[str]:
    lines = [funding_status(call, today) or "Keine Frist bekannt."]
    if call.topics:
        lines.append("Themen: " + ", ".join(call.topics))
    return lines


def notice_text(change: Change, today: date) -> str:
    """A notice: "Neu:"/"Geändert:", the item with its dates and status, what it was before, source."""
    prefix = "Neu" if change.kind == "neu" else "Geändert"
    entry = change.entry
    if isinstance(entry, FundingCall):
        lines = [f"{prefix}: {entry.title}"]
        if _loose(entry.programme) not in _loose(entry.title):
            lines.append(f"Programm: {entry.programme}")
        lines += _call_lines(entry, today)
    elif isinstance(entry, Event):
        lines = [f"{prefix}: {event_line(entry)}."]
        if "title" in change.fields:  # the line above names the event by series and number, not by title
            lines.append(f"Titel: {entry.title}")
    else:
        lines = [f"{prefix}: {entry.title}"]
    if change.before is not None and change.fields:
        was = [f"{_FIELD_NAMES.get(f, f)}: {_value(f, getattr(change.before, f))}" for f in change.fields]
        lines.append("Bisher – " + "; ".join(was) + ".")
    return "\n".join(lines) + "\n\n" + _footer(entry)


def _in_days(days: int) -> str:
    return {0: "heute", 1: "morgen"}.get(days, f"in {days} Tagen")


def reminder_text(reminder: Reminder, today: date) -> str:
    """A reminder: how long until the deadline or event (counted from `today`), its date, place, source."""
    entry = reminder.entry
    if isinstance(entry, FundingCall) and entry.closes is not None:
        days = (entry.closes - today).days
        head = (
            f"Erinnerung: Die Frist für „{entry.title}“ endet {_in_days(days)} (am {entry.closes:%d.%m.%Y})."
        )
        lines = [head]
        if entry.topics:
            lines.append("Themen: " + ", ".join(entry.topics))
    elif isinstance(entry, Event) and entry.date is not None:
        name = event_name(entry)
        if entry.date.exact:
            day = entry.date.earliest()
            head = f"Erinnerung: Der Termin „{name}“ ist {_in_days((day - today).days)}, am {day:%d.%m.%Y}."
        else:
            head = (
                f"Erinnerung: Der Termin „{name}“ ist für {entry.date.german()} angekündigt; "
                "ein genauer Tag ist nicht bekannt."
            )
        details = [
            f"Ort: {entry.place}" if entry.place else "",
            f"Thema: {entry.topic}" if entry.topic else "",
        ]
        lines = [head, *(d for d in details if d)]
    else:
        lines = [f"Erinnerung: {entry.title}"]
    return "\n".join(lines) + "\n\n" + _footer(entry)


def _reminder_line(days: Sequence[int], before: str) -> str:
    """The reminder bullet: "• Erinnerungen 7 Tage und 1 Tag vor …" or "• eine Erinnerung 1 Tag vor …"."""
    parts = [f"{d} Tag" if d == 1 else f"{d} Tage" for d in sorted(set(days), reverse=True)]
    if len(parts) == 1:
        return f"• eine Erinnerung {parts[0]} vor {before}"
    return f"• Erinnerungen {', '.join(parts[:-1])} und {parts[-1]} vor {before}"


def confirmation_text(
    topic: Topic,
    call_days: Sequence[int] = (7, 1),
    event_days: Sequence[int] = (1,),
    entry: AnyEntry | None = None,
) -> str:
    """What a new subscription will send, that the chat id is stored for it with consent, and how to stop.

    For an "entry" topic pass the entry, so only what fits it (a deadline or an event) is named.
    """
    single = topic.kind == "entry"
    calls = topic.kind in {"foerderung", "tag", "region"} or (single and not isinstance(entry, Event))
    events = topic.kind in {"termine", "series", "tag", "region"} or (
        single and not isinstance(entry, FundingCall)
    )
    if single and isinstance(entry, FundingCall):
        news = "• eine Nachricht, wenn sich Titel, Programm, Beginn, Frist oder Themen ändern"
    elif single and isinstance(entry, Event):
        news = "• eine Nachricht, wenn sich Titel, Datum, Ort, Status oder Thema ändern"
    elif single:
        news = "• eine Nachricht, wenn sich Titel, Datum, Frist, Ort, Status oder Thema ändern"
    else:
        news = (
            "• eine Nachricht, wenn dazu etwas Neues bekannt wird oder sich Datum, Frist, Ort, Status oder "
            "Thema ändern"
        )
    lines = [f"Abo eingerichtet: {topic_description(topic)}.", "", "Ich schicke Ihnen in diesem Chat:", news]
    if calls and call_days:
        lines.append(_reminder_line(call_days, "Ablauf einer Frist"))
    if events:
        if event_days:
            lines.append(_reminder_line(event_days, "einem Termin"))
        lines.append(
            "• bei Terminen ohne genauen Tag (z. B. „Ende April“) einen Hinweis zu Beginn dieses Zeitraums"
        )
    lines += [
        "",
        "Dafür speichere ich mit Ihrer Zustimmung die Chat-ID dieses Chats, das Thema und welche Nachrichten "
        "Sie schon bekommen haben – nur für diesen Zweck.",
        "Beenden: /abbestellen beendet alle Abos und löscht alles, was dazu gespeichert ist.",
    ]
    return "\n".join(lines)
