"""Knowledge schema and loader: YAML files in knowledge/ → typed entries, or `file:line` problems.

Staff edit these files by hand, so every problem is reported in German with the file, the line and
what to write instead, and all problems of a folder are collected in one run. An error stands where it
is caused: a file that does not parse is one error, and references into it are no errors of their own.
With a "today" (`regiobot check`), warnings point at knowledge that went stale or drifted apart.

The loader is also the bot's border against broken or hostile files: anchors and aliases (the "billion
laughs" alias bomb) are refused before anything is built, files, entries and values are bounded by
`limits:` in config.yaml, any value a message quotes is clipped, symbolic links out of the folder are
not followed, and any failure while reading a file (even MemoryError) is a problem of that file.
"""

from __future__ import annotations

import calendar
import contextlib
import difflib
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.config import LimitSettings

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- quoting values in messages

QUOTE_CHARS = 80  # most characters of a value a message quotes
MESSAGE_CHARS = 1_000  # most characters of one problem message, whatever it quotes
_MAX_DEPTH = 20


def _pieces(value: Any, depth: int = 0) -> Iterator[str]:
    """A repr-like rendering piece by piece, so a caller can stop early on a huge or deeply nested value."""
    if depth > _MAX_DEPTH:
        yield "…"
    elif isinstance(value, str):
        yield value[: QUOTE_CHARS + 1]
    elif isinstance(value, dict):
        yield "{"
        for n, (key, item) in enumerate(value.items()):
            yield ", " if n else ""
            yield from _pieces(key, depth + 1)
            yield ": "
            yield from _pieces(item, depth + 1)
        yield "}"
    elif isinstance(value, list | tuple | set | frozenset):
        yield "["
        for n, item in enumerate(value):
            yield ", " if n else ""
            yield from _pieces(item, depth + 1)
        yield "]"
    elif value is None or isinstance(value, bool | int | float | date):
        yield str(value)[: QUOTE_CHARS + 1]
    else:
        yield f"<{type(value).__name__}>"


def clip(value: Any, limit: int = QUOTE_CHARS) -> str:
    """`value` as text of at most `limit` characters, "…" where cut: messages never copy a huge value."""
    out, size = [], 0
    for piece in _pieces(value):
        out.append(piece)
        size += len(piece)
        if size > limit:
            break
    text = "".join(out)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- dates

MONTHS = [
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
]  # fmt: skip
_MONTH_LOOKUP = {m.lower(): i + 1 for i, m in enumerate(MONTHS)} | {"maerz": 3, "marz": 3}
PARTS = {"anfang": "Anfang", "mitte": "Mitte", "ende": "Ende"}
DATE_HINT = (
    "Schreiben Sie ein Datum als JJJJ-MM-TT (z. B. 2024-03-21), einen Monat als JJJJ-MM (z. B. 2024-04) "
    "oder mit Zusatz wie „Ende April 2024“ bzw. „Ende 2024-04“."
)


class When(BaseModel):
    """A date that may be partial ("Ende April 2024"): never stored as a made-up day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    year: int = Field(ge=1900, le=2100)
    month: int | None = Field(None, ge=1, le=12)
    day: int | None = Field(None, ge=1, le=31)
    part: Literal["anfang", "mitte", "ende"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if isinstance(value, date):
            return {"year": value.year, "month": value.month, "day": value.day}
        if isinstance(value, int):
            return {"year": value}
        if isinstance(value, str):
            return parse_when(value)
        return value

    @model_validator(mode="after")
    def _check(self) -> When:
        if self.day is not None:
            if self.month is None:
                raise ValueError("ein Tag braucht auch einen Monat")
            date(self.year, self.month, self.day)  # raises ValueError for 2024-02-30
            if self.part:
                raise ValueError("ein genaues Datum braucht keinen Zusatz wie „Ende“")
        return self

    @property
    def exact(self) -> bool:
        return self.day is not None

    def earliest(self) -> date:
        if self.day is not None:
            return date(self.year, self.month or 1, self.day)
        return self._span()[0]

    def latest(self) -> date:
        if self.day is not None:
            return self.earliest()
        return self._span()[1]

    def _span(self) -> tuple[date, date]:
        if self.month is None:
            start, end = date(self.year, 1, 1), date(self.year, 12, 31)
        else:
            start = date(self.year, self.month, 1)
            end = date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        if self.part is None:
            return start, end
        third = (end - start).days // 3
        return {
            "anfang": (start, start + timedelta(days=third)),
            "mitte": (start + timedelta(days=third), end - timedelta(days=third)),
            "ende": (end - timedelta(days=third), end),
        }[self.part]

    def german(self) -> str:
        """DD.MM.YYYY for exact dates, "Ende April 2024" for partial ones."""
        if self.day is not None:
            return f"{self.day:02d}.{self.month:02d}.{self.year}"
        text = f"{MONTHS[self.month - 1]} {self.year}" if self.month else str(self.year)
        return f"{PARTS[self.part]} {text}" if self.part else text


def parse_when(text: str) -> dict[str, Any]:
    """Parse "2024-02-20", "2024-04", "2024", "Ende 2024-04", "Ende April 2024"."""
    raw = " ".join(text.strip().split())
    words = raw.split(" ")
    out: dict[str, Any] = {}
    if words and words[0].lower() in PARTS:
        out["part"] = words[0].lower()
        words = words[1:]
    rest = " ".join(words)
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", rest):
        return out | {"year": int(m[1]), "month": int(m[2]), "day": int(m[3])}
    if m := re.fullmatch(r"(\d{4})-(\d{2})", rest):
        return out | {"year": int(m[1]), "month": int(m[2])}
    if m := re.fullmatch(r"(\d{4})", rest):
        return out | {"year": int(m[1])}
    if m := re.fullmatch(r"([A-Za-zÄÖÜäöü]+) (\d{4})", rest):
        month = _MONTH_LOOKUP.get(m[1].lower())
        if month:
            return out | {"year": int(m[2]), "month": month}
    raise ValueError(f"„{clip(text)}“ ist kein erkennbares Datum")


# --------------------------------------------------------------------------- schema

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Source(Model):
    document: str = Field(min_length=1, description="Name of the source document or page.")
    file: str | None = Field(None, description="File in shared/seeds the entry was curated from.")
    url: str | None = Field(None, pattern=r"^https?://\S+$")
    as_of: When | None = Field(None, description="Date the information is valid for.")


class Person(Model):
    name: str = Field(min_length=1)
    role: str | None = None
    organisation: str | None = None
    talk: str | None = Field(None, description="Title or topic of the person's contribution.")


class Entry(Model):
    """Fields every entry has; one entry answers one thing well."""

    REFS: ClassVar[tuple[str, ...]] = ("related",)

    id: str
    type: str
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)
    tags: list[str] = []
    questions: list[str] = []
    related: list[str] = []
    source: Source
    updated: date
    review: Literal["offen", "geprüft"] | None = None  # `regiobot import` marks what it detected: "offen"

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(
                f"„{clip(value)}“ ist keine gültige ID: nur Kleinbuchstaben, Ziffern und Bindestriche, "
                "z. B. „regionaldialog-8“"
            )
        return value

    @field_validator("text", "title")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("darf nicht leer sein")
        return value

    def references(self) -> Iterable[tuple[str, str]]:
        """(field, id) pairs this entry points to."""
        for name in self.REFS:
            value = getattr(self, name)
            for ref in value if isinstance(value, list) else [value]:
                if ref:
                    yield name, ref


OrgKind = Literal[
    "forum", "gremium", "arbeitsgruppe", "projektgruppe", "gmbh", "verein", "landkreis",
    "stadt", "netzwerk", "metropolregion", "regionalmanagement", "sonstige",
]  # fmt: skip


class Organisation(Entry):
    REFS = ("related", "parent", "chair", "deputy")
    type: Literal["organisation"]
    name: str = Field(min_length=1)
    kind: OrgKind
    parent: str | None = Field(None, description="id of the umbrella body")
    members: list[str] = []
    chair: str | None = Field(None, description="id of a contact entry")
    deputy: str | None = Field(None, description="id of a contact entry")
    meeting_rhythm: str | None = None
    tasks: list[str] = []
    focus_areas: list[str] = []
    founded: When | None = None
    legal_form: str | None = None


class Contact(Entry):
    REFS = ("related", "organisation")
    type: Literal["contact"]
    person: str = Field(min_length=1)
    role: str | None = None
    organisation: str | None = Field(None, description="id of an organisation entry")
    organisation_name: str | None = None
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    phone: str | None = None
    topics: list[str] = []


class FundingCall(Entry):
    REFS = ("related", "organisation", "contacts")
    type: Literal["funding_call"]
    programme: str = Field(min_length=1)
    organisation: str | None = None
    opens: date | None = None
    closes: date | None = None
    topics: list[str] = []
    eligible: str | None = Field(None, description="Who may apply.")
    amount: str | None = None
    contacts: list[str] = []

    @field_validator("closes")
    @classmethod
    def _period(cls, closes: date | None, info: ValidationInfo) -> date | None:
        opens = info.data.get("opens")
        if opens and closes and closes < opens:
            raise ValueError(
                f"Ende {closes:%d.%m.%Y} liegt vor dem Beginn „opens“ {opens:%d.%m.%Y}; "
                "das Ende muss am oder nach dem Beginn liegen"
            )
        return closes


class Event(Entry):
    REFS = ("related", "organiser", "contacts")
    type: Literal["event"]
    series: str | None = None
    number: int | None = Field(None, ge=1)
    date: When | None = None
    status: Literal["stattgefunden", "geplant", "abgesagt"] = "stattgefunden"
    place: str | None = None
    topic: str | None = None
    format: Literal["praesenz", "online", "hybrid"] | None = None
    speakers: list[Person] = []
    organiser: str | None = None
    contacts: list[str] = []


class Project(Entry):
    REFS = ("related", "organisation")
    type: Literal["project"]
    name: str = Field(min_length=1)
    organisation: str | None = None
    description: str | None = None
    status: str | None = None
    partners: list[str] = []


class Membership(Entry):
    REFS = ("related", "body")
    type: Literal["membership"]
    member: str = Field(min_length=1, description="The paying/participating authority, e.g. Landkreis Peine.")
    body: str = Field(min_length=1, description="id of the organisation entry")
    annual_amount_eur: float | None = Field(None, ge=0)
    amount_note: str | None = None


class Info(Entry):
    type: Literal["info"]


ENTRY_TYPES: dict[str, type[Entry]] = {
    "organisation": Organisation,
    "contact": Contact,
    "funding_call": FundingCall,
    "event": Event,
    "project": Project,
    "membership": Membership,
    "info": Info,
}
AnyEntry = Organisation | Contact | FundingCall | Event | Project | Membership | Info
FILE_KEYS = {"defaults", "entries"}
DEFAULTABLE = {"source", "updated", "tags"}

# --------------------------------------------------------------------------- YAML with line numbers


class LineDict(dict):
    """A mapping that remembers where it and each of its keys stand in the file."""

    line: int = 0
    key_lines: dict[str, int]
    inherited: tuple[str, ...] = ()  # keys an entry took from the file's `defaults`


class LineList(list):
    """A sequence that remembers the line of each item: a reference error points at its list item."""

    item_lines: list[int]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when available: about 4x faster
    duplicate_keys: list[tuple[str, int]]


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:  # a list or mapping as field name: validation then names it as unknown field
            key = clip(key)
        if key in result:
            loader.duplicate_keys.append((str(key), key_node.start_mark.line + 1))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = key_node.start_mark.line + 1
    return result


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """An impossible date such as 2024-02-30 stays text, so validation reports it at its line."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return node.value


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    message: str
    warning: bool = False

    def __post_init__(self) -> None:
        if len(self.message) > MESSAGE_CHARS:  # a last guard: one problem line stays readable
            object.__setattr__(self, "message", self.message[: MESSAGE_CHARS - 1] + "…")

    def __str__(self) -> str:
        prefix = "Warnung: " if self.warning else ""
        return f"{self.file}:{self.line}: {prefix}{self.message}"


