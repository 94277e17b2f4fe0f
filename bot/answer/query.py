"""Understand a question once: the `Query` every later step reads instead of re-parsing the text.

Cues are whole words (or word prefixes that must start a word), so "budget" does not fire inside
"Regionalbudget" and "erst" in "in erster Linie" is no ordinal. What a query asks for is a
preference the retrieval can overrule, never a route around the answerability decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.places import places_in
from bot.synonyms import Synonyms
from bot.text import fold, tokens

MAX_QUERY_CHARS = 2000  # longer input is cut before encoding; the channels ask users to be brief long before

Cue = tuple[str, ...]
"""A run of consecutive words; each element matches a word starting with it, or exactly when it starts with "="."""


def _cues(*items: str) -> tuple[Cue, ...]:
    return tuple(tuple(item.split()) for item in items)


# The fact a question asks for, in order of precedence ("stellvertretender Vorsitz" is the deputy, "bis wann" a deadline).
FIELD_CUES: dict[str, tuple[Cue, ...]] = {
    "email": _cues("email", "=mail", "mailadress", "=e =mail", "=e =mailadresse"),
    "phone": _cues("telefon", "=tel", "rufnummer", "handynummer", "=phone", "=anrufen", "=telephone"),
    "count": _cues("=wie =viele", "=how =many", "=anzahl", "=number =of", "wieviel"),
    "deputy": _cues(
        "stellvertret", "=vertritt", "=vertreter", "=vertreterin", "=deputy", "=vice", "vize", "=verhindert",
        "=abwesend", "=in =vertretung", "=absent", "=unavailable",
    ),
    "members": _cues(
        "mitglied", "=member", "=members", "=beteiligt", "=beteiligten", "angehor", "=gehoren", "=take =part",
        "=vertreten",  # "Welche Städte sind in der PG vertreten?": represented, not deputised
        "=participate", "=participates", "=participants", "=involved",
    ),
    "chair": _cues(
        "vorsitz", "=leitet", "=leiter", "=leiterin", "=leitung", "=chair", "=chairs", "=chaired", "=chairing",
        "=chairman", "=chairperson", "=chef", "=chefin", "=head", "=heads", "=leads", "geschaftsfuhr",
        "geschaeftsfuehr", "=director", "=managing", "=vorstand",
    ),
    "legal_form": _cues("rechtsform", "=legal =form", "=registered =association"),
    "founded": _cues(
        "gegrundet", "gegruendet", "=founded", "=seit =welchem =jahr", "=established =in", "=established =when",
    ),  # "established" alone is often an adjective ("established clusters"): see _ESTABLISHED
    "hours": _cues(
        "offnungszeit", "oeffnungszeit", "=opening =hours", "uhrzeit", "fahrplan", "fahrzeit", "abfahrtszeit",
        "=zu =welchen =zeiten", "=um =wie =viel =uhr", "=what =time",
    ),
    "address": _cues("adress", "anschrift", "=address", "=gebaude", "=which =building"),
    "duration": _cues("=wie =lange", "=how =long", "=dauer", "=dauert", "laufzeit"),
    "focus_areas": _cues("schwerpunkt", "arbeitsschwerpunkt", "=focus", "=priorities", "handlungsfeld"),
    "tasks": _cues("aufgabe", "=task", "=tasks", "=duties", "=responsibilities"),
    "contact": _cues(
        "ansprechpart", "ansprechperson", "kontaktperson", "=kontakt", "kontaktier", "=wende", "=wenden",
        "=melden", "=an =wen", "=berat", "=berater", "=beraterin", "=beraten", "=contact", "=advises",
        "=advise", "=ask =whom", "=who =can =i", "zustandig", "zustaendig", "=talk =to", "=speak =to",
        "=get =in =touch", "=wen =spreche", "=wen =kann =ich =fragen",
    ),
    "deadline": _cues("frist", "antragsfrist", "einsendeschluss", "antragsschluss", "=deadline", "=bis =wann", "=until =when"),
    "amount": _cues(
        "=wie =viel", "=wie =hoch", "=betrag", "=kosten", "=kostet", "=euro", "=budget", "=how =much",
        "=amount", "=cost", "=costs", "beitrag", "=zahlt", "=bezahlt",
    ),
    "place": _cues("=wo", "=where", "=ort", "veranstaltungsort", "=wohin", "=location", "=venue"),
    "date": _cues(
        "=wann", "=when", "=datum", "=date", "=seit =wann", "=an =welchem =tag", "=welcher =tag", "=which =day",
        "=what =day", "=on =what =day", "=in =welchem =jahr", "=which =year", "=what =year",
    ),
    "topic": _cues("=thema", "=themen", "=worum", "=topic", "=topics", "=woruber", "=about =what"),
}  # fmt: skip

TIME_CUES: dict[str, tuple[Cue, ...]] = {
    "next": _cues(
        "nachst", "naechst", "kommend", "bevorstehend", "anstehend", "=demnachst", "=demnaechst",
        "=next", "=upcoming", "=soon", "=bald",
    ),
    "current": _cues(
        "aktuell", "=derzeit", "=zurzeit", "=momentan", "=gerade", "=jetzt", "=offen", "=offene",
        "=offenen", "laufend", "=lauft", "=laeuft", "=open", "=currently", "=now", "=current", "=still",
    ),
    "past": _cues(
        "=letzte", "=letzten", "=letzter", "=letztes", "=zuletzt", "vergangen", "=bisher", "bisherig",
        "=last", "=previous", "=past", "=most =recent", "=recent", "=latest", "=neueste", "=neuesten", "=jungste", "=jungsten",
    ),
}  # fmt: skip

# What a list question is about: the nouns of a class of entries.
LISTING_CUES: dict[str, tuple[Cue, ...]] = {
    "events": _cues(
        "termin", "veranstaltung", "=event", "=events", "=meetings", "=dates", "=treffen", "sitzungen",
    ),
    "calls": _cues(
        "forderaufruf", "foerderaufruf", "forderung", "foerderung", "forderprogramm", "foerderprogramm",
        "=aufruf", "=aufrufe", "=funding", "=grants", "=calls", "=grant", "fordermittel", "foerdermittel",
    ),
}  # fmt: skip

SERIES_NOUNS = (
    "regionaldialog", "dialog", "sitzung", "treffen", "veranstaltung", "termin", "konferenz", "tagung",
    "runde", "workshop", "meeting", "event", "ag", "edition", "ausgabe", "auflage",
)  # fmt: skip

_ORDINAL_WORDS = {
    "erst": 1, "zweit": 2, "dritt": 3, "viert": 4, "funft": 5, "fuenft": 5, "sechst": 6, "siebt": 7,
    "siebent": 7, "acht": 8, "neunt": 9, "zehnt": 10, "elft": 11, "zwolft": 12, "zwoelft": 12,
}  # fmt: skip
_ORDINAL_EN = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
}  # fmt: skip
_ORDINAL = re.compile(
    r"\b(?:(\d{1,2})(?:\.|st|nd|rd|th)(?=\s)|("
    + "|".join(_ORDINAL_WORDS)
    + r")(?:e|en|er|es|em)\b|("
    + "|".join(_ORDINAL_EN)
    + r")\b)"
)
_NUMBER_AFTER = re.compile(r"^\s*(?:nr\.?|nummer|no\.?|#)?\s*(\d{1,2})\b")
_WORD = re.compile(r"[^\W_]+")
_ANSTEHEN = re.compile(r"\b(steht|stehen)\b.*\ban\b\W*$")
_MITMACHEN = re.compile(  # "Wer macht bei der PG alles mit?", "Wer gehört alles zur Gruppe?": its members
    r"\b(?:wer|who|welche\w*)\b.*(?:\b(?:macht|machen|wirkt|wirken)\b.*\bmit\b\s*(?:[,;:?!.]|$)|"
    r"\bgehor(?:t|en)\b.*\bzu[rm]?\b|\bmitmach|\bmitwirk)"
    r"|^\W*(?:ist|sind)\b.*\bdabei\W*$"  # "Ist die Stadt Zwickau in der Projektgruppe dabei?"
)
_WHY = re.compile(r"\W*(?:\w+\W+){0,2}?(?:warum|wozu|weshalb|wieso|weswegen|why)\b")
_SETTLED = re.compile(
    r"\b(?:steht|stehen|stand|standen)\b(?:\s+(?:schon|bereits|denn|eigentlich))*\s+fest\b|\bfeststeh\w*"
)


def _settled(folded: str, words: tuple[str, ...]) -> set[int]:
    """Indexes of the words of "steht (schon) fest" / "feststeht": whether something is settled says nothing
    about the topic ("Steht schon fest, wann der nächste Regionaldialog ist?"); "das Fest" stays a word."""
    found: set[int] = set()
    for m in _SETTLED.finditer(folded):
        start = len(_WORD.findall(folded[: m.start()]))
        found |= set(range(start, start + len(_WORD.findall(m[0]))))
    return found


_PERSON_NAME = re.compile(  # "Wie heißt die Regionalmanagerin?": the name of a person in a role
    r"\b(?:wie\s+heisst|wie\s+heissen|what\s+is\s+the\s+name\s+of)\s+(?:der|die|the)\s+(?:\w+\s+)?"
    r"\w+(?:in|er|ende|ender|rat|or|ent)\b(?!\s*-)"
)
_OPENING = re.compile(r"\bwann\b.*\bhat\b.*\bgeoe?ffnet\b")  # "Wann hat X geöffnet?": opening hours
_ESTABLISHED = re.compile(r"\b(?:was|were|been|be)\b(?:\s+\w+){0,6}\s+established\b")  # passive: founded
_VORSTEHEN = re.compile(  # separable "vorstehen", "vorsitzen": to chair ("Wer sitzt dem Forum vor, das …?")
    r"\b(steht|stehen|stand|sitzt|sitzen|sass)\b.*\bvor\b\s*(?:[,;:?!.]|$)"
)

# Verbs and fillers of list questions ("Welche Termine stehen an?", "Gibt es …?"): they say nothing about the topic.
FILLER = frozenset({
    "gibt", "geben", "gib", "stehen", "steht", "an", "finden", "findet", "statt", "stattfinden", "laufen",
    "lauft", "laeuft", "geplant", "planen", "kommen", "kommt", "bekannt", "sagen", "sag", "nennen", "nenne",
    "zeigen", "zeig", "alle", "mir", "uns", "sich", "welche", "welcher", "welches", "es", "kann", "konnen",
    "koennen", "ich", "wir", "man", "moment", "mal", "denn", "noch", "schon", "bitte", "jemand", "weiterhelfen",
    "helfen", "dafur", "dafuer", "dazu", "eigentlich", "genau", "eventuell", "vielleicht",
    # English function words the German stopword lists miss
    "list", "show", "tell", "there", "any", "some", "all", "known", "planned", "scheduled", "happening",
    "coming", "up", "about", "most", "take", "takes", "took", "place", "held", "hold", "happen", "happens",
    "happened", "going", "get", "got", "know", "want", "like", "also", "again", "yet", "just", "anything",
    "something", "please", "currently",
})  # fmt: skip

# A clause in which the asker says where they are from or live names no place the question is about.
_ORIGIN = re.compile(
    r"\b(ich|wir|i|we)\b.*\b(aus|wohne|wohnen|lebe|leben|komme|kommen|sitze|sitzen|ansassig|ansaessig|from|live|"
    r"based|located)\b"
)
_CLAUSE = re.compile(r"[.?!;,]+")


def asked_places(text: str) -> frozenset[str]:
    """Places the question is about; "Ich bin Bürger aus Eisleben" only says who asks."""
    found: set[str] = set()
    for clause in _CLAUSE.split(text):
        if not _ORIGIN.search(fold(clause)):
            found |= places_in(clause)
    return frozenset(found)


_EN = frozenset(
    [
        "the",
        "what",
        "who",
        "when",
        "where",
        "which",
        "is",
        "are",
        "does",
        "do",
        "how",
        "of",
        "for",
        "and",
        "can",
        "i",
        "to",
        "a",
        "an",
        "about",
        "there",
        "any",
        "was",
        "were",
        "will",
        "whom",
        "his",
        "her",
        "their",
        "next",
        "open",
    ]
)
_DE = frozenset(
    [
        "der",
        "die",
        "das",
        "wer",
        "wie",
        "was",
        "wann",
        "wo",
        "ist",
        "sind",
        "gibt",
        "es",
        "und",
        "ich",
        "den",
        "dem",
        "welche",
        "welcher",
        "welches",
        "fur",
        "zum",
        "zur",
        "mit",
        "von",
        "bei",
        "im",
        "ein",
        "eine",
        "einen",
        "kann",
        "war",
        "waren",
        "wird",
    ]
)


@dataclass(frozen=True)
class Query:
    """One question, understood: what the later steps need, computed once."""

    text: str
    folded: str
    words: tuple[str, ...]
    language: Literal["de", "en"]
    field: str | None
    time: Literal["next", "current", "past"] | None
    listing: Literal["events", "calls"] | None
    ordinal: int | None
    series: str | None
    places: frozenset[str]
    content: tuple[str, ...]
    """Stems of the words that are not cue words: what the question is about."""
    stems: tuple[str, ...] = ()
    """All stems of the question (with compound parts)."""
    counted: frozenset[str] = frozenset()
    """Stems of the noun a count question counts ("Wie viele *Mitglieder* …?") and of its synonyms."""
    expanded: tuple[str, ...] = ()
    """Stems the staff's synonym list adds ("AG" → "Arbeitsgruppe")."""
    dates: tuple[Day, ...] = ()
    """Dates the question names ("Regionaldialog im Januar 2022")."""
    also: tuple[str, ...] = ()
    """Further fields asked in clauses of their own ("Wann wurde es gegründet *und wer leitet es*?")."""
    which: str = ""
    """Head stem of the things a "welche …?" question asks to name."""
    several: bool = False
    """The question asks for all of a kind ("die bisherigen Regionaldialoge", "all previous dialogues")."""
    yes_no: bool = False
    """A yes/no question: it starts with its verb ("Ist die envia in der Projektgruppe vertreten?")."""


