"""Knowledge validation: the shipped knowledge is valid, and each kind of broken file gets a file:line message."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app
from bot.knowledge import When, load_knowledge

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
DEV_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev_questions.yaml"
SEEDS = ROOT.parent / "shared" / "seeds"

HEADER = """\
defaults:
  source:
    document: Testdokument
  updated: 2026-11-01
entries:
"""
VALID = """\
  - id: seg
    type: organisation
    title: SEG Mansfeld-Südharz
    text: Die Standortentwicklungsgesellschaft Mansfeld-Südharz.
    name: SEG
    kind: gmbh
  - id: beyer
    type: contact
    title: Madlen Beyer
    text: Madlen Beyer leitet die Wirtschaftsförderung der SEG.
    person: Madlen Beyer
    organisation: seg
"""


def write(tmp_path: Path, body: str, name: str = "test.yaml") -> Path:
    folder = tmp_path / "knowledge"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(HEADER + VALID + body, encoding="utf-8")
    return folder


def run_check(folder: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["check", str(folder)])
    return result.exit_code, result.output


def line_of(folder: Path, needle: str, name: str = "test.yaml") -> int:
    lines = (folder / name).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_shipped_knowledge_is_valid() -> None:
    kb = load_knowledge(KNOWLEDGE)
    assert kb.errors == [], "\n".join(map(str, kb.errors))
    types = {e.type for e in kb.entries}
    assert {"organisation", "contact", "funding_call", "event", "project", "membership", "info"} <= types


def test_check_command_passes_with_summary() -> None:
    code, out = run_check(KNOWLEDGE)
    assert code == 0, out
    last = out.splitlines()[-1]  # warnings, e.g. about a date that has passed, come before the summary
    assert last.startswith("OK: ") and "Einträge" in last


@pytest.mark.skipif(not SEEDS.exists(), reason="shared/seeds not beside the repository")
def test_every_entry_names_a_seed_document() -> None:
    seeds = {p.name for p in SEEDS.glob("*.txt")}
    for entry in load_knowledge(KNOWLEDGE).entries:
        assert entry.source.file in seeds, entry.id


def test_no_page_boilerplate_in_knowledge() -> None:
    text = " ".join(p.read_text(encoding="utf-8") for p in KNOWLEDGE.glob("*.yaml"))
    for junk in ("existiert leider nicht", "Warning: Attempt", "post_content", "(PDF)"):
        assert junk not in text


@pytest.mark.skipif(not DEV_QUESTIONS.exists(), reason="shared/eval not beside the repository")
def test_knowledge_covers_dev_questions() -> None:
    corpus = " ".join(e.text for e in load_knowledge(KNOWLEDGE).entries).casefold()
    missing = []
    for case in yaml.safe_load(DEV_QUESTIONS.read_text(encoding="utf-8")):
        if case["found"]:
            missing += [(case["id"], s) for s in case.get("expect_all", []) if s.casefold() not in corpus]
            if case.get("expect_any") and not any(s.casefold() in corpus for s in case["expect_any"]):
                missing.append((case["id"], case["expect_any"]))
    assert not missing


def test_valid_file_passes(tmp_path: Path) -> None:
    code, out = run_check(write(tmp_path, ""))
    assert code == 0, out
    assert "2 Einträge" in out and "1 organisation" in out and "1 contact" in out


def test_bad_yaml_syntax(tmp_path: Path) -> None:
    folder = write(tmp_path, '  - id: kaputt\n    type: info\n    title: "offen\n    text: x\n')
    code, out = run_check(folder)
    assert code == 1
    assert "test.yaml:" in out and "YAML-Syntaxfehler" in out


def test_unknown_field_with_suggestion(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        """\
  - id: aufruf
    type: funding_call
    title: Aufruf
    text: Ein Aufruf.
    programme: Testprogramm
    colses: 2024-05-31
""",
    )
    code, out = run_check(folder)
    assert code == 1
    assert f"test.yaml:{line_of(folder, 'colses')}: unbekanntes Feld „colses“. Meinten Sie „closes“?" in out


def test_missing_field(tmp_path: Path) -> None:
    folder = write(tmp_path, "  - id: ohne-text\n    type: info\n    title: Ohne Text\n")
    code, out = run_check(folder)
    assert code == 1
    assert f"test.yaml:{line_of(folder, 'id: ohne-text')}: Pflichtfeld „text“ fehlt" in out


def test_dangling_reference(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        """\
  - id: rd-1
    type: event
    title: Regionaldialog 1
    text: Der erste Regionaldialog.
    organiser: seg-msh
    contacts: [beyer]
