"""End-to-end tests of the Telegram bot: the real Application and the real Engine against a fake Bot API.

The engine is loaded once per module on a small knowledge folder written to a temporary directory
(config.today fixed to 2024-03-01); every test gets a fresh fake server, a fresh data folder and a
fresh Application. The /reload tests use their own engine and knowledge folder, since they change it.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_bot_api import (
    BOT_ID,
    BOT_USERNAME,
    BROKEN_ENTRY,
    NEW_ENTRY,
    TOKEN,
    FakeBotAPI,
    config_for,
    config_yaml,
    make_world,
    running,
    settle,
    write_knowledge,
)

from bot.config import Config, load_config
from bot.store import db_path, format_report, stats
from bot.telegram import build_application, run

# PTB warns about its own RetryAfter internals on every 429
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
ROOT = Path(__file__).resolve().parents[1]
ADMIN = 4242
USER = 1001


@pytest.fixture(scope="module")
def world(tmp_path_factory, encoder):
    return make_world(tmp_path_factory.mktemp("tg"), encoder, admin_ids=(ADMIN,))


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
def config(world, api, tmp_path) -> Config:
    return config_for(world[0], api, tmp_path / "data")


@pytest.fixture
async def bot(world, api, config):
    app = build_application(config, world[1], TOKEN)
    async with running(app):
        yield app


def buttons(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


def bot_message(api: FakeBotAPI, chat_id: int, index: int = -1) -> dict:
    """A sent message as the user's client sees it (for replies and button presses)."""
    m = api.sent(chat_id)[index]
    return {k: v for k, v in m.items() if not k.startswith("_")}


# --------------------------------------------------------------------------- start, help, answers


async def test_start_welcome_menu_and_commands(bot, api):
    api.message("/start")
    (text,) = await api.replies(USER)
    assert "Willkommen" in text
    assert "8 Einträge" in text
    assert "Landkreis Mansfeld-Südharz" in text  # regions derived from the knowledge
    assert "Regionalforum Halle" in text  # bodies
    assert "Regionaldialog" in text  # topics
    assert [t for t, _ in buttons(api.sent(USER)[0])] == [
        "📅 Termine",
        "💶 Förderung",
        "👥 Kontakte",
        "❓ Hilfe",
    ]
    (call,) = api.calls_to("setMyCommands")
    names = [c["command"] for c in call.params["commands"]]
    assert {"start", "hilfe", "termine", "foerderung", "kontakt"} <= set(names)
    assert "reload" not in names and "stats" not in names


async def test_help_lists_examples_from_knowledge(bot, api):
    api.message("/hilfe")
    api.message("/help")
    first, second = await api.replies(USER, 2)
    assert first == second
    assert "Wann ist der nächste Regionaldialog?" in first  # a `questions:` entry of the test knowledge
    assert "/termine" in first and "/kontakt" in first
    assert "/reload" not in first and "/stats" not in first


async def test_known_answer_with_source_and_buttons(bot, api):
    api.message("Wo ist die Geschäftsstelle des Regionalforums?")
    (text,) = await api.replies(USER)
    assert "Hansering 15" in text
    assert "Quelle: Regionalforum Halle (Webseite)" in text
    sent = api.sent(USER)[0]
    assert sent["_params"]["parse_mode"] == "HTML"  # from the Application's Defaults
    assert sent["_params"]["link_preview_options"] == {"is_disabled": True}
    labels = [t for t, _ in buttons(sent)]
    assert labels == ["Weitere Treffer", "👍", "👎"]


async def test_source_is_linked_when_it_has_a_url(bot, api):
    api.message("Welche Förderung gibt es für Kleinprojekte?")
    (text,) = await api.replies(USER)
    assert "20.000 Euro" in text and "Offen" in text
    assert '<a href="https://www.seg-msh.de/regionaldialog">SEG Mansfeld-Südharz: Regionaldialog</a>' in text


async def test_english_question_is_answered(bot, api):
    api.message("Where is the office of the Regionalforum?")
    (text,) = await api.replies(USER)
    assert "Hansering 15" in text


