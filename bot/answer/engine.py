"""The answer engine: load/reload the index and `ask` in a few one-way steps.

understand (query.py) → retrieve (bot.search) → list or choose (listings.py) → compose from fields and
sentences (select.py) → decide (decide.py) → German text with its source (render.py).
Channel-agnostic: the terminal and Telegram both call `Engine.ask`.
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

from bot.answer import clauses, decide, followup, listings
from bot.answer.followup import Step
from bot.answer.query import FILLER, Query, understand
from bot.answer.render import (
    Answer,
    Overview,
    date_text,
    decline_text,
    event_line,
    labels,
    partial_text,
    source_note,
    source_ref,
)
from bot.answer.select import (
    VALUE_PATTERNS,
    always,
    carries,
    choose_sentences,
    field_text,
    lexical_scores,
    named_member,
    passage,
)
from bot.config import Config
from bot.embedding import Encoder, load_encoder
from bot.index import (
    BuildError,
    Index,
    IndexMissing,
    build_index,
    current_build,
    lexical_document,
    load_index,
    read_manifest,
    stale_reason,
)
from bot.knowledge import AnyEntry, Contact, Event, FundingCall, Membership, Organisation
from bot.places import adjective_place, adjective_places, places_in
from bot.search import Hit, Result, entry_cosine, idf, query_terms, search, sentence_scores
from bot.synonyms import Synonyms, load_synonyms
from bot.text import sentences, tokens

log = logging.getLogger(__name__)

# The question a next-step button stands for, read by the same understanding as typed follow-ups.
STEP_QUESTIONS = {
    ("contact", "de"): "Wer ist Ansprechperson?",
    ("contact", "en"): "Who is the contact person?",
    ("deadline", "de"): "Bis wann läuft die Frist?",
    ("deadline", "en"): "Until when is the deadline?",
    ("next", "de"): "Wann ist der nächste Termin?",
    ("next", "en"): "When is the next date?",
}
PERSONAL_FIELDS = ("email", "phone")  # details that belong to one person, not to their office
OWNER_FIELDS = (
    "organisation",
    "organiser",
    "body",
    "parent",
)  # the fields naming the body an entry belongs to
SYNONYM_CREDIT = 0.5  # weight of a question term the passage holds only as a synonym
EN_LEAD = "From my sources (in German):"  # English questions: the knowledge itself stays German
MAX_ANSWER_CHARS = 900  # with the source line; a sibling's sentences are only added below this
PASSAGE_SLACK = 60  # a passage this little over the budget is shown whole rather than cut to sentences

# Entry types a question for a field prefers: a preference the retrieval score can overrule.
_PREFERS: dict[str, tuple[type, ...]] = {
    "contact": (Contact,),
    "email": (Contact,),
    "phone": (Contact,),
    "deadline": (FundingCall,),
    "amount": (Membership, FundingCall),
    "chair": (Organisation,),
    "deputy": (Organisation,),
    "members": (Organisation,),
    "tasks": (Organisation,),
    "focus_areas": (Organisation,),
    "legal_form": (Organisation,),
    "founded": (Organisation,),
    "place": (Event,),
    "person": (Contact,),
    "date": (Event, FundingCall),
    "topic": (Event, FundingCall),
}


@dataclass
class _State:
    """A loaded index and what is derived from it once, so no question walks every entry."""

    index: Index
    synonyms: Synonyms
    by_id: dict[str, AnyEntry]
    position: dict[str, int]
    events: list[Event]
    series_terms: list[tuple[frozenset[str], str]]
    calls: list[FundingCall]
    overview: Overview
    names: dict[str, list[tuple[frozenset[str], str]]]
    """Entity names (organisations, projects, people, programmes) by their longest stem: (stems, entry id)."""
    people: frozenset[str]
    """Names of the contact persons (a contact answer names one, or an address)."""
    general_contacts: list[Contact]
    """Contacts with an address for general enquiries (info@…), for partial answers."""
    links: followup.Links
    """Who belongs to which body (follow-ups and next steps look fields up there)."""
    _terms: dict[str, frozenset[str]] = field(default_factory=dict)
    _places: dict[str, frozenset[str]] = field(default_factory=dict)
    _known_places: frozenset[str] | None = None

    def terms(self, entry: AnyEntry) -> frozenset[str]:
        """Stems an entry is about (what it shows, its questions, tags and fields), cached per entry."""
        if (cached := self._terms.get(entry.id)) is None:
            cached = self._terms[entry.id] = frozenset(tokens(_about(entry), self.index.vocabulary))
        return cached

    def named(self, stems: set[str]) -> set[str]:
        """Ids of the entries whose whole name the question contains ("AG Wissenschaft und Forschung")."""
        return {entry_id for stem in stems for name, entry_id in self.names.get(stem, []) if name <= stems}

    def places(self, entry: AnyEntry) -> frozenset[str]:
        """Places an entry is about: its own words and the names of the bodies it belongs to."""
        if (cached := self._places.get(entry.id)) is None:
            owners = [
                getattr(owner, "name", owner.title)
                for name in ("organisation", "parent", "body", "organiser")
                if (ref := getattr(entry, name, None)) and (owner := self.by_id.get(ref))
            ]
            cached = self._places[entry.id] = frozenset(places_in(" ".join([_about(entry), *owners])))
        return cached

    def known_places(self) -> frozenset[str]:
        """Every place some entry is about; walked once, at the first question that names several places."""
        if self._known_places is None:
            self._known_places = frozenset().union(*(self.places(e) for e in self.by_id.values()))
        return self._known_places


def _about(entry: AnyEntry) -> str:
    extra = [
        str(v)
        for name in ("name", "series", "place", "topic", "programme", "member", "person", "organisation_name")
        if (v := getattr(entry, name, None))
    ]
    extra += [t for name in ("topics", "members", "partners") for t in getattr(entry, name, [])]
    return " ".join([lexical_document(entry), *extra])


def _state_for(index: Index, synonyms: Synonyms) -> _State:
    entries = index.entries
    events = [e for e in entries if isinstance(e, Event)]
    series = {e.series for e in events if e.series}
    orgs = [e for e in entries if isinstance(e, Organisation)]
    regions = [
        o.name for o in orgs if o.kind in {"landkreis", "metropolregion", "regionalmanagement", "stadt"}
    ]
    tags = Counter(t for e in entries for t in e.tags)
    names: dict[str, list[tuple[frozenset[str], str]]] = {}
    for entry in entries:
        name = (
            getattr(entry, "name", None)
            or getattr(entry, "person", None)
            or getattr(entry, "programme", None)
        )
        stems = frozenset(tokens(name)) if name else frozenset()
        if stems:
            names.setdefault(max(stems, key=len), []).append((stems, entry.id))
    return _State(
        index=index,
        synonyms=synonyms,
        by_id={e.id: e for e in entries},
        position={e.id: i for i, e in enumerate(entries)},
        events=events,
        series_terms=[(frozenset(tokens(name, index.vocabulary)), name) for name in sorted(series)],
        calls=[e for e in entries if isinstance(e, FundingCall)],
        overview=Overview(
            regions=regions,
            bodies=[o.name for o in orgs if o.parent is None and o.name not in regions],
            topics=[t for t, _ in tags.most_common(8)],
            entries=len(entries),
        ),
        names=names,
        people=frozenset(e.person for e in entries if isinstance(e, Contact)),
        general_contacts=[e for e in entries if isinstance(e, Contact) and e.email and "info" in e.email],
        links=followup.links(entries),
    )


class Engine:
    """Loaded once (encoder + index), then answers many questions; `reload` swaps the index atomically."""

    def __init__(self, config: Config, encoder: Encoder, index: Index, knowledge_dir: Path, index_dir: Path):
        self.config = config
        self.encoder = encoder
        self.knowledge_dir = knowledge_dir
        self.index_dir = index_dir
        synonyms, problems = load_synonyms(knowledge_dir)
        for problem in problems:
            log.warning("%s", problem)
        self._state = _state_for(index, synonyms)
        self._reload_lock = threading.Lock()
        self.understand(
            "Wer leitet das Regionalforum Halle?"
        )  # loads lexicon and place lists now, not at the first question

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

    def reload(self, stop: threading.Event | None = None) -> list[str]:
        """Validate, rebuild incrementally and swap in; on problems (or when `stop` is set: shutdown) keep
        serving the old index."""
        with self._reload_lock:
            try:
                build_index(
                    self.config,
                    self.encoder,
                    knowledge_dir=self.knowledge_dir,
                    index_dir=self.index_dir,
                    stop=stop,
                )
                index = load_index(self.index_dir, self.config.embedding.threads)
                synonyms, _ = load_synonyms(self.knowledge_dir)
            except BuildError as exc:
                return exc.problems
            except Exception as exc:  # a half-written or unreadable build must not take the bot down
                log.exception("Neuaufbau des Index fehlgeschlagen")
                return [f"Index konnte nicht gebaut werden: {type(exc).__name__}: {exc}"]
            self._state = _state_for(index, synonyms)
            return []

    def follow(self) -> bool:
        """Serve the build another process published in the shared index folder (a /reload on another
        replica); True when it switched. Never builds; a build for another encoder is left alone."""
        build = current_build(self.index_dir)
        if build is None or build.name == self.index.path.name:
            return False
        if read_manifest(build).encoder != self.encoder.name:
            return False
        if not self._reload_lock.acquire(blocking=False):
            return False  # this process is building itself; it publishes and swaps in its own result
        try:
            index = load_index(self.index_dir, self.config.embedding.threads)
            synonyms, _ = load_synonyms(self.knowledge_dir)
            self._state = _state_for(index, synonyms)
        finally:
            self._reload_lock.release()
        log.info("Neuer Index-Stand %s übernommen (von einem anderen Prozess gebaut).", index.path.name)
        return True

    # ----------------------------------------------------------------- retrieval

    def retrieve(
        self, question: str, types: set[str] | None = None, limit: int | None = None, query_vector=None
    ) -> Result:
        """Hybrid search with the question's synonyms and abbreviations expanded."""
        state = self._state
        adjectives = " ".join(adjective_places(question))  # "die hallesche Runde" is about Halle
        terms = query_terms(question, state.index) + state.synonyms.expand(question) + tokens(adjectives)
        if query_vector is None:
            query_vector = self.encoder.encode([state.synonyms.expand_text(question)])
        return search(
            state.index,
            self.encoder,
            question,
            self.config.search,
            types=types,
            limit=limit,
            query_vector=query_vector,
            terms=terms,
        )

    # ----------------------------------------------------------------- answers

    def understand(self, question: str) -> Query:
        """The question as the engine reads it (series named, places, asked field, time cue …)."""
        state = self._state
        return understand(question, state.series_terms, state.index.vocabulary, state.synonyms)

    def ask(self, question: str, today: date | None = None) -> Answer:
        """Answer one question; `today` (default: config or the real date) decides what is "next" or "open"."""
        today = today or self.config.today_or_now()
        state = self._state
        query = self.understand(question)
        if not query.words:
            return self._decline(query, state)
        searched = _with_ordinal(query)
        vector = self.encoder.encode([state.synonyms.expand_text(searched)])
        result = self.retrieve(searched, query_vector=vector)
        if (listed := self._listing(query, result, state, today)) is not None:
            return listed
        if not result.hits:
            return self._decline(query, state)
        answer = self._single(query, result, state, today, vector)
        for narrower in _narrower(query.text) if answer.intent == "none" else []:
            # who asks ("Wir sind ein Betrieb in Leuna …") or a second question dilutes the match: ask without
            sub = self.understand(narrower)
            sub_vector = self.encoder.encode([state.synonyms.expand_text(sub.text)])
            alone = self._single(
                sub, self.retrieve(sub.text, query_vector=sub_vector), state, today, sub_vector
            )
            if alone.found:
                answer = replace(alone, question=answer.question)
                break
        return self._second_part(query, answer, state, today) if answer.found else answer

    def _second_part(self, query: Query, answer: Answer, state: _State, today: date) -> Answer:
        """A later clause the answer leaves open is asked about the same subject; both answers are shown when
        the second comes from another entry and holds what the clause asks ("…, und welchen Teil der Fläche
        Niedersachsens umfasst sie?")."""
        first = state.by_id.get(answer.sources[0].id) if answer.sources else None
        if first is None:
            return answer

        def weigh(text: str) -> dict[str, float]:
            return {t: idf(state.index, t) for t in query_terms(text, state.index)}

        alternatives = state.synonyms.alternatives(query.text)
        held = set(tokens(answer.text, state.index.vocabulary))
        found = clauses.open_clause(query.text, held, weigh, alternatives)
        if found is None:
            return answer
        position, clause = found
        # a later clause may lean on the first for its subject ("…, und welchen Teil umfasst sie?")
        for asked in [f"{clause} ({first.title})", clause] if position else [clause]:
            sub = self.understand(asked)
            vector = self.encoder.encode([state.synonyms.expand_text(sub.text)])
            part = self._single(sub, self.retrieve(sub.text, query_vector=vector), state, today, vector)
            second = state.by_id.get(part.sources[0].id) if part.found and part.sources else None
            if second is not None and second.id != first.id:
                break
        else:
            return answer
        text = part.text.removeprefix(f"{EN_LEAD}\n")
        asked = {t: w for t, w in weigh(clause).items() if t not in FILLER}
        before = clauses.held_share(asked, held, alternatives)
        after = clauses.held_share(asked, set(tokens(text, state.index.vocabulary)), alternatives)
        if (
            after <= before or after < clauses.MIN_PART_SHARE
        ):  # the second answer must hold more of the clause
            return answer
        text = clauses.new_part(text, answer.text, set(asked), state.index.vocabulary)
        combined = f"{answer.text}\n\n{text}"
        note = source_note([first, second], language=query.language)
        if len(combined) + len(note) + 2 > MAX_ANSWER_CHARS:
            return answer
        sources = [answer.sources[0], part.sources[0], *answer.sources[1:4]]
        return replace(answer, text=combined, source_note=note, sources=sources)

    def _listing(self, query: Query, result: Result, state: _State, today: date) -> Answer | None:
        """Next events of a series, the upcoming events or the open calls – when the question asks for a list
        and every specific word and place of it is something the listed entries are about."""
        limit = self.config.answer.max_list
        series_words = {w for terms, name in state.series_terms if name == query.series for w in terms}
        specific = [t for t in query.content if t not in series_words]
        listed: list[AnyEntry]
        if query.series and query.ordinal is None and query.time in ("next", "past"):
            listed = list(listings.series_events(state.events, query.series))
            if query.time == "next":
                answer = listings.next_events(
                    query.text, state.events, today, query.series, state.by_id, limit, language=query.language
                )
            elif query.several:
                answer = listings.past_events(  # a history may be longer than a look ahead
                    query.text,
                    state.events,
                    today,
                    query.series,
                    state.by_id,
                    2 * limit,
                    language=query.language,
                )
            else:
                answer = listings.last_event(
                    query.text, state.events, today, query.series, state.by_id, language=query.language
                )
        elif (
            query.listing == "events"
            and query.time in ("next", "current")
            and not query.series
            and not specific
        ):
            listed = list(listings.series_events(state.events, None))
            answer = listings.next_events(
                query.text, state.events, today, None, state.by_id, limit, language=query.language
            )
        elif query.listing == "calls" and not specific and (query.time or query.field in (None, "deadline")):
            listed = list(state.calls)
            answer = replace(
                listings.funding_overview(state.calls, today, state.by_id, limit, language=query.language),
                question=query.text,
            )
        else:
            return None
        about = set().union(*(state.terms(e) for e in listed))
        places = set().union(*(state.places(e) for e in listed))
        checks = [decide.places_agree(query.places, places), decide.covers(specific, about)]
        if decide.verdict(query.text, checks).action != "answer" or not (answer.found or answer.sources):
            return None
        return self._frame(query, answer)

    def _choose(self, query: Query, result: Result, state: _State, vector: np.ndarray) -> list[Hit]:
        """Hits re-ranked by what the question prefers: the entity or numbered event it names, an entry of the
        asked kind or holding the asked value. Each preference is a small bonus the retrieval can overrule."""
        s = self.config.search
        bonus = self.config.answer.preference_weight
        head = list(result.hits[: s.rerank_depth])
        named = state.named(set(query.stems) | set(query.expanded))
        rival: set[str] = set()
        if query.ordinal is not None:
            series = query.series or next(
                (h.entry.series for h in head if isinstance(h.entry, Event) and h.entry.series), None
            )
            wanted = next((e for e in state.events if e.series == series and e.number == query.ordinal), None)
            if wanted is not None:
                named.add(wanted.id)
                rival = {e.id for e in state.events if e.series == series and e.id != wanted.id}
        on_day = (
            [e for e in state.events if _on_date(e, query.dates) and query.series in (None, e.series)]
            if query.dates
            else []
        )
        if len(on_day) == 1 and query.ordinal is None:  # "der Regionaldialog im Januar 2022": that one event
            named.add(on_day[0].id)
            if on_day[0].series:
                rival |= {e.id for e in state.events if e.series == on_day[0].series and e.id != on_day[0].id}
        for entry_id in named:
            if all(h.entry.id != entry_id for h in head) and (entry := state.by_id.get(entry_id)):
                cosine = entry_cosine(state.index, state.position[entry_id], vector)
                head.append(Hit(entry=entry, score=s.dense_weight * cosine, dense=cosine, lexical=0.0))
        prefer = _PREFERS.get(query.field or "", ())
        if query.field is None and query.words[:1] in (("wer",), ("who",), ("wen",), ("whom",)):
            prefer = (Contact,)  # "Wer koordiniert den Strukturwandel?" asks for a person

        def holds(entry: AnyEntry) -> bool:
            return bool(query.field) and (
                _holds(entry, query.field or "", state)
                or (query.field in VALUE_PATTERNS and carries(query.field, entry.text, query.counted))
            )

        # the kind of entry that would hold the asked field counts only when no candidate holds it itself
        # ("Arbeitsschwerpunkte des Regionalforums": the forum with its focus_areas, not its working group)
        holders = {h.entry.id for h in head if holds(h.entry)}

        def preferred(entry: AnyEntry) -> int:
            # an entry about a named body (its project, event or person) is as much "named" as the body:
            # retrieval decides between them ("Was plant die PG MINT?" → the planned project)
            about_named = entry.id in named or any(getattr(entry, ref, None) in named for ref in OWNER_FIELDS)
            score = about_named - 2 * (entry.id in rival) + _on_date(entry, query.dates)
            if entry.id in holders or (prefer and not holders and isinstance(entry, prefer)):
                score += 1
            return score

        head = [replace(h, score=h.score + bonus * preferred(h.entry)) for h in head]
        head.sort(key=lambda h: h.score, reverse=True)
        return head

    def _person_first(self, query: Query, hits: list[Hit], state: _State, vector: np.ndarray) -> list[Hit]:
        """A person's own e-mail or phone number can only come from that person's entry: "die Mailadresse von
        Henning Mertens" is answered (or not) by his entry, never by the office address a better hit shows."""
        if query.field not in PERSONAL_FIELDS:
            return hits
        persons = [
            i
            for i in state.named(set(query.stems) | set(query.expanded))
            if isinstance(state.by_id[i], Contact)
        ]
        if len(persons) != 1 or hits[0].entry.id == persons[0]:
            return hits
        own = next((h for h in hits if h.entry.id == persons[0]), None)
        if own is None:
            cosine = entry_cosine(state.index, state.position[persons[0]], vector)
            own = Hit(state.by_id[persons[0]], self.config.search.dense_weight * cosine, cosine, 0.0)
        return [own, *(h for h in hits if h is not own)]

    def _single(self, query: Query, result: Result, state: _State, today: date, vector: np.ndarray) -> Answer:
        """One entry answers – fields first, then its best sentences; a close sibling from the same source
        may add its best sentences. The checks read what the chosen entry says, not what the sibling adds."""
        hits = self._choose(query, result, state, vector)
        hits = self._person_first(query, hits, state, vector)
        chosen = hits[0]
        s = self.config.search
        runner = next((h for h in hits[1:] if h.entry.id != chosen.entry.id), None)
        sibling = runner is not None and _siblings(chosen.entry, runner.entry)
        if (
            sibling
            and runner
            and not field_text(chosen.entry, query.field, state.by_id, today)
            and field_text(runner.entry, query.field, state.by_id, today)
        ):
            chosen, runner = (
                runner,
                chosen,
            )  # the sibling holds the asked field ("Aufgaben" of the body itself)
        entry = chosen.entry
        gap = abs(chosen.score - runner.score) if runner else 1.0
        weights = {t: idf(state.index, t) for t in query_terms(query.text, state.index)}
        alternatives = state.synonyms.alternatives(query.text)
        vocab = state.index.bm25.vocab_dict
        known = [t in vocab or any(a in vocab for a in alternatives.get(t, ())) for t in weights]
        coverage = sum(known) / len(weights) if weights else 0.0
        # cue and filler words ("zuständig", "weiterhelfen") count when the entry holds them, never against it
        topic = set(query.content)
        held_terms = state.terms(entry)
        scored = {t: w for t, w in weights.items() if t in topic or t in held_terms} or weights
        overlap = _weighted_share(scored, held_terms, alternatives)
        value = decide.confidence(chosen.dense, coverage, overlap, s.coverage_weight, s.overlap_weight)
        body = self._compose(query, entry, weights, state, today, vector)
        features = {
            "dense": chosen.dense,
            "coverage": coverage,
            "overlap": overlap,
            "gap": gap,
            "conflicting": float(runner is not None and not sibling),
            "english": float(query.language == "en"),
        }
        threshold = (
            s.min_confidence_en
            if query.language == "en" and s.min_confidence_en is not None
            else s.min_confidence
        )
        checks = [
            decide.confident(value, threshold),
            decide.places_agree(
                query.places,
                set(state.places(entry)) | set(places_in(body)),
                state.known_places() if len(query.places) > 1 else frozenset(),
            ),
            decide.beyond_place(
                _beyond_place(query, state.index.vocabulary) if query.places else [],
                {
                    t
                    for t in query.content
                    if t in held_terms or not alternatives.get(t, set()).isdisjoint(held_terms)
                },
                chosen.dense,
                s.place_only_min_dense,
                known=query.content
                if query.language == "en"
                else [
                    t for t in query.content if t in vocab or not alternatives.get(t, set()).isdisjoint(vocab)
                ],
            ),
            decide.unambiguous(gap, value, threshold, s.margin, conflicting=bool(features["conflicting"])),
            decide.has_asked_value(
                query.field if query.field != "contact" or _asks_person(query) else None,
                body,
                query.counted,
                unset=_unset(entry, query.field),
                which=query.which,
                people=state.people,
            ),
        ]
        if query.time == "next" and query.field == "date":
            checks.append(decide.names_a_future_date(body, today))
        verdict = decide.verdict(query.text, checks)
        if verdict.action != "answer" and (options := self._options(query, hits, coverage, weights, verdict)):
            return replace(self._clarify(query, options), features=features)
        if verdict.action == "decline":
            return replace(self._decline(query, state, hits), features=features)
        if verdict.action == "partial":
            return replace(self._partial(query, entry, weights, state, vector, hits), features=features)
        shown = [entry]
        addition = runner if sibling and runner and gap < self.config.answer.sibling_gap else None
        complement = (
            None
            if addition
            else next(
                (
                    h
                    for h in hits[1:COMPLEMENT_DEPTH]
                    if _complements(entry, h, chosen, body, weights, state, alternatives)
                ),
                None,
            )
        )
        if (addition := addition or complement) is not None:
            extra = self._passage(query, addition.entry, weights, state, vector, budget=220)
            note = source_note([entry, addition.entry], language=query.language)
            combined = f"{body}\n\n{addition.entry.title}: {extra}"
            adds = extra not in body if complement else _adds(extra, body, weights, state)
            framing = len(EN_LEAD) + 1 if query.language == "en" else 0
            if adds and len(combined) + len(note) + 2 + framing <= MAX_ANSWER_CHARS:
                body = combined
                shown.append(addition.entry)
        if (
            query.yes_no
            and query.field == "members"
            and isinstance(entry, Organisation)
            and (member := named_member(set(query.stems), entry.members))
        ):  # "Ist die envia in der Projektgruppe vertreten?" – the list says yes
            body = f"{labels(query.language)['is_member'].format(member=member)}\n{body}"
        person = getattr(entry, query.field, None) if query.field in ("chair", "deputy") else None
        answer = Answer(
            question=query.text,
            intent=_intent(query, entry),
            found=True,
            text=body,
            about=person if isinstance(entry, Organisation) and person else None,
            source_note=source_note(shown, language=query.language),
            sources=[source_ref(h.entry, h.score) for h in _ordered(hits, shown)[:5]],
            more=self._more(hits, today, shown, query.language),
            features=features,
        )
        return self._frame(query, answer)

    def _compose(
        self,
        query: Query,
        entry: AnyEntry,
        weights: dict[str, float],
        state: _State,
        today: date,
        vector: np.ndarray,
    ) -> str:
        """The asked field (if the entry has it) with the best sentences for context, or the best sentences;
        then what an answer of its type always says."""
        budget = self.config.answer.max_chars
        fields = [
            text
            for name in dict.fromkeys((query.field, *query.also))
            if (text := field_text(entry, name, state.by_id, today, language=query.language))
        ]
        if fielded := "\n".join(fields):
            rest = budget - len(fielded)
            context = self._passage(query, entry, weights, state, vector, rest) if rest > 80 else ""
            text = f"{fielded}\n{context}" if context else fielded
        else:
            text = self._passage(query, entry, weights, state, vector, budget)
        extra = always(entry, text, state.by_id, today, language=query.language)
        return "\n\n".join([text, "\n".join(extra)]) if extra else text

    def _passage(
        self,
        query: Query,
        entry: AnyEntry,
        weights: dict[str, float],
        state: _State,
        vector: np.ndarray,
        budget: int,
    ) -> str:
        """The entry's text, or – when longer than `budget` – its best whole sentences in text order."""
        if len(entry.text) <= budget + PASSAGE_SLACK:
            return entry.text
        parts = sentences(entry.text)
        dense = [score for _, score in sentence_scores(state.index, state.position[entry.id], vector)]
        lexical = lexical_scores(parts, weights, state.index.vocabulary, entry.title)
        w = self.config.answer.sentence_lexical_weight
        scores = (
            [d + w * x for d, x in zip(dense, lexical, strict=True)] if len(dense) == len(parts) else lexical
        )
        return passage(parts, choose_sentences(parts, scores, budget, query.field, query.counted))

    def _options(
        self,
        query: Query,
        hits: list[Hit],
        coverage: float,
        weights: dict[str, float],
        verdict: decide.Verdict,
    ) -> list[Hit] | None:
        """Two or three different entries that each hold the question's words and score about equally, for a
        question that names no entity and would otherwise be declined or only partly answered: it is
        under-specified ("Wer leitet die AG?") and worth a "Meinten Sie …?". A question with words the knowledge
        does not know is off its topics and keeps the refusal; one naming an entity keeps its partial answer."""
        a = self.config.answer
        state = self._state
        if not set(verdict.failed) <= {"confidence", "asked_field"} or coverage < 1.0:
            return None
        if state.named(set(query.stems) | set(query.expanded)):
            return None
        top = hits[0].score
        options: list[Hit] = []
        for hit in hits:
            if top - hit.score > a.clarify_gap or len(options) == 3:
                break
            fits = _weighted_share(weights, state.terms(hit.entry)) >= a.clarify_overlap
            if fits and not any(
                _siblings(hit.entry, o.entry) or hit.entry.title == o.entry.title for o in options
            ):
                options.append(hit)
        return options if len(options) >= 2 else None

    def _clarify(self, query: Query, options: list[Hit]) -> Answer:
        titles = " oder ".join(f"„{h.entry.title}“" for h in options)
        text = (
            f"Did you mean {titles.replace(' oder ', ' or ')}? Please choose:"
            if query.language == "en"
            else f"Meinten Sie {titles}? Bitte wählen Sie:"
        )
        return Answer(
            question=query.text,
            intent="clarify",
            found=False,
            text=text,
            sources=[source_ref(h.entry, h.score) for h in options],
            options=[source_ref(h.entry, h.score) for h in options],
            language=query.language,
        )

    # ----------------------------------------------------------------- follow-ups and chosen entries

    def answer_entry(self, entry_id: str, question: str, today: date | None = None) -> Answer | None:
        """The question answered from one entry the person chose ("Meinten Sie …?"); None for an unknown id."""
        state = self._state
        entry = state.by_id.get(entry_id)
        if entry is None:
            return None
        today = today or self.config.today_or_now()
        query = self.understand(question or entry.title)
        vector = self.encoder.encode([state.synonyms.expand_text(query.text)])
        weights = {t: idf(state.index, t) for t in query_terms(query.text, state.index)}
        return self._facts(query, entry, self._compose(query, entry, weights, state, today, vector))

    def follow_up(
        self, entry_id: str, question: str, today: date | None = None, strict: bool = True
    ) -> Answer | None:
        """A message about the entry just shown ("und wo?", "bis wann?", "und der danach?", "mehr dazu"),
        answered from that entry and the entries it links to. None when the message is no follow-up: it names a
        subject of its own, asks for a list or a numbered event, or nothing a field could answer. Not `strict`: words
        the knowledge does not know are allowed (for a message that, asked afresh, found nothing)."""
        state = self._state
        entry = state.by_id.get(entry_id)
        if entry is None:
            return None
        today = today or self.config.today_or_now()
        query = self.understand(question)
        kind = followup.kind_of(query)
        if kind is None:
            return None
        near = followup.linked(entry, state.by_id, state.links)
        about = state.terms(entry).union(*(state.terms(e) for e in near))
        named = state.named(set(query.stems) | set(query.expanded))
        if query.places and not decide.places_agree(query.places, set(state.places(entry))).passed:
            return None
        vocabulary = state.index.vocabulary if strict else frozenset(query.content)
        if followup.own_subject(query, about, named, {entry.id, *(e.id for e in near)}, vocabulary):
            return None
        if kind in ("after", "before"):
            if not (isinstance(entry, Event) and entry.series):
                return None
            return self._neighbour(query, entry, later=kind == "after")
        if kind == "more":
            return self._whole(query, entry, today)
        return self._field_answer(query, entry, near, today)

    def step(
        self, kind: str, entry_id: str, today: date | None = None, language: str = "de"
    ) -> Answer | None:
        """What a next-step button under an answer shows: the entry's contacts, its deadline or the next event."""
        state = self._state
        entry = state.by_id.get(entry_id)
        if entry is None:
            return None
        today = today or self.config.today_or_now()
        question = STEP_QUESTIONS.get((kind, language)) or STEP_QUESTIONS.get((kind, "de"))
        if question is None:
            return None
        query = self.understand(question)
        if kind == "next":
            upcoming = self._upcoming_of(entry, today)
            if not upcoming:
                return None
            return self._facts(query, upcoming[0], event_line(upcoming[0], language=language))
        near = followup.linked(entry, state.by_id, state.links)
        return self._field_answer(query, entry, near, today)

    def steps(self, answer: Answer, today: date | None = None) -> list[Step]:
        """Next steps the knowledge holds for an answer's main entry: contact person, deadline, next event, source."""
        state = self._state
        if not answer.found or not answer.sources:
            return []
        entry = state.by_id.get(answer.sources[0].id)
        if entry is None:
            return []
        today = today or self.config.today_or_now()
        out: list[Step] = []
        near = followup.linked(entry, state.by_id, state.links)
        people = [c.person for c in listings.contacts_of([entry, *near], state.by_id)]
        if isinstance(entry, Organisation):
            people += [
                c.person
                for r in (entry.chair, entry.deputy)
                if isinstance(c := state.by_id.get(r or ""), Contact)
            ]
        if not isinstance(entry, Contact) and any(p not in answer.text for p in people):
            out.append(Step("contact", entry.id))
        if (
            isinstance(entry, FundingCall)
            and entry.closes
            and f"{entry.closes:%d.%m.%Y}" not in answer.text
            and date_text(entry.closes, answer.language) not in answer.text
        ):
            out.append(Step("deadline", entry.id))
        if (upcoming := self._upcoming_of(entry, today)) and not _mentions_day(answer.text, upcoming[0]):
            out.append(Step("next", entry.id))  # unless the answer already names the next event's day
        if entry.source.url:
            out.append(Step("source", entry.id, entry.source.url))
        return out

    def _upcoming_of(self, entry: AnyEntry, today: date) -> list[Event]:
        """Coming events of the entry's series, or organised by it."""
        state = self._state
        if isinstance(entry, Event) and entry.series:
            events = listings.series_events(state.events, entry.series)
        else:
            events = [e for e in state.events if e.status != "abgesagt" and e.organiser == entry.id]
        return listings.upcoming(events, today)

    def _neighbour(self, query: Query, event: Event, later: bool) -> Answer:
        """The event of the same series right after (or before) the one just shown."""
        series = listings.series_events(self._state.events, event.series)
        found = listings.after(series, event) if later else listings.before(series, event)
        if found:
            return self._facts(query, found[0], event_line(found[0], language=query.language))
        name = f"{event.number}. {event.series}" if event.number else event.title
        if query.language == "en":
            text = f"My sources name no {'later' if later else 'earlier'} date of the series “{event.series}” than {name}."
        else:
            text = f"{'Nach' if later else 'Vor'} dem {name} nennen meine Quellen keinen weiteren Termin der Reihe „{event.series}“."
        return Answer(
            question=query.text,
            intent="event",
            found=False,
            text=text,
            source_note=source_note([event], language=query.language),
            sources=[source_ref(event)],
            language=query.language,
        )

    def _whole(self, query: Query, entry: AnyEntry, today: date) -> Answer:
        extra = always(entry, entry.text, self._state.by_id, today, language=query.language)
        return self._facts(query, entry, "\n".join([entry.text, *extra]))

    def _field_answer(self, query: Query, entry: AnyEntry, near: list[AnyEntry], today: date) -> Answer:
        """The asked field from the entry, else from the first linked entry that has it; else say it is unknown."""
        state = self._state
        field = query.field or ""
        for source in [entry, *near]:
            if isinstance(source, Event) and followup.event_field(source, field):
                return self._facts(query, source, event_line(source, language=query.language))
            if text := field_text(source, field, state.by_id, today, language=query.language):
                person = (
                    state.by_id.get(getattr(source, field, None) or "")
                    if field in ("chair", "deputy")
                    else None
                )
                return self._facts(query, source, text, about=person)
            if field in VALUE_PATTERNS and (
                found := [s for s in sentences(source.text) if carries(field, s, query.counted)]
            ):
                return self._facts(query, source, " ".join(found[:2]))
        subject = getattr(entry, "person", None) or getattr(entry, "name", None) or entry.title
        answer = Answer(
            question=query.text,
            intent="partial",
            found=False,
            text=partial_text(
                field,
                subject,
                sentences(entry.text)[0],
                self._general_contact(entry, state),
                language=query.language,
            ),
            source_note=source_note([entry], language=query.language),
            sources=[source_ref(entry)],
            language=query.language,
        )
        return self._frame(query, answer)

    def _facts(self, query: Query, entry: AnyEntry, text: str, about: AnyEntry | None = None) -> Answer:
        """A fact from `entry`; `about` is the person it names (a chair), whom the next follow-up refers to."""
        answer = Answer(
            question=query.text,
            intent=_intent(query, entry),
            found=True,
            text=text,
            source_note=source_note([entry], language=query.language),
            sources=[source_ref(entry)],
            about=about.id if about else None,
            language=query.language,
        )
        return self._frame(query, answer)

    def _partial(
        self,
        query: Query,
        entry: AnyEntry,
        weights: dict[str, float],
        state: _State,
        vector: np.ndarray,
        hits: list[Hit],
    ) -> Answer:
        """Known topic, unknown detail: say what is missing and what is known, never the missing fact."""
        known = self._passage(query, entry, weights, state, vector, budget=220)
        subject = getattr(entry, "person", None) or getattr(entry, "name", None) or entry.title
        text = partial_text(
            query.field or "", subject, known, self._general_contact(entry, state), language=query.language
        )
        answer = Answer(
            question=query.text,
            intent="partial",
            found=False,
            text=text,
            source_note=source_note([entry], language=query.language),
            sources=[source_ref(h.entry, h.score) for h in hits[:3]],
        )
        return self._frame(query, answer)

    def _general_contact(self, entry: AnyEntry, state: _State) -> str | None:
        """An e-mail address for general enquiries: the entry's own organisation first, else its source's."""
        org = getattr(entry, "organisation", None) or getattr(entry, "organiser", None)
        for contact in state.general_contacts:
            if org and contact.organisation == org:
                return contact.email
        for contact in state.general_contacts:
            if contact.source.document == entry.source.document:
                return contact.email
        return None

    def _decline(self, query: Query, state: _State, hits: list[Hit] | None = None) -> Answer:
        return Answer(
            question=query.text,
            intent="none",
            found=False,
            text=decline_text(query.language, state.overview.topics),
            sources=[source_ref(h.entry, h.score) for h in (hits or [])[:3]],
            language=query.language,
        )

    @staticmethod
    def _frame(query: Query, answer: Answer) -> Answer:
        """English questions get an English lead-in; the knowledge itself stays German."""
        if query.language == "en" and answer.found:
            return replace(answer, text=f"{EN_LEAD}\n{answer.text}", language="en")
        return replace(answer, language=query.language)

    def _more(self, hits: list[Hit], today: date, shown: list[AnyEntry], language: str = "de") -> list[str]:
        floor = self.config.answer.more_min_similarity
        by_id = self._state.by_id
        out = []
        for hit in hits:
            if hit.entry in shown or hit.dense < floor:
                continue
            extra = always(hit.entry, hit.entry.text, by_id, today, language=language)
            body = "\n".join([hit.entry.text, *extra])
            out.append(f"{hit.entry.title}\n{body}\n{source_note([hit.entry], language=language)}")
            if len(out) >= self.config.answer.max_list:
                break
        return out

    # ----------------------------------------------------------------- lists for commands and buttons

    def upcoming_events(self, today: date | None = None, language: str = "de") -> Answer:
        state = self._state
        today = today or self.config.today_or_now()
        return listings.next_events(
            "/termine", state.events, today, None, state.by_id, self.config.answer.max_list, language=language
        )

    def funding_overview(self, today: date | None = None, language: str = "de") -> Answer:
        state = self._state
        today = today or self.config.today_or_now()
        return listings.funding_overview(
            state.calls, today, state.by_id, self.config.answer.max_list, language=language
        )

    def contacts_for(self, topic: str, today: date | None = None) -> Answer:
        """Contact persons for a topic; a place the topic names must be theirs."""
        state = self._state
        query = understand(topic, state.series_terms, state.index.vocabulary)
        result = self.retrieve(query.text, types={"contact"}, limit=self.config.answer.max_list)
        floor = self.config.answer.more_min_similarity
        hits = [h for h in result.hits if h.dense >= floor or h.lexical > 0][: self.config.answer.max_list]
        hits = [h for h in hits if decide.places_agree(query.places, set(state.places(h.entry))).passed]
        if not hits:
            return self._decline(query, state)
        return listings.contact_list(topic, [h.entry for h in hits], state.by_id, language=query.language)

    def overview(self) -> Overview:
        return self._state.overview

    def entries(self) -> list[AnyEntry]:
        """All entries of the loaded index (for subscriptions and calendar files)."""
        return self._state.index.entries

    def entry(self, entry_id: str) -> AnyEntry | None:
        return self._state.by_id.get(entry_id)

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
        queues = [queue[k % len(queue) :] + queue[: k % len(queue)] for k, queue in enumerate(queues)]
        out: list[str] = []
        for round_ in zip(*queues, strict=False):
            out += round_
        return out[:n]


