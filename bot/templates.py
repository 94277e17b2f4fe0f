"""Commented YAML templates of knowledge entries for `regiobot new`, and appending one to a file.

The fields come from the pydantic models in bot/knowledge.py, so a field added there shows up in the
template at once; what staff read about it comes from DESCRIPTIONS, and a field nobody has described yet
says "(ohne Beschreibung)", which tests/test_cli.py notices. Required fields, allowed values and date
formats are read from the models too. The example values follow the shipped knowledge and are valid
as printed (references point at shipped entries), so a template passes `regiobot check` unchanged.
"""

from __future__ import annotations

import json
import re
import textwrap
import types
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from bot.knowledge import ENTRY_TYPES, SLUG, When

NO_DESCRIPTION = "(ohne Beschreibung)"
WIDTH = 100  # characters per line of comments and folded text

TYPE_NAMES = {
    "info": "Information",
    "event": "Veranstaltung",
    "funding_call": "Förderaufruf",
    "contact": "Kontakt",
    "organisation": "Organisation",
    "project": "Projekt",
    "membership": "Mitgliedschaft",
}
DEFAULT_IDS = {
    "info": "neue-information",
    "event": "neue-veranstaltung",
    "funding_call": "neuer-foerderaufruf",
    "contact": "neuer-kontakt",
    "organisation": "neue-organisation",
    "project": "neues-projekt",
    "membership": "neue-mitgliedschaft",
}

