"""The answer engine: question → retrieval → a short German answer with its source, or an honest "weiß ich nicht".

Channel-agnostic: the terminal and Telegram both call `Engine.ask`. Answers are plain text; dates
are DD.MM.YYYY (partial dates as written, e.g. "Ende April 2024"), and every answer names its source.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np

from bot.config import Config
from bot.embedding import Encoder, load_encoder
from bot.index import BuildError, Index, IndexMissing, build_index, load_index, stale_reason
from bot.knowledge import AnyEntry, Contact, Event, FundingCall, Organisation
from bot.search import Hit, Result, search, term_overlap, term_weights
from bot.text import fold, sentences, tokens

log = logging.getLogger(__name__)

_UPCOMING = re.compile(
    r"(nachst|naechst|kommend|bald|demnachst|demnaechst|anstehend|stehen\b.*\ban\b|steht\b.*\ban\b|zukunft|"
    r"kunftig|kuenftig|wieder|\bnext\b|upcoming|\bsoon\b|coming|future|plan)"
)
MAX_QUERY_CHARS = 2000  # longer input is cut before encoding; the channel asks users to be brief long before
_EVENT_NOUN = re.compile(r"(termin|veranstalt|treff|sitzung|tagung|konferenz|dialog|\bevent|meeting)")
_CURRENT = re.compile(
    r"(aktuell|derzeit|gerade|zurzeit|momentan|\boffen|laufen|\bjetzt|\bopen\b|current|\bnow\b)"
)
_WHOM = re.compile(
    r"(ansprech|kontakt|zustandig|zustaendig|\bwen\b|\bwende|e-?mail|erreich|contact|reach|\bschick)"
)
_EVENT = re.compile(
    r"(wann|termin|treff|veranstalt|stattfind|findet|dialog|sitzung|konferenz|tagung|\bevent|meeting|\bwhen\b|\bdate\b)"
)
_FUNDING = re.compile(r"(f(o|oe)rder|aufruf|funding|grant|zuschuss|antrag|bewerb|finanzier|\bcall\b)")
_CONTACT = re.compile(
    r"(\bwer\b|\bwen\b|\bwem\b|ansprechp|kontakt|zustandig|zustaendig|e-?mail|\bmail|telefon|\bwho\b|contact|"
    r"schick|wende|\bmelde)"
)


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


def ordinal_in(question: str) -> int | None:
    """The number in "der siebte / 7. / seventh Regionaldialog", if any."""
    m = _ORDINAL.search(fold(question))
    if not m:
        return None
    if m[1]:
        return int(m[1])
    return _ORDINAL_WORDS.get(m[2]) if m[2] else _ORDINAL_EN[m[3]]


# Expected answer types: a question asking for one of these is only answered by a text that contains one.
_ASKS_FOR = {
    "phone": re.compile(r"(telefon|\btel\b|rufnummer|handynummer|phone|anrufen)"),
    "email": re.compile(r"(e-?mail|mailadresse|\bmail\b)"),
    "money": re.compile(
        r"(wie ?viel (geld|kostet|zahlt|bezahlt)|kosten|\bkostet|betrag|budget|\beuro\b|€|how much|\bcost)"
    ),
    "count": re.compile(r"(wie ?viele|how many|anzahl)"),
    "date": re.compile(r"(\bwann\b|seit wann|\bwhen\b|datum|\bdate\b)"),
}
_HAS = {
    "phone": re.compile(r"\+?\d[\d /-]{5,}\d"),
    "email": re.compile(r"@"),
    "money": re.compile(r"(€|\beuro\b|\beur\b)", re.IGNORECASE),
    "count": re.compile(
        r"(\d|\b(ein|eine|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|zwanzig|hundert|tausend)\b)",
        re.IGNORECASE,
    ),
    "date": re.compile(
        r"(\d{4}|\d{1,2}\.\d{1,2}\.|\d{1,2}(:\d{2})? uhr|januar|februar|märz|april|mai|juni|juli|august|"
        r"september|oktober|november|dezember|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|"
        r"jährlich|monatlich|wöchentlich|täglich|quartal)",
        re.IGNORECASE,
    ),
}


def asked_type(question: str) -> str | None:
    """The kind of fact the question wants (phone, e-mail, money, count, date), if it names one."""
    q = fold(question)
    return next((kind for kind, pattern in _ASKS_FOR.items() if pattern.search(q)), None)


def has_answer_type(text: str, kind: str | None) -> bool:
    return kind is None or bool(_HAS[kind].search(text))


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
    question: str
    intent: str
    found: bool
    text: str
    source_note: str = ""
    sources: list[SourceRef] = field(default_factory=list)
    more: list[str] = field(default_factory=list)

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


def intent_of(question: str) -> str:
    q = fold(question)
    if _UPCOMING.search(q) and _EVENT.search(q):
        return "event"
    if _FUNDING.search(q):
        return "funding"
    if _CONTACT.search(q):
        return "contact"
    if _EVENT.search(q):
        return "event"
    return "fact"


# --------------------------------------------------------------------------- rendering


def _source_ref(hit_or_entry: Hit | AnyEntry) -> SourceRef:
    entry = hit_or_entry.entry if isinstance(hit_or_entry, Hit) else hit_or_entry
    score = hit_or_entry.score if isinstance(hit_or_entry, Hit) else 1.0
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
    period = (
        f"vom {call.opens:%d.%m.%Y} bis {call.closes:%d.%m.%Y}"
        if call.opens and call.closes
        else (
            f"bis {call.closes:%d.%m.%Y}"
            if call.closes
            else (f"ab {call.opens:%d.%m.%Y}" if call.opens else "")
        )
    )
    if call.closes and call.closes < today:
        return f"Abgelaufen: Der Aufruf lief {period}."
    if call.opens and call.opens > today:
        return f"Noch nicht geöffnet: Der Aufruf läuft {period}."
    if call.closes:
        return f"Offen: Der Aufruf läuft {period}."
    return ""


def event_line(event: Event) -> str:
    name = (
        f"{event.number}. {event.series}" if event.number and event.series else (event.series or event.title)
    )
    when = (
        f" am {event.date.german()}"
        if event.date and event.date.exact
        else (f" {event.date.german()}" if event.date else "")
    )
    parts = [f"{name}{when}"]
    if event.place:
        parts.append(f"Ort: {event.place}")
    if event.topic:
        parts.append(f"Thema: {event.topic}")
    if event.status == "geplant":
        parts.append("angekündigt")
    return ", ".join(parts)


def _contact_line(contact: Contact, by_id: dict[str, AnyEntry]) -> str:
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


def focus(
    text: str, weights: dict[str, float], budget: int, vocabulary: frozenset[str], title: str = ""
) -> str:
    """Shorten a long passage to the sentences that carry the question's specific terms, in their order.

    Terms of the title only say which entry it is, so they do not choose sentences; without any specific
    match the passage stays whole. The first sentence stays when it fits: it says what the passage is about.
    """
    if len(text) <= budget or not weights:
        return text
    parts = sentences(text)
    if len(parts) < 2:
        return text
    topic = set(tokens(title, vocabulary))
    specific = {t: w for t, w in weights.items() if t not in topic}
    scores = [sum(w for t, w in specific.items() if t in set(tokens(s, vocabulary))) for s in parts]
    if max(scores) <= 0:
        return text
    order = sorted(range(len(parts)), key=lambda i: (-scores[i], i))
    keep: set[int] = set()
    used = 0
    for i in [order[0], 0, *order[1:]]:
        if i in keep or (keep and used + len(parts[i]) > budget):
            continue
        keep.add(i)
        used += len(parts[i]) + 1
    return " ".join(parts[i] for i in sorted(keep)) + (" …" if len(keep) < len(parts) else "")


# --------------------------------------------------------------------------- engine


@dataclass(frozen=True)
class _State:
    """A loaded index and what is derived from it once, so no question walks every entry."""

    index: Index
    by_id: dict[str, AnyEntry]
    events: list[Event]
    series_terms: list[tuple[frozenset[str], str]]
    calls: list[FundingCall]
    overview: Overview


def _state_for(index: Index) -> _State:
    entries = index.entries
    events = [e for e in entries if isinstance(e, Event)]
    series = {e.series for e in events if e.series}
    orgs = [e for e in entries if isinstance(e, Organisation)]
    regions = [
        o.name for o in orgs if o.kind in {"landkreis", "metropolregion", "regionalmanagement", "stadt"}
    ]
    tags = Counter(t for e in entries for t in e.tags)
    return _State(
        index=index,
        by_id={e.id: e for e in entries},
        events=events,
        series_terms=[(frozenset(tokens(name, index.vocabulary)), name) for name in sorted(series)],
        calls=[e for e in entries if isinstance(e, FundingCall)],
        overview=Overview(
            regions=regions,
            bodies=[o.name for o in orgs if o.parent is None and o.name not in regions],
            topics=[t for t, _ in tags.most_common(8)],
            entries=len(entries),
        ),
    )


class Engine:
    """Loaded once (encoder + index), then answers many questions; `reload` swaps the index atomically."""

    def __init__(self, config: Config, encoder: Encoder, index: Index, knowledge_dir: Path, index_dir: Path):
        self.config = config
        self.encoder = encoder
        self.knowledge_dir = knowledge_dir
        self.index_dir = index_dir
        self._state = _state_for(index)
        self._reload_lock = threading.Lock()

    # ----------------------------------------------------------------- lifecycle

    @classmethod
    def load(
        cls,
        config: Config,
        *,
        knowledge_dir: Path | None = None,
        index_dir: Path | None = None,
        encoder: Encoder | None = None,
        rebuild: bool = True,
        progress: bool = False,
    ) -> Engine:
        """Load encoder and index; build the index first when it is missing or stale (if `rebuild`)."""
        knowledge_dir = knowledge_dir or config.knowledge_dir
        index_dir = index_dir or config.index_dir
        encoder = encoder or load_encoder(config.embedding)
        index = None
        try:
            index = load_index(index_dir, config.embedding.threads)
            reason = stale_reason(index.manifest, config, encoder.name, knowledge_dir)
        except IndexMissing:
            reason = "kein Index vorhanden"
        if reason and rebuild:
            log.info("Index wird neu gebaut: %s", reason)
            try:
                build_index(
                    config, encoder, knowledge_dir=knowledge_dir, index_dir=index_dir, progress=progress
                )
                index = load_index(index_dir, config.embedding.threads)
            except BuildError:
                if index is None or index.manifest.encoder != encoder.name:
                    raise
                log.warning("Wissen ungültig; der bisherige Index wird weiter verwendet.")
        if index is None:
            raise IndexMissing(f"Kein Index in {index_dir}.")
        return cls(config, encoder, index, knowledge_dir, index_dir)

    @property
    def index(self) -> Index:
        return self._state.index

    @property
    def stale(self) -> bool:
        return self.stale_reason() is not None

    def stale_reason(self) -> str | None:
        return stale_reason(self.index.manifest, self.config, self.encoder.name, self.knowledge_dir)

    def reload(self) -> list[str]:
        """Validate, rebuild incrementally and swap in; on problems keep serving the old index."""
        with self._reload_lock:
            try:
                build_index(
                    self.config, self.encoder, knowledge_dir=self.knowledge_dir, index_dir=self.index_dir
                )
                index = load_index(self.index_dir, self.config.embedding.threads)
            except BuildError as exc:
                return exc.problems
            except Exception as exc:  # a half-written or unreadable build must not take the bot down
                log.exception("Neuaufbau des Index fehlgeschlagen")
                return [f"Index konnte nicht gebaut werden: {type(exc).__name__}: {exc}"]
            self._state = _state_for(index)
            return []

    # ----------------------------------------------------------------- retrieval

    def retrieve(
        self, question: str, types: set[str] | None = None, limit: int | None = None, query_vector=None
    ) -> Result:
        return search(
            self.index,
            self.encoder,
            question,
            self.config.search,
            types=types,
            limit=limit,
            query_vector=query_vector,
        )

    def confidence(self, result: Result) -> float:
        """Calibrated 0..1 belief that the best hit answers the question (see README, Abstention)."""
        best = result.best
        if best is None:
            return 0.0
        coverage = len(result.known_terms) / len(result.query_terms) if result.query_terms else 0.0
        overlap = term_overlap(result, best, self.index)
        s = self.config.search
        return min(1.0, max(0.0, best.dense + s.coverage_weight * coverage + s.overlap_weight * overlap))

    def _answerable(self, result: Result) -> bool:
        if not result.hits:
            return False
        s = self.config.search
        confidence = self.confidence(result)
        if confidence < s.min_confidence:
            return False
        if s.margin and len(result.hits) > 1:
            # Rasa-style ambiguity: just above the threshold, the best hit must also clearly beat the runner-up.
            gap = result.hits[0].score - result.hits[1].score
            if gap < s.margin and confidence < s.min_confidence + s.margin:
                return False
        return True

    # ----------------------------------------------------------------- answers

    def ask(self, question: str, today: date | None = None) -> Answer:
        """Answer one question; `today` (default: config or the real date) decides what is "next" or "open"."""
        today = today or self.config.today_or_now()
        question = " ".join(question.split())[:MAX_QUERY_CHARS]
        intent = intent_of(question)
        if not question:
            return self._abstain(question, intent)
        query_vector = self.encoder.encode([question])
        result = self.retrieve(question, query_vector=query_vector)
        answerable = self._answerable(result)
        if (overview := self._overview_for(question, intent, result, answerable, today)) is not None:
            return overview
        if not answerable:
            return self._abstain(question, intent, result)
        chosen = self._choose(question, intent, result, query_vector)
        if self._wants_next(question, intent) and isinstance(chosen.entry, Event):
            return self._next_events(question, today, self._series_for(question, result.hits[:5]))
        text = self.render(chosen.entry, today, result)
        if not has_answer_type(f"{chosen.entry.text} {text}", asked_type(question)):
            return self._abstain(question, intent, result)  # the topic is known, the asked fact is not
        return Answer(
            question=question,
            intent=intent,
            found=True,
            text=text,
            source_note=source_note([chosen.entry]),
            sources=[_source_ref(h) for h in [chosen, *[h for h in result.hits[:5] if h is not chosen]]],
            more=self._more(result, today, [chosen]),
        )

    @staticmethod
    def _wants_next(question: str, intent: str) -> bool:
        return intent == "event" and bool(_UPCOMING.search(fold(question))) and ordinal_in(question) is None

    def _overview_for(
        self, question: str, intent: str, result: Result, answerable: bool, today: date
    ) -> Answer | None:
        """Questions about what is next or open get a computed list rather than one passage."""
        wants_next = self._wants_next(question, intent)
        if wants_next and (series := self._named_series(question)):
            return self._next_events(question, today, series)
        known = len(result.known_terms) / len(result.query_terms) if result.query_terms else 0.0
        q = fold(question)
        if intent == "funding" and (
            (_CURRENT.search(q) and known >= 0.5) or (not answerable and known == 1.0)
        ):
            return replace(self.funding_overview(today), question=question)
        if wants_next and not answerable and known == 1.0 and _EVENT_NOUN.search(q):
            return self._next_events(question, today, None)
        return None

    def _choose(self, question: str, intent: str, result: Result, query_vector: np.ndarray) -> Hit:
        """The best hit, unless the question names a numbered event or asks for a call or a person."""
        best = result.hits[0]
        if (numbered := self._numbered_event(question, result)) is not None:
            return numbered
        if intent == "funding" and not isinstance(best.entry, FundingCall):
            return self._prefer(result, FundingCall, best, 0.9)
        if _WHOM.search(fold(question)) and not isinstance(best.entry, Contact):
            contacts = self.retrieve(question, types={"contact"}, limit=3, query_vector=query_vector)
            if contacts.hits and contacts.hits[0].dense >= self.config.answer.more_min_similarity:
                return contacts.hits[0]
        return best

    def render(self, entry: AnyEntry, today: date, result: Result | None = None) -> str:
        """An entry's passage (focused on the question when long) plus what structure and date add to it."""
        text = entry.text
        if result is not None:
            weights = term_weights(result, self.index)
            text = focus(text, weights, self.config.answer.max_chars, self.index.vocabulary, entry.title)
        by_id = self._state.by_id
        if isinstance(entry, FundingCall) and (status := funding_status(entry, today)):
            text += f"\n\n{status} (Stand {today:%d.%m.%Y})"
        elif isinstance(entry, Contact) and entry.email and entry.email not in text:
            text += f"\nE-Mail: {entry.email}"
        elif (
            isinstance(entry, Event)
            and entry.status == "geplant"
            and entry.date
            and entry.date.latest() < today
        ):
            text += f"\n\n(Dieser Termin war für {entry.date.german()} angekündigt.)"
        elif isinstance(entry, Organisation):
            for label, ref in (("Vorsitz", entry.chair), ("Stellvertretung", entry.deputy)):
                person = by_id.get(ref or "")
                if isinstance(person, Contact) and person.person not in text:
                    text += f"\n{label}: {_contact_line(person, by_id)}"
        return text

    @staticmethod
    def _prefer(result: Result, kind: type, best: Hit, share: float) -> Hit:
        """A hit of the kind the question asks for (a contact, a call), if it scores nearly as well as the best."""
        for hit in result.hits[:5]:
            if isinstance(hit.entry, kind):
                return hit if hit.score >= best.score * share else best
        return best

    def _numbered_event(self, question: str, result: Result) -> Hit | None:
        """ "Where was the seventh Regionaldialog?": the event with that number beats similar-looking ones."""
        number = ordinal_in(question)
        if number is None:
            return None
        series = self._series_for(question, result.hits[:5])
        if series is None:
            return None
        for hit in result.hits:
            if isinstance(hit.entry, Event) and hit.entry.series == series and hit.entry.number == number:
                return hit
        for entry in self._state.events:
            if entry.series == series and entry.number == number:
                return Hit(entry=entry, score=result.hits[0].score, dense=result.hits[0].dense, lexical=0.0)
        return None

    def _more(self, result: Result, today: date, shown: list[Hit]) -> list[str]:
        floor = self.config.answer.more_min_similarity
        out = []
        for hit in result.hits:
            if hit in shown or hit.dense < floor:
                continue
            out.append(f"{hit.entry.title}\n{self.render(hit.entry, today)}\n{source_note([hit.entry])}")
            if len(out) >= self.config.answer.max_list:
                break
        return out

    def _abstain(self, question: str, intent: str, result: Result | None = None) -> Answer:
        topics = ", ".join(self.overview().topics[:4])
        text = (
            "Dazu habe ich in meinem Wissen leider keine Antwort. "
            "Ich kann Fragen zu regionalen Gremien und Arbeitsgruppen, Terminen wie dem Regionaldialog, "
            "Förderaufrufen und Ansprechpartnern beantworten" + (f" (z. B. {topics})." if topics else ".")
        )
        sources = [_source_ref(h) for h in result.hits[:3]] if result else []
        return Answer(question=question, intent="none", found=False, text=text, sources=sources)

    def _named_series(self, question: str) -> str | None:
        """The event series the question names ("Regionaldialog", "AG Wirtschaftsförderung"), longest first."""
        q = set(tokens(question, self.index.vocabulary))
        scored = [(len(terms), name) for terms, name in self._state.series_terms if terms and terms <= q]
        return max(scored)[1] if scored else None

    def _series_for(self, question: str, hits: list[Hit]) -> str | None:
        if named := self._named_series(question):
            return named
        for hit in hits:
            if isinstance(hit.entry, Event) and hit.entry.series:
                return hit.entry.series
        return None

    def _next_events(self, question: str, today: date, series: str | None) -> Answer:
        """Upcoming events of `series` (all series if None) after `today`, soonest first; else the latest one."""
        events = [
            e for e in self._state.events if e.status != "abgesagt" and (series is None or e.series == series)
        ]
        upcoming = sorted(
            (e for e in events if e.date and e.date.latest() >= today), key=lambda e: e.date.earliest()
        )
        label = series or "Veranstaltungen"
        by_id = self._state.by_id
        if upcoming:
            shown = upcoming[: self.config.answer.max_list]
            lines = [f"Nächste Termine ({label}, Stand {today:%d.%m.%Y}):"] + [
                f"• {event_line(e)}" for e in shown
            ]
            contacts = self._contacts_of(shown)
        else:
            past = sorted((e for e in events if e.date), key=lambda e: e.date.earliest(), reverse=True)
            lines = [f"Zurzeit ist kein kommender Termin ({label}) bekannt (Stand {today:%d.%m.%Y})."]
            shown = past[:1]
            if shown:
                lines.append(f"Zuletzt: {event_line(shown[0])}.")
            contacts = self._contacts_of(shown)
        if contacts:
            lines.append("Kontakt: " + "; ".join(_contact_line(c, by_id) for c in contacts[:2]))
        return Answer(
            question=question,
            intent="event",
            found=bool(shown),
            text="\n".join(lines),
            source_note=source_note(shown) if shown else "",
            sources=[_source_ref(e) for e in shown],
        )

    def _contacts_of(self, entries: list[AnyEntry]) -> list[Contact]:
        by_id = self._state.by_id
        out: list[Contact] = []
        for entry in entries:
            for ref in getattr(entry, "contacts", []):
                contact = by_id.get(ref)
                if isinstance(contact, Contact) and contact not in out:
                    out.append(contact)
        return out

    def upcoming_events(self, today: date | None = None) -> Answer:
        return self._next_events("Nächste Termine", today or self.config.today_or_now(), None)

    def funding_overview(self, today: date | None = None) -> Answer:
        today = today or self.config.today_or_now()
        calls = self._state.calls
        current = [c for c in calls if not (c.closes and c.closes < today)]
        closed = sorted(
            (c for c in calls if c.closes and c.closes < today), key=lambda c: c.closes, reverse=True
        )
        lines = [f"Förderaufrufe (Stand {today:%d.%m.%Y}):"]
        if not any(c.opens or c.closes for c in current):
            lines.append("Derzeit ist kein offener oder angekündigter Förderaufruf mit Frist bekannt.")
        for call in sorted(current, key=lambda c: (c.closes is None, c.closes or today)):
            topics = f" – Themen: {', '.join(call.topics)}" if call.topics else ""
            status = funding_status(call, today) or "Keine Frist bekannt."
            lines.append(f"• {call.programme}{topics}. {status}")
        for call in closed[: self.config.answer.max_list]:
            lines.append(f"• {call.programme}: {funding_status(call, today)}")
        shown = current + closed[: self.config.answer.max_list]
        contacts = self._contacts_of(shown)
        if contacts:
            lines.append("Beratung: " + "; ".join(_contact_line(c, self._state.by_id) for c in contacts[:2]))
        return Answer(
            question="Förderaufrufe",
            intent="funding",
            found=bool(shown),
            text="\n".join(lines),
            source_note=source_note(shown) if shown else "",
            sources=[_source_ref(c) for c in shown],
        )

    def contacts_for(self, topic: str, today: date | None = None) -> Answer:
        result = self.retrieve(topic, types={"contact"}, limit=self.config.answer.max_list)
        floor = self.config.answer.more_min_similarity
        hits = [h for h in result.hits if h.dense >= floor or h.lexical > 0][: self.config.answer.max_list]
        if not hits:
            return self._abstain(topic, "contact")
        lines = [f"Ansprechpartner zum Thema „{topic}“:"]
        lines += [f"• {_contact_line(h.entry, self._state.by_id)}" for h in hits]
        return Answer(
            question=topic,
            intent="contact",
            found=True,
            text="\n".join(lines),
            source_note=source_note([h.entry for h in hits]),
            sources=[_source_ref(h) for h in hits],
        )

    def overview(self) -> Overview:
        return self._state.overview

    def example_questions(self, n: int = 5) -> list[str]:
        """Example questions taken in turn from each source document and entry type, so they follow the knowledge."""
        pools: dict[str, dict[str, list[str]]] = {}
        for entry in self._state.by_id.values():
            if entry.questions:
                pools.setdefault(entry.source.document, {}).setdefault(entry.type, []).append(
                    entry.questions[0]
                )
        queues = [
            [q for qs in zip(*by_type.values(), strict=False) for q in qs] for by_type in pools.values()
        ]
        queues = [
            queue[k % len(queue) :] + queue[: k % len(queue)] for k, queue in enumerate(queues)
        ]  # vary types
        out: list[str] = []
        for round_ in zip(*queues, strict=False):
            out += round_
        return out[:n]
