"""Sentence and field selection: whole sentences, the pronoun's antecedent, the sentence carrying the asked value."""

from __future__ import annotations

from datetime import date

from bot.answer import select
from bot.answer.select import always, carries, choose_sentences, field_text, lexical_scores, points_back
from bot.knowledge import Contact, Event, FundingCall, Membership, Organisation, Source, When
from bot.text import tokens

SRC = Source(document="Testquelle")
DAY = date(2026, 11, 1)


def _contact(id_: str, person: str, **kw) -> Contact:
    return Contact(
        id=id_, type="contact", title=person, text=f"{person}.", person=person, source=SRC, updated=DAY, **kw
    )


def test_carries_needs_a_value_of_the_asked_kind() -> None:
    assert carries("phone", "Telefon: 03464 535 100")
    assert not carries("phone", "Madlen Beyer leitet die Wirtschaftsförderung.")
    assert carries("email", "Schreiben Sie an info@seg-msh.de.")
    assert not carries("email", "per E-Mail erreichbar")
    assert carries("amount", "jährlich 60.000 €")
    assert not carries("amount", "Das Regionalbudget fördert Projekte.")
    assert carries("date", "am 13.06.2024") and carries("deadline", "bis Ende Mai 2024")
    assert carries(None, "irgendetwas") and carries("members", "ohne Wertmuster")


def test_counts_need_the_number_next_to_the_counted_noun() -> None:
    studies = frozenset(tokens("Studien"))
    assert carries("count", "Die SEG hat 22 Studien ausgewertet.", studies)
    assert not carries("count", "Beim 3. Regionaldialog am 27.04.2022 ging es um die Studien.", studies)
    # a passage that never names the counted thing: any number may be the answer
    assert carries("count", "Die Region hat 3,8 Millionen Einwohner.", frozenset(tokens("Menschen")))
    assert not carries(
        "count", "Beim 8. Regionaldialog am 20.02.2024 ging es um den Kanal.", frozenset(tokens("Follower"))
    )
    assert not carries("count", "Der Landkreis zahlt jährlich 60.000 €.", frozenset(tokens("Einwohner")))
    assert not carries("count", "Die Gruppe tagt etwa 3 Mal jährlich.", frozenset(tokens("Mitglieder")))
    assert carries("count", "Rund 150 Kommunen und Verbände arbeiten mit.", frozenset(tokens("Akteure")))
    # a number written together with what it counts
    years = frozenset(tokens("Jahre"))
    assert carries("count", "Eine mehr als 500jährige Geschichte als Bergbauregion.", years)
    assert carries("count", "Die 10-jährige Laufzeit endet 2030.", years)
    assert not carries("count", "Die 3-köpfige Jury tagte am 12.10.2022.", years)
    # a unit symbol stands for the noun it abbreviates
    area = frozenset(tokens("Quadratkilometer"))
    assert carries("count", "ein Masterplan für die 6.500 km² große Gewässerlandschaft", area)
    assert not carries("count", "ein Masterplan für die 65 km lange Strecke", area)


def test_points_back_on_pronoun_starts_only() -> None:
    assert points_back("Aus ihr heraus entstand das Netzwerk.")
    assert points_back("Sein Anspruch: Wissenstransfer.")
    assert points_back("Dort wurde das Projekt vorgestellt.")
    assert not points_back("Henning Mertens berät Unternehmen.")
    assert not points_back("Die Sitzung fand in Halle statt.")


SENTENCES = [
    "Der Förderaufruf UNTERNEHMEN REVIER unterstützt Unternehmen im Revier.",
    "Er läuft vom 21.03.2024 bis 31.05.2024.",
    "Sein Ansprechpartner ist Henning Mertens.",
    "Gefördert werden Wasserstoff und Digitalisierung.",
]


def test_choose_keeps_the_antecedent_and_whole_sentences() -> None:
    keep = choose_sentences(SENTENCES, [0.1, 0.2, 0.9, 0.1], budget=120)
    assert keep == [1, 2]  # "Sein Ansprechpartner" needs the sentence before it