_DAY = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b")


def _on_date(entry: AnyEntry, dates: tuple[tuple[int, int, int | None], ...]) -> bool:
    """Whether an entry is about a date the question names: an event on that day (a month named alone matches
    its days) or a text giving that date ("Beim 8. Regionaldialog (20.02.2024) …")."""
    if not dates:
        return False  # most questions name no date: no scan of the entry's text
    when = entry.date if isinstance(entry, Event) else None
    specific = len(set(_DAY.findall(entry.text))) <= 2  # an overview of many dates is about none of them
    for year, month, day in dates:
        if when is not None and (when.year, when.month) == (year, month) and day in (None, when.day):
            return True
        if not specific:
            continue
        days = rf"{day:02d}|{day}" if day else r"\d{1,2}"
        if re.search(rf"\b(?:{days})\.0?{month}\.{year}\b", entry.text):
            return True
    return False


def _asks_person(query: Query) -> bool:
    """ "*Wer* ist Ansprechpartner …?" wants a person or an address; "An wen / welche AG wende ich mich?" may be
    answered by a body."""
    return not query.which and any(w in ("wer", "who", "whom") for w in query.words)


def _unset(entry: AnyEntry, field: str | None) -> bool:
    """An event's place is its `place` field: without it, a town its text mentions is no venue ("Wo findet
    der Regionaldialog am 13.06. statt?" – the Landkreis of its topic is not where it takes place)."""
    return field == "place" and isinstance(entry, Event) and not entry.place


