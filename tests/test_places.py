"""Places named in a text: whole words, folded names, and no ordinary word mistaken for a town."""

from __future__ import annotations

import timeit

import pytest

from bot.places import is_common_word, places_in


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("Gibt es ein Regionalforum in Essen?", {"essen"}),
        ("Wer leitet das Regionalforum Halle?", {"halle"}),
        ("Halle (Saale) und Leipzig", {"halle", "leipzig"}),
        ("Regionalforum Halle an der Saale", {"halle"}),
        ("Termine in Bad Frankenhausen", {"bad frankenhausen"}),
        ("Was gibt es Neues aus Frankenhausen?", {"bad frankenhausen"}),
        ("Metropolregion Rhein-Neckar", {"rhein-neckar"}),
        ("metropolregion rhein neckar", {"rhein-neckar"}),
        ("Nürnberg, Hamburg und Rhein-Ruhr", {"nurnberg", "hamburg", "rhein-ruhr"}),
        ("Wie wird das Wetter in Sangerhausen?", {"sangerhausen"}),
        ("Landkreis Mansfeld-Südharz", {"mansfeld-sudharz"}),
        ("projekte in mansfeld suedharz", {"mansfeld-sudharz"}),
        ("Köln, Koeln oder Cologne", {"koln"}),
        ("Förderung in Sachsen-Anhalt und Thüringen", {"sachsen-anhalt", "thuringen"}),
        ("funding in Saxony-Anhalt", {"sachsen-anhalt"}),
        ("Wer ist Landrat im Saalekreis?", {"saalekreis"}),
        ("Die SEG in Sangerhausen und Eisleben", {"sangerhausen", "lutherstadt eisleben"}),
        ("Ich wohne in Weil am Rhein", {"weil"}),
        ("Lauf an der Pegnitz", {"lauf"}),
        ("Regionaldialog in Hof", {"hof"}),
        ("Sachsens Wirtschaft und Leipzigs Hafen", {"sachsen", "leipzig"}),
        ("die Mark Brandenburg", {"brandenburg"}),
        ("in der Region Hannover", {"hannover"}),
        ("Landkreis Peine", {"peine"}),
        ("Kali-Zukunftsforum in Sondershausen", {"sondershausen"}),
        ("Was bietet die Metropolregion Mitteldeutschland?", {"mitteldeutschland"}),
        ("Ich möchte ein Essen in Halle", {"halle"}),
        ("Die Halle in Halle", {"halle"}),
        ("Nordthüringen und der Kyffhäuserkreis", {"nordthuringen", "kyffhauserkreis"}),
    ],
)
def test_places_found(text: str, places: set[str]) -> None:
    assert places_in(text) == places


@pytest.mark.parametrize(
    "text",
    [
        "Was kostet essen?",
        "Was kostet das Essen?",
        "Essen ist fertig.",
        "Ich gehe zum Essen.",
        "Wie viele Tage dauert es?",
        "Die Halle ist groß.",
        "Gibt es eine Halle für das Event?",
        "Weil ich keine Zeit habe, frage ich.",
        "Lauf schnell!",
        "Im Hof steht ein Baum.",
        "Wald und Wiese",
        "die Zeit vergeht",
        "Wir wollen mehr Wissen.",
        "Welche Mengen sind erlaubt?",
        "Berg-, Heide- und Seenlandschaften",
        "die Fünf-Elemente-Lehre",
        "Porzellan, Jade und Seide",
        "Ab Mitte der Woche",
        "Es ging nach Norden.",
        "Die Preise änderten sich.",
        "Sie lag ihm zu Füßen.",
        "Wer ist der Ansprechpartner der AG Verkehr?",
        "Wann ist der nächste Regionaldialog?",
        "Kann ich Fördermittel beantragen?",
        "Der König kam.",
        "Die Ems-Achse",
        "Wo ist die Geschäftsstelle?",
        "",
    ],
)
def test_ordinary_words_are_no_places(text: str) -> None:
    assert places_in(text) == set()


@pytest.mark.parametrize("name", ["Essen", "Weil", "Hof", "Halle", "Lauf", "Norden", "Füssen"])
def test_names_that_are_ordinary_words(name: str) -> None:
    assert is_common_word(name)


@pytest.mark.parametrize("name", ["Leipzig", "Sangerhausen", "Peine", "Magdeburg", "Nordhausen"])
def test_town_names_are_not_common_words(name: str) -> None:
    assert not is_common_word(name)


def test_matching_a_question_is_fast() -> None:
    question = (
        "Gibt es einen Regionaldialog in Bad Frankenhausen oder in Essen im Landkreis Mansfeld-Südharz?"
    )
    places_in(question)
    assert timeit.timeit(lambda: places_in(question), number=200) / 200 < 0.001


def test_parts_of_a_land_by_direction_are_other_regions() -> None:
    assert places_in("Wer leitet das Regionalforum Westsachsen?") == {"westsachsen"}
    assert places_in("projects of the regional management of South Thuringia") == {"sudthuringen"}
    assert places_in("What is it in North Thuringia about?") == {"nordthuringen"}
    assert places_in("Regionalmanagement Nordthüringen") == {"nordthuringen"}


def test_landscapes_elsewhere_are_places() -> None:
    assert places_in("Wer leitet den Regionalen Planungsverband Oberlausitz-Niederschlesien?") == {
        "oberlausitz",
        "niederschlesien",
    }
    assert places_in("Gibt es so etwas auch im Allgäu?") == {"allgau"}
    assert places_in("Wer leitet das Regionalforum Halle?") == {"halle"}  # negative: only what is named


def test_english_names_of_metropolitan_regions() -> None:
    assert places_in("Which working groups does the Rhine-Neckar metropolitan region have?") == {
        "rhein-neckar"
    }


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("Wer leitet die hallesche Runde?", {"halle"}),
        ("Was zahlt der Peiner Kreis?", {"peine"}),
        ("Gibt es ein Leipziger Forum?", {"leipzig"}),
        ("Was fordert die Nordthüringer Erklärung?", {"nordthuringen"}),
        ("Was tun die mitteldeutschen Länder?", {"mitteldeutschland"}),
        ("Der Leiter und die Bürger", set()),  # ordinary nouns on -er
        ("Mit dem Hammer", set()),  # a word of its own, not Hamm
        ("Wer sind die Mitglieder?", set()),
    ],
)
def test_adjectives_name_their_place(text: str, places: set[str]) -> None:
    assert places_in(text) == places
