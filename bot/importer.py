"""Documents → draft knowledge: `regiobot import` turns .txt, .md, .html, .pdf and .docx into one YAML file each.

Staff keep the final say, so the importer writes drafts and never invents facts:

- every section of the document (split at headings, long ones at paragraphs around ~800 characters) becomes
  an `info` entry with the document's own words, page boilerplate (navigation, cookie banners, footers,
  "(PDF)" link labels, CMS warnings) removed;
- what it recognises in single sentences is *added* as typed entries with `review: offen`: an event
  ("… findet am 13.06.2024 … statt"), an application period ("vom 21.03.2024 bis 31.05.2024" near a word like
  Förderaufruf), a person with a role ("Madlen Beyer, Leiterin der Wirtschaftsförderung") and e-mail
  addresses. Their text is the sentence they came from; whatever is unsure stays in the info text only.

Re-importing the same document (same file name or title) compares entry by entry (ids are slugs of document
and title, so they stay the same): unchanged entries stay, changed ones are replaced, new ones added, vanished
ones dropped. An entry staff marked `review: geprüft` or changed by hand is never overwritten; the import
reports a conflict with the document's new text instead. "Changed by hand" is known from the fingerprint the
importer writes behind each id (`- id: … # import 1a2b3c4d5e6f`): it is the hash of the entry as imported.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.config import LimitSettings
from bot.knowledge import MONTHS, Problem, _read_yaml, knowledge_files, load_knowledge
from bot.text import STOPWORDS, sentences

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
TARGET_CHARS = 800  # an info entry grows to about this many characters before a new one starts
LONGEST_UNIT = 1_200  # a paragraph or list longer than this is split at sentences or items
MARKER = "# regiobot import:"  # first line of every file the importer writes; it only ever rewrites those

Block = tuple[str, str]  # ("h" | "p" | "li", text)


class DocumentError(Exception):
    """The document cannot be imported; the message says why in German."""


@dataclass
class Section:
    heading: str | None
    paragraphs: list[Block] = field(default_factory=list)


@dataclass
class Document:
    """A document's title, where it came from and its text in sections, boilerplate removed."""

    path: Path
    title: str
    sections: list[Section]
    url: str | None = None
    as_of: date | str | None = None

    @property
    def file(self) -> str:
        return self.path.name


# --------------------------------------------------------------------------- cleaning text

_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]")  # soft hyphen, zero-width characters
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_FILE_LABEL = re.compile(
    r"\s*[(\[]\s*(?:(?:PDF|DOCX?|XLSX?|PPTX?|ODT|ZIP|RTF)(?:[-\s]?(?:Datei|Dokument|Download))?"
    r"(?:\s*[,;:/|–-]?\s*\d+(?:[.,]\d+)?\s*(?:[KMG]i?B|kB|Byte|Seiten?))?"
    r"|\d+(?:[.,]\d+)?\s*(?:[KMG]i?B|kB))\s*[)\]]",
    re.IGNORECASE,
)
_PIPES = re.compile(r"\s*\|(?:\s*\|)+\s*")
_NAV_WORDS = frozenset(
    {
        "startseite", "home", "impressum", "datenschutz", "datenschutzerklärung", "datenschutzhinweise",
        "kontakt", "sitemap", "barrierefreiheit", "suche", "suchen", "menü", "menu", "navigation",
        "hauptnavigation", "zurück", "weiter", "drucken", "teilen", "schließen", "login", "anmelden",
        "newsletter", "presse", "english", "deutsch", "facebook", "instagram", "twitter", "linkedin", "youtube",
        "xing", "mastodon", "rss", "seitenanfang", "top",
    }
)  # fmt: skip
_NAV_PHRASES = frozenset(
    {
        "nach oben", "zum seitenanfang", "zum inhalt springen", "springe zum inhalt", "direkt zum inhalt",
        "skip to content", "cookie-einstellungen", "cookie einstellungen", "leichte sprache",
        "gebärdensprache", "erklärung zur barrierefreiheit", "seite drucken", "seite teilen",
        "mehr erfahren", "weiterlesen", "mehr lesen", "mehr dazu", "zur übersicht", "zurück zur übersicht",
    }
)  # fmt: skip
_BOILERPLATE = [
    re.compile(r"javascript\s+(?:ist|is)\s+(?:deaktiviert|ausgeschaltet|disabled)", re.I),
    re.compile(
        r"(?:aktivieren\s+sie\s+(?:bitte\s+)?javascript|enable\s+javascript|javascript\s+aktivieren)", re.I
    ),
    re.compile(r"ihr\s+browser\s+(?:ist\s+veraltet|unterstützt\s+(?:kein|nicht))", re.I),
    re.compile(
        r"^(?=.*\bcookies?\b)(?=.*(?:akzeptier|zustimm|stimmen sie|einverstanden|verwende|nutz|einsetz"
        r"|einstellung|ablehn|accept|consent|datenschutz))",
        re.I | re.S,
    ),
    re.compile(r"^(?:warning|notice|deprecated|fatal error|parse error)\s*:.*\bon line \d+", re.I | re.S),
    re.compile(r"^der eintrag [\"„].*[\"“] existiert leider nicht\.?$", re.I),
    re.compile(r"^(?:seite|page)\s+(?:nicht gefunden|not found)", re.I),
    re.compile(r"^(?:©|\(c\)|copyright\b)", re.I),
    re.compile(r"^(?:sie sind hier|you are here)\b", re.I),
    re.compile(r"^(?:foto|fotos|bild|bildquelle|bildnachweis|abbildung)\s*:", re.I),
    re.compile(r"^(?:\d+\s*)?(?:seite|page)\s*\d+(?:\s*(?:von|/|of)\s*\d+)?$", re.I),
]
_LINK_PHRASE = re.compile(
    r"^(?:mehr\s+informationen|weitere\s+informationen|mehr\s+erfahren|mehr\s+dazu|weiterlesen|hier\s+klicken"
    r"|zum\s+artikel|download|herunterladen|pdf-download)\b",
    re.I,
)
_STAND = re.compile(
    r"\bStand\s*:?\s*(?:vom\s+|am\s+)?(?:(?P<d>\d{1,2})\.\s?(?P<m>\d{1,2})\.\s?(?P<y>\d{4})"
    r"|(?P<m2>\d{1,2})\s?[./]\s?(?P<y2>\d{4})|(?P<mn>[A-ZÄÖÜ][a-zäöü]+)\s+(?P<y3>\d{4})|(?P<y4>(?:19|20)\d{2})\b)"
)


def clean_text(text: str) -> str:
    """One paragraph's text without invisible characters, file-size labels and runs of spaces or pipes."""
    text = _CONTROL.sub(" ", _INVISIBLE.sub("", unicodedata.normalize("NFC", text).replace("\xa0", " ")))
    text = _FILE_LABEL.sub("", text)
    text = _PIPES.sub(" | ", text)
    text = " ".join(text.split())
    return text.strip(" |")