async def test_out_of_scope_question_polite_abstention_is_stored(bot, api, config):
    api.message("Wie wird das Wetter morgen in Paris?")
    (text,) = await api.replies(USER)
    assert "keine Antwort" in text
    data = [d for _, d in buttons(api.sent(USER)[0])]
    assert not any(d.startswith("fb:") for d in data)  # nothing to rate
    assert {"menu:termine", "menu:foerderung", "menu:kontakt", "menu:hilfe"} <= set(data)  # no dead end
    s = stats(config)
    assert (s.questions, s.answered, s.abstentions) == (1, 0, 1)
    report = format_report(config, None)
    assert "Wie wird das Wetter morgen in Paris?" in report


async def test_termine_with_fixed_today(bot, api):
    api.message("/termine")
    (text,) = await api.replies(USER)
    assert "15.05.2024" in text and "Sangerhausen" in text
    assert "20.02.2024" not in text  # already past on 2024-03-01
    assert "Stand 01.03.2024" in text


async def test_foerderung_lists_open_calls(bot, api):
    api.message("/foerderung")
    (text,) = await api.replies(USER)
    assert "Regionalbudget 2024" in text and "30.04.2024" in text


async def test_kontakt_with_and_without_topic(bot, api):
    api.message("/kontakt Wirtschaftsförderung")
    (first,) = await api.replies(USER)
    assert "Madlen Beyer" in first and "beyer@seg-msh.de" in first
    api.message("/kontakt")
    texts = await api.replies(USER, 2)
    assert "Zu welchem Thema" in texts[1]
    assert api.sent(USER)[1]["_params"]["reply_markup"].get("force_reply") is True
    api.message("Wirtschaftsförderung", reply_to=bot_message(api, USER))
    texts = await api.replies(USER, 3)
    assert "Madlen Beyer" in texts[2]


async def test_long_answer_is_split_into_valid_html_parts(bot, api):
    api.message("Was steht im Leitfaden Kooperationsraum Saale-Unstrut?")
    await api.replies(USER)
    await settle(bot, api)
    sent = api.sent(USER)
    assert len(sent) >= 3  # ~11,000 characters
    for m in sent:  # the fake server also rejects invalid HTML and > 4,096 characters
        assert len(m["_raw_text"]) <= 4096
        assert "&lt;gemeinsam&gt;" in m["_raw_text"] and "&amp;" in m["_raw_text"]
        assert "<gemeinsam>" not in m["_raw_text"]
    assert all(buttons(m) == [] for m in sent[:-1])
    assert [t for t, _ in buttons(sent[-1])][-2:] == ["👍", "👎"]  # the keyboard under the last part
    assert "Quelle:" in sent[-1]["_raw_text"] and "Quelle:" not in sent[0]["_raw_text"]
    # split at paragraph boundaries: every part starts and ends with whole paragraphs
    for m in sent[:-1]:
        assert m["_raw_text"].startswith("Der Leitfaden") and m["_raw_text"].endswith("teilen.")


async def test_too_long_question_gets_polite_note(bot, api, config):
    api.message("Wann ist der Regionaldialog? " + "bitte " * 100)
    (text,) = await api.replies(USER)
    assert "zu lang" in text and "500 Zeichen" in text
    assert stats(config).questions == 0  # the engine was not asked


async def test_flood_of_questions_gets_one_note_with_the_wait(world, api, tmp_path):
    config = config_for(world[0], api, tmp_path / "data", rate_limit_messages=10)
    app = build_application(config, world[1], TOKEN)
    async with running(app):
        for i in range(15):
            api.message(f"Wo ist die Geschäftsstelle des Regionalforums? ({i})")
        api.message("Wo ist die Geschäftsstelle des Regionalforums?", chat_id=1002)  # someone else
        await settle(app, api)
        texts = api.texts(USER)
        assert len(texts) == 11, texts
        assert sum("Hansering 15" in t for t in texts) == 10
        notes = [t for t in texts if "sehr viele Fragen" in t]
        assert len(notes) == 1 and texts[-1] == notes[0]
        wait = int(re.search(r"In (\d+) Sekunden", notes[0])[1])
        assert 50 <= wait <= 60, notes[0]
        assert "Hansering 15" in api.texts(1002)[0]
        api.message("/hilfe")  # commands still work while questions are held back
        texts = await api.replies(USER, 12)
        assert "So können Sie mich fragen" in texts[11]


