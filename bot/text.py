"""Lexical normalisation shared by indexing and querying: one tokenizer, so both sides always agree.

Each word is lemmatised first (simplemma, German dictionary: "fand" → "finden", "Gremien" → "Gremium"), then
Snowball-stemmed (PyStemmer) and folded (ä → a, ß → ss), so inflected, irregular and transliterated forms
("Förderungen", "foerderung") meet in one term. Compounds are split into their parts with simplemma's
German lexicon ("Fördermittelberatung" → "Fördermittel", "Beratung"; "Arbeitsschwerpunkte" → "Arbeit",
"Schwerpunkt"); words the lexicon does not know fall back to a split at the corpus vocabulary.

Weighting: a document keeps every whole word and gets each compound part once (not once per occurrence),
so parts add recall without outweighing the words a passage actually uses. The query side asks for parts
only when the whole word is unknown to the index (see `bot.search.query_terms`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterable, Mapping
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN
from simplemma import lemmatize
from simplemma.strategies import DEFAULT_DICTIONARY_FACTORY

TOKENIZER_VERSION = 2  # bump whenever `tokens` gives different output for the same text

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
_MIN_COMPOUND = 7  # "Holzbau" is the shortest kind of compound worth splitting
_MAX_COMPOUND = 60  # longer "words" are codes or URLs, not compounds
_LINKS = ("s", "es", "n", "en", "e", "er", "ens")  # Fugenelemente: "Arbeit-s-gruppe", "Fläche-n-nutzung"
_SUFFIX_HEADS = frozenset({"schaft", "schaften", "ismus", "heit", "keit", "ation", "ierung", "lich"})
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


def spans(text: str) -> list[tuple[str, int, int]]:
    """Stems of `text` (as `tokens` makes them) with their start and end in `unicodedata.normalize("NFKC", text)`."""
    norm = unicodedata.normalize("NFKC", text)
    out = []
    for m in _WORD.finditer(norm):
        word = m.group().lower()
        if word not in STOPWORDS:
            out.append((stem(word), m.start(), m.end()))
    return out


@lru_cache(maxsize=1)
def lexicon() -> Mapping[str, str]:
    """simplemma's German form → lemma dictionary; shared with `lemmatize`, so it is loaded only once."""
    return DEFAULT_DICTIONARY_FACTORY.get_dictionary("de")


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """Dictionary lemma of a lower-case word ("gremien" → "gremium"); unknown words stay as they are.

    The noun reading wins ("aufgaben" → "aufgabe", not "aufgeben"): questions are typed in any case, and
    what they ask about are mostly nouns.
    """
    if not word.isalpha() or len(word) < 3:
        return word
    return lemmatize(word.capitalize(), lang="de").lower()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Search term of one lower-case word: lemma, then Snowball stem, then umlaut folding."""
    return _STEMMER.stemWord(lemma(word)).translate(_FOLD)


@lru_cache(maxsize=200_000)
def _part(text: str, last: bool) -> str | None:
    """Lemma of `text` if it can stand in a compound; the last part (the head) must be a noun."""
    forms = lexicon()
    noun = forms.get(text.capitalize())
    if noun is not None and noun[:1].isupper():
        return noun
    if last or text in STOPWORDS:
        return None
    return forms.get(text)


def _modifier(text: str) -> str | None:
    """Lemma of a compound's front part, with or without its Fugenelement ("arbeits" → "Arbeit")."""
    if (found := _part(text, False)) is not None:
        return found
    for link in _LINKS:
        if text.endswith(link) and len(text) - len(link) >= MIN_PART:
            found = _part(text[: -len(link)], False)
            if found is not None:
                return found
    return None


@lru_cache(maxsize=100_000)
def _segment(word: str, shortest: int) -> tuple[str, ...] | None:
    """Fewest lexicon parts that make up `word`; evener splits win ties. Heads may be `shortest` long."""
    best: tuple[str, ...] | None = None
    best_key: tuple[int, int] | None = None
    for i in range(MIN_PART, len(word) - shortest + 1):
        head, tail = word[:i], word[i:]
        front = _modifier(head)
        if front is None:
            continue
        whole = _part(tail, True) if tail not in _SUFFIX_HEADS else None
        rest = (whole,) if whole is not None else _segment(tail, shortest)
        if rest is None:
            continue
        key = (1 + len(rest), -min(len(head), len(tail)))
        if best_key is None or key < best_key:
            best, best_key = (front, *rest), key
    return best


def _lexicon_split(word: str, shortest: int) -> tuple[str, ...]:
    """Lexicon parts of `word` as lower-case lemmas, or () if it is no compound the lexicon can explain."""
    if not (_MIN_COMPOUND <= len(word) <= _MAX_COMPOUND) or not word.isalpha():
        return ()
    parts = _segment(word, shortest)
    if parts is None:
        return ()
    whole = lexicon().get(word.capitalize()) or lexicon().get(word)
    if whole and not whole.lower().endswith(parts[-1].lower()):
        return ()  # "Unternehmerinnen" is "Unternehmerin", not "…-Rinne"
    return tuple(p.lower() for p in parts)


@lru_cache(maxsize=100_000)
def split_compound(word: str) -> tuple[str, ...]:
    """Parts of a lower-case compound as lemmas, with the parts of long parts, or () for a simple word.

    "landkreisverwaltung" → ("landkreis", "verwaltung", "land", "kreis"): the whole word is indexed
    anyway; each level of parts lets a question that uses only a part still find the passage.
    """
    out = list(_lexicon_split(word, 3))
    for part in list(out):
        if len(part) >= 2 * MIN_PART:
            out += [p for p in _lexicon_split(part, MIN_PART) if p not in out]
    return tuple(out)


@lru_cache(maxsize=200_000)
def word_parts(word: str) -> tuple[str, ...]:
    """Stemmed compound parts of one lower-case word ("fördermittelberatung" → "fordermittel", "berat", …)."""
    whole = stem(word)
    return tuple(dict.fromkeys(s for p in split_compound(word) if len(s := stem(p)) >= 3 and s != whole))


def _vocabulary_split(token: str, vocabulary: frozenset[str] | set[str]) -> list[str]:
    """Split a stem at its longest tail known to the corpus: the fallback for words the lexicon lacks."""
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


def decompound(word: str, vocabulary: frozenset[str] | set[str]) -> list[str]:
    """Stemmed parts of a lower-case compound word: its lexicon parts, else a split at the corpus vocabulary."""
    return list(word_parts(word)) or _vocabulary_split(stem(word), vocabulary)


def unknown_parts(text: str, known: Container[str], vocabulary: frozenset[str] | set[str]) -> list[str]:
    """Parts of the words of `text` whose whole stem is not `known`: a question's compound the index lacks
    ("Fördermittelberatung") is still found by its parts."""
    return [p for w in words(text) if stem(w) not in known for p in decompound(w, vocabulary)]


def tokens(text: str, vocabulary: frozenset[str] | set[str] | None = None) -> list[str]:
    """Stems of `text`; with a vocabulary also the parts of its compounds, once per text and only
    where the text does not use the part as a word of its own (parts weigh less than whole words)."""
    found = words(text)
    out = [stem(w) for w in found]
    if vocabulary:
        whole = set(out)
        parts: dict[str, None] = {}
        for w in found:
            for p in decompound(w, vocabulary):
                if p not in whole:
                    parts[p] = None
        out += parts
    return out


def vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """Stems long enough to serve as compound parts."""
    return frozenset(t for text in texts for t in tokens(text) if len(t) >= MIN_PART)