@dataclass(frozen=True)
class Unread:
    """An entry id seen in a file whose entry could not be read: references to it are not "dangling"."""

    file: str
    line: int
    whole_file: bool  # the file did not parse (else only this entry is invalid)


@dataclass
class Knowledge:
    entries: list[AnyEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    locations: dict[str, tuple[str, int]] = field(default_factory=dict)
    lines: dict[str, dict[str, int]] = field(default_factory=dict)  # id → field ("contacts[1]") → line
    inherited: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id → keys taken from `defaults`
    unread: dict[str, Unread] = field(default_factory=dict)
    blind: list[str] = field(default_factory=list)  # files not read at all: which ids they hold is unknown

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.warning]

    @property
    def ok(self) -> bool:
        return not self.errors

    def by_id(self) -> dict[str, AnyEntry]:
        return {e.id: e for e in self.entries}

    def summary(self) -> str:
        counts = Counter(e.type for e in self.entries)
        parts = ", ".join(f"{counts[t]} {t}" for t in ENTRY_TYPES if counts[t])
        files = len({loc[0] for loc in self.locations.values()})
        return f"{len(self.entries)} Einträge in {files} Dateien ({parts or 'keine'})"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _field_names(model: type[Entry]) -> list[str]:
    return list(model.model_fields)


DATE_FIELDS = {"date", "as_of", "founded", "opens", "closes", "updated"}
BOUNDS = {"greater_than_equal": "mindestens", "less_than_equal": "höchstens", "greater_than": "größer als",
          "less_than": "kleiner als"}  # fmt: skip


def _either(values: list[str]) -> str:
    """ "a, b oder c": how a German sentence lists the allowed values."""
    return f"{', '.join(values[:-1])} oder {values[-1]}" if len(values) > 1 else "".join(values)


