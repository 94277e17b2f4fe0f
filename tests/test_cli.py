"""The command line speaks German and is consistent: help, usage errors, --knowledge, `ask` on a terminal,
and `regiobot new` templates that pass the checker as printed. Fast: no encoder is loaded."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer
import yaml
from pydantic import Field
from typer.testing import CliRunner

import bot.cli as cli
from bot import templates
from bot.cli import app
from bot.knowledge import ENTRY_TYPES, Event, load_knowledge

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
TODAY = date(2026, 12, 2)
ENGLISH = ("Usage", "Options", "Commands", "Arguments", "Show this message", "Error", "[default", "[required")
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def invoke(*args: str, **kwargs: Any) -> Any:
    return CliRunner().invoke(app, list(args), prog_name="regiobot", **kwargs)


def assert_german(text: str) -> None:
    for word in ENGLISH:
        assert word not in text, f"„{word}“ in:\n{text}"
    assert not re.search(r"<(str|path|bool|int|float|list)", text, flags=re.IGNORECASE), text


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    """A copy of the shipped knowledge: template examples point at its entries."""
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    return folder


# --------------------------------------------------------------------------- help and usage errors


@pytest.mark.parametrize("command", ["", *COMMANDS])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_is_german_with_both_flags(command: str, flag: str) -> None:
    result = invoke(*([command] if command else []), flag)
    assert result.exit_code == 0, result.output
    assert "Aufruf: regiobot" in result.output
    assert "Diese Hilfe zeigen und beenden." in result.output
    assert_german(result.output)


def test_plain_help_and_errors_without_rich_are_german(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typer.core, "HAS_RICH", False)
    for command in ["", *COMMANDS]:
        result = invoke(*([command] if command else []), "-h")
        assert result.exit_code == 0 and "Aufruf: regiobot" in result.output, result.output
        assert_german(result.output)
    result = invoke("new")
    assert result.exit_code == 2
    assert "Fehler: Argument „TYP“ fehlt." in result.output
    assert "Hilfe: regiobot new --help" in result.output
    assert_german(result.output)


def test_app_without_arguments_shows_german_help() -> None:
    result = invoke()
    assert "Aufruf: regiobot" in result.output and "Befehle" in result.output
    assert_german(result.output)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new"], "Argument „TYP“ fehlt."),
        (["check", "--bogus"], "Unbekannte Option: --bogus."),
        (["check", "a", "b"], "Unerwartete zusätzliche Angabe: b"),
        (["chek"], "Unbekannter Befehl „chek“. Meinten Sie „check“?"),
        (["purge", "--days", "0"], "Ungültiger Wert für „--days“: muss mindestens 1 sein."),
        (["purge", "--days", "viele"], "Ungültiger Wert für „--days“: bitte eine ganze Zahl angeben"),
        (["eval", "--xquad"], "Die Option --xquad braucht einen Wert."),
    ],
)
def test_usage_errors_are_german(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Fehler" in result.output
    assert_german(result.output)


def test_new_lists_every_entry_type_in_its_help() -> None:
    text = " ".join(invoke("new", "-h").output.split())
    assert all(kind in text for kind in ENTRY_TYPES)


# --------------------------------------------------------------------------- ask on a terminal


def test_ask_without_question_on_a_terminal_explains_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: True)
    monkeypatch.setattr(cli, "_engine", lambda *a, **k: pytest.fail("the engine must not load for a hint"))
    result = invoke("ask")
    assert result.exit_code == 2
    assert 'regiobot ask "Wann ist der nächste Regionaldialog?"' in result.output
    assert "regiobot chat" in result.output


def test_ask_without_question_reads_piped_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    class Dialogue:
        def __init__(self, *args: Any) -> None:
            pass

        def answer(self, question: str, today: date | None = None) -> Any:
            asked.append(question)
            return SimpleNamespace(plain=lambda: f"Antwort auf {question}")

    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: False)
    monkeypatch.setattr(cli, "_engine", lambda *a, **k: object())
    monkeypatch.setattr("bot.dialogue.Dialogue", Dialogue)
    result = invoke("ask", input="Erste Frage\n\nZweite Frage\n")
    assert result.exit_code == 0, result.output
    assert asked == ["Erste Frage", "Zweite Frage"]


# --------------------------------------------------------------------------- --knowledge everywhere


class Chosen(Exception):
    """Raised by the fakes below with the folder a command was given."""


@pytest.fixture
def chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fakes for everything that would load an encoder: they raise Chosen(knowledge folder)."""

    def engine(config: Any, knowledge: Path | None, index: Path | None, progress: bool = True) -> Any:
        raise Chosen(knowledge)

    def build_index(config: Any, encoder: Any, *, knowledge_dir: Path | None = None, **kwargs: Any) -> Any:
        raise Chosen(knowledge_dir)

    monkeypatch.setattr(cli, "_engine", engine)
    monkeypatch.setattr("bot.embedding.load_encoder", lambda settings: object())
    monkeypatch.setattr("bot.index.build_index", build_index)


