"""Calendar files (.ics): what a calendar program reads back from them, and the `regiobot calendar` command."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from icalendar import Calendar
from typer.testing import CliRunner

from bot.calendar import (
    calendar,
    deadline_calendar,
    event_calendar,
    filename,
    has_calendar_day,
    upcoming,
)
from bot.cli import app
from bot.knowledge import Event, FundingCall, Info, Source

ROOT = Path(__file__).resolve().parents[1]
SRC = Source(
    document="Protokoll 8. Regionaldialog", url="https://example.org/regionaldialog", as_of="2024-02"
)
NO_URL = Source(document="SEG Mansfeld-Südharz: Regionaldialog (Webseite)")
UPDATED = date(2024, 2, 21)


def event(**fields: Any) -> Event:
    values: dict[str, Any] = {
        "id": "regionaldialog-9",
        "type": "event",
        "title": "9. Regionaldialog (13.06.2024, geplant): Energiepotentialanalyse",
        "text": "Der 9. Regionaldialog soll am 13.06.2024 stattfinden.",
        "series": "Regionaldialog",
        "number": 9,
        "date": "2024-06-13",
        "status": "geplant",
        "place": "Sangerhausen",
        "topic": "Energiepotentialanalyse",
        "source": SRC,
        "updated": UPDATED,
    }
    return Event.model_validate(values | fields)


def call(**fields: Any) -> FundingCall:
    values: dict[str, Any] = {
        "id": "unternehmen-revier",
        "type": "funding_call",
        "title": "Förderaufruf UNTERNEHMEN REVIER",
        "text": "Förderaufruf zu Wasserstoff, Kreislaufwirtschaft und Digitalisierung.",
        "programme": "UNTERNEHMEN REVIER",
        "opens": date(2024, 3, 21),
        "closes": date(2024, 5, 31),
        "source": SRC,
        "updated": UPDATED,
    }
    return FundingCall.model_validate(values | fields)


def items(data: bytes | None) -> list[Any]:
    assert data is not None
    return Calendar.from_ical(data).walk("VEVENT")


def only(data: bytes | None) -> Any:
    found = items(data)
    assert len(found) == 1
    return found[0]


def test_event_with_a_day_is_an_all_day_item_in_the_regiobot_calendar() -> None:
    data = event_calendar(event())
    assert data is not None
    cal = Calendar.from_ical(data)
    assert str(cal["prodid"]) == "-//regiobot//DE" and str(cal["version"]) == "2.0"
    assert str(cal["x-wr-calname"]) == "regiobot: Termine und Fristen"
    assert str(cal["x-wr-timezone"]) == "Europe/Berlin"
    item = only(data)
    start, end = item.decoded("dtstart"), item.decoded("dtend")
    assert not isinstance(start, datetime) and start == date(2024, 6, 13)
    assert not isinstance(end, datetime) and end == date(2024, 6, 14)
    assert b"DTSTART;VALUE=DATE:20240613" in data and b"DTEND;VALUE=DATE:20240614" in data


def test_summary_location_description_name_the_event_and_its_source() -> None:
    item = only(event_calendar(event()))
    assert str(item["summary"]) == "9. Regionaldialog: Energiepotentialanalyse"
    assert str(item["location"]) == "Sangerhausen"
    description = str(item["description"])
    assert description.startswith("Der 9. Regionaldialog soll am 13.06.2024 stattfinden.")
    assert "Quelle: Protokoll 8. Regionaldialog (Stand Februar 2024)" in description
    assert "https://example.org/regionaldialog" in description
    assert str(item["url"]) == "https://example.org/regionaldialog"


def test_without_url_or_series_the_item_has_no_url_and_uses_the_title() -> None:
    item = only(event_calendar(event(source=NO_URL, series=None, number=None, place=None)))
    assert "url" not in item and "location" not in item
    assert str(item["summary"]) == "9. Regionaldialog (13.06.2024, geplant): Energiepotentialanalyse"
    assert str(item["description"]).endswith("Quelle: SEG Mansfeld-Südharz: Regionaldialog (Webseite)")


def test_status_follows_the_knowledge() -> None:
    assert str(only(event_calendar(event(status="stattgefunden")))["status"]) == "CONFIRMED"
    assert str(only(event_calendar(event(status="geplant")))["status"]) == "TENTATIVE"
    cancelled = only(event_calendar(event(status="abgesagt")))
    assert str(cancelled["status"]) == "CANCELLED"
    assert str(cancelled["summary"]) == "Abgesagt: 9. Regionaldialog: Energiepotentialanalyse"


def test_a_month_or_end_of_april_is_no_calendar_day() -> None:
    for vague in ["2024-06", "Ende April 2024", "2024"]:
        entry = event(date=vague)
        assert not has_calendar_day(entry)
        assert event_calendar(entry) is None
        assert items(calendar([entry], date(2024, 1, 1))) == []
    assert not has_calendar_day(event(date=None))
    assert has_calendar_day(event()) and has_calendar_day(call())
    assert not has_calendar_day(call(closes=None))
    info = Info(id="info", type="info", title="Info", text="Text.", source=SRC, updated=UPDATED)
    assert not has_calendar_day(info)


def test_a_deadline_is_an_all_day_item_on_the_closing_day() -> None:
    item = only(deadline_calendar(call()))
    assert str(item["summary"]) == "Fristende: UNTERNEHMEN REVIER"
    assert item.decoded("dtstart") == date(2024, 5, 31) and item.decoded("dtend") == date(2024, 6, 1)
    description = str(item["description"])
    assert description.startswith("Der Förderaufruf läuft vom 21.03.2024 bis 31.05.2024.")
    assert "Wasserstoff, Kreislaufwirtschaft und Digitalisierung" in description
    assert "Quelle: Protokoll 8. Regionaldialog (Stand Februar 2024)" in description
    assert str(item["uid"]) == "unternehmen-revier-frist@regiobot"
    assert "läuft bis 31.05.2024." in str(only(deadline_calendar(call(opens=None)))["description"])
    assert deadline_calendar(call(closes=None)) is None


def test_uids_are_stable_and_survive_a_changed_date() -> None:
    first = only(event_calendar(event()))
    assert str(first["uid"]) == "regionaldialog-9@regiobot"
    assert str(only(event_calendar(event()))["uid"]) == str(first["uid"])
    moved = only(event_calendar(event(date="2024-06-20", updated=date(2024, 3, 5))))
    assert str(moved["uid"]) == str(first["uid"])
    assert moved.decoded("dtstart") == date(2024, 6, 20)
    assert moved.decoded("sequence") > first.decoded("sequence")
    assert moved.decoded("last-modified") > first.decoded("last-modified")
    assert str(only(deadline_calendar(call(closes=date(2024, 6, 30))))["uid"]) == str(
        only(deadline_calendar(call()))["uid"]
    )


def test_same_knowledge_gives_the_same_bytes() -> None:
    entries = [event(), call(), event(id="regionaldialog-10", number=10, date="2024-09-12")]
    assert calendar(entries, date(2024, 3, 1)) == calendar(list(entries), date(2024, 3, 1))
    assert event_calendar(event()) == event_calendar(event())
    assert only(event_calendar(event())).decoded("dtstamp") == datetime(2024, 2, 21, tzinfo=UTC)


def test_calendar_keeps_what_is_due_from_today_on_sorted_by_date() -> None:
    entries = [
        event(),  # 13.06.2024
        call(id="alt", programme="Alt", opens=None, closes=date(2024, 2, 1)),
        event(id="regionaldialog-8", number=8, date="2024-02-20", status="stattgefunden"),
        event(id="heute", series="Stammtisch", number=None, topic=None, date="2024-03-01"),
        event(
            id="ausfall", series="Werkstatt", number=None, topic=None, date="2024-05-01", status="abgesagt"
        ),
        event(id="ag-naechste", date="Ende April 2024"),
        call(),  # 31.05.2024
        Info(id="info", type="info", title="Info", text="Text.", source=SRC, updated=UPDATED),
    ]
    found = items(calendar(entries, date(2024, 3, 1)))
    assert [str(item["summary"]) for item in found] == [
        "Stammtisch",
        "Abgesagt: Werkstatt",
        "Fristende: UNTERNEHMEN REVIER",
        "9. Regionaldialog: Energiepotentialanalyse",
    ]
    assert [entry.id for entry in upcoming(entries, date(2024, 3, 2))] == [
        "ausfall",
        "unternehmen-revier",
        "regionaldialog-9",
    ]


def test_file_names_are_safe_ascii() -> None:
    assert filename(event()) == "regionaldialog-9.ics"
    assert filename(call()) == "frist-unternehmen-revier.ics"
    assert filename(event(id="ag-wirtschaftsfoerderung-3")) == "ag-wirtschaftsfoerderung-3.ics"


def test_cli_writes_the_shipped_calendar(tmp_path: Path) -> None:
    out = tmp_path / "termine.ics"
    result = CliRunner().invoke(
        app,
        [
            "calendar",
            "--out",
            str(out),
            "--today",
            "2024-03-01",
            "--config",
            str(ROOT / "config.yaml"),
            "--knowledge",
            str(ROOT / "knowledge"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"\d+ Termine? und \d+ Frist(?:en)? ab 01\.03\.2024 → .*termine\.ics", result.stderr)
    assert not list(tmp_path.glob("*.tmp"))
    found = {str(item["summary"]): item for item in items(out.read_bytes())}
    dialogue = next(item for name, item in found.items() if name.startswith("9. Regionaldialog"))
    assert dialogue.decoded("dtstart") == date(2024, 6, 13) and str(dialogue["status"]) == "TENTATIVE"
    deadline = found["Fristende: Bundesmodellvorhaben UNTERNEHMEN REVIER"]
    assert deadline.decoded("dtstart") == date(2024, 5, 31)
    assert all(item.decoded("dtstart") >= date(2024, 3, 1) for item in found.values())


def test_cli_writes_to_stdout_and_refuses_invalid_knowledge(tmp_path: Path) -> None:
    args = ["calendar", "--today", "2024-03-01", "--config", str(ROOT / "config.yaml")]
    result = CliRunner().invoke(app, [*args, "--knowledge", str(ROOT / "knowledge")])
    assert result.exit_code == 0, result.output
    assert "Fristende: Bundesmodellvorhaben UNTERNEHMEN REVIER" in [
        str(item["summary"]) for item in items(result.stdout_bytes)
    ]
    assert "→ Standardausgabe" in result.stderr
    bad = tmp_path / "k"
    bad.mkdir()
    (bad / "test.yaml").write_text(
        "entries:\n  - id: bad\n    type: event\n    title: Bad\n", encoding="utf-8"
    )
    out = tmp_path / "termine.ics"
    result = CliRunner().invoke(app, [*args, "--knowledge", str(bad), "--out", str(out)])
    assert result.exit_code == 1
    assert "kein Kalender geschrieben" in result.stderr and "Pflichtfeld „text“ fehlt" in result.stderr
    assert not out.exists()