def is_boilerplate(text: str) -> bool:
    """Navigation, cookie and JavaScript notes, CMS warnings, copyright and link-only lines: not knowledge."""
    if len(re.findall(r"[^\W\d_]|\d", text)) < 2:
        return True
    low = text.lower().strip(" .:")
    parts = [p.strip() for p in re.split(r"\s*[|›»>·•/]\s*|\s{2,}", low) if p.strip()]
    if (
        parts
        and all(p in _NAV_WORDS or p in _NAV_PHRASES for p in parts)
        and (len(parts) > 1 or low != "kontakt")
    ):
        return True
    if all(w in _NAV_WORDS for w in low.split()) and len(low.split()) > 2:
        return True
    if sum(text.count(s) for s in (" > ", " » ", " › ")) >= 2 and len(text) < 150:
        return True
    if any(p.search(text) for p in _BOILERPLATE):
        return True
    return bool(
        _LINK_PHRASE.match(text)
        and len(text.split()) <= 6
        and not text.endswith(".")
        and "@" not in text
        and not re.search(r"\d{3}", text)
    )


def _stand(text: str) -> date | str | None:
    """The "Stand …" date a document states, as a day, "JJJJ-MM" or "JJJJ"."""
    m = _STAND.search(text)
    if not m:
        return None
    try:
        if m["d"]:
            return date(int(m["y"]), int(m["m"]), int(m["d"]))
        if m["m2"] and 1 <= int(m["m2"]) <= 12:
            return f"{m['y2']}-{int(m['m2']):02d}"
        if m["mn"]:
            month = _month(m["mn"])
            return f"{m['y3']}-{month:02d}" if month else None
        if m["y4"]:
            return m["y4"]
    except ValueError:
        return None
    return None


def _only_stand(text: str) -> bool:
    """A line that only states the "Stand": it goes into `source.as_of`, not into an entry."""
    m = _STAND.search(text)
    return bool(m) and not text[: m.start()].strip(" (") and not text[m.end() :].strip(" ).")


def _month(name: str) -> int | None:
    name = name.lower().replace("ä", "a")
    for number, month in enumerate(MONTHS, 1):
        if month.lower().replace("ä", "a") == name:
            return number
    return {"maerz": 3, "jänner": 1, "janner": 1, "sept": 9}.get(name)


# --------------------------------------------------------------------------- reading documents


