"""The `Answer` value every channel receives, and how entries, dates and people are written.

The framing around the knowledge (headings, status lines, labels, notes) follows the asker's language:
German by default, English for English questions; the knowledge values themselves stay German. All
framing words live in one table, `LABELS`. German dates are DD.MM.YYYY (partial ones as the source gives
them, e.g. "Ende April 2024"), English ones "13 June 2024" / "end of April 2024". Every answer that
states a fact names its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.knowledge import AnyEntry, Contact, Event, FundingCall, Organisation, When
from bot.text import tokens

LABELS: dict[str, dict[str, str]] = {
    "de": {
        "source": "Quelle: ",
        "sources": "Quellen: ",
        "is_member": "Ja – {member} gehört dazu.",
        "as_of": "Stand {date}",
        "period_both": "vom {opens} bis {closes}",
        "period_until": "bis {closes}",
        "period_from": "ab {opens}",
        "call_closed": "Abgelaufen: Der Aufruf lief {period}.",
        "call_not_open": "Noch nicht geöffnet: Der Aufruf läuft {period}.",
        "call_open": "Offen: Der Aufruf läuft {period}.",
        "call_no_end": "Der Aufruf läuft {period}; ein Ende ist nicht bekannt.",
        "place": "Ort: {place}",
        "topic": "Thema: {topic}",
        "planned": "angekündigt",
        "cancelled": "abgesagt",
        "email": "E-Mail: {email}",
        "phone": "Tel.: {phone}",
        "partial_missing": "{what} zu „{subject}“ nennen meine Quellen nicht.",
        "partial_known": "Bekannt ist: {known}",
        "partial_general": "Allgemeine Anfragen: {general}",
        # listings
        "events": "Veranstaltungen",
        "next_heading": "Nächste Termine ({label}, {as_of}):",
        "past_heading": "Bisherige Termine ({label}, {as_of}), die jüngsten zuerst:",
        "none_coming": "Zurzeit ist kein kommender Termin ({label}) bekannt ({as_of}).",
        "latest": "Zuletzt: {line}.",
        "contact": "Kontakt: ",
        "last_heading": "Zuletzt ({label}, {as_of}): {line}.",
        "calls": "Förderaufrufe",
        "calls_heading": "Förderaufrufe ({as_of}):",
        "no_calls": "Derzeit ist kein offener oder angekündigter Förderaufruf mit Frist bekannt.",
        "call_topics": " – Themen: {topics}",
        "no_deadline": "Keine Frist bekannt.",
        "advisers": "Beratung: ",
        "contacts_heading": "Ansprechpartner zum Thema „{topic}“:",
        # fields of an entry and what an answer always says
        "chair": "Vorsitz",
        "deputy": "Stellvertretung",
        "members": "Mitglieder ({name}): {members}.",
        "tasks": "Aufgaben ({name}):",
        "focus_areas": "Arbeitsschwerpunkte ({name}):",
        "founded": "{name}: gegründet {date}.",
        "legal_form": "Rechtsform ({name}): {form}.",
        "email_of": "E-Mail von {person}: {email}",
        "phone_of": "Telefon von {person}: {phone}",
        "status_as_of": "{status} ({as_of})",
        "topics": "Themen ({name}): {topics}.",
        "per_year": "{member}: jährlich {amount} €{note}.",
        "thousands": ".",
        "contact_person": "Ansprechpartner: {person}",
        "contact_people": "Ansprechpartner:",
        "event_date": "Termin: {when}",
        "was_announced": "(war für {date} angekündigt)",
    },
    "en": {
        "source": "Source: ",
        "sources": "Sources: ",
        "is_member": "Yes – {member} is one of them.",
        "as_of": "as of {date}",
        "period_both": "from {opens} to {closes}",
        "period_until": "until {closes}",
        "period_from": "from {opens}",
        "call_closed": "Closed: The call ran {period}.",
        "call_not_open": "Not yet open: The call runs {period}.",
        "call_open": "Open: The call runs {period}.",
        "call_no_end": "The call runs {period}; no end date is known.",
        "place": "Place: {place}",
        "topic": "Topic: {topic}",
        "planned": "announced",
        "cancelled": "cancelled",
        "email": "Email: {email}",
        "phone": "Phone: {phone}",
        "partial_missing": "My sources do not give {what} for “{subject}”.",
        "partial_known": "What they say (in German): {known}",
        "partial_general": "General enquiries: {general}",
        "events": "events",
        "next_heading": "Upcoming events ({label}, {as_of}):",
        "past_heading": "Past events ({label}, {as_of}), most recent first:",
        "none_coming": "No upcoming event ({label}) is known at the moment ({as_of}).",
        "latest": "Most recent: {line}.",
        "contact": "Contact: ",
        "last_heading": "Most recent ({label}, {as_of}): {line}.",
        "calls": "Funding calls",
        "calls_heading": "Funding calls ({as_of}):",
        "no_calls": "No open or announced funding call with a deadline is known at the moment.",
        "call_topics": " – Topics: {topics}",
        "no_deadline": "No deadline known.",
        "advisers": "Advisers: ",
        "contacts_heading": "Contact persons for “{topic}”:",
        "chair": "Chair",
        "deputy": "Deputy chair",
        "members": "Members ({name}): {members}.",
        "tasks": "Tasks ({name}):",
        "focus_areas": "Main areas of work ({name}):",
        "founded": "{name}: founded {when}.",
        "legal_form": "Legal form ({name}): {form}.",
        "email_of": "Email address of {person}: {email}",
        "phone_of": "Phone number of {person}: {phone}",
        "status_as_of": "{status} ({as_of})",
        "topics": "Topics ({name}): {topics}.",
        "per_year": "{member}: {amount} € per year{note}.",
        "thousands": ",",
        "contact_person": "Contact person: {person}",
        "contact_people": "Contact persons:",
        "event_date": "Date: {date}",
        "was_announced": "(was announced for {date})",
    },
}
"""Every word the bot writes around the knowledge, by language; a format string takes named values."""

MONTHS_EN = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
_PARTS_EN = {"anfang": "early {}", "mitte": "mid-{}", "ende": "end of {}"}


def labels(language: str) -> dict[str, str]:
    """The framing words for `language`; German for any language without its own table."""
    return LABELS.get(language, LABELS["de"])


def date_text(value: date | When, language: str = "de") -> str:
    """A date as the asker reads it: "13.06.2024" / "Ende April 2024", or "13.06.2024" / "end of April 2024" – an
    exact day keeps the German form the sources use, in English answers too (they quote German sources)."""
    if isinstance(value, When):
        if language != "en":
            return value.german()
        if value.exact:
            return date_text(value.earliest(), language)
        text = f"{MONTHS_EN[value.month - 1]} {value.year}" if value.month else str(value.year)
        return _PARTS_EN[value.part].format(text) if value.part else text
    return f"{value:%d.%m.%Y}"


def when_phrase(value: When, language: str = "de") -> str:
    """A date that follows a name or verb: "am 13.06.2024" / "Ende April 2024", "on 13 June 2024" /
    "at the end of April 2024" / "in April 2024" (English needs a preposition for every kind of date)."""
    text = date_text(value, language)
    if language != "en":
        return f"am {text}" if value.exact else text
    if value.exact:
        return f"on {text}"
    return f"at the {text}" if value.part == "ende" else f"in {text}"


def as_of(today: date, language: str = "de") -> str:
    """The day a computed status or list holds for: "Stand 01.03.2024" / "as of 1 March 2024"."""
    return labels(language)["as_of"].format(date=date_text(today, language))


@dataclass(frozen=True)
class SourceRef:
    id: str
    title: str
    type: str
    score: float
    document: str
    url: str | None


@dataclass
class Answer:
    """What the engine says: `found` only when the text states a fact from the knowledge."""

    question: str
    intent: str
    found: bool
    text: str
    source_note: str = ""
    sources: list[SourceRef] = field(default_factory=list)
    more: list[str] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict, compare=False)
    """The decision's inputs (cosine, coverage, overlap, gap, conflict), for calibration; not part of the JSON."""
    options: list[SourceRef] = field(default_factory=list)
    """"Meinten Sie …?": the entries that fit about equally well (intent "clarify"), one button each."""
    about: str | None = None
    """The entry a follow-up refers to when it is not the first source (the chair a chair answer names)."""
    listed: bool = False
    """A list (events, calls, contacts): a follow-up must say which of its entries it means."""
    language: str = "de"
    """The asker's language ("de" or "en"): the channel frames buttons and notes in it."""

    def plain(self) -> str:
        return f"{self.text}\n\n{self.source_note}" if self.source_note else self.text

    def as_json(self) -> dict[str, object]:
        return {
            "question": self.question,
            "intent": self.intent,
            "found": self.found,
            "answer": self.plain(),
            "sources": [
                {"id": s.id, "title": s.title, "type": s.type, "score": round(s.score, 4)}
                for s in self.sources
            ],
        }