# German explanation per field: "type.field" for one entry type, "field" for all, "source.x"/"speakers.x"
DESCRIPTIONS = {
    "id": "Eindeutige Kennung: nur Kleinbuchstaben, Ziffern und Bindestriche (z. B. „regionaldialog-9“). "
    "Andere Einträge verweisen mit ihr auf diesen; nach dem Veröffentlichen nicht mehr ändern.",
    "type": "Art des Eintrags; bestimmt, welche Felder erlaubt sind. Nicht ändern.",
    "title": "Überschrift, unter der der Bot antwortet. Muss im ganzen Wissen eindeutig sein.",
    "text": "Die Antwort in ganzen Sätzen, wie der Bot sie sagen soll – nur, was die Quelle hergibt. "
    "Nach „>-“ darf der Text über mehrere eingerückte Zeilen gehen.",
    "questions": "Fragen, wie Bürgerinnen, Bürger und Unternehmen sie stellen würden (auch knapp, ohne "
    "Umlaute oder auf Englisch). Sie helfen dem Bot, diesen Eintrag zu finden.",
    "tags": "Stichwörter: Orte, Themen, Träger. Können für die ganze Datei unter „defaults:“ stehen.",
    "related": "IDs verwandter Einträge; der Bot bietet sie als „mehr dazu“ an.",
    "source": "Woher die Angaben stammen; der Bot nennt die Quelle bei jeder Antwort. Kann für die ganze "
    "Datei unter „defaults:“ stehen.",
    "source.document": "Name des Dokuments oder der Webseite.",
    "source.file": "Dateiname des Ausgangsdokuments, falls es eine Datei gibt (trägt „regiobot import“ ein).",
    "source.url": "Adresse der Quelle im Internet.",
    "source.as_of": "Stand der Angaben laut Quelle.",
    "updated": "Tag, an dem jemand den Eintrag zuletzt geprüft hat. „regiobot check“ warnt, wenn das lange "
    "her ist. Kann für die ganze Datei unter „defaults:“ stehen.",
    "review": "Prüfvermerk: „offen“, solange niemand die Angaben mit der Quelle verglichen hat (so legt "
    "„regiobot import“ Entwürfe an); nach der Prüfung „geprüft“ eintragen.",
    # organisation
    "organisation.name": "Vollständiger Name der Stelle.",
    "organisation.kind": "Art der Stelle.",
    "organisation.parent": "ID der übergeordneten Organisation, z. B. das Forum einer Arbeitsgruppe.",
    "organisation.members": "Mitglieder, je Zeile eines (Namen, keine IDs).",
    "organisation.chair": "ID des Kontakt-Eintrags (type: contact) der Person mit Vorsitz oder Leitung.",
    "organisation.deputy": "ID des Kontakt-Eintrags (type: contact) der Stellvertretung.",
    "organisation.meeting_rhythm": "Wie oft die Stelle tagt.",
    "organisation.tasks": "Aufgaben, je Zeile eine.",
    "organisation.focus_areas": "Themenschwerpunkte.",
    "organisation.founded": "Gründung.",
    "organisation.legal_form": "Rechtsform.",
    # contact
    "contact.person": "Name der Person (oder der Stelle bei einer allgemeinen Adresse).",
    "contact.role": "Funktion der Person.",
    "contact.organisation": "ID der Organisation (type: organisation), zu der die Person gehört.",
    "contact.organisation_name": "Name der Organisation, wenn es für sie keinen eigenen Eintrag gibt.",
    "contact.email": "E-Mail-Adresse.",
    "contact.phone": "Telefonnummer, wie sie angezeigt werden soll.",
    "contact.topics": "Themen, zu denen die Person Auskunft gibt.",
    # funding_call
    "funding_call.programme": "Name des Förderprogramms.",
    "funding_call.organisation": "ID der Organisation, die den Aufruf betreut.",
    "funding_call.opens": "Erster Tag, an dem Anträge möglich sind.",
    "funding_call.closes": "Letzter Tag der Antragsfrist; nach diesem Tag gilt der Aufruf als abgelaufen.",
    "funding_call.topics": "Förderthemen.",
    "funding_call.eligible": "Wer Anträge stellen darf.",
    "funding_call.amount": "Förderhöhe oder -quote, wie die Quelle sie nennt.",
    "funding_call.contacts": "IDs der Kontakt-Einträge (type: contact), die beraten.",
    # event
    "event.series": "Name der Veranstaltungsreihe; verbindet die Termine einer Reihe.",
    "event.number": "Laufende Nummer in der Reihe (1, 2, 3 …).",
    "event.date": "Tag der Veranstaltung; steht er noch nicht fest, genügt der Monat.",
    "event.status": "Stand der Veranstaltung; nach dem Termin von „geplant“ auf „stattgefunden“ ändern.",
    "event.place": "Ort (Saal, Gebäude, Gemeinde).",
    "event.topic": "Thema der Veranstaltung.",
    "event.format": "Vor Ort (praesenz), online oder beides (hybrid).",
    "event.speakers": "Mitwirkende mit Vortrag oder Moderation.",
    "speakers.name": "Name der Person.",
    "speakers.role": "Funktion, ggf. mit „(Moderation)“.",
    "speakers.organisation": "Organisation der Person (Name, keine ID).",
    "speakers.talk": "Titel oder Thema des Beitrags.",
    "event.organiser": "ID der veranstaltenden Organisation.",
    "event.contacts": "IDs der Kontakt-Einträge (type: contact) für Fragen zur Veranstaltung.",
    # project
    "project.name": "Name des Projekts.",
    "project.organisation": "ID der Organisation, die das Projekt trägt.",
    "project.description": "Kurzbeschreibung in einem Satz.",
    "project.status": "Stand des Projekts in eigenen Worten.",
    "project.partners": "Projektpartner, je Zeile einer.",
    # membership
    "membership.member": "Wer Mitglied ist oder zahlt (Name, keine ID).",
    "membership.body": "ID der Organisation (type: organisation), in der die Mitgliedschaft besteht.",
    "membership.annual_amount_eur": "Jährlicher Betrag in Euro.",
    "membership.amount_note": "Erläuterung zum Betrag, wie die Quelle ihn nennt.",
}

FIRST = ("id", "type", "title", "text", "questions", "tags")
LAST = ("related", "source", "updated", "review")
FOLDED = {"text", "description", "amount_note"}  # long texts: written as „>-“ blocks
BLOCK_LISTS = {"questions", "members", "tasks", "partners", "topics", "speakers"}


def _source(today: date, document: str, url: str | None = None) -> dict[str, Any]:
    return {"document": document, "url": url, "as_of": f"{today:%Y-%m}"}