def _matches(words: tuple[str, ...], cue: Cue, start: int) -> bool:
    if start + len(cue) > len(words):
        return False
    for word, part in zip(words[start:], cue, strict=False):
        if part.startswith("="):
            if word != part[1:]:
                return False
        elif not word.startswith(part):
            return False
    return True


@dataclass(frozen=True)
class CueIndex:
    """Cues by their first part, so a question is matched in one pass over its words."""

    exact: dict[str, list[tuple[str, Cue]]]
    prefix: dict[str, list[tuple[str, Cue]]]
    longest: int


def compile_cues(*tables: dict[str, tuple[Cue, ...]]) -> CueIndex:
    exact: dict[str, list[tuple[str, Cue]]] = {}
    prefix: dict[str, list[tuple[str, Cue]]] = {}
    for table in tables:
        for key, cues in table.items():
            for cue in cues:
                head = cue[0]
                target = exact if head.startswith("=") else prefix
                target.setdefault(head.lstrip("="), []).append((key, cue))
    return CueIndex(exact, prefix, max((len(p) for p in prefix), default=0))


# Value kinds a compound's last part can name: "Mitglieds|beitrag" asks for an amount, not for members.
HEAD_KEYS = frozenset({"amount", "phone", "email", "deadline", "address", "hours", "duration"})
DERIVED = frozenset({"schaft", "schaften"})  # endings that make another noun of a cue word
MIN_HEAD = 4  # letters a compound's last part needs to count as a head ("beitrag", "nummer", not "er")


