"""German help, usage lines and errors for the `regiobot` command line.

Typer (with its bundled click) prints "Usage:", "Options", "Show this message and exit." and its errors in
English, but the people who run `regiobot check` maintain German knowledge files. The texts come from
three places, and each is replaced where it comes from: typer's gettext strings and rich panel titles
(a translation table), the usage line, help option and value types of every command (`GermanCommand`,
`GermanGroup`), and parse errors (translated where the group parses and invokes). `GermanTyper` gives
every command these classes, so a command another file adds with `@app.command()` is German too.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable, Sequence
from typing import Any

import typer
import typer.core

try:  # typer ≥ 0.20 bundles its own copy of click
    from typer import _click as click
except ImportError:  # pragma: no cover - older typer uses click itself
    import click

USAGE_PREFIX = "Aufruf: "
OPTIONS_METAVAR = "[OPTIONEN]"
SUBCOMMAND_METAVAR = "BEFEHL [ARGUMENTE]..."
HELP_OPTION_NAMES = ["--help", "-h"]
HELP_TEXT = "Diese Hilfe zeigen und beenden."

# typer's gettext message ids (typer/core.py, typer/rich_utils.py) and their German texts
MESSAGES = {
    "Arguments": "Argumente",
    "Options": "Optionen",
    "Commands": "Befehle",
    "Error": "Fehler",
    "Aborted.": "Abgebrochen.",
    "Aborted!": "Abgebrochen.",
    "Try [blue]'{command_path} {help_option}'[/] for help.": "Hilfe: [blue]{command_path} {help_option}[/]",
    "(deprecated) ": "(veraltet) ",
    "[default: {}]": "[Standard: {}]",
    "[env var: {}]": "[Umgebungsvariable: {}]",
    "[required]": "[Pflicht]",
    "(dynamic)": "(dynamisch)",
    "default: {default}": "Standard: {default}",
    "required": "Pflicht",
    "env var: {var}": "Umgebungsvariable: {var}",
    "Missing command.": "Befehl fehlt.",
    "No such command {name!r}.": "Unbekannter Befehl „{name}“.",
}
RICH_CONSTANTS = (
    "DEPRECATED_STRING", "DEFAULT_STRING", "ENVVAR_STRING", "REQUIRED_LONG_STRING", "ARGUMENTS_PANEL_TITLE",
    "OPTIONS_PANEL_TITLE", "COMMANDS_PANEL_TITLE", "ERRORS_PANEL_TITLE", "ABORTED_TEXT", "RICH_HELP",
)  # fmt: skip

# value types as typer shows them ("<path>") → what the help shows instead; "" hides it (flags)
VALUE_TYPES = {
    "<str>": "TEXT",
    "<path>": "PFAD",
    "<int>": "ZAHL",
    "<int range>": "ZAHL",
    "<float>": "ZAHL",
    "<float range>": "ZAHL",
    "<bool>": "",
    "<list[str]>": "TEXT ...",
    "<list[path]>": "PFAD ...",
}

# English error sentences of click, typer and pydantic (as typer passes them on) → German
ERRORS: list[tuple[str, str]] = [
    (r"Got unexpected extra argument\(s\) \((.*)\)", r"Unerwartete zusätzliche Angabe: \1"),
    (r"(.*?)\.? Did you mean (.+)\?", r"\1. Meinten Sie \2?"),
    (r"Option '(.+)' requires an argument\.", r"Die Option \1 braucht einen Wert."),
    (r"Option '(.+)' requires (\d+) arguments\.", r"Die Option \1 braucht \2 Werte."),
    (r"Option '(.+)' does not take a value\.", r"Die Option \1 nimmt keinen Wert."),
    (r"Argument '(.+)' takes (\d+) values\.", r"Das Argument \1 braucht \2 Werte."),
    (r"Input should be greater than or equal to (.+)", r"muss mindestens \1 sein"),
    (r"Input should be less than or equal to (.+)", r"darf höchstens \1 sein"),
    (r"Input should be greater than (.+)", r"muss größer als \1 sein"),
    (r"Input should be less than (.+)", r"muss kleiner als \1 sein"),
    (r"Input should be a valid integer.*", "bitte eine ganze Zahl angeben, z. B. 90"),
    (r"Input should be a valid number.*", "bitte eine Zahl angeben, z. B. 2.5"),
    (r"Input should be a valid date.*", "bitte ein Datum JJJJ-MM-TT angeben, z. B. 2024-03-01"),
    (r"Input should be (.+)", r"erlaubt: \1"),
    (r"Value (.+) is not a valid (.+)\.", r"\1 ist kein gültiger Wert."),
    (r"(?:File|Directory|Path) '(.+)' does not exist\.", r"„\1“ gibt es nicht."),
    (r"(?:File|Directory|Path) '(.+)' is a file\.", r"„\1“ ist eine Datei, erwartet wird ein Ordner."),
    (r"(?:File|Directory|Path) '(.+)' is a directory\.", r"„\1“ ist ein Ordner, erwartet wird eine Datei."),
    (r"(?:File|Directory|Path) '(.+)' is not readable\.", r"„\1“ kann nicht gelesen werden."),
    (r"(?:File|Directory|Path) '(.+)' is not writable\.", r"„\1“ kann nicht geschrieben werden."),
]
PARAM_KINDS = {"argument": "Argument", "option": "Option"}


class GermanTranslations(gettext.NullTranslations):
    """The German texts of `MESSAGES`; any other text stays as it is."""

    def gettext(self, message: str) -> str:
        return MESSAGES.get(message, message)


GERMAN = GermanTranslations()


def translate(message: str) -> str:
    """One English error sentence in German (unknown sentences unchanged, e.g. our own German ones)."""
    for pattern, german in ERRORS:
        if match := re.fullmatch(pattern, message, flags=re.DOTALL):
            return _quotes(match.expand(german).replace(" or ", " oder "))
    return message


def _quotes(text: str) -> str:
    """'name' → „name“, as in the knowledge checker's messages."""
    return re.sub(r"'([^'\s][^']*)'", "„\\1“", text)


