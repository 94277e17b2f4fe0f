"""Which messages are follow-ups, what they ask, and where a missing field is looked up next (pure functions)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.answer.followup import kind_of, linked, links, own_subject
from bot.answer.query import understand
from bot.knowledge import Contact, Event, Organisation, Source

SRC = Source(document="Test")
DAY = date(2024, 1, 1)


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("und wo?", "field"),
        ("bis wann?", "field"),
        ("und wer ist da Ansprechpartner?", "field"),
        ("und wer vertritt ihn?", "field"),
        ("und wann war das?", "field"),
        ("und der danach?", "after"),
        ("und der davor?", "before"),
        ("mehr dazu", "more"),
        ("and the one after that?", "after"),
        # new questions, not follow-ups
        ("Wann ist der nächste Termin?", None),
        ("Welche Förderaufrufe gibt es?", None),
        ("Wann war der 7. Regionaldialog?", None),
        ("Welche Termine stehen an?", None),
        ("Wie wird das Wetter?", None),
        ("Erzähl mir mehr über die Geschichte der Industriekultur in Mitteldeutschland", None),
    ],
)
def test_kind_of(message, kind):
    assert kind_of(understand(message)) == kind


def test_own_subject_named_entity_or_unknown_word():
    vocabulary = frozenset({"regionalforum", "hall", "ansprechpartn"})
    about = frozenset({"regionaldialog"})
    q = understand("und wer ist da Ansprechpartner?")
    assert not own_subject(q, about, set(), set(), vocabulary)
    q = understand("und wer leitet das Regionalforum Halle?")
    assert own_subject(q, about, {"regionalforum-halle"}, {"rd-9"}, vocabulary)
    assert not own_subject(q, about, {"rd-9"}, {"rd-9"}, vocabulary)  # naming the shown entry itself is fine
    q = understand("und was kostet das Deutschlandticket?")
    assert own_subject(q, about, set(), set(), vocabulary)


def test_linked_people_then_bodies_and_a_persons_bodies():
    chair = Contact(
        id="c1", type="contact", title="A", text="A.", source=SRC, updated=DAY, person="A", organisation="org"
    )
    staff = Contact(
        id="c2", type="contact", title="B", text="B.", source=SRC, updated=DAY, person="B", organisation="org"
    )
    org = Organisation(
        id="org",
        type="organisation",
        title="Org",
        text="Org.",
        source=SRC,
        updated=DAY,
        name="Org",
        kind="forum",
        chair="c1",
    )
    event = Event(id="e", type="event", title="E", text="E.", source=SRC, updated=DAY, organiser="org")
    by_id = {e.id: e for e in (chair, staff, org, event)}
    assert [e.id for e in linked(event, by_id, links(by_id.values()))] == ["org", "c1", "c2"]
    assert [e.id for e in linked(chair, by_id, links(by_id.values()))] == ["org", "c2"]
    assert [e.id for e in linked(org, by_id, links(by_id.values()))] == ["c1", "c2"]