def _single_word(index: CueIndex, part: str) -> list[tuple[str, Cue]]:
    found = [(k, c) for k, c in index.exact.get(part, []) if len(c) == 1]
    for n in range(1, min(len(part), index.longest) + 1):
        found += [(k, c) for k, c in index.prefix.get(part[:n], []) if len(c) == 1]
    return found


def compound_head(word: str, start: int, index: CueIndex) -> str | None:
    """The value kind the last part of a compound names, looked for from `start` on ("mitgliedsbeitrag" → amount)."""
    for k in range(start, len(word) - MIN_HEAD + 1):
        keys = {key for key, _ in _single_word(index, word[k:]) if key in HEAD_KEYS}
        if keys:
            return min(keys)
    return None


# Word runs that look like a cue but are idioms: "vor Ort" (on site) asks for no place.
IDIOMS: dict[str, tuple[Cue, ...]] = {"idiom": _cues("=vor =ort", "=on =site", "=in =erster =linie")}


def cue_hits(words: tuple[str, ...], index: CueIndex) -> dict[str, set[int]]:
    """For each cue key found among `words`, the indexes of the words its cues cover. A one-word prefix cue
    that starts a compound yields to a value kind its head names ("Mitgliedsbeitrag" is a Beitrag)."""
    hits: dict[str, set[int]] = {}
    for i, word in enumerate(words):
        candidates = list(index.exact.get(word, []))
        for n in range(1, min(len(word), index.longest) + 1):
            candidates += index.prefix.get(word[:n], [])
        for key, cue in candidates:
            if not _matches(words, cue, i):
                continue
            if len(cue) == 1 and word[len(cue[0]) :] in DERIVED:
                continue  # "Mitgliedschaft" is a membership, not the members
            if len(cue) == 1 and len(word) - len(cue[0]) >= MIN_HEAD and key not in HEAD_KEYS:
                key = compound_head(word, len(cue[0]), index) or key
            hits.setdefault(key, set()).update(range(i, i + len(cue)))
    idiom = hits.pop("idiom", set())
    return {key: covered for key, covered in hits.items() if not covered <= idiom} if idiom else hits