def read_document(path: Path) -> Document:
    """Title and sections of one document; DocumentError when it cannot be read or holds no text."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(
            f"Dateityp „{path.suffix or '(keiner)'}“ wird nicht unterstützt; möglich sind {', '.join(SUFFIXES)}."
        )
    if not path.is_file():
        raise DocumentError("Datei nicht gefunden.")
    try:
        if suffix in {".html", ".htm"}:
            title, blocks, url = _read_html(path.read_bytes(), path.stem)
        elif suffix in {".md", ".markdown"}:
            title, blocks, url = _read_markdown(_decode(path.read_bytes()), path.stem)
        elif suffix == ".pdf":
            title, blocks, url = _read_pdf(path)
        elif suffix == ".docx":
            title, blocks, url = _read_docx(path)
        else:
            title, blocks, url = _read_plain(_decode(path.read_bytes()), path.stem)
    except DocumentError:
        raise
    except OSError as exc:
        raise DocumentError(f"Datei kann nicht gelesen werden: {exc.strerror or exc}") from exc
    except Exception as exc:  # a broken PDF or DOCX: the libraries raise many kinds
        raise DocumentError(f"Datei ist beschädigt oder kein gültiges {suffix[1:].upper()} ({exc}).") from exc
    as_of = next((found for _, text in blocks if (found := _stand(text))), None)
    blocks = [(kind, text) for kind, text in blocks if not _only_stand(text)]
    sections = _sections(blocks)
    if not any(s.paragraphs for s in sections):
        hint = " Ist es ein eingescanntes PDF ohne Textebene?" if suffix == ".pdf" else ""
        raise DocumentError(f"Kein Text gefunden.{hint}")
    return Document(path=path, title=title, sections=sections, url=url, as_of=as_of)


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, the usual encoding of older German text files."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _blocks(raw: Iterable[Block]) -> list[Block]:
    """Cleaned blocks without boilerplate and without repeats of the block just before."""
    out: list[Block] = []
    for kind, text in raw:
        text = clean_text(text)
        marked_heading = kind == "h" and text.lower() in _NAV_WORDS  # "Kontakt", "Presse" over real text
        if text and (marked_heading or not is_boilerplate(text)) and (not out or out[-1][1] != text):
            out.append((kind, text))
    return out


def _heading_like(text: str, following: Block | None) -> bool:
    """A short line without final punctuation followed by longer text: a heading in text without markup."""
    words = text.split()
    return (
        following is not None
        and len(text) <= 90
        and 1 <= len(words) <= 12
        and not text.endswith((".", ",", ";", ":", "!"))
        and (text[0].isupper() or text[0].isdigit())
        and "@" not in text
        and "http" not in text
        and (following[0] == "li" or len(following[1]) > len(text))
    )


def _guess_headings(blocks: list[Block]) -> list[Block]:
    out = []
    for n, (kind, text) in enumerate(blocks):
        following = blocks[n + 1] if n + 1 < len(blocks) else None
        out.append(("h" if kind == "p" and _heading_like(text, following) else kind, text))
    return out


def _first_heading(blocks: list[Block]) -> str | None:
    return next((text for kind, text in blocks if kind == "h"), None)


_LIST_MARK = re.compile(r"^\s*(?:[-–•*▪●◦·]|\d{1,2}[.)])\s+")


def _read_plain(text: str, stem: str) -> tuple[str, list[Block], str | None]:
    """Plain text: blank lines or single lines separate paragraphs; short lines before text are headings."""
    raw: list[Block] = []
    for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        if _hard_wrapped(lines):
            raw.append(("p", " ".join(lines)))
            continue
        for line in lines:
            if _LIST_MARK.match(line):
                raw.append(("li", _LIST_MARK.sub("", line)))
            else:
                raw.append(("p", line))
    blocks = _guess_headings(_blocks(raw))
    return (blocks[0][1] if blocks and blocks[0][0] == "h" else stem), blocks, None


def _hard_wrapped(lines: list[str]) -> bool:
    """Lines of one paragraph wrapped at a fixed width (e-mail style) rather than one paragraph per line."""
    if len(lines) < 2 or any(_LIST_MARK.match(line) for line in lines):
        return False
    body = lines[:-1]
    return all(45 <= len(line) <= 100 and not line.endswith((".", ":", "!", "?")) for line in body[:1]) and (
        statistics.pstdev([len(line) for line in body]) < 12 if len(body) > 1 else True
    )


# ----- HTML and Markdown

_DROP_ALWAYS = ("script", "style", "noscript", "template", "svg", "nav", "iframe", "object", "embed")
_DROP_GUARDED = (
    "footer",
    "aside",
    "form",
    "button",
    "select",
    "textarea",
    "figure",
    "dialog",
    "video",
    "audio",
)
_BOILER_ATTR = re.compile(
    r"(?:^|[-_\s])(?:cookies?|consent|gdpr|dsgvo|cmp|nav|navbar|navigation|menu|menue|mainmenu|breadcrumbs?"
    r"|footer|sidebar|skip|skiplinks?|share|sharing|social|offcanvas|newsletter|popup|modal|toolbar"
    r"|pagination|pager|print|search|suche|metanav|servicenav|langswitch)(?:$|[-_\s\d])",
    re.I,
)
_BOILER_ROLES = {"navigation", "banner", "contentinfo", "search", "dialog", "alertdialog", "complementary"}
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "li", "ul", "ol", "dl", "dt", "dd", "table",
        "thead", "tbody", "tfoot", "tr", "blockquote", "pre", "address", "center", "details", "summary", "hr",
        "fieldset",
    }
)  # fmt: skip
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def _read_html(data: bytes | str, stem: str) -> tuple[str, list[Block], str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "lxml")
    title_tag = soup.find("title")
    title = clean_text(title_tag.get_text(" ")) if title_tag else ""
    url = None
    for tag, attr, key in (("link", "rel", "canonical"), ("meta", "property", "og:url")):
        found = soup.find(tag, attrs={attr: key})
        value = (found.get("href") or found.get("content")) if found else None
        if isinstance(value, str) and re.fullmatch(r"https?://\S+", value.strip()):
            url = value.strip()
            break
    _strip_boilerplate(soup)
    root = _content_root(soup)
    blocks = _blocks(_walk_html(root))
    if sum(len(t) for _, t in blocks) < 100 and root is not soup.body and soup.body is not None:
        blocks = _blocks(_walk_html(soup.body))
    return title or _first_heading(blocks) or stem, blocks, url


def _strip_boilerplate(soup: Any) -> None:
    """Remove navigation, banners, footers and hidden parts; a part holding most of the page is kept."""
    from bs4 import Comment

    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(_DROP_ALWAYS):
        tag.decompose()
    body = soup.body or soup
    total = len(body.get_text(" ", strip=True)) or 1

    def guarded(tag: Any) -> bool:
        return len(tag.get_text(" ", strip=True)) > 0.6 * total and total > 300

    for tag in soup.find_all(True):
        if tag.decomposed or tag.name in {"html", "body", "main", "article"}:
            continue
        attrs = tag.attrs or {}
        marks = " ".join([*(attrs.get("class") or []), str(attrs.get("id") or "")])
        hidden = (
            "hidden" in attrs
            or attrs.get("aria-hidden") == "true"
            or re.search(r"display\s*:\s*none|visibility\s*:\s*hidden", str(attrs.get("style") or ""))
        )
        boiler = (
            tag.name in _DROP_GUARDED
            or (tag.name == "header" and not tag.find_parent(["main", "article"]))
            or attrs.get("role") in _BOILER_ROLES
            or bool(_BOILER_ATTR.search(marks))
        )
        if (hidden or boiler) and not tag.find(["main", "article"]) and not guarded(tag):
            tag.decompose()


def _content_root(soup: Any) -> Any:
    main = soup.find("main") or soup.find(attrs={"role": "main"})
    if main is not None:
        return main
    articles = soup.find_all("article")
    if articles:
        return max(articles, key=lambda a: len(a.get_text(" ", strip=True)))
    return soup.body or soup


def _walk_html(root: Any) -> list[Block]:
    """Headings, paragraphs and list items in reading order; paragraphs that are only a short link are dropped."""
    from bs4 import NavigableString, Tag

    blocks: list[Block] = []
    parts: list[tuple[str, bool]] = []

    def flush(kind: str) -> None:
        text = _join_lines("".join(t for t, _ in parts))
        linked = sum(len("".join(t.split())) for t, link in parts if link)
        total = sum(len("".join(t.split())) for t, _ in parts)
        parts.clear()
        if not text:
            return
        only_link = linked >= 0.9 * total and len(text) <= 80
        if only_link and "@" not in text:
            return
        blocks.append((kind, text))

    def walk(node: Any, kind: str, link: bool) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:
                    parts.append((str(child), link))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in _HEADINGS:
                flush(kind)
                heading = clean_text(child.get_text(" "))
                if heading:
                    blocks.append(("h", heading))
            elif name == "br":
                parts.append(("\n", link))
            elif name in {"td", "th"}:
                if parts and "".join(t for t, _ in parts).strip():
                    parts.append((" | ", False))
                walk(child, kind, link)
            elif name == "a":
                href = str(child.get("href") or "")
                text = child.get_text(" ")
                if href.lower().startswith("mailto:"):
                    address = href[7:].split("?")[0].strip()
                    if address and address.lower() not in text.lower():
                        text = f"{text} ({address})" if text.strip() else address
                    parts.append((text, False))
                else:
                    walk(child, kind, True)
            elif name in _BLOCK_TAGS:
                flush(kind)
                inner = "li" if name == "li" else (kind if kind == "li" or name in {"ul", "ol"} else "p")
                walk(child, inner, link)
                flush(inner)
            else:
                walk(child, kind, link)

    walk(root, "p", False)
    flush("p")
    return blocks


def _join_lines(text: str) -> str:
    """Lines of one paragraph (from <br>) as one line: "Name, Rolle, Telefon" reads as one contact line."""
    lines = [" ".join(line.split()) for line in text.split("\n")]
    out = ""
    for line in (line for line in lines if line):
        if not out:
            out = line
        elif out.endswith((".", ",", ";", ":", "!", "?")):
            out = f"{out} {line}"
        else:
            out = f"{out}, {line}"
    return out


def _read_markdown(text: str, stem: str) -> tuple[str, list[Block], str | None]:
    """Markdown rendered to HTML, so headings, lists and links are read like a web page."""
    from markdown_it import MarkdownIt

    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)  # front matter is metadata, not text
    html = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    _, blocks, _ = _read_html(f"<html><body>{html}</body></html>", stem)
    return _first_heading(blocks) or stem, blocks, None


# ----- PDF

_GENERIC_TITLE = re.compile(
    r"^(?:microsoft\s+\w+\s*-|untitled|unbenannt|dokument\d*$|document\d*$|präsentation\d*$)|\.(?:docx?|pdf|pptx?|odt)$",
    re.I,
)


def _read_pdf(path: Path) -> tuple[str, list[Block], str | None]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted:
        try:
            reader.decrypt("")
        except Exception as exc:
            raise DocumentError(
                "Das PDF ist verschlüsselt; bitte eine ungeschützte Fassung importieren."
            ) from exc
    pages = [(page.extract_text() or "").splitlines() for page in reader.pages]
    blocks = _guess_headings(_blocks(_pdf_paragraphs(pages)))
    meta = reader.metadata
    title = clean_text(str(meta.title)) if meta is not None and meta.title else ""
    if not title or _GENERIC_TITLE.search(title) or len(title) < 4:
        title = _first_heading(blocks[:3]) or path.stem
    return title, blocks, None


def _pdf_paragraphs(pages: list[list[str]]) -> list[Block]:
    """Lines of PDF pages joined into paragraphs; headers and footers repeated on most pages are dropped.

    PDF text has no paragraphs, only lines: a paragraph ends at a blank line, before a list item, after a
    short line ending a sentence, and around a short line without final punctuation (a heading).
    """
    pages = [[clean_text(line) for line in lines] for lines in pages]
    repeated: set[str] = set()
    if len(pages) >= 3:
        seen = Counter(
            key for lines in pages for key in {re.sub(r"\d+", "#", line) for line in lines if line}
        )
        repeated = {key for key, count in seen.items() if count >= 0.6 * len(pages)}
    lines = [
        line
        for page in pages
        for line in page
        if not line or (re.sub(r"\d+", "#", line) not in repeated and not is_boilerplate(line))
    ]
    lengths = sorted(len(line) for line in lines if line) or [80]
    width = lengths[
        int(0.9 * (len(lengths) - 1))
    ]  # a full line; most lines of a paragraph are about this long
    blocks: list[Block] = []
    kind, buffer = "p", ""

    def flush() -> None:
        nonlocal buffer, kind
        if buffer:
            blocks.append((kind, buffer))
        kind, buffer = "p", ""

    for line in lines:
        short = len(line) < 0.7 * width
        if not line:
            flush()
        elif _LIST_MARK.match(line):
            flush()
            kind, buffer = "li", _LIST_MARK.sub("", line)
        elif (
            short
            and not line.endswith((".", ",", ";", ":", "!", "?"))
            and (not buffer or buffer.endswith((".", "!", "?", ":")))
        ):
            flush()  # a short line on its own: a heading or a caption
            blocks.append(("p", line))
        elif not buffer:
            buffer = line
        elif re.search(r"[a-zäöüß]-$", buffer) and line[:1].islower():
            first = line.split()[0]
            buffer = f"{buffer} {line}" if first in {"und", "oder", "bzw.", "sowie"} else buffer[:-1] + line
        else:
            buffer = f"{buffer} {line}"
        if buffer and line.endswith((".", "!", "?", ":")) and short:
            flush()
    flush()
    return blocks


# ----- DOCX


def _read_docx(path: Path) -> tuple[str, list[Block], str | None]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(str(path))
    raw: list[Block] = []
    title = clean_text(document.core_properties.title or "")
    styled = False
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            style = (item.style.name if item.style is not None else "").lower()
            text = item.text
            if style in {"title", "titel"}:
                title = title or clean_text(text)
                raw.append(("h", text))
                styled = True
            elif style.startswith(("heading", "überschrift")):
                raw.append(("h", text))
                styled = True
            elif "list" in style or (item._p.pPr is not None and item._p.pPr.numPr is not None):
                raw.append(("li", text))
            else:
                raw.append(("p", text.replace("\n", " ")))
        elif isinstance(item, Table):
            for row in item.rows:
                cells = list(dict.fromkeys(clean_text(cell.text) for cell in row.cells))
                raw.append(("p", " | ".join(c for c in cells if c)))
    blocks = _blocks(raw)
    if not styled:
        blocks = _guess_headings(blocks)
    return title or _first_heading(blocks) or path.stem, blocks, None


# --------------------------------------------------------------------------- sections and info entries


def _sections(blocks: list[Block]) -> list[Section]:
    sections = [Section(None)]
    for kind, text in blocks:
        if kind == "h":
            if sections[-1].paragraphs or sections[-1].heading is None:
                sections.append(Section(text))
            else:
                sections[-1].heading = text  # a heading right under another: the closer one names the text
        else:
            sections[-1].paragraphs.append((kind, text))
    return [s for s in sections if s.paragraphs]


def _units(paragraphs: list[Block]) -> list[str]:
    """Paragraphs as units that are never split: a lead-in ending in ":" stays with its list."""
    units: list[str] = []
    in_list = False
    for kind, text in paragraphs:
        if kind == "li":
            item = f"– {text}"
            if units and (in_list or units[-1].endswith(":")):
                units[-1] = f"{units[-1]}\n{item}"
            else:
                units.append(item)
            in_list = True
        else:
            units.append(text)
            in_list = False
    out: list[str] = []
    for unit in units:
        out += _split_long(unit) if len(unit) > LONGEST_UNIT else [unit]
    return out


def _split_long(unit: str) -> list[str]:
    pieces = unit.split("\n") if "\n" in unit else _sentences(unit)
    glue = "\n" if "\n" in unit else " "
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) + len(piece) < TARGET_CHARS:
            out[-1] = f"{out[-1]}{glue}{piece}"
        else:
            out.append(piece)
    return out


def _chunks(section: Section) -> list[str]:
    """A section's text in pieces of about TARGET_CHARS, cut only between paragraphs."""
    chunks: list[str] = []
    for unit in _units(section.paragraphs):
        if chunks and len(chunks[-1]) + len(unit) < TARGET_CHARS:
            chunks[-1] = f"{chunks[-1]}\n{unit}"
        else:
            chunks.append(unit)
    return chunks