def _explain(err: dict[str, Any], model: type[Entry]) -> str:
    """Turn one pydantic error into a sentence a non-programmer can act on."""
    loc = [clip(p) for p in err["loc"]]
    name = clip(".".join(loc)) or "Eintrag"
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _field_names(model) if len(loc) == 1 else []
        close = difflib.get_close_matches(loc[-1], allowed, n=1)
        hint = f" Meinten Sie „{close[0]}“?" if close else ""
        listing = f" Erlaubte Felder: {', '.join(allowed)}." if allowed else ""
        return f"unbekanntes Feld „{name}“.{hint}{listing}"
    if kind == "missing":
        return f"Pflichtfeld „{name}“ fehlt. Bitte ergänzen (siehe README, Abschnitt Schema)."
    if kind.startswith("date") or DATE_FIELDS.intersection(loc):
        given = err.get("input")
        if isinstance(given, str) and (m := re.fullmatch(r"\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*", given)):
            return (
                f"„{name}“: Datum bitte als {m[3]}-{int(m[2]):02d}-{int(m[1]):02d} schreiben statt „{given}“."
            )
        if kind == "value_error":
            msg = clip(str(err["msg"]).removeprefix("Value error, "), 300)
            return f"„{name}“: {msg}." + (
                f" {DATE_HINT}" if "Datum" in msg and "liegt vor" not in msg else ""
            )
        return f"„{name}“: kein gültiges Datum („{clip(given)}“). {DATE_HINT}"
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str(err["ctx"]["expected"]))
        close = difflib.get_close_matches(clip(err.get("input")), allowed, n=1)
        hint = f" Meinten Sie „{close[0]}“?" if close else ""
        return f"„{name}“ hat den Wert „{clip(err.get('input'))}“; erwartet: {_either(allowed)}.{hint}"
    if kind == "string_too_short":
        return f"„{name}“ darf nicht leer sein."
    if kind == "string_type":
        return f"„{name}“ muss ein Text sein (ggf. in Anführungszeichen setzen)."
    if kind == "list_type":
        return f"„{name}“ muss eine Liste sein: jede Zeile mit „- “ beginnen."
    if kind == "string_pattern_mismatch":
        what = {"email": "eine E-Mail-Adresse wie name@beispiel.de", "url": "eine Adresse mit https://"}
        return f"„{name}“ („{clip(err.get('input'))}“) ist keine gültige Angabe: erwartet wird {what.get(loc[-1], 'ein anderes Format')}."
    if kind in {"int_parsing", "int_type", "float_parsing", "float_type"}:
        return f"„{name}“ muss eine Zahl sein (ohne Einheit und Tausenderpunkt), z. B. 60000."
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"„{name}“ muss eine Zuordnung mit eingerückten Feldern sein (Feld: Wert)."
    if kind in BOUNDS:
        bound = next(iter(err.get("ctx", {}).values()), "?")
        return f"„{name}“ ist {clip(err.get('input'))}, muss aber {BOUNDS[kind]} {bound} sein."
    if kind == "bool_type":
        return f"„{name}“ muss „true“ oder „false“ sein."
    if kind == "value_error":  # our own validators speak German already
        msg = clip(str(err["msg"]).removeprefix("Value error, "), 300)
        return f"„{name}“: {msg}" if loc else msg
    original = clip(str(err["msg"]), 200)
    return f"„{name}“ hat einen ungültigen Wert („{clip(err.get('input'))}“; {original})."


def _line_for(raw: LineDict, loc: tuple[Any, ...]) -> int:
    """Walk the error location down the raw YAML to find the closest line."""
    line, node = raw.line, raw
    for part in loc:
        if isinstance(node, LineDict):
            line = node.key_lines.get(str(part), line)
            node = node.get(part)
            if isinstance(node, LineDict):
                line = node.line
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            if isinstance(node, LineDict):
                line = node.line
        else:
            break
    return line


def _size(n: float) -> str:
    """Bytes as German MB or KB ("52,0 MB")."""
    if n >= 100 * 1024:
        return f"{n / 1024 / 1024:.1f} MB".replace(".", ",")
    return f"{max(n / 1024, 0.1):.1f} KB".replace(".", ",")


def _number(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def max_file_bytes(limits: LimitSettings) -> int:
    return int(limits.max_file_mb * 1024 * 1024)


def read_text(
    path: Path, shown: str, problems: list[Problem], limits: LimitSettings | None = None
) -> str | None:
    """A knowledge file's text, or None with a problem: too large (checked before reading) or not UTF-8."""
    limit = max_file_bytes(limits or LimitSettings())
    too_big = (
        f"Die Datei ist zu groß ({{size}}, erlaubt sind höchstens {_size(limit)}). Bitte auf mehrere Dateien "
        "aufteilen oder die Grenze „limits.max_file_mb“ in config.yaml erhöhen."
    )
    try:
        size = path.stat().st_size
        if size > limit:
            problems.append(Problem(shown, 1, too_big.format(size=_size(size))))
            return None
        with path.open("rb") as handle:
            data = handle.read(limit + 1)  # the file may grow after stat: never read more than the limit
        if len(data) > limit:
            problems.append(Problem(shown, 1, too_big.format(size=f"über {_size(limit)}")))
            return None
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(shown, line, "Die Datei ist nicht UTF-8-kodiert. Bitte im Editor als „UTF-8“ speichern.")
        )
    except OSError as exc:
        problems.append(Problem(shown, 1, f"Datei kann nicht gelesen werden: {_os_reason(exc)}"))
    return None


def _os_reason(exc: OSError) -> str:
    """The operating system's reason in German (its own text, often English, in parentheses)."""
    if isinstance(exc, PermissionError):
        return "keine Leseberechtigung. Bitte die Dateirechte prüfen."
    if isinstance(exc, FileNotFoundError):
        return "sie wurde gerade gelöscht oder umbenannt."
    if isinstance(exc, IsADirectoryError):
        return "das ist ein Ordner."
    return f"Fehler des Betriebssystems ({clip(exc.strerror or exc, 120)})."


ANCHOR_HINT = (
    "YAML-Anker und -Verweise („{name}“) sind in Wissensdateien nicht erlaubt: bitte den Wert ausschreiben, "
    "statt ihn mit „&Name“ zu benennen und mit „*Name“ zu wiederholen. Beginnt ein Text mit „&“ oder „*“, "
    "bitte den ganzen Text in Anführungszeichen setzen."
)


def _first_anchor(text: str) -> tuple[int, str] | None:
    """Line and spelling of the first anchor or alias, from the event stream: nothing is built or expanded."""
    if "&" not in text and "*" not in text:
        return None
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            return event.start_mark.line + 1, f"*{clip(event.anchor, 40)}"
        if getattr(event, "anchor", None) is not None:
            return event.start_mark.line + 1, f"&{clip(event.anchor, 40)}"
    return None