@dataclass
class Overview:
    regions: list[str]
    bodies: list[str]
    topics: list[str]
    entries: int


def source_ref(entry: AnyEntry, score: float = 1.0) -> SourceRef:
    return SourceRef(entry.id, entry.title, entry.type, score, entry.source.document, entry.source.url)


def source_note(entries: list[AnyEntry], language: str = "de") -> str:
    """Which documents the answer comes from (document names stay as written), once each."""
    words = labels(language)
    seen: list[str] = []
    for entry in entries:
        src = entry.source
        label = src.document + (
            " (" + words["as_of"].format(date=date_text(src.as_of, language)) + ")" if src.as_of else ""
        )
        if label not in seen:
            seen.append(label)
    return (words["source"] if len(seen) == 1 else words["sources"]) + "; ".join(seen)


def funding_status(call: FundingCall, today: date, language: str = "de") -> str:
    """Whether a call is open, closed or not yet open on `today`, with its period; "" without dates."""
    words = labels(language)
    opens = date_text(call.opens, language) if call.opens else ""
    closes = date_text(call.closes, language) if call.closes else ""
    if call.opens and call.closes:
        period = words["period_both"].format(opens=opens, closes=closes)
    elif call.closes:
        period = words["period_until"].format(closes=closes)
    elif call.opens:
        period = words["period_from"].format(opens=opens)
    else:
        return ""
    if call.closes and call.closes < today:
        return words["call_closed"].format(period=period)
    if call.opens and call.opens > today:
        return words["call_not_open"].format(period=period)
    if call.closes:
        return words["call_open"].format(period=period)
    return words["call_no_end"].format(period=period)