_YEAR_END = re.compile(r"(?<=\d{4}[.!?])\s+(?=[A-ZÄÖÜ„\"])")


def _sentences(text: str) -> list[str]:
    """`bot.text.sentences`, and a year before the full stop ends a sentence too ("… bis 31.05.2024. Gefördert")."""
    return [part for sentence in sentences(text) for part in _YEAR_END.split(sentence)]


def _first_words(text: str, most: int = 8) -> str:
    first = _sentences(text.split("\n")[0].lstrip("– "))[0]
    words = first.split()
    title = " ".join(words[:most]).rstrip(".,;:!?")
    if len(title) > 70:
        title = title[:70].rsplit(" ", 1)[0]
    return title + ("…" if len(words) > most or len(title) < len(first.rstrip(".,;:!?")) else "")


# --------------------------------------------------------------------------- candidates

_MONTH_NAMES = "|".join([*MONTHS, "Maerz", "Jänner"])
_DATE = re.compile(
    rf"(?<![\d.])(?:(?P<d>\d{{1,2}})\.\s?(?P<m>\d{{1,2}})\.\s?(?P<y>\d{{4}})"
    rf"|(?P<wd>\d{{1,2}})\.\s?(?P<wm>{_MONTH_NAMES})\s+(?P<wy>\d{{4}})"
    rf"|(?P<iy>\d{{4}})-(?P<im>\d{{2}})-(?P<id>\d{{2}})"
    rf"|(?:(?P<part>Anfang|Mitte|Ende)\s+)?(?P<pm>{_MONTH_NAMES})\s+(?P<py>\d{{4}}))(?![\d])"
)
_DAY_NO_YEAR = rf"(?P<od>\d{{1,2}})\.\s?(?:(?P<om>\d{{1,2}})\.|(?P<owm>{_MONTH_NAMES}))"
_EVENT_VERB = re.compile(
    r"\b(?:(?:findet|finden|fand|fanden)\b.*\bstatt|statt(?:finden|findet|fand|fanden|gefunden)|tagt|tagte"
    r"|tagen|tagten|(?:lädt|laden|lud|luden)\b.*\bein)\b",
    re.I | re.S,
)
_PAST = re.compile(
    r"\b(?:fand|fanden|stattfand|stattfanden|stattgefunden|tagte|tagten|lud|luden|war|waren)\b"
)
_FUTURE = re.compile(
    r"\b(?:findet|finden|stattfinden|stattfindet|soll|sollen|wird|werden|tagt|tagen|lädt|laden)\b"
)
_CALL_WORD = re.compile(
    r"förder|aufruf|antrag|anträge|antragstell|bewerb|einreich|wettbewerb|ausschreibung|programm|zuschuss"
    r"|zuwendung|frist",
    re.I,
)
_PROGRAMME = re.compile(
    r"\b(?:Förderprogramm|Bundesprogramm|Landesprogramm|Programm|Modellvorhaben|Bundesmodellvorhaben"
    r"|Förderaufruf|Aufruf|Ideenwettbewerb|Wettbewerb|Förderrichtlinie|Richtlinie|Förderinitiative)"
    r"(?:\s+(?:„(?P<q>[^“”\"]{2,80})[“”\"]|\"(?P<q2>[^\"]{2,80})\""
    r"|(?P<n>[A-ZÄÖÜ0-9][\w&+/-]*(?:\.[\w&+/-]+)*(?:\s+[A-ZÄÖÜ0-9][\w&+/-]*(?:\.[\w&+/-]+)*){0,5})))"
)
_DEADLINE = re.compile(
    r"\b(?:bis\s+(?:zum\s+|spätestens\s+(?:zum\s+|am\s+)?|einschließlich\s+)?"
    r"|(?:frist|schluss|stichtag)\w*\s*(?:ist|endet|:)?\s*(?:der|am)?\s*)(?=\d)",
    re.I,
)
_NAME_WORD = r"[A-ZÄÖÜ][a-zäöüéèß]+(?:-[A-ZÄÖÜ][a-zäöüéèß]+)?"
_NAME = rf"(?:(?:Dr\.|Prof\.)\s+)*{_NAME_WORD}(?:\s+(?:von der|von|vom|zur|zu|van|de)\s+|\s+){_NAME_WORD}(?:\s+{_NAME_WORD})?"
_ROLE_ENDS = (
    "leiter|leiterin|führer|führerin|manager|managerin|koordinator|koordinatorin|referent|referentin|berater"
    "|beraterin|sprecher|sprecherin|vorsitzender|vorsitzende|ansprechpartner|ansprechpartnerin|sachbearbeiter"
    "|sachbearbeiterin|direktor|direktorin|präsident|präsidentin|dezernent|dezernentin|bürgermeister"
    "|bürgermeisterin|landrat|landrätin|beauftragter|beauftragte|assistent|assistentin|vorstand|förderer"
    "|förderin|lotse|lotsin|sekretär|sekretärin"
)
_ROLE_WORD = rf"\b(?:stellvertretende[rn]?\s+)?(?:[A-ZÄÖÜ][\w-]*?)?(?i:{_ROLE_ENDS})\b"
_CAP = r"[A-ZÄÖÜ][\w.&/]*(?:-[\w.&/]+)*(?:-\s+(?:und|oder)\s+[A-ZÄÖÜ][\w-]*)?"
_CAPS = rf"{_CAP}(?:\s+{_CAP}|\s+(?:&|und)\s+{_CAP}(?!\s+[A-ZÄÖÜ]))*"  # "und" never joins a second name
_ROLE = (
    rf"{_ROLE_WORD}(?:\s+{_CAPS})?"
    rf"(?:\s+(?:der|des|für|bei|im|in|vom|von|zur|zum|am)(?:\s+(?:der|des|dem|den|die|das))?\s+{_CAPS})*"
)
_TITLE_ROLES = (
    "landrat|landrätin|bürgermeister|bürgermeisterin|oberbürgermeister|oberbürgermeisterin|geschäftsführer"
    "|geschäftsführerin|präsident|präsidentin|vorsitzender|vorsitzende|direktor|direktorin|dezernent|dezernentin"
)  # roles written before a name ("Landrat Frank Bannert"); others only with a colon ("Ansprechpartner: …")
_CONTACT_PATTERNS = [
    re.compile(rf"(?P<name>{_NAME}),\s+(?:(?:der|die|den|unsere?|unseren|neue[rn]?)\s+)*(?P<role>{_ROLE})"),
    re.compile(
        rf"(?P<name>{_NAME})\s+(?:(?:ist|steht|wurde|fungiert)\s+)?als\s+(?:(?:neue[rn]?|unsere?)\s+)?(?P<role>{_ROLE})"
    ),
    re.compile(rf"(?P<role>{_ROLE_WORD})\s*:\s*(?P<name>{_NAME})"),
    re.compile(rf"(?P<role>\b(?:[A-ZÄÖÜ][\w-]*?)?(?i:{_TITLE_ROLES}))\s+(?:ist\s+)?(?P<name>{_NAME})"),
]
_NOT_NAME_ENDS = (
    "ung", "heit", "keit", "schaft", "tion", "sion", "tät", "ismus", "nis", "ment", "kreis", "amt", "stadt",
    "land", "region", "verband", "verein", "wandel", "zentrum", "ebene", "politik", "energie", "raum",
    "projekt", "programm", "büro", "gruppe", "forum", "netzwerk", "dialog", "tag", "thema", "gmbh",
)  # fmt: skip
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_OBFUSCATED_AT = re.compile(r"\s*[(\[{]\s*(?:at|ät)\s*[)\]}]\s*", re.I)
_OBFUSCATED_DOT = re.compile(r"\s*[(\[{]\s*(?:dot|punkt)\s*[)\]}]\s*", re.I)


