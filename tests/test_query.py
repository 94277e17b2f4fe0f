"""Question understanding: cue words as whole words, ordinals only next to a series noun, time cues explicit."""

from __future__ import annotations

import pytest

from bot.answer.query import understand
from bot.text import tokens

SERIES = [
    (frozenset(tokens("Regionaldialog")), "Regionaldialog"),
    (frozenset(tokens("AG Wirtschaftsförderung")), "AG Wirtschaftsförderung"),
]


@pytest.mark.parametrize(
    ("question", "field"),
    [
        ("Wer hat den Vorsitz im Regionalforum Halle?", "chair"),
        ("Wer leitet die AG Verkehr?", "chair"),
        ("Who chairs the Regionalforum Halle?", "chair"),
        ("Wer steht dem Forum vor?", "chair"),
        ("Wer ist Geschäftsführerin der SEG?", "chair"),
        ("Wie viele Mitglieder hat die Gruppe?", "count"),
        ("Wann wurde das Forum gegründet?", "founded"),
        ("Welche Rechtsform hat der Verein?", "legal_form"),
        ("Wie lange läuft das Projekt noch?", "duration"),
        ("Which companies take part in the project group?", "members"),
        ("Wann hat das Energiewendezentrum geöffnet?", "hours"),
        ("Zu welchen Zeiten fährt der Bus?", "hours"),
        ("In welchem Gebäude tagt die Gruppe?", "address"),
        ("What is the phone number of the office?", "phone"),
        ("Wer ist der stellvertretende Vorsitzende?", "deputy"),
        ("und wer vertritt ihn?", "deputy"),
        ("Wer sind die Mitglieder im Regionalforum Halle?", "members"),
        ("Welche Landkreise sind an der Projektgruppe beteiligt?", "members"),
        ("Was sind die Arbeitsschwerpunkte?", "focus_areas"),
        ("Welche Aufgaben hat die Koordinierungsgruppe?", "tasks"),
        ("Wer ist Ansprechpartner für den Förderaufruf?", "contact"),
        ("An wen wende ich mich?", "contact"),
        ("Wer berät Unternehmen dazu?", "contact"),
        ("Who should I talk to at the SEG about value creation?", "contact"),
        ("Wen spreche ich bei der SEG dazu an?", "contact"),
        ("Hat Madlen Beyer eine Telefonnummer?", "phone"),
        ("Wie lautet die E-Mail-Adresse der SEG?", "email"),
        ("Bis wann läuft der Aufruf?", "deadline"),
        ("foerderaufruf frist?", "deadline"),
        ("Wie viele Einwohner hat die Region?", "count"),
        ("Wie hoch ist der Zuschuss?", "amount"),
        ("Wie viel zahlt der Landkreis Peine?", "amount"),
        ("What is the budget of the working group?", "amount"),
        ("Wo findet der Regionaldialog statt?", "place"),
        ("Wann war der erste Regionaldialog?", "date"),
        ("Welches Thema hatte der Regionaldialog?", "topic"),
        ("Welche Städte sind in der PG Elektromobilität vertreten?", "members"),  # represented, not deputised
        ("Wie hoch ist der Mitgliedsbeitrag?", "amount"),  # the compound's head decides: a Beitrag
        ("Wie lautet die Mitgliedsnummer?", "members"),  # "nummer" names no value kind: the first part stays
        ("Welche Mitgliedskommunen gibt es?", "members"),
        ("When was the Regionalforum Halle established?", "founded"),
        ("Was kostet die Mitgliedschaft?", "amount"),  # a membership, not its members
        ("Wann ist der Anmeldeschluss?", "date"),
        ("In welchem Jahr trat Peine der Allianz bei?", "date"),
        ("In which year did Peine join the alliance?", "date"),
        ("Wie viel zahlt der Landkreis Peine im Jahr?", "amount"),  # a year as a period asks no date
        ("Wer ist beim Regionalforum Halle der Vize?", "deputy"),
        ("Wer übernimmt die Sitzung, wenn der Vorsitzende verhindert ist?", "deputy"),  # who stands in
        ("Wer sitzt dem Gesprächskreis vor, den es seit 1996 gibt?", "chair"),  # separable "vorsitzen"
        (
            "Mit welchem Betrag ist Peine an der Metropolregion beteiligt?",
            "amount",
        ),  # the noun asked for decides
        ("Welche Adresse hat die Geschäftsstelle, die Peine betreut?", "address"),
        ("Hat Madlen Beyer eine Telefonnummer?", "phone"),  # a yes/no question may ask for a contact detail
        ("Wer macht bei der Projektgruppe Elektromobilität alles mit?", "members"),  # separable "mitmachen"
        ("Wer gehört alles zur Projektgruppe?", "members"),
        ("Welche Städte wirken in der AG mit?", "members"),
        ("Ist die Stadt Zwickau in der Projektgruppe dabei?", "members"),
        ("Wie heißt die Geschäftsführerin der SEG?", "person"),  # a role's holder by name
        ("What is the name of the managing director?", "person"),
        ("Wie viel kostet die Mitgliedschaft im Jahr?", "amount"),
        ("Gibt es eine Vorsitzendentelefonnummer?", "phone"),  # a Telefonnummer, not the Vorsitz
    ],
)
def test_asked_field(question: str, field: str) -> None:
    assert understand(question, SERIES).field == field


