"""Synonyms and abbreviations the editorial staff maintain in `knowledge/synonyme.yaml`.

People ask with words the knowledge does not use ("AG" for "Arbeitsgruppe", "grant" for "Fördermittel").
Staff write groups of equivalent terms; the search gets the other members of every group a question
names (`Synonyms.expand`) and the dense encoder gets abbreviations spelled out (`Synonyms.expand_text`).
Matching is on whole words via the shared tokenizer, so case, umlauts and inflection do not matter and
"AG" never matches inside "Tage".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path

import yaml

from bot.knowledge import SYNONYM_FILE, Problem, _display, clip, explain_yaml_error, read_text
from bot.text import fold, spans, tokens, words

MAX_TERM_CHARS = 60
_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_EXAMPLE = "„- [AG, Arbeitsgruppe]“"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def is_abbreviation(term: str) -> bool:
    """One short word in capitals ("AG", "ÖPNV", "EMMD"); these get their long form in `expand_text`."""
    letters = [c for c in term if c.isalpha()]
    return " " not in term.strip() and 2 <= len(letters) <= 8 and all(c.isupper() for c in letters)


def _key(term: str) -> str:
    """What makes two terms the same for staff: case, umlaut spelling, spaces and hyphens do not count."""
    return " ".join(fold(term).replace("-", " ").split())


class Synonyms:
    """Groups of equivalent terms, matched as whole words or phrases in questions."""

    def __init__(self, groups: Iterable[Sequence[str]] = ()) -> None:
        self.groups: tuple[tuple[str, ...], ...] = tuple(tuple(g) for g in groups if len(g) >= 2)

    def __len__(self) -> int:
        return len(self.groups)

    @cached_property
    def _stems(self) -> tuple[tuple[tuple[str, ...], ...], ...]:
        """Each member as its stem sequence; built on first use, so `regiobot check` needs no lexicon."""
        return tuple(tuple(tuple(tokens(term)) for term in group) for group in self.groups)

    @cached_property
    def _starts(self) -> dict[str, list[tuple[tuple[str, ...], int, int]]]:
        """First stem → (stems, group, member), longest phrases first; a stem sequence belongs to one group."""
        index: dict[str, list[tuple[tuple[str, ...], int, int]]] = {}
        seen: set[tuple[str, ...]] = set()
        for g, group in enumerate(self._stems):
            for m, stems in enumerate(group):
                if stems and stems not in seen:
                    seen.add(stems)
                    index.setdefault(stems[0], []).append((stems, g, m))
        for candidates in index.values():
            candidates.sort(key=lambda c: -len(c[0]))
        return index

    def _matches(self, found: list[tuple[str, int, int]]) -> list[tuple[int, int, int, int]]:
        """(group, member, start, end) of every member in the text, longest match first, no overlaps."""
        out = []
        i = 0
        while i < len(found):
            for stems, g, m in self._starts.get(found[i][0], ()):
                n = len(stems)
                if tuple(s for s, _, _ in found[i : i + n]) == stems:
                    out.append((g, m, found[i][1], found[i + n - 1][2]))
                    i += n
                    break
            else:
                i += 1
        return out

    def expand(self, text: str) -> list[str]:
        """Stems of the other members of every group named in `text` that `text` does not contain already."""
        found = spans(text)
        have = {s for s, _, _ in found}
        extra: dict[str, None] = {}
        for g in dict.fromkeys(g for g, _, _, _ in self._matches(found)):
            for stems in self._stems[g]:
                extra.update((s, None) for s in stems if s not in have)
        return list(extra)

    def alternatives(self, text: str) -> dict[str, frozenset[str]]:
        """For each stem of a group member named in `text`, the stems of the group's other members: a passage
        that says "Wertschöpfung" covers the question's "value creation"."""
        out: dict[str, set[str]] = {}
        for g, m, _, _ in self._matches(spans(text)):
            others = {s for i, stems in enumerate(self._stems[g]) if i != m for s in stems}
            for stem in self._stems[g][m]:
                out.setdefault(stem, set()).update(others - {stem})
        return {stem: frozenset(alts) for stem, alts in out.items()}

    def expand_text(self, text: str) -> str:
        """`text` with each abbreviation's long form added once: "AG Verkehr" → "AG Verkehr (Arbeitsgruppe)"."""
        norm = unicodedata.normalize("NFKC", text)
        found = spans(norm)
        have = {s for s, _, _ in found}
        pieces, last, done = [], 0, set()
        for g, m, _, end in self._matches(found):
            if g in done or not is_abbreviation(self.groups[g][m]):
                continue
            long = next((t for t in self.groups[g] if not is_abbreviation(t)), None)
            if long is None or set(self._stems[g][self.groups[g].index(long)]) <= have:
                continue
            done.add(g)
            pieces += [norm[last:end], f" ({long})"]
            last = end
        return "".join([*pieces, norm[last:]])


