"""The conversations of dialogues.yaml through the real python-telegram-bot Application against the fake
Bot API, on the shipped knowledge: the same dialogue layer as the terminal, so the same answers."""

from __future__ import annotations

import html

import pytest
from dialogue_cases import TODAY, Conversation, load, problems
from fake_bot_api import BOT_USERNAME, TOKEN, FakeBotAPI, running, settle

from bot.telegram import build_application

pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.slow,  # end to end against the fake Bot API; the fast suite runs the same conversations directly
]
USER = 2002


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


@pytest.mark.parametrize("conversation", load(), ids=lambda c: c.name)
async def test_conversation_on_telegram(shipped_engine, config, api, tmp_path, conversation: Conversation):
    tg = config.telegram.model_copy(update={"base_url": api.base_url, "request_timeout": 3.0})
    cfg = config.model_copy(update={"data_dir": tmp_path, "today": TODAY, "telegram": tg})
    app = build_application(cfg, shipped_engine, TOKEN)
    async with running(app):
        for i, turn in enumerate(conversation.turns):
            before = len(api.sent(USER))
            if turn.press:
                message = next(
                    m
                    for m in reversed(api.sent(USER))
                    for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
                    for b in row
                    if turn.press in b["text"]
                )
                data = next(
                    b["callback_data"]
                    for row in message["reply_markup"]["inline_keyboard"]
                    for b in row
                    if turn.press in b["text"]
                )
                api.press(data, {k: v for k, v in message.items() if not k.startswith("_")}, user_id=USER)
            else:
                api.message(turn.say, chat_id=USER, user_id=USER)
            await api.replies(USER, before + 1)
            await settle(app, api)
            text = html.unescape("\n".join(api.texts(USER)[before:]))
            wrong = problems(turn, text)
            assert not wrong, f"Zug {i + 1} ({turn.say or turn.press}): {wrong}\n{text}"


async def test_group_members_have_their_own_context(shipped_engine, config, api, tmp_path):
    tg = config.telegram.model_copy(update={"base_url": api.base_url, "request_timeout": 3.0})
    cfg = config.model_copy(update={"data_dir": tmp_path, "today": TODAY, "telegram": tg})
    app = build_application(cfg, shipped_engine, TOKEN)
    group = -300
    async with running(app):
        api.message(
            f"@{BOT_USERNAME} Wann war der 8. Regionaldialog?", chat_id=group, chat_type="group", user_id=1
        )
        await api.replies(group, 1)
        api.message(f"@{BOT_USERNAME} und wo war das?", chat_id=group, chat_type="group", user_id=2)
        await api.replies(group, 2)
        api.message(f"@{BOT_USERNAME} und wo war das?", chat_id=group, chat_type="group", user_id=1)
        texts = await api.replies(group, 3)
        await settle(app, api)
    assert "Riestedt" not in texts[1]  # another member's follow-up does not continue the first one's question
    assert "Riestedt" in texts[2]
