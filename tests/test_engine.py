"""Answer engine: quality on the dev set and XQuAD, time-relative answers, abstention, incremental and atomic builds."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.answer import Engine
from bot.cli import app
from bot.config import Config, EmbeddingSettings
from bot.embedding import EncoderError, load_encoder
from bot.evaluation import evaluate, load_cases, retrieval_metrics, xquad_knowledge
from bot.index import BuildError, build_index, current_build, load_index, stale_reason

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
needs_eval = pytest.mark.skipif(not EVAL.exists(), reason="shared/eval not beside the repository")


@pytest.fixture(scope="module")
def engine(config: Config, encoder, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine.load(config, index_dir=tmp_path_factory.mktemp("index"), encoder=encoder)


def small_knowledge(folder: Path, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test.yaml").write_text(
        """\
defaults:
  source: {document: Testquelle, as_of: 2024-02}
  updated: 2026-11-01
entries:
  - id: seg
    type: organisation
    title: SEG Mansfeld-Südharz
    text: Die Standortentwicklungsgesellschaft Mansfeld-Südharz (SEG) organisiert den Regionaldialog.
    name: SEG
    kind: gmbh
  - id: info-kontakt
    type: contact
    title: Kontakt SEG
    text: Fragen zum Regionaldialog beantwortet die SEG unter info@seg-msh.de.
    person: SEG Mansfeld-Südharz
    organisation: seg
    email: info@seg-msh.de
  - id: rd-1
    type: event
    title: Erster Regionaldialog
    text: Der erste Regionaldialog fand am 29.09.2021 statt; Thema war Mobilität.
    series: Regionaldialog
    number: 1
    date: 2021-09-29
    topic: Mobilität
    organiser: seg
    contacts: [info-kontakt]
  - id: rd-2
    type: event
    title: Zweiter Regionaldialog
    text: Der zweite Regionaldialog soll Ende April 2024 zum Thema Energie stattfinden.
    series: Regionaldialog
    number: 2
    date: Ende April 2024
    status: geplant
    topic: Energie
    contacts: [info-kontakt]
  - id: aufruf
    type: funding_call
    title: Förderaufruf Wasserstoff
    text: Der Förderaufruf zu Wasserstoff und Digitalisierung läuft vom 21.03.2024 bis 31.05.2024.
    programme: Testprogramm Wasserstoff
    opens: 2024-03-21
    closes: 2024-05-31
    topics: [Wasserstoff, Digitalisierung]
    contacts: [info-kontakt]
