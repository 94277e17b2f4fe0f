"""The dialogue layer on the shipped knowledge: the conversations of dialogues.yaml, context expiry, forged
buttons, small talk never stored, "Meinten Sie …?" choices recorded, store failures costing no answer."""

from __future__ import annotations

import pytest
from dialogue_cases import TODAY, Conversation, load, problems

from bot.dialogue import Chat, Contexts, Dialogue, Reply
from bot.store import Store, stats

CONVERSATIONS = load()


@pytest.fixture
def dialogue(shipped_engine, config, tmp_path) -> Dialogue:
    cfg = config.model_copy(update={"data_dir": tmp_path})
    return Dialogue(shipped_engine, Store(cfg), cfg)


def press(dialogue: Dialogue, chat: Chat, last: list[Reply], label: str) -> list[Reply]:
    button = next(
        b for r in last for row in r.buttons for b in row if b.label.startswith(label) or label in b.label
    )
    result = dialogue.button(chat, button.data, TODAY)
    return result.replies or [Reply(result.notice or "")]


def test_at_least_25_conversations_of_two_or_three_turns():
    assert len(CONVERSATIONS) >= 25
    assert sum(len(c.turns) >= 2 for c in CONVERSATIONS) >= 25


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=lambda c: c.name)
def test_conversation(dialogue: Dialogue, conversation: Conversation):
    chat = Chat("test", 7, "private")
    last: list[Reply] = []
    for i, turn in enumerate(conversation.turns):
        if turn.press:
            last = press(dialogue, chat, last, turn.press)
        else:
            last = dialogue.message(chat, turn.say or "", TODAY)
        text = "\n".join(r.plain() for r in last)
        wrong = problems(turn, text, last[-1].found, last[-1].intent)
        assert not wrong, f"Zug {i + 1} ({turn.say or turn.press}): {wrong}\n{text}"


def test_context_expires(shipped_engine, config, tmp_path):
    now = [0.0]
    cfg = config.model_copy(update={"data_dir": tmp_path})
    dialogue = Dialogue(shipped_engine, Store(cfg), cfg, Contexts(15 * 60, clock=lambda: now[0]))
    chat = Chat("t", 1)
    dialogue.message(chat, "Wann war der 8. Regionaldialog?", TODAY)
    now[0] = 14 * 60
    assert "Riestedt" in dialogue.message(chat, "und wo war das?", TODAY)[0].plain()
    now[0] += 16 * 60
    assert "Riestedt" not in dialogue.message(chat, "und wo war das?", TODAY)[0].plain()


def test_chats_do_not_share_context(dialogue: Dialogue):
    dialogue.message(Chat("a", 1), "Wann war der 8. Regionaldialog?", TODAY)
    assert "Riestedt" not in dialogue.message(Chat("b", 2), "und wo war das?", TODAY)[0].plain()


@pytest.mark.parametrize(
    "data",
    ["pick:regionaldialog-8", "pick:", "step:contact:gibt-es-nicht", "step:foo:regionaldialog-8", "more:999999",
     "more:abc", "fb:1:x", "fb:abc:+", "menu:rm -rf", "x" * 64, "", "::::"],
)  # fmt: skip
def test_forged_or_stale_buttons_change_nothing(dialogue: Dialogue, data: str):
    chat = Chat("f", 3)
    result = dialogue.button(chat, data, TODAY)
    assert not result.replies
    assert result.notice
    assert stats(dialogue.config).questions == 0


def test_small_talk_is_not_stored_as_unanswered(dialogue: Dialogue):
    for message in ["hallo", "danke", "was kannst du?", "bist du ein Mensch?", "tschüss", "Du bist doof"]:
        replies = dialogue.message(Chat("s", 4), message, TODAY)
        assert replies[0].intent == "smalltalk", message
        assert replies[0].buttons, "small talk offers the main buttons"
    assert stats(dialogue.config).questions == 0


def test_refusal_offers_the_main_buttons(dialogue: Dialogue):
    reply = dialogue.message(Chat("r", 5), "Wie mache ich einen Sauerbraten?", TODAY)[0]
    assert not reply.found
    assert {b.data for row in reply.buttons for b in row} >= {
        "menu:termine",
        "menu:foerderung",
        "menu:kontakt",
        "menu:hilfe",
    }


def test_clarify_choice_is_answered_and_recorded(dialogue: Dialogue):
    chat = Chat("c", 6)
    reply = dialogue.message(chat, "Wer leitet die AG?", TODAY)[0]
    assert reply.intent == "clarify"
    picks = [b.data for row in reply.buttons for b in row if b.data.startswith("pick:")]
    assert 2 <= len(picks) <= 3
    chosen = dialogue.button(chat, picks[-1], TODAY).replies
    assert chosen and chosen[0].found
    assert stats(dialogue.config).answered == 1  # the choice counts for the report


def test_next_steps_only_what_the_knowledge_has(dialogue: Dialogue):
    chat = Chat("n", 8)
    call = dialogue.message(chat, "Was ist das Bundesmodellvorhaben UNTERNEHMEN REVIER?", TODAY)[0]
    labels = [b.label for row in call.buttons for b in row]
    assert not any("Frist" in label for label in labels)  # the deadline is in the answer already
    person = dialogue.message(chat, "Wer ist Madlen Beyer?", TODAY)[0]
    assert not any("Quelle öffnen" in b.label for row in person.buttons for b in row)  # no URL in that source


def test_store_failure_costs_no_answer(dialogue: Dialogue, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(dialogue.store, "record_question", broken)
    reply = dialogue.message(Chat("d", 9), "Wer leitet das Regionalforum Halle?", TODAY)[0]
    assert "Frank Bannert" in reply.text
    assert not any(b.data.startswith("fb:") for row in reply.buttons for b in row)


def test_too_long_and_empty_messages(dialogue: Dialogue):
    chat = Chat("l", 10)
    assert "zu lang" in dialogue.message(chat, "x" * 5000, TODAY)[0].text
    assert "Wie kann ich helfen" in dialogue.message(chat, "   ", TODAY)[0].text


def test_answer_json_for_small_talk_and_clarify(dialogue: Dialogue):
    talk = dialogue.answer("danke", TODAY).as_json()
    assert talk["found"] is False and talk["intent"] == "smalltalk"
    assert set(talk) == {"question", "intent", "found", "answer", "sources"}
    clarify = dialogue.answer("Wer leitet die AG?", TODAY).as_json()
    assert clarify["found"] is False and clarify["intent"] == "clarify"


def test_next_event_button_only_when_the_answer_does_not_name_it(dialogue: Dialogue):
    chat = Chat("nx", 11)
    labels = [
        b.label
        for row in dialogue.message(chat, "Wann war der 8. Regionaldialog?", TODAY)[0].buttons
        for b in row
    ]
    assert any("Nächster Termin" in label for label in labels)  # the 9th (13.06.2024) is not in this answer
    listed = dialogue.message(Chat("ny", 12), "Wann ist der nächste Regionaldialog?", TODAY)[0]
    assert "13.06.2024" in listed.text
    assert not any("Nächster Termin" in b.label for row in listed.buttons for b in row)
