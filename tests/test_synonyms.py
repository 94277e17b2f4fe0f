"""Staff-editable synonym list: every mistake reported as file:line in German; whole-word matching."""

from __future__ import annotations

import timeit
from pathlib import Path

import pytest

from bot.knowledge import SYNONYM_FILE, knowledge_files, load_knowledge
from bot.synonyms import Synonyms, is_abbreviation, load_synonyms
from bot.text import stem, tokens

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
ENTRY = """\
entries:
  - id: ag-verkehr
    type: organisation
    title: Arbeitsgruppe Verkehr
    text: Die Arbeitsgruppe Verkehr tagt zweimal im Jahr.
    name: Arbeitsgruppe Verkehr
    kind: arbeitsgruppe
    source: {document: Test}
    updated: 2024-01-01
"""


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SYNONYM_FILE
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def shipped() -> Synonyms:
    synonyms, problems = load_synonyms(KNOWLEDGE)
    assert problems == [], "\n".join(map(str, problems))
    return synonyms


def test_shipped_list_is_valid_and_useful(shipped: Synonyms) -> None:
    assert len(shipped) >= 30
    members = {t.lower() for group in shipped.groups for t in group}
    assert {
        "ag",
        "pg",
        "msh",
        "seg",
        "emmd",
        "fördermittel",
        "grant",
        "termin",
        "meeting",
        "deadline",
    } <= members


def test_missing_file_is_fine(tmp_path: Path) -> None:
    synonyms, problems = load_synonyms(tmp_path)
    assert len(synonyms) == 0 and problems == []


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("AG: Arbeitsgruppe\n", 1, "Liste von Gruppen"),
        ("- AG: Arbeitsgruppe\n", 1, "keine Zuordnung"),
        ("- AG, Arbeitsgruppe\n", 1, "Fehlen die eckigen Klammern?"),
        ("# Kopf\n- [AG, Arbeitsgruppe]\n- [PG]\n", 3, "weniger als zwei"),
        ("- [AG, '', Arbeitsgruppe]\n", 1, "Leerer Begriff"),
        ("- [AG, ~, Arbeitsgruppe]\n", 1, "Leerer Begriff"),
        ("- [Zustimmung, yes]\n- [Nummer, 3, drei]\n", 1, 'Anführungszeichen setzen: "yes"'),
        ("- [Nummer, drei, 3]\n", 1, "Zahl, Datum oder Ja/Nein-Wert"),
        ("- [Kurz, " + "Lang" * 20 + "]\n", 1, "zu lang"),
        ("- [AG, Arbeitsgruppe]\n- [Arbeitskreis, ag]\n", 2, "schon in der Gruppe in Zeile 1"),
        ("- [Mitglieder, die]\n", 1, "Füllwörtern"),
        ("- [AG, [Arbeitsgruppe]]\n", 1, "keine Liste oder Zuordnung"),
        ("- [AG, Arbeitsgruppe\n- [PG, Projektgruppe]\n", 2, "YAML-Syntaxfehler"),
    ],
)
def test_problems_name_file_line_and_fix(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    write(tmp_path, text)
    _, problems = load_synonyms(tmp_path)
    assert problems, text
    assert any(p.line == line and fragment in p.message for p in problems), "\n".join(map(str, problems))
    assert all(p.file.endswith(SYNONYM_FILE) for p in problems)


def test_duplicate_in_one_group_is_only_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "- [AG, Arbeitsgruppe, ag]\n")
    synonyms, problems = load_synonyms(tmp_path)
    assert [p.warning for p in problems] == [True]
    assert synonyms.groups == (("AG", "Arbeitsgruppe"),)


def test_good_groups_survive_a_bad_one(tmp_path: Path) -> None:
    write(tmp_path, "- [AG, Arbeitsgruppe]\n- [PG]\n- [grant, Zuschuss]\n")
    synonyms, problems = load_synonyms(tmp_path)
    assert len(problems) == 1
    assert synonyms.groups == (("AG", "Arbeitsgruppe"), ("grant", "Zuschuss"))


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / SYNONYM_FILE).write_bytes("- [AG, Arbeitsgruppe]\n- [Förderung, grant]\n".encode("latin-1"))
    _, problems = load_synonyms(tmp_path)
    assert problems[0].line == 2 and "UTF-8" in problems[0].message


def test_knowledge_skips_the_file_but_reports_its_problems(tmp_path: Path) -> None:
    (tmp_path / "ag.yaml").write_text(ENTRY, encoding="utf-8")
    write(tmp_path, "- [AG, Arbeitsgruppe]\n- [PG]\n")
    assert [p.name for p in knowledge_files(tmp_path)] == ["ag.yaml"]
    kb = load_knowledge(tmp_path)
    assert [e.id for e in kb.entries] == ["ag-verkehr"]
    assert [(Path(p.file).name, p.line) for p in kb.errors] == [(SYNONYM_FILE, 2)]
    assert not kb.ok