"""
        + extra,
        encoding="utf-8",
    )
    return folder


# --------------------------------------------------------------------------- quality


@needs_eval
def test_dev_set_targets(engine: Engine) -> None:
    report = evaluate(engine, load_cases(EVAL / "dev_questions.yaml"))
    summary = report.summary()
    failed = [r.case.id for r in report.results if not r.passed and r.case.kind != "near_miss"]
    assert summary["answer_accuracy"] >= 0.90, failed
    assert summary["abstention_accuracy"] >= 0.90, failed
    assert summary["median_answer_chars"] <= 450 and summary["max_answer_chars"] <= 900


@pytest.mark.slow
@needs_eval
def test_xquad_recall_through_own_build(config: Config, encoder, tmp_path: Path) -> None:
    pairs = xquad_knowledge(EVAL / "xquad.de.json", tmp_path / "knowledge")
    xq = Engine.load(
        config, knowledge_dir=tmp_path / "knowledge", index_dir=tmp_path / "index", encoder=encoder
    )
    metrics = retrieval_metrics(xq, pairs)
    assert metrics["questions"] == 1190
    assert metrics["recall_at_1"] >= 0.91


def test_answers_are_german_sourced_and_short(engine: Engine) -> None:
    answer = engine.ask("Wer hat den Vorsitz im Regionalforum Halle?")
    assert answer.found and "Bannert" in answer.text
    assert answer.source_note.startswith("Quelle") and answer.sources[0].type
    assert len(answer.plain()) <= 700


def test_english_and_umlaut_free_questions(engine: Engine) -> None:
    assert "Wachholz" in engine.ask("who is the project manager for energy at the SEG?").plain()
    assert "Ernährungswirtschaft" in engine.ask("welche branchen will die ag wirtschaft staerken?").plain()


def test_abstains_on_unrelated_questions(engine: Engine) -> None:
    for question in (
        "Wie backe ich einen Käsekuchen?",
        "Who won the 2014 football world cup?",
        "",
        "   ",
        "🙂🙂",
    ):
        answer = engine.ask(question)
        assert not answer.found, question
        assert "keine Antwort" in answer.text


# --------------------------------------------------------------------------- time-relative


def test_next_event_after_today_soonest_first(config: Config, encoder, tmp_path: Path) -> None:
    small = Engine.load(
        config, knowledge_dir=small_knowledge(tmp_path / "k"), index_dir=tmp_path / "i", encoder=encoder
    )
    answer = small.ask("Wann ist der nächste Regionaldialog?", today=date(2024, 3, 1))
    assert answer.found and answer.intent == "event"
    assert "Ende April 2024" in answer.text and "Energie" in answer.text and "info@seg-msh.de" in answer.text
    assert "29.09.2021" not in answer.text


def test_no_upcoming_event_says_so_and_names_latest(config: Config, encoder, tmp_path: Path) -> None:
    small = Engine.load(
        config, knowledge_dir=small_knowledge(tmp_path / "k"), index_dir=tmp_path / "i", encoder=encoder
    )
    answer = small.ask("Wann ist der nächste Regionaldialog?", today=date(2026, 11, 21))
    assert "kein kommender Termin" in answer.text
    assert not answer.found and answer.intent == "partial"  # what was asked is unknown; the latest is shown
    assert "Zuletzt: 2. Regionaldialog Ende April 2024" in answer.text and "info@seg-msh.de" in answer.text


def test_funding_call_status_depends_on_today(config: Config, encoder, tmp_path: Path) -> None:
    small = Engine.load(
        config, knowledge_dir=small_knowledge(tmp_path / "k"), index_dir=tmp_path / "i", encoder=encoder
    )
    open_now = small.ask("Gibt es einen Förderaufruf zu Wasserstoff?", today=date(2024, 4, 1))
    assert "Offen: Der Aufruf läuft vom 21.03.2024 bis 31.05.2024" in open_now.text
    closed = small.ask("Gibt es einen Förderaufruf zu Wasserstoff?", today=date(2025, 1, 1))
    assert "Abgelaufen: Der Aufruf lief vom 21.03.2024 bis 31.05.2024" in closed.text
    overview = small.funding_overview(date(2024, 1, 1))
    assert "Noch nicht geöffnet" in overview.text and "info@seg-msh.de" in overview.text


def test_shipped_time_relative_questions(engine: Engine) -> None:
    answer = engine.ask("Wann ist der nächste Regionaldialog?", today=date(2024, 3, 1))
    assert "13.06.2024" in answer.text
    assert "20.02.2024" not in answer.text


# --------------------------------------------------------------------------- index


def test_incremental_build(config: Config, encoder, tmp_path: Path) -> None:
    knowledge, index = small_knowledge(tmp_path / "k"), tmp_path / "i"
    first = build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
    assert first.embedded == 5 and first.reused == 0
    again = build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
    assert again.skipped
    path = knowledge / "test.yaml"
    text = path.read_text(encoding="utf-8").replace("Thema war Mobilität.", "Thema war Radverkehr.")
    path.write_text(
        text.replace(
            "  - id: aufruf",
            "  - id: neu\n    type: info\n    title: Neu\n    text: Ganz neu.\n  - id: aufruf-weg",
        ),
        encoding="utf-8",
    )
    report = build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
    # rd-1 changed and "neu" added are embedded; the renamed call keeps its vectors (same content)
    assert (report.embedded, report.reused) == (2, 4)
    assert report.removed == 1
    assert {e.id for e in load_index(index).entries} >= {"neu", "aufruf-weg"}


def test_invalid_knowledge_keeps_previous_index(config: Config, encoder, tmp_path: Path) -> None:
    knowledge, index = small_knowledge(tmp_path / "k"), tmp_path / "i"
    build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
    before = current_build(index)
    (knowledge / "broken.yaml").write_text("entries:\n  - id: x\n    type: event\n    title: [kaputt\n")
    with pytest.raises(BuildError) as err:
        build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
    assert "broken.yaml:5: YAML-Syntaxfehler" in err.value.problems[0] and "Zeile 4" in err.value.problems[0]
    assert current_build(index) == before
    assert len(load_index(index).entries) == 5


def test_crash_mid_build_keeps_previous_index(config: Config, encoder, tmp_path: Path, monkeypatch) -> None:
    knowledge, index = small_knowledge(tmp_path / "k"), tmp_path / "i"
    build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
    before = current_build(index)
    small_knowledge(
        knowledge, "  - id: extra\n    type: info\n    title: Extra\n    text: Noch ein Eintrag.\n"
    )

    def crash(*args, **kwargs):
        raise OSError("Datenträger voll")

    monkeypatch.setattr("bot.index.faiss.write_index", crash)
    with pytest.raises(OSError):
        build_index(config, encoder, knowledge_dir=knowledge, index_dir=index)
    assert current_build(index) == before
    assert len(load_index(index).entries) == 5
    monkeypatch.undo()
    assert build_index(config, encoder, knowledge_dir=knowledge, index_dir=index).embedded == 1
    assert not list((index / "builds").glob(".tmp-*"))


def test_stale_index_detected_and_rebuilt_by_engine(config: Config, encoder, tmp_path: Path) -> None:
    knowledge, index = small_knowledge(tmp_path / "k"), tmp_path / "i"
    engine = Engine.load(config, knowledge_dir=knowledge, index_dir=index, encoder=encoder)
    assert not engine.stale
    small_knowledge(
        knowledge,
        "  - id: extra\n    type: info\n    title: Extra\n    text: Die Bibliothek öffnet um 9 Uhr.\n",
    )
    assert engine.stale and stale_reason(engine.index.manifest, config, encoder.name, knowledge)
    assert engine.reload() == []
    assert not engine.stale and engine.ask("Wann öffnet die Bibliothek?").found


@pytest.mark.slow
def test_missing_model_names_the_setting() -> None:
    with pytest.raises(EncoderError, match=r"embedding\.model"):
        load_encoder(EmbeddingSettings(backend="sentence-transformers", model="/nicht/vorhanden/modell"))
    with pytest.raises(EncoderError, match=r"embedding\.model"):
        load_encoder(EmbeddingSettings(backend="sentence-transformers", model="org/model-only-on-the-hub"))


@pytest.mark.slow  # loads a second encoder
def test_bundled_minilm_loads_offline() -> None:
    encoder = load_encoder(EmbeddingSettings(backend="sentence-transformers"))
    vectors = encoder.encode(["Regionaldialog in Mansfeld-Südharz", "Förderaufruf"])
    assert vectors.shape == (2, encoder.dim) and encoder.dim == 384
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-4


# --------------------------------------------------------------------------- CLI


@pytest.mark.slow  # the CLI loads its own engine
def test_cli_ask_json_reads_stdin_in_order(tmp_path: Path) -> None:
    knowledge = small_knowledge(tmp_path / "k")
    config_file = tmp_path / "config.yaml"
    config_file.write_text(f"knowledge_dir: {knowledge}\nindex_dir: {tmp_path / 'i'}\ntoday: 2024-03-01\n")
    result = CliRunner().invoke(
        app,
        ["ask", "--json", "--config", str(config_file)],
        input="Wann ist der nächste Regionaldialog?\nWie backe ich Brot?\n\nGibt es Förderung für Wasserstoff?\n",
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.strip().splitlines()]
    assert [line["question"] for line in lines] == [
        "Wann ist der nächste Regionaldialog?",
        "Wie backe ich Brot?",
        "Gibt es Förderung für Wasserstoff?",
    ]
    assert [line["found"] for line in lines] == [True, False, True]
    assert lines[0]["intent"] == "event" and "Ende April 2024" in lines[0]["answer"]
    assert set(lines[2]["sources"][0]) == {"id", "title", "type", "score"}


@pytest.mark.slow  # the CLI loads its own engine
def test_cli_build_reports_invalid_knowledge(tmp_path: Path) -> None:
    knowledge = small_knowledge(tmp_path / "k", "  - id: bad\n    type: info\n    title: Bad\n")
    result = CliRunner().invoke(app, ["build", "--knowledge", str(knowledge), "--index", str(tmp_path / "i")])
    assert result.exit_code == 1
    assert "test.yaml:" in result.output and "Pflichtfeld „text“ fehlt" in result.output


def test_generic_questions_get_overviews(engine: Engine) -> None:
    funding = engine.ask("Welche Förderaufrufe laufen gerade?", today=date(2024, 4, 1))
    assert funding.found and funding.intent == "funding"
    assert "Offen: Der Aufruf läuft vom 21.03.2024 bis 31.05.2024" in funding.text
    upcoming = engine.ask("Welche Termine stehen an?", today=date(2024, 4, 1))
    assert upcoming.found and "Ende April 2024" in upcoming.text and "13.06.2024" in upcoming.text
    assert upcoming.text.index("Ende April 2024") < upcoming.text.index("13.06.2024")


def test_next_something_unknown_is_not_an_event_question(engine: Engine) -> None:
    assert not engine.ask("Wann fährt der nächste Zug von Halle nach Berlin?").found
    assert not engine.ask("Welche Förderprogramme gibt es in Bayern für Landwirte?").found


def test_whom_to_contact_names_a_person(engine: Engine) -> None:
    answer = engine.ask("Wen kann ich zum Thema Radverkehr kontaktieren?")
    people = [e.person for e in engine.index.entries if e.type == "contact"]
    assert answer.found and any(person in answer.text for person in people)
    assert (
        engine.ask("Wer ist Ansprechpartner bei der SEG für Wertschöpfungspotentiale?").sources[0].type
        == "contact"
    )


def test_numbered_event_by_ordinal(engine: Engine) -> None:
    assert "Allstedt" in engine.ask("Where was the seventh Regionaldialog held?").text
    assert "Wettelrode" in engine.ask("Wo war der 5. Regionaldialog?").text


def test_known_topic_unknown_fact_is_declined(engine: Engine) -> None:
    for question in (
        "Welche Telefonnummer hat die SEG?",
        "Wie hoch ist das Budget der PG MINT?",
        "Wie viel Geld steht im Regionalbudget Nordthüringen pro Jahr zur Verfügung?",
    ):
        assert not engine.ask(question).found, question
    assert engine.ask("Was ist die E-Mail-Adresse der SEG?").found


def test_organisation_answer_names_chair_and_deputy(engine: Engine) -> None:
    text = engine.ask("Wer ist der Chef vom Regionalforum Halle?").text
    assert "Bannert" in text and "Wiegand" in text


@pytest.mark.slow  # the CLI loads its own engine
def test_cli_chat_answers_until_exit(tmp_path: Path) -> None:
    knowledge = small_knowledge(tmp_path / "k")
    config_file = tmp_path / "config.yaml"
    config_file.write_text(f"knowledge_dir: {knowledge}\nindex_dir: {tmp_path / 'i'}\n")
    result = CliRunner().invoke(
        app,
        ["chat", "--config", str(config_file), "--today", "2024-03-01"],
        input="Wann ist der nächste Regionaldialog?\n/foerderung\nexit\nNicht mehr gefragt\n",
    )
    assert result.exit_code == 0, result.output
    assert "Ende April 2024" in result.output and "Noch nicht geöffnet" in result.output
    assert "Nicht mehr gefragt" not in result.output


# --------------------------------------------------------------------------- answers that generalise


def test_no_path_bypasses_the_decision(engine: Engine) -> None:
    """Next events, lists and numbered events are declined when the question names what the knowledge lacks."""
    for question in (
        "Wann ist der nächste Regionaldialog in Bremen?",
        "Welche Termine stehen beim Bürgeramt Leipzig an?",
        "Wer leitet das Regionalforum Dresden?",
        "Welche Arbeitsgruppen hat die Metropolregion Nürnberg?",
        "Wie viele Einwohner hat Magdeburg?",
        "Gibt es aktuell Förderaufrufe für Lastenräder?",
    ):
        assert not engine.ask(question, today=date(2024, 3, 1)).found, question


def test_a_covered_place_alone_answers_nothing(engine: Engine) -> None:
    """Off-domain questions about towns the knowledge covers are declined; questions about its bodies are not."""
    for question in (
        "Wie wird das Wetter morgen in Halle (Saale)?",
        "Wann fährt der nächste Zug von Halle nach Leipzig?",
        "Wie hoch ist der Brocken im Harz?",
        "Wer ist derzeit Ministerpräsident in Sachsen-Anhalt?",  # a word the knowledge never uses
    ):
        assert not engine.ask(question, today=date(2024, 3, 1)).found, question
    assert engine.ask("Wer leitet das Regionalforum Halle (Saale)?").found
    assert engine.ask("Wie viele Menschen wohnen im Verbund um Hannover, Braunschweig und Göttingen?").found


def test_who_is_the_contact_needs_a_person(engine: Engine) -> None:
    """A project without a named contact gets a partial answer; a topic with one gets the person."""
    missing = engine.ask("Wer ist Ansprechpartner für das Projekt Schule trifft Wirtschaft?")
    assert not missing.found and missing.intent == "partial"
    energy = engine.ask("Wer ist bei der SEG Ansprechpartner für Energie?")
    assert energy.found and "Wachholz" in energy.text
    group = engine.ask("An welche AG der Metropolregion Mitteldeutschland wende ich mich zur Raumordnung?")
    assert group.found  # a body answers "an welche AG …?"


def test_a_second_question_does_not_drown_the_first(engine: Engine) -> None:
    """The whole question matches too weakly; its first part alone is answered (the rest where possible)."""
    answer = engine.ask("Wer ist beim Regionalforum Halle der Vize, und welches Amt hat er im Hauptberuf?")
    assert answer.found and "Wiegand" in answer.text
    assert not engine.ask("Wie wird das Wetter in Halle, und wann regnet es wieder?").found


def test_a_linked_entry_adds_what_the_answer_lacks_also_as_a_synonym(engine: Engine) -> None:
    """ "für die Zukunft geplant": the linked project says "perspektivisch", a synonym of "Zukunft"."""
    answer = engine.ask("Was plant die PG MINT Mitteldeutschland für die Zukunft?")
    assert answer.found and "Informationsplattform" in answer.text
    plain = engine.ask("Was macht die Projektgruppe MINT Mitteldeutschland?")
    assert plain.found and "Informationsplattform" not in plain.text  # nothing lacking: nothing added


def test_a_numbered_event_is_searched_as_the_knowledge_writes_it(engine: Engine) -> None:
    """ "the seventh Regionaldialog" is found as "7. Regionaldialog" – in English too."""
    answer = engine.ask("What was the topic of the seventh Regionaldialog?")
    assert answer.found and "Digitalisierung" in answer.text


def test_who_asks_does_not_drown_what_they_ask(engine: Engine) -> None:
    """An introduction with a town of its own ("… in Leuna") neither dilutes the question nor names its place."""
    answer = engine.ask(
        "Wir sind ein Chemiebetrieb in Leuna. Wer hat den Vorsitz im Regionalforum Halle, wo Politik und "
        "Wirtschaft zusammenkommen?"
    )
    assert answer.found and "Bannert" in answer.text
    assert not engine.ask("Wir sind ein Chemiebetrieb in Leuna. Wie wird morgen das Wetter?").found


def test_a_yes_no_question_about_a_member_says_yes_when_the_list_has_it(engine: Engine) -> None:
    answer = engine.ask("Ist die Stadt Zwickau in der Projektgruppe Elektromobilität dabei?")
    assert answer.found and answer.text.startswith("Ja – Stadt Zwickau gehört dazu.")
    listed = engine.ask("Wer ist in der Projektgruppe Elektromobilität vertreten?")
    assert listed.found and not listed.text.startswith("Ja")  # no yes/no question


def test_the_name_of_a_role_holder_only_from_a_named_person(engine: Engine) -> None:
    known = engine.ask(
        "Wie heißt die Geschäftsführerin der Standortentwicklungsgesellschaft Mansfeld-Südharz?"
    )
    assert known.found and "zur Horst-Schuster" in known.text
    unknown = engine.ask("Wie heißt der Leiter des Regionalmanagements Nordthüringen?")
    assert not unknown.found  # the knowledge names nobody


def test_keyword_idioms_do_not_route(engine: Engine) -> None:
    """ "in erster Linie", "künftig", "erreichen" and "Regionalbudget" are no ordinal, next-event, contact or money cues."""
    answer = engine.ask("Was will die SEG mit dem Regionaldialog in erster Linie erreichen?")
    assert answer.intent != "event" or "Nächste Termine" not in answer.text
    assert "Nächste Termine" not in engine.ask("Wie soll die Zusammenarbeit künftig aussehen?").text
    budget = engine.ask("Was fördert das Regionalbudget Nordthüringen?")
    assert budget.found and "Regionalbudget" in budget.text


def test_partial_answer_for_a_known_topic_with_an_unknown_detail(engine: Engine) -> None:
    answer = engine.ask("Hat Madlen Beyer eine Telefonnummer?")
    assert not answer.found and answer.intent == "partial"
    assert "Telefonnummer" in answer.text and "nennen meine Quellen nicht" in answer.text
    assert "Madlen Beyer" in answer.text and not any(
        ch.isdigit() for ch in answer.text.split("Bekannt ist")[0]
    )
    assert answer.as_json()["found"] is False and set(answer.as_json()) >= {
        "question",
        "found",
        "answer",
        "sources",
    }


def test_structured_fields_answer_field_questions(engine: Engine) -> None:
    members = engine.ask("Wer sind die Mitglieder im Regionalforum Halle?")
    assert members.found and "Verwaltung" in members.text and "Wissenschaft" in members.text
    focus = engine.ask("Was sind die Arbeitsschwerpunkte des Regionalforums Halle?")
    assert focus.found and focus.text.count("•") >= 5


def test_funding_answer_names_contacts_and_deadline_status(engine: Engine) -> None:
    answer = engine.ask("Wer berät Unternehmen zum Förderaufruf UNTERNEHMEN REVIER?", today=date(2024, 4, 1))
    assert answer.found and "Mertens" in answer.plain() and "31.05.2024" in answer.plain()


def test_answers_are_whole_sentences(engine: Engine) -> None:
    for question in (
        "Was macht die AG Wissenschaft und Forschung?",
        "Welche Themen hatte der Regionaldialog zur Fachkräftesicherung?",
        "Was ist das Ziel von Schule trifft Wirtschaft?",
    ):
        answer = engine.ask(question)
        assert answer.found and "…" not in answer.text, question
        assert len(answer.plain()) <= 900


def test_a_persons_own_detail_never_comes_from_an_office_address(engine: Engine) -> None:
    """ "Die Mailadresse von Henning Mertens" is his, or unknown – not the SEG's info@ address."""
    answer = engine.ask("Wie lautet die E-Mail-Adresse von Henning Mertens?")
    assert not answer.found
    office = engine.ask("Welche E-Mail-Adresse hat die SEG?")  # negative: an office's address is answered
    assert office.found and "info@seg-msh.de" in office.text


