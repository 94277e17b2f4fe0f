"""`regiobot check`: errors stay where they are caused and speak German; warnings keep the knowledge current.

Every warning has a case that triggers it and one that must not. No encoder, no index: all fast.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.knowledge import Knowledge, Problem, load_knowledge

HEADER = """\
defaults:
  source:
    document: "SEG Mansfeld-Südharz: Regionaldialog (Webseite)"
  updated: 2026-11-01
entries:
"""
SEG = """\
  - id: seg
    type: organisation
    title: SEG Mansfeld-Südharz
    text: Die Standortentwicklungsgesellschaft Mansfeld-Südharz.
    name: SEG Mansfeld-Südharz
    kind: gmbh
"""
BEYER = """\
  - id: beyer
    type: contact
    title: Madlen Beyer
    text: Madlen Beyer leitet die Wirtschaftsförderung der SEG.
    person: Madlen Beyer
    organisation: seg
"""
TODAY = date(2026, 12, 2)


def folder_with(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "knowledge"
    folder.mkdir(exist_ok=True)
    for name, body in files.items():
        (folder / name).write_text(body, encoding="utf-8")
    return folder


def check(tmp_path: Path, body: str, today: date | None = TODAY, max_age_days: int | None = 730) -> Knowledge:
    """One file test.yaml with the header and `body`, loaded as `regiobot check` loads it."""
    return load_knowledge(folder_with(tmp_path, {"test.yaml": HEADER + body}), today, max_age_days)


def line_of(tmp_path: Path, needle: str, name: str = "test.yaml", nth: int = 1) -> int:
    lines = (tmp_path / "knowledge" / name).read_text(encoding="utf-8").splitlines()
    return [i for i, line in enumerate(lines, 1) if needle in line][nth - 1]


def messages(problems: list[Problem], needle: str) -> list[Problem]:
    return [p for p in problems if needle in p.message]


# --------------------------------------------------------------------------- errors stay local


def test_broken_file_is_one_error_and_references_into_it_are_not_dangling(tmp_path: Path) -> None:
    broken = HEADER + SEG + BEYER.replace("title: Madlen Beyer", 'title: "Madlen Beyer')
    event = """\
  - id: rd-1
    type: event
    title: Regionaldialog 1
    text: Der erste Regionaldialog.
    organiser: seg
    contacts: [beyer]
"""
    folder = folder_with(tmp_path, {"a.yaml": broken, "b.yaml": HEADER + event})
    kb = load_knowledge(folder, TODAY, 730)
    [error] = kb.errors
    assert Path(error.file).name == "a.yaml" and error.line == line_of(tmp_path, '"Madlen Beyer', "a.yaml")
    assert "Anführungszeichen" in error.message and "nicht geschlossen" in error.message
    assert not messages(kb.problems, "geht ins Leere")
    pointers = messages(kb.warnings, "verweist auf einen Eintrag in einer Datei, die gerade nicht gelesen")
    assert [(Path(p.file).name, p.line) for p in pointers] == [
        ("b.yaml", line_of(tmp_path, "organiser:", "b.yaml")),
        ("b.yaml", line_of(tmp_path, "contacts:", "b.yaml")),
    ]
    assert all(f"(Datei: {error.file})" in p.message for p in pointers)

    code = CliRunner().invoke(app, ["check", str(folder)])
    assert code.exit_code == 1 and code.output.count("Fehler gefunden") == 1
    assert "1 Fehler gefunden" in code.output


def test_reference_to_an_invalid_entry_points_at_its_error(tmp_path: Path) -> None:
    kb = check(tmp_path, SEG.replace("kind: gmbh", "kind: gmbhh") + BEYER)
    [error] = kb.errors
    assert error.line == line_of(tmp_path, "kind: gmbhh") and "Meinten Sie „gmbh“?" in error.message
    [pointer] = messages(kb.warnings, "verweist auf einen Eintrag")
    assert pointer.line == line_of(tmp_path, "organisation: seg")
    assert (
        f"wegen eines Fehlers gerade nicht gelesen werden kann (test.yaml:{line_of(tmp_path, 'id: seg')})"
        in (pointer.message.replace(str(tmp_path / "knowledge") + "/", ""))
    )


def test_reference_errors_stand_at_the_line_of_the_reference(tmp_path: Path) -> None:
    body = (
        SEG
        + BEYER
        + """\
  - id: rd-1
    type: event
    title: Regionaldialog 1
    text: Der erste Regionaldialog.
    organiser: seg-msh
    contacts:
      - beyer
      - seg
      - bayer
    related: [seg, rd-2]