def _holds(entry: AnyEntry, field: str, state: _State) -> bool:
    """Whether the entry has the asked field in its structure (a chair, members, contacts, a place …)."""
    return bool(getattr(entry, field, None) or field_text(entry, field, state.by_id, date.min))


def _mentions_day(text: str, event: Event) -> bool:
    """Whether a text already gives the event's date (as German or English answers write it)."""
    return event.date is not None and any(date_text(event.date, lang) in text for lang in ("de", "en"))


_PLACE_NOTE = re.compile(r"(\w+)\s*\(([^()]{1,40})\)")  # "Halle (Saale)", "Frankfurt (Oder)"


def _beyond_place(query: Query, vocabulary: frozenset[str]) -> list[str]:
    """Content terms of the question that are no place name, part of one ("Halle (Saale)") or place adjective
    ("hallesche")."""
    place_words = [w for w in query.words if places_in(w) or adjective_place(w)]
    place_words += [m[2] for m in _PLACE_NOTE.finditer(query.text) if places_in(m[0])]
    places = set(tokens(" ".join([*query.places, *place_words]), vocabulary))
    return [t for t in query.content if t not in places]


def _weighted_share(
    weights: dict[str, float], terms: frozenset[str], alternatives: dict[str, frozenset[str]] | None = None
) -> float:
    """Idf-weighted share of the question's terms the entry holds – itself, or at reduced weight as a synonym
    (a group may join a verb to a noun: "bewerben" is no "Antrag")."""
    total = sum(weights.values())
    alternatives = alternatives or {}
    held = sum(
        w if t in terms else SYNONYM_CREDIT * w
        for t, w in weights.items()
        if t in terms or not alternatives.get(t, frozenset()).isdisjoint(terms)
    )
    return held / total if total else 0.0


