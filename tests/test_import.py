"""`regiobot import`: documents of every supported kind become draft knowledge that passes `regiobot check`.

All documents are made here: a web page with navigation, cookie banner and footer, Markdown, plain text, a PDF
written byte by byte and a DOCX from python-docx. Re-imports show what changed and keep what staff checked.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app
from bot.importer import (
    DocumentError,
    clean_text,
    import_document,
    is_boilerplate,
    read_document,
    slug,
)
from bot.knowledge import load_knowledge

TODAY = date(2024, 3, 1)

PAGE = """<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>Regionaldialog – SEG Mansfeld-Südharz</title>
<link rel="canonical" href="https://www.example.org/regionaldialog"></head>
<body>
<div id="cookie-banner" class="cookie-notice">Wir verwenden Cookies, um unsere Webseite optimal zu gestalten.
Mit der Nutzung stimmen Sie zu. <button>Alle akzeptieren</button></div>
<noscript>JavaScript ist deaktiviert. Bitte aktivieren Sie JavaScript.</noscript>
<p class="hinweis">JavaScript ist deaktiviert. Einige Funktionen stehen nicht zur Verfügung.</p>
<header><a href="/">Logo</a><nav><ul><li><a href="/">Startseite</a></li><li><a href="/projekte">Projekte</a>
</li><li><a href="/kontakt">Kontakt</a></li></ul></nav></header>
<div class="breadcrumb"><a href="/">Startseite</a> &gt; <a href="/projekte">Projekte</a> &gt; Regionaldialog</div>
<main>
<h1>Regionaldialog</h1>
<p>Stand: 20.02.2024</p>
<h2>Austausch zum Strukturwandel</h2>
<p>Der Regionaldialog ist eine Veranstaltungsreihe der Standortentwicklungsgesellschaft Mansfeld-Südharz
zum Strukturwandel im Landkreis Mansfeld-Südharz.</p>
<p>Der nächste Regionaldialog findet am 13.06.2024 in der Kulturscheune Sangerhausen statt. Thema ist die
Energiepotentialanalyse für den Landkreis.</p>
<p><a href="/programm.pdf">Programm zum Regionaldialog (PDF, 120 KB)</a></p>
<h2>Förderaufruf UNTERNEHMEN REVIER</h2>
<p>Der Förderaufruf im Bundesmodellvorhaben UNTERNEHMEN REVIER läuft vom 21.03.2024 bis 31.05.2024.
Gefördert werden Vorhaben zu Wasserstoff, Kreislaufwirtschaft und Digitalisierung.</p>
<p>Die Unterlagen stehen in der <a href="/richtlinie.pdf">Förderrichtlinie (PDF)</a> auf dieser Seite.</p>
<h2>Ansprechpartnerin</h2>
<p>Madlen Beyer, Leiterin der Wirtschaftsförderung<br>Telefon 03464 123456<br>
E-Mail: <a href="mailto:beyer@seg-msh.de">beyer@seg-msh.de</a></p>
</main>
<footer><p>© 2024 SEG Mansfeld-Südharz</p><ul><li><a href="/impressum">Impressum</a></li>
<li><a href="/datenschutz">Datenschutz</a></li></ul></footer>
</body></html>
"""

MARKDOWN = """\
# Arbeitsgruppe Tourismus

Die AG Tourismus der Metropolregion vernetzt Tourismusverbände, Landkreise und Städte. Sie trifft sich
zweimal im Jahr und stimmt gemeinsame Marketingaktionen ab.

## Aufgaben

Die Arbeitsgruppe hat drei Aufgaben:

- gemeinsame Radrouten vermarkten
- Messeauftritte abstimmen
- Daten zu Übernachtungen auswerten

