"""Answerability checks: each one named, each one able to fail on its own."""

from __future__ import annotations

import pytest

from bot.answer import decide


def test_confidence_is_capped_to_the_unit_interval() -> None:
    assert decide.confidence(0.95, 1.0, 1.0, 0.25, 0.45) == 1.0
    assert decide.confidence(-0.5, 0.0, 0.0, 0.25, 0.45) == 0.0
    assert decide.confidence(0.5, 1.0, 0.5, 0.2, 0.2) == pytest.approx(0.8)


def test_places_must_agree() -> None:
    assert decide.places_agree({"bremen"}, {"halle", "sangerhausen"}).passed is False
    assert decide.places_agree({"halle"}, {"halle", "sangerhausen"}).passed
    assert decide.places_agree(set(), set()).passed


def test_several_places_need_one_in_the_answer_and_the_others_known() -> None:
    known = frozenset({"halle", "mitteldeutschland", "peine"})
    assert decide.places_agree({"halle", "mitteldeutschland"}, {"halle"}, known).passed
    assert not decide.places_agree({"halle", "mitteldeutschland"}, {"halle"}).passed  # nothing known
    assert not decide.places_agree({"halle", "dresden"}, {"halle"}, known).passed  # Dresden: another region
    assert not decide.places_agree(
        {"peine", "mitteldeutschland"}, {"nordthuringen"}, known
    ).passed  # none agrees
    assert not decide.places_agree(
        {"bremen"}, {"halle"}, known | {"bremen"}
    ).passed  # one place: it must agree


def test_a_question_sharing_only_its_place_needs_a_close_meaning() -> None:
    weather = decide.beyond_place({"wett", "morg"}, set(), dense=0.48, min_dense=0.6, known={"wett"})
    assert not weather.passed and weather.name == "beyond_place"
    assert decide.beyond_place(
        {"wett", "vorsitz"}, {"vorsitz"}, dense=0.48, min_dense=0.6
    ).passed  # shares more
    assert decide.beyond_place({"mensch", "wohn"}, set(), dense=0.82, min_dense=0.6, known={"wohn"}).passed
    assert decide.beyond_place(set(), set(), dense=0.1, min_dense=0.6).passed  # nothing but the place asked


def test_a_contact_is_a_person_or_an_address() -> None:
    people = {"Chris Wachholz", "Madlen Beyer"}
    assert decide.has_asked_value(
        "contact", "Ansprechpartner ist Chris Wachholz (SEG).", people=people
    ).passed
    assert decide.has_asked_value("contact", "Vorschläge bitte an info@seg-msh.de.", people=people).passed
    assert decide.has_asked_value("contact", "Auskunft gibt Frau Schmidt im Amt.", people=people).passed
    described = "Das Projekt führt Unternehmen und Schulen zusammen."
    assert not decide.has_asked_value("contact", described, people=people).passed
    assert decide.has_asked_value(None, described, people=people).passed  # no contact asked


def test_words_the_knowledge_never_uses_make_a_place_no_answer() -> None:
    rest = {"ministerprasident"}
    assert not decide.beyond_place(rest, set(), dense=0.9, min_dense=0.6, known=set()).passed
    assert decide.beyond_place(rest, set(), dense=0.9, min_dense=0.6, known=rest).passed
    assert decide.beyond_place(rest, rest, dense=0.1, min_dense=0.6, known=set()).passed  # the entry holds it


def test_a_person_asked_by_name_must_be_named() -> None:
    people = {"Diana zur Horst-Schuster"}
    assert decide.has_asked_value(
        "person", "Geschäftsführerin ist Diana zur Horst-Schuster.", people=people
    ).passed
    assert not decide.has_asked_value("person", "Kontakt: info@seg-msh.de", people=people).passed  # no name


def test_margin_only_between_conflicting_answers() -> None:
    assert not decide.unambiguous(0.01, 0.80, 0.75, 0.06, conflicting=True).passed
    assert decide.unambiguous(0.01, 0.80, 0.75, 0.06, conflicting=False).passed  # siblings are combined
    assert decide.unambiguous(0.10, 0.80, 0.75, 0.06, conflicting=True).passed
    assert decide.unambiguous(0.01, 0.90, 0.75, 0.06, conflicting=True).passed  # far above the threshold


def test_topic_coverage_of_a_list() -> None:
    assert decide.covers([], set()).passed
    assert decide.covers(["wasserstoff"], {"wasserstoff", "digital"}).passed
    check = decide.covers(["lastenrad"], {"wasserstoff"})
    assert not check.passed and check.value == "lastenrad"


@pytest.mark.parametrize(
    ("failed", "action"),
    [
        ((), "answer"),
        (("asked_field",), "partial"),
        (("confidence",), "decline"),
        (("places", "asked_field"), "decline"),
        (("margin",), "decline"),
        (("topic",), "decline"),
    ],
)
def test_verdict(failed: tuple[str, ...], action: str) -> None:
    checks = [
        decide.Check(name, name not in failed, 0.0, 0.0)
        for name in ("confidence", "places", "margin", "asked_field", "topic")
    ]
    verdict = decide.verdict("Frage", checks)
    assert verdict.action == action and verdict.failed == [
        n for n in ("confidence", "places", "margin", "asked_field", "topic") if n in failed
    ]


def test_asked_value_check_reads_the_answer_text() -> None:
    assert not decide.has_asked_value("phone", "Madlen Beyer leitet die Wirtschaftsförderung.").passed
    assert decide.has_asked_value("phone", "Tel. 03464 535100").passed
    assert decide.has_asked_value(None, "beliebig").passed


def test_places_agree_within_their_land_and_inside_longer_names() -> None:
    assert decide.places_agree({"thuringen"}, {"nordthuringen"}).passed
    assert decide.places_agree({"sachsen-anhalt"}, {"sangerhausen"}).passed
    assert not decide.places_agree({"magdeburg"}, {"sachsen-anhalt", "halle"}).passed
    assert decide.places_agree({"braunschweig"}, {"hannover braunschweig gottingen wolfsburg"}).passed
    assert not decide.places_agree({"magdeburg"}, {"halle", "saalekreis"}).passed
    assert not decide.places_agree({"sudthuringen"}, {"nordthuringen"}).passed


def test_a_place_agrees_with_a_hyphenated_name_it_is_part_of_but_a_land_does_not() -> None:
    assert decide.places_agree({"sudharz"}, {"mansfeld-sudharz"}).passed  # "im Südharz": the Landkreis
    assert not decide.places_agree({"sachsen"}, {"sachsen-anhalt"}).passed  # another Land
    assert not decide.places_agree({"neckar"}, {"mansfeld-sudharz"}).passed


def test_a_next_date_must_lie_ahead() -> None:
    from datetime import date

    today = date(2024, 3, 1)
    assert not decide.names_a_future_date("Das Forum wurde 1996 gegründet.", today).passed
    assert not decide.names_a_future_date("Die Sitzung war am 20.02.2024.", today).passed
    assert decide.names_a_future_date("Die nächste Sitzung ist am 13.06.2024.", today).passed
    assert decide.names_a_future_date("Die Konferenz findet 2025 statt.", today).passed