def _found_date(m: re.Match[str]) -> date | str | None:
    """A matched date as a day, or as text the schema reads for partial dates ("Ende April 2024")."""
    try:
        if m["d"]:
            return date(int(m["y"]), int(m["m"]), int(m["d"]))
        if m["wd"]:
            month = _month(m["wm"])
            return date(int(m["wy"]), month, int(m["wd"])) if month else None
        if m["iy"]:
            return date(int(m["iy"]), int(m["im"]), int(m["id"]))
        if m["pm"]:
            month = _month(m["pm"])
            if not month:
                return None
            text = f"{MONTHS[month - 1]} {m['py']}"
            return f"{m['part']} {text}" if m["part"] else text
    except ValueError:
        return None
    return None


def german(day: date | str) -> str:
    return day.strftime("%d.%m.%Y") if isinstance(day, date) else day


def _real_name(name: str) -> bool:
    tokens = [t for t in name.split() if t not in {"Dr.", "Prof."}]
    first = tokens[0].lower()
    return (
        not any(t.lower() in STOPWORDS for t in tokens if t[0].isupper())
        and not first.endswith(_NOT_NAME_ENDS)
        and not any(t.lower().endswith(("ung", "schaft", "gmbh")) for t in tokens)
        and tokens[0] not in {"Herr", "Frau", "Landkreis", "Stadt", "Gemeinde"}
    )


@dataclass
class _Found:
    """One candidate before it gets its id: the key that makes it unique, the name its id is made of, fields."""

    key: str
    name: str
    fields: dict[str, Any]


