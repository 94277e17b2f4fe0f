"""Lexical normalisation shared by indexing and querying: one tokenizer, so both sides always agree.

German Snowball stemming folds umlauts ("Förderung" and "foerderung" both become "forder"); we also
fold ß, split hyphenated words and split compounds against the corpus vocabulary
("Förderaufruf" → "forderaufruf", "forder", "aufruf").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "é": "e", "è": "e", "á": "a"})
_STEMMER = Stemmer.Stemmer("german")
_EXTRA_STOPWORDS = {
    "gibt", "bitte", "mal", "denn", "eigentlich", "genau", "nen", "hab", "gern", "gerne", "eigentl",
    "fuer", "ueber", "waere", "koennen", "moechte", "moechten", "muss", "welch", "welche", "welcher",
    "welches", "wer", "wen", "wem", "wessen", "was", "wie", "wo", "wann", "woher", "wohin", "warum",
    "wieso", "weshalb", "wozu", "worueber", "worüber", "wofuer", "wofür", "womit", "what", "who",
    "whom", "when", "where", "which", "why", "how", "does", "did", "do", "is", "are", "were",
    "can", "could", "would", "should", "please", "tell", "me", "the", "a", "an", "of", "in", "on",
    "fand", "findet", "statt", "stattfinden", "stattfindet", "stattgefunden", "heißt", "heisst", "gab",
}  # fmt: skip
STOPWORDS = frozenset(
    w.translate(_FOLD) for w in {*STOPWORDS_GERMAN, *STOPWORDS_EN, *_EXTRA_STOPWORDS}
) | frozenset({*STOPWORDS_GERMAN, *STOPWORDS_EN, *_EXTRA_STOPWORDS})
MIN_PART = 4
_ABBREVIATIONS = frozenset(
    [
        "z.",
        "u.",
        "d.",
        "a.",
        "b.",
        "h.",
        "zt.",
        "z.zt.",
        "bzw.",
        "ca.",
        "dr.",
        "nr.",
        "st.",
        "dipl.",
        "prof.",
        "vgl.",
        "ggf.",
    ]
)  # words ending in "." that do not end a sentence
_SENTENCE_END = re.compile(r"(?<=[^\d\s][.!?])\s+(?=[A-ZÄÖÜ„\"(])")


def sentences(text: str) -> list[str]:
    """Split prose into sentences; ordinals ("8. Regionaldialog") and common abbreviations do not end one."""
    parts = _SENTENCE_END.split(text.strip())
    out: list[str] = []
    for part in parts:
        if out and out[-1].split()[-1].lstrip("(").lower() in _ABBREVIATIONS:
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out


def fold(text: str) -> str:
    """Lower-case, strip accents and control characters; keeps German-relevant letters comparable."""
    text = unicodedata.normalize("NFKC", text).lower()
    return text.translate(_FOLD)


def words(text: str) -> list[str]:
    """Lower-cased words without stopwords; hyphenated words come out as their parts."""
    return [w for w in _WORD.findall(unicodedata.normalize("NFKC", text).lower()) if w not in STOPWORDS]


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word).translate(_FOLD)


def decompound(token: str, vocabulary: frozenset[str] | set[str]) -> list[str]:
    """Split a stemmed compound at its longest known tail ("forderaufruf" → ["forder", "aufruf"])."""
    if len(token) < 2 * MIN_PART:
        return []
    for i in range(MIN_PART, len(token) - MIN_PART + 1):
        head, tail = token[:i], token[i:]
        if tail not in vocabulary:
            continue
        if head in vocabulary:
            return [head, tail]
        if head.endswith("s") and head[:-1] in vocabulary:  # Fugen-s: "Arbeitsgruppe"
            return [head[:-1], tail]
        return [tail]
    return []


def tokens(text: str, vocabulary: frozenset[str] | set[str] | None = None) -> list[str]:
    """Stems of `text`, plus compound parts when a vocabulary is given."""
    out = [stem(w) for w in words(text)]
    if vocabulary:
        out += [part for t in out for part in decompound(t, vocabulary)]
    return out


def vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """Stems long enough to serve as compound parts."""
    return frozenset(t for text in texts for t in tokens(text) if len(t) >= MIN_PART)