QUOTE_IT = "bitte den ganzen Text in Anführungszeichen setzen"
INDENTATION = (
    "Die Einrückung stimmt nicht: Die Felder eines Eintrags stehen genau untereinander (gleich viele "
    "Leerzeichen), ebenso die Listeneinträge mit „- “. Steht nach einem Text in Anführungszeichen noch "
    "etwas in derselben Zeile, gehört es mit in die Anführungszeichen."
)
# (pattern in the context and problem of PyYAML or libyaml, German text, report at the context line?)
_YAML_MESSAGES: list[tuple[str, str, bool]] = [
    (
        r"tab character",
        "Tabulator gefunden – bitte Leerzeichen verwenden (YAML rückt nur mit Leerzeichen ein; im Editor "
        "die Tabulatoren durch Leerzeichen ersetzen).",
        False,
    ),
    (
        r"mapping values are not allowed",
        "Hier ist kein Doppelpunkt erlaubt – fehlen Anführungszeichen um den Text? Ein Text mit „: “ muss "
        'in Anführungszeichen stehen, z. B. title: "Ort: Halle". Sonst ist die Zeile vielleicht zu tief '
        "eingerückt.",
        False,
    ),
    (
        r"could not find expected ':'",
        "Hier fehlt der Doppelpunkt nach dem Feldnamen („feld: wert“) – oder die nächste Zeile eines "
        "langen Texts ist nicht tiefer eingerückt als der Feldname.",
        True,
    ),
    (
        r"quoted scalar.*end of stream",
        "Hier beginnt ein Text in Anführungszeichen, der nicht geschlossen wird – bitte das schließende "
        "Anführungszeichen ergänzen.",
        True,
    ),
    (r"expected <block end>|expected '-' indicator|did not find expected key", INDENTATION, False),
    (
        r"expected ',' or '\]'",
        "Eine Liste in eckigen Klammern „[…]“ ist nicht richtig geschlossen: Fehlt „]“ oder ein Komma "
        "zwischen den Einträgen? Enthält ein Eintrag ein Komma oder einen Doppelpunkt, ihn in "
        "Anführungszeichen setzen.",
        False,
    ),
    (
        r"expected ',' or '\}'",
        "Eine Zuordnung in geschweiften Klammern „{…}“ ist nicht richtig geschlossen: Fehlt „}“ oder ein "
        "Komma zwischen den Feldern?",
        False,
    ),
    (
        r"unknown escape character",
        "Unbekanntes Zeichen nach „\\“ in einem Text in doppelten Anführungszeichen – bitte einfache "
        "Anführungszeichen ('…') verwenden oder „\\\\“ schreiben.",
        False,
    ),
    (r"undefined alias", f"„*“ am Anfang eines Werts gilt in YAML als Verweis – {QUOTE_IT}.", False),
    (
        r"alphabetic or numeric character",
        f"„&“ oder „*“ am Anfang eines Werts hat in YAML eine besondere Bedeutung – {QUOTE_IT}.",
        False,
    ),
    (
        r"constructor for the tag",
        f"„!“ am Anfang eines Werts gilt in YAML als Markierung – {QUOTE_IT}.",
        False,
    ),
    (
        r"another document",
        "Die Datei enthält mehr als ein YAML-Dokument (Zeile mit „---“) – bitte die Zeile „---“ entfernen "
        "oder die Teile auf zwei Dateien verteilen.",
        False,
    ),
    (
        r"block scalar",
        "Nach „|“ oder „>“ muss die Zeile enden; der Text beginnt in der nächsten Zeile und ist tiefer "
        "eingerückt.",
        False,
    ),
    (r"comment or line break", f"Nach dem Wert steht in derselben Zeile noch etwas – {QUOTE_IT}.", False),
    (
        r"block sequence entries are not allowed",
        "Ein Listeneintrag „- “ steht an einer Stelle, an der keine Liste beginnen kann – bitte in eine "
        "eigene, tiefer eingerückte Zeile unter den Feldnamen setzen.",
        False,
    ),
    (
        r"node content",
        "Hier fehlt ein Wert, oder ein Zeichen wie „,“, „]“ oder „}“ steht an falscher Stelle.",
        False,
    ),
    (r"unexpected ':'", f"Doppelpunkt an unerwarteter Stelle – {QUOTE_IT}.", False),
    (r"unhashable key", "Ein Feldname darf keine Liste und keine Zuordnung sein.", False),
    (
        r"document start",
        "Unerwarteter Inhalt: Eine Wissensdatei besteht aus „defaults:“ und „entries:“; steht hier eine "
        "Zeile ohne „Feld: Wert“?",
        False,
    ),
    (
        r"nesting depth",
        "Die Datei ist zu tief verschachtelt – bitte die Einrückung und die Klammern prüfen.",
        False,
    ),
]
_YAML_PATTERNS = [
    (re.compile(pattern, re.S), text, at_context) for pattern, text, at_context in _YAML_MESSAGES
]
YAML_FALLBACK = (
    "Die Datei ist an dieser Stelle kein gültiges YAML ({original}). Häufige Ursachen: falsche Einrückung, "
    "fehlendes Leerzeichen nach „:“ oder „-“, eine nicht geschlossene Klammer oder ein Anführungszeichen, "
    "ein Doppelpunkt im Text ohne Anführungszeichen."
)


def _char_at(text: str, mark: Any) -> str:
    """The character a YAML error points at (libyaml does not name it; its column counts characters)."""
    if mark is None:
        return ""
    start = 0
    for _ in range(mark.line):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    end = text.find("\n", start)
    row = text[start : end if end >= 0 else len(text)]
    return row[mark.column] if 0 <= mark.column < len(row) else ""


def explain_yaml_error(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, str]:
    """Line and German explanation of a YAML error: staff never read PyYAML's English."""
    problem, context = str(exc.problem or ""), str(exc.context or "")
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    opened = exc.context_mark.line + 1 if exc.context_mark and exc.problem_mark else line
    found = f"{context} {problem}"
    if "cannot start any token" in problem:
        char = _char_at(text, exc.problem_mark) or (m[1] if (m := re.search(r"'(.+?)'", problem)) else "")
        if char not in {"\t", "\\t"}:
            why = f"Das Zeichen „{clip(char, 4)}“ darf einen Text nicht beginnen – {QUOTE_IT}."
            return line, f"YAML-Syntaxfehler: {why}"
        found = "tab character"
    match = next(((why, at) for pattern, why, at in _YAML_PATTERNS if pattern.search(found)), None)
    if match is None:
        why = YAML_FALLBACK.format(original=clip(" ".join(found.split()) or str(exc), 200))
    else:
        why, at_context = match
        line = opened if at_context else line
    where = f" (der betroffene Abschnitt beginnt in Zeile {opened})" if opened != line else ""
    return line, f"YAML-Syntaxfehler{where}: {why}"


def _syntax_problem(exc: yaml.YAMLError, text: str, shown: str) -> Problem:
    if isinstance(exc, yaml.reader.ReaderError) and isinstance(exc.character, int):
        found = text.find(chr(exc.character))  # the position libyaml reports may count bytes
        line = text.count("\n", 0, found) + 1 if found >= 0 else 1
        return Problem(
            shown,
            line,
            f"unsichtbares Steuerzeichen U+{exc.character:04X} in der Datei; YAML erlaubt es nicht. Bitte "
            "entfernen (im Editor oft unsichtbar: die Zeile neu tippen hilft).",
        )
    if not isinstance(exc, yaml.MarkedYAMLError):
        return Problem(shown, 1, f"Die Datei kann nicht als YAML gelesen werden ({clip(str(exc), 300)}).")
    return Problem(shown, *explain_yaml_error(exc, text))


def _read_yaml(path: Path, shown: str, problems: list[Problem], limits: LimitSettings | None = None) -> Any:
    text = read_text(path, shown, problems, limits)
    if text is None:
        return None
    try:
        if anchor := _first_anchor(text):
            problems.append(Problem(shown, anchor[0], ANCHOR_HINT.format(name=anchor[1])))
            return None
        loader = _Loader(text)
    except yaml.YAMLError as exc:
        problems.append(_syntax_problem(exc, text, shown))
        return None
    loader.duplicate_keys = []
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        problems.append(_syntax_problem(exc, text, shown))
        return None
    finally:
        loader.dispose()
    for key, line in loader.duplicate_keys:
        problems.append(Problem(shown, line, f"Feld „{clip(key)}“ steht doppelt; bitte nur einmal angeben."))
    return data


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 without tab and newline, DEL, C1


def _check_values(data: Any, shown: str, limits: LimitSettings, problems: list[Problem]) -> None:
    """Values longer than the limit are errors; control characters in values are warnings.

    Nothing is stripped: staff see where the invisible character is and remove it themselves.
    Iterative, so a deeply nested file cannot exhaust the stack.
    """
    longest, control = limits.max_value_chars, _CONTROL.search

    def check(value: str, name: str, line: int) -> None:
        if len(value) <= longest and not control(value):
            return
        field = f"„{clip(name, 40)}“" if name else "einem Wert"
        if len(value) > longest:
            problems.append(
                Problem(
                    shown,
                    line,
                    f"Der Wert von {field} ist zu lang ({_number(len(value))} Zeichen, erlaubt sind höchstens "
                    f"{_number(longest)}). Bitte kürzen oder auf mehrere Einträge aufteilen; "
                    "die Grenze steht in config.yaml unter „limits.max_value_chars“.",
                )
            )
        if found := control(value):
            problems.append(
                Problem(
                    shown,
                    line,
                    f"unsichtbares Steuerzeichen U+{ord(found[0]):04X} in {field}, bitte entfernen.",
                    warning=True,
                )
            )

    stack: list[tuple[Any, str, int]] = [(data, "", getattr(data, "line", 1))]
    while stack:
        value, name, line = stack.pop()
        if isinstance(value, LineDict):
            for key, item in value.items():
                where = value.key_lines.get(str(key), value.line)
                if isinstance(item, str):
                    check(item, str(key), where)
                elif isinstance(item, dict | list):
                    stack.append((item, str(key), where))
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    check(item, name, line)
                elif isinstance(item, dict | list):
                    stack.append((item, name, getattr(item, "line", line)))
        elif isinstance(value, str):
            check(value, name, line)


