"""German text: the `Answer` value every channel receives, and how entries, dates and people are written.

Dates are DD.MM.YYYY (partial dates as the source gives them, e.g. "Ende April 2024"); every answer
that states a fact names its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.knowledge import AnyEntry, Contact, Event, FundingCall, Organisation
from bot.text import tokens


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


def source_note(entries: list[AnyEntry]) -> str:
    seen: list[str] = []
    for entry in entries:
        src = entry.source
        label = src.document + (f" (Stand {src.as_of.german()})" if src.as_of else "")
        if label not in seen:
            seen.append(label)
    return ("Quelle: " if len(seen) == 1 else "Quellen: ") + "; ".join(seen)


def funding_status(call: FundingCall, today: date) -> str:
    if call.opens and call.closes:
        period = f"vom {call.opens:%d.%m.%Y} bis {call.closes:%d.%m.%Y}"
    elif call.closes:
        period = f"bis {call.closes:%d.%m.%Y}"
    elif call.opens:
        period = f"ab {call.opens:%d.%m.%Y}"
    else:
        return ""
    if call.closes and call.closes < today:
        return f"Abgelaufen: Der Aufruf lief {period}."
    if call.opens and call.opens > today:
        return f"Noch nicht geöffnet: Der Aufruf läuft {period}."
    if call.closes:
        return f"Offen: Der Aufruf läuft {period}."
    return f"Der Aufruf läuft {period}; ein Ende ist nicht bekannt."


def event_when(event: Event) -> str:
    if not event.date:
        return ""
    return f"am {event.date.german()}" if event.date.exact else event.date.german()


def event_line(event: Event) -> str:
    name = (
        f"{event.number}. {event.series}" if event.number and event.series else (event.series or event.title)
    )
    parts = [f"{name} {event_when(event)}".strip()]
    if event.place:
        parts.append(f"Ort: {event.place}")
    if event.topic:
        parts.append(f"Thema: {event.topic}")
    if event.status == "geplant":
        parts.append("angekündigt")
    elif event.status == "abgesagt":
        parts.append("abgesagt")
    return ", ".join(parts)


def contact_line(contact: Contact, by_id: dict[str, AnyEntry]) -> str:
    org = by_id.get(contact.organisation or "")
    org_name = org.name if isinstance(org, Organisation) else (contact.organisation_name or "")
    bits = [contact.person]
    if contact.role:
        bits.append(contact.role)
    if org_name and not set(tokens(org_name)) <= set(tokens(contact.role or "")):
        bits.append(org_name)
    line = ", ".join(bits)
    if contact.email:
        line += f", E-Mail: {contact.email}"
    if contact.phone:
        line += f", Tel.: {contact.phone}"
    return line


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


FIELD_NAMES = {
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
}


def partial_text(asked: str, subject: str, known: str, general: str | None) -> str:
    """A near miss: say which fact is missing, then what is known – never the missing fact itself."""
    lines = [
        f"{FIELD_NAMES.get(asked, 'Diese Angabe')} zu „{subject}“ nennen meine Quellen nicht.",
        f"Bekannt ist: {known}",
    ]
    if general:
        lines.append(f"Allgemeine Anfragen: {general}")
    return "\n".join(lines)