async def test_commands_and_buttons_do_not_count_towards_the_flood_limit(world, api, tmp_path):
    config = config_for(world[0], api, tmp_path / "data", rate_limit_messages=5)
    app = build_application(config, world[1], TOKEN)
    async with running(app):
        for command in ("/start", "/hilfe", "/termine", "/foerderung", "/kontakt Wirtschaftsförderung"):
            api.message(command)
        await api.replies(USER, 5)
        menu, termine = bot_message(api, USER, 0), bot_message(api, USER, 2)
        for data in ("menu:termine", "menu:foerderung", "menu:hilfe", "menu:termine"):
            api.press(data, menu)
        api.press(dict(buttons(termine))["👍"], termine)
        await api.replies(USER, 9)
        questions = [
            ("Wo ist die Geschäftsstelle des Regionalforums?", "Hansering 15"),
            ("Welche Förderung gibt es für Kleinprojekte?", "20.000 Euro"),
            ("Wer organisiert den Regionaldialog?", "Madlen Beyer"),
            ("Wann ist der nächste Regionaldialog?", "15.05.2024"),
            ("Where is the office of the Regionalforum?", "Hansering 15"),
        ]
        for text, _ in questions:
            api.message(text)
        api.message("Und noch eine sechste Frage?")  # the limit itself is still there
        await settle(app, api)
    texts = api.texts(USER)
    assert len(texts) == 15, texts
    for (_, marker), text in zip(questions, texts[9:14], strict=True):
        assert marker in text, text
    assert "sehr viele Fragen" in texts[14]
    acks = api.calls_to("answerCallbackQuery")
    assert len(acks) == 5 and acks[-1].params.get("text") == "Danke für Ihre Rückmeldung!"