def _examples(today: date) -> dict[str, dict[str, Any]]:
    """Example values per entry type in the style of the shipped knowledge; dates relative to `today`."""
    day = today + timedelta(days=28)
    opens, closes = today, today + timedelta(days=70)
    seg = "SEG Mansfeld-Südharz: Regionaldialog (Webseite)"
    return {
        "info": {
            "title": "Regionaldialog: Anmeldung und Teilnahmebedingungen",
            "text": "Die Teilnahme am Regionaldialog der SEG Mansfeld-Südharz ist kostenlos. Eine Anmeldung "
            "ist bis eine Woche vor dem Termin per E-Mail an info@seg-msh.de möglich; die Plätze werden "
            "in der Reihenfolge der Anmeldungen vergeben.",
            "questions": [
                "Muss ich mich für den Regionaldialog anmelden?",
                "regionaldialog anmeldung kosten",
            ],
            "tags": ["Regionaldialog", "Mansfeld-Südharz"],
            "related": ["regionaldialog-teilnahme"],
            "source": _source(today, seg, "https://www.seg-msh.de/regionaldialog"),
        },
        "event": {
            "title": f"10. Regionaldialog ({day:%d.%m.%Y}, geplant): Tourismus",
            "text": f"Der 10. Regionaldialog der SEG Mansfeld-Südharz findet am {day:%d.%m.%Y} im Rathaus "
            "Sangerhausen statt. Thema ist der Tourismus im Landkreis; Eric Benkenstein stellt die "
            "Studie „Touristische Mobilität“ vor.",
            "questions": ["Wann ist der 10. Regionaldialog?", "regionaldialog tourismus termin"],
            "tags": ["Regionaldialog", "Tourismus"],
            "series": "Regionaldialog",
            "number": 10,
            "date": day,
            "status": "geplant",
            "place": "Rathaus Sangerhausen",
            "topic": "Tourismus",
            "format": "praesenz",
            "speakers": [
                {
                    "name": "Eric Benkenstein",
                    "role": "Projektmanager für Mobilität und Logistik (Moderation)",
                    "organisation": "SEG",
                    "talk": "Ergebnisse der Studie „Touristische Mobilität“",
                }
            ],
            "organiser": "seg-mansfeld-suedharz",
            "contacts": ["eric-benkenstein"],
            "related": ["regionaldialog-uebersicht"],
            "source": _source(today, seg),
        },
        "funding_call": {
            "title": f"Förderaufruf Regionalbudget Mansfeld-Südharz ({opens:%d.%m.%Y} bis {closes:%d.%m.%Y})",
            "text": f"Vom {opens:%d.%m.%Y} bis {closes:%d.%m.%Y} können Vereine und Kommunen im Landkreis "
            "Mansfeld-Südharz Kleinprojekte zur Dorfentwicklung beim Regionalbudget beantragen. Gefördert "
            "werden bis zu 80 % der Kosten, höchstens 20.000 € je Projekt. Es berät die SEG.",
            "questions": ["Gibt es Förderung für Kleinprojekte in Mansfeld-Südharz?", "regionalbudget frist"],
            "tags": ["Förderung", "Regionalbudget", "Mansfeld-Südharz"],
            "programme": "Regionalbudget",
            "organisation": "seg-mansfeld-suedharz",
            "opens": opens,
            "closes": closes,
            "topics": ["Dorfentwicklung", "Ehrenamt"],
            "eligible": "Vereine, Kommunen und Kirchengemeinden im Landkreis Mansfeld-Südharz",
            "amount": "bis zu 80 %, höchstens 20.000 € je Projekt",
            "contacts": ["seg-info-kontakt"],
            "source": _source(today, "SEG Mansfeld-Südharz: Förderaufruf Regionalbudget"),
        },
        "contact": {
            "title": "Erika Mustermann, Projektmanagerin Tourismus (SEG)",
            "text": "Erika Mustermann ist bei der SEG Mansfeld-Südharz Projektmanagerin für Tourismus und "
            "Ansprechpartnerin für touristische Radwege. Erreichbar per E-Mail an "
            "erika.mustermann@seg-msh.de oder telefonisch unter 03464 123456.",
            "questions": ["Wer ist bei der SEG für Tourismus zuständig?", "ansprechpartner tourismus seg"],
            "tags": ["SEG", "Kontakt", "Tourismus"],
            "person": "Erika Mustermann",
            "role": "Projektmanagerin Tourismus",
            "organisation": "seg-mansfeld-suedharz",
            "organisation_name": "Standortentwicklungsgesellschaft Mansfeld-Südharz mbH (SEG)",
            "email": "erika.mustermann@seg-msh.de",
            "phone": "03464 123456",
            "topics": ["Tourismus", "Radwege"],
            "related": ["seg-ansprechpartner"],
            "source": _source(today, "SEG Mansfeld-Südharz: Ansprechpartner (Webseite)"),
        },
        "organisation": {
            "title": "AG Tourismus und Naherholung",
            "text": "Die AG Tourismus und Naherholung der Europäischen Metropolregion Mitteldeutschland "
            "vernetzt Tourismusverbände, Landkreise und Städte. Sie tagt zweimal im Jahr; den Vorsitz hat "
            "Annett Kautz.",
            "questions": ["Wer leitet die AG Tourismus?", "ag tourismus naherholung metropolregion"],
            "tags": ["Metropolregion Mitteldeutschland", "Arbeitsgruppen", "Tourismus"],
            "name": "AG Tourismus und Naherholung",
            "kind": "arbeitsgruppe",
            "parent": "metropolregion-mitteldeutschland",
            "members": ["Tourismusverbände", "Landkreise und Städte"],
            "chair": "annett-kautz",
            "deputy": "julia-meyer",
            "meeting_rhythm": "zweimal im Jahr",
            "tasks": ["Gemeinsame Vermarktung der Radwege", "Austausch der Tourismusverbände"],
            "focus_areas": ["Radtourismus", "Industriekultur"],
            "founded": 2019,
            "legal_form": "ohne eigene Rechtsform",
            "related": ["metropolregion-mitteldeutschland-arbeitsgruppen"],
            "source": _source(today, "Europäische Metropolregion Mitteldeutschland: Arbeitsgruppen"),
        },
        "project": {
            "title": "Projekt „Radwege-Lückenschluss Südharz“",
            "text": "Im Projekt „Radwege-Lückenschluss Südharz“ plant die SEG Mansfeld-Südharz mit den "
            "Gemeinden, fehlende Abschnitte zwischen bestehenden Radwegen zu schließen. Die Planung läuft.",
            "questions": ["Was ist der Radwege-Lückenschluss Südharz?", "radweg luecken suedharz"],
            "tags": ["Radverkehr", "Mansfeld-Südharz"],
            "name": "Radwege-Lückenschluss Südharz",
            "organisation": "seg-mansfeld-suedharz",
            "description": "Fehlende Abschnitte zwischen bestehenden Radwegen im Südharz schließen.",
            "status": "in Planung",
            "partners": ["Stadt Sangerhausen", "Gemeinde Südharz"],
            "related": ["radweg-bergbau-industriekultur"],
            "source": _source(today, "SEG Mansfeld-Südharz: Projekte (Webseite)"),
        },
        "membership": {
            "title": "Stadt Peine und die Allianz für die Region: 5.000 € jährlich",
            "text": "Die Stadt Peine ist Gesellschafterin der Allianz für die Region GmbH und zahlt dafür "
            "jährlich 5.000 €.",
            "questions": ["Was zahlt die Stadt Peine an die Allianz für die Region?", "stadt peine allianz"],
            "tags": ["Allianz für die Region", "Peine", "Kosten"],
            "member": "Stadt Peine",
            "body": "allianz-fuer-die-region",
            "annual_amount_eur": 5000,
            "amount_note": "jährlicher Beitrag als Gesellschafterin",
            "related": ["peine-mitgliedschaft-allianz"],
            "source": _source(today, "Stadt Peine: Beteiligungsbericht"),
        },
    }


