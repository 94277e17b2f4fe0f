"""bot/answer/clauses.py without an encoder: which part of a two-part question an answer leaves open."""

from __future__ import annotations

import pytest

from bot.answer import clauses
from bot.answer.clauses import asks, held_share, new_part, open_clause
from bot.text import tokens


def weigh(text: str) -> dict[str, float]:
    return {t: 1.0 for t in tokens(text)}


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("welchen Teil der Fläche umfasst sie?", True),
        ("wer leitet sie?", True),
        ("what is its budget?", True),
        ("mit welchem Regionalmanagement ist es verbunden?", True),
        ("Mobilität?", False),  # "AG Verkehr und Mobilität": a name, no question
        ("die Stadt Halle", False),
    ],
)
def test_a_later_clause_must_ask_on_its_own(clause: str, expected: bool) -> None:
    assert asks(clause) is expected


def test_the_open_clause_is_the_one_the_answer_lacks() -> None:
    question = "Wie viele Akteure arbeiten zusammen, und welchen Teil der Fläche umfasst die Region?"
    covers_second = set(tokens("Das Gebiet umfasst ein Drittel der Fläche der Region."))
    assert open_clause(question, covers_second, weigh, {}) == (0, "Wie viele Akteure arbeiten zusammen")
    covers_first = set(tokens("Rund 150 Akteure arbeiten in der Region zusammen."))
    assert open_clause(question, covers_first, weigh, {}) == (
        1,
        "welchen Teil der Fläche umfasst die Region?",
    )
    both = covers_first | covers_second
    assert open_clause(question, both, weigh, {}) is None


def test_one_part_questions_and_names_with_und_are_never_split() -> None:
    assert open_clause("Wer leitet die AG Verkehr?", set(), weigh, {}) is None
    assert (
        open_clause("Was macht die AG Verkehr und Mobilität?", set(tokens("AG Verkehr")), weigh, {}) is None
    )


def test_synonyms_count_as_held() -> None:
    weights = {"valu": 1.0, "creation": 1.0}
    alternatives = {"valu": frozenset({"wertschopf"}), "creation": frozenset({"wertschopf"})}
    assert held_share(weights, {"wertschopf"}, alternatives) == 1.0
    assert held_share(weights, {"anderes"}, alternatives) == 0.0


def test_the_second_part_drops_what_the_first_says_and_keeps_its_clause() -> None:
    first = "Die Region ist eine von elf Metropolregionen."
    second = "Die Region ist eine von elf Metropolregionen. Rund 150 Akteure arbeiten mit."
    assert new_part(second, first, {"akteur"}, frozenset()) == "Rund 150 Akteure arbeiten mit."


@pytest.mark.parametrize(
    ("question", "first"),
    [
        ("Wer ist der Vize, und welches Amt hat er?", "Wer ist der Vize"),
        ("Wann war der 6. Regionaldialog und wo fand er statt?", "Wann war der 6. Regionaldialog"),
        ("Was macht die AG Verkehr und Mobilität?", None),  # one question with "und" in a name
        ("Wer leitet das Forum?", None),
        ("Die AG Kultur und welche Themen hat sie?", None),  # the first part asks nothing by itself
    ],
)
def test_first_of_several_questions(question: str, first: str | None) -> None:
    assert clauses.first_of(question) == first


@pytest.mark.parametrize(
    ("message", "reduced"),
    [
        (
            "Wir sind ein Handwerksbetrieb in Nordthüringen und suchen Azubis. Gibt es ein Projekt dafür?",
            "suchen Azubis. Gibt es ein Projekt dafür?",
        ),
        ("Hallo, ich bin Bürgermeisterin im Südharz. Wie melde ich mich an?", "Wie melde ich mich an?"),
        ("We are a company in Leuna. Who chairs the forum?", "Who chairs the forum?"),
        ("Wer leitet das Forum?", None),  # nobody introduces themselves
        ("Sind wir als Verein Mitglied?", None),  # a question, not an introduction
        ("Ich bin Bürgermeister.", None),  # nothing left to ask
    ],
)
def test_the_asker_introducing_themselves_is_left_out(message: str, reduced: str | None) -> None:
    assert clauses.without_intro(message) == reduced