def first_cue(hits: dict[str, set[int]], table: dict[str, tuple[Cue, ...]]) -> str | None:
    """The first key of `table` (in its order of precedence) that was found."""
    return next((key for key in table if key in hits), None)


_ALL_CUES = compile_cues(FIELD_CUES, TIME_CUES, LISTING_CUES, IDIOMS)


def language_of(words: tuple[str, ...]) -> Literal["de", "en"]:
    en = sum(w in _EN for w in words)
    de = sum(w in _DE for w in words)
    return "en" if en >= 2 and en > de else "de"


def time_of(folded: str, hits: dict[str, set[int]]) -> Literal["next", "current", "past"] | None:
    if _ANSTEHEN.search(folded):  # "Welche Termine stehen an?"
        return "next"
    return first_cue(hits, TIME_CUES)  # type: ignore[return-value]


def _is_series_word(word: str, series_words: frozenset[str]) -> bool:
    return word in series_words or any(word.startswith(noun) for noun in SERIES_NOUNS)


def ordinal_of(folded: str, series_words: frozenset[str] = frozenset()) -> int | None:
    """The number in "der siebte Regionaldialog", "7. Regionaldialog", "Regionaldialog Nr. 7" – only next to a series noun."""
    for m in _ORDINAL.finditer(folded):
        following = _WORD.findall(folded[m.end() :])[:2]
        if any(_is_series_word(w, series_words) for w in following):
            if m[1]:
                return int(m[1])
            return _ORDINAL_WORDS[m[2]] if m[2] else _ORDINAL_EN[m[3]]
    for m in _WORD.finditer(folded):
        if _is_series_word(m[0], series_words) and (n := _NUMBER_AFTER.match(folded[m.end() :])):
            return int(n[1])
    for m in _BARE_NUMBER.finditer(folded):  # chat style "thema vom 7 regionaldialog": singular noun only
        noun = m[2].removesuffix("s") if m[2] not in series_words else m[2]
        if (noun in series_words or noun in SERIES_NOUNS) and noun not in _SAME_IN_PLURAL:
            return int(m[1])
    return None