""",
    )
    code, out = run_check(folder)
    assert code == 1
    assert (
        f"test.yaml:{line_of(folder, 'organiser:')}: Eintrag „rd-1“, Feld „organiser“: Verweis auf „seg-msh“"
        in out
    )


def test_duplicate_id_names_both_places(tmp_path: Path) -> None:
    folder = write(tmp_path, "  - id: seg\n    type: info\n    title: Noch mal\n    text: Doppelt.\n")
    code, out = run_check(folder)
    assert code == 1
    first, second = line_of(folder, "id: seg"), line_of(folder, "title: Noch mal") - 2
    assert f"test.yaml:{second}: ID „seg“ gibt es schon (" in out and f"test.yaml:{first})" in out


def test_closes_before_opens(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        """\
  - id: aufruf
    type: funding_call
    title: Aufruf
    text: Ein Aufruf.
    programme: Testprogramm
    opens: 2024-05-01
    closes: 2024-03-01
""",
    )
    code, out = run_check(folder)
    assert code == 1
    assert f"test.yaml:{line_of(folder, 'closes:')}: „closes“: Ende 01.03.2024 liegt vor dem Beginn" in out


def test_wrong_date_format_suggests_iso(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        """\
  - id: aufruf
    type: funding_call
    title: Aufruf
    text: Ein Aufruf.
    programme: Testprogramm
    opens: 21.03.2024
""",
    )
    code, out = run_check(folder)
    assert code == 1
    assert f"test.yaml:{line_of(folder, 'opens:')}: „opens“: Datum bitte als 2024-03-21 schreiben" in out


def test_all_problems_reported_in_one_run(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        """\
  - id: a
    type: info
    title: A
    text: ""
  - id: b
    type: infos
    title: B
    text: B
  - id: c
    type: info
    title: seg mansfeld-südharz
    text: C
""",
    )
    code, out = run_check(folder)
    assert code == 1
    assert "„text“ darf nicht leer sein" in out
    assert "unbekannter Typ „infos“. Meinten Sie „info“?" in out
    assert "Titel „seg mansfeld-südharz“ gibt es schon" in out


def test_non_utf8_file(tmp_path: Path) -> None:
    folder = write(tmp_path, "")
    (folder / "latin1.yaml").write_bytes("entries:\n  - id: x\n    title: Förderung\n".encode("latin-1"))
    code, out = run_check(folder)
    assert code == 1 and "latin1.yaml:3: Die Datei ist nicht UTF-8-kodiert" in out


def test_old_entries_warn_but_pass(tmp_path: Path) -> None:
    folder = write(tmp_path, "")
    (tmp_path / "config.yaml").write_text("today: 2030-01-01\ncheck:\n  max_age_days: 365\n")
    result = CliRunner().invoke(app, ["check", str(folder), "--config", str(tmp_path / "config.yaml")])
    assert result.exit_code == 0
    assert "Warnung: „seg“ wurde zuletzt am 01.11.2026 geprüft" in result.output


def test_partial_dates_are_never_made_up_days() -> None:
    end_april = When.model_validate("Ende April 2024")
    assert end_april.german() == "Ende April 2024" and not end_april.exact
    assert end_april.latest() == date(2024, 4, 30) and end_april.earliest() > date(2024, 4, 15)
    assert When.model_validate(date(2024, 2, 20)).german() == "20.02.2024"
    assert When.model_validate("2024-04").german() == "April 2024"
    with pytest.raises(ValueError):
        When.model_validate("2024-02-30")


def test_config_from_environment_variable(tmp_path: Path, monkeypatch) -> None:
    folder = write(tmp_path, "")
    config_file = tmp_path / "other.yaml"
    config_file.write_text(f"knowledge_dir: {folder}\n")
    monkeypatch.setenv("REGIOBOT_CONFIG", str(config_file))
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 0 and "2 Einträge" in result.output
    config_file.write_text("knowledge_dir: [kaputt\n")
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 2 and "other.yaml" in result.output
