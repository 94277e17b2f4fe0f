"""The conversations of tests/dialogues.yaml and how a reply is checked against a turn (shared by both channels)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

TODAY = date(2024, 3, 1)
FILE = Path(__file__).with_name("dialogues.yaml")


@dataclass
class Turn:
    say: str | None = None
    press: str | None = None
    expect: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    found: bool | None = None
    intent: str | None = None


@dataclass
class Conversation:
    name: str
    turns: list[Turn]


def load() -> list[Conversation]:
    raw = yaml.safe_load(FILE.read_text(encoding="utf-8"))
    return [Conversation(c["name"], [Turn(**t) for t in c["turns"]]) for c in raw]


def problems(turn: Turn, text: str, found: bool | None = None, intent: str | None = None) -> list[str]:
    """What a reply to `turn` gets wrong (empty when it is right)."""
    out = [f"fehlt: {e!r}" for e in turn.expect if e not in text]
    out += [f"sollte fehlen: {a!r}" for a in turn.absent if a in text]
    if turn.found is not None and found is not None and turn.found != found:
        out.append(f"found={found}, erwartet {turn.found}")
    if turn.intent is not None and intent is not None and turn.intent != intent:
        out.append(f"intent={intent}, erwartet {turn.intent}")
    return out
