"""Subscriptions, news and reminders (bot.notices): pure, on small entries and on the shipped knowledge."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot import notices
from bot.knowledge import AnyEntry, Event, FundingCall, Info, Source, When, load_knowledge
from bot.notices import CALLS, EVENTS, Topic

ROOT = Path(__file__).resolve().parents[1]
SRC = Source(document="Testquelle")
DAY = date(2024, 1, 15)


def _event(
    id: str,
    when: str | None,
    series: str | None = "Regionaldialog",
    number: int | None = None,
    status: str = "geplant",
    place: str | None = None,
    tags: list[str] | None = None,
    **more: object,
) -> Event:
    return Event(
        id=id,
        type="event",
        title=f"{number or ''}. {series or id}".strip(". "),
        text=f"Der Termin {id}.",
        series=series,
        number=number,
        date=When.model_validate(when) if when else None,
        status=status,
        place=place,
        tags=tags or [],
        source=SRC,
        updated=DAY,
        **more,
    )


def _call(
    id: str, closes: date | None, opens: date | None = None, topics: list[str] | None = None, **more: object
):
    return FundingCall(
        id=id,
        type="funding_call",
        title=f"Förderaufruf {id}",
        text=f"Aufruf {id}.",
        programme="Testprogramm",
        opens=opens,
        closes=closes,
        topics=topics or [],
        source=SRC,
        updated=DAY,
        **more,
    )


RD9 = _event("regionaldialog-9", "2024-06-13", number=9, place="Freie Grundschule Riestedt", topic="Energie")
RD8 = _event("regionaldialog-8", "2024-02-20", number=8, status="stattgefunden")
AG_NEXT = _event("ag-wifoe-naechste", "Ende April 2024", series="AG Wirtschaftsförderung")
AG_TOUR = _event("ag-tourismus-1", "2024-07-01", series="AG Tourismus", number=1)
CALL = _call("revier", date(2024, 5, 31), opens=date(2024, 3, 21), topics=["Wasserstoff", "Digitalisierung"])
OPEN_CALL = _call("budget", None, tags=["Regionalbudget"])
INFO = Info(id="info", type="info", title="Regionaldialog allgemein", text="Info.", source=SRC, updated=DAY)
ENTRIES: list[AnyEntry] = [RD9, RD8, AG_NEXT, AG_TOUR, CALL, OPEN_CALL, INFO]


@pytest.fixture(scope="module")
def shipped() -> list[AnyEntry]:
    return load_knowledge(ROOT / "knowledge").entries


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _due_days(entry: AnyEntry, topics: list[Topic], start: date, end: date, **kw: object) -> dict[date, str]:
    """Day → key of the reminders a daily job would get for one chat subscribed to `topics`."""
    out: dict[date, str] = {}
    for day in _days(start, end):
        found = notices.reminders([entry], {1: topics}, day, **kw)  # type: ignore[arg-type]
        assert len(found) <= 1
        if found:
            out[day] = found[0].key
    return out


# --------------------------------------------------------------------------- topics


def test_shipped_knowledge_resolves_series_typo_funding_and_tag(shipped: list[AnyEntry]) -> None:
    regionaldialog = notices.resolve_topic("Regionaldialog", shipped)
    assert regionaldialog == Topic("series", "regionaldialog", "Regionaldialog")
    assert notices.resolve_topic("regionaldialg", shipped) == regionaldialog
    assert notices.resolve_topic("Förderung", shipped) == CALLS
    assert notices.resolve_topic("foerderung", shipped) == CALLS
    hydrogen = notices.resolve_topic("Wasserstoff", shipped)
    assert isinstance(hydrogen, Topic) and (hydrogen.kind, hydrogen.key) == ("tag", "wasserstoff")
    covered = {e.id for e in shipped if notices.matches(hydrogen, e)}
    assert covered == {"unternehmen-revier-foerderaufruf-2024", "regionaldialog-6"}
    assert {e.id for e in shipped if notices.matches(regionaldialog, e)} == {
        f"regionaldialog-{n}" for n in range(1, 10)
    }


def test_shipped_knowledge_unknown_word_is_none_and_ag_alone_offers_candidates(
    shipped: list[AnyEntry],
) -> None:
    assert notices.resolve_topic("Quantencomputer", shipped) is None
    found = notices.resolve_topic("AG", shipped)
    assert isinstance(found, list) and 1 <= len(found) <= notices.MAX_CANDIDATES
    assert Topic("series", "ag-wirtschaftsfoerderung", "AG Wirtschaftsförderung") in found


def test_shipped_knowledge_region(shipped: list[AnyEntry]) -> None:
    region = notices.resolve_topic("Landkreis Mansfeld-Südharz", shipped)
    assert isinstance(region, Topic) and region.kind == "region" and region.label == "Mansfeld-Südharz"
    assert notices.resolve_topic("mansfeld-suedharz", shipped) == region
    covered = {e.id for e in shipped if notices.matches(region, e)}
    assert "regionaldialog-9" in covered and "regionalbudget-nordthueringen" not in covered
    land = notices.resolve_topic("Thüringen", shipped)
    assert land == Topic("region", "thuringen", "Thüringen")  # the Land, not the closest name "Nordthüringen"
    assert {e.id for e in shipped if notices.matches(land, e)} == {"regionalbudget-nordthueringen"}


@pytest.mark.parametrize("word", ["Termine", "Veranstaltungen", "events", "alle Termine"])
def test_all_events_words(word: str) -> None:
    assert notices.resolve_topic(word, ENTRIES) == EVENTS


@pytest.mark.parametrize("word", ["Förderung", "foerderung", "Förderaufrufe", "funding", "FÖRDERUNG"])
def test_all_calls_words(word: str) -> None:
    assert notices.resolve_topic(word, ENTRIES) == CALLS


@pytest.mark.parametrize(
    ("word", "key"),
    [
        ("regionaldialog", "regionaldialog"),
        ("Regionaldialg", "regionaldialog"),
        ("der Regionaldialog", "regionaldialog"),
        ("AG Wirtschaftsfoerderung", "ag-wirtschaftsfoerderung"),
        ("ag-wirtschaftsförderung", "ag-wirtschaftsfoerderung"),
        ("AG Wirtschaftsfördrung", "ag-wirtschaftsfoerderung"),
    ],
)
def test_series_matched_forgivingly(word: str, key: str) -> None:
    found = notices.resolve_topic(word, ENTRIES)
    assert isinstance(found, Topic) and (found.kind, found.key) == ("series", key)


def test_tags_and_call_topics_resolve() -> None:
    assert notices.resolve_topic("wasserstoff", ENTRIES) == Topic("tag", "wasserstoff", "Wasserstoff")
    assert notices.resolve_topic("Regionalbudget", ENTRIES) == Topic(
        "tag", "regionalbudget", "Regionalbudget"
    )


@pytest.mark.parametrize(
    "word", ["Quantencomputer", "", "   ", "x", "der", "Kontakt", "Regionaldialog allgemein", "Thüringen"]
)
def test_nothing_sensible_is_none(word: str) -> None:
    assert notices.resolve_topic(word, ENTRIES) is None


def test_fragment_offers_candidates_not_a_topic() -> None:
    found = notices.resolve_topic("AG", ENTRIES)
    assert isinstance(found, list)
    assert {t.key for t in found} == {"ag-wirtschaftsfoerderung", "ag-tourismus"}
    tourism = notices.resolve_topic("Tourismus", ENTRIES)
    assert tourism == [Topic("series", "ag-tourismus", "AG Tourismus")]
    regional = notices.resolve_topic("Regional", ENTRIES)
    assert isinstance(regional, list) and {t.label for t in regional} == {"Regionaldialog", "Regionalbudget"}


def test_candidates_are_at_most_five() -> None:
    many = [_event(f"forum-{n}", "2024-07-01", series=f"Forum {n}", number=1) for n in range(1, 9)]
    found = notices.resolve_topic("Forum", many)
    assert isinstance(found, list) and len(found) == notices.MAX_CANDIDATES


def test_topic_keys_are_short_stable_and_round_trip() -> None:
    series = notices.resolve_topic("Regionaldialog", ENTRIES)
    assert isinstance(series, Topic)
    assert notices.topic_key(series) == "series:regionaldialog"
    assert notices.topic_from_key("series:regionaldialog", "Regionaldialog") == series
    assert notices.topic_key(notices.entry_topic(RD9)) == "entry:regionaldialog-9"
    assert notices.topic_key(CALLS) == "foerderung:alle"
    long_a = _call("a" * 40 + "-foerderaufruf-zum-thema-wasserstoff-2024", date(2024, 5, 31))
    long_b = _call("a" * 40 + "-foerderaufruf-zum-thema-wasserstoff-2025", date(2025, 5, 31))
    key_a, key_b = (notices.topic_key(notices.entry_topic(e)) for e in (long_a, long_b))
    assert len(key_a.encode()) <= notices.KEY_BYTES and len(f"abo:{key_a}".encode()) <= 64
    assert key_a != key_b and key_a == notices.topic_key(notices.entry_topic(long_a.model_copy()))
    restored = notices.topic_from_key(key_a, "gespeichert")
    assert notices.matches(restored, long_a) and not notices.matches(restored, long_b)


@pytest.mark.parametrize(
    "key", ["regionaldialog", "unbekannt:x", "series:", "series:Groß", "series:" + "x" * 60]
)
def test_malformed_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError):
        notices.topic_from_key(key, "x")


def test_topic_for_key_takes_the_label_from_the_knowledge() -> None:
    assert notices.topic_for_key("series:regionaldialog", ENTRIES) == Topic(
        "series", "regionaldialog", "Regionaldialog"
    )
    assert notices.topic_for_key("entry:regionaldialog-9", ENTRIES) == Topic(
        "entry", "regionaldialog-9", "9. Regionaldialog"
    )
    assert notices.topic_for_key("foerderung:alle", ENTRIES) == CALLS
    assert notices.topic_for_key("series:gibt-es-nicht", ENTRIES) is None
    assert notices.topic_for_key("kaputt", ENTRIES) is None


# --------------------------------------------------------------------------- matches


def test_matches() -> None:
    series = Topic("series", "regionaldialog", "Regionaldialog")
    assert [e.id for e in ENTRIES if notices.matches(series, e)] == ["regionaldialog-9", "regionaldialog-8"]
    assert [e.id for e in ENTRIES if notices.matches(CALLS, e)] == ["revier", "budget"]
    assert [e.id for e in ENTRIES if notices.matches(EVENTS, e)] == [RD9.id, RD8.id, AG_NEXT.id, AG_TOUR.id]
    assert [e.id for e in ENTRIES if notices.matches(Topic("tag", "wasserstoff", "W"), e)] == ["revier"]
    assert [e.id for e in ENTRIES if notices.matches(notices.entry_topic(RD9), e)] == ["regionaldialog-9"]
    assert not any(
        notices.matches(t, INFO) for t in (CALLS, EVENTS, series, Topic("tag", "regionaldialog", "R"))
    )


def test_subscribers() -> None:
    subs = {3: [EVENTS], 1: [CALLS, notices.entry_topic(RD9)], 2: [CALLS]}
    assert notices.subscribers(RD9, subs) == [1, 3]
    assert notices.subscribers(CALL, subs) == [1, 2]


# --------------------------------------------------------------------------- changes


def test_new_changed_removed_unchanged() -> None:
    moved = RD9.model_copy(update={"date": When.model_validate("2024-06-20")})
    added = _event("regionaldialog-10", "2024-09-01", number=10)
    found = notices.changes([RD9, RD8, CALL], [moved, RD8, added])  # CALL removed, RD8 unchanged
    assert [(c.entry.id, c.kind, c.fields) for c in found] == [
        ("regionaldialog-9", "geändert", ("date",)),
        ("regionaldialog-10", "neu", ()),
    ]
    assert found[0].before is RD9 and found[0].fingerprint == notices.fingerprint(moved)
    assert notices.changes([RD9, RD8], [RD9, RD8]) == []
    assert notices.changes([RD9, RD8], [RD8]) == []


def test_status_place_and_deadline_changes_are_news() -> None:
    cancelled = RD9.model_copy(update={"status": "abgesagt"})
    assert [c.fields for c in notices.changes([RD9], [cancelled])] == [("status",)]
    elsewhere = RD9.model_copy(update={"place": "Sangerhausen"})
    assert [c.fields for c in notices.changes([RD9], [elsewhere])] == [("place",)]
    extended = CALL.model_copy(update={"closes": date(2024, 6, 30)})
    assert [c.fields for c in notices.changes([CALL], [extended])] == [("closes",)]


def test_text_tags_and_updated_edits_are_not_news() -> None:
    edited = RD9.model_copy(
        update={
            "text": "Ganz neu formuliert.",
            "updated": date(2024, 3, 1),
            "tags": ["Energie"],
            "questions": ["?"],
        }
    )
    reflowed = CALL.model_copy(
        update={"title": "Förderaufruf  revier", "topics": ["Digitalisierung", "Wasserstoff"]}
    )
    assert notices.changes([RD9, CALL], [edited, reflowed]) == []
    assert notices.fingerprint(edited) == notices.fingerprint(RD9)


def test_marking_an_event_as_held_is_not_news() -> None:
    held = RD9.model_copy(update={"status": "stattgefunden"})
    assert notices.changes([RD9], [held]) == []


def test_fingerprint_is_stable_and_follows_relevant_fields() -> None:
    assert notices.fingerprint(RD9) == notices.fingerprint(RD9.model_copy())
    assert len(notices.fingerprint(RD9)) == 16
    assert notices.fingerprint(RD9) != notices.fingerprint(RD9.model_copy(update={"place": "Halle"}))
    assert notices.fingerprint(RD9) != notices.fingerprint(RD8)


def test_with_today_past_items_are_no_news() -> None:
    history = _event("regionaldialog-1", "2021-09-29", number=1, status="stattgefunden")
    closed = _call("alt", date(2023, 12, 31))
    found = notices.changes([], [history, closed, RD9, AG_NEXT], today=date(2024, 4, 25))
    assert [c.entry.id for c in found] == ["regionaldialog-9", "ag-wifoe-naechste"]
    assert len(notices.changes([], [history, closed])) == 2  # without `today` everything new counts


# --------------------------------------------------------------------------- reminders


def test_call_reminders_seven_and_one_day_before_with_catch_up() -> None:
    due = _due_days(CALL, [CALLS], date(2024, 5, 1), date(2024, 6, 10))
    assert due == {
        date(2024, 5, 24): "revier:20240531:7d",
        date(2024, 5, 25): "revier:20240531:7d",  # catch-up: the job did not run on the 24th
        date(2024, 5, 30): "revier:20240531:1d",
        date(2024, 5, 31): "revier:20240531:1d",  # catch-up on the deadline day: one can still apply
    }


def test_event_reminder_one_day_before_and_none_on_the_day() -> None:
    due = _due_days(RD9, [EVENTS], date(2024, 6, 1), date(2024, 6, 20))
    assert due == {date(2024, 6, 12): "regionaldialog-9:20240613:1d"}


def test_event_catch_up_only_while_the_event_is_ahead() -> None:
    due = _due_days(RD9, [EVENTS], date(2024, 6, 1), date(2024, 6, 20), event_days=(3,))
    assert due == {
        date(2024, 6, 10): "regionaldialog-9:20240613:3d",
        date(2024, 6, 11): "regionaldialog-9:20240613:3d",
    }
    assert _due_days(
        RD9, [EVENTS], date(2024, 6, 1), date(2024, 6, 20), event_days=(3,), catch_up_days=0
    ) == {date(2024, 6, 10): "regionaldialog-9:20240613:3d"}


def test_partial_date_reminded_once_at_the_start_of_its_period() -> None:
    start = AG_NEXT.date.earliest()  # type: ignore[union-attr]
    assert start == date(2024, 4, 21)
    due = _due_days(AG_NEXT, [EVENTS], date(2024, 3, 1), date(2024, 5, 31))
    assert sorted(due) == [start, start + timedelta(days=1)]  # the day itself, and its catch-up
    assert set(due.values()) == {"ag-wifoe-naechste:ende-april-2024:ungefaehr"}  # one key: sent once


def test_no_reminders_for_past_cancelled_undated_or_unsubscribed_items() -> None:
    cancelled = RD9.model_copy(update={"status": "abgesagt"})
    assert _due_days(cancelled, [EVENTS], date(2024, 6, 1), date(2024, 6, 20)) == {}
    assert _due_days(OPEN_CALL, [CALLS], date(2024, 1, 1), date(2024, 12, 31)) == {}
    assert notices.reminders(ENTRIES, {1: [CALLS]}, date(2024, 6, 12)) == []  # the event is not a call
    assert notices.reminders(ENTRIES, {1: []}, date(2024, 6, 12)) == []
    assert notices.reminders(ENTRIES, {1: [EVENTS, CALLS]}, date(2024, 6, 14)) == []  # everything past


def test_reminder_keys_unique_per_chat_entry_and_occasion() -> None:
    subs = {1: [EVENTS, CALLS], 2: [notices.entry_topic(RD9)], 3: [Topic("series", "regionaldialog", "R")]}
    found = [
        r
        for day in _days(date(2024, 1, 1), date(2024, 12, 31))
        for r in notices.reminders(ENTRIES, subs, day)
    ]
    pairs = {(r.chat_id, r.key) for r in found}
    assert {(r.chat_id, r.entry.id) for r in found} >= {
        (1, "regionaldialog-9"),
        (2, "regionaldialog-9"),
        (1, "revier"),
    }
    assert (3, "regionaldialog-9:20240613:1d") in pairs and (2, "revier:20240531:7d") not in pairs
    per_occasion = {(r.chat_id, r.entry.id, r.key.rsplit(":", 1)[-1]) for r in found}
    assert len(per_occasion) == len(pairs)  # no occasion under two keys
    postponed = RD9.model_copy(update={"date": When.model_validate("2024-06-20")})
    assert notices.reminders([postponed], subs, date(2024, 6, 19))[0].key == "regionaldialog-9:20240620:1d"


def test_one_reminder_per_entry_when_two_are_due() -> None:
    found = notices.reminders([CALL], {1: [CALLS]}, date(2024, 5, 30), call_days=(2, 1))
    assert [r.key for r in found] == ["revier:20240531:1d"]  # the 2-day one (catch-up) is stale by now


# --------------------------------------------------------------------------- texts


def _reminder(entry: AnyEntry, day: date) -> str:
    found = notices.reminders([entry], {1: [EVENTS, CALLS]}, day)
    assert len(found) == 1
    return notices.reminder_text(found[0], day)


def test_reminder_texts() -> None:
    seven = _reminder(CALL, date(2024, 5, 24))
    assert "Die Frist für „Förderaufruf revier“ endet in 7 Tagen (am 31.05.2024)." in seven
    assert seven.endswith("Quelle: Testquelle\nAbbestellen: /abbestellen")
    assert "endet morgen (am 31.05.2024)" in _reminder(CALL, date(2024, 5, 30))
    assert "endet in 6 Tagen (am 31.05.2024)" in _reminder(CALL, date(2024, 5, 25))
    event = _reminder(RD9, date(2024, 6, 12))
    assert "Der Termin „9. Regionaldialog“ ist morgen, am 13.06.2024." in event
    assert "Ort: Freie Grundschule Riestedt" in event and "Abbestellen: /abbestellen" in event
    partial = _reminder(AG_NEXT, date(2024, 4, 21))
    assert (
        "„AG Wirtschaftsförderung“ ist für Ende April 2024 angekündigt; ein genauer Tag ist nicht bekannt."
        in partial
    )


def test_notice_texts() -> None:
    today = date(2024, 4, 1)
    new = notices.notice_text(notices.changes([], [RD9])[0], today)
    assert new.startswith("Neu: 9. Regionaldialog am 13.06.2024, Ort: Freie Grundschule Riestedt")
    assert "angekündigt" in new and new.endswith("Quelle: Testquelle\nAbbestellen: /abbestellen")
    moved = RD9.model_copy(update={"date": When.model_validate("2024-06-20")})
    changed = notices.notice_text(notices.changes([RD9], [moved])[0], today)
    assert (
        changed.startswith("Geändert: 9. Regionaldialog am 20.06.2024")
        and "Bisher – Termin: 13.06.2024." in changed
    )
    call = notices.notice_text(notices.changes([], [CALL])[0], today)
    assert call.startswith("Neu: Förderaufruf revier\nProgramm: Testprogramm\n")
    assert "Offen: Der Aufruf läuft vom 21.03.2024 bis 31.05.2024." in call and "Themen: Wasserstoff" in call
    renamed = RD9.model_copy(update={"title": "9. Regionaldialog: Energie"})
    retitled = notices.notice_text(notices.changes([RD9], [renamed])[0], today)
    assert (
        "\nTitel: 9. Regionaldialog: Energie\n" in retitled
        and "Bisher – Titel: 9. Regionaldialog." in retitled
    )
    extended = CALL.model_copy(update={"closes": date(2024, 6, 30)})
    assert "Bisher – Frist: 31.05.2024." in notices.notice_text(notices.changes([CALL], [extended])[0], today)


def test_confirmation_text_says_what_is_sent_what_is_stored_and_how_to_stop() -> None:
    text = notices.confirmation_text(CALLS)
    assert text.startswith("Abo eingerichtet: alle Förderaufrufe.")
    assert "Erinnerungen 7 Tage und 1 Tag vor Ablauf einer Frist" in text and "vor einem Termin" not in text
    assert "Chat-ID" in text and "Zustimmung" in text and "/abbestellen beendet alle Abos und löscht" in text
    series = notices.confirmation_text(Topic("series", "regionaldialog", "Regionaldialog"))
    assert (
        "Termine der Reihe „Regionaldialog“" in series and "eine Erinnerung 1 Tag vor einem Termin" in series
    )
    assert "Ablauf einer Frist" not in series
    custom = notices.confirmation_text(CALLS, call_days=[14, 3, 1])
    assert "Erinnerungen 14 Tage, 3 Tage und 1 Tag vor Ablauf einer Frist" in custom
    single = notices.confirmation_text(notices.entry_topic(RD9), entry=RD9)
    assert "„9. Regionaldialog“" in single and "Ablauf einer Frist" not in single and "Neues" not in single