def test_knowledge_without_synonym_file_is_fine(tmp_path: Path) -> None:
    (tmp_path / "ag.yaml").write_text(ENTRY, encoding="utf-8")
    assert load_knowledge(tmp_path).ok


def test_shipped_knowledge_with_synonyms_has_no_errors() -> None:
    assert load_knowledge(KNOWLEDGE).errors == []


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Wer leitet die AG Verkehr?", "Arbeitsgruppe"),
        ("wer leitet die ag verkehr?", "Arbeitsgruppe"),
        ("Who chairs the working group on transport?", "Arbeitsgruppe"),
        ("Gibt es Foerdermittel?", "Zuschuss"),
        ("Gibt es einen grant?", "Fördermittel"),
        ("Welche Zuschüsse gibt es?", "grant"),
        ("Was macht die PG Familie?", "Projektgruppe"),
        ("Wer ist Ansprechpartnerin?", "Kontaktperson"),
        ("Was ist die Metropolregion Mitteldeutschland?", "EMMD"),
        ("Projekte in Mansfeld Südharz", "MSH"),
        ("When is the next meeting?", "Termin"),
        ("Bis wann ist die deadline?", "Frist"),
        ("Wer ist deputy chair?", "Stellvertretung"),
    ],
)
def test_expand_finds_whole_words_and_phrases(shipped: Synonyms, question: str, expected: str) -> None:
    extra = shipped.expand(question)
    assert set(tokens(expected)) <= set(extra), extra
    assert not set(extra) & set(tokens(question))


@pytest.mark.parametrize(
    "question",
    [
        "Wie viele Tage dauert es?",
        "Wann tagt der Ausschuss?",
        "Fahren Wagen nach Magdeburg?",
        "Ist das Vorgehen agil?",
        "Gilt die AGB?",
        "Geht es um Segel oder Segmente?",
        "Gibt es eine Messe?",
        "Ist das ein Page?",
        "Was ist ein Emblem?",
        "Was macht die Agentur?",
    ],
)
def test_expand_never_matches_inside_words(shipped: Synonyms, question: str) -> None:
    assert shipped.expand(question) == []
    assert shipped.expand_text(question) == question


def test_expand_text_spells_out_abbreviations() -> None:
    synonyms = Synonyms(
        [["AG", "Arbeitsgruppe", "working group"], ["MSH", "Mansfeld-Südharz"], ["grant", "Zuschuss"]]
    )
    assert synonyms.expand_text("Wer leitet die AG Verkehr?") == "Wer leitet die AG (Arbeitsgruppe) Verkehr?"
    assert synonyms.expand_text("ag und MSH") == "ag (Arbeitsgruppe) und MSH (Mansfeld-Südharz)"
    assert synonyms.expand_text("Arbeitsgruppe (AG) Verkehr") == "Arbeitsgruppe (AG) Verkehr"
    assert synonyms.expand_text("AG, AG und AG") == "AG (Arbeitsgruppe), AG und AG"
    assert synonyms.expand_text("Gibt es einen grant?") == "Gibt es einen grant?"


def test_longest_phrase_wins() -> None:
    synonyms = Synonyms([["Vorsitz", "chair"], ["stellvertretender Vorsitz", "deputy"]])
    assert synonyms.expand("Wer hat den stellvertretenden Vorsitz?") == [stem("deputy")]


def test_abbreviation_rule() -> None:
    assert all(map(is_abbreviation, ["AG", "ÖPNV", "EMMD", "SEG"]))
    assert not any(map(is_abbreviation, ["Arbeitsgruppe", "grant", "A", "working group", "Ag"]))


def test_expand_is_fast(shipped: Synonyms) -> None:
    question = "Wann ist das nächste Treffen der AG Verkehr in Mansfeld-Südharz?"
    shipped.expand(question)
    assert timeit.timeit(lambda: shipped.expand(question), number=200) / 200 < 0.001


def test_a_syntax_error_in_the_synonym_file_is_explained_in_german(tmp_path):
    from bot.synonyms import load_synonyms

    (tmp_path / "synonyme.yaml").write_text(
        "synonyme:\n  - [AG, Arbeitsgruppe\n  - [EMMD, Metropolregion]\n", encoding="utf-8"
    )
    _, problems = load_synonyms(tmp_path)
    (problem,) = problems
    text = str(problem)
    assert "synonyme.yaml:" in text and "Gruppe" in text
    assert not any(english in text for english in ("expected", "while parsing", "found"))


def test_alternatives_map_each_named_stem_to_its_group() -> None:
    synonyms = Synonyms([["Wertschöpfung", "value creation"], ["AG", "Arbeitsgruppe"]])
    alternatives = synonyms.alternatives("Who advises on value creation in the AG?")
    assert "wertschopf" in alternatives["creation"] and "arbeitsgrupp" in alternatives["ag"]
    assert "advis" not in alternatives  # words of no group have none
    assert synonyms.alternatives("Wer leitet die Tage der Region?") == {}  # "AG" never inside a word