def _candidates(doc: Document, section: Section, chunk: str) -> Iterator[_Found]:
    """Events, application periods, people with roles and e-mail addresses stated in single sentences."""
    context = ""
    for line in chunk.split("\n"):
        for sentence in _sentences(line.lstrip("– ")):
            yield from _event(sentence, section)
            yield from _call(sentence, section, doc, context)
            yield from _contacts(sentence)
            context = f"{context} {sentence}"


def _event(sentence: str, section: Section) -> Iterator[_Found]:
    if not _EVENT_VERB.search(sentence) or (_CALL_WORD.search(sentence) and " vom " in sentence):
        return
    for m in _DATE.finditer(sentence):
        day = _found_date(m)
        if day is None:
            continue
        before = re.search(r"\b(am|vom|ab|zum)\s+(?:\w+,?\s+(?:den\s+)?)?$", sentence[: m.start()])
        if isinstance(day, date) and not before:
            continue
        when = f"ab {german(day)}" if before and before[1] in {"vom", "ab"} else f"am {german(day)}"
        status = (
            "stattgefunden" if _PAST.search(sentence) else "geplant" if _FUTURE.search(sentence) else None
        )
        if status is None:
            latest = day if isinstance(day, date) else None
            status = "stattgefunden" if latest and latest < date.today() else "geplant"
        subject = _subject(sentence)
        if not isinstance(day, date):
            when = german(day)
        title = f"{subject} {when}" if subject else f"Termin {when}"
        if not subject and section.heading:
            title = f"{title} ({section.heading})"
        fields = {"type": "event", "title": title, "text": sentence, "date": day, "status": status}
        yield _Found(f"event {german(day)} {subject or section.heading or ''}", title, fields)
        return


_NOT_SUBJECT = frozenset(
    {
        "am", "im", "in", "an", "bei", "dort", "heute", "dann", "danach", "zudem", "außerdem", "auch", "es",
        "wir", "sie", "er", "hier", "nun", "jetzt", "so", "damit", "dazu", "diese", "dieser", "dieses",
    }
)  # fmt: skip


def _subject(sentence: str) -> str | None:
    """The name of an event when the sentence starts with it: "Der 8. Regionaldialog findet …"."""
    m = re.match(
        r"(?P<s>[^,;:()]{3,70}?)\s+(?:findet|finden|fand|fanden|wird|soll|tagt|tagte|lädt|lud)\b", sentence
    )
    if not m:
        return None
    words = m["s"].split()
    if not words or len(words) > 8 or words[0].lower() in _NOT_SUBJECT or _DATE.search(m["s"]):
        return None
    article = words[0].lower() in {"der", "die", "das", "unser", "unsere", "ein", "eine"}
    if article and len(words) > 1 and (words[1][0].isupper() or words[1][0].isdigit()):
        words = words[1:]
    subject = " ".join(words)
    return subject[0].upper() + subject[1:]


def _call(sentence: str, section: Section, doc: Document, context: str) -> Iterator[_Found]:
    if not (_CALL_WORD.search(sentence) or _CALL_WORD.search(section.heading or "")):
        return
    opens = closes = None
    for m in re.finditer(r"\b(?:vom|von)\s+", sentence):
        rest = sentence[m.end() :]
        start = _DATE.match(rest)
        partial = None if start else re.match(_DAY_NO_YEAR, rest)
        head = start or partial
        if head is None:
            continue
        tail = re.match(r"\s*(?:bis(?:\s+(?:zum|einschließlich))?|–|-)\s*", rest[head.end() :])
        if not tail:
            continue
        end = _DATE.match(rest[head.end() + tail.end() :])
        closes = _found_date(end) if end else None
        if not isinstance(closes, date):
            continue
        if start:
            opens = _found_date(start)
        else:
            month = int(partial["om"]) if partial["om"] else _month(partial["owm"])
            try:
                opens = date(closes.year, month or 0, int(partial["od"]))
            except ValueError:
                opens = None
        if isinstance(opens, date) and opens <= closes:
            break
        opens = closes = None
    if closes is None:
        deadline = _DEADLINE.search(sentence)
        end = _DATE.match(sentence[deadline.end() :]) if deadline else None
        found = _found_date(end) if end else None
        if not isinstance(found, date) or not _CALL_WORD.search(sentence):
            return
        closes = found
    programme = _programme(sentence) or _programme(context) or _programme_from(section.heading)
    programme = programme or _programme_from(doc.title)
    if not programme:
        return  # without a programme the period stays in the info text only
    span = f"{german(opens)} bis {german(closes)}" if opens else f"Frist {german(closes)}"
    fields: dict[str, Any] = {"type": "funding_call", "title": f"{programme}: {span}", "text": sentence}
    fields["programme"] = programme
    if opens:
        fields["opens"] = opens
    fields["closes"] = closes
    yield _Found(f"call {programme} {closes}", fields["title"], fields)


def _programme(text: str) -> str | None:
    found = list(_PROGRAMME.finditer(text))
    if not found:
        return None
    return found[-1][0].strip()


def _programme_from(text: str | None) -> str | None:
    return text if text and _CALL_WORD.search(text) else None


def _contacts(sentence: str) -> Iterator[_Found]:
    people: dict[str, str] = {}
    for pattern in _CONTACT_PATTERNS:
        for m in pattern.finditer(sentence):
            name, role = m["name"].strip(), " ".join(m["role"].split()).rstrip(" ,.-")
            if name not in people and _real_name(name) and len(role) <= 120:
                people[name] = role
    emails = [
        e.rstrip(".") for e in _EMAIL.findall(_OBFUSCATED_DOT.sub(".", _OBFUSCATED_AT.sub("@", sentence)))
    ]
    emails = [e.split("@")[0] + "@" + e.split("@")[1].lower() for e in dict.fromkeys(emails)]
    for name, role in people.items():
        fields: dict[str, Any] = {"type": "contact", "title": f"{name} – {role}", "text": sentence}
        fields |= {"person": name, "role": role}
        mine = [e for e in emails if _fold(name.split()[-1]) in _fold(e.split("@")[0])]
        if len(people) == 1 and len(emails) == 1:
            mine = emails
        if mine:
            fields["email"] = mine[0]
            emails.remove(mine[0])
        yield _Found(f"person {name}", name, fields)
    for email in emails:
        fields = {"type": "contact", "title": f"E-Mail {email}", "text": sentence, "email": email}
        yield _Found(f"email {email}", f"E-Mail {email}", fields)


def _fold(text: str) -> str:
    text = text.lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}))
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


# --------------------------------------------------------------------------- drafting entries


def slug(text: str, limit: int = 40) -> str:
    """ASCII slug of at most `limit` characters, cut between words: "Förderaufruf 2024" → "foerderaufruf-2024"."""
    out = ""
    for word in re.findall(r"[a-z0-9]+", _fold(text)):
        longer = f"{out}-{word}" if out else word
        if len(longer) > limit:
            return out or word[:limit]
        out = longer
    return out