"""
    )
    kb = check(tmp_path, body)
    found = {(p.line, p.message.split(":")[0]) for p in kb.errors}
    assert found == {
        (line_of(tmp_path, "organiser: seg-msh"), "Eintrag „rd-1“, Feld „organiser“"),
        (line_of(tmp_path, "- seg"), "Eintrag „rd-1“, Feld „contacts“"),
        (line_of(tmp_path, "- bayer"), "Eintrag „rd-1“, Feld „contacts“"),
        (line_of(tmp_path, "related: [seg, rd-2]"), "Eintrag „rd-1“, Feld „related“"),
    }
    assert any("„seg“ ist kein Kontakt" in p.message for p in kb.errors)
    assert any("„bayer“ geht ins Leere. Meinten Sie „beyer“?" in p.message for p in kb.errors)


# --------------------------------------------------------------------------- YAML errors in German


YAML_CASES = {
    "colon": (
        "    text: Hinweis: mehr dazu\n",
        "Hinweis",
        "kein Doppelpunkt erlaubt – fehlen Anführungszeichen",
    ),
    "tab": ("\ttext: x\n", "\ttext", "Tabulator gefunden – bitte Leerzeichen verwenden"),
    "missing-colon": ("    text: x\n    questions\n", "questions", "Hier fehlt der Doppelpunkt nach dem"),
    "indentation": ("    text: x\n   - id: b\n", "- id: b", "Die Einrückung stimmt nicht"),
    "dash": ("    text: x\n    - y\n", "- y", "Die Einrückung stimmt nicht"),
    "quote": ('    text: "x\n', '"x', "Hier beginnt ein Text in Anführungszeichen, der nicht geschlossen"),
    "bracket": ("    tags: [a, b\n    text: x\n", "text: x", "Zeile 9): Eine Liste in eckigen Klammern"),
    "at": ("    text: @home\n", "@home", "Das Zeichen „@“ darf einen Text nicht beginnen"),
    "tag": ("    text: !wichtig x\n", "!wichtig", "„!“ am Anfang eines Werts gilt in YAML als Markierung"),
    "escape": ('    text: "C:\\Daten"\n', "Daten", "Unbekanntes Zeichen nach „\\“"),
    "block": ("    text: |x\n      y\n", "|x", "Nach „|“ oder „>“ muss die Zeile enden"),
    "documents": ("    text: x\n---\nentries: []\n", "---", "mehr als ein YAML-Dokument"),
}


@pytest.mark.parametrize(("broken", "needle", "german"), YAML_CASES.values(), ids=YAML_CASES.keys())
def test_yaml_errors_are_german_with_their_line(
    tmp_path: Path, broken: str, needle: str, german: str
) -> None:
    kb = check(tmp_path, "  - id: a\n    type: info\n    title: A\n" + broken)
    [error] = kb.errors
    assert error.message.startswith("YAML-Syntaxfehler") and german in error.message, error.message
    assert error.line == line_of(tmp_path, needle)
    for english in ("mapping values", "expected", "found", "while scanning", "could not", "token"):
        assert english not in error.message


def test_undefined_alias_is_explained_in_german() -> None:
    import yaml

    from bot.knowledge import explain_yaml_error

    text = "entries:\n  - id: a\n    text: *wichtig\n"
    with pytest.raises(yaml.YAMLError) as caught:
        yaml.safe_load(text)  # the loader refuses aliases before; PyYAML's own message must still be German
    line, german = explain_yaml_error(caught.value, text)
    assert line == 3 and "„*“ am Anfang eines Werts gilt in YAML als Verweis" in german


def test_unknown_yaml_error_falls_back_to_german_with_the_original(tmp_path: Path) -> None:
    import yaml

    from bot.knowledge import explain_yaml_error

    error = yaml.MarkedYAMLError(
        problem="something new went wrong", problem_mark=yaml.Mark("x", 0, 4, 0, None, None)
    )
    line, german = explain_yaml_error(error, "a: 1\n")
    assert line == 5
    assert german.startswith("YAML-Syntaxfehler: Die Datei ist an dieser Stelle kein gültiges YAML")
    assert "(something new went wrong)" in german


# --------------------------------------------------------------------------- schema errors in German


def test_enum_errors_list_the_values_with_oder(tmp_path: Path) -> None:
    body = """\
  - id: rd-1
    type: event
    title: Regionaldialog 1
    text: Der erste Regionaldialog.
    format: praesent
    status: verschoben
    number: 0