def _raw_entries(data: Any, shown: str, problems: list[Problem]) -> list[Any]:
    if data is None:
        problems.append(Problem(shown, 1, "Die Datei ist leer.", warning=True))
        return []
    if isinstance(data, list):
        return data
    if not isinstance(data, LineDict) or "entries" not in data:
        problems.append(
            Problem(
                shown, getattr(data, "line", 1), "Erwartet wird „entries:“ mit einer Liste von Einträgen."
            )
        )
        return []
    for key in data:
        if key not in FILE_KEYS:
            problems.append(
                Problem(
                    shown,
                    data.key_lines[str(key)],
                    f"unbekannter Abschnitt „{clip(key)}“; erlaubt: defaults, entries.",
                )
            )
    defaults = data.get("defaults") or LineDict()
    if not isinstance(defaults, dict) or any(k not in DEFAULTABLE for k in defaults):
        problems.append(
            Problem(
                shown,
                data.key_lines.get("defaults", 1),
                f"„defaults“ darf nur {', '.join(sorted(DEFAULTABLE))} enthalten.",
            )
        )
        defaults = {}
    entries = data["entries"]
    if not isinstance(entries, list):
        problems.append(
            Problem(shown, data.key_lines["entries"], "„entries“ muss eine Liste sein („- id: …“).")
        )
        return []
    for raw in entries:
        if isinstance(raw, LineDict):
            inherited = [key for key in defaults if key not in raw]
            for key in inherited:
                raw[key] = defaults[key]
                raw.key_lines.setdefault(key, getattr(defaults, "key_lines", {}).get(key, raw.line))
            raw.inherited = tuple(inherited)
    return entries


def _validate(raw: Any, shown: str, problems: list[Problem]) -> AnyEntry | None:
    if not isinstance(raw, LineDict):
        problems.append(Problem(shown, 1, "Jeder Eintrag muss eine Zuordnung sein, beginnend mit „- id: …“."))
        return None
    kind = raw.get("type")
    model = ENTRY_TYPES.get(kind) if isinstance(kind, str) else None
    if model is None:
        line = raw.key_lines.get("type", raw.line)
        if kind is None:
            problems.append(
                Problem(shown, line, f"Pflichtfeld „type“ fehlt. Erlaubt: {', '.join(ENTRY_TYPES)}.")
            )
        else:
            close = difflib.get_close_matches(clip(kind), ENTRY_TYPES, n=1)
            hint = f" Meinten Sie „{close[0]}“?" if close else ""
            problems.append(
                Problem(
                    shown, line, f"unbekannter Typ „{clip(kind)}“.{hint} Erlaubt: {', '.join(ENTRY_TYPES)}."
                )
            )
        return None
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(Problem(shown, _line_for(raw, err["loc"]), _explain(err, model)))
        return None


SYNONYM_FILE = "synonyme.yaml"  # groups of equivalent terms (bot/synonyms.py), not entries
_SUFFIXES = {".yaml", ".yml"}


class LoadCancelled(Exception):
    """`stop` was set while the knowledge was being read; nothing of it may be used."""


def scan_knowledge(folder: Path) -> tuple[list[Path], list[Path]]:
    """Entry files below `folder`, and symbolic links that point out of it (refused, never read).

    A link inside the folder is read once, under its real file's name when both are listed. Linked
    folders are never descended into; the synonym list beside the entries is checked separately.
    """
    root = folder.resolve()
    skip = root / SYNONYM_FILE
    files: dict[Path, Path] = {}
    links: list[Path] = []
    refused: list[Path] = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(root):
                if path.suffix in _SUFFIXES or target.is_dir():
                    refused.append(path)
            elif path.suffix in _SUFFIXES:
                links.append(path)
        elif path.suffix in _SUFFIXES and path.is_file() and path.resolve() != skip:
            files[path.resolve()] = path
    for link in links:
        target = link.resolve()
        if target != skip and target.is_file():
            files.setdefault(target, link)
    return sorted(files.values()), refused


def knowledge_files(folder: Path) -> list[Path]:
    """Entry files below `folder` that may be read (see `scan_knowledge`)."""
    return scan_knowledge(folder)[0]


def summarise(problems: list[str], first: int = 10) -> list[str]:
    """The first `first` problems and one line counting the rest: a chat reply stays short."""
    first = max(first, 0)
    rest = len(problems) - first
    if rest <= 0:
        return list(problems)
    more = "1 weiteres Problem" if rest == 1 else f"{rest} weitere Probleme"
    return [*problems[:first], f"… und {more} – alle zeigt `regiobot check`."]


def _failure(exc: BaseException) -> str:
    """What staff read when reading a file failed in a way the checks above did not foresee."""
    if isinstance(exc, MemoryError):
        why = "nicht genug Speicher (MemoryError). Ist sie ungewöhnlich groß oder tief verschachtelt?"
    elif isinstance(exc, RecursionError):
        why = "sie ist zu tief verschachtelt (RecursionError). Bitte die Einrückung prüfen."
    else:
        why = f"{type(exc).__name__}: {clip(str(exc))}. Bitte die Datei prüfen und den Fehler melden."
    return f"Die Datei konnte nicht verarbeitet werden: {why}"


@dataclass
class _Read:
    """One entry as read from its file, with the lines of its fields."""

    entry: AnyEntry
    line: int
    lines: dict[str, int]
    inherited: tuple[str, ...]


def _field_lines(raw: LineDict, refs: Iterable[str], detail: bool) -> dict[str, int]:
    """Lines of an entry's fields and list items ("contacts[1]", "source.as_of").

    Reference fields always (a dangling reference is reported at its line); with `detail` (for
    `regiobot check`) every field, which the bot itself does not need to keep.
    """
    keys = raw.key_lines if detail else [key for key in refs if key in raw.key_lines]
    lines = {key: raw.key_lines[key] for key in keys}
    for key in keys:
        value = raw.get(key)
        if isinstance(value, LineList):
            lines.update((f"{key}[{n}]", line) for n, line in enumerate(value.item_lines))
        elif detail and isinstance(value, LineDict):
            lines.update((f"{key}.{sub}", line) for sub, line in value.key_lines.items())
    return lines


_ID_LINE = re.compile(
    r"^[ \t]*(?:-[ \t]+)?id[ \t]*:[ \t]*[\"']?([a-z0-9][a-z0-9-]*)[\"']?[ \t]*(?:#.*)?$", re.M
)


def _ids_in_text(path: Path, limits: LimitSettings) -> dict[str, int] | None:
    """Ids a file that does not parse seems to define, with their lines; None if it cannot be read at all."""
    try:
        if path.stat().st_size > max_file_bytes(limits):
            return None
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None
    found: dict[str, int] = {}
    for match in _ID_LINE.finditer(text):
        found.setdefault(match[1], text.count("\n", 0, match.start()) + 1)
    return found


def _load_file(
    path: Path,
    shown: str,
    limits: LimitSettings,
    room: int,
    problems: list[Problem],
    unread: dict[str, Unread],
    detail: bool = False,
) -> tuple[list[_Read], bool, bool]:
    """Valid entries of one file with their lines, whether the entry limit was reached in it, and whether
    the file could be read as YAML. Ids of invalid entries go to `unread`.
    """
    data = _read_yaml(path, shown, problems, limits)
    if data is None and problems:
        return [], False, False
    _check_values(data, shown, limits, problems)
    raws = _raw_entries(data, shown, problems)
    full = len(raws) > room
    if full:
        over = raws[room]
        problems.append(
            Problem(
                shown,
                getattr(over, "line", 1),
                f"Zu viele Einträge: mehr als {_number(limits.max_entries)} Einträge in allen Wissensdateien "
                "zusammen. Ab hier wird nichts mehr gelesen. Bitte Einträge zusammenfassen oder die Grenze "
                "„limits.max_entries“ in config.yaml erhöhen.",
            )
        )
        raws = raws[:room]
    out = []
    for raw in raws:
        entry = _validate(raw, shown, problems)
        if entry is not None:
            out.append(_Read(entry, raw.line, _field_lines(raw, entry.REFS, detail), raw.inherited))
        elif isinstance(raw, LineDict) and isinstance(raw.get("id"), str) and len(raw["id"]) <= QUOTE_CHARS:
            unread.setdefault(raw["id"], Unread(shown, raw.line, False))
    return out, full, True


