"""What the dialogue layer says, channel-neutral: text, a source note, buttons; and its fixed texts (de/en).

A channel turns a `Reply` into its own form: Telegram HTML with inline keyboards, or plain terminal text with
numbered choices. Button data is what comes back when a button is pressed ("more:12", "pick:<entry>",
"step:contact:<entry>", "menu:termine", "fb:12:+"); a URL button opens its address instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.answer import Answer

MAX_DATA = 64  # Telegram's limit for callback data, in bytes


@dataclass(frozen=True)
class Button:
    label: str
    data: str = ""
    url: str | None = None


@dataclass
class Reply:
    text: str
    title: str | None = None
    """A heading (bold in Telegram)."""
    answer: Answer | None = None
    """The engine answer shown, for its source note and links."""
    buttons: list[list[Button]] = field(default_factory=list)
    prompt: str | None = None
    """Asks for free text (Telegram: a reply field with this placeholder)."""
    intent: str = ""
    """What the reply is: the answer's intent, "smalltalk" or "command"."""
    document: tuple[str, bytes] | None = None
    """A file to send with the reply: (file name, content), e.g. an .ics calendar entry."""
    token: str | None = None
    """The recorded question's token (its buttons; the store marks it when the answer is never delivered)."""

    def __post_init__(self) -> None:
        if not self.intent:
            self.intent = self.answer.intent if self.answer else "command"

    @property
    def found(self) -> bool:
        """Whether the reply states a fact from the knowledge."""
        return bool(self.answer and self.answer.found)

    @property
    def note(self) -> str:
        return self.answer.source_note if self.answer else ""

    def plain(self) -> str:
        """The reply as plain text (terminal, logs)."""
        parts = [f"{self.title}\n{self.text}" if self.title else self.text]
        if self.note:
            parts.append(self.note)
        return "\n\n".join(p for p in parts if p)


LABELS: dict[str, dict[str, str]] = {
    "de": {
        "more": "Weitere Treffer",
        "contact": "👤 Ansprechperson",
        "deadline": "⏰ Frist",
        "next": "📅 Nächster Termin",
        "source": "🔗 Quelle öffnen",
        "calendar": "📅 Kalender",
        "remind": "🔔 Erinnern",
        "termine": "📅 Termine",
        "foerderung": "💶 Förderung",
        "kontakt": "👥 Kontakte",
        "hilfe": "❓ Hilfe",
    },
    "en": {
        "more": "More results",
        "contact": "👤 Contact person",
        "deadline": "⏰ Deadline",
        "next": "📅 Next date",
        "source": "🔗 Open source",
        "calendar": "📅 Calendar",
        "remind": "🔔 Remind me",
        "termine": "📅 Events",
        "foerderung": "💶 Funding",
        "kontakt": "👥 Contacts",
        "hilfe": "❓ Help",
    },
}

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "too_long": "Ihre Nachricht ist mit {n} Zeichen leider zu lang. Bitte stellen Sie Ihre Frage kürzer "
        "(höchstens {max} Zeichen) – am besten eine Frage pro Nachricht.",
        "empty": "Wie kann ich helfen? Schreiben Sie Ihre Frage einfach als Nachricht, z. B. „{example}“.",
        "ask_topic": "Zu welchem Thema suchen Sie eine Ansprechperson? Antworten Sie mit dem Thema, z. B. „{example}“.",
        "thanks": "Danke für Ihre Rückmeldung!",
        "expired": "Diese Schaltfläche ist abgelaufen. Bitte stellen Sie die Frage erneut.",
        "no_more": "Keine weiteren Treffer.",
        "no_next": "Zurzeit ist kein kommender Termin bekannt.",
        "which": "Welchen meinen Sie: {titles}? Bitte wählen Sie:",
        "calendar": "Kalendereintrag für „{title}“ ({file}).",
        "no_calendar": "Für diesen Eintrag ist kein genauer Tag bekannt.",
        "welcome": "Willkommen beim Regiobot!",
        "help_title": "So können Sie mich fragen",
    },
    "en": {
        "too_long": "Your message has {n} characters, which is too long. Please keep your question shorter "
        "(at most {max} characters) – ideally one question per message.",
        "empty": "How can I help? Just write your question as a message, e.g. “{example}”.",
        "ask_topic": "Which topic do you need a contact person for? Reply with the topic, e.g. “{example}”.",
        "thanks": "Thank you for your feedback!",
        "expired": "This button has expired. Please ask your question again.",
        "no_more": "No further results.",
        "no_next": "No upcoming date is known at the moment.",
        "which": "Which one do you mean: {titles}? Please choose:",
        "calendar": "Calendar entry for “{title}” ({file}).",
        "no_calendar": "No exact day is known for this entry.",
        "welcome": "Welcome to Regiobot!",
        "help_title": "How to ask me",
    },
}


def label(key: str, language: str = "de") -> str:
    return LABELS.get(language, LABELS["de"])[key]


def text(key: str, language: str = "de", **values: object) -> str:
    return TEXTS.get(language, TEXTS["de"])[key].format(**values)


def menu(language: str = "de") -> list[list[Button]]:
    """The main buttons: under the welcome, small talk and every refusal, so no reply is a dead end."""
    return [
        [
            Button(label("termine", language), "menu:termine"),
            Button(label("foerderung", language), "menu:foerderung"),
        ],
        [Button(label("kontakt", language), "menu:kontakt"), Button(label("hilfe", language), "menu:hilfe")],
    ]


def fits(data: str) -> bool:
    """Callback data must fit Telegram's 64 bytes; a longer one is left out rather than cut."""
    return len(data.encode("utf-8")) <= MAX_DATA