def draft(
    doc: Document,
    taken_ids: set[str] | None = None,
    taken_titles: set[str] | None = None,
    prefix: str | None = None,
) -> list[dict]:
    """The entries of one document: info entries per section part, then candidates with `review: offen`.

    Ids are the document's slug and the title's; titles already used in other files get the document's
    title in brackets, so `regiobot check` finds every id and title unique. `prefix` (default: the file
    name's slug) keeps the ids of an earlier import when the document comes back under a new file name.
    """
    prefix = prefix or slug(doc.path.stem, 30) or "dokument"
    ids, titles = set(taken_ids or ()), {_title_key(t) for t in taken_titles or ()}
    infos: list[_Found] = []
    found: dict[str, _Found] = {}
    parts: Counter[str] = Counter()  # parts per heading: a heading used twice goes on counting
    for section in doc.sections:
        for chunk in _chunks(section):
            base = section.heading or _first_words(chunk) or "Abschnitt"
            parts[base] += 1
            title = f"{base} (Teil {parts[base]})" if parts[base] > 1 else base
            infos.append(_Found(title, title, {"type": "info", "title": title, "text": chunk}))
            for candidate in _candidates(doc, section, chunk):
                found.setdefault(candidate.key, candidate)
    entries: list[dict] = []
    for item in [*infos, *found.values()]:
        fields = item.fields if item.fields["type"] == "info" else item.fields | {"review": "offen"}
        if fields["type"] == "contact" and "person" not in fields:
            fields = {**fields, "person": doc.title}
        title = _unique_title(fields["title"], doc.title, titles)
        entry_id = _unique_id(f"{prefix}-{slug(item.name)}".rstrip("-"), ids)
        order = ["type", "title", "review", "text"]
        entry = {"id": entry_id} | {k: fields[k] for k in order if k in fields} | {"title": title}
        entries.append(entry | {k: v for k, v in fields.items() if k not in entry})
    return entries


def _title_key(title: str) -> str:
    return " ".join(title.lower().split())


def _unique_title(title: str, document: str, taken: set[str]) -> str:
    candidate = title
    if _title_key(candidate) in taken and _title_key(document) not in _title_key(title):
        candidate = f"{title} ({document})"
    n = 2
    while _title_key(candidate) in taken:
        candidate = f"{title} ({n})"
        n += 1
    taken.add(_title_key(candidate))
    return candidate


def _unique_id(base: str, taken: set[str]) -> str:
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base}-{n}"
        n += 1
    taken.add(candidate)
    return candidate


def fingerprint(entry: dict) -> str:
    """Hash of an entry's fields as written: equal after a YAML round trip, different after any edit."""
    plain = json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(plain.encode()).hexdigest()[:12]


# --------------------------------------------------------------------------- writing YAML


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # anchors are refused by the loader
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Long texts folded at the line width, paragraphs apart by a blank line: readable for staff."""
    style = ">" if "\n" in value or len(value) > 90 else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


class _PlainDumper(_Dumper):
    pass


_PlainDumper.add_representer(str, yaml.SafeDumper.represent_str)


def _dump(data: Any) -> str:
    """YAML of `data`; if folding would change a text (it should not), without folding."""
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100, indent=2)
    if yaml.safe_load(text) != data:
        text = yaml.dump(data, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False, width=100, indent=2)
    return text


def _entry_block(entry: dict, mark: str | None) -> str:
    lines = _dump([entry]).rstrip("\n").split("\n")
    if mark:
        lines[0] = f"{lines[0]}  # import {mark}"
    return "\n".join(f"  {line}" if line else "" for line in lines) + "\n"


def _header(doc: Document, today: date) -> str:
    return (
        f"{MARKER} Entwurf aus „{doc.file}“, zuletzt importiert am {today:%d.%m.%Y}.\n"
        "# Bitte prüfen: Einträge mit „review: offen“ hat der Import erkannt (Termine, Förderaufrufe, Kontakte).\n"
        "# Stimmt ein Eintrag, „review: geprüft“ setzen, sonst korrigieren oder löschen; dann `regiobot check`.\n"
        "# Ein erneuter Import derselben Datei ersetzt unveränderte Einträge; „geprüft“ oder von Hand geänderte\n"
        "# bleiben stehen (der Import meldet dann einen Konflikt). „# import …“ hinter der id bitte stehen lassen.\n"
    )


# --------------------------------------------------------------------------- importing with comparison

ChangeKind = Literal["unverändert", "geändert", "neu", "entfällt"]


@dataclass
class Conflict:
    """An entry staff checked or edited whose imported version differs: kept, the document's text shown."""

    id: str
    title: str
    reason: str
    text: str | None  # the document's new text; None when the document no longer has the entry


@dataclass
class ImportResult:
    source: Path
    target: Path
    title: str
    entries: int
    to_review: int
    previous: bool  # an earlier import of the document was compared
    changes: dict[str, list[str]] = field(default_factory=dict)  # kind → titles
    conflicts: list[Conflict] = field(default_factory=list)
    kept: int = 0  # entries added by hand to the file, kept as they are
    replaces: str | None = None  # file name of the earlier import of the same title, when it differs

    def count(self, kind: ChangeKind) -> int:
        return len(self.changes.get(kind, []))

    def summary(self) -> str:
        """German summary of a re-import: "3 unverändert, 1 geändert (Titel), 2 neu, 1 entfällt"."""

        def titles(kind: str) -> str:
            names = self.changes.get(kind, [])
            shown = ", ".join(f"„{t}“" for t in names[:3]) + (", …" if len(names) > 3 else "")
            return f" ({shown})" if shown else ""

        parts = [
            f"{self.count('unverändert')} unverändert",
            f"{self.count('geändert')} geändert{titles('geändert')}",
            f"{self.count('neu')} neu",
            f"{self.count('entfällt')} entfällt{titles('entfällt')}",
        ]
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} Konflikt{'e' if len(self.conflicts) > 1 else ''}")
        return ", ".join(parts)


@dataclass
class _Old:
    """An entry of the earlier import file: its fields, its text in the file and the recorded fingerprint."""

    data: dict
    block: str
    mark: str | None

    @property
    def protected(self) -> bool:
        return self.data.get("review") == "geprüft" or self.mark != fingerprint(self.data)


_MARK_LINE = re.compile(r"^\s*-\s+id:\s*[\"']?([a-z0-9-]+)[\"']?\s+#\s*import\s+([0-9a-f]{12})\s*$")


def _read_previous(path: Path, limits: LimitSettings) -> tuple[dict, list[_Old]]:
    """Defaults and entries of an earlier import file, each entry with its lines kept verbatim."""
    problems: list[Problem] = []
    data = _read_yaml(path, str(path), problems, limits)
    if problems or not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        why = str(problems[0]) if problems else "„entries:“ fehlt"
        raise DocumentError(f"Die bisherige Datei {path} ist fehlerhaft ({why}); bitte erst korrigieren.")
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    marks = {m[1]: m[2] for line in lines if (m := _MARK_LINE.match(line))}
    raws = [r for r in data["entries"] if isinstance(r, dict)]
    starts = [getattr(r, "line", 0) for r in raws]
    out = []
    for n, raw in enumerate(raws):
        end = starts[n + 1] - 1 if n + 1 < len(raws) else len(lines)
        block = "\n".join(lines[starts[n] - 1 : end]).rstrip("\n") + "\n"
        entry_id = str(raw.get("id", ""))
        out.append(_Old(dict(raw), block, marks.get(entry_id)))
    defaults = data.get("defaults") if isinstance(data.get("defaults"), dict) else {}
    return defaults, out


