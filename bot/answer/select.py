"""Which sentences and fields of an entry answer the question.

Long passages are never cut: the best sentences are chosen whole (dense and lexical score), with the
sentence before one that starts with a pronoun, and the sentence that carries the asked kind of fact
is kept. Structured fields answer field questions ("Wer sind die Mitglieder …?") directly.
"""

from __future__ import annotations

import re
from datetime import date

from bot.answer.render import (
    as_of,
    bullets,
    contact_line,
    date_text,
    event_when,
    funding_status,
    labels,
    when_phrase,
)
from bot.knowledge import AnyEntry, Contact, Event, FundingCall, Membership, Organisation, Project
from bot.text import fold, stem, tokens

# A text "carries" the asked kind of fact only when it contains a value of that kind.
VALUE_PATTERNS: dict[str, re.Pattern[str]] = {
    "phone": re.compile(r"\+?\d[\d /-]{5,}\d"),
    "email": re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.IGNORECASE),
    "amount": re.compile(r"(€|\beuro\b|\beur\b|\d[\d.,]*\s*(mio|millionen|tsd)\b)", re.IGNORECASE),
    "count": re.compile(
        r"(\d|\b(ein|eine|einen|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|zwanzig|hundert|"
        r"tausend|millionen?)\b)",
        re.IGNORECASE,
    ),
    "date": re.compile(
        r"(\b\d{4}\b|\d{1,2}\.\d{1,2}\.|\d{1,2}(:\d{2})? uhr|januar|februar|märz|april|mai|juni|juli|august|"
        r"september|oktober|november|dezember|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|"
        r"jährlich|monatlich|wöchentlich|täglich|quartal)",
        re.IGNORECASE,
    ),
}
VALUE_PATTERNS["deadline"] = VALUE_PATTERNS["date"]
VALUE_PATTERNS["founded"] = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
VALUE_PATTERNS["duration"] = re.compile(
    r"(\b\d+[- ]?(jahre?n?|jährig\w*|monaten?|wochen?|tagen?|stunden?)\b|\bbis\b.*\d{4}|\bseit\b|\bvon\b.*\bbis\b)",
    re.IGNORECASE,
)
VALUE_PATTERNS["hours"] = re.compile(
    r"(\d{1,2}([:.]\d{2})?\s*(uhr|h)\b|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|werktags)",
    re.IGNORECASE,
)
VALUE_PATTERNS["address"] = re.compile(
    r"(\b\d{5}\b|straße|strasse|\bstr\.|platz\b|\bweg \d|saal\b|rathaus|kloster|schloss|gebäude|kirche|hotel|"
    r"gasthof|gasthaus|zentrum\b|schacht\b|\bschule\b)",
    re.IGNORECASE,
)
VALUE_PATTERNS["chair"] = re.compile(
    r"(vorsitz|\bleite[tnr]|leiterin|leitung|sprecher|geschäftsführ|präsident|\bchef)", re.IGNORECASE
)
VALUE_PATTERNS["contact"] = (
    re.compile(  # whom to ask: an address, a number, a named person (see has_asked_value)
        VALUE_PATTERNS["email"].pattern
        + "|"
        + VALUE_PATTERNS["phone"].pattern
        + r"|\b(?:herr|frau|mr|ms)\.? [A-ZÄÖÜ]",
        re.IGNORECASE,
    )
)
VALUE_PATTERNS["deputy"] = re.compile(r"(stellvertret|\bvertritt|vertreter)", re.IGNORECASE)
VALUE_PATTERNS["legal_form"] = re.compile(
    r"(rechtsform|\be\.\s?v\.|\bgmbh\b|\bverein\b|\bmbh\b|körperschaft|zweckverband|genossenschaft|informell)",
    re.IGNORECASE,
)
_MAGNITUDES = frozenset(
    {"millionen", "million", "mio", "tausend", "tsd", "hundert", "milliarden", "rund", "uber"}
)
_UNITS = frozenset(
    [
        "mal",
        "euro",
        "eur",
        "prozent",
        "jahr",
        "jahre",
        "jahren",
        "jahrlich",
        "uhr",
        "monat",
        "monate",
        "monaten",
        "woche",
        "wochen",
        "tag",
        "tage",
        "tagen",
        "stunde",
        "stunden",
        "minute",
        "minuten",
        "km",
        "kilometer",
        "meter",
    ]
)
# Unit symbols and the nouns they abbreviate, for count questions that name the unit.
UNITS = {
    "km²": "Quadratkilometer", "qkm": "Quadratkilometer", "m²": "Quadratmeter", "qm": "Quadratmeter",
    "km": "Kilometer", "ha": "Hektar", "%": "Prozent", "mw": "Megawatt", "kw": "Kilowatt", "t": "Tonnen",
}  # fmt: skip
_UNIT = re.compile(r"\s?(km²|qkm|m²|qm|km|ha|%|mw|kw|t)(?![\w²])", re.IGNORECASE)
_GLUED = re.compile(r"\b\d+-?([^\W\d_]{3,})")  # a number written together with what it counts
_DATE_OR_YEAR = re.compile(r"\d{1,2}\.\d{1,2}\.\d{2,4}|(19|20)\d\d")
_NUMBER = re.compile(
    r"\b(\d+(?:[.,]\d+)*|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|zwanzig|"
    r"dreißig|hundert|tausend)\b(?![.:]\d)(?!\.\s)",
    re.IGNORECASE,
)