def _narrower(question: str) -> list[str]:
    """Narrower questions to try when the whole is declined: without who asks, then the first of several."""
    reduced = clauses.without_intro(question)
    tries = [reduced, clauses.first_of(reduced or question)]
    return list(dict.fromkeys(t for t in tries if t))


def _with_ordinal(query: Query) -> str:
    """The question as searched: a numbered event also in the form the knowledge writes it ("the seventh
    Regionaldialog" → "… (7. Regionaldialog)"), so words and vectors find that event."""
    if query.ordinal is None or not query.series:
        return query.text
    return f"{query.text} ({query.ordinal}. {query.series})"


def _siblings(a: AnyEntry, b: AnyEntry) -> bool:
    """Two entries cut from one source under nearly the same title ("… Teil 1" / "… Teil 2"), or linked ones
    sharing half of it (overview / detail)."""
    if a.source.document != b.source.document:
        return False
    ta, tb = set(tokens(a.title)), set(tokens(b.title))
    share = len(ta & tb) / min(len(ta), len(tb)) if ta and tb else 0.0
    linked = b.id in {ref for _, ref in a.references()} or a.id in {ref for _, ref in b.references()}
    return share >= 0.6 or (linked and share >= 0.5)


COMPLEMENT_SHARE = 0.25  # of the question's term weight a linked entry must add that the answer lacks
COMPLEMENT_GAP = 0.3  # and it may score at most this much below the chosen entry
COMPLEMENT_DEPTH = 10  # among the first hits after the chosen one (those within COMPLEMENT_GAP)


