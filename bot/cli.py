"""`regiobot` command line: check, new, import, build, ask, chat, eval, run, report, purge, calendar."""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_german import GermanTyper
from bot.config import Config, ConfigError, load_config

app = GermanTyper(
    add_completion=False,
    no_args_is_help=True,
    help="regiobot – beantwortet Fragen zu regionalen Kooperationsangeboten in Mitteldeutschland.",
)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        metavar="DATEI",
        help="Andere Konfigurationsdatei (sonst $REGIOBOT_CONFIG oder config.yaml).",
    ),
]
KnowledgeOpt = Annotated[
    Path | None,
    typer.Option(
        "--knowledge", metavar="ORDNER", help="Wissensordner (statt knowledge_dir aus config.yaml)."
    ),
]
IndexOpt = Annotated[
    Path | None,
    typer.Option("--index", metavar="ORDNER", help="Indexordner (statt index_dir aus config.yaml)."),
]
TodayOpt = Annotated[
    str | None,
    typer.Option("--today", metavar="JJJJ-MM-TT", help="Stichtag für zeitbezogene Fragen (Standard: heute)."),
]
DEFAULT_EVAL = Path("../shared/eval/dev_questions.yaml")


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _config(path: Path | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise _fail(f"Fehler in der Konfiguration:\n{exc}", 2) from exc


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise _fail(f"Ungültiges Datum „{value}“: bitte JJJJ-MM-TT, z. B. 2024-03-01.", 2) from exc


def _engine(config: Config, knowledge: Path | None, index: Path | None, progress: bool = True):
    from bot.answer import Engine
    from bot.embedding import EncoderError
    from bot.index import BuildError, IndexMissing

    try:
        return Engine.load(config, knowledge_dir=knowledge, index_dir=index, progress=progress)
    except EncoderError as exc:
        raise _fail(str(exc), 2) from exc
    except BuildError as exc:
        typer.echo("Das Wissen enthält Fehler; es wurde kein Index gebaut:", err=True)
        raise _fail("\n".join(exc.problems), 1) from exc
    except IndexMissing as exc:
        raise _fail(str(exc), 1) from exc


@app.command()
def check(
    path: Annotated[
        Path | None,
        typer.Argument(
            metavar="ORDNER", help="Wissensordner, kurz für --knowledge (Standard aus config.yaml)."
        ),
    ] = None,
    config_path: ConfigOpt = None,
    knowledge: KnowledgeOpt = None,
) -> None:
    """Wissensdateien prüfen: Syntax, Schema, IDs, Verweise, Daten."""
    from bot.knowledge import load_knowledge

    if path and knowledge and path.resolve() != knowledge.resolve():
        raise _fail(f"Zwei Wissensordner angegeben ({path} und --knowledge {knowledge}); bitte nur einen.", 2)
    config = _config(config_path)
    kb = load_knowledge(
        path or knowledge or config.knowledge_dir,
        config.today_or_now(),
        config.check.max_age_days,
        limits=config.limits,
    )
    for problem in kb.problems:
        typer.echo(str(problem), err=not problem.warning)
    if not kb.ok:
        raise _fail(f"{len(kb.errors)} Fehler gefunden. Bitte korrigieren und erneut prüfen.", 1)
    warn = f", {len(kb.warnings)} Warnungen" if kb.warnings else ""
    typer.echo(f"OK: {kb.summary()}{warn}.")


@app.command()
def new(
    kind: Annotated[
        str,
        typer.Argument(
            metavar="TYP",
            help="Art des Eintrags: info, event, funding_call, contact, organisation, project, membership.",
        ),
    ],
    entry_id: Annotated[
        str | None,
        typer.Option(
            "--id", metavar="ID", help="ID des neuen Eintrags (Standard z. B. „neue-veranstaltung“)."
        ),
    ] = None,
    append: Annotated[
        Path | None,
        typer.Option(
            "--append",
            metavar="DATEI",
            help="Den Eintrag ans Ende von „entries:“ dieser Wissensdatei anhängen (fehlt sie, wird sie angelegt).",
        ),
    ] = None,
    config_path: ConfigOpt = None,
) -> None:
    """Vorlage für einen neuen Eintrag zeigen: jedes Feld mit Erklärung und Beispielwert (oder gleich anhängen)."""
    from bot.templates import AppendError, append_entry, template

    config = _config(config_path)
    try:
        if append is None:
            typer.echo(template(kind, entry_id, config.today_or_now()), nl=False)
            return
        line = append_entry(append, kind, entry_id, config.today_or_now())
    except ValueError as exc:
        raise _fail(str(exc), 2) from exc
    except AppendError as exc:
        raise _fail(f"{append}: {exc}", 1) from exc
    typer.echo(
        f"{append}:{line}: neuer Eintrag ({kind}) angehängt. Bitte die Beispielwerte ersetzen, "
        "„review: offen“ nach der Prüfung auf „geprüft“ setzen und dann regiobot check ausführen."
    )


@app.command()
def build(
    config_path: ConfigOpt = None,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Alle Einträge neu einbetten.")] = False,
) -> None:
    """Index aus dem Wissen bauen (inkrementell und atomar)."""
    from bot.embedding import EncoderError, load_encoder
    from bot.index import BuildError, build_index

    config = _config(config_path)
    try:
        encoder = load_encoder(config.embedding)
        report = build_index(
            config, encoder, knowledge_dir=knowledge, index_dir=index, force=force, progress=True
        )
    except EncoderError as exc:
        raise _fail(str(exc), 2) from exc
    except BuildError as exc:
        typer.echo("Das Wissen enthält Fehler; der bisherige Index bleibt unverändert:", err=True)
        raise _fail("\n".join(exc.problems), 1) from exc
    if report.skipped:
        typer.echo(f"Index ist aktuell ({report.entries} Einträge): {report.path}")
    else:
        typer.echo(
            f"Index gebaut: {report.entries} Einträge ({report.embedded} neu eingebettet, {report.reused} "
            f"übernommen, {report.removed} entfernt) in {report.seconds:.2f} s → {report.path}"
        )


ASK_HINT = """Bitte eine Frage angeben, z. B.:
  regiobot ask "Wann ist der nächste Regionaldialog?"
Viele Fragen auf einmal (eine pro Zeile):  regiobot ask < fragen.txt
Ein Gespräch mit Nachfragen:               regiobot chat"""


def _stdin_is_terminal() -> bool:
    """Whether a person types at stdin (then `ask` without a question explains itself instead of waiting)."""
    return sys.stdin.isatty()


@app.command()
def ask(
    question: Annotated[
        str | None,
        typer.Argument(metavar="FRAGE", help="Frage; ohne Frage: eine Frage pro Zeile von stdin."),
    ] = None,
    today: TodayOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Eine JSON-Zeile pro Antwort.")] = False,
    config_path: ConfigOpt = None,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Eine Frage beantworten (oder viele, zeilenweise von stdin; jede für sich, ohne Gesprächsverlauf)."""
    if question is None and _stdin_is_terminal():
        raise _fail(ASK_HINT, 2)
    from bot.dialogue import Dialogue

    config = _config(config_path)
    day = _date(today)
    dialogue = Dialogue(_engine(config, knowledge, index, progress=not as_json), None, config)
    questions = [question] if question is not None else (line.rstrip("\n") for line in sys.stdin)
    for q in questions:
        if question is None and not q.strip():
            continue
        answer = dialogue.answer(q, today=day)
        if as_json:
            typer.echo(json.dumps(answer.as_json(), ensure_ascii=False))
        else:
            typer.echo(answer.plain() + ("\n" if question is None else ""))


@app.command()
def chat(
    today: TodayOpt = None,
    config_path: ConfigOpt = None,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Im Terminal mit regiobot chatten (ohne Telegram): Nachfragen, Befehle wie /termine, Knöpfe per Nummer."""
    from bot.dialogue import Dialogue
    from bot.dialogue.terminal import run as run_terminal
    from bot.store import Store

    config = _config(config_path)
    day = _date(today)
    engine = _engine(config, knowledge, index)
    interactive = sys.stdin.isatty()
    typer.echo("regiobot – stellen Sie Ihre Frage. Befehle: /start, /hilfe, /termine, /foerderung, /kontakt.")
    typer.echo(
        "Knöpfe wählen Sie mit ihrer Nummer, „mehr“ zeigt weitere Treffer; beenden mit „exit“ oder Strg+D."
    )
    for example in engine.example_questions(3):
        typer.echo(f"  z. B.: {example}")
    store = Store(config)
    try:
        run_terminal(
            Dialogue(engine, store, config),
            read=lambda: input("\nFrage: " if interactive else ""),
            write=lambda text: typer.echo(text if interactive else f"{text}\n"),
            today=day,
        )
    finally:
        store.close()
    typer.echo("")


class _Progress:
    """Progress such as „Frage 40/130 …“ on stderr, so stdout stays clean: rewritten in place on a
    terminal, elsewhere (a log, a pipe) one line every ten seconds, so a log shows the run is alive."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total = label, total
        self.terminal = sys.stderr.isatty()
        self.shown = time.monotonic()

    def step(self, n: int) -> None:
        text = f"{self.label} {n}/{self.total} …"
        if self.terminal:
            typer.echo(f"\r{text}", err=True, nl=False)
        elif time.monotonic() - self.shown >= 10:
            typer.echo(text, err=True)
            self.shown = time.monotonic()

    def done(self) -> None:
        if self.terminal:
            typer.echo("\r" + " " * (len(self.label) + 30) + "\r", err=True, nl=False)


@app.command("eval")
def evaluate_cmd(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="FRAGENSATZ",
            help="Fragensätze (YAML); mehrere werden nebeneinander berichtet. Standard: Entwicklungsfragen.",
        ),
    ] = None,
    xquad: Annotated[
        Path | None,
        typer.Option("--xquad", metavar="DATEI", help="XQuAD-JSON: Retrieval-Recall messen."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Antworten fehlgeschlagener Fälle zeigen.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Zusammenfassung als JSON.")] = False,
    config_path: ConfigOpt = None,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Antwortqualität messen: Fragensätze (etwa Entwicklungs- und Held-out-Fragen) oder Retrieval auf XQuAD."""
    from bot.evaluation import EvalReport, evaluate, load_cases, retrieval_metrics, xquad_knowledge

    config = _config(config_path)
    if xquad:
        with tempfile.TemporaryDirectory(prefix="regiobot-xquad-") as tmp:
            folder = Path(tmp) / "knowledge"
            pairs = xquad_knowledge(xquad, folder)
            engine = _engine(config, folder, index or Path(tmp) / "index")
            typer.echo(f"XQuAD: {len(pairs)} Fragen werden gesucht …", err=True)
            metrics = retrieval_metrics(engine, pairs)
        typer.echo(json.dumps(metrics) if as_json else "\n".join(f"{k}: {v:.3f}" for k, v in metrics.items()))
        return
    files = files or [DEFAULT_EVAL]
    for file in files:
        if not file.exists():
            raise _fail(f"Fragensatz {file} nicht gefunden.", 2)
    engine = _engine(config, knowledge, index)
    summaries: dict[str, dict[str, float]] = {}
    for file in files:
        cases = load_cases(file)
        progress = _Progress(f"{file.name}: Frage", len(cases))
        report = EvalReport()
        for n, case in enumerate(cases, 1):
            progress.step(n)
            report.results += evaluate(engine, [case]).results
        progress.done()
        summaries[file.name] = report.summary()
        if as_json:
            continue
        typer.echo(f"== {file}")
        for r in report.results:
            typer.echo(f"{'PASS' if r.passed else 'FAIL'} {r.case.id} [{r.case.kind}]")
            if verbose and not r.passed:
                typer.echo("    " + r.answer.plain().replace("\n", "\n    "))
    if as_json:
        typer.echo(json.dumps(summaries if len(files) > 1 else summaries[files[0].name]))
        return
    typer.echo("\n" + format_summaries(summaries))


def format_summaries(summaries: dict[str, dict[str, float]]) -> str:
    """One column per question set, so dev and held-out figures stand side by side."""
    rows = [
        ("In-scope-Genauigkeit", "answer_accuracy", "{:.3f}", "in_scope_cases"),
        ("Enthaltung (out of scope)", "abstention_accuracy", "{:.3f}", "out_of_scope_cases"),
        ("Near misses abgelehnt/teilweise", "near_miss_declined", "{:.3f}", "near_miss_cases"),
        ("Median Antwortlänge (Zeichen)", "median_answer_chars", "{:.0f}", None),
        ("Längste Antwort (Zeichen)", "max_answer_chars", "{:.0f}", None),
        ("hit@1 der Quellen", "hit_at_1", "{:.3f}", "ranked_cases"),
        ("Mittlere Latenz (ms)", "mean_latency_ms", "{:.1f}", None),
    ]
    names = list(summaries)
    width = max(12, *(len(n) for n in names))
    lines = ["".ljust(34) + "".join(n.ljust(width + 2) for n in names)]
    for label, key, fmt, count in rows:
        cells = []
        for name in names:
            s = summaries[name]
            cell = fmt.format(s[key]) + (f" ({s[count]:.0f})" if count else "")
            cells.append(cell.ljust(width + 2))
        lines.append(label.ljust(34) + "".join(cells))
    return "\n".join(lines)


@app.command()
def run(config_path: ConfigOpt = None, knowledge: KnowledgeOpt = None, index: IndexOpt = None) -> None:
    """Telegram-Bot starten (Token aus TELEGRAM_BOT_TOKEN)."""
    from bot.telegram import run as run_bot

    config = _config(config_path)
    chosen = {"knowledge_dir": knowledge, "index_dir": index}
    config = config.model_copy(update={name: path.resolve() for name, path in chosen.items() if path})
    raise typer.Exit(run_bot(config))


@app.command()
def report(
    since: Annotated[
        str | None, typer.Option("--since", help="Nur Fragen ab diesem Tag (JJJJ-MM-TT).")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="text|csv",
            help="text (Standard, die 20 häufigsten) oder csv (alle Gruppen, für Excel/LibreOffice: UTF-8 mit "
            "BOM, Trennzeichen „;“), z. B. regiobot report --format csv > bericht.csv",
        ),
    ] = "text",
    no_model: Annotated[
        bool,
        typer.Option(
            "--no-model",
            help="Ohne Sprachmodell (schnell): nur gleiche Schreibweisen zusammenfassen, keine Vorschläge.",
        ),
    ] = False,
    config_path: ConfigOpt = None,
) -> None:
    """Zeigen, welches Wissen fehlt: unbeantwortete Fragen (nach Bedeutung gruppiert, mit passendem Eintrag)
    und negativ bewertete Antworten."""
    from bot.report import build_report, format_csv, format_text
    from bot.store import StoreError

    config = _config(config_path)
    day = _date(since)
    kind = fmt.strip().lower()
    if kind not in ("text", "csv"):
        raise _fail(f"Unbekanntes Format „{fmt}“: bitte text oder csv.", 2)
    try:
        result = build_report(config, day, 20 if kind == "text" else None, use_model=not no_model)
    except StoreError as exc:
        raise _fail(str(exc), 2) from exc
    if kind == "text":
        typer.echo(format_text(result))
        return
    if result.note:
        typer.echo(result.note, err=True)
    typer.echo(format_csv(result).encode("utf-8"), nl=False)  # bytes: the BOM whatever the terminal's locale


@app.command()
def purge(
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            min=1,
            metavar="TAGE",
            help="Fragen löschen, die älter als so viele Tage sind (Standard: store.retention_days, 180).",
        ),
    ] = None,
    config_path: ConfigOpt = None,
) -> None:
    """Alte Fragen und ihre Rückmeldungen löschen (Aufbewahrungsfrist; geht auch, während der Bot läuft)."""
    from bot.store import StoreError
    from bot.store import purge as purge_store

    config = _config(config_path)
    limit = days if days is not None else config.store.retention_days
    try:
        count = purge_store(config, limit)
    except StoreError as exc:
        raise _fail(str(exc), 2) from exc
    typer.echo(f"{count} Fragen gelöscht, die älter als {limit} Tage waren (samt ihren Rückmeldungen).")


