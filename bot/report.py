"""`regiobot report`: what staff should add to the knowledge next, as text or as CSV for a spreadsheet.

Unanswered questions are the missing knowledge, so they are shown grouped: first by spelling (``normalise``:
case, spaces, trailing punctuation), then by meaning — groups whose sentence embeddings are at least
``threshold`` similar are merged (average linkage over the cosine, see ``group``). Greetings and thanks that
older versions stored as unanswered ("hallo", "danke") are small talk, not missing knowledge, and are left
out. Each group names the nearest existing entry when the engine's retrieval finds one close enough: often
the entry holds the answer and only lacks the wording, so the question belongs under its ``questions:``.

Without the encoder (``use_model=False``, ``--no-model``, or a model that cannot be loaded) the report groups
by spelling only and suggests nothing; without a usable index it groups by meaning but suggests nothing.
Either way it says so in one line. The database is read through bot.store (read-only, short-lived).
"""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from bot import db as dbm
from bot.config import Config
from bot.db import Database
from bot.dialogue.smalltalk import classify
from bot.store import (
    BIDI_RE,
    Stats,
    _de,
    _short,
    _since_clause,
    _stats,
    _unreadable,
    _where,
    normalise,
    open_readonly,
    strip_controls,
)

if TYPE_CHECKING:
    from bot.answer import Engine
    from bot.embedding import Encoder

log = logging.getLogger("regiobot.report")

# Cosine from which two spellings count as one question. Measured with USE multilingual (the default
# encoder): rewordings such as "Wann ist der nächste Regionaldialog" / "wann findet der nächste
# regionaldialog statt" reach 0.90, while different asks about one topic ("Wann …" / "Wo findet der
# Regionaldialog statt": 0.82, "… für Vereine" / "… für Unternehmen": 0.72) stay below 0.85 and get lines
# of their own. Lower it (e.g. 0.80) to merge more boldly.
DEFAULT_THRESHOLD = 0.85
MAX_MEANING_POINTS = 3000  # spellings merged by meaning at most (a float32 matrix of this size squared)
MAX_SPELLINGS = 3  # further spellings shown per group
SUGGEST_DEPTH = 5  # retrieval hits looked at for a suggestion
CSV_COLUMNS = ("anzahl", "frage", "weitere_schreibweisen", "zuletzt", "passt_zu_id", "passt_zu_titel")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a cell Excel would run as a formula


# --------------------------------------------------------------------------- grouping (pure)


@dataclass(frozen=True)
class Group:
    """Questions that ask the same: positions in the input list (ascending, i.e. in order of asking)."""

    indices: tuple[int, ...]
    keys: tuple[str, ...]
    """The normalised spellings in the group, most asked first (ties: latest first)."""

    @property
    def count(self) -> int:
        return len(self.indices)

    @property
    def last(self) -> int:
        """Position of the latest question of the group."""
        return self.indices[-1]


