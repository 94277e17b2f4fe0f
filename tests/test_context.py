"""Chat contexts: expiry after the configured time, separate chats, a bounded number of chats."""

from __future__ import annotations

from bot.dialogue.context import ChatContext, Contexts


def test_context_expires_after_ttl():
    now = [100.0]
    contexts = Contexts(60, clock=lambda: now[0])
    contexts.put("a", ChatContext(focus="x"))
    now[0] += 59
    assert contexts.get("a").focus == "x"
    now[0] += 2
    assert contexts.get("a").focus is None
    assert len(contexts) == 0


def test_putting_again_renews_the_context():
    now = [0.0]
    contexts = Contexts(60, clock=lambda: now[0])
    contexts.put("a", ChatContext(focus="x"))
    now[0] = 50
    contexts.put("a", ChatContext(focus="y"))
    now[0] = 100
    assert contexts.get("a").focus == "y"


def test_chats_are_separate_and_forget_works():
    contexts = Contexts(60)
    contexts.put("a", ChatContext(focus="x"))
    assert contexts.get("b") == ChatContext()
    contexts.forget("a")
    assert contexts.get("a") == ChatContext()


def test_least_recently_used_chats_go_first():
    contexts = Contexts(60, limit=3)
    for chat in "abcd":
        contexts.put(chat, ChatContext(focus=chat))
    assert len(contexts) == 3
    assert contexts.get("a").focus is None
    assert contexts.get("d").focus == "d"
