"""The terminal channel: the conversations of dialogues.yaml through `regiobot chat`'s loop, numbered buttons,
"mehr", and the real command with piped input (recording questions in the store like Telegram)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from dialogue_cases import TODAY, load, problems

from bot.dialogue import Button, Chat, Dialogue, Reply
from bot.dialogue.terminal import render, run
from bot.store import Store, format_report, stats

ROOT = Path(__file__).resolve().parents[1]


def test_render_numbers_pressable_buttons_and_shows_urls():
    reply = Reply(
        "Text",
        buttons=[
            [
                Button("👤 Ansprechperson", "step:contact:x"),
                Button("🔗 Quelle öffnen", url="https://example.org"),
            ]
        ],
    )
    text, pressable = render([reply])
    assert "[1] 👤 Ansprechperson" in text
    assert "🔗 Quelle öffnen: https://example.org" in text
    assert [b.data for b in pressable] == ["step:contact:x"]


def _chat(dialogue: Dialogue, lines: list[str]) -> list[str]:
    feed = iter(lines)
    out: list[str] = []

    def read() -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    run(dialogue, read, out.append, TODAY, Chat("terminal", None, "terminal"))
    return out


@pytest.fixture
def dialogue(shipped_engine, config, tmp_path) -> Dialogue:
    cfg = config.model_copy(update={"data_dir": tmp_path})
    return Dialogue(shipped_engine, Store(cfg), cfg)


@pytest.mark.parametrize("conversation", load(), ids=lambda c: c.name)
def test_conversation_in_the_terminal(dialogue: Dialogue, conversation):
    lines: list[str] = ["/start"]  # a fresh context, as a new session would have
    for turn in conversation.turns:
        if turn.press:
            lines.append(f"@{turn.press}")
        else:
            lines.append(turn.say or "")
    # buttons are pressed by their number, read from the last output as a person would
    out: list[str] = []
    feed = iter(lines)

    def read() -> str:
        line = next(feed, None)
        if line is None:
            raise EOFError
        if line.startswith("@"):
            choices = re.findall(r"\[(\d+)\] ([^\[]+)", out[-1])
            return next(number for number, label in choices if line[1:] in label)
        return line

    run(dialogue, read, out.append, TODAY)
    replies = out[1:]  # after the welcome
    assert len(replies) >= len(conversation.turns)
    for turn, text in zip(conversation.turns, replies[-len(conversation.turns) :], strict=True):
        assert not problems(turn, text), (turn, text)


def test_mehr_presses_weitere_treffer(dialogue: Dialogue):
    out = _chat(dialogue, ["Wer leitet das Regionalforum Halle?", "mehr"])
    assert "Weitere Treffer" in out[0]
    assert out[1].startswith("Weitere Treffer")


def test_terminal_records_questions_for_the_report(dialogue: Dialogue):
    _chat(dialogue, ["hallo", "Wer leitet das Regionalforum Halle?", "Wie mache ich einen Sauerbraten?"])
    s = stats(dialogue.config)
    assert (s.questions, s.answered) == (2, 1)  # small talk is not recorded
    assert "Sauerbraten" in format_report(dialogue.config)
    assert "hallo" not in format_report(dialogue.config)


@pytest.mark.slow
def test_regiobot_chat_with_piped_input(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        (ROOT / "config.yaml")
        .read_text(encoding="utf-8")
        .replace("knowledge_dir: knowledge", f"knowledge_dir: {ROOT / 'knowledge'}")
        .replace("index_dir: index", f"index_dir: {tmp_path / 'index'}")
        .replace("data_dir: data", f"data_dir: {tmp_path / 'data'}"),
        encoding="utf-8",
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "REGIOBOT_SALT": "test"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--config", str(config), "--today", "2024-03-01"],
        input="/hilfe\nWann war der 8. Regionaldialog?\nund wo war das?\n1\nexit\n",
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "/termine" in done.stdout and "Riestedt" in done.stdout
    assert "Traceback" not in done.stderr


def test_calendar_button_writes_an_ics_file(dialogue: Dialogue, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = _chat(dialogue, ["Wann war der 8. Regionaldialog?"])
    number = re.search(r"\[(\d+)\] 📅 Kalender", out[-1])
    assert number, out[-1]
    out = _chat(dialogue, ["Wann war der 8. Regionaldialog?", number[1]])
    assert "Datei gespeichert" in out[-1]
    (ics,) = tmp_path.glob("*.ics")
    assert b"DTSTART;VALUE=DATE:20240220" in ics.read_bytes()
    assert "🔔" not in out[0]  # the terminal cannot send later: no reminders offered