_SAME_IN_PLURAL = frozenset({"treffen"})  # "3 Treffen" may count them
_BARE_NUMBER = re.compile(r"(?<![\d.,])\b(\d{1,2})\s+([^\W\d_]+)")


MONTHS = {
    "januar": 1, "jaenner": 1, "january": 1, "februar": 2, "february": 2, "marz": 3, "maerz": 3, "march": 3,
    "april": 4, "mai": 5, "may": 5, "juni": 6, "june": 6, "juli": 7, "july": 7, "august": 8, "september": 9,
    "oktober": 10, "october": 10, "november": 11, "dezember": 12, "december": 12,
}  # fmt: skip
_FULL_DATE = re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.\s?((?:19|20)\d\d)\b")
_MONTH_YEAR = re.compile(r"\b(" + "|".join(MONTHS) + r")\s+((?:19|20)\d\d)\b")

Day = tuple[int, int, int | None]
"""(year, month, day or None) of a date the question names."""


def dates_of(folded: str) -> tuple[Day, ...]:
    """Dates the question names: "am 13.06.2024", "im Januar 2022" (a month needs its year to count)."""
    found: list[Day] = []
    for m in _FULL_DATE.finditer(folded):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
        if 1 <= month <= 12 and 1 <= day <= 31:
            found.append((year, month, day))
    found += [(int(m[2]), MONTHS[m[1]], None) for m in _MONTH_YEAR.finditer(folded)]
    return tuple(found)


