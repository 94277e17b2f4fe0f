"""Hostile or oversized knowledge: alias bombs, huge files and values, loader crashes, outside symlinks and
control characters all end as `file:line` problems, never as a crash. No encoder, no index: all fast.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

import bot.knowledge
from bot.cli import app
from bot.config import Config, LimitSettings, load_config
from bot.knowledge import load_knowledge, summarise

ROOT = Path(__file__).resolve().parents[1]
HEADER = """\
defaults:
  source: {document: Testquelle}
  updated: 2026-11-01
entries:
"""
ENTRY = """\
  - id: eintrag-{n}
    type: info
    title: Eintrag {n}
    text: Der Eintrag Nummer {n} erklärt etwas.
"""


def entries(count: int, start: int = 0) -> str:
    return "".join(ENTRY.format(n=n) for n in range(start, start + count))


def knowledge(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "knowledge"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def line_of(path: Path, needle: str) -> int:
    return next(
        i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line
    )


def billion_laughs(levels: int = 9) -> str:
    """The classic alias bomb, aimed at `kind:`: 9**levels leaves from about a kilobyte of YAML."""
    lines = [HEADER.rstrip("\n").removesuffix("entries:").rstrip("\n"), "lol:"]
    lines.append('  g0: &lachen0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]')
    lines += [f"  g{i}: &lachen{i} [" + ",".join([f"*lachen{i - 1}"] * 9) + "]" for i in range(1, levels)]
    lines += ["entries:", "  - id: bombe", "    type: organisation", "    title: Bombe", "    text: Bumm."]
    lines += ["    name: Bombe", f"    kind: *lachen{levels - 1}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- anchors and aliases


def test_alias_bomb_is_refused_fast_with_one_message_and_little_memory(tmp_path: Path) -> None:
    text = billion_laughs()
    assert 900 < len(text) < 1400
    folder = knowledge(tmp_path, {"bombe.yaml": text})
    tracemalloc.start()
    started = time.perf_counter()
    try:
        kb = load_knowledge(folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 1.0
    assert peak < 5_000_000, f"{peak / 1e6:.1f} MB"
    assert len(kb.errors) == 1 and not kb.entries
    assert kb.errors[0].line == line_of(folder / "bombe.yaml", "&lachen0")
    assert "Anker" in kb.errors[0].message and "„&lachen0“" in kb.errors[0].message

    result = CliRunner().invoke(app, ["check", str(folder)])
    assert result.exit_code == 1 and len(result.output) < 2_000, result.output[:2_000]


def test_any_anchor_or_alias_is_refused_at_its_line(tmp_path: Path) -> None:
    text = HEADER + entries(1) + "    tags: &gemeinsam [a, b]\n" + entries(1, 1) + "    tags: *gemeinsam\n"
    folder = knowledge(tmp_path, {"a.yaml": text})
    kb = load_knowledge(folder)
    assert [p.line for p in kb.errors] == [line_of(folder / "a.yaml", "&gemeinsam")]
    assert "bitte den Wert ausschreiben" in kb.errors[0].message
    # "&" and "*" inside text are ordinary characters
    folder = knowledge(tmp_path, {"a.yaml": HEADER + entries(1).replace("erklärt", "F&E *wichtig* erklärt")})
    assert load_knowledge(folder).ok


# --------------------------------------------------------------------------- size limits


def test_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    folder = knowledge(tmp_path, {"a.yaml": HEADER + entries(2)})
    with open(folder / "riesig.yaml", "wb") as handle:
        handle.write(HEADER.encode())
        handle.truncate(52 * 1024 * 1024)  # sparse: costs no disk
    tracemalloc.start()
    started = time.perf_counter()
    try:
        kb = load_knowledge(folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 0.5
    assert peak < 5_000_000, "the oversized file was read"
    assert len(kb.entries) == 2
    [problem] = kb.errors
    assert problem.file.endswith("riesig.yaml") and problem.line == 1
    assert "52,0 MB" in problem.message and "2,0 MB" in problem.message
    assert "limits.max_file_mb" in problem.message and "config.yaml" in problem.message


def test_too_many_entries_names_the_limit_and_where(tmp_path: Path) -> None:
    folder = knowledge(tmp_path, {"a.yaml": HEADER + entries(3), "b.yaml": HEADER + entries(3, 3)})
    kb = load_knowledge(folder, limits=LimitSettings(max_entries=4))
    [problem] = kb.errors
    assert problem.file.endswith("b.yaml") and problem.line == line_of(folder / "b.yaml", "id: eintrag-4")
    assert "mehr als 4 Einträge" in problem.message and "limits.max_entries" in problem.message
    assert len(kb.entries) <= 4


def test_too_long_value_names_field_length_and_limit(tmp_path: Path) -> None:
    text = HEADER + entries(1) + entries(1, 1).replace("Der Eintrag Nummer 1 erklärt etwas.", "x" * 150)
    folder = knowledge(tmp_path, {"a.yaml": text})
    kb = load_knowledge(folder, limits=LimitSettings(max_value_chars=100))
    [problem] = kb.errors
    assert problem.line == line_of(folder / "a.yaml", "xxxx")
    assert "„text“" in problem.message and "150 Zeichen" in problem.message
    assert "höchstens 100" in problem.message and "limits.max_value_chars" in problem.message


def test_limits_section_in_config(tmp_path: Path) -> None:
    shipped = load_config(ROOT / "config.yaml").limits
    assert shipped == LimitSettings() == Config().limits
    assert (shipped.max_file_mb, shipped.max_entries, shipped.max_value_chars) == (2.0, 100_000, 20_000)
    (tmp_path / "c.yaml").write_text("limits:\n  max_entries: 10\n")
    assert load_config(tmp_path / "c.yaml").limits.max_entries == 10


# --------------------------------------------------------------------------- quoted values stay short

HUGE = "Ä" * 15_000  # under the default value limit, far over what a message may quote


@pytest.mark.parametrize(
    "field",
    [
        pytest.param(f"    kind: {HUGE}\n", id="literal"),
        pytest.param(f"    founded: {HUGE}\n", id="date"),
        pytest.param(f"    {HUGE[:500]}: 1\n", id="unknown-field"),  # YAML keys end at 1024 bytes
        pytest.param(f"    related: [{HUGE.lower()}]\n", id="reference"),
        pytest.param(f"    email: {HUGE}\n", id="pattern"),
    ],
)
def test_huge_values_are_quoted_short(tmp_path: Path, field: str) -> None:
    org = "  - id: org\n    type: organisation\n    title: Org\n    text: Eine Organisation.\n    name: Org\n"
    org += "    kind: gmbh\n" if "kind" not in field else ""
    if "email" in field:
        org = "  - id: kontakt\n    type: contact\n    title: K\n    text: Ein Kontakt.\n    person: K\n"
    folder = knowledge(tmp_path, {"a.yaml": HEADER + org + field})
    kb = load_knowledge(folder)
    assert kb.errors
    for problem in kb.errors:
        assert len(str(problem)) < 600, str(problem)[:300]
    assert any("…" in p.message for p in kb.errors)


def test_huge_id_and_type_are_quoted_short(tmp_path: Path) -> None:
    text = HEADER + f"  - id: {HUGE}\n    type: info\n    title: A\n    text: A\n"
    text += f"  - id: b\n    type: {HUGE}\n    title: B\n    text: B\n"
    kb = load_knowledge(knowledge(tmp_path, {"a.yaml": text}))
    assert len(kb.errors) == 2 and all(len(str(p)) < 600 and "…" in p.message for p in kb.errors)


# --------------------------------------------------------------------------- loader failures


@pytest.mark.parametrize("error", [MemoryError, RecursionError, ValueError])
def test_loader_failure_is_a_problem_of_that_file(tmp_path: Path, monkeypatch, error) -> None:
    folder = knowledge(tmp_path, {"a.yaml": HEADER + entries(1), "b.yaml": HEADER + entries(1, 1)})

    def explode(loader):
        raise error("kaputt")

    monkeypatch.setattr(bot.knowledge._Loader, "get_single_data", explode)
    kb = load_knowledge(folder)
    assert [(Path(p.file).name, p.line) for p in kb.errors] == [("a.yaml", 1), ("b.yaml", 1)]
    assert all("konnte nicht verarbeitet werden" in p.message for p in kb.errors)


def test_impossible_yaml_date_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    folder = knowledge(tmp_path, {"a.yaml": HEADER.replace("2026-11-01", "2024-02-30") + entries(1)})
    kb = load_knowledge(folder)
    assert kb.errors and all(p.line == 3 and "„updated“" in p.message for p in kb.errors)


# --------------------------------------------------------------------------- symlinks


def test_symlink_pointing_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "fremd"
    outside.mkdir()
    (outside / "geheim.yaml").write_text(HEADER + entries(1, 10), encoding="utf-8")
    folder = knowledge(tmp_path, {"a.yaml": HEADER + entries(1)})
    (folder / "link.yaml").symlink_to(outside / "geheim.yaml")
    (folder / "ordner").symlink_to(outside, target_is_directory=True)
    (folder / "intern.yaml").symlink_to(folder / "a.yaml")  # inside: fine, read once
    kb = load_knowledge(folder)
    assert [e.id for e in kb.entries] == ["eintrag-0"]
    assert sorted(Path(p.file).name for p in kb.errors) == ["link.yaml", "ordner"]
    assert all("außerhalb des Wissensordners" in p.message for p in kb.errors)


# --------------------------------------------------------------------------- control characters


def test_control_characters_warn_with_line_and_are_kept(tmp_path: Path) -> None:
    text = HEADER + entries(1) + '    questions: ["Wer\\u0085?", "Wann?"]\n'
    text = text.replace("Der Eintrag Nummer 0 erklärt etwas.", '"Der Eintrag erklärt\\a etwas."')
    folder = knowledge(tmp_path, {"a.yaml": text})
    kb = load_knowledge(folder)
    assert kb.ok and "\a" in kb.entries[0].text
    assert {(p.line, p.warning) for p in kb.problems} == {
        (line_of(folder / "a.yaml", "erklärt"), True),
        (line_of(folder / "a.yaml", "questions"), True),
    }
    assert any("U+0007 in „text“" in p.message and "bitte entfernen" in p.message for p in kb.problems)
    assert any("U+0085 in „questions“" in p.message for p in kb.problems)


def test_raw_control_character_in_file_is_an_error_at_its_line(tmp_path: Path) -> None:
    folder = knowledge(tmp_path, {"a.yaml": HEADER + entries(1).replace("etwas", "et\x07was")})
    [problem] = load_knowledge(folder).errors
    assert problem.line == line_of(folder / "a.yaml", "et\x07was") and "U+0007" in problem.message


# --------------------------------------------------------------------------- summarise


def test_summarise_keeps_the_first_and_counts_the_rest() -> None:
    problems = [f"a.yaml:{n}: Fehler" for n in range(25)]
    short = summarise(problems)
    assert short[:10] == problems[:10] and len(short) == 11
    assert short[-1] == "… und 15 weitere Probleme – alle zeigt `regiobot check`."
    assert summarise(problems[:10]) == problems[:10]
    assert summarise(problems[:4], first=3)[-1] == "… und 1 weiteres Problem – alle zeigt `regiobot check`."


def test_problem_lines_never_carry_huge_text() -> None:
    """A last guard for future messages: whatever a message quotes, a problem line stays short."""
    problem = bot.knowledge.Problem("a.yaml", 3, "„" + HUGE + "“")
    assert len(str(problem)) < 1_100 and str(problem).endswith("…")