# First words that point back to the sentence before ("Aus ihr heraus …", "Sein Anspruch: …").
_ANAPHORA = frozenset(
    [
        "sie",
        "er",
        "es",
        "ihr",
        "ihre",
        "ihrem",
        "ihren",
        "ihrer",
        "ihres",
        "sein",
        "seine",
        "seinem",
        "seinen",
        "seiner",
        "seines",
        "dort",
        "dabei",
        "daher",
        "dazu",
        "darin",
        "daruber",
        "dafur",
        "damit",
        "deshalb",
        "zudem",
        "ausserdem",
        "ebenfalls",
        "ebenso",
        "hier",
        "dies",
        "diese",
        "dieser",
        "dieses",
        "diesem",
        "diesen",
        "dessen",
        "deren",
        "hierzu",
        "hierfur",
        "davon",
        "daraus",
    ]
)
_WORD = re.compile(r"[^\W_]+")


def _counted(word: str, counted: frozenset[str]) -> bool:
    term = stem(word)
    return len(word) > 2 and any(term.startswith(c) or c.startswith(term) for c in counted)


def counts(text: str, counted: frozenset[str]) -> bool:
    """Whether a number stands right before the counted noun ("22 Studien", "elf Metropolregionen").

    A passage that never names the counted thing cannot be checked by its words; any number counts then
    ("Wie viele Menschen …?" – "3,8 Millionen Einwohner").
    """
    named = any(_counted(w, counted) for w in _WORD.findall(fold(text)))
    if any(_counted(m[1], counted) for m in _GLUED.finditer(text)):
        return True  # "500jährige Geschichte" counts years, "10-köpfige Gruppe" heads
    for m in _NUMBER.finditer(text):
        if _DATE_OR_YEAR.fullmatch(m[1]):
            continue
        if (unit := _UNIT.match(text, m.end())) and _counted(UNITS[unit[1].lower()], counted):
            return True  # "6.500 km²" answers "Wie viele Quadratkilometer …?"
        following = _WORD.findall(text[m.end() : m.end() + 60])[:3]
        if named and any(_counted(w, counted) for w in following):
            return True
        things = [w for w in following if fold(w) not in _MAGNITUDES][:1]
        if not named and things and things[0][:1].isupper() and fold(things[0]) not in _UNITS:
            return True  # "3,8 Millionen Einwohner", not "60.000 €" or "3 Mal"
    return False


def carries(field: str | None, text: str, counted: frozenset[str] = frozenset()) -> bool:
    """Whether `text` holds a value of the asked kind (phone, e-mail, amount, count of what, date …)."""
    if field == "count" and counted:
        return counts(text, counted)
    pattern = VALUE_PATTERNS.get(field or "")
    return pattern is None or bool(pattern.search(text))


def points_back(sentence: str) -> bool:
    """A sentence whose first words refer to the one before cannot stand alone."""
    return any(w in _ANAPHORA for w in _WORD.findall(fold(sentence))[:2])


