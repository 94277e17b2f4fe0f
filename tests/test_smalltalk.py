"""Small talk is recognised only as a whole message; greetings and thanks around a question are stripped."""

from __future__ import annotations

import pytest

from bot.dialogue.smalltalk import classify, reply_text, strip_pleasantries


@pytest.mark.parametrize(
    ("message", "kind", "language"),
    [
        ("hallo", "greeting", "de"),
        ("Hallo lieber Bot!", "greeting", "de"),
        ("Guten Tag", "greeting", "de"),
        ("moin moin", "greeting", "de"),
        ("Hello", "greeting", "en"),
        ("danke", "thanks", "de"),
        ("Vielen Dank!", "thanks", "de"),
        ("super, danke dir", "thanks", "de"),
        ("thanks a lot", "thanks", "en"),
        ("Tschüss", "bye", "de"),
        ("auf wiedersehen", "bye", "de"),
        ("bye", "bye", "en"),
        ("Was kannst du?", "help", "de"),
        ("wer bist du", "help", "de"),
        ("Hilfe", "help", "de"),
        ("what can you do?", "help", "en"),
        ("Bist du ein Mensch?", "human", "de"),
        ("are you a bot?", "human", "en"),
        ("Du bist doof", "insult", "de"),
        ("this is useless", "insult", "en"),
        ("hallo, danke", "thanks", "de"),
    ],
)
def test_small_talk(message, kind, language):
    talk = classify(message)
    assert talk is not None and (talk.kind, talk.language) == (kind, language)
    assert reply_text(talk, "Beispiel?")


@pytest.mark.parametrize(
    "message",
    [
        "Wann ist der nächste Regionaldialog?",
        "Hallo, wann ist der nächste Regionaldialog?",
        "Danke, und wo findet der statt?",
        "Tag der offenen Tür in Halle?",
        "Hilfe bei Förderanträgen",
        "Welche Hilfe gibt es für Unternehmen?",
        "Wer ist der Mensch hinter dem Regionaldialog?",
        "Warum ist die Antwort so doof?",
        "Gut, dass es den Regionaldialog gibt – wann ist der nächste?",
        "Who chairs the Regionalforum Halle?",
        "",
        "   ",
        "ok " * 20,
    ],
)
def test_questions_are_not_small_talk(message):
    assert classify(message) is None


@pytest.mark.parametrize(
    ("message", "question"),
    [
        ("Hallo, wann ist der nächste Regionaldialog?", "wann ist der nächste Regionaldialog?"),
        ("Hallo wann ist der nächste Regionaldialog?", "wann ist der nächste Regionaldialog?"),
        ("Guten Tag! Wer leitet das Regionalforum Halle? Danke!", "Wer leitet das Regionalforum Halle?"),
        ("Danke, und wo findet der statt?", "und wo findet der statt?"),
        ("Wer berät zu UNTERNEHMEN REVIER? Vielen Dank", "Wer berät zu UNTERNEHMEN REVIER?"),
        # not pleasantries: left alone
        ("Tag der offenen Tür in Halle?", "Tag der offenen Tür in Halle?"),
        ("Super Förderung gibt es wo?", "Super Förderung gibt es wo?"),
        ("Wann ist der nächste Regionaldialog?", "Wann ist der nächste Regionaldialog?"),
        ("Hallo", "Hallo"),
    ],
)
def test_strip_pleasantries(message, question):
    assert strip_pleasantries(message) == question