def _hint(exc: click.exceptions.BadParameter) -> str:
    hint: str | Sequence[str] | None = exc.param_hint
    if hint is None and exc.param is not None:
        hint = exc.param.get_error_hint()
    if hint is None:
        return ""
    return " / ".join([hint] if isinstance(hint, str) else hint)


def german_message(exc: click.exceptions.UsageError) -> str:
    """What went wrong, in German, from the exception's fields rather than its English sentence."""
    if isinstance(exc, click.exceptions.MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else "")
        return _quotes(f"{PARAM_KINDS.get(kind, 'Angabe')} {_hint(exc)} fehlt.".replace("  ", " "))
    if isinstance(exc, click.exceptions.BadParameter):
        name = _quotes(_hint(exc))
        text = translate(exc.message).rstrip(".") + "."
        return f"Ungültiger Wert für {name}: {text}" if name else text
    if isinstance(exc, click.exceptions.NoSuchOption):
        text = f"Unbekannte Option: {exc.option_name}."
        if exc.possibilities:
            text += f" Meinten Sie {' oder '.join(sorted(exc.possibilities))}?"
        return text
    return translate(exc.format_message())


class GermanUsageError(click.exceptions.UsageError):
    """A usage error with a German message; `show` (without rich) prints German too."""

    def __init__(self, original: click.exceptions.UsageError) -> None:
        super().__init__(german_message(original), original.ctx)
        self.exit_code = original.exit_code

    def show(self, file: Any = None) -> None:
        if self.ctx is not None:
            hint = ""
            if self.ctx.command.get_help_option(self.ctx) is not None:
                hint = f"Hilfe: {self.ctx.command_path} {self.ctx.help_option_names[0]}\n"
            click.echo(f"{self.ctx.get_usage()}\n{hint}", file=file, err=True, color=self.ctx.color)
        click.echo(f"Fehler: {self.format_message()}", file=file, err=True)


def _german_errors(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except click.exceptions.NoArgsIsHelpError:
        raise
    except GermanUsageError:
        raise
    except click.exceptions.UsageError as exc:
        raise GermanUsageError(exc) from exc


class GermanCommandMixin:
    """German usage line and help option; works for commands and groups alike."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE_PREFIX)

    def get_help_option(self, ctx: click.Context) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_TEXT
        return option


class GermanCommand(GermanCommandMixin, typer.core.TyperCommand):
    """A typer command with German help."""


class GermanGroup(GermanCommandMixin, typer.core.TyperGroup):
    """The app's group: German help, and every parse error of it and its commands in German."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return _german_errors(lambda: super(GermanGroup, self).parse_args(ctx, args))

    def invoke(self, ctx: click.Context) -> Any:
        return _german_errors(lambda: super(GermanGroup, self).invoke(ctx))


class GermanTyper(typer.Typer):
    """A Typer app whose group and commands (also ones added later) speak German."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", GermanGroup)
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        kwargs.setdefault("subcommand_metavar", SUBCOMMAND_METAVAR)
        settings = kwargs.setdefault("context_settings", {})
        settings.setdefault("help_option_names", HELP_OPTION_NAMES)
        super().__init__(**kwargs)

    def command(self, name: str | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", GermanCommand)
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        return super().command(name, **kwargs)


def _german_type(display_type: Callable[[Any, click.Context], str]) -> Callable[[Any, click.Context], str]:
    def german(param: Any, ctx: click.Context) -> str:
        shown = display_type(param, ctx)
        return VALUE_TYPES.get(shown.lower(), shown)

    german.german = True  # type: ignore[attr-defined]
    return german


def install() -> None:
    """Put the German texts into typer: gettext calls, value types, the rich help's panel titles and hints."""
    typer.core._ = GERMAN.gettext
    parameter = typer.core._TyperParameter
    if not getattr(parameter.display_type, "german", False):
        parameter.display_type = _german_type(parameter.display_type)
    try:
        from typer import rich_utils
    except ImportError:  # pragma: no cover - rich not installed: plain help, already German
        return
    for name in RICH_CONSTANTS:
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, GERMAN.gettext(getattr(rich_utils, name)))


install()