@pytest.mark.parametrize(
    "question",
    [
        "Wie viel Geld steht im Regionalbudget zur Verfügung?",  # "budget" inside "Regionalbudget" is not the cue …
        "Was will das Projekt erreichen?",  # "erreichen" = to achieve, no contact lookup
        "Was macht die Projektgruppe MINT?",
        "Worum geht es bei Schule trifft Wirtschaft?",
        "Kann eine Kommune die Gründung eines Netzwerkes gefördert bekommen?",  # "Gründung" asks no date
        "Was steht im Vordergrund?",
        "Wann wurde der Förderaufruf geöffnet?",
        "Wer fördert das Projekt Strategische Kooperationsregionen im ländlichen Raum?",  # no address asked
        "Which established industry clusters does the working group want to expand?",  # an adjective
        "Wer sitzt vor dem Rathaus?",  # "vor" with its object: no chair
        "Was macht die Projektgruppe mit den Ergebnissen?",  # "mit" with its object: no members
        "Was gehört zu den Aufgaben der Gruppe?",  # no "wer": what belongs to its tasks
        "Was ist dabei wichtig?",  # "dabei" = in doing so
        "Was steht vor der Entscheidung noch aus?",
    ],
)
def test_no_false_field(question: str) -> None:
    field = understand(question, SERIES).field
    assert field not in {"contact", "chair", "deputy", "members", "address", "hours", "founded"}, field


def test_a_yes_no_question_about_a_budget_asks_whether_not_how_much() -> None:
    assert understand("Kann das Regionalmanagement Projekte über ein Budget umsetzen?", SERIES).field is None
    assert understand("Gibt es dafür Kosten?", SERIES).field is None
    assert (
        understand("Was kostet das Netzwerk den Landkreis?", SERIES).field == "amount"
    )  # no yes/no question
    assert understand("Kosten: wie hoch sind sie?", SERIES).field == "amount"


def test_budget_inside_a_compound_is_no_money_cue() -> None:
    assert understand("Welche Projekte fördert das Regionalbudget?", SERIES).field is None
    assert understand("Wie hoch ist das Budget?", SERIES).field == "amount"


@pytest.mark.parametrize(
    ("question", "time"),
    [
        ("Wann ist der nächste Regionaldialog?", "next"),
        ("wann ist der naechste regionaldialog", "next"),
        ("Welche Termine stehen an?", "next"),
        ("Welche Termine stehen im Frühjahr an?", "next"),
        ("When is the next meeting?", "next"),
        ("Welche Förderaufrufe laufen gerade?", "current"),
        ("Is the call still open?", "current"),
        ("Wann war der letzte Regionaldialog?", "past"),
        ("Wie soll die Zusammenarbeit künftig aussehen?", None),
        ("Wann findet der Regionaldialog statt?", None),
        ("Was steht im Masterplan?", None),
        ("Wer steht an der Spitze des Forums?", None),
    ],
)
def test_time_cue(question: str, time: str | None) -> None:
    assert understand(question, SERIES).time == time