def test_choose_prefers_the_sentence_with_the_asked_value() -> None:
    keep = choose_sentences(SENTENCES, [0.9, 0.3, 0.2, 0.1], budget=80, field="deadline")
    assert 1 in keep and all(s in SENTENCES for s in (SENTENCES[i] for i in keep))


def test_choose_fills_the_budget_in_score_order() -> None:
    assert choose_sentences(SENTENCES, [0.9, 0.1, 0.1, 0.85], budget=400) == [0, 1, 2, 3]
    assert choose_sentences(SENTENCES, [0.9, 0.1, 0.1, 0.85], budget=150) == [0, 3]
    assert choose_sentences(SENTENCES, [0.9, 0.1, 0.1, 0.85], budget=60) == [0]
    assert choose_sentences([], [], budget=100) == []


def test_lexical_scores_ignore_title_terms() -> None:
    weights = {tokens("Mertens")[0]: 3.0, tokens("Revier")[0]: 1.0}
    scores = lexical_scores(SENTENCES, weights, frozenset(), title="Förderaufruf UNTERNEHMEN REVIER")
    assert scores[2] == 1.0 and scores[0] == 0.0


def test_field_answers_from_structure() -> None:
    chair, deputy = _contact("a", "Frank Bannert", role="Landrat"), _contact("b", "Bernd Wiegand")
    org = Organisation(
        id="forum",
        type="organisation",
        title="Forum",
        text="Ein Forum.",
        name="Forum",
        kind="forum",
        chair="a",
        deputy="b",
        members=["Politik", "Wirtschaft"],
        focus_areas=["Fachkräfte", "Energie"],
        source=SRC,
        updated=DAY,
    )
    by_id = {"a": chair, "b": deputy, "forum": org}
    assert "Politik, Wirtschaft" in field_text(org, "members", by_id, DAY)
    assert "Frank Bannert" in field_text(org, "chair", by_id, DAY) and "Wiegand" in field_text(
        org, "chair", by_id, DAY
    )
    assert field_text(org, "deputy", by_id, DAY).startswith("Stellvertretung")
    assert "• Energie" in field_text(org, "focus_areas", by_id, DAY)
    assert field_text(org, "tasks", by_id, DAY) is None  # not filled: no field answer
    assert field_text(org, "phone", by_id, DAY) is None


def test_funding_event_membership_fields_and_what_they_always_say() -> None:
    adviser = _contact("m", "Henning Mertens", email="h.mertens@example.org")
    call = FundingCall(
        id="c",
        type="funding_call",
        title="Aufruf",
        text="Ein Aufruf.",
        programme="REVIER",
        opens=date(2024, 3, 21),
        closes=date(2024, 5, 31),
        contacts=["m"],
        source=SRC,
        updated=DAY,
    )
    by_id = {"m": adviser, "c": call}
    assert "Offen" in field_text(call, "deadline", by_id, date(2024, 4, 1))
    assert "Henning Mertens" in field_text(call, "contact", by_id, DAY)
    lines = always(call, "Ein Aufruf.", by_id, date(2025, 1, 1))
    assert lines[0].startswith("Abgelaufen") and "Henning Mertens" in lines[1]
    event = Event(
        id="e",
        type="event",
        title="8. Regionaldialog",
        text="Der Regionaldialog.",
        date=When.model_validate("2024-06-13"),
        place="Sangerhausen",
        source=SRC,
        updated=DAY,
    )
    assert (
        "13.06.2024" in always(event, event.text, {}, DAY)[0]
        and "Sangerhausen" in always(event, event.text, {}, DAY)[0]
    )
    assert always(event, "am 13.06.2024 in Sangerhausen", {}, DAY) == []
    fee = Membership(
        id="f",
        type="membership",
        title="Beitrag",
        text="Beitrag.",
        member="Landkreis Peine",
        body="x",
        annual_amount_eur=60000,
        source=SRC,
        updated=DAY,
    )
    assert "60.000 €" in field_text(fee, "amount", {}, DAY)