"""
    kb = check(tmp_path, body)
    by_line = {p.line: p.message for p in kb.errors}
    assert by_line[line_of(tmp_path, "format:")] == (
        "„format“ hat den Wert „praesent“; erwartet: praesenz, online oder hybrid. Meinten Sie „praesenz“?"
    )
    assert by_line[line_of(tmp_path, "status:")] == (
        "„status“ hat den Wert „verschoben“; erwartet: stattgefunden, geplant oder abgesagt."
    )
    assert by_line[line_of(tmp_path, "number:")] == "„number“ ist 0, muss aber mindestens 1 sein."
    assert all(" or " not in p.message and "Input should" not in p.message for p in kb.errors)


def test_new_entry_may_inherit_the_files_source(tmp_path: Path) -> None:
    kb = check(tmp_path, SEG + BEYER)
    assert kb.ok and not kb.warnings
    assert kb.by_id()["beyer"].source.document == "SEG Mansfeld-Südharz: Regionaldialog (Webseite)"


# --------------------------------------------------------------------------- funding calls and events

CALL = """\
  - id: aufruf
    type: funding_call
    title: Förderaufruf UNTERNEHMEN REVIER
    text: {text}
    programme: UNTERNEHMEN REVIER
    opens: 2024-03-21
    closes: {closes}
"""


def test_closed_call_whose_text_speaks_of_the_present(tmp_path: Path) -> None:
    text = "Der Förderaufruf läuft bis 31.05.2024. Unternehmen können sich bereits jetzt beraten lassen."
    kb = check(tmp_path, CALL.format(text=text, closes="2024-05-31"))
    [warning] = kb.warnings
    assert warning.line == line_of(tmp_path, "closes:")
    assert warning.message.startswith("„aufruf“: Frist abgelaufen am 31.05.2024. Text noch aktuell?")
    assert "„läuft“" in warning.message and "„bereits jetzt“" in warning.message
    assert f"Zeile {line_of(tmp_path, 'text:')}" in warning.message


def test_closed_call_in_the_past_tense_is_only_a_reminder(tmp_path: Path) -> None:
    text = "Der Förderaufruf lief vom 21.03.2024 bis 31.05.2024; Unternehmen konnten sich beraten lassen."
    kb = check(tmp_path, CALL.format(text=text, closes="2024-05-31"))
    [warning] = kb.warnings
    assert "Frist abgelaufen am 31.05.2024" in warning.message and "Text noch aktuell?" not in warning.message


def test_open_call_gives_no_warning(tmp_path: Path) -> None:
    text = "Der Förderaufruf läuft bis 31.01.2027. Unternehmen können sich bereits jetzt beraten lassen."
    assert not check(tmp_path, CALL.format(text=text, closes="2027-01-31")).warnings
    assert not check(tmp_path, CALL.format(text=text, closes="2026-12-02")).warnings  # the last day


EVENT = """\
  - id: rd-9
    type: event
    title: 9. Regionaldialog
    text: Der 9. Regionaldialog soll am 13.06.2024 stattfinden.
    date: {date}
    status: {status}