@app.command("calendar")
def calendar_cmd(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DATEI",
            help="Kalenderdatei (.ics), die geschrieben wird; ohne: Standardausgabe.",
        ),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option(
            "--today",
            metavar="JJJJ-MM-TT",
            help="Stichtag: Termine und Fristen ab diesem Tag (Standard: heute).",
        ),
    ] = None,
    config_path: ConfigOpt = None,
    knowledge: KnowledgeOpt = None,
) -> None:
    """Kalenderdatei (.ics) mit kommenden Terminen und Förderfristen schreiben, z. B. für die Webseite."""
    from contextlib import suppress

    from bot.calendar import calendar, upcoming
    from bot.knowledge import Event, load_knowledge

    config = _config(config_path)
    day = _date(today) or config.today_or_now()
    kb = load_knowledge(knowledge or config.knowledge_dir, limits=config.limits)
    if not kb.ok:
        typer.echo("Das Wissen enthält Fehler; es wurde kein Kalender geschrieben:", err=True)
        raise _fail("\n".join(str(p) for p in kb.errors), 1)
    data = calendar(kb.entries, day)
    items = upcoming(kb.entries, day)
    events = sum(isinstance(e, Event) for e in items)
    deadlines = len(items) - events
    if out is None:
        typer.echo(data, nl=False)
        target = "Standardausgabe"
    else:
        # written beside and replaced in one step: a web server never serves half a file
        partial = out.with_name(out.name + ".tmp")
        try:
            partial.write_bytes(data)
            partial.replace(out)
        except OSError as exc:
            with suppress(OSError):
                partial.unlink(missing_ok=True)
            raise _fail(
                f"Kalenderdatei „{out}“ konnte nicht geschrieben werden: {exc.strerror or exc}", 2
            ) from exc
        target = str(out)
    typer.echo(
        f"{events} {'Termin' if events == 1 else 'Termine'} und {deadlines} "
        f"{'Frist' if deadlines == 1 else 'Fristen'} ab {day:%d.%m.%Y} → {target}",
        err=True,
    )