# --------------------------------------------------------------------------- what a field accepts


def _parts(annotation: Any) -> list[Any]:
    """The types a field accepts, without None: `str | None` → [str]."""
    if get_origin(annotation) in (Union, types.UnionType):
        return [a for a in get_args(annotation) if a is not type(None)]
    return [annotation]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The nested model of a field (`source: Source`, `speakers: list[Person]`), if any."""
    for part in _parts(annotation):
        inner = get_args(part)[0] if get_origin(part) is list else part
        if isinstance(inner, type) and issubclass(inner, BaseModel) and inner is not When:
            return inner
    return None


def _accepts(info: FieldInfo) -> str:
    """What the models say about a field's values, in German: allowed values, date formats, numbers."""
    notes = []
    for part in _parts(info.annotation):
        if get_origin(part) is Literal:
            notes.append("Erlaubt: " + ", ".join(str(v) for v in get_args(part)) + ".")
        elif part is date:
            notes.append("Datum als JJJJ-MM-TT.")
        elif part is When:
            notes.append("Datum als JJJJ-MM-TT, Monat als JJJJ-MM, Jahr oder z. B. „Ende April 2024“.")
        elif part in (int, float):
            notes.append("Zahl ohne Einheit und Tausenderpunkt.")
    default = None if info.is_required() else info.get_default()
    if default not in (None, [], ""):
        notes.append(f"Ohne Angabe: {default}.")
    return " ".join(dict.fromkeys(notes))