def test_an_event_without_a_venue_has_no_place(engine: Engine) -> None:
    """An event's place is its `place` field: the Landkreis its topic names is no venue."""
    unknown = engine.ask("Wo findet der Regionaldialog am 13.06.2024 statt?")
    assert not unknown.found and unknown.intent == "partial" and "13.06.2024" in unknown.text
    known = engine.ask("Wo fand der 5. Regionaldialog statt?")  # negative: a filled place answers
    assert known.found and "Wettelrode" in known.text


def test_a_date_in_the_question_prefers_the_entry_about_that_day(engine: Engine) -> None:
    answer = engine.ask("Worum ging es beim Regionaldialog im Januar 2022?")
    assert answer.found and "19.01.2022" in answer.text
    later = engine.ask("Worum ging es beim Regionaldialog im Oktober 2022?")
    assert later.found and "12.10.2022" in later.text and "19.01.2022" not in later.text


def test_two_asked_fields_are_both_answered(engine: Engine) -> None:
    answer = engine.ask("Seit wann gibt es das Regionalforum Halle und wer hat dort den Vorsitz?")
    assert answer.found and "1996" in answer.text and "Bannert" in answer.text
    single = engine.ask(
        "Wer ist stellvertretender Vorsitzender im Regionalforum Halle?"
    )  # negative: one field
    assert single.found and "Wiegand" in single.text and "1996" not in single.text


