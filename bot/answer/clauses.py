"""Two questions in one: the later part an answer leaves open ("Wie viele Akteure …, und welchen Teil der
Fläche umfasst sie?").

The engine answers the whole question first. When a later clause asks something of its own (a question word
or an asked field) and the answer holds too little of that clause's specific terms, the clause is asked again
about the same subject and both answers are shown. Pure functions: the engine supplies the term weights.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.answer.query import FIELD_CUES, FILLER, compile_cues, cue_hits, field_of
from bot.text import fold, sentences, tokens

CLAUSES = re.compile(r"\s*(?:,\s*)?\b(?:und|and|sowie)\b\s*|\s*[;,]\s*", re.IGNORECASE)
QUESTION_WORDS = frozenset({
    "wer", "was", "wie", "wann", "wo", "woher", "wohin", "welche", "welcher", "welches", "welchen", "welchem",
    "warum", "wozu", "wieso", "weshalb", "wieviel", "wen", "wem", "who", "what", "how", "when", "where",
    "which", "why", "whom",
})  # fmt: skip
OPEN_SHARE = 0.67  # a clause is open when the answer holds less than this share of its terms' weight
PART_CHARS = 200  # a second answer longer than this keeps only the sentences about its clause
MIN_PART_SHARE = 0.4  # and the answer to it must hold at least this share (and more than the first answer)
_WORD = re.compile(r"[^\W_]+")
_FIELDS = compile_cues(FIELD_CUES)


def asks(clause: str) -> bool:
    """Whether a clause is a question of its own: a question word among its first words, or an asked field."""
    words = tuple(_WORD.findall(fold(clause)))
    if not words:
        return False
    lead = words[:3]  # "mit welchem Regionalmanagement …", "bis wann …", "in which year …"
    return not QUESTION_WORDS.isdisjoint(lead) or field_of(fold(clause), cue_hits(words, _FIELDS)) is not None


def first_of(question: str) -> str | None:
    """The first question of several ("Wer ist der Vize, und welches Amt hat er?" → "Wer ist der Vize");
    None when the question is one."""
    parts = [c for c in CLAUSES.split(question) if c and c.strip()]
    if len(parts) < 2 or not any(asks(c) for c in parts[1:]) or not asks(parts[0]):
        return None
    return parts[0].strip()


_INTRO = re.compile(
    r"^\W*(?:(?:hallo|hi|hello|guten tag|moin)\W+)?(?:ich|wir|i|we)\s+(?:bin|sind|arbeite|arbeiten|betreibe|"
    r"betreiben|leite|leiten|vertrete|vertreten|am|are|work|run|represent)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def without_intro(text: str) -> str | None:
    """The message without the sentence parts in which the asker says who they are ("Wir sind ein
    Handwerksbetrieb in Nordthüringen und suchen Azubis. Gibt es …?" → "suchen Azubis. Gibt es …?");
    None when there is no such part or nothing else."""
    kept: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        head, _, rest = sentence.partition(" und ")
        if _INTRO.match(head):
            kept += [rest] if rest.strip() else []
        else:
            kept.append(sentence)
    reduced = " ".join(kept).strip()
    return reduced if reduced and reduced != text.strip() else None


def held_share(weights: dict[str, float], held: set[str], alternatives: dict[str, frozenset[str]]) -> float:
    """Idf-weighted share of the terms held, directly or as a synonym."""
    total = sum(weights.values())
    if not total:
        return 1.0
    return (
        sum(
            w
            for t, w in weights.items()
            if t in held or not alternatives.get(t, frozenset()).isdisjoint(held)
        )
        / total
    )


def open_clause(
    question: str,
    answer_terms: set[str],
    weigh: Callable[[str], dict[str, float]],
    alternatives: dict[str, frozenset[str]],
) -> tuple[int, str] | None:
    """(position, text) of the first clause of a question in several parts whose specific terms the answer mostly lacks (a later
    one only when it asks on its own); None for a question in one part or an answer that covers all parts.
    `weigh` gives a clause's terms with their idf."""
    clauses = [c for c in CLAUSES.split(question) if c and c.strip()]
    if not any(asks(c) for c in clauses[1:]):
        return None  # one question ("Was macht die AG Verkehr und Mobilität?")
    for i, clause in enumerate(clauses):
        if i and not asks(clause):  # the first part is the question itself
            continue
        weights = {t: w for t, w in weigh(clause).items() if t not in FILLER}
        if weights and held_share(weights, answer_terms, alternatives) < OPEN_SHARE:
            return i, clause.strip()
    return None


def new_part(text: str, shown: str, asked: set[str], vocabulary: frozenset[str]) -> str:
    """The second answer without what the first already says, and – when it is long – only the sentences that
    hold a term of the clause it answers (in their order)."""
    fresh = [s for s in sentences(text) if s not in shown]
    if sum(len(s) for s in fresh) > PART_CHARS:
        holding = [s for s in fresh if not asked.isdisjoint(tokens(s, vocabulary))]
        fresh = holding or fresh
    return " ".join(fresh) if fresh else text