_COUNTED = re.compile(r"\b(?:wie ?viele|anzahl (?:der|an|von)?|how many|number of)\s+([^\W\d_]+)")


_WHICH = re.compile(
    r"\b(?:welche[nmrs]?|which)\s+(?:(?:sind|waren|are|were)\s+(?:die|the)\s+)?(?:(?:\d+|zwei|drei|vier|funf|fuenf|sechs|sieben|acht|neun|zehn|elf|zwolf|"
    r"zwoelf|two|three|four|five|six|seven|eight|nine|ten)\s+)?(?:(?:other|further|more|andere[nmrs]?|"
    r"weitere[nmrs]?)\s+)?([^\W\d_][\w-]*)"
)


def which_of(folded: str) -> str:
    """The head stem of the noun a "welche …?" question asks to name ("Welche sieben UNESCO-Welterbestätten" →
    "welterbestatt"); empty when the question asks no "which"."""
    m = _WHICH.search(folded)
    stems = tokens(m[1].split("-")[-1]) if m else []
    return stems[-1] if stems else ""


def counted_of(folded: str, synonyms: Synonyms | None = None) -> frozenset[str]:
    """Stems of the noun after "wie viele" / "how many" and of its synonyms, if the question counts something."""
    m = _COUNTED.search(folded)
    if not m:
        return frozenset()
    return frozenset(tokens(m[1])) | frozenset(synonyms.expand(m[1]) if synonyms else ())


def field_of(folded: str, hits: dict[str, set[int]]) -> str | None:
    """The asked field: none for a why-question ("Wozu wurde die Gruppe gegründet?" asks a purpose, not a
    date), separable verbs first ("Wer steht dem Forum vor?"), then the cue words."""
    if _WHY.match(folded):
        return None
    if _VORSTEHEN.search(folded):
        return "chair"
    if _MITMACHEN.search(folded):
        return "members"
    if _PERSON_NAME.search(folded):
        return "person"
    if _OPENING.search(folded):
        return "hours"
    if _ESTABLISHED.search(folded):
        return "founded"
    if (m := _WHICH.search(folded)) and (named := _which_field(folded, m.start(1), hits)):
        return named  # "Mit welchem *Betrag* ist Peine beteiligt?": the noun asked for decides
    if _YES_NO.match(folded) and "amount" in hits:  # "Kann man das über ein Budget umsetzen?" asks whether
        hits = {key: covered for key, covered in hits.items() if key != "amount"}
    return first_cue(hits, FIELD_CUES)


_YES_NO = re.compile(
    r"\W*(?:kann|konnen|koennen|hat|haben|gibt|ist|sind|wird|werden|darf|durfen|duerfen|muss|mussen|muessen|"
    r"soll|sollen|lasst|laesst|can|could|does|do|is|are|has|have|will)\b"
)


def _which_field(folded: str, start: int, hits: dict[str, set[int]]) -> str | None:
    """The field whose cue is the noun a "welche …?" asks for, if any."""
    position = len(_WORD.findall(folded[:start]))
    return next((key for key in FIELD_CUES if position in hits.get(key, ())), None)


_CLAUSES = re.compile(r"\b(?:und|and|sowie|plus)\b|[,;]")