def test_the_entry_holding_the_asked_field_beats_one_of_its_kind(engine: Engine) -> None:
    """The forum's focus_areas answer "Schwerpunkte", not its working group (also an organisation)."""
    answer = engine.ask("Welche Schwerpunkte setzt das Regionalforum Halle?")
    assert answer.found and answer.text.count("•") >= 5 and "Daseinsvorsorge" in answer.text


def test_a_linked_entry_adds_what_the_chosen_one_lacks(engine: Engine) -> None:
    """The event says where; its linked ÖPNV part names the buses."""
    answer = engine.ask("Welche Busangebote gab es beim Regionaldialog in Wettelrode?")
    assert answer.found and "Wettelrode" in answer.text and "RadBus" in answer.text
    when = engine.ask(
        "Wann war der Regionaldialog in Wettelrode?"
    )  # negative: nothing lacking, nothing added
    assert when.found and "12.10.2022" in when.text and "RadBus" not in when.text


def test_a_synonym_in_the_passage_covers_the_questions_word(engine: Engine) -> None:
    """An English question's "value creation" is held by a passage that says "Wertschöpfung" (synonyme.yaml)."""
    answer = engine.ask("Who should I talk to at the SEG about value creation potentials?")
    assert answer.found and "Florian Schmidt" in answer.text
    weather = engine.ask(
        "Who should I talk to about the weather in Bremen?"
    )  # negative: no synonym, no answer
    assert not weather.found