def lexical_scores(
    sentences: list[str], weights: dict[str, float], vocabulary: frozenset[str], title: str = ""
) -> list[float]:
    """Idf-weighted share of the question's specific terms in each sentence; title terms only name the entry."""
    topic = set(tokens(title, vocabulary))
    specific = {t: w for t, w in weights.items() if t not in topic}
    total = sum(specific.values())
    if not total:
        return [0.0] * len(sentences)
    return [sum(w for t, w in specific.items() if t in set(tokens(s, vocabulary))) / total for s in sentences]


def choose_sentences(
    sentences: list[str],
    scores: list[float],
    budget: int,
    field: str | None = None,
    counted: frozenset[str] = frozenset(),
) -> list[int]:
    """Indexes of the sentences to show, in text order: the best one with what it needs, then the next
    best that still fit. The best sentence carrying the asked kind of value goes first."""
    if not sentences:
        return []
    order = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    if field in VALUE_PATTERNS or field == "count":
        carrying = [i for i in order if carries(field, sentences[i], counted)]
        if carrying:
            order.remove(carrying[0])
            order.insert(0, carrying[0])
    keep: set[int] = set()
    used = 0
    for i in order:
        need = [j for j in ([i - 1, i] if i > 0 and points_back(sentences[i]) else [i]) if j not in keep]
        cost = sum(len(sentences[j]) + 1 for j in need)
        if keep and used + cost > budget:
            continue
        keep.update(need)
        used += cost
    return sorted(keep)


def passage(sentences: list[str], keep: list[int]) -> str:
    return " ".join(sentences[i] for i in keep)


def _people(refs: list[str], by_id: dict[str, AnyEntry], language: str = "de") -> list[str]:
    return [contact_line(c, by_id, language) for r in refs if isinstance(c := by_id.get(r), Contact)]


def field_text(
    entry: AnyEntry, field: str | None, by_id: dict[str, AnyEntry], today: date, language: str = "de"
) -> str | None:
    """The answer a structured field of `entry` gives to a question for `field`, if the entry has it.

    Labels follow `language`; the values (names, members, topics) stay as the knowledge has them."""
    words = labels(language)
    name = getattr(entry, "name", None) or entry.title
    if isinstance(entry, Organisation):
        if field in ("chair", "deputy"):
            ref = entry.chair if field == "chair" else entry.deputy
            people = _people([ref] if ref else [], by_id, language)
            if people:
                other = _people([entry.deputy] if field == "chair" and entry.deputy else [], by_id, language)
                return "\n".join(
                    [f"{words[field]} ({name}): {people[0]}", *(f"{words['deputy']}: {p}" for p in other)]
                )
        if field == "members" and entry.members:
            return words["members"].format(name=name, members=", ".join(entry.members))
        if field == "tasks" and entry.tasks:
            return bullets(words["tasks"].format(name=name), entry.tasks)
        if field == "focus_areas" and entry.focus_areas:
            return bullets(words["focus_areas"].format(name=name), entry.focus_areas)
        if field in ("date", "founded") and entry.founded:
            return words["founded"].format(
                name=name, date=date_text(entry.founded, language), when=when_phrase(entry.founded, language)
            )
        if field == "legal_form" and entry.legal_form:
            return words["legal_form"].format(name=name, form=entry.legal_form)
    if isinstance(entry, Contact):
        if field == "email" and entry.email:
            return words["email_of"].format(person=entry.person, email=entry.email)
        if field == "phone" and entry.phone:
            return words["phone_of"].format(person=entry.person, phone=entry.phone)
        if field == "contact":
            return contact_line(entry, by_id, language)
    if isinstance(entry, FundingCall):
        if field in ("deadline", "date") and (status := funding_status(entry, today, language)):
            return f"{entry.programme}: " + words["status_as_of"].format(
                status=status, as_of=as_of(today, language)
            )
        if field == "amount" and entry.amount:
            return f"{entry.programme}: {entry.amount}"
        if field == "topic" and entry.topics:
            return words["topics"].format(name=entry.programme, topics=", ".join(entry.topics))
    if isinstance(entry, Membership) and field == "amount" and entry.annual_amount_eur is not None:
        amount = f"{entry.annual_amount_eur:,.0f}".replace(",", words["thousands"])
        note = f" ({entry.amount_note})" if entry.amount_note else ""
        return words["per_year"].format(member=entry.member, amount=amount, note=note)
    if field == "contact":
        refs = list(getattr(entry, "contacts", []))
        people = _people(refs, by_id, language)
        if not people and isinstance(entry, Organisation | Project):
            chair = [entry.chair] if isinstance(entry, Organisation) and entry.chair else []
            people = _people(chair, by_id, language)
        if people:
            if len(people) > 1:
                return bullets(words["contact_people"], people)
            return words["contact_person"].format(person=people[0])
    return None


