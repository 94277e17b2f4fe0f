"""Inbox and outbox on their own: stored before acknowledged, finished with the replies, kept across restarts."""

from __future__ import annotations

import stat

from bot.telegram.mailbox import KEEP_IDS_SECONDS, Mailbox


def update(update_id: int, text: str = "Frage") -> dict:
    return {
        "update_id": update_id,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}, "text": text},
    }


def test_receive_stores_new_updates_once(tmp_path):
    box = Mailbox(tmp_path)
    assert box.receive([update(1), update(2)]) == [True, True]
    assert box.receive([update(2), update(3)]) == [False, True]  # a replayed update is processed once
    assert [u["update_id"] for u in box.unfinished()] == [1, 2, 3]


def test_post_finishes_the_update_and_survives_a_restart(tmp_path):
    box = Mailbox(tmp_path)
    box.receive([update(1), update(2)])
    box.post(5, [{"text": "Antwort 1a"}, {"text": "Antwort 1b"}], update_id=1)
    box.close()
    again = Mailbox(tmp_path)  # as after kill -9
    assert [u["update_id"] for u in again.unfinished()] == [2]
    assert [m.message["text"] for m in again.waiting(5)] == ["Antwort 1a", "Antwort 1b"]
    assert again.receive([update(1)]) == [False]  # the finished one is not answered again


def test_payloads_are_forgotten_when_finished(tmp_path):
    box = Mailbox(tmp_path)
    box.receive([update(1, "meine.adresse@example.org")])
    box.finish(1)
    assert box.unfinished() == []
    rows = box._db.execute("SELECT update_id, payload FROM inbox").fetchall()
    assert rows == [(1, None)]  # only the bare id stays, for deduplication


def test_outbox_order_back_off_and_give_up(tmp_path):
    now = [1000.0]
    box = Mailbox(tmp_path, clock=lambda: now[0])
    first, second = box.post(7, [{"text": "eins"}, {"text": "zwei"}])
    assert box.due_chats() == [7]
    box.retry_later(first, 30)
    assert box.due_chats() == []  # the chat's oldest part is backing off: the newer one waits behind it
    now[0] += 31
    assert box.due_chats() == [7]
    box.delivered(first)
    box.give_up(second)
    assert box.waiting(7) == [] and box.given_up == 1


def test_prune_keeps_ids_for_a_day(tmp_path):
    now = [0.0]
    box = Mailbox(tmp_path, clock=lambda: now[0])
    box.receive([update(1)])
    box.finish(1)
    now[0] = KEEP_IDS_SECONDS - 1
    box.prune()
    assert box.receive([update(1)]) == [False]
    now[0] = 2 * KEEP_IDS_SECONDS
    box.prune()
    assert box.receive([update(1)]) == [True]


def test_file_is_private(tmp_path):
    Mailbox(tmp_path / "data")
    assert stat.S_IMODE((tmp_path / "data" / "telegram.sqlite3").stat().st_mode) == 0o600