@pytest.mark.parametrize(
    ("question", "ordinal"),
    [
        ("Wo war der 5. Regionaldialog?", 5),
        ("Where was the seventh Regionaldialog held?", 7),
        ("Was war Thema beim dritten Regionaldialog?", 3),
        ("Worum ging es im Regionaldialog Nr. 8?", 8),
        ("Wann war die 2. Sitzung der AG Wirtschaftsförderung?", 2),
        ("Was ist in erster Linie das Ziel?", None),
        ("Die zweite Frage: wer leitet das Forum?", None),
        ("Am 5. Mai 2024 gab es was?", None),
        ("Regionaldialog 2024", None),
        ("Welche Projekte gibt es zum ersten Mal?", None),
        ("thema vom 7 regionaldialog?", 7),  # chat style, no dot
        ("wo war der 3 regionaldialogs ort", 3),
        ("Wie viele Gäste hatten die 7 Regionaldialoge?", None),  # a plural counts them
        ("Es gab 3 Treffen im Jahr", None),  # "Treffen" is plural too
        ("Was geschah 2 Tage vor dem Regionaldialog?", None),
        ("Am 1,5 Regionaldialog", None),
    ],
)
def test_ordinal_only_next_to_a_series_noun(question: str, ordinal: int | None) -> None:
    assert understand(question, SERIES).ordinal == ordinal


def test_series_listing_language_and_content() -> None:
    q = understand("Wann ist der nächste Regionaldialog in Bremen?", SERIES)
    assert q.series == "Regionaldialog" and q.time == "next" and "bremen" in q.places
    assert tokens("Bremen")[0] in q.content
    assert understand("Welche Termine stehen an?", SERIES).content == ()
    assert understand("Gibt es Förderaufrufe für Lastenräder?", SERIES).content == tuple(
        tokens("Lastenräder")
    )
    listing = understand("Welche Förderaufrufe sind gerade offen?", SERIES)
    assert listing.listing == "calls" and listing.time == "current" and listing.content == ()
    assert understand("Which working groups does the region have?", SERIES).language == "en"
    assert understand("Welche Arbeitsgruppen hat die Region?", SERIES).language == "de"
    assert understand("AG Wirtschaftsförderung Termin", SERIES).series == "AG Wirtschaftsförderung"
    assert understand("Wie viel Geld steht im Regionalbudget?", SERIES).series is None


def test_whitespace_and_length_are_normalised() -> None:
    q = understand("  Wer   leitet\n das Forum? " + "x" * 5000, SERIES)
    assert q.text.startswith("Wer leitet das Forum?") and len(q.text) == 2000
    assert understand("   ", SERIES).words == ()


def test_counted_noun() -> None:
    assert understand("Wie viele Einwohner hat der Landkreis?", SERIES).counted == set(tokens("Einwohner"))
    assert understand("How many members are there?", SERIES).counted == set(tokens("members"))
    assert understand("Wie viel kostet das?", SERIES).counted == set()


@pytest.mark.parametrize(
    ("question", "places"),
    [
        ("Wer leitet das Regionalforum Dresden?", {"dresden"}),
        ("Ich bin Bürger aus Eisleben und hätte einen Themenvorschlag. Wohin schicke ich den?", set()),
        ("Ich wohne in Sangerhausen, wann ist der nächste Regionaldialog?", set()),
        ("We are a company from Leipzig. Which funding calls are open?", set()),
        ("Ich wohne in Halle, wer leitet das Regionalforum Dresden?", {"dresden"}),
        ("Ich suche Infos zum Regionalforum Dresden", {"dresden"}),
        ("Welche Projekte aus Nordthüringen gibt es?", {"nordthuringen"}),
    ],
)
def test_places_the_question_is_about(question: str, places: set[str]) -> None:
    assert understand(question, SERIES).places == places


@pytest.mark.parametrize(
    ("question", "dates"),
    [
        ("Wo findet der Regionaldialog am 13.06.2024 statt?", ((2024, 6, 13),)),
        ("Was war beim Regionaldialog im Januar 2022?", ((2022, 1, None),)),
        ("What happened in June 2023?", ((2023, 6, None),)),
        ("Was war im Mai?", ()),  # a month without its year names no date
        ("Was kostet es 2024?", ()),
        ("Ist der 31.13.2024 ein Termin?", ()),  # no such month
        ("Kann man sich mai melden?", ()),
    ],
)
def test_dates_the_question_names(question: str, dates: tuple) -> None:
    assert understand(question, SERIES).dates == dates


