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
    "colon": ("    text: Hinweis: mehr dazu\n", "Hinweis", "kein Doppelpunkt erlaubt – fehlen Anführungszeichen"),
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