def _complements(
    entry: AnyEntry,
    runner: Hit,
    chosen: Hit,
    body: str,
    weights: dict[str, float],
    state: _State,
    alternatives: dict[str, frozenset[str]] | None = None,
) -> bool:
    """A linked entry (the ÖPNV part of the event asked about) that holds what the answer lacks: "Welche
    Busangebote wurden in Wettelrode vorgestellt?" – the event says where, its linked part which buses. A
    term counts as held also as a synonym ("Zukunft" – "perspektivisch")."""
    other = runner.entry
    linked = other.id in {ref for _, ref in entry.references()} or entry.id in {
        ref for _, ref in other.references()
    }
    total = sum(weights.values())
    if not linked or not total or chosen.score - runner.score > COMPLEMENT_GAP:
        return False
    alternatives = alternatives or {}
    have = set(tokens(body, state.index.vocabulary)) | state.terms(entry)
    theirs = state.terms(other)

    def held(t: str, terms: set[str] | frozenset[str]) -> bool:
        return t in terms or not alternatives.get(t, frozenset()).isdisjoint(terms)

    adds = sum(w for t, w in weights.items() if not held(t, have) and held(t, theirs))
    return adds / total >= COMPLEMENT_SHARE


def _adds(extra: str, body: str, weights: dict[str, float], state: _State) -> bool:
    """A sibling's passage is worth showing when it holds question terms the first passage lacks."""
    have = set(tokens(body, state.index.vocabulary))
    new = {t for t in tokens(extra, state.index.vocabulary) if t in weights and t not in have}
    return bool(new) and extra not in body


def _ordered(hits: list[Hit], shown: list[AnyEntry]) -> list[Hit]:
    first = [h for e in shown for h in hits if h.entry.id == e.id]
    return first + [h for h in hits if h.entry not in shown]


def _intent(query: Query, entry: AnyEntry) -> str:
    if isinstance(entry, FundingCall):
        return "funding"
    if isinstance(entry, Event):
        return "event"
    if isinstance(entry, Contact) or query.field in ("contact", "email", "phone"):
        return "contact"
    return "fact"