[Mehr erfahren](https://www.example.org/tourismus)

## Kontakt

Fragen an die Geschäftsstelle bitte per E-Mail an tourismus(at)example.org senden.
"""

TEXT = """\
Der Eintrag "offcanvas-col1" existiert leider nicht.

Projekte

Schule trifft Wirtschaft

Das Projekt „Schule trifft Wirtschaft“ führt die Unternehmen der Region mit Schülerinnen und Schülern zusammen.
Die Firmen kommen gebündelt zu den Schulen und stellen dort ihre Ausbildungsberufe vor.

Kali-Masterplan

Der Kali-Masterplan beschreibt, wie die Region die Folgen des Kalibergbaus gemeinsam angehen will.

Warning: Attempt to read property "post_content" on null in /var/www/functions.php on line 105
x
"""


def pdf_bytes(lines: list[str], title: str | None = None) -> bytes:
    """A one-page PDF with one line of Helvetica per string, written by hand (no generator library)."""

    def literal(text: str) -> bytes:
        raw = text.encode("cp1252")
        return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"

    content = (
        b"BT /F1 11 Tf 14 TL 56 800 Td " + b" ".join(literal(line) + b" Tj T*" for line in lines) + b" ET"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    if title:
        objects.append(b"<< /Title " + literal(title) + b" >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    info = b" /Info %d 0 R" % len(objects) if title else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, info, xref)
    return bytes(out)


PDF_LINES = [
    "Regionalmanagement Nordthüringen",
    "Das Regionalmanagement Nordthüringen unterstützt Unternehmen und Kommunen bei der Entwicklung",
    "der Wirtschaftsregion und arbeitet dabei eng mit den Landkreisen zusammen.",
    "Gewerbeflächen",
    "Das Gewerbeflächenentwicklungskonzept erfasst alle Gewerbestandorte der Region und ihre Erweite-",
    "rungsmöglichkeiten. Anträge für das Förderprogramm Gewerbeflächen sind bis zum 30.09.2024 möglich.",
    "Seite 1 von 1",
]


def write_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Klimaschutz im Saalekreis"
    document.add_heading("Klimaschutz im Saalekreis", level=1)
    document.add_paragraph(
        "Der Saalekreis hat ein Klimaschutzkonzept beschlossen, das Maßnahmen für Verwaltung, Unternehmen "
        "und Haushalte bündelt."
    )
    document.add_heading("Beratung", level=2)
    document.add_paragraph(
        "Anna Schmidt, Klimaschutzmanagerin des Landkreises, berät Kommunen zu Förderprogrammen."
    )
    document.add_paragraph("Energieberatung für Kommunen", style="List Bullet")
    document.add_paragraph("Fördermittelberatung", style="List Bullet")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Sprechzeit"
    table.rows[0].cells[1].text = "dienstags 9 bis 12 Uhr"
    document.save(str(path))


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "dokumente"
    folder.mkdir()
    (folder / "regionaldialog.html").write_text(PAGE, encoding="utf-8")
    (folder / "ag-tourismus.md").write_text(MARKDOWN, encoding="utf-8")
    (folder / "projekte.txt").write_text(TEXT, encoding="utf-8")
    (folder / "jahresbericht.pdf").write_bytes(pdf_bytes(PDF_LINES, title="Jahresbericht 2024"))
    write_docx(folder / "Klimaschutz Saalekreis.docx")
    return folder


def entries_of(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["entries"]


def by_type(entries: list[dict], kind: str) -> list[dict]:
    return [e for e in entries if e["type"] == kind]


def check(folder: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["check", str(folder)])
    return result.exit_code, result.output


# --------------------------------------------------------------------------- cleaning


@pytest.mark.parametrize(
    "line",
    [
        "Startseite | Impressum | Datenschutz",
        "Startseite > Projekte > Regionaldialog",
        "© 2024 SEG Mansfeld-Südharz",
        "JavaScript ist deaktiviert.",
        "Bitte aktivieren Sie JavaScript, um alle Funktionen zu nutzen.",
        "Wir verwenden Cookies. Mit der Nutzung der Seite stimmen Sie dem zu.",
        'Der Eintrag "offcanvas-col2" existiert leider nicht.',
        'Warning: Attempt to read property "post_content" on null in /var/www/x.php on line 105',
        "Mehr Informationen zum Forschungsprojekt",
        "Seite 3 von 12",
        "x",
        "|",
    ],
)
def test_boilerplate_lines(line: str) -> None:
    assert is_boilerplate(clean_text(line))


@pytest.mark.parametrize(
    "line",
    [
        "Kontakt",
        "Der Regionaldialog findet am 13.06.2024 statt.",
        "Weitere Informationen erhalten Sie bei Madlen Beyer unter 03464 123456.",
        "AG Tourismus",
    ],
)
def test_content_lines_stay(line: str) -> None:
    assert not is_boilerplate(clean_text(line))


def test_file_labels_and_spaces_are_removed() -> None:
    assert clean_text("Förderrichtlinie (PDF, 1,2 MB)  zum\u00adDownload") == "Förderrichtlinie zumDownload"
    assert clean_text("Bericht (174 KB) und Anlage [PDF]") == "Bericht und Anlage"


def test_slug_is_ascii() -> None:
    assert slug("Förderaufruf Süd 2024 – Straße") == "foerderaufruf-sued-2024-strasse"
    assert len(slug("ein sehr langer Titel mit vielen Wörtern darin und noch mehr", 20)) <= 20


# --------------------------------------------------------------------------- one document of each kind


def test_html_page_becomes_sections_without_boilerplate(docs: Path, tmp_path: Path) -> None:
    result = import_document(docs / "regionaldialog.html", tmp_path / "wissen", TODAY)
    assert result.target == tmp_path / "wissen" / "regionaldialog.yaml"
    text = result.target.read_text(encoding="utf-8")
    for noise in ("Cookies", "JavaScript", "Startseite", "Impressum", "Datenschutz", "©", "(PDF", "120 KB"):
        assert noise not in text
    data = yaml.safe_load(text)
    assert data["defaults"] == {
        "source": {
            "document": "Regionaldialog – SEG Mansfeld-Südharz",
            "file": "regionaldialog.html",
            "url": "https://www.example.org/regionaldialog",
            "as_of": date(2024, 2, 20),
        },
        "updated": TODAY,
    }
    infos = by_type(data["entries"], "info")
    assert [e["title"] for e in infos] == [
        "Austausch zum Strukturwandel",
        "Förderaufruf UNTERNEHMEN REVIER",
        "Ansprechpartnerin",
    ]
    assert "in der Kulturscheune Sangerhausen statt" in infos[0]["text"]
    assert "Förderrichtlinie auf dieser Seite" in infos[1]["text"]
    assert all("review" not in e for e in infos)
    assert [e["id"] for e in infos] == [
        "regionaldialog-austausch-zum-strukturwandel",
        "regionaldialog-foerderaufruf-unternehmen-revier",
        "regionaldialog-ansprechpartnerin",
    ]
    assert result.entries == len(data["entries"]) and result.to_review == 3


def test_html_candidates_are_typed_and_marked_for_review(docs: Path, tmp_path: Path) -> None:
    result = import_document(docs / "regionaldialog.html", tmp_path / "wissen", TODAY)
    entries = entries_of(result.target)
    (event,) = by_type(entries, "event")
    assert event["date"] == date(2024, 6, 13) and event["status"] == "geplant"
    assert event["title"] == "Der nächste Regionaldialog am 13.06.2024"
    assert (
        event["text"]
        == "Der nächste Regionaldialog findet am 13.06.2024 in der Kulturscheune Sangerhausen statt."
    )
    (call,) = by_type(entries, "funding_call")
    assert call["programme"] == "Bundesmodellvorhaben UNTERNEHMEN REVIER"
    assert (call["opens"], call["closes"]) == (date(2024, 3, 21), date(2024, 5, 31))
    (contact,) = by_type(entries, "contact")
    assert contact["person"] == "Madlen Beyer"
    assert contact["role"] == "Leiterin der Wirtschaftsförderung"
    assert contact["email"] == "beyer@seg-msh.de"
    assert "phone" not in contact  # only the fields the importer recognises, the rest stays in the text
    assert all(e["review"] == "offen" for e in (event, call, contact))


def test_markdown_headings_lists_and_obfuscated_address(docs: Path, tmp_path: Path) -> None:
    result = import_document(docs / "ag-tourismus.md", tmp_path / "wissen", TODAY)
    entries = entries_of(result.target)
    assert result.title == "Arbeitsgruppe Tourismus"
    assert [e["title"] for e in by_type(entries, "info")] == [
        "Arbeitsgruppe Tourismus",
        "Aufgaben",
        "Kontakt",
    ]
    tasks = by_type(entries, "info")[1]["text"]
    assert tasks.startswith("Die Arbeitsgruppe hat drei Aufgaben:\n– gemeinsame Radrouten vermarkten")
    assert "Mehr erfahren" not in result.target.read_text(encoding="utf-8")
    (contact,) = by_type(entries, "contact")
    assert contact["email"] == "tourismus@example.org"
    assert (
        contact["person"] == "Arbeitsgruppe Tourismus"
    )  # the document that gives the address, no invented name
    assert contact["review"] == "offen"


def test_plain_text_guesses_headings_and_drops_cms_noise(docs: Path, tmp_path: Path) -> None:
    result = import_document(docs / "projekte.txt", tmp_path / "wissen", TODAY)
    entries = entries_of(result.target)
    text = result.target.read_text(encoding="utf-8")
    assert "offcanvas" not in text and "post_content" not in text
    assert result.title == "Projekte"
    assert [e["title"] for e in entries] == ["Schule trifft Wirtschaft", "Kali-Masterplan"]
    assert entries[0]["text"].endswith("stellen dort ihre Ausbildungsberufe vor.")


def test_pdf_paragraphs_headings_and_deadline(docs: Path, tmp_path: Path) -> None:
    document = read_document(docs / "jahresbericht.pdf")
    assert document.title == "Jahresbericht 2024"
    assert [s.heading for s in document.sections] == ["Regionalmanagement Nordthüringen", "Gewerbeflächen"]
    result = import_document(docs / "jahresbericht.pdf", tmp_path / "wissen", TODAY)
    entries = entries_of(result.target)
    infos = by_type(entries, "info")
    assert "Erweiterungsmöglichkeiten" in infos[1]["text"]  # the hyphenated line end is joined
    assert "Seite 1" not in result.target.read_text(encoding="utf-8")
    (call,) = by_type(entries, "funding_call")
    assert call["programme"] == "Förderprogramm Gewerbeflächen"
    assert call["closes"] == date(2024, 9, 30) and "opens" not in call


def test_docx_headings_lists_tables_and_person(docs: Path, tmp_path: Path) -> None:
    result = import_document(docs / "Klimaschutz Saalekreis.docx", tmp_path / "wissen", TODAY)
    assert result.target.name == "klimaschutz-saalekreis.yaml"
    entries = entries_of(result.target)
    infos = by_type(entries, "info")
    assert [e["title"] for e in infos] == ["Klimaschutz im Saalekreis", "Beratung"]
    assert "– Energieberatung für Kommunen\n– Fördermittelberatung" in infos[1]["text"]
    assert "Sprechzeit | dienstags 9 bis 12 Uhr" in infos[1]["text"]
    (contact,) = by_type(entries, "contact")
    assert (contact["person"], contact["role"]) == ("Anna Schmidt", "Klimaschutzmanagerin des Landkreises")


def test_all_imports_pass_check(docs: Path, tmp_path: Path) -> None:
    folder = tmp_path / "wissen"
    for path in sorted(docs.iterdir()):
        import_document(path, folder, TODAY)
    kb = load_knowledge(folder)
    assert kb.errors == []
    assert len({e.title for e in kb.entries}) == len(kb.entries)
    assert {e.type for e in kb.entries} == {"info", "event", "funding_call", "contact"}
    code, output = check(folder)
    assert code == 0, output


def test_titles_and_ids_stay_unique_beside_other_files(docs: Path, tmp_path: Path) -> None:
    folder = tmp_path / "wissen"
    folder.mkdir()
    (folder / "regionaldialog.yaml").write_text(  # a hand-made file with the same name and a shared title
        "defaults:\n  source:\n    document: Handarbeit\n  updated: 2024-01-01\nentries:\n"
        "  - id: regionaldialog-ansprechpartnerin\n    type: info\n    title: Ansprechpartnerin\n"
        "    text: Von Hand gepflegt.\n",
        encoding="utf-8",
    )
    result = import_document(docs / "regionaldialog.html", folder, TODAY)
    assert result.target.name == "regionaldialog-2.yaml"  # the hand-made file is never touched
    assert "Von Hand gepflegt." in (folder / "regionaldialog.yaml").read_text(encoding="utf-8")
    titles = [e["title"] for e in entries_of(result.target)]
    assert "Ansprechpartnerin (Regionaldialog – SEG Mansfeld-Südharz)" in titles
    assert load_knowledge(folder).errors == []


# --------------------------------------------------------------------------- nothing invented


def write_page(folder: Path, body: str, name: str = "seite.html") -> Path:
    path = folder / name
    path.write_text(f"<html><head><title>Testseite</title></head><body><main>{body}</main></body></html>")
    return path


def test_unsure_statements_stay_in_the_info_text(tmp_path: Path) -> None:
    page = write_page(
        tmp_path,
        "<h2>Rückblick</h2><p>Am 13.06.2024 wurde der Bericht veröffentlicht. Die Messe lief vom 01.03.2024 bis "
        "03.03.2024 in Halle. Isabell Müller vom Zentrum für Sozialforschung stellte Ergebnisse vor. Die "
        "Energiewende ist ein Ziel, Leiterin der Debatte war die Region.</p>",
    )
    entries = entries_of(import_document(page, tmp_path / "wissen", TODAY).target)
    assert [e["type"] for e in entries] == ["info"]


def test_past_events_partial_dates_and_role_before_name(tmp_path: Path) -> None:
    page = write_page(
        tmp_path,
        "<h2>Termine</h2><p>Unser 8. Regionaldialog fand am 20.02.2024 in Riestedt statt. Die nächste AG "
        "Wirtschaftsförderung soll Ende April 2024 stattfinden. Begrüßt wurden die Gäste von Landrat Frank "
        "Bannert.</p>",
    )
    entries = entries_of(import_document(page, tmp_path / "wissen", TODAY).target)
    events = by_type(entries, "event")
    assert [(e["title"], e["date"], e["status"]) for e in events] == [
        ("8. Regionaldialog am 20.02.2024", date(2024, 2, 20), "stattgefunden"),
        ("Die nächste AG Wirtschaftsförderung Ende April 2024", "Ende April 2024", "geplant"),
    ]
    (contact,) = by_type(entries, "contact")
    assert (contact["person"], contact["role"]) == ("Frank Bannert", "Landrat")
    assert load_knowledge(tmp_path / "wissen").errors == []


def test_long_section_is_split_at_paragraphs(tmp_path: Path) -> None:
    paragraph = "Dieser Absatz beschreibt ein Projekt der Region mit seinen Zielen und Partnern. " * 4
    page = write_page(
        tmp_path, "<h2>Projekte</h2>" + "".join(f"<p>{n}. {paragraph}</p>" for n in range(1, 6))
    )
    entries = entries_of(import_document(page, tmp_path / "wissen", TODAY).target)
    assert [e["title"] for e in entries] == ["Projekte", "Projekte (Teil 2)", "Projekte (Teil 3)"]
    assert all(len(e["text"]) < 1100 for e in entries)
    assert all(e["text"].split("\n")[0][0].isdigit() for e in entries)  # every part starts at a paragraph


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notiz.odt", b"x", "wird nicht unterstützt"),
        ("leer.html", b"<html><body><nav>Startseite</nav></body></html>", "Kein Text gefunden"),
        ("kaputt.pdf", b"%PDF-1.4 kaputt", "PDF"),
    ],
)
def test_documents_that_cannot_be_imported(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(DocumentError, match=message):
        import_document(tmp_path / name, tmp_path / "wissen", TODAY)
    assert not (tmp_path / "wissen").exists() or not list((tmp_path / "wissen").iterdir())


# --------------------------------------------------------------------------- re-import


@pytest.fixture
def imported(docs: Path, tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "wissen"
    result = import_document(docs / "regionaldialog.html", folder, TODAY)
    return docs / "regionaldialog.html", result.target


def test_reimport_unchanged(imported: tuple[Path, Path]) -> None:
    page, target = imported
    before = entries_of(target)
    result = import_document(page, target.parent, date(2024, 3, 2))
    assert result.target == target and result.previous
    assert result.summary() == f"{len(before)} unverändert, 0 geändert, 0 neu, 0 entfällt"
    assert entries_of(target) == before
    assert yaml.safe_load(target.read_text(encoding="utf-8"))["defaults"]["updated"] == date(2024, 3, 2)


def test_reimport_edited_paragraph_is_changed_not_duplicated(imported: tuple[Path, Path]) -> None:
    page, target = imported
    before = entries_of(target)
    page.write_text(
        PAGE.replace("Energiepotentialanalyse für den Landkreis.", "Wärmeplanung in den Gemeinden.")
        .replace("<h2>Ansprechpartnerin</h2>", "<h2>Kontakt zur SEG</h2>")
        .replace("</main>", "<h2>Newsletter</h2><p>Der Newsletter der SEG erscheint monatlich.</p></main>"),
        encoding="utf-8",
    )
    result = import_document(page, target.parent, TODAY)
    after = entries_of(target)
    assert result.summary() == (
        f"{len(before) - 2} unverändert, 1 geändert („Austausch zum Strukturwandel“), 2 neu, "
        "1 entfällt („Ansprechpartnerin“)"
    )
    assert len({e["id"] for e in after}) == len(after) == len(before) + 1
    assert "Wärmeplanung" in next(e["text"] for e in after if e["title"] == "Austausch zum Strukturwandel")
    assert load_knowledge(target.parent).errors == []


def set_review(target: Path, entry_id: str) -> None:
    """What staff do after checking an entry: `review: offen` → `review: geprüft` in that entry."""
    text = target.read_text(encoding="utf-8")
    start = text.index(f"- id: {entry_id}")
    end = text.find("\n  - id:", start)
    end = len(text) if end < 0 else end
    target.write_text(
        text[:start] + text[start:end].replace("review: offen", "review: geprüft") + text[end:],
        encoding="utf-8",
    )


def test_checked_entry_survives_reimport_as_conflict(imported: tuple[Path, Path]) -> None:
    page, target = imported
    (event,) = by_type(entries_of(target), "event")
    set_review(target, event["id"])
    page.write_text(
        PAGE.replace("in der Kulturscheune Sangerhausen", "im Rathaus Eisleben"), encoding="utf-8"
    )
    result = import_document(page, target.parent, date(2024, 3, 5))
    (conflict,) = result.conflicts
    assert (conflict.id, conflict.reason) == (event["id"], "geprüft")
    assert conflict.text == "Der nächste Regionaldialog findet am 13.06.2024 im Rathaus Eisleben statt."
    kept = next(e for e in entries_of(target) if e["id"] == event["id"])
    assert kept["review"] == "geprüft" and "Kulturscheune" in kept["text"]
    assert kept["updated"] == TODAY  # checked against the earlier import: keeps that date
    assert "1 geändert" in result.summary() and "1 Konflikt" in result.summary()
    kb = load_knowledge(target.parent)
    assert kb.errors == []
    assert kb.by_id()[event["id"]].updated == TODAY
    assert sum(e.type == "event" for e in kb.entries) == 1


def test_hand_edited_entry_is_kept_and_hand_added_entry_too(imported: tuple[Path, Path]) -> None:
    page, target = imported
    text = target.read_text(encoding="utf-8")
    text = text.replace("Veranstaltungsreihe der", "Veranstaltungsreihe (seit 2021) der")
    text += (
        "\n  - id: eigener-eintrag\n    type: info\n    title: Eigener Eintrag\n    text: Von Hand ergänzt.\n"
    )
    target.write_text(text, encoding="utf-8")
    page.write_text(PAGE.replace("Thema ist die", "Schwerpunkt ist die"), encoding="utf-8")
    result = import_document(page, target.parent, TODAY)
    (conflict,) = result.conflicts
    assert conflict.reason == "von Hand geändert" and "Schwerpunkt ist die" in (conflict.text or "")
    assert result.kept == 1
    written = target.read_text(encoding="utf-8")
    assert "Veranstaltungsreihe (seit 2021) der" in written and "Von Hand ergänzt." in written
    assert "Schwerpunkt" not in written
    assert load_knowledge(target.parent).errors == []


def test_reimport_by_title_when_the_file_was_renamed(imported: tuple[Path, Path], docs: Path) -> None:
    page, target = imported
    renamed = docs / "regionaldialog-2024.html"
    renamed.write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    result = import_document(renamed, target.parent, TODAY)
    assert result.target == target and result.previous and result.replaces == "regionaldialog.html"
    assert result.count("unverändert") == result.entries


def test_documents_of_one_run_never_share_a_file(docs: Path, tmp_path: Path) -> None:
    from bot.importer import import_documents

    first, second = docs / "protokoll-januar.html", docs / "protokoll-februar.html"
    first.write_text(PAGE, encoding="utf-8")  # the same title, as in a series of minutes
    second.write_text(PAGE.replace("13.06.2024", "14.06.2024"), encoding="utf-8")
    results = import_documents([first, second, first], tmp_path / "wissen", TODAY)
    assert [getattr(r, "target", r).name for r in results] == [
        "protokoll-januar.yaml",
        "protokoll-februar.yaml",
        "protokoll-januar.yaml",
    ]
    assert load_knowledge(tmp_path / "wissen").errors == []


def test_entry_without_its_import_mark_counts_as_edited(imported: tuple[Path, Path]) -> None:
    page, target = imported
    text = target.read_text(encoding="utf-8")
    target.write_text(re.sub(r"(- id: regionaldialog-ansprechpartnerin)  # import \w+", r"\1", text), "utf-8")
    page.write_text(PAGE.replace("Telefon 03464 123456", "Telefon 03464 654321"), encoding="utf-8")
    result = import_document(page, target.parent, TODAY)
    assert [(c.id, c.reason) for c in result.conflicts] == [
        ("regionaldialog-ansprechpartnerin", "von Hand geändert")
    ]
    ids = [e["id"] for e in entries_of(target)]
    assert len(ids) == len(set(ids)) and "regionaldialog-ansprechpartnerin-2" not in ids


def test_broken_earlier_import_is_not_overwritten(imported: tuple[Path, Path]) -> None:
    page, target = imported
    broken = target.read_text(encoding="utf-8").replace("    type: info", "    type: [info", 1)
    target.write_text(broken, encoding="utf-8")
    with pytest.raises(DocumentError, match="bitte erst korrigieren"):
        import_document(page, target.parent, TODAY)
    assert target.read_text(encoding="utf-8") == broken


# --------------------------------------------------------------------------- command line


def test_cli_import_reports_files_reviews_and_hint(docs: Path, tmp_path: Path) -> None:
    folder = tmp_path / "wissen"
    (docs / "notiz.odt").write_bytes(b"x")
    args = ["import", str(docs / "regionaldialog.html"), str(docs / "projekte.txt"), str(docs / "notiz.odt")]
    result = CliRunner().invoke(app, [*args, "--knowledge", str(folder)])
    assert result.exit_code == 1  # one document failed; the others are written
    out = result.stdout
    assert f"regionaldialog.html → {folder / 'regionaldialog.yaml'}: 6 Einträge, davon 3 zu prüfen" in out
    assert f"projekte.txt → {folder / 'projekte.yaml'}: 2 Einträge, davon 0 zu prüfen" in out
    assert "Bitte prüfen, dann `regiobot check` und /reload." in out
    assert "[1/3] regionaldialog.html" in result.stderr
    assert re.search(
        r"Nicht importiert: .*notiz\.odt: Dateityp „\.odt“ wird nicht unterstützt", result.stderr
    )
    again = CliRunner().invoke(app, ["import", str(docs / "regionaldialog.html"), "--knowledge", str(folder)])
    assert again.exit_code == 0
    assert "erneuter Import: 6 unverändert, 0 geändert, 0 neu, 0 entfällt" in again.stdout
    assert check(folder)[0] == 0


# --------------------------------------------------------------------------- the bot answers at once


@pytest.mark.slow
def test_bot_answers_from_an_imported_page(config, encoder, docs: Path, tmp_path: Path) -> None:
    from bot.answer import Engine

    folder = tmp_path / "wissen"
    import_document(docs / "regionaldialog.html", folder, TODAY)
    engine = Engine.load(config, knowledge_dir=folder, index_dir=tmp_path / "index", encoder=encoder)
    answer = engine.ask("Wann läuft der Förderaufruf UNTERNEHMEN REVIER?", today=TODAY)
    assert "31.05.2024" in answer.text
    answer = engine.ask("Wer leitet die Wirtschaftsförderung?", today=TODAY)
    assert "Madlen Beyer" in answer.text