async def test_more_button_sends_further_results(bot, api):
    api.message("Wo ist die Geschäftsstelle des Regionalforums?")
    await api.replies(USER)
    answer = bot_message(api, USER)
    data = dict((t, d) for t, d in buttons(answer))["Weitere Treffer"]
    api.press(data, answer)
    texts = await api.replies(USER, 2)
    assert texts[1].startswith("<b>Weitere Treffer</b>")
    await api.await_(lambda: api.calls_to("editMessageReplyMarkup"), what="edit")
    (edit,) = api.calls_to("editMessageReplyMarkup")
    assert int(edit.params["message_id"]) == answer["message_id"]
    labels = [b["text"] for row in edit.params["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["👍", "👎"]
    assert len(api.calls_to("answerCallbackQuery")) == 1


async def test_feedback_buttons_store_votes_and_report(bot, api, config):
    api.message("Wo ist die Geschäftsstelle des Regionalforums?")
    await api.replies(USER)
    answer = bot_message(api, USER)
    data = dict(buttons(answer))
    api.press(data["👍"], answer)
    api.press(data["👎"], answer)  # changes the vote
    api.press(data["👎"], answer, user_id=1003)
    await settle(bot, api)
    acks = api.calls_to("answerCallbackQuery")
    assert len(acks) == 3 and all(c.params.get("text") == "Danke für Ihre Rückmeldung!" for c in acks)
    s = stats(config)
    assert (s.likes, s.dislikes) == (0, 2)
    report = format_report(config, None)
    assert "2× 👎" in report and "geschaeftsstelle" in report
    assert "Wo ist die Geschäftsstelle des Regionalforums?" in report
    raw = db_path(config).read_bytes()
    assert str(USER).encode() not in raw and b"1003" not in raw  # no clear-text user ids


async def test_menu_buttons(bot, api):
    api.message("/start")
    await api.replies(USER)
    menu = bot_message(api, USER)
    api.press("menu:termine", menu)
    texts = await api.replies(USER, 2)
    assert "15.05.2024" in texts[1]


async def test_sticker_photo_voice_and_edits(bot, api):
    api.message(sticker={"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512,
                         "height": 512, "is_animated": False, "is_video": False})  # fmt: skip
    api.message(photo=[{"file_id": "p1", "file_unique_id": "u2", "width": 90, "height": 90}])
    api.message(voice={"file_id": "v1", "file_unique_id": "u3", "duration": 2})
    api.message("Wo ist die Geschäftsstelle?", edited=True)
    api.message(sticker={"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512,
                         "height": 512, "is_animated": False, "is_video": False},
                chat_id=-500, chat_type="group")  # fmt: skip
    await settle(bot, api)
    texts = api.texts(USER)
    assert len(texts) == 4
    assert sum("nur Textnachrichten" in t for t in texts) == 3
    assert "Bearbeitete Nachrichten" in texts[3]
    assert api.texts(-500) == []
    api.message("Wo ist die Geschäftsstelle des Regionalforums?")  # the bot is still alive
    texts = await api.replies(USER, 5)
    assert "Hansering 15" in texts[4]


async def test_group_answers_only_when_addressed(bot, api):
    group = dict(chat_id=-100, chat_type="group", user_id=3001)
    api.message("Wo ist die Geschäftsstelle des Regionalforums?", **group)
    api.message("/termine@anderer_bot", **group)
    await settle(bot, api)
    assert api.texts(-100) == []
    api.message(f"@{BOT_USERNAME} Wo ist die Geschäftsstelle des Regionalforums?", **group)
    (text,) = await api.replies(-100)
    assert "Hansering 15" in text
    api.message("/termine", **group)
    texts = await api.replies(-100, 2)
    assert "15.05.2024" in texts[1]
    api.message("Und wann ist sie geöffnet?", reply_to=bot_message(api, -100, 0), **group)
    texts = await api.replies(-100, 3)
    assert "9 bis 15 Uhr" in texts[2] or "Hansering" in texts[2]
    await settle(bot, api)
    assert len(api.texts(-100)) == 3


# --------------------------------------------------------------------------- staff


async def test_stats_for_admin_help_for_others(bot, api):
    api.message("Wo ist die Geschäftsstelle des Regionalforums?")
    api.message("Wie wird das Wetter morgen in Paris?")
    await api.replies(USER, 2)
    api.message("/stats", chat_id=ADMIN)
    (text,) = await api.replies(ADMIN)
    assert "Fragen: 2" in text and "Beantwortet: 1" in text and "Ohne Antwort: 1" in text
    api.message("/stats 2099-01-01", chat_id=ADMIN)
    texts = await api.replies(ADMIN, 2)
    assert "Fragen: 0" in texts[1]
    api.message("/stats")
    api.message("/hilfe")
    texts = await api.replies(USER, 4)
    assert texts[2] == texts[3]  # the normal help: no hint that /stats exists
    assert "Statistik" not in texts[2]


@pytest.fixture
def own_world(tmp_path, encoder):
    return make_world(tmp_path / "own", encoder, admin_ids=(ADMIN,))


async def test_reload_by_admin_broken_then_new_entry(own_world, api, tmp_path):
    config, engine = own_world
    config = config_for(config, api, tmp_path / "data")
    knowledge = config.knowledge_dir
    app = build_application(config, engine, TOKEN)
    async with running(app):
        (knowledge / "neu.yaml").write_text(BROKEN_ENTRY, encoding="utf-8")
        api.message("/reload", chat_id=ADMIN)
        (text,) = await api.replies(ADMIN, timeout=30)
        assert "neu.yaml:8:" in text, text  # file:line of `updated: 31.12.2023`
        assert "2023-12-31" in text  # check's hint what to write instead
        assert "bisherigen Stand" in text
        api.message("Wo ist die Geschäftsstelle des Regionalforums?", chat_id=ADMIN)
        texts = await api.replies(ADMIN, 2)
        assert "Hansering 15" in texts[1]
        api.message("/stats", chat_id=ADMIN)
        texts = await api.replies(ADMIN, 3)
        assert "Index veraltet (Wissensdateien geändert)" in texts[2]  # the running service reports it

        (knowledge / "neu.yaml").write_text(NEW_ENTRY, encoding="utf-8")
        api.message("/reload", chat_id=ADMIN)
        texts = await api.replies(ADMIN, 4, timeout=30)
        assert "neu geladen" in texts[3]
        api.message("/stats", chat_id=ADMIN)
        texts = await api.replies(ADMIN, 5)
        assert "Index: aktuell" in texts[4]
        api.message("Wie lang wird das Radwegenetz Kyffhäuser erweitert?", chat_id=ADMIN)
        api.message("Wo ist die Geschäftsstelle des Regionalforums?", chat_id=ADMIN)
        texts = await api.replies(ADMIN, 7)
        assert "120 Kilometer" in texts[5]
        assert "Hansering 15" in texts[6]


async def test_reload_by_non_admin_changes_nothing(own_world, api, tmp_path):
    config, engine = own_world
    config = config_for(config, api, tmp_path / "data")
    (config.knowledge_dir / "neu.yaml").write_text(NEW_ENTRY, encoding="utf-8")
    app = build_application(config, engine, TOKEN)
    async with running(app):
        api.message("/reload")
        api.message("/hilfe")
        first, second = await api.replies(USER, 2)
        assert first == second and "So können Sie mich fragen" in first
        api.message("/reload", chat_id=-7, chat_type="group", user_id=ADMIN)  # admins only in private
        await settle(app, api)
        assert "neu geladen" not in " ".join(api.texts(-7))
    assert "radwegenetz" not in {e.id for e in engine.index.entries}


# --------------------------------------------------------------------------- Bot API faults


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["429", "500"])
async def test_reply_arrives_once_after_429_or_500(bot, api, fault):
    api.fail("sendMessage", fault, times=1, retry_after=1)
    started = time.monotonic()
    api.message("Wo ist die Geschäftsstelle des Regionalforums?")
    (text,) = await api.replies(USER)
    assert "Hansering 15" in text
    attempts = api.calls_to("sendMessage", ok_only=False)
    assert [c.fault for c in attempts] == [fault, None]
    if fault == "429":  # retry_after respected
        assert attempts[1].at - attempts[0].at >= 1.0
    await settle(bot, api)
    assert len(api.texts(USER)) == 1
    assert time.monotonic() - started < 10


async def test_engine_error_gets_apology_and_bot_goes_on(world, api, config):
    class Flaky:
        def __init__(self, engine):
            self._engine = engine

        def __getattr__(self, name):
            return getattr(self._engine, name)

        def ask(self, question, today=None):
            if "kaputt" in question:
                raise RuntimeError(f"Absturz mit {TOKEN}")
            return self._engine.ask(question, today)

    app = build_application(config, Flaky(world[1]), TOKEN)
    async with running(app):
        api.message("Das hier macht alles kaputt")
        api.message("Wo ist die Geschäftsstelle des Regionalforums?")
        first, second = await api.replies(USER, 2)
    assert "Entschuldigung" in first
    assert "Hansering 15" in second


# --------------------------------------------------------------------------- regiobot run


def test_run_without_or_with_malformed_token_exits_2(world, monkeypatch, capsys):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert run(world[0]) == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_BOT_TOKEN" in err and "Traceback" not in err
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "kein-token")
    assert run(world[0]) == 2
    err = capsys.readouterr().err
    assert "Format" in err and "Traceback" not in err