"""


def test_planned_event_in_the_past(tmp_path: Path) -> None:
    kb = check(tmp_path, EVENT.format(date="2024-06-13", status="geplant"))
    [warning] = kb.warnings
    assert warning.line == line_of(tmp_path, "status:")
    assert warning.message == (
        "„rd-9“ (13.06.2024): Termin liegt zurück, Status noch „geplant“ – stattgefunden oder abgesagt? "
        "Bitte „status“ und den Text anpassen."
    )
    kb = check(tmp_path, EVENT.format(date="Ende April 2024", status="geplant"))
    assert ["(Ende April 2024): Termin liegt zurück" in p.message for p in kb.warnings] == [True]


@pytest.mark.parametrize(
    ("when", "status"),
    [
        ("2024-06-13", "stattgefunden"),
        ("2024-06-13", "abgesagt"),
        ("2027-03-01", "geplant"),
        ("2026-12", "geplant"),
    ],
)
def test_event_that_took_place_or_lies_ahead_gives_no_warning(tmp_path: Path, when: str, status: str) -> None:
    assert not check(tmp_path, EVENT.format(date=when, status=status)).warnings


def test_planned_event_without_a_date_gives_no_warning(tmp_path: Path) -> None:
    assert not check(tmp_path, EVENT.format(date="null", status="geplant")).warnings


# --------------------------------------------------------------------------- review, age of `updated` and `as_of`


def test_entries_marked_for_review(tmp_path: Path) -> None:
    kb = check(
        tmp_path, SEG + BEYER.replace("    organisation: seg\n", "    organisation: seg\n    review: offen\n")
    )
    [warning] = kb.warnings
    assert warning.line == line_of(tmp_path, "review: offen")
    assert warning.message.startswith("„beyer“ ist zu prüfen („review: offen“)")
    assert not check(tmp_path, SEG + BEYER.replace("seg\n", "seg\n    review: geprüft\n")).warnings


def test_old_updated_warns_per_entry(tmp_path: Path) -> None:
    body = SEG + BEYER.replace("    organisation: seg\n", "    organisation: seg\n    updated: 2024-01-10\n")
    [warning] = check(tmp_path, body).warnings
    assert warning.message.startswith("„beyer“ wurde zuletzt am 10.01.2024 geprüft (1057 Tage her).")
    assert not check(tmp_path, body, max_age_days=2000).warnings


def test_old_source_warns_once_where_as_of_stands(tmp_path: Path) -> None:
    header = HEADER.replace('(Webseite)"\n', '(Webseite)"\n    as_of: 2024-02\n')
    folder = folder_with(tmp_path, {"test.yaml": header + SEG + BEYER})
    [warning] = load_knowledge(folder, TODAY, 730).warnings
    assert warning.line == line_of(tmp_path, "as_of:")
    assert warning.message.startswith(
        "Stand der Quelle („as_of“: Februar 2024) liegt 1007 Tage zurück (mehr als 730), betrifft 2 Einträge, "
        "z. B. „seg“."
    )
    assert not load_knowledge(folder, date(2025, 12, 1), 730).warnings

    own = "    source:\n      document: Vorlage 2015/179\n      as_of: 2015\n"
    kb = check(tmp_path, SEG + BEYER + own)
    [warning] = kb.warnings
    assert warning.line == line_of(tmp_path, "as_of: 2015") and "betrifft „beyer“." in warning.message


def test_check_command_shows_warnings_and_passes(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"test.yaml": HEADER + EVENT.format(date="2024-06-13", status="geplant")})
    (tmp_path / "config.yaml").write_text("today: 2026-12-02\n")
    result = CliRunner().invoke(app, ["check", str(folder), "--config", str(tmp_path / "config.yaml")])
    assert result.exit_code == 0, result.output
    assert "Warnung: „rd-9“ (13.06.2024): Termin liegt zurück" in result.output
    assert "OK: 1 Einträge" in result.output and "1 Warnungen" in result.output


# --------------------------------------------------------------------------- another source named in the text

INFO = """\
  - id: {id}
    type: info
    title: {title}
    text: >-
      {text}