def _average_linkage(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Clusters of the rows whose average pairwise cosine is at least `threshold`.

    Nearest-neighbour chain: O(n²) time and memory. Average linkage never lets a merge make a cluster
    closer to a third one, so a cluster whose nearest neighbour is below the threshold is final."""
    n = len(vectors)
    sim = (vectors @ vectors.T).astype(np.float32)
    np.fill_diagonal(sim, -np.inf)
    size = np.ones(n, dtype=np.float32)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    alive = n
    done: list[list[int]] = []
    chain: list[int] = []

    def retire(i: int) -> None:
        sim[i, :] = -np.inf
        sim[:, i] = -np.inf

    while alive:
        if not chain:
            chain.append(min(members))
        a = chain[-1]
        row = sim[a]
        b = int(np.argmax(row))
        if len(chain) >= 2 and row[chain[-2]] >= row[b]:
            b = chain[-2]  # ties go to the chain, so it always ends in a reciprocal pair
        if alive == 1 or row[b] < threshold:
            done.append(members.pop(a))
            retire(a)
            alive -= 1
            chain.pop()
        elif len(chain) >= 2 and b == chain[-2]:
            # retired columns and the diagonal are -inf in one of the rows, so they stay -inf
            merged = (size[a] * sim[a] + size[b] * sim[b]) / (size[a] + size[b])
            retire(b)
            sim[a, :] = merged
            sim[:, a] = merged
            size[a] += size[b]
            members[a] += members.pop(b)
            alive -= 1
            chain.pop()
            chain.pop()
        else:
            chain.append(b)
    return done


def group(
    questions: Sequence[str], vectors: np.ndarray | None, threshold: float = DEFAULT_THRESHOLD
) -> list[Group]:
    """Group questions (in the order they were asked) by spelling, then by meaning.

    `vectors[i]` is the L2-normalised embedding of `questions[i]`; None groups by spelling only. Spelling
    groups (``normalise``) are merged while their average cosine is at least `threshold`. Empty spellings
    are left out. Groups come most asked first, ties latest first."""
    by_key: dict[str, list[int]] = {}
    for i, question in enumerate(questions):
        if key := normalise(question):
            by_key.setdefault(key, []).append(i)
    keys = sorted(by_key, key=lambda k: (len(by_key[k]), by_key[k][-1]), reverse=True)
    clusters: list[list[str]] = [[k] for k in keys]
    if vectors is not None and len(keys) > 1:
        vectors = np.asarray(vectors, dtype=np.float32)
        merged = keys[:MAX_MEANING_POINTS]  # the most asked; the rest stay spelling groups
        points = np.stack([vectors[by_key[k]].mean(axis=0) for k in merged])
        norms = np.linalg.norm(points, axis=1, keepdims=True)
        points /= np.where(norms == 0, 1.0, norms)
        clusters = [[merged[i] for i in sorted(c)] for c in _average_linkage(points, threshold)]
        clusters += [[k] for k in keys[MAX_MEANING_POINTS:]]
    groups = [Group(tuple(sorted(i for k in c for i in by_key[k])), tuple(c)) for c in clusters]
    return sorted(groups, key=lambda g: (g.count, g.last), reverse=True)


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class Suggestion:
    """An existing entry a missing question probably belongs to."""

    id: str
    title: str
    similarity: float


@dataclass(frozen=True)
class Missing:
    """One group of unanswered questions: a line of the report, a row of the CSV."""

    count: int
    question: str
    """The latest spelling."""
    spellings: list[str]
    """Up to MAX_SPELLINGS further spellings, most asked first."""
    last: str
    """Time of the latest question (ISO, as stored)."""
    suggestion: Suggestion | None = None


@dataclass(frozen=True)
class Disliked:
    """Answers rated 👎, by source entry."""

    source_id: str
    title: str
    count: int
    last: str
    questions: list[str]


@dataclass
class Report:
    since: date | None
    stats: Stats | None
    """None when the bot has not written a database yet."""
    missing: list[Missing] = field(default_factory=list)
    groups: int = 0
    """Groups of unanswered questions in all (``missing`` may hold only the first ones)."""
    smalltalk: int = 0
    """Unanswered rows left out as small talk."""
    disliked: list[Disliked] = field(default_factory=list)
    note: str = ""
    """One line on what the report could not do (no model, no index), else empty."""
    path: str = ""


def _rows(conn: Database, since: date | None, limit: int) -> tuple[list[tuple[str, str]], list]:
    where, args = _since_clause("asked_at", since)
    unanswered = conn.execute(
        f"SELECT question, asked_at FROM questions WHERE found = 0 AND {where} ORDER BY asked_at, id", args
    ).fetchall()
    where_fb, args_fb = _since_clause("f.at", since)
    disliked = conn.execute(
        "SELECT MAX(COALESCE(q.source_id, '')), MAX(COALESCE(q.source_title, '')), COUNT(*), MAX(f.at), "
        + ("string_agg(q.question, chr(31)) " if conn.postgres else "GROUP_CONCAT(q.question, char(31)) ")
        + "FROM feedback f JOIN questions q ON q.id = f.question_id "
        f"WHERE f.vote = -1 AND {where_fb} "
        "GROUP BY COALESCE(q.source_id, q.question) ORDER BY COUNT(*) DESC, MAX(f.at) DESC LIMIT ?",
        (*args_fb, limit),
    ).fetchall()
    return [(str(q), str(at)) for q, at in unanswered], disliked


NO_MODEL = "nur gleiche Schreibweisen zusammengefasst, keine Vorschläge passender Einträge."
NO_SUGGESTIONS = "keine Vorschläge passender Einträge."


def _load_model(config: Config, encoder: Encoder | None, engine: Engine | None) -> tuple[Any, Any, str]:
    """Encoder and engine for grouping by meaning and suggestions, and what is missing as one German line.

    The index is loaded as it is (never built: a report must not write); one built with another encoder
    cannot be searched with this one."""
    if engine is not None:
        return engine.encoder, engine, ""
    if encoder is None:
        from bot.embedding import load_encoder

        try:
            encoder = load_encoder(config.embedding)
        except Exception as exc:  # any model failure only costs the report its grouping by meaning
            log.debug("Sprachmodell nicht geladen", exc_info=True)
            return None, None, f"Hinweis: Sprachmodell nicht verfügbar ({type(exc).__name__}) – {NO_MODEL}"
    from bot.answer import Engine
    from bot.index import IndexMissing

    try:
        engine = Engine.load(config, encoder=encoder, rebuild=False)
    except Exception as exc:  # no index, or an unreadable one: group by meaning, suggest nothing
        log.debug("Index nicht geladen", exc_info=True)
        problem = (
            "kein Index" if isinstance(exc, IndexMissing) else f"Index nicht lesbar ({type(exc).__name__})"
        )
        return encoder, None, f"Hinweis: {problem} in {config.index_dir} (regiobot build) – {NO_SUGGESTIONS}"
    if (built := engine.index.manifest.encoder) != encoder.name:
        note = f"Hinweis: Index mit anderem Sprachmodell gebaut ({built}; regiobot build) – {NO_SUGGESTIONS}"
        return encoder, None, note
    return encoder, engine, ""


def suggest(engine: Engine, question: str, floor: float | None = None) -> Suggestion | None:
    """The best-ranked entry whose cosine to the question reaches `floor` (default: the engine's
    answer.more_min_similarity, the floor of "Weitere Treffer"), else None."""
    floor = engine.config.answer.more_min_similarity if floor is None else floor
    for hit in engine.retrieve(question, limit=SUGGEST_DEPTH).hits:
        if hit.dense >= floor:
            return Suggestion(hit.entry.id, hit.entry.title, float(hit.dense))
    return None


def _missing(questions: list[str], times: list[str], g: Group, suggestion: Suggestion | None) -> Missing:
    headline = questions[g.last]
    latest: dict[str, int] = {}
    for i in g.indices:
        latest[normalise(questions[i])] = i
    counts = Counter(normalise(questions[i]) for i in g.indices)
    others = sorted(
        (k for k in latest if k != normalise(headline)), key=lambda k: (counts[k], latest[k]), reverse=True
    )
    spellings = [questions[latest[k]] for k in others[:MAX_SPELLINGS]]
    return Missing(g.count, headline, spellings, times[g.last], suggestion)


def build_report(
    config: Config,
    since: date | None = None,
    limit: int | None = 20,
    *,
    use_model: bool = True,
    threshold: float = DEFAULT_THRESHOLD,
    encoder: Encoder | None = None,
    engine: Engine | None = None,
) -> Report:
    """Read the store and group what is missing. `limit` caps the groups (with suggestions) and the 👎
    entries; None keeps all groups (CSV). The model is loaded only when there are unanswered questions;
    `engine` (or `encoder`) reuses one already loaded. Raises StoreError when the database is unreadable."""
    conn = open_readonly(config)
    report = Report(since, None, path=_where(config))
    if conn is None:
        return report
    try:
        report.stats = _stats(conn, since)
        rows, disliked = _rows(conn, since, limit if limit is not None else 2**31)
    except dbm.ERRORS as exc:
        raise _unreadable(config, exc) from exc
    finally:
        conn.close()

    kept = [(q, at) for q, at in rows if normalise(q) and classify(q) is None]
    report.smalltalk = sum(1 for q, _ in rows if normalise(q)) - len(kept)
    questions = [q for q, _ in kept]
    times = [at for _, at in kept]
    vectors = None
    if questions and use_model:
        encoder, engine, report.note = _load_model(config, encoder, engine)
        if encoder is not None:
            first: dict[str, int] = {}
            for i, q in enumerate(questions):
                first.setdefault(normalise(q), i)
            encoded = encoder.encode([questions[i] for i in first.values()])
            position = {k: n for n, k in enumerate(first)}
            vectors = encoded[[position[normalise(q)] for q in questions]]
    elif questions:
        report.note = f"Hinweis: ohne Sprachmodell – {NO_MODEL}"
    groups = group(questions, vectors, threshold)
    report.groups = len(groups)
    shown = groups if limit is None else groups[:limit]
    report.missing = [
        _missing(questions, times, g, suggest(engine, questions[g.last]) if engine is not None else None)
        for g in shown
    ]
    report.disliked = [
        Disliked(
            str(source_id),
            str(title),
            int(count),
            str(last),
            [q for q in dict.fromkeys(str(asked or "").split("\x1f")) if q],
        )
        for source_id, title, count, last, asked in disliked
    ]
    return report


# --------------------------------------------------------------------------- output


def _clean(text: str) -> str:
    """What people typed, safe for a terminal: no control or bidi characters."""
    return BIDI_RE.sub("", strip_controls(text))


def format_text(report: Report) -> str:
    """The German plain-text report; prints no control characters, whatever people typed."""
    since = report.since
    head = f"regiobot-Bericht seit {since:%d.%m.%Y}" if since else "regiobot-Bericht (gesamter Zeitraum)"
    s = report.stats
    if s is None:
        return _clean(
            f"{head}\n\nNoch keine Daten: {report.path} gibt es noch nicht (der Bot lief noch nicht)."
        )
    lines = [
        head,
        "",
        f"Fragen: {s.questions}, davon beantwortet: {s.answered}, ohne Antwort: {s.abstentions}"
        + (f", nicht zugestellt: {s.undelivered}" if s.undelivered else ""),
        f"Rückmeldungen: {s.likes}× 👍, {s.dislikes}× 👎",
    ]
    if report.smalltalk:
        lines.append(f"Nicht mitgezählt: {report.smalltalk}× Grüße, Dank und Small Talk ohne Antwort.")
    if report.note:
        lines.append(report.note)
    lines += ["", "Häufigste unbeantwortete Fragen (hier fehlt Wissen):"]
    if not report.missing:
        lines.append("  (keine)")
    for m in report.missing:
        lines.append(f"  {m.count:>3}×  {_short(m.question)}  (zuletzt {_de(_short(m.last))})")
        if m.spellings:
            lines.append("        auch: " + " | ".join(f"„{_short(q, 60)}“" for q in m.spellings))
        if m.suggestion:
            lines.append(
                f"        passt vielleicht zu: „{_short(m.suggestion.title)}“ ({_short(m.suggestion.id)}) – "
                "Frage dort unter `questions:` ergänzen"
            )
    if len(report.missing) < report.groups:
        lines.append(f"  … und {report.groups - len(report.missing)} weitere (alle: --format csv)")
    lines += ["", "Negativ bewertete Antworten (👎; Eintrag prüfen oder ergänzen):"]
    if not report.disliked:
        lines.append("  (keine)")
    for d in report.disliked:
        name = f"„{_short(d.title)}“ ({_short(d.source_id)})" if d.source_id else "ohne Quelle"
        examples = list(dict.fromkeys(_short(q, 60) for q in d.questions))[:3]
        lines.append(f"  {d.count:>3}× 👎  {name}, zuletzt {_de(_short(d.last))}")
        if examples:
            lines.append("        Fragen: " + " | ".join(f"„{q}“" for q in examples))
    return _clean("\n".join(lines))


def _cell(text: str) -> str:
    """One line without control characters; a leading =, +, -, @ is quoted so Excel shows, never runs it."""
    text = " ".join(_clean(text).split())
    return "'" + text if text.startswith(FORMULA_START) else text


def format_csv(report: Report) -> str:
    """The unanswered groups as CSV for Excel and LibreOffice: a BOM first (so Excel reads UTF-8 and shows
    umlauts), ";" between cells (what German Excel expects), CRLF line ends, one header row (CSV_COLUMNS).
    `zuletzt` is "JJJJ-MM-TT HH:MM" (local time of the bot). Further spellings are joined by " | "."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for m in report.missing:
        writer.writerow(
            [
                m.count,
                _cell(m.question),
                _cell(" | ".join(m.spellings)),
                _cell(m.last[:16].replace("T", " ")),
                _cell(m.suggestion.id) if m.suggestion else "",
                _cell(m.suggestion.title) if m.suggestion else "",
            ]
        )
    return "\ufeff" + out.getvalue()