@app.command("import")
def import_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="DOKUMENT",
            help="Dokumente (.txt, .md, .html, .pdf, .docx); je Dokument entsteht eine Wissensdatei.",
        ),
    ],
    knowledge: KnowledgeOpt = None,
    config_path: ConfigOpt = None,
) -> None:
    """Dokumente als Entwurf ins Wissen übernehmen; Erkanntes (Termine, Fristen, Kontakte) mit „review: offen“."""
    from bot.importer import DocumentError, import_documents

    config = _config(config_path)
    folder = knowledge or config.knowledge_dir
    results = import_documents(
        paths,
        folder,
        config.today_or_now(),
        limits=config.limits,
        progress=lambda line: typer.echo(f"Lese {line}", err=True),
    )
    failed = 0
    for result in results:
        if isinstance(result, DocumentError):
            typer.echo(f"Nicht importiert: {result}", err=True)
            failed += 1
            continue
        typer.echo(
            f"{result.source.name} → {result.target}: {result.entries} Einträge, "
            f"davon {result.to_review} zu prüfen („review: offen“)"
        )
        if result.replaces:
            typer.echo(f"  gleicher Titel wie „{result.replaces}“: dessen Import wird fortgeschrieben")
        if result.previous:
            typer.echo(f"  erneuter Import: {result.summary()}")
        if result.kept:
            typer.echo(f"  {result.kept} von Hand ergänzte Einträge behalten")
        for conflict in result.conflicts:
            if conflict.text is None:
                typer.echo(
                    f"  Konflikt: „{conflict.title}“ ({conflict.id}) steht nicht mehr im Dokument, ist aber "
                    f"{conflict.reason} – behalten; bitte prüfen, ob der Eintrag noch gilt."
                )
            else:
                typer.echo(
                    f"  Konflikt: „{conflict.title}“ ({conflict.id}) ist {conflict.reason} – nicht "
                    "überschrieben. Das Dokument sagt jetzt:"
                )
                typer.echo("    " + conflict.text.replace("\n", "\n    "))
    if len(results) > failed:
        typer.echo("Bitte prüfen, dann `regiobot check` und /reload.")
    if failed:
        raise typer.Exit(1)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