def further_fields(folded: str, field: str | None) -> tuple[str, ...]:
    """Fields asked in later clauses: "Wann und wo …?", "… gegründet und wer leitet es?". Within one clause
    only the first cue counts ("Wer ist stellvertretender Vorsitzender?" asks for the deputy alone)."""
    found: list[str] = []
    for clause in _CLAUSES.split(folded):
        words = tuple(_WORD.findall(clause))
        key = field_of(clause, cue_hits(words, _ALL_CUES)) if words else None
        if key and key != field and key not in found:
            found.append(key)
    return tuple(found)


_ASKING = frozenset({
    "wer", "was", "wie", "wo", "woher", "wohin", "welche", "welcher", "welches", "welchen", "welchem", "wen", "wem",
    "wann", "who", "what", "how", "where", "which", "whom", "when",
})  # fmt: skip


def _first_asks_otherwise(folded: str) -> bool:
    """A first question without an asked field, followed by one with a field ("Aus welcher Gruppe ist die PG
    hervorgegangen, und seit wann gab es die?"): the first is the question, the later field comes as `also`."""
    parts = [c for c in _CLAUSES.split(folded) if c.strip()]
    if len(parts) < 2:
        return False
    words = [tuple(_WORD.findall(c)) for c in parts]
    if _ASKING.isdisjoint(words[0][:3]) or field_of(parts[0], cue_hits(words[0], _ALL_CUES)) is not None:
        return False
    return any(  # a later question of its own ("seit wann …"), not a clause of the first ("wenn …")
        not _ASKING.isdisjoint(w[:3]) and field_of(c, cue_hits(w, _ALL_CUES))
        for c, w in zip(parts[1:], words[1:], strict=True)
    )


_SEVERAL = frozenset(
    {"bisherigen", "bisherige", "alle", "allen", "samtliche", "saemtliche", "all", "previous"}
)


def asks_several(words: tuple[str, ...], series_words: frozenset[str]) -> bool:
    """ "Die bisherigen Regionaldialoge", "alle Termine", "previous dialogues": a list, not the latest one.
    A series noun in the plural counts too ("Regionaldialoge", "Regionaldialogen")."""
    plural = any(
        w[:-1] in series_words or w[:-2] in series_words for w in words if w.endswith(("e", "en", "s"))
    )
    return plural or any(w in _SEVERAL for w in words)


def series_of(stems: set[str], series: Iterable[tuple[frozenset[str], str]]) -> str | None:
    """The event series the question names, the most specific one when several fit."""
    named = [(len(terms), name) for terms, name in series if terms and terms <= stems]
    return max(named)[1] if named else None


def understand(
    question: str,
    series: Iterable[tuple[frozenset[str], str]] = (),
    vocabulary: frozenset[str] | None = None,
    synonyms: Synonyms | None = None,
) -> Query:
    """Parse a question; `series` are (stems, name) of the knowledge's event series, `synonyms` the staff's list."""
    text = " ".join(question.split())[:MAX_QUERY_CHARS]
    folded = fold(text)
    words = tuple(_WORD.findall(folded))
    series = list(series)
    stems = tuple(tokens(text, vocabulary))
    series_words = frozenset(w for terms, _ in series for w in terms)
    hits = cue_hits(words, _ALL_CUES)
    cued = set().union(*hits.values())
    cued |= _settled(folded, words)
    rest = " ".join(w for i, w in enumerate(words) if i not in cued and w not in FILLER)
    content = tuple(tokens(rest, vocabulary))
    field = None if _first_asks_otherwise(folded) else field_of(folded, hits)
    expanded = tuple(synonyms.expand(text)) if synonyms else ()
    return Query(
        text=text,
        folded=folded,
        words=words,
        language=language_of(words),
        field=field,
        time=time_of(folded, hits),
        listing=first_cue(hits, LISTING_CUES),  # type: ignore[arg-type]
        ordinal=ordinal_of(folded, series_words),
        series=series_of(set(stems) | set(expanded), series),
        places=asked_places(text),
        content=content,
        stems=stems,
        counted=counted_of(folded, synonyms),
        expanded=expanded,
        dates=dates_of(folded),
        also=further_fields(folded, field),
        several=asks_several(words, series_words),
        which=which_of(folded),
        yes_no=bool(_YES_NO.match(folded)),
    )