def test_fields_and_what_they_always_say_in_english() -> None:
    chair, deputy = _contact("a", "Frank Bannert", role="Landrat"), _contact("b", "Bernd Wiegand")
    org = Organisation(
        id="forum",
        type="organisation",
        title="Forum",
        text="Ein Forum.",
        name="Forum",
        kind="forum",
        chair="a",
        deputy="b",
        members=["Politik", "Wirtschaft"],
        founded=When.model_validate("2019"),
        source=SRC,
        updated=DAY,
    )
    by_id = {"a": chair, "b": deputy, "forum": org}
    assert field_text(org, "chair", by_id, DAY, language="en") == (
        "Chair (Forum): Frank Bannert, Landrat\nDeputy chair: Bernd Wiegand"
    )
    assert field_text(org, "members", by_id, DAY, language="en") == "Members (Forum): Politik, Wirtschaft."
    assert field_text(org, "founded", by_id, DAY, language="en") == "Forum: founded in 2019."
    assert field_text(org, "contact", by_id, DAY, language="en") == "Contact person: Frank Bannert, Landrat"
    fee = Membership(
        id="f",
        type="membership",
        title="Beitrag",
        text="Beitrag.",
        member="Landkreis Peine",
        body="x",
        annual_amount_eur=60000,
        source=SRC,
        updated=DAY,
    )
    assert field_text(fee, "amount", {}, DAY, language="en") == "Landkreis Peine: 60,000 € per year."
    call = FundingCall(
        id="c",
        type="funding_call",
        title="Aufruf",
        text="Ein Aufruf.",
        programme="REVIER",
        closes=date(2024, 5, 31),
        contacts=["a"],
        source=SRC,
        updated=DAY,
    )
    assert always(call, "Ein Aufruf.", by_id, date(2024, 4, 1), language="en") == [
        "Open: The call runs until 31.05.2024. (as of 01.04.2024)",
        "Advisers: Frank Bannert, Landrat",
    ]
    event = Event(
        id="e",
        type="event",
        title="8. Regionaldialog",
        text="Der Regionaldialog.",
        date=When.model_validate("Ende April 2024"),
        place="Sangerhausen",
        status="geplant",
        source=SRC,
        updated=DAY,
    )
    assert always(event, event.text, {}, DAY, language="en") == [
        "Date: end of April 2024, Place: Sangerhausen, (was announced for end of April 2024)"
    ]
    # a date the German passage already gives is not repeated in English
    assert always(event, "Ende April 2024 in Sangerhausen", {}, DAY, language="en") == [
        "(was announced for end of April 2024)"
    ]


def test_things_only_counted_are_not_named() -> None:
    from bot.answer.select import only_counted

    head = "welterbestatt"
    assert only_counted("die Kulturregion: sieben UNESCO-Welterbestätten, zahlreiche Orte", head)
    assert not only_counted("Welterbestätten: Wartburg, Bauhaus und Naumburger Dom", head)  # named
    assert not only_counted(
        "Es gibt drei Welterbestätten: Wartburg, Bauhaus, Dom", head
    )  # count, then the list
    assert not only_counted("Kein Wort dazu.", head)  # not mentioned: another check decides
    assert not only_counted("sieben Welterbestätten", "")  # no "welche" question


def test_the_member_a_yes_no_question_names() -> None:
    members = ["Stadt Leipzig", "Stadt Jena", "envia Mitteldeutsche Energie AG", "Landkreis Leipzig"]
    assert select.named_member(set(tokens("Ist die Stadt Jena dabei?")), members) == "Stadt Jena"
    assert (
        select.named_member(set(tokens("Ist die envia vertreten?")), members)
        == "envia Mitteldeutsche Energie AG"
    )
    assert select.named_member(set(tokens("Ist Magdeburg dabei?")), members) is None
    assert (
        select.named_member(set(tokens("Ist eine Stadt dabei?")), members) is None
    )  # generic words name nobody