def load_knowledge(
    folder: Path,
    today: date | None = None,
    max_age_days: int | None = None,
    *,
    limits: LimitSettings | None = None,
    stop: threading.Event | None = None,
) -> Knowledge:
    """Read and validate every YAML file below `folder`; never raises for bad content.

    Whatever goes wrong in one file, MemoryError included, becomes a problem of that file. When `stop`
    is set between files, LoadCancelled is raised.
    """
    limits = limits or LimitSettings()
    kb = Knowledge()
    if not folder.is_dir():
        kb.problems.append(
            Problem(
                str(folder), 0, "Wissensordner nicht gefunden. Pfad in config.yaml (knowledge_dir) prüfen."
            )
        )
        return kb
    files, refused = scan_knowledge(folder)
    for link in refused:
        kb.problems.append(
            Problem(
                _display(link),
                1,
                "Dieser symbolische Link zeigt auf eine Datei oder einen Ordner außerhalb des Wissensordners "
                "und wird nicht gelesen. Bitte die Datei selbst in den Wissensordner legen oder den Link entfernen.",
            )
        )
    if not files:
        kb.problems.append(Problem(_display(folder), 0, "Keine .yaml-Dateien im Wissensordner gefunden."))
    for path in files:
        if stop is not None and stop.is_set():
            raise LoadCancelled
        shown = _display(path)
        problems: list[Problem] = []
        room = limits.max_entries - len(kb.entries)
        try:
            loaded, full, parsed = _load_file(
                path, shown, limits, room, problems, kb.unread, today is not None
            )
        except Exception as exc:  # MemoryError, RecursionError or a bug: that file's problem, never a crash
            log.warning("Wissensdatei %s nicht lesbar", shown, exc_info=not isinstance(exc, MemoryError))
            problems.append(Problem(shown, 1, _failure(exc)))
            loaded, full, parsed = [], False, False
        if not parsed:  # references into this file are no errors of the files that make them
            ids = None
            with contextlib.suppress(Exception):
                ids = _ids_in_text(path, limits)
            if ids is None:
                kb.blind.append(shown)
            else:
                kb.unread.update((key, Unread(shown, line, True)) for key, line in ids.items())
        kb.problems += dict.fromkeys(problems)  # shared defaults would repeat a warning per entry
        for read in loaded:
            entry, line = read.entry, read.line
            if entry.id in kb.locations:
                other = kb.locations[entry.id]
                kb.problems.append(
                    Problem(
                        shown,
                        line,
                        f"ID „{clip(entry.id)}“ gibt es schon ({other[0]}:{other[1]}). IDs müssen eindeutig sein.",
                    )
                )
                continue
            kb.locations[entry.id] = (shown, line)
            kb.lines[entry.id] = read.lines
            if read.inherited:
                kb.inherited[entry.id] = read.inherited
            kb.entries.append(entry)
        if full:
            break
    if stop is not None and stop.is_set():
        raise LoadCancelled
    from bot.synonyms import load_synonyms  # here: bot.synonyms imports this module

    try:
        kb.problems += load_synonyms(folder)[1]
    except Exception as exc:  # as above: a problem of the synonym file, never a crash
        log.warning("Synonymliste nicht lesbar", exc_info=not isinstance(exc, MemoryError))
        kb.problems.append(Problem(_display(folder / SYNONYM_FILE), 1, _failure(exc)))
    _check_references(kb)
    _check_titles(kb)
    if today:
        _check_current(kb, today, max_age_days)
    kb.problems.sort(key=lambda p: (p.warning, p.file, p.line))
    return kb


SUGGESTION_BUDGET = 500_000  # ids compared for "Meinten Sie …?" per run: 5 lookups at 100,000 entries


def _reference_sites(entry: Entry) -> Iterator[tuple[str, str, str]]:
    """(field, line key, id) for each reference, the key naming the list item ("contacts[1]")."""
    for name in entry.REFS:
        value = getattr(entry, name)
        if isinstance(value, list):
            yield from ((name, f"{name}[{n}]", ref) for n, ref in enumerate(value) if ref)
        elif value:
            yield name, name, value


def _check_references(kb: Knowledge) -> None:
    """Each reference names an entry that exists; a problem stands at the line of the reference.

    An id that exists but could not be read (its file does not parse, or that entry is invalid) is not
    "dangling": its own error is reported where it stands, and here only a warning says why. While a
    file cannot be read at all (too large, no permission), no reference is called dangling either.
    """
    ids = kb.by_id()
    suggestions: dict[str, list[str]] = {}  # one renamed id is often referenced many times
    budget = SUGGESTION_BUDGET
    for entry in kb.entries:
        file, entry_line = kb.locations[entry.id]
        lines = kb.lines.get(entry.id, {})
        for name, key, ref in _reference_sites(entry):
            line = lines.get(key) or lines.get(name) or entry_line
            where = f"Eintrag „{clip(entry.id)}“, Feld „{name}“:"
            if ref in ids:
                if name in {"chair", "deputy", "contacts"} and ids[ref].type != "contact":
                    kb.problems.append(
                        Problem(file, line, f"{where} „{clip(ref)}“ ist kein Kontakt (type: contact).")
                    )
                continue
            if unread := kb.unread.get(ref):
                why = (
                    "verweist auf einen Eintrag in einer Datei, die gerade nicht gelesen werden kann "
                    f"(Datei: {unread.file}). Bitte zuerst den Fehler in dieser Datei beheben."
                    if unread.whole_file
                    else "verweist auf einen Eintrag, der wegen eines Fehlers gerade nicht gelesen werden "
                    f"kann ({unread.file}:{unread.line}). Bitte zuerst den Fehler dort beheben."
                )
                kb.problems.append(Problem(file, line, f"{where} „{clip(ref)}“ {why}", warning=True))
                continue
            if kb.blind:
                kb.problems.append(
                    Problem(
                        file,
                        line,
                        f"{where} „{clip(ref)}“ gibt es nicht – oder der Eintrag steht in einer Datei, die gerade "
                        f"nicht gelesen werden kann (Datei: {', '.join(kb.blind[:3])}). Bitte zuerst den Fehler "
                        "dort beheben.",
                        warning=True,
                    )
                )
                continue
            if ref not in suggestions and budget >= len(ids) and len(ref) <= QUOTE_CHARS:
                budget -= len(ids)
                suggestions[ref] = difflib.get_close_matches(ref, ids, n=1)
            close = suggestions.get(ref)
            hint = (
                f" Meinten Sie „{close[0]}“?"
                if close
                else " Bitte die ID eines vorhandenen Eintrags angeben."
            )
            kb.problems.append(
                Problem(file, line, f"{where} Verweis auf „{clip(ref)}“ geht ins Leere.{hint}")
            )


def _check_titles(kb: Knowledge) -> None:
    seen: dict[str, str] = {}
    for entry in kb.entries:
        key = " ".join(entry.title.lower().split())
        if key in seen:
            file, line = kb.locations[entry.id]
            line = kb.lines.get(entry.id, {}).get("title", line)
            other = kb.locations[seen[key]]
            kb.problems.append(
                Problem(
                    file,
                    line,
                    f"Titel „{clip(entry.title)}“ gibt es schon ({other[0]}:{other[1]}). Bitte eindeutig benennen.",
                )
            )
        else:
            seen[key] = entry.id


