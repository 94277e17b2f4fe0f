"""The per-user flood limit on its own, with an injected clock (no Telegram, no waiting)."""

from __future__ import annotations

from bot.config import TelegramSettings
from bot.telegram.flood import FloodLimit, flood_note


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_defaults_let_a_burst_of_20_pass_and_stop_a_script():
    clock = Clock()
    tg = TelegramSettings()
    limit = FloodLimit(tg.rate_limit_messages, tg.rate_limit_seconds, clock=clock)
    for _ in range(20):  # a person asking a burst of questions within a few seconds
        assert limit.check(1) == "ok"
        clock.now += 0.5
    script = []
    for _ in range(40):  # a script asking once a second
        script.append(limit.check(2))
        clock.now += 1
    assert script == ["ok"] * 30 + ["note"] + ["drop"] * 9


def test_31st_question_gets_one_note_then_silence_then_passes_after_the_window():
    clock = Clock()
    limit = FloodLimit(30, 60, clock=clock)
    for _ in range(30):
        assert limit.check(7) == "ok"
        clock.now += 1
    assert limit.check(7) == "note"
    assert limit.wait_seconds(7) == 30  # the first question (at 1000) leaves the window at 1060
    assert [limit.check(7) for _ in range(5)] == ["drop"] * 5
    assert limit.check(8) == "ok"  # other people are not affected
    clock.now = 1000.0 + 60
    assert limit.wait_seconds(7) == 0
    assert limit.check(7) == "ok"
    assert limit.check(7) == "note"  # the window is full again: a new flood gets a new note


def test_after_a_quiet_window_the_full_limit_is_available():
    clock = Clock()
    limit = FloodLimit(3, 10, clock=clock)
    assert [limit.check(1) for _ in range(5)] == ["ok", "ok", "ok", "note", "drop"]
    clock.now += 10
    assert [limit.check(1) for _ in range(4)] == ["ok", "ok", "ok", "note"]


def test_wait_is_rounded_up_to_whole_seconds():
    clock = Clock()
    limit = FloodLimit(1, 60, clock=clock)
    limit.check(1)
    clock.now += 59.2
    assert limit.check(1) == "note" and limit.wait_seconds(1) == 1
    clock.now -= 30
    assert limit.wait_seconds(1) == 31


def test_many_users_are_pruned():
    clock = Clock()
    limit = FloodLimit(30, 60, clock=clock)
    for user in range(5000):
        limit.check(user)
    assert len(limit) == 5000
    clock.now += 61
    limit.check(99_999)
    assert len(limit) == 1
    for user in range(100):  # pruning does not cost the next users anything
        assert limit.check(user) == "ok"


def test_note_names_the_seconds():
    assert "In 42 Sekunden" in flood_note(42)
    assert "In 1 Sekunde " in flood_note(1)
