"""Tokenizer: lemmatisation, folding, compound splitting and how parts are weighted; pure functions, no encoder."""

from __future__ import annotations

import timeit

import pytest

from bot.text import (
    STOPWORDS,
    TOKENIZER_VERSION,
    decompound,
    fold,
    sentences,
    spans,
    split_compound,
    stem,
    tokens,
    unknown_parts,
    vocabulary,
    words,
)


def test_version_is_an_int() -> None:
    assert isinstance(TOKENIZER_VERSION, int) and TOKENIZER_VERSION >= 2


@pytest.mark.parametrize(
    ("form", "base"),
    [
        ("Gremien", "Gremium"),
        ("Ministerien", "Ministerium"),
        ("gegründet", "gründen"),
        ("Städte", "Stadt"),
        ("Termine", "Termin"),
        ("Aufgaben", "Aufgabe"),  # the noun, not "aufgeben"
        ("Arbeit", "Arbeiten"),
        ("foerderung", "Förderung"),
        ("STRASSE", "Straße"),
    ],
)
def test_forms_meet_in_one_term(form: str, base: str) -> None:
    assert tokens(form) == tokens(base)


@pytest.mark.parametrize(
    ("form", "base"), [("fand", "finden"), ("gab", "geben"), ("ging", "gehen"), ("kam", "kommen")]
)
def test_irregular_verbs_meet_their_infinitive(form: str, base: str) -> None:
    assert stem(form) == stem(base)  # "fand" and "gab" are stopwords in questions, not in stems


@pytest.mark.parametrize(("a", "b"), [("Aufgabe", "aufgeben"), ("Vertrieb", "vertreiben"), ("Gast", "gasen")])
def test_nouns_keep_their_own_term(a: str, b: str) -> None:
    assert stem(a.lower()) != stem(b.lower())


def test_words_drop_stopwords_and_split_hyphens() -> None:
    assert words("Wer ist der Ansprechpartner der SEG Mansfeld-Südharz?") == [
        "ansprechpartner",
        "seg",
        "mansfeld",
        "südharz",
    ]
    assert {"wer", "the", "welche", "fuer"} <= STOPWORDS


def test_fold() -> None:
    assert fold("Förderung GROSS Straße") == "forderung gross strasse"


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("Fördermittelberatung", {"fördermittel", "beratung", "mittel"}),
        ("Regionalbudget", {"regional", "budget"}),
        ("Arbeitsschwerpunkte", {"arbeit", "schwerpunkt"}),
        ("Wirtschaftsförderung", {"wirtschaft", "förderung"}),
        ("Gewerbeflächenentwicklungskonzept", {"gewerbe", "fläche", "entwicklung", "konzept"}),
        ("Landkreisverwaltung", {"landkreis", "verwaltung"}),
        ("Koordinierungsgruppe", {"koordinierung", "gruppe"}),
        ("Kooperationsangebote", {"kooperation", "angebot"}),
        ("Holzbau", {"holz", "bau"}),
    ],
)
def test_compounds_split_into_lemmas(word: str, parts: set[str]) -> None:
    assert parts <= set(split_compound(word.lower()))


@pytest.mark.parametrize(
    "word",
    [
        "Beratung",
        "Veranstaltung",
        "Unternehmen",
        "Entwicklung",
        "Vorhaben",
        "Ausstellung",
        "Wirtschaft",
        "AG",
        "Tage",
    ],
)
def test_simple_words_stay_whole(word: str) -> None:
    assert split_compound(word.lower()) == ()


def test_no_split_against_the_words_own_lemma() -> None:
    assert "rinne" not in split_compound("unternehmerinnen")  # "Unternehmerin", not "Unternehmer-Rinne"
    assert "schaft" not in split_compound("wirtschaftsförderung")


def test_document_gets_whole_word_and_each_part_once() -> None:
    vocab = vocabulary(["Fördermittelberatung und Beratung"])
    out = tokens("Fördermittelberatung, Fördermittelberatung", vocab)
    assert out[:2] == [stem("fördermittelberatung")] * 2
    parts = out[2:]
    assert stem("beratung") in parts and stem("fördermittel") in parts
    assert len(parts) == len(set(parts))


def test_part_already_used_as_a_word_is_not_added_again() -> None:
    vocab = vocabulary(["Fördermittelberatung Beratung"])
    out = tokens("Fördermittelberatung und Beratung", vocab)
    assert out.count(stem("beratung")) == 1


def test_query_compound_the_index_lacks_is_split() -> None:
    terms = tokens("Gibt es eine Fördermittelberatung?")
    assert terms == [stem("fördermittelberatung")]
    parts = unknown_parts("Gibt es eine Fördermittelberatung?", set(), frozenset())
    assert {stem("fördermittel"), stem("beratung")} <= set(parts)
    assert unknown_parts("Gibt es eine Fördermittelberatung?", set(terms), frozenset()) == []


def test_decompound_falls_back_to_the_corpus_vocabulary() -> None:
    vocab = frozenset({"qwertz", "aufruf"})
    assert decompound("qwertzaufruf", vocab) == ["qwertz", "aufruf"]
    assert decompound("qwertzsaufruf", vocab) == ["qwertz", "aufruf"]  # Fugen-s
    assert decompound("kurz", vocab) == []


def test_vocabulary_keeps_stems_long_enough_for_parts() -> None:
    vocab = vocabulary(["Die AG Verkehr tagt im Rathaus."])
    assert "verkehr" in vocab and "ag" not in vocab


def test_spans_point_into_the_text() -> None:
    text = "Die AG Verkehr tagt."
    assert [(s, text[a:b]) for s, a, b in spans(text)] == [
        ("ag", "AG"),
        (stem("verkehr"), "Verkehr"),
        (stem("tagt"), "tagt"),
    ]


def test_sentences_keep_ordinals_and_abbreviations() -> None:
    text = "Der 8. Regionaldialog fand statt. Vorsitz (z. B. Dr. Müller) hat die SEG. Danach kam Kaffee."
    assert sentences(text) == [
        "Der 8. Regionaldialog fand statt.",
        "Vorsitz (z. B. Dr. Müller) hat die SEG.",
        "Danach kam Kaffee.",
    ]


def test_tokenising_a_question_is_fast() -> None:
    question = "Wer ist Ansprechpartnerin für die Fördermittelberatung im Landkreis Mansfeld-Südharz?"
    tokens(question)
    seconds = timeit.timeit(lambda: tokens(question), number=200) / 200
    assert seconds < 0.001