def _target(doc: Document, folder: Path, claimed: dict[Path, Path]) -> tuple[Path, str | None]:
    """The file for this document and the file name of its earlier import there, if any.

    An earlier import is found by the document's file name, else by its title (a new version under a new
    name); a file another document of the same run has written is never taken, nor one staff made by hand
    (only files starting with MARKER are). Without an earlier import: a free name after the document.
    """
    by_title: tuple[Path, str] | None = None
    mine = doc.path.resolve()
    for path in knowledge_files(folder):
        if claimed.get(path.resolve(), mine) != mine:
            continue
        try:
            with path.open(encoding="utf-8") as handle:
                if not handle.readline().startswith(MARKER):
                    continue
                head = handle.read(4_000)
        except (OSError, UnicodeDecodeError):
            continue
        file = re.search(r"^\s+file:\s*[\"']?(.+?)[\"']?\s*$", head, re.M)
        document = re.search(r"^\s+document:\s*(.+?)\s*$", head, re.M)
        if file and file[1] == doc.file:
            return path, doc.file
        if file and document and _yaml_scalar(document[1]) == doc.title and doc.title != doc.path.stem:
            by_title = by_title or (path, file[1])
    if by_title:
        return by_title
    base = slug(doc.path.stem, 60) or "dokument"
    candidate, n = folder / f"{base}.yaml", 2
    while candidate.exists() or candidate.resolve() in claimed:
        candidate = folder / f"{base}-{n}.yaml"
        n += 1
    return candidate, None


def _yaml_scalar(text: str) -> str:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, str) else text


def _source(doc: Document) -> dict:
    source: dict[str, Any] = {"document": doc.title, "file": doc.file}
    if doc.url:
        source["url"] = doc.url
    if doc.as_of:
        source["as_of"] = doc.as_of
    return source


def _taken(folder: Path, target: Path, limits: LimitSettings) -> tuple[set[str], set[str]]:
    """Ids and titles of the other knowledge files: the draft must not repeat them."""
    kb = load_knowledge(folder, limits=limits)
    mine = target.resolve()
    ids, titles = set(), set()
    for entry in kb.entries:
        if Path(kb.locations[entry.id][0]).resolve() != mine:
            ids.add(entry.id)
            titles.add(entry.title)
    return ids, titles


def import_document(
    path: Path,
    folder: Path,
    today: date,
    *,
    limits: LimitSettings | None = None,
    claimed: dict[Path, Path] | None = None,
) -> ImportResult:
    """Read one document and write (or update) its knowledge file; see the module docstring for the rules.

    `claimed` maps the files written so far in one run to their documents, so two documents of a run
    never share a file, however alike their titles.
    """
    limits = limits or LimitSettings()
    doc = read_document(path)
    folder.mkdir(parents=True, exist_ok=True)
    claimed = {} if claimed is None else claimed
    target, earlier = _target(doc, folder, claimed)
    old_defaults: dict = {}
    old: list[_Old] = []
    if earlier:
        old_defaults, old = _read_previous(target, limits)
    ids, titles = _taken(folder, target, limits)
    titles |= {str(o.data.get("title")) for o in old if o.mark is None}
    new = draft(doc, ids, titles, prefix=slug(Path(earlier).stem, 30) if earlier else None)
    defaults = {"source": _source(doc), "updated": today}
    result = ImportResult(path, target, doc.title, 0, 0, earlier is not None)
    if earlier and earlier != doc.file:
        result.replaces = earlier
    new_ids = {e["id"] for e in new}
    hand_made = [o for o in old if o.mark is None and str(o.data.get("id")) not in new_ids]
    by_id = {str(o.data.get("id")): o for o in old if o not in hand_made}  # without mark: edited by hand
    pin = {k: v for k, v in old_defaults.items() if k in ("source", "updated") and defaults.get(k) != v}
    blocks: list[str] = []
    written: list[dict] = []

    def keep(entry: _Old, pinned: bool) -> None:
        block = entry.block
        missing = {k: v for k, v in pin.items() if k not in entry.data} if pinned else {}
        if missing:  # an entry kept from the earlier import keeps the source and date it was checked against
            indent = " " * (len(block) - len(block.lstrip(" -")))
            extra = "".join(f"{indent}{line}\n" for line in _dump(missing).rstrip("\n").split("\n"))
            block = block.rstrip("\n") + "\n" + extra
        blocks.append(block)
        written.append(entry.data)

    for entry in new:
        mark = fingerprint(entry)
        before = by_id.pop(entry["id"], None)
        if before is None:
            result.changes.setdefault("neu", []).append(entry["title"])
        elif before.mark == mark:  # the document says the same as last time
            result.changes.setdefault("unverändert", []).append(entry["title"])
            keep(before, before.protected)
            continue
        elif before.protected:
            reason = "geprüft" if before.data.get("review") == "geprüft" else "von Hand geändert"
            result.conflicts.append(
                Conflict(entry["id"], str(before.data.get("title")), reason, entry["text"])
            )
            keep(before, True)
            continue
        else:
            result.changes.setdefault("geändert", []).append(entry["title"])
        blocks.append(_entry_block(entry, mark))
        written.append(entry)
    for before in by_id.values():
        if before.protected:
            reason = "geprüft" if before.data.get("review") == "geprüft" else "von Hand geändert"
            result.conflicts.append(
                Conflict(str(before.data.get("id")), str(before.data.get("title")), reason, None)
            )
            keep(before, True)
        else:
            result.changes.setdefault("entfällt", []).append(str(before.data.get("title")))
    for before in hand_made:
        keep(before, True)
        result.kept += 1
    head = _dump({"defaults": defaults}) + ("\nentries:\n" if blocks else "\nentries: []\n")
    _write(target, _header(doc, today) + "\n" + head + "\n".join(blocks))
    result.entries = len(written)
    result.to_review = sum(e.get("review") == "offen" for e in written)
    return result


def _write(path: Path, text: str) -> None:
    """Write beside and replace in one step: the bot never reads half a file."""
    partial = path.with_name(f".{path.name}.tmp")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise DocumentError(f"{path} konnte nicht geschrieben werden: {exc.strerror or exc}") from exc


def import_documents(
    paths: Iterable[Path],
    folder: Path,
    today: date,
    *,
    limits: LimitSettings | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[ImportResult | DocumentError]:
    """Import each document in turn; a document that fails is reported and the others go on."""
    paths = list(paths)
    out: list[ImportResult | DocumentError] = []
    claimed: dict[Path, Path] = {}
    for n, path in enumerate(paths, 1):
        if progress:
            progress(f"[{n}/{len(paths)}] {path.name} …")
        try:
            result = import_document(path, folder, today, limits=limits, claimed=claimed)
            claimed[result.target.resolve()] = path.resolve()
            out.append(result)
        except DocumentError as exc:
            out.append(DocumentError(f"{path}: {exc}"))
    return out
