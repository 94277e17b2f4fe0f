"""Whether to answer: named checks with their numbers, like Rasa's FallbackClassifier.

Every path (single passages, field answers, lists of events or calls) goes through `verdict`; each
check is logged with its value and limit so a wrong decline can be traced to the rule that made it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeVar

import numpy as np

from bot.answer.select import carries, only_counted
from bot.places import is_land, within

log = logging.getLogger(__name__)

Action = Literal["answer", "partial", "decline"]
Num = TypeVar("Num", float, np.ndarray)  # one formula for a question and for calibration's arrays
Num = TypeVar("Num", float, np.ndarray)


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    value: float | str
    limit: float | str

    def __str__(self) -> str:
        value = f"{self.value:.3f}" if isinstance(self.value, float) else self.value
        limit = f"{self.limit:.3f}" if isinstance(self.limit, float) else self.limit
        return f"{self.name}={'ok' if self.passed else 'FAIL'} ({value} vs {limit})"


@dataclass(frozen=True)
class Verdict:
    action: Action
    checks: tuple[Check, ...]

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed]


def confidence(dense: Num, coverage: Num, overlap: Num, coverage_weight: float, overlap_weight: float) -> Num:
    """Calibrated 0..1 belief that a passage answers: its cosine, the share of question terms the knowledge
    knows at all, and the idf-weighted share of question terms the passage holds."""
    value = np.clip(dense + coverage_weight * coverage + overlap_weight * overlap, 0.0, 1.0)
    return value if isinstance(value, np.ndarray) else float(value)


def confident(value: float, threshold: float) -> Check:
    return Check("confidence", value >= threshold, value, threshold)


def places_agree(asked: Iterable[str], answered: set[str], known: frozenset[str] = frozenset()) -> Check:
    """A place the question names must be one the answer is about ("Regionaldialog in Bremen").

    A place may be part of a longer name ("Braunschweig" in "Metropolregion Hannover Braunschweig …"), and
    an answer about a town or region answers for the Land it lies in ("Nordthüringen" for "Thüringen"), not
    the other way round (a passage about Sachsen-Anhalt says nothing about Magdeburg). A question naming
    several places ("Wie hängen das Forum Halle und das Forum Mitteldeutschland zusammen?") is answered by
    a passage about one of them, as long as the others are `known` places of the knowledge too."""
    asked = set(asked)
    missing = sorted(p for p in asked if not _agrees(p, answered))
    if missing and len(missing) < len(asked) and all(_agrees(p, set(known)) for p in missing):
        missing = []
    return Check("places", not missing, ", ".join(missing) or "-", "in der Antwort")


def _agrees(asked: str, answered: set[str]) -> bool:
    return any(_names(a, asked) or within(a, asked) for a in answered)


def _names(answered: str, asked: str) -> bool:
    """The asked place is the answered one or part of its name ("Braunschweig" in "Hannover Braunschweig …",
    "Südharz" in "Mansfeld-Südharz") – a Land only as a whole word ("Sachsen" is not in "Sachsen-Anhalt")."""
    if f" {asked} " in f" {answered} ":
        return True
    return not is_land(asked) and f" {asked} " in f" {answered.replace('-', ' ')} "


def beyond_place(
    rest: Iterable[str], held: Iterable[str], dense: float, min_dense: float, known: Iterable[str] = ()
) -> Check:
    """A question that shares only its place with the answer ("Wie wird das Wetter morgen in Halle?" and the
    Regionalforum Halle) needs a close meaning: a paraphrase ("Wie viele Menschen wohnen im Verbund um
    Hannover …?") shares no word either, but its cosine is high. `rest`: the question's other content terms;
    `known`: those the knowledge uses anywhere – when it uses none ("Wer ist Ministerpräsident von
    Sachsen-Anhalt?"), no cosine makes the place an answer (only for German questions: pass `known=rest`)."""
    rest = set(rest)
    alone = bool(rest) and rest.isdisjoint(held)
    passed = not alone or (dense >= min_dense and not rest.isdisjoint(known))
    return Check("beyond_place", passed, dense if alone else "-", min_dense)


def unambiguous(gap: float, value: float, threshold: float, margin: float, conflicting: bool) -> Check:
    """Just above the threshold, the best passage must beat a *conflicting* runner-up clearly.

    Siblings from one source do not conflict: they are combined instead of declined.
    """
    passed = not conflicting or gap >= margin or value >= threshold + margin
    return Check("margin", passed, gap, margin)


def has_asked_value(
    field: str | None,
    text: str,
    counted: frozenset[str] = frozenset(),
    unset: bool = False,
    which: str = "",
    people: Iterable[str] = (),
) -> Check:
    """The answer must hold a value of the asked kind; `unset`: the entry's own field for it is empty; `which`:
    the things a "welche …?" question asks to name must not appear only as a count ("sieben Welterbestätten");
    `people`: the knowledge's contact persons – naming one answers "An wen wende ich mich?" as an address does."""
    named = any(p in text for p in people)
    found = named if field == "person" else carries(field, text, counted) or (field == "contact" and named)
    passed = not unset and found and not only_counted(text, which)
    return Check("asked_field", passed, field or which or "-", "Wert im Text")


_DAY = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
_YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")


def names_a_future_date(text: str, today: date) -> Check:
    """ "Wann ist die *nächste* Sitzung?" needs a date from today on; a founding year is no next meeting."""
    days = [(int(y), int(m), int(d)) for d, m, y in _DAY.findall(text)]
    future = any((y, m, d) >= (today.year, today.month, today.day) for y, m, d in days)
    future = future or any(int(y) > today.year for y in _YEAR.findall(_DAY.sub("", text)))
    return Check("asked_field", future, "nächster Termin", f"ab {today:%d.%m.%Y}")


def covers(content: Iterable[str], known: set[str]) -> Check:
    """Every specific word of a list question must be something the listed entries are about."""
    missing = sorted(set(content) - known)
    return Check("topic", not missing, ", ".join(missing) or "-", "in der Liste")


def verdict(question: str, checks: list[Check]) -> Verdict:
    """Decline when confidence, place, ambiguity or topic fail; a missing asked value alone gives a partial answer."""
    failed = {c.name for c in checks if not c.passed}
    if failed - {"asked_field"}:
        action: Action = "decline"
    elif failed:
        action = "partial"
    else:
        action = "answer"
    log.debug("%s → %s: %s", question[:80], action, "; ".join(map(str, checks)))
    return Verdict(action, tuple(checks))