def _where(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _read(path: Path, shown: str, problems: list[Problem]) -> yaml.Node | None:
    """The YAML node tree (it keeps a line for every term), or None with a problem."""
    text = read_text(path, shown, problems)
    if text is None:
        return None
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        line, explanation = explain_yaml_error(exc, text)
        problems.append(
            Problem(
                shown,
                line,
                f"{explanation} Jede Gruppe steht in einer eigenen Zeile, z. B. {_EXAMPLE}; prüfen Sie die "
                "eckigen Klammern, die Kommas und das Leerzeichen nach „-“.",
            )
        )
    except yaml.YAMLError as exc:
        problems.append(Problem(shown, 1, f"Die Datei ist kein gültiges YAML ({clip(str(exc))})."))
    return None


def _term(node: yaml.Node, shown: str, problems: list[Problem]) -> str | None:
    """One checked term of a group, or None with a problem."""
    line = _where(node)
    if not isinstance(node, yaml.ScalarNode):
        problems.append(
            Problem(shown, line, "Ein Begriff muss ein einfacher Text sein, keine Liste oder Zuordnung.")
        )
        return None
    value = node.value.strip()
    if node.tag == _NULL_TAG or not value:
        problems.append(Problem(shown, line, "Leerer Begriff in der Gruppe: bitte ausfüllen oder entfernen."))
        return None
    if node.tag != _STR_TAG:
        problems.append(
            Problem(
                shown,
                line,
                f"„{value}“ wird als Zahl, Datum oder Ja/Nein-Wert gelesen, nicht als Text. "
                f'Bitte in Anführungszeichen setzen: "{value}".',
            )
        )
        return None
    if len(value) > MAX_TERM_CHARS:
        problems.append(
            Problem(
                shown,
                line,
                f"„{value[:40]}…“ ist zu lang ({len(value)} Zeichen, höchstens {MAX_TERM_CHARS}). "
                "Synonyme sind einzelne Wörter oder kurze Wortgruppen; bitte kürzen.",
            )
        )
        return None
    if not words(value):
        problems.append(
            Problem(
                shown,
                line,
                f"„{value}“ besteht nur aus Füllwörtern (wie „die“, „und“, „the“) und kann in Fragen nicht "
                "erkannt werden. Bitte einen aussagekräftigen Begriff eintragen oder ihn entfernen.",
            )
        )
        return None
    return value


def load_synonyms(folder: Path) -> tuple[Synonyms, list[Problem]]:
    """Read `folder`/synonyme.yaml; a missing file means no synonyms. Bad groups are left out and reported."""
    path = folder / SYNONYM_FILE
    if not path.is_file():
        return Synonyms(), []
    shown = _display(path)
    problems: list[Problem] = []
    root = _read(path, shown, problems)
    if root is None:
        return Synonyms(), problems
    if not isinstance(root, yaml.SequenceNode):
        problems.append(
            Problem(
                shown,
                _where(root),
                f"Die Datei muss eine Liste von Gruppen sein: jede Gruppe in einer eigenen Zeile, z. B. {_EXAMPLE}.",
            )
        )
        return Synonyms(), problems
    groups: list[tuple[str, ...]] = []
    owner: dict[str, tuple[int, str]] = {}  # term key → (line of its group, term as written)
    for node in root.value:
        line = _where(node)
        if isinstance(node, yaml.MappingNode):
            problems.append(
                Problem(
                    shown,
                    line,
                    f"Eine Gruppe ist eine Liste, keine Zuordnung mit „:“. Bitte so schreiben: {_EXAMPLE}.",
                )
            )
            continue
        if not isinstance(node, yaml.SequenceNode):
            hint = " Fehlen die eckigen Klammern?" if "," in str(node.value) else ""
            problems.append(
                Problem(
                    shown,
                    line,
                    f"„{node.value}“ ist keine Gruppe.{hint} Jede Gruppe ist eine Liste in eckigen Klammern, "
                    f"z. B. {_EXAMPLE}.",
                )
            )
            continue
        group: list[str] = []
        keys: dict[str, str] = {}
        for term_node in node.value:
            term = _term(term_node, shown, problems)
            if term is None:
                continue
            key = _key(term)
            if key in keys:
                problems.append(
                    Problem(
                        shown,
                        _where(term_node),
                        f"„{term}“ steht in dieser Gruppe doppelt (wie „{keys[key]}“); bitte einmal streichen.",
                        warning=True,
                    )
                )
                continue
            if key in owner:
                other_line, other = owner[key]
                problems.append(
                    Problem(
                        shown,
                        _where(term_node),
                        f"„{term}“ steht schon in der Gruppe in Zeile {other_line} (als „{other}“). Ein Begriff darf "
                        "nur in einer Gruppe stehen: bitte die beiden Gruppen zusammenlegen oder den Begriff "
                        "in einer davon streichen.",
                    )
                )
                continue
            keys[key] = term
            group.append(term)
        if len(group) < 2:
            shown_terms = f" (nur „{group[0]}“)" if group else ""
            problems.append(
                Problem(
                    shown,
                    line,
                    f"Die Gruppe hat weniger als zwei gültige Begriffe{shown_terms}. Eine Gruppe braucht "
                    f"mindestens zwei gleichbedeutende Begriffe, z. B. {_EXAMPLE}; sonst bitte die Zeile löschen.",
                )
            )
            continue
        for term in group:
            owner[_key(term)] = (line, term)
        groups.append(tuple(group))
    return Synonyms(groups), problems