# --------------------------------------------------------------------------- keeping the knowledge current


def _at(kb: Knowledge, entry: Entry, key: str) -> tuple[str, int]:
    """File and line of one field of an entry (its first line when the field is not known)."""
    file, line = kb.locations[entry.id]
    return file, kb.lines.get(entry.id, {}).get(key, line)


def _warn(kb: Knowledge, where: tuple[str, int], message: str) -> None:
    kb.problems.append(Problem(*where, message, warning=True))


def _check_current(kb: Knowledge, today: date, max_age_days: int | None) -> None:
    """Warnings of `regiobot check` about knowledge that went stale or drifted apart; never errors.

    They need a "today" and cost a pass over all texts, so only the check runs them, not the bot.
    """
    _check_calls(kb, today)
    _check_events(kb, today)
    _check_review(kb)
    _check_sources(kb)
    _check_repeats(kb)
    if max_age_days:
        _check_age(kb, today, max_age_days)
        _check_as_of(kb, today, max_age_days)


# Words by which a text speaks of the present: wrong once the call has closed ("können sich bereits jetzt").
_PRESENT = re.compile(
    r"(?<!\w)(?:bereits jetzt|ab sofort|jetzt|derzeit|aktuell|zurzeit|z\. ?Zt\.|momentan|gegenwärtig|"
    r"noch bis|läuft|laufen|endet|enden|kann|können|ist möglich|sind möglich)(?!\w)",
    re.IGNORECASE,
)


def _check_calls(kb: Knowledge, today: date) -> None:
    """A closed call is answered as closed; a text that still invites applications contradicts that."""
    for entry in kb.entries:
        if not isinstance(entry, FundingCall) or entry.closes is None or entry.closes >= today:
            continue
        closed = f"„{clip(entry.id)}“: Frist abgelaufen am {entry.closes:%d.%m.%Y}."
        present = list(dict.fromkeys(m[0] for m in _PRESENT.finditer(entry.text)))
        if present:
            words = ", ".join(f"„{clip(word, 20)}“" for word in present[:3])
            text_line = _at(kb, entry, "text")[1]
            message = (
                f"{closed} Text noch aktuell? Er spricht von der Gegenwart ({words}, Zeile {text_line}) – "
                "bitte in die Vergangenheit setzen (z. B. „lief bis …“) oder den Eintrag entfernen, wenn ein "
                "neuer Aufruf ihn ersetzt."
            )
        else:
            message = (
                f"{closed} Gibt es einen neuen Aufruf? Dann eintragen; den alten entfernen, wenn er nicht mehr "
                "gebraucht wird."
            )
        _warn(kb, _at(kb, entry, "closes"), message)


def _check_events(kb: Knowledge, today: date) -> None:
    """A past event still "geplant" would be announced as coming: nobody updated it after the day."""
    for entry in kb.entries:
        if (
            isinstance(entry, Event)
            and entry.status == "geplant"
            and entry.date
            and entry.date.latest() < today
        ):
            _warn(
                kb,
                _at(kb, entry, "status"),
                f"„{clip(entry.id)}“ ({entry.date.german()}): Termin liegt zurück, Status noch „geplant“ – "
                "stattgefunden oder abgesagt? Bitte „status“ und den Text anpassen.",
            )


def _check_review(kb: Knowledge) -> None:
    """Drafts (`regiobot import` marks them „offen“) stay on the list until someone checked them."""
    for entry in kb.entries:
        if entry.review == "offen":
            _warn(
                kb,
                _at(kb, entry, "review"),
                f"„{clip(entry.id)}“ ist zu prüfen („review: offen“): bitte die Angaben mit der Quelle "
                "vergleichen und dann „review: geprüft“ setzen.",
            )


# --------------------------------------------------------------------------- a text naming another source

_ATTRIBUTION = re.compile(r"(?<!\w)(?:laut|lt\.|nach Angaben (?:de[rsm]|von)|Quelle:)\s+", re.IGNORECASE)
_DOCUMENT = re.compile(
    r"(?<!\w)((?:Beschluss|Sitzungs)?[Vv]orlage|Drucksache|Beschluss)(?:\s+Nr\.)?\s+(\d[\d/.-]*\d)"
)
_JOINERS = {
    "der", "des", "die", "dem", "den", "für", "und", "von", "vom", "zur", "zum", "im", "in", "am", "e.v",
}  # fmt: skip
# Words that make a phrase after "laut" an organisation or a document rather than a person.
_SOURCE_WORDS = (
    "vorlage", "drucksache", "beschluss", "satzung", "bericht", "protokoll", "mitteilung", "seite", "website",
    "homepage", "broschüre", "flyer", "newsletter", "studie", "konzept", "richtlinie", "aufruf", "angaben",
    "statistik", "plan", "landkreis", "stadt", "gemeinde", "ministerium", "regierung", "verwaltung", "amt",
    "agentur", "kammer", "ihk", "hwk", "gesellschaft", "gmbh", "verband", "verein", "netzwerk", "forum",
    "management", "metropolregion", "kreistag", "rat", "ausschuss", "stelle", "presse", "zeitung",
)  # fmt: skip
_WORD = re.compile(r"\w+(?:[./-]\w+)*")


def _attributed(text: str) -> Iterator[str]:
    """What a text names as the origin of a statement: "laut Vorlage 2015/179 ist …" → "Vorlage 2015/179"."""
    for match in _ATTRIBUTION.finditer(text):
        rest = re.split(r"[,;:!?()„“\"]|\.\s", text[match.end() : match.end() + 160], maxsplit=1)[0]
        words: list[str] = []
        for word in rest.split()[:8]:
            if not (word[:1].isupper() or word[:1].isdigit() or word.casefold() in _JOINERS):
                break
            words.append(word)
        while words and words[-1].casefold() in _JOINERS:
            words.pop()
        if words:
            yield " ".join(words).rstrip(".")


def _is_source_like(phrase: str, organisations: set[str]) -> bool:
    """An organisation or a document, not a person: "laut Barbara Ermrich" quotes a speaker the source heard."""
    folded = phrase.casefold()
    return any(word.endswith(_SOURCE_WORDS) for word in _WORD.findall(folded)) or any(
        name in folded for name in organisations
    )


def _names_source(phrase: str, source: str) -> bool:
    """Whether a phrase shares a name or number with the source ("Landkreises Peine" ~ "Landkreis Peine")."""
    mine = [
        w for w in _WORD.findall(phrase.casefold()) if w not in _JOINERS and not w.endswith(_SOURCE_WORDS)
    ]
    theirs = _WORD.findall(source.casefold())
    if not mine:  # only generic words ("laut Satzung"): the source must name that kind of document
        mine = _WORD.findall(phrase.casefold())
    return any(
        a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)))
        for a in mine
        for b in theirs
    )


def _check_sources(kb: Knowledge) -> None:
    """An entry without its own `source` whose text says it comes from elsewhere ("laut …", "Quelle: …").

    Conservative: only an explicit attribution naming an organisation or document (not a person quoted
    at an event the source reports on), or a numbered document ("Vorlage 2016/12") the source does not name.
    """
    organisations = {
        name.casefold()
        for entry in kb.entries
        for name in (getattr(entry, "name", None), getattr(entry, "organisation_name", None))
        if isinstance(name, str) and len(name) >= 4
    }
    for entry in kb.entries:
        if "source" not in kb.inherited.get(entry.id, ()):
            continue
        source = " ".join(filter(None, (entry.source.document, entry.source.file, entry.source.url)))
        named = [p for p in _attributed(entry.text) if _is_source_like(p, organisations)]
        named += [f"{m[1]} {m[2]}" for m in _DOCUMENT.finditer(entry.text) if m[2] not in source]
        other = next((phrase for phrase in named if not _names_source(phrase, source)), None)
        if other:
            _warn(
                kb,
                _at(kb, entry, "text"),
                f"„{clip(entry.id)}“ übernimmt die Quelle der Datei („{clip(entry.source.document)}“), der Text "
                f"nennt aber „{clip(other)}“ als Herkunft. Stammt die Angabe von dort, bitte im Eintrag eine "
                "eigene „source:“ mit „document:“ angeben; sonst den Text anpassen.",
            )