def event_when(event: Event, language: str = "de") -> str:
    """When an event takes place, ready to follow its name; "" when the date is unknown."""
    return when_phrase(event.date, language) if event.date else ""


def event_line(event: Event, language: str = "de") -> str:
    """One event in a list: name and date, place, topic, and whether it is only announced or cancelled."""
    words = labels(language)
    name = (
        f"{event.number}. {event.series}" if event.number and event.series else (event.series or event.title)
    )
    parts = [f"{name} {event_when(event, language)}".strip()]
    if event.place:
        parts.append(words["place"].format(place=event.place))
    if event.topic:
        parts.append(words["topic"].format(topic=event.topic))
    if event.status == "geplant":
        parts.append(words["planned"])
    elif event.status == "abgesagt":
        parts.append(words["cancelled"])
    return ", ".join(parts)


def contact_line(contact: Contact, by_id: dict[str, AnyEntry], language: str = "de") -> str:
    """A person with role and organisation (unless the role already names it), e-mail and phone."""
    words = labels(language)
    org = by_id.get(contact.organisation or "")
    org_name = org.name if isinstance(org, Organisation) else (contact.organisation_name or "")
    bits = [contact.person]
    if contact.role:
        bits.append(contact.role)
    if org_name and not set(tokens(org_name)) <= set(tokens(contact.role or "")):
        bits.append(org_name)
    if contact.email:
        bits.append(words["email"].format(email=contact.email))
    if contact.phone:
        bits.append(words["phone"].format(phone=contact.phone))
    return ", ".join(bits)


def bullets(title: str, items: list[str]) -> str:
    return "\n".join([title, *(f"• {item}" for item in items)])


DECLINE_DE = (
    "Dazu habe ich in meinem Wissen leider keine Antwort. Ich kann Fragen zu regionalen Gremien und "
    "Arbeitsgruppen, Terminen wie dem Regionaldialog, Förderaufrufen und Ansprechpartnern beantworten"
)
DECLINE_EN = (
    "Sorry, my knowledge has no answer to that (keine Antwort in meinem Wissen). I can answer questions "
    "about regional bodies and working groups, events such as the Regionaldialog, funding calls and "
    "contact persons in central Germany"
)


def decline_text(language: str, topics: list[str]) -> str:
    base = DECLINE_EN if language == "en" else DECLINE_DE
    example = (
        (" (e.g. " if language == "en" else " (z. B. ") + ", ".join(topics[:4]) + ")." if topics else "."
    )
    return base + example


FIELD_NAMES: dict[str, dict[str, str]] = {
    "de": {
        "phone": "Eine Telefonnummer",
        "email": "Eine E-Mail-Adresse",
        "amount": "Einen Betrag",
        "count": "Eine Anzahl",
        "date": "Einen Zeitpunkt",
        "deadline": "Eine Frist",
        "place": "Einen Ort",
        "members": "Die Mitglieder",
        "chair": "Den Vorsitz",
        "deputy": "Eine Stellvertretung",
        "contact": "Eine Ansprechperson",
        "person": "Einen Namen",
        "topic": "Ein Thema",
        "": "Diese Angabe",
    },
    "en": {
        "phone": "a phone number",
        "email": "an email address",
        "amount": "an amount",
        "count": "a number",
        "date": "a date",
        "deadline": "a deadline",
        "place": "a place",
        "members": "the members",
        "chair": "the chair",
        "deputy": "a deputy chair",
        "contact": "a contact person",
        "person": "a name",
        "topic": "a topic",
        "": "this detail",
    },
}
"""The missing fact a near miss names, by language; "" is any fact without its own wording."""


def partial_text(asked: str, subject: str, known: str, general: str | None, language: str = "de") -> str:
    """A near miss: say which fact is missing, then what is known – never the missing fact itself."""
    words = labels(language)
    names = FIELD_NAMES.get(language, FIELD_NAMES["de"])
    lines = [
        words["partial_missing"].format(what=names.get(asked, names[""]), subject=subject),
        words["partial_known"].format(known=known),
    ]
    if general:
        lines.append(words["partial_general"].format(general=general))
    return "\n".join(lines)