def describe(kind: str, name: str, info: FieldInfo, prefix: str | None = None) -> str:
    """The comment above one field: required or optional, its German description, accepted values."""
    key = f"{prefix}.{name}" if prefix else name
    text = DESCRIPTIONS.get(f"{kind}.{key}") or DESCRIPTIONS.get(key) or NO_DESCRIPTION
    need = "Pflichtfeld" if info.is_required() else "optional"
    return f"{name} ({need}): {text} {_accepts(info)}".rstrip()


def field_order(model: type[BaseModel]) -> list[str]:
    """The model's fields in the order of the shipped files: heading first, type's own fields, then links."""
    names = list(model.model_fields)
    first = [n for n in FIRST if n in names]
    last = [n for n in LAST if n in names]
    return first + [n for n in names if n not in first and n not in last] + last


# --------------------------------------------------------------------------- YAML text


def _scalar(value: Any) -> str:
    """One value as YAML: plain where that reads back the same, else in double quotes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | int | float):
        return value.isoformat() if isinstance(value, date) else str(value)
    text = str(value)
    plain = re.fullmatch(r"[\wÄÖÜäöüß][\w .,()/+&%€–-]*", text) and not text.endswith(" ")
    if plain and yaml.safe_load(text) == text:
        return text
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH - len(indent),
        initial_indent=f"{indent}# ",
        subsequent_indent=f"{indent}#   ",
        break_on_hyphens=False,
    )


def _as_item(lines: list[str], indent: str) -> list[str]:
    """Field lines turned into one list item at `indent`: „- “ before the first field, its comment above."""
    first = next(i for i, line in enumerate(lines) if not line.lstrip().startswith("#"))
    head = [f"{indent}{line.lstrip()}" for line in lines[:first]]
    return [*head, f"{indent}- {lines[first].lstrip()}", *lines[first + 1 :]]


def _value(name: str, value: Any, indent: str) -> list[str]:
    """`name: value` lines for a scalar or a list of scalars."""
    if isinstance(value, list):
        items = [_scalar(v) for v in value]
        if name not in BLOCK_LISTS and len(", ".join(items)) + len(indent) + len(name) < WIDTH - 4:
            return [f"{indent}{name}: [{', '.join(items)}]"]
        return [f"{indent}{name}:", *(f"{indent}  - {item}" for item in items)]
    if name in FOLDED and isinstance(value, str):
        lines = textwrap.wrap(value, WIDTH - len(indent) - 2, break_on_hyphens=False)
        return [f"{indent}{name}: >-", *(f"{indent}  {line}" for line in lines)]
    return [f"{indent}{name}: {_scalar(value)}"]


def _fields(
    kind: str, model: type[BaseModel], values: dict[str, Any], indent: str, prefix: str | None = None
) -> list[str]:
    """Each field of `model` with its comment; a field without example value is shown commented out."""
    lines: list[str] = []
    names = field_order(model) if prefix is None else list(model.model_fields)
    for name in names:
        info = model.model_fields[name]
        lines += _comment(describe(kind, name, info, prefix), indent)
        value = values.get(name)
        nested = _model_of(info.annotation)
        if value is None or value == []:
            lines.append(f"{indent}# {name}:")
        elif nested is not None and isinstance(value, dict):
            lines.append(f"{indent}{name}:")
            lines += _fields(kind, nested, value, indent + "  ", name)
        elif nested is not None and isinstance(value, list):
            lines.append(f"{indent}{name}:")
            for item in value:
                lines += _as_item(_fields(kind, nested, item, indent + "    ", name), indent + "  ")
        else:
            lines += _value(name, value, indent)
    return lines


def check_kind(kind: str) -> None:
    """Raise ValueError with a German hint when `kind` is no entry type."""
    if kind not in ENTRY_TYPES:
        from difflib import get_close_matches

        close = get_close_matches(kind, ENTRY_TYPES, n=1)
        hint = f" Meinten Sie „{close[0]}“?" if close else ""
        raise ValueError(f"Unbekannter Typ „{kind}“.{hint} Erlaubt: {', '.join(ENTRY_TYPES)}.")


def check_id(entry_id: str) -> None:
    """Raise ValueError with a German hint when `entry_id` is no valid id."""
    if not SLUG.match(entry_id):
        raise ValueError(
            f"„{entry_id}“ ist keine gültige ID: nur Kleinbuchstaben, Ziffern und Bindestriche, "
            "z. B. „regionaldialog-10“."
        )


def entry_lines(
    kind: str, entry_id: str | None = None, today: date | None = None, indent: str = "  "
) -> list[str]:
    """The entry as a list item of `entries:` (from its first comment to its last field)."""
    check_kind(kind)
    entry_id = entry_id or DEFAULT_IDS[kind]
    check_id(entry_id)
    today = today or date.today()
    values = {"id": entry_id, "type": kind, "updated": today, "review": "offen", **_examples(today)[kind]}
    return _as_item(_fields(kind, ENTRY_TYPES[kind], values, indent + "  "), indent)


def template(kind: str, entry_id: str | None = None, today: date | None = None) -> str:
    """The printable template: a short guide and `entries:` with one example entry, valid as it stands."""
    lines = entry_lines(kind, entry_id, today)
    head = [
        f"# Vorlage: {TYPE_NAMES.get(kind, kind)} (type: {kind}). Alle Werte sind Beispiele – bitte ersetzen.",
        "# Optionale Felder, die Sie nicht brauchen, löschen Sie samt Kommentar; auskommentierte Felder",
        "# („# feld:“) können Sie mit Wert ergänzen. Zum Übernehmen alles ab „- id:“ unter „entries:“ einer",
        f"# Wissensdatei einfügen, oder direkt: regiobot new {kind} --append knowledge/DATEI.yaml",
        "# Danach: regiobot check",
        "entries:",
    ]
    return "\n".join([*head, *lines]) + "\n"


# --------------------------------------------------------------------------- appending to a file


class AppendError(Exception):
    """The entry could not be appended; the message says why in German, the file is unchanged."""


NEW_FILE = """\
# Wissensdatei für regiobot. Werte unter „defaults:“ gelten für jeden Eintrag dieser Datei, der das
# Feld nicht selbst angibt (erlaubt: source, updated, tags).
defaults:
  updated: {today}
  # source:
  #   document: "Name des Dokuments oder der Webseite"

