"""Subscriptions end to end against the fake Bot API, with an injected clock: /abo, notices about news exactly
once across reloads and restarts, reminders on the right days and never twice, a blocked person unsubscribed,
the calendar button's .ics parsed back, /abbestellen deleting everything."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from fake_bot_api import TOKEN, FakeBotAPI, config_for, make_world, running, settle

from bot.answer import Engine
from bot.telegram import build_application
from bot.telegram.mailbox import Mailbox

pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.slow,  # end to end with reloads and restarts; bot/notices.py's logic is tested fast in test_notices.py
]
USER = 3003
NEW_CALL = """\
entries:
  - id: wasserstoff-aufruf
    type: funding_call
    title: "Wasserstoff-Aufruf 2024"
    text: Unternehmen können bis 30.06.2024 Projekte zu Wasserstoff einreichen.
    programme: Wasserstoff-Aufruf 2024
    opens: 2024-03-10
    closes: 2024-06-30
    tags: [Förderung, Wasserstoff]
    source: {document: "Testquelle Wasserstoff"}
    updated: 2024-03-01
"""


@pytest.fixture
def world(tmp_path, encoder):
    return make_world(tmp_path / "world", encoder)


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo("Europe/Berlin"))


def set_clock(app, day: date, hour: int = 10) -> None:
    notifier = app.bot_data["notifier"]
    notifier.today = lambda: day
    notifier.now = lambda: at(day, hour)


async def round_(app, api) -> None:
    """One round of the periodic job, then let the courier deliver."""
    app.bot_data["notifier"].round()
    for chat_id in app.bot_data["mailbox"].due_chats():
        await app.bot_data["courier"].deliver(chat_id)
    await settle(app, api)


async def test_subscribe_then_news_arrives_exactly_once(world, api, tmp_path):
    config, engine = world
    config = config_for(config, api, tmp_path / "data", admin_ids=[USER])
    app = build_application(config, engine, TOKEN)
    async with running(app):
        set_clock(app, date(2024, 3, 1))
        await round_(app, api)  # the first round learns what exists
        api.message("/abo Förderung", chat_id=USER)
        (confirmation,) = await api.replies(USER)
        assert "/abbestellen" in confirmation and "Chat" in confirmation
        (config.knowledge_dir / "neu.yaml").write_text(NEW_CALL, encoding="utf-8")
        api.message("/reload", chat_id=USER)
        await api.replies(USER, 2, timeout=60)
        await round_(app, api)
        await round_(app, api)  # again: nothing new
    texts = api.texts(USER)
    notices = [t for t in texts if "Wasserstoff-Aufruf 2024" in t]
    assert len(notices) == 1, texts
    assert "Neu" in notices[0] and "30.06.2024" in notices[0] and "Testquelle Wasserstoff" in notices[0]
    (config.knowledge_dir / "neu.yaml").unlink()
    engine.reload()

    again = build_application(config, engine, TOKEN)  # a restart: the same news is not sent again
    async with running(again):
        set_clock(again, date(2024, 3, 1))
        (config.knowledge_dir / "neu.yaml").write_text(NEW_CALL, encoding="utf-8")
        engine.reload()
        await round_(again, api)
    (config.knowledge_dir / "neu.yaml").unlink()
    engine.reload()
    assert sum("Wasserstoff-Aufruf 2024" in t for t in api.texts(USER)) == 1


async def test_reminders_on_the_right_days_and_never_twice(world, api, tmp_path):
    config, engine = world
    config = config_for(config, api, tmp_path / "data")
    app = build_application(config, engine, TOKEN)
    sent_on: dict[date, list[str]] = {}
    async with running(app):
        api.message("/abo Regionaldialog", chat_id=USER)
        api.message("/abo Förderung", chat_id=USER)
        await api.replies(USER, 2)
        for day in (date(2024, 4, d) for d in range(20, 31)):
            set_clock(app, day, hour=8)  # before send_at: nothing yet
            before = len(api.texts(USER))
            await round_(app, api)
            assert len(api.texts(USER)) == before
            set_clock(app, day, hour=10)
            await round_(app, api)
            await round_(app, api)  # the job runs again the same day: nothing twice
            sent_on[day] = api.texts(USER)[before:]
    reminders = {d: t for d, t in sent_on.items() if t}
    assert set(reminders) == {date(2024, 4, 23), date(2024, 4, 29)}, reminders  # closes 30.04: 7 and 1 days
    assert "7 Tagen" in reminders[date(2024, 4, 23)][0] and "30.04.2024" in reminders[date(2024, 4, 23)][0]

    again = build_application(config, engine, TOKEN)  # a restart on the same day sends nothing again
    async with running(again):
        set_clock(again, date(2024, 4, 29))
        before = len(api.texts(USER))
        await round_(again, api)
        set_clock(again, date(2024, 5, 14))  # the event on 15.05: one day before
        await round_(again, api)
    later = api.texts(USER)[before:]
    assert len(later) == 1 and "morgen" in later[0] and "15.05.2024" in later[0]


async def test_blocked_person_is_unsubscribed(world, api, tmp_path):
    config, engine = world
    config = config_for(config, api, tmp_path / "data")
    app = build_application(config, engine, TOKEN)
    async with running(app):
        api.message("/abo Förderung", chat_id=USER)
        await api.replies(USER)
        set_clock(app, date(2024, 4, 23))
        api.fail("sendMessage", "403")
        await round_(app, api)
        assert Mailbox(tmp_path / "data").subscriptions(USER) == []


async def test_abos_end_button_and_abbestellen_delete_everything(world, api, tmp_path):
    config, engine = world
    config = config_for(config, api, tmp_path / "data")
    app = build_application(config, engine, TOKEN)
    async with running(app):
        for text in ("/abo Förderung", "/abo Regionaldialog"):
            api.message(text, chat_id=USER)
        await api.replies(USER, 2)
        api.message("/abos", chat_id=USER)
        texts = await api.replies(USER, 3)
        listing = api.sent(USER)[-1]
        data = [b["callback_data"] for row in listing["reply_markup"]["inline_keyboard"] for b in row]
        assert len(data) == 2 and all(d.startswith("abx:") for d in data), texts
        api.press(data[0], {k: v for k, v in listing.items() if not k.startswith("_")}, user_id=USER)
        await api.replies(USER, 4)
        assert len(Mailbox(tmp_path / "data").subscriptions(USER)) == 1
        api.message("/abbestellen", chat_id=USER)
        texts = await api.replies(USER, 5)
        assert "gelöscht" in texts[-1]
        box = Mailbox(tmp_path / "data")
        assert box.subscriptions(USER) == []
        assert box._db.execute("SELECT COUNT(*) FROM sent WHERE chat_id = ?", (USER,)).fetchone()[0] == 0
        api.message("/datenschutz", chat_id=USER)
        texts = await api.replies(USER, 6)
        assert "Chat-ID" in texts[-1] and "/abbestellen" in texts[-1]


async def test_unknown_and_forged_topics(world, api, tmp_path):
    config, engine = world
    config = config_for(config, api, tmp_path / "data")
    app = build_application(config, engine, TOKEN)
    async with running(app):
        api.message("/abo Quantencomputer", chat_id=USER)
        (text,) = await api.replies(USER)
        assert "kein Thema" in text
        message = {k: v for k, v in api.sent(USER)[0].items() if not k.startswith("_")}
        api.press("abo:entry:gibt-es-nicht", message, user_id=USER)
        api.press("abx:series:regionaldialog", message, user_id=USER)
        await settle(app, api)
    notes = [c.params.get("text", "") for c in api.calls_to("answerCallbackQuery")]
    assert len(notes) == 2 and all("abgelaufen" in n for n in notes)
    assert Mailbox(tmp_path / "data").subscriptions(USER) == []


async def test_calendar_and_remind_buttons_under_an_event_answer(world, api, tmp_path):
    config, engine = world
    config = config_for(config, api, tmp_path / "data")
    app = build_application(config, engine, TOKEN)
    async with running(app):
        api.message("Wann ist der 9. Regionaldialog?", chat_id=USER)
        await api.replies(USER)
        await settle(app, api)
        answer = {k: v for k, v in api.sent(USER)[0].items() if not k.startswith("_")}
        data = {
            b["text"]: b.get("callback_data")
            for row in answer["reply_markup"]["inline_keyboard"]
            for b in row
        }
        assert "🔔 Erinnern" in data and "📅 Kalender" in data, data
        api.press(data["📅 Kalender"], answer, user_id=USER)
        await api.await_(lambda: api.calls_to("sendDocument"), timeout=15, what="the .ics")
        api.press(data["🔔 Erinnern"], answer, user_id=USER)
        await api.replies(USER, 3)
        await settle(app, api)
    (name, content) = api.calls_to("sendDocument")[0].files["document"]
    assert name.endswith(".ics")
    (event,) = icalendar.Calendar.from_ical(content).walk("VEVENT")
    assert event.decoded("DTSTART") == date(2024, 5, 15) and "Sangerhausen" in str(event.get("LOCATION"))
    assert Mailbox(tmp_path / "data").subscriptions(USER)[0][1].startswith("entry:")


def test_engine_entries_are_the_index_entries(world):
    _, engine = world
    assert isinstance(engine, Engine) and {e.id for e in engine.entries()} >= {
        "regionaldialog-9",
        "regionalbudget-2024",
    }


async def test_drafts_to_review_are_not_announced(world, api, tmp_path):
    config, engine = world
    config = config_for(config, api, tmp_path / "data", admin_ids=[USER])
    app = build_application(config, engine, TOKEN)
    draft = NEW_CALL.replace("    updated: 2024-03-01\n", "    updated: 2024-03-01\n    review: offen\n")
    async with running(app):
        set_clock(app, date(2024, 3, 1))
        await round_(app, api)
        api.message("/abo Förderung", chat_id=USER)
        await api.replies(USER)
        (config.knowledge_dir / "neu.yaml").write_text(draft, encoding="utf-8")
        try:
            engine.reload()
            await round_(app, api)
            assert not any("Wasserstoff-Aufruf" in t for t in api.texts(USER))
            (config.knowledge_dir / "neu.yaml").write_text(draft.replace("review: offen", "review: geprüft"))
            engine.reload()
            await round_(app, api)
        finally:
            (config.knowledge_dir / "neu.yaml").unlink()
            engine.reload()
    assert sum("Wasserstoff-Aufruf" in t for t in api.texts(USER)) == 1