@pytest.mark.parametrize(
    "args", [["build"], ["ask", "Wer leitet die SEG?"], ["chat"], ["eval", "{questions}"]], ids=str
)
def test_knowledge_option_reaches_the_engine(chosen: None, tmp_path: Path, args: list[str]) -> None:
    questions = tmp_path / "fragen.yaml"
    questions.write_text("- {id: q, question: Wer?, found: true}\n", encoding="utf-8")
    args = [a.replace("{questions}", str(questions)) for a in args]
    result = invoke(*args, "--knowledge", str(tmp_path / "wissen"))
    assert isinstance(result.exception, Chosen), result.output
    assert result.exception.args[0] == tmp_path / "wissen"


def test_run_takes_knowledge_and_index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[Any] = []
    monkeypatch.setattr("bot.telegram.run", lambda config: seen.append(config) or 0)
    result = invoke("run", "--knowledge", str(tmp_path / "wissen"), "--index", str(tmp_path / "index"))
    assert result.exit_code == 0, result.output
    assert seen[0].knowledge_dir == (tmp_path / "wissen").resolve()
    assert seen[0].index_dir == (tmp_path / "index").resolve()


def test_check_takes_knowledge_and_its_shortcut(knowledge: Path, tmp_path: Path) -> None:
    for args in (
        ["--knowledge", str(knowledge)],
        [str(knowledge)],
        [str(knowledge), "--knowledge", str(knowledge)],
    ):
        result = invoke("check", *args)
        assert result.exit_code == 0, result.output
        assert "OK: " in result.output
    result = invoke("check", str(knowledge), "--knowledge", str(tmp_path))
    assert result.exit_code == 2
    assert "bitte nur einen" in result.output


def test_progress_goes_to_stderr_and_only_sometimes_when_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    progress = cli._Progress("fragen.yaml: Frage", 130)
    progress.terminal = True
    progress.step(40)
    progress.done()
    err = capsys.readouterr()
    assert "fragen.yaml: Frage 40/130 …" in err.err and err.out == ""
    quiet = cli._Progress("fragen.yaml: Frage", 130)
    quiet.terminal = False
    quiet.step(1)
    assert capsys.readouterr().err == ""  # a log gets a line every ten seconds, not one per question


# --------------------------------------------------------------------------- regiobot new


@pytest.mark.parametrize("kind", list(ENTRY_TYPES))
def test_each_template_passes_the_checker_as_printed(kind: str, knowledge: Path) -> None:
    result = invoke("new", kind)
    assert result.exit_code == 0, result.output
    (knowledge / "vorlage.yaml").write_text(result.output, encoding="utf-8")
    kb = load_knowledge(knowledge, TODAY)
    assert [str(p) for p in kb.errors] == []
    entry = kb.by_id()[templates.DEFAULT_IDS[kind]]
    assert entry.type == kind
    assert entry.review == "offen"  # a template is a draft until someone checks it against the source
    assert templates.NO_DESCRIPTION not in result.output


@pytest.mark.parametrize("kind", list(ENTRY_TYPES))
def test_templates_show_every_field_required_marks_and_allowed_values(kind: str) -> None:
    text = templates.template(kind, today=TODAY)
    flat = " ".join(line.strip(" #") for line in text.splitlines())
    model = ENTRY_TYPES[kind]
    for name, info in model.model_fields.items():
        need = "Pflichtfeld" if info.is_required() else "optional"
        assert f"# {name} ({need}):" in text
    if kind == "event":
        assert "Erlaubt: stattgefunden, geplant, abgesagt." in flat
        assert "Erlaubt: praesenz, online, hybrid." in flat
        assert "# name (Pflichtfeld):" in text  # nested fields of speakers
    if kind == "organisation":
        assert "Erlaubt: forum, gremium, arbeitsgruppe" in flat
    assert text.startswith("# Vorlage:")


def test_every_field_has_a_german_description_and_no_description_is_stale() -> None:
    keys = set()
    for kind, model in ENTRY_TYPES.items():
        for name, info in model.model_fields.items():
            line = templates.describe(kind, name, info)
            assert templates.NO_DESCRIPTION not in line, (
                f"{kind}.{name}: bitte in templates.DESCRIPTIONS erklären"
            )
            keys |= {f"{kind}.{name}", name}
            nested = templates._model_of(info.annotation)
            for sub, sub_info in nested.model_fields.items() if nested else []:
                assert templates.NO_DESCRIPTION not in templates.describe(kind, sub, sub_info, name)
                keys |= {f"{name}.{sub}", f"{kind}.{name}.{sub}"}
    assert set(templates.DESCRIPTIONS) <= keys, set(templates.DESCRIPTIONS) - keys