entries:
"""
_TOP_KEY = re.compile(r"^[^\s#-]")


def _entries_list(text: str) -> list[Any] | None:
    """The file's entries (None when it has no `entries:`), or AppendError when it is no valid YAML."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AppendError(
            f"Die Datei ist kein gültiges YAML ({exc.__class__.__name__}); bitte zuerst mit regiobot check "
            "die gemeldete Stelle korrigieren."
        ) from exc
    if data is None:
        return None
    if not isinstance(data, dict):
        raise AppendError("Die Datei beginnt nicht mit „defaults:“ oder „entries:“; bitte die Datei prüfen.")
    entries = data.get("entries")
    if entries is not None and not isinstance(entries, list):
        raise AppendError("„entries:“ ist keine Liste („- id: …“); bitte die Datei prüfen.")
    return entries if "entries" in data else None


def _place(text: str) -> tuple[list[str], int, str]:
    """The file's lines (with `entries:` added when missing), where a new item goes, and the items' indent."""
    rows = text.split("\n")
    start = next((i for i, row in enumerate(rows) if re.match(r"entries:\s*(\[\s*\])?\s*(#.*)?$", row)), None)
    if start is None:
        if any(row.startswith("entries:") for row in rows):
            raise AppendError(
                "„entries:“ ist in einer Zeile geschrieben („entries: [ … ]“); bitte als Liste mit "
                "„- id: …“ je Eintrag schreiben, dann geht das Anhängen."
            )
        rows = [*text.rstrip("\n").split("\n"), "", "entries:"] if text.strip() else ["entries:"]
        start = len(rows) - 1
    rows[start] = "entries:"
    end = next((i for i in range(start + 1, len(rows)) if _TOP_KEY.match(rows[i])), len(rows))
    while end > start + 1 and (not rows[end - 1].strip() or rows[end - 1].startswith("#")):
        end -= 1  # blank lines and comments just above the next section belong to it
    items = (re.match(r"( *)- ", row) for row in rows[start + 1 : end])
    indent = next((m.group(1) for m in items if m), "  ")
    if end > start + 1:
        rows.insert(end, "")  # a blank line between entries, as in the shipped files
        end += 1
    return rows, end, indent