# --------------------------------------------------------------------------- the same fact in several entries

# Fields that name or label rather than state a fact.
_NOT_FACTS = {
    "id", "type", "title", "name", "person", "programme", "series", "member", "organisation_name", "tags",
    "questions", "topics", "source", "updated", "review", "kind", "format", "status", "email", "phone",
    "place", "organisation",
}  # fmt: skip
_PROSE = {"text", "description"}  # split into sentences that must repeat as a whole
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^a-zäöüß])|(?<=;)\s+")
_ABBREVIATION = re.compile(  # "z. B.", "Dr.", "8. Regionaldialog", "e.V." end no sentence
    r"(?:^|[\s(])(?:[^\W\d_]|\d{1,2}|\w\.\w|Dr|Nr|bzw|ca|usw|ggf|vgl|Zt|St|Str|Prof|Hr|Fr|inkl|evtl|etc|Tel|"
    r"Mio|Mrd|Abs|Jh|Co)\.$",
    re.IGNORECASE,
)


def _fact_values(entry: Entry) -> Iterator[tuple[str, str]]:
    """(field, text) of every value that states something: texts, descriptions, tasks, roles …

    Names, titles and labels are left out: the same name in two entries is a link, not a copy.
    """
    for name in type(entry).model_fields:
        if name in _NOT_FACTS or name in entry.REFS:
            continue
        value = getattr(entry, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                yield name, item
            elif isinstance(item, Person) and item.role:  # a talk's title names it, like a name
                yield name, item.role


def _sentences(text: str) -> Iterator[str]:
    """Sentences and „;“-clauses; abbreviations and ordinals ("z. B.", "8. Regionaldialog") end none."""
    pending = ""
    for piece in _SENTENCE_END.split(text):
        pending = f"{pending} {piece}" if pending else piece
        if not _ABBREVIATION.search(pending):
            yield pending
            pending = ""
    if pending:
        yield pending


def _is_fact(words: list[str]) -> bool:
    """Long enough to be one fact, not a common phrase: six words, or four with a number in them."""
    return len(words) >= 6 or (len(words) >= 4 and any(c.isdigit() for word in words for c in word))


MAX_LISTED = 5  # entries a repeat warning names, the rest are counted
REPEAT_BUDGET = 5_000_000  # sentences compared with a field value per run, a few seconds at most


def _check_repeats(kb: Knowledge) -> None:
    """The same fact in several entries: one warning per group of entries that share facts.

    A fact is a sentence of a text found as the same sentence in another entry, or a field value
    (`meeting_rhythm`, a task, a role …) found as a sentence or inside one ("etwa 3 Mal jährlich" in
    "… tagt etwa 3 Mal jährlich"). A value is looked up only among the sentences holding its rarest word,
    cheapest first and within `REPEAT_BUDGET`, so a huge knowledge cannot make the check slow.
    """
    statements: list[tuple[str, int, str]] = []  # normalised words, entry, field
    originals: dict[str, str] = {}
    for n, entry in enumerate(kb.entries):
        seen: set[str] = set()
        for name, value in _fact_values(entry):
            for sentence in _sentences(value):
                norm = " ".join(_WORD.findall(sentence.casefold()))
                if norm and norm not in seen:
                    seen.add(norm)
                    statements.append((norm, n, name))
                    originals.setdefault(norm, sentence.strip())
    found: dict[str, dict[int, str]] = {}  # fact → entry → field
    values: set[str] = set()  # facts that are field values: also looked for inside sentences
    for norm, n, name in statements:
        if _is_fact(norm.split()):
            found.setdefault(norm, {}).setdefault(n, name)
            if name not in _PROSE:
                values.add(norm)
    frequency = Counter(word for norm, _, _ in statements for word in set(norm.split()))
    anchors = {fact: min(fact.split(), key=frequency.__getitem__) for fact in values}
    postings: dict[str, list[int]] = {word: [] for word in anchors.values()}
    for index, (norm, _, _) in enumerate(statements):
        for word in postings.keys() & norm.split():
            postings[word].append(index)
    budget = REPEAT_BUDGET
    for fact, anchor in sorted(anchors.items(), key=lambda item: len(postings[item[1]])):
        budget -= len(postings[anchor])
        if budget < 0:  # only in huge knowledge of one-off words: the rest is found as whole sentences only
            break
        holders = found[fact]
        for index in postings[anchor]:
            norm, n, name = statements[index]
            if n not in holders and f" {fact} " in f" {norm} ":
                holders[n] = name
    groups: dict[frozenset[int], list[str]] = {}
    for fact, holders in found.items():
        if len(holders) >= 2:
            groups.setdefault(frozenset(holders), []).append(fact)
    for facts in groups.values():
        facts.sort(key=len, reverse=True)
        kept: list[str] = []
        for fact in facts:
            if not any(f" {fact} " in f" {longer} " for longer in kept):
                kept.append(fact)
        _warn_repeat(kb, originals[kept[0]], found[kept[0]], len(kept) - 1)


def _warn_repeat(kb: Knowledge, fact: str, holders: dict[int, str], more: int) -> None:
    places = sorted((_at(kb, kb.entries[n], name), kb.entries[n].id) for n, name in holders.items())
    listed = ", ".join(f"„{clip(key, 60)}“ ({file}:{line})" for (file, line), key in places[:MAX_LISTED])
    if len(places) > MAX_LISTED:
        listed += f" und {len(places) - MAX_LISTED} weitere"
    also = f" (und {more} weitere gleiche Angaben)" if more else ""
    _warn(
        kb,
        places[0][0],
        f"„{clip(fact)}“{also}: dieselbe Angabe in {len(places)} Einträgen: {listed} – an einer Stelle "
        "pflegen, in den anderen darauf verweisen (z. B. über „related“).",
    )


# --------------------------------------------------------------------------- age


def _check_age(kb: Knowledge, today: date, max_age_days: int) -> None:
    for entry in kb.entries:
        age = (today - entry.updated).days
        if age > max_age_days:
            file, line = kb.locations[entry.id]
            kb.problems.append(
                Problem(
                    file,
                    line,
                    f"„{clip(entry.id)}“ wurde zuletzt am {entry.updated:%d.%m.%Y} geprüft ({age} Tage her). "
                    "Bitte Angaben prüfen und „updated“ aktualisieren.",
                    warning=True,
                )
            )


def _check_as_of(kb: Knowledge, today: date, max_age_days: int) -> None:
    """A source older than `max_age_days`: one warning where `as_of` stands, for all entries sharing it."""
    stale: dict[tuple[str, int, str, int], list[str]] = {}
    for entry in kb.entries:
        as_of = entry.source.as_of
        if as_of is not None and (age := (today - as_of.latest()).days) > max_age_days:
            file, line = _at(kb, entry, "source.as_of")
            stale.setdefault((file, line, as_of.german(), age), []).append(entry.id)
    for (file, line, when, age), ids in stale.items():
        who = f"„{clip(ids[0])}“" if len(ids) == 1 else f"{len(ids)} Einträge, z. B. „{clip(ids[0])}“"
        _warn(
            kb,
            (file, line),
            f"Stand der Quelle („as_of“: {when}) liegt {age} Tage zurück (mehr als {max_age_days}), betrifft "
            f"{who}. Gibt es eine neuere Fassung? Dann die Angaben und „as_of“ aktualisieren.",
        )