def test_a_new_model_field_shows_up_undescribed(monkeypatch: pytest.MonkeyPatch) -> None:
    class Extended(Event):
        ticket_url: str | None = Field(None)

    monkeypatch.setitem(ENTRY_TYPES, "event", Extended)
    text = templates.template("event", today=TODAY)
    assert f"# ticket_url (optional): {templates.NO_DESCRIPTION}" in text
    assert "# ticket_url:" in text  # no example value: shown, but commented out


def test_new_rejects_unknown_types_and_ids_in_german() -> None:
    result = invoke("new", "evnt")
    assert result.exit_code == 2 and "Unbekannter Typ „evnt“. Meinten Sie „event“?" in result.output
    result = invoke("new", "info", "--id", "Neue Info")
    assert result.exit_code == 2 and "keine gültige ID" in result.output


def test_new_with_id_uses_it() -> None:
    result = invoke("new", "contact", "--id", "erika-mustermann")
    assert "  - id: erika-mustermann\n" in result.output


def test_append_creates_a_file_with_defaults_and_extends_it(knowledge: Path) -> None:
    target = knowledge / "neu.yaml"
    for kind in ENTRY_TYPES:
        result = invoke("new", kind, "--append", str(target))
        assert result.exit_code == 0, result.output
        assert f"{target}:" in result.output and "angehängt" in result.output
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert "defaults" in data
    assert [e["type"] for e in data["entries"]] == list(ENTRY_TYPES)
    result = invoke("check", str(knowledge))
    assert result.exit_code == 0, result.output


def test_append_extends_a_shipped_file_and_reports_the_line(knowledge: Path) -> None:
    target = knowledge / "seg-mansfeld-suedharz.yaml"
    before = target.read_text(encoding="utf-8")
    result = invoke("new", "event", "--id", "regionaldialog-10", "--append", str(target))
    assert result.exit_code == 0, result.output
    after = target.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n"))  # nothing above is changed
    line = int(re.search(rf"{re.escape(str(target))}:(\d+):", result.output)[1])
    assert after.splitlines()[line - 1] == "  - id: regionaldialog-10"
    assert invoke("check", str(knowledge)).exit_code == 0
    again = invoke("new", "event", "--id", "regionaldialog-10", "--append", str(target))
    assert again.exit_code == 1 and "gibt es in dieser Datei schon" in again.output
    assert target.read_text(encoding="utf-8") == after


@pytest.mark.parametrize(
    ("text", "indent"),
    [
        ("entries:\n- id: a\n  type: info\n", ""),  # items at column 0
        ("entries:\n    - id: a\n      type: info\n\n# Ende\n", "    "),
        ("entries: []\n", "  "),
        ("defaults:\n  updated: 2026-12-01\n", "  "),  # no entries yet
        ("entries:\n  - id: a\n    type: info\ndefaults:\n  updated: 2026-12-01\n", "  "),  # entries first
    ],
)
def test_append_keeps_the_layout_of_other_files(tmp_path: Path, text: str, indent: str) -> None:
    target = tmp_path / "datei.yaml"
    target.write_bytes(text.replace("\n", "\r\n").encode())
    templates.append_entry(target, "info", today=TODAY)
    raw = target.read_bytes().decode()
    assert "\r\n" in raw and "\n" not in raw.replace("\r\n", "")  # Windows line ends stay
    data = yaml.safe_load(raw)
    assert data["entries"][-1]["id"] == "neue-information"
    assert f"\r\n{indent}- id: neue-information\r\n" in raw


def test_append_refuses_broken_files_and_leaves_them_alone(tmp_path: Path) -> None:
    for text in ("entries: [a, b]\n", "entries:\n  - id: a\n  bad: [\n", "- just a list\n"):
        target = tmp_path / "kaputt.yaml"
        target.write_text(text, encoding="utf-8")
        result = invoke("new", "info", "--append", str(target))
        assert result.exit_code == 1, result.output
        assert target.read_text(encoding="utf-8") == text
    result = invoke("new", "info", "--append", str(tmp_path / "fehlt" / "neu.yaml"))
    assert result.exit_code == 1 and "gibt es nicht" in result.output


def test_the_staff_guide_examples_pass_the_checker(knowledge: Path) -> None:
    guide = (ROOT / "docs" / "redaktion.md").read_text(encoding="utf-8")
    section = guide.split("## Beispiele je Typ", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)
    header = "defaults:\n  source:\n    document: Anleitung\n  updated: 2026-12-01\nentries:\n"
    (knowledge / "anleitung.yaml").write_text(header + "\n".join(blocks), encoding="utf-8")
    kb = load_knowledge(knowledge, TODAY)
    assert [str(p) for p in kb.errors] == []
    assert {e.type for e in kb.entries if e.source.document == "Anleitung"} == set(ENTRY_TYPES)