def always(
    entry: AnyEntry, shown: str, by_id: dict[str, AnyEntry], today: date, language: str = "de"
) -> list[str]:
    """What an answer of this type always says: a call's deadline status and advisers, an event's date and place.

    A fact already in `shown` (in the knowledge's German or in the asker's language) is not repeated."""
    words = labels(language)
    lines: list[str] = []
    if isinstance(entry, FundingCall):
        if status := funding_status(entry, today, language):
            lines.append(words["status_as_of"].format(status=status, as_of=as_of(today, language)))
        people = [p for p in _people(entry.contacts, by_id, language) if p.split(",")[0] not in shown]
        if people:
            lines.append(words["advisers"] + "; ".join(people[:2]))
    elif isinstance(entry, Event):
        facts: list[str] = []
        if entry.date and not any(d in shown for d in (entry.date.german(), date_text(entry.date, language))):
            when, day = event_when(entry, language), date_text(entry.date, language)
            facts.append(words["event_date"].format(when=when, date=day))
        if entry.place and entry.place not in shown:
            facts.append(words["place"].format(place=entry.place))
        if entry.status == "geplant" and entry.date and entry.date.latest() < today:
            facts.append(words["was_announced"].format(date=date_text(entry.date, language)))
        if line := ", ".join(facts):
            lines.append(line)
    elif isinstance(entry, Contact) and entry.email and entry.email not in shown:
        lines.append(words["email"].format(email=entry.email))
    return lines


_QUANTIFIERS = frozenset({
    "zwei", "drei", "vier", "funf", "sechs", "sieben", "acht", "neun", "zehn", "elf", "zwolf", "zahlreiche",
    "zahlreichen", "viele", "vielen", "mehrere", "einige", "etliche", "diverse", "verschiedene", "unterschiedliche",
})  # fmt: skip


def only_counted(text: str, head: str) -> bool:
    """Whether `text` mentions the things asked for ("Welche … Welterbestätten?") only as a count: "sieben
    UNESCO-Welterbestätten" says how many, not which. A count followed by a colon or bracket names them."""
    if not head:
        return False
    words = text.split()
    seen = named = 0
    for i, word in enumerate(words):
        last = fold(word.split("-")[-1]).strip(".,;:!?()„“\"'")
        if not last.startswith(head):
            continue
        seen += 1
        before = fold(words[i - 1]).strip(".,;:!?()„“\"'") if i else ""
        counted = (before.isdigit() or before in _QUANTIFIERS) and not word.endswith((":", "("))
        named += not counted
    return seen > 0 and named == 0


GENERIC_MEMBER_WORDS = frozenset(
    {"stadt", "landkreis", "kreis", "gmbh", "ag", "ev", "verein", "mbh", "der", "die", "das", "fur", "und"}
)


def named_member(question_stems: set[str], members: list[str]) -> str | None:
    """The member a yes/no question names ("Ist die *envia* in der Projektgruppe?"): one whose specific words
    (not "Stadt", "GmbH" …) the question all contains; None when it names none of them."""
    for member in members:
        specific = set(tokens(member)) - GENERIC_MEMBER_WORDS
        if specific and specific <= question_stems:
            return member
    for (
        member
    ) in members:  # a short form: the first specific word ("envia" for "envia Mitteldeutsche Energie AG")
        first = next((t for t in tokens(member) if t not in GENERIC_MEMBER_WORDS), None)
        if first and len(first) > 3 and first in question_stems:
            return member
    return None