@pytest.mark.slow
def test_regiobot_run_subprocess_answers_and_stops_on_sigterm(tmp_path, api):
    root = tmp_path / "run"
    write_knowledge(root / "knowledge")
    (root / "config.yaml").write_text(config_yaml(root, "http://127.0.0.1:9/wrong"))  # env overrides
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "REGIOBOT_CONFIG": str(root / "config.yaml"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REGIOBOT_SALT", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        api.message("Wo ist die Geschäftsstelle des Regionalforums?")
        api.wait(lambda: api.texts(USER) or proc.poll() is not None, timeout=25, what="an answer")
        assert proc.poll() is None, proc.communicate()[1]
        assert "Hansering 15" in api.texts(USER)[0]
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert TOKEN not in out + err and TOKEN.split(":")[1] not in out + err
    assert "Traceback" not in err
    salt = root / "data" / "salt"
    assert stat.S_IMODE(salt.stat().st_mode) == 0o600
    assert stats(load_config(root / "config.yaml")).answered == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # free now, and nothing listens once the socket is closed


@pytest.mark.slow
def test_regiobot_run_unreachable_api_exits_1_with_one_german_line(tmp_path):
    root = tmp_path / "run"
    write_knowledge(root / "knowledge")
    (root / "config.yaml").write_text(config_yaml(root, "http://127.0.0.1:9/bot", max_retries=1))
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{_closed_port()}/bot",
        "REGIOBOT_CONFIG": str(root / "config.yaml"),
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    logged = re.compile(r"^(DEBUG|INFO|WARNING) regiobot[.\w]*: ")
    message = [line for line in proc.stderr.splitlines() if line.strip() and not logged.match(line)]
    assert len(message) == 1, proc.stderr
    assert "Telegram-Bot-API" in message[0] and "nicht erreichbar" in message[0]
    assert TOKEN.split(":")[1] not in proc.stdout + proc.stderr


def test_bot_id_constant_matches_token():
    assert TOKEN.startswith(f"{BOT_ID}:")


async def test_reload_with_many_problems_sends_one_short_summary(own_world, api, tmp_path):
    config, engine = own_world
    config = config_for(config, api, tmp_path / "data")
    bad = "\n".join(
        f"  - id: kaputt-{i}\n    type: info\n    title: Kaputt {i}\n    text: Ohne Datum.\n"
        for i in range(300)
    )
    (config.knowledge_dir / "viele.yaml").write_text(
        "defaults:\n  source: {document: Test}\nentries:\n" + bad, encoding="utf-8"
    )
    app = build_application(config, engine, TOKEN)
    try:
        async with running(app):
            api.message("/reload", chat_id=ADMIN)
            await api.replies(ADMIN, timeout=30)
            await settle(app, api)
    finally:
        (config.knowledge_dir / "viele.yaml").unlink()
    texts = api.texts(ADMIN)
    assert len(texts) == 1, len(texts)  # not one message per problem
    assert "weitere Probleme" in texts[0] and "regiobot check" in texts[0]


async def test_edits_and_stickers_count_towards_the_flood_limit(world, api, tmp_path):
    config = config_for(world[0], api, tmp_path / "data", rate_limit_messages=3)
    app = build_application(config, world[1], TOKEN)
    async with running(app):
        for _ in range(6):
            api.message(sticker={"file_id": "x", "file_unique_id": "x", "type": "regular", "width": 1, "height": 1,
                                 "is_animated": False, "is_video": False})  # fmt: skip
        await settle(app, api)
    texts = api.texts(USER)
    assert len(texts) == 4 and "sehr viele" in texts[-1], texts  # 3 notes on stickers, then one flood note


async def test_forged_or_foreign_buttons_expire(bot, api):
    api.message("Wo ist die Geschäftsstelle des Regionalforums?")
    await api.replies(USER)
    await settle(bot, api)
    answer = bot_message(api, USER, 0)
    data = next(d for _, d in buttons(answer) if d.startswith("fb:"))
    other = {**answer, "chat": {**answer["chat"], "id": 1002}}  # the same token pressed from another chat
    for forged, message in [
        (data, other),
        ("fb:1:-", answer),
        ("more:²", answer),
        ("more:" + "9" * 30, answer),
    ]:
        api.press(forged, message, user_id=message["chat"]["id"])
    await settle(bot, api)
    notes = [c.params.get("text", "") for c in api.calls_to("answerCallbackQuery")]
    assert len(notes) == 4 and all("abgelaufen" in n for n in notes), notes
    assert len(api.texts(USER)) == 1 and not api.texts(1002)


def test_second_instance_on_the_same_data_folder_exits_2(world, monkeypatch, capsys, tmp_path):
    from bot.store import acquire_instance_lock

    config = world[0].model_copy(update={"data_dir": tmp_path / "data"})
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    with acquire_instance_lock(config):
        assert run(config) == 2
    assert "läuft bereits" in capsys.readouterr().err