def test_idioms_are_no_cues() -> None:
    assert understand("Fand der Regionaldialog im Januar 2022 vor Ort statt?", SERIES).field is None
    assert understand("Wo ist der Ort des Treffens?", SERIES).field == "place"
    assert understand("An welchem Tag ist der Sprechtag?", SERIES).field == "date"


@pytest.mark.parametrize(
    ("question", "field", "also"),
    [
        ("Seit wann gibt es das Forum und wer hat den Vorsitz?", "chair", ("date",)),
        ("Wann und wo findet der Regionaldialog statt?", "place", ("date",)),
        ("Wie viele Mitglieder hat die AG und wer leitet sie?", "count", ("chair",)),
        ("Wer ist stellvertretender Vorsitzender?", "deputy", ()),  # one clause: the deputy alone
        ("Was macht die AG Verkehr und Mobilität?", None, ()),  # "und" inside a name asks nothing more
        ("Wie hoch ist der Mitgliedsbeitrag?", "amount", ()),
    ],
)
def test_further_fields_come_from_clauses_of_their_own(question: str, field: str | None, also: tuple) -> None:
    query = understand(question, SERIES)
    assert (query.field, query.also) == (field, also)


@pytest.mark.parametrize(
    ("question", "several"),
    [
        ("Welche Themen hatten die bisherigen Regionaldialoge?", True),
        ("Welche Themen hatten die Regionaldialoge bisher?", True),  # a series noun in the plural
        ("Which were all the previous Regionaldialog topics?", True),
        ("Wann war der letzte Regionaldialog?", False),
        ("Was war das Thema beim letzten Regionaldialog?", False),
    ],
)
def test_asks_for_several(question: str, several: bool) -> None:
    assert understand(question, SERIES).several is several


@pytest.mark.parametrize(
    ("question", "which"),
    [
        ("Welche sieben UNESCO-Welterbestätten sind das genau?", "welterbestatt"),
        ("Welche Projektgruppen hat die Metropolregion?", "projektgrupp"),
        ("Which companies take part?", "compani"),
        ("Which other rural regions take part?", "rural"),  # "other" is no thing to name
        ("Welche weiteren Projekte gibt es?", "projekt"),
        ("Welche sind die elf Metropolregionen in Deutschland?", "metropolregion"),
        ("Wer leitet das Forum?", ""),
    ],
)
def test_the_things_a_which_question_asks_to_name(question: str, which: str) -> None:
    assert understand(question, SERIES).which == which


def test_whether_something_is_settled_is_no_topic() -> None:
    assert "fest" not in understand("Steht schon fest, wann der nächste Regionaldialog ist?", SERIES).content
    assert "feststeht" not in understand("Ist bekannt, ob der Termin feststeht?", SERIES).content
    assert (
        "fest" in understand("Wann ist das nächste Fest in Halle?", SERIES).content
    )  # a festival is a topic


@pytest.mark.parametrize(
    "question",
    [
        "Wozu wurde die Projektgruppe Elektromobilität gegründet?",
        "Warum kostet die Mitgliedschaft so viel?",
        "Why was the working group founded?",
        "Und warum findet der Regionaldialog in Allstedt statt?",
    ],
)
def test_a_why_question_asks_for_no_value(question: str) -> None:
    assert understand(question, SERIES).field is None


def test_why_late_in_a_question_does_not_hide_its_field() -> None:
    assert understand("Wann wurde die Gruppe gegründet und warum?", SERIES).field == "founded"


def test_a_first_question_without_field_keeps_a_later_field_as_further_field() -> None:
    query = understand("Aus welcher Gruppe ist die PG hervorgegangen, und seit wann gab es die?", SERIES)
    assert query.field is None and query.also == ("date",)
    assert (
        understand("Die Koordinierungsgruppe, wer leitet sie?", SERIES).field == "chair"
    )  # no first question


@pytest.mark.parametrize(
    "question",
    ["Wie heißt das Projekt?", "Wie heißt der Förderaufruf?", "Wie heißt der TikTok-Kanal der SEG?"],
)
def test_the_name_of_a_thing_is_no_person(question: str) -> None:
    assert understand(question, SERIES).field != "person"