def append_entry(path: Path, kind: str, entry_id: str | None = None, today: date | None = None) -> int:
    """Append the template entry to the `entries:` of `path` (created with `defaults:` when missing).

    Returns the line of the new entry's „- id:“. The file is replaced in one step and only when the result
    reads back with the new entry, so a file is never left half written.
    """
    today = today or date.today()
    entry_lines(kind, entry_id, today)  # a wrong type or id is reported before any file is touched
    entry_id = entry_id or DEFAULT_IDS[kind]
    if path.exists():
        try:
            raw = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AppendError(f"Die Datei kann nicht gelesen werden: {exc}") from exc
    elif not path.parent.is_dir():
        raise AppendError(f"Den Ordner „{path.parent}“ gibt es nicht.")
    else:
        raw = NEW_FILE.format(today=today.isoformat())
    newline = "\r\n" if "\r\n" in raw else "\n"
    text = raw.replace("\r\n", "\n")
    before = _entries_list(text) or []
    if any(isinstance(e, dict) and e.get("id") == entry_id for e in before):
        raise AppendError(
            f"Die ID „{entry_id}“ gibt es in dieser Datei schon; bitte mit --id eine andere wählen."
        )
    rows, at, indent = _place(text)
    result = (
        "\n".join([*rows[:at], *entry_lines(kind, entry_id, today, indent), *rows[at:]]).rstrip("\n") + "\n"
    )
    after = _entries_list(result) or []
    if len(after) != len(before) + 1 or not any(
        isinstance(e, dict) and e.get("id") == entry_id for e in after
    ):
        raise AppendError("Der Eintrag ließ sich nicht sicher anhängen; bitte die Vorlage von Hand einfügen.")
    partial = path.with_name(path.name + ".tmp")
    try:
        partial.write_bytes(result.replace("\n", newline).encode("utf-8"))
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise AppendError(f"Die Datei kann nicht geschrieben werden: {exc.strerror or exc}") from exc
    return next(i for i, row in enumerate(result.split("\n"), 1) if re.match(rf"\s*- id: {entry_id}$", row))