def test_a_two_part_question_gets_both_parts_from_two_entries(engine: Engine) -> None:
    answer = engine.ask(
        "Seit wann gibt es die Steuerungsgruppe zur Gewerbeflächenentwicklung, und was ist das erste Vorhaben "
        "der daraus entstandenen Projektgruppe?"
    )
    assert answer.found and "2009" in answer.text and "Potenzialstudie" in answer.text
    assert len(answer.text) + len(answer.source_note) <= 900
    one = engine.ask("Seit wann gibt es die Steuerungsgruppe zur Gewerbeflächenentwicklung?")  # negative
    assert one.found and "2009" in one.text and "Potenzialstudie" not in one.text


def test_a_count_is_no_list_of_names(engine: Engine) -> None:
    """ "Welche … genau?" when the text only says how many: a partial answer, never the count as the list."""
    answer = engine.ask("Welche UNESCO-Welterbestätten gibt es in Mitteldeutschland genau?")
    assert not answer.found
    groups = engine.ask(
        "Welche Arbeitsgruppen hat die Europäische Metropolregion Mitteldeutschland?"
    )  # negative
    assert groups.found and "AG Verkehr und Mobilität" in groups.text


def test_who_questions_prefer_a_person(engine: Engine) -> None:
    answer = engine.ask("Wer koordiniert den Strukturwandel bei der SEG?")
    assert answer.found and "Ermrich" in answer.text
    body = engine.ask(
        "Wer fördert das Projekt Strategische Kooperationsregionen?"
    )  # negative: a body answers
    assert body.found and "Regionalmanagement Nordthüringen" in body.text


def test_a_next_meeting_is_not_a_founding_year(engine: Engine) -> None:
    answer = engine.ask("Wann ist die nächste Sitzung der Koordinierungsgruppe des Regionalforums Halle?")
    assert not answer.found and "1996" not in answer.text.split("Bekannt ist")[0]
    founded = engine.ask("Wann wurde das Regionalforum Halle gegründet?")  # negative: a past date is asked
    assert founded.found and "1996" in founded.text


def test_polite_fillers_do_not_count_against_an_answer(engine: Engine) -> None:
    answer = engine.ask(
        "Kann mir jemand bei der SEG zu Wertschöpfungspotentialen weiterhelfen, wer ist da zuständig?"
    )
    assert answer.found and "Florian Schmidt" in answer.text
    weather = engine.ask("Kann mir jemand beim Wetter für morgen weiterhelfen?")  # negative: nothing to find
    assert not weather.found