"""


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (
            "Laut Pressemitteilung des Landkreises Harz gibt es zwölf Projekte.",
            "Pressemitteilung des Landkreises Harz",
        ),
        (
            "Es gibt zwölf Projekte (Quelle: Jahresbericht der IHK Halle-Dessau).",
            "Jahresbericht der IHK Halle-Dessau",
        ),
        ("Nach Angaben der Metropolregion Mitteldeutschland gibt es zwölf Projekte.", "Metropolregion"),
        ("Die Vorlage 2016/12 nennt zwölf Projekte.", "Vorlage 2016/12"),
    ],
)
def test_text_naming_another_source_than_the_inherited_one(tmp_path: Path, text: str, named: str) -> None:
    kb = check(tmp_path, INFO.format(id="projekte", title="Projekte", text=text))
    [warning] = kb.warnings
    assert warning.line == line_of(tmp_path, "text:")
    assert warning.message.startswith(
        "„projekte“ übernimmt die Quelle der Datei („SEG Mansfeld-Südharz: Regionaldialog (Webseite)“), der "
        "Text nennt aber „"
    )
    assert named in warning.message and "eine eigene „source:“" in warning.message


@pytest.mark.parametrize(
    "text",
    [
        "Laut Barbara Ermrich, Koordinatorin bei der SEG, gibt es zwölf Projekte.",  # a person at the event
        "Laut Webseite der SEG Mansfeld-Südharz gibt es zwölf Projekte.",  # the source itself
        "Das Regionalforum Halle hat zwölf Projekte.",  # an organisation named, but not as the origin
        "Die Musik war laut.",
    ],
)
def test_text_naming_its_own_source_or_a_person_gives_no_warning(tmp_path: Path, text: str) -> None:
    assert not check(tmp_path, INFO.format(id="projekte", title="Projekte", text=text)).warnings


def test_entry_with_its_own_source_may_name_it(tmp_path: Path) -> None:
    body = INFO.format(id="projekte", title="Projekte", text="Laut Vorlage 2016/12 gibt es zwölf Projekte.")
    body += "    source:\n      document: Landkreis Peine, Vorlage 2016/12\n"
    assert not check(tmp_path, body).warnings


# --------------------------------------------------------------------------- the same fact in several places


def test_value_repeated_inside_other_entries_texts(tmp_path: Path) -> None:
    forum = SEG.replace("kind: gmbh", "kind: forum\n    meeting_rhythm: etwa 3 Mal jährlich")
    group = INFO.format(
        id="kg", title="Koordinierungsgruppe", text="Die Koordinierungsgruppe tagt etwa 3 Mal jährlich."
    )
    kb = check(tmp_path, forum + group)
    [warning] = kb.warnings
    here, there = line_of(tmp_path, "meeting_rhythm:"), line_of(tmp_path, "text:", nth=2)
    assert warning.line == here
    shown = warning.message.replace(str(tmp_path / "knowledge") + "/", "")
    assert shown == (
        f"„etwa 3 Mal jährlich“: dieselbe Angabe in 2 Einträgen: „seg“ (test.yaml:{here}), „kg“ (test.yaml:{there}) "
        "– an einer Stelle pflegen, in den anderen darauf verweisen (z. B. über „related“)."
    )


def test_sentence_repeated_in_three_entries_is_one_warning(tmp_path: Path) -> None:
    same = "Den Vorsitz hat zurzeit Landrat Frank Bannert (Landkreis Saalekreis)."
    body = "".join(
        INFO.format(id=key, title=key.title(), text=f"{intro} {same}")
        for key, intro in (("a", "Das Forum tagt oft."), ("b", "Die Gruppe berät."), ("c", "Er ist Landrat."))
    )
    kb = check(tmp_path, body)
    [warning] = kb.warnings
    assert warning.message.startswith(f"„{same}“: dieselbe Angabe in 3 Einträgen: „a“ (")
    assert "„b“ (" in warning.message and "„c“ (" in warning.message


def test_repeats_within_one_entry_or_of_short_phrases_give_no_warning(tmp_path: Path) -> None:
    within = SEG.replace(
        "text: Die Standortentwicklungsgesellschaft Mansfeld-Südharz.",
        "text: Die Gruppe tagt etwa 3 Mal jährlich. Sie tagt etwa 3 Mal jährlich.",
    ).replace("kind: gmbh", "kind: forum\n    meeting_rhythm: etwa 3 Mal jährlich")
    short = "".join(
        INFO.format(id=key, title=key.title(), text=f"Eintrag {key}. Mehr dazu auf der Webseite.")
        for key in "ab"
    )
    named = BEYER + BEYER.replace("id: beyer", "id: beyer-2").replace(
        "title: Madlen Beyer", "title: M. Beyer"
    )
    named = named.replace("Madlen Beyer leitet die Wirtschaftsförderung der SEG.", "Frau Beyer.", 1)
    assert not check(tmp_path, within + short + named).warnings


def test_unreadable_file_is_explained_in_german(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = folder_with(tmp_path, {"a.yaml": HEADER + SEG, "b.yaml": HEADER + BEYER})
    real_open = Path.open

    def refuse(path: Path, *args, **kwargs):
        if path.name == "a.yaml":
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    kb = load_knowledge(folder, TODAY, 730)
    [error] = kb.errors
    assert Path(error.file).name == "a.yaml"
    assert (
        error.message
        == "Datei kann nicht gelesen werden: keine Leseberechtigung. Bitte die Dateirechte prüfen."
    )
    [pointer] = kb.warnings  # which ids a.yaml holds is unknown: the reference is not called dangling
    assert pointer.message.startswith("Eintrag „beyer“, Feld „organisation“: „seg“ gibt es nicht – oder der ")
    assert f"in einer Datei, die gerade nicht gelesen werden kann (Datei: {error.file})" in pointer.message


# --------------------------------------------------------------------------- the shipped knowledge


def test_shipped_knowledge_passes_the_check_with_warnings_only() -> None:
    """Warnings are for the editors to act on (see the report of `regiobot check`); errors never ship."""
    kb = load_knowledge(Path(__file__).resolve().parents[1] / "knowledge", TODAY, 730)
    assert kb.ok, "\n".join(map(str, kb.errors))
    assert all(p.line >= 1 and p.file.endswith(".yaml") for p in kb.warnings)
