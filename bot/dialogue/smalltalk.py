"""Small talk and questions about the bot itself: recognised as whole messages, answered briefly, never stored.

A message is small talk only when nothing but small-talk phrases (and a few fillers) remain; a greeting or
thanks around a real question is stripped and the question answered ("Hallo, wann ist der nächste
Regionaldialog?").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.text import fold

Kind = Literal["greeting", "thanks", "bye", "help", "human", "insult"]

# Phrases by kind, as folded words; each entry is matched as a whole-word sequence.
PHRASES: dict[Kind, dict[str, tuple[str, ...]]] = {
    "greeting": {
        "de": ("hallo", "hallochen", "hi", "hey", "moin", "moin moin", "servus", "guten morgen", "guten tag",
               "guten abend", "gruss gott", "gruezi", "gruss dich", "tag", "huhu", "na"),
        "en": ("hello", "good morning", "good afternoon", "good evening", "hiya", "greetings"),
    },
    "thanks": {
        "de": ("danke", "danke schon", "dankeschon", "danke sehr", "vielen dank", "vielen lieben dank",
               "herzlichen dank", "besten dank", "merci", "super", "prima", "perfekt", "toll", "klasse",
               "alles klar", "ok", "okay", "gut", "sehr gut", "verstanden", "passt"),
        "en": ("thanks", "thank you", "thx", "cheers", "great", "perfect", "got it", "thanks a lot", "many thanks"),
    },
    "bye": {
        "de": ("tschuss", "tschuess", "auf wiedersehen", "bis bald", "bis dann", "ciao", "schonen tag",
               "schonen abend", "ade", "bis spater", "bis spaeter"),
        "en": ("bye", "goodbye", "good bye", "see you", "have a nice day"),
    },
    "help": {
        "de": ("hilfe", "was kannst du", "was kann ich fragen", "wer bist du", "was bist du", "was machst du",
               "wie funktionierst du", "wie funktioniert das", "was weisst du", "wofur bist du da"),
        "en": ("help", "what can you do", "who are you", "what are you", "how does this work", "what do you know"),
    },
    "human": {
        "de": ("bist du ein mensch", "bist du ein bot", "bist du ein roboter", "bist du eine ki", "bist du echt",
               "bist du eine maschine", "mit wem spreche ich", "mit wem schreibe ich", "bist du menschlich"),
        "en": ("are you human", "are you a human", "are you a bot", "are you a robot", "are you real",
               "am i talking to a human", "are you an ai"),
    },
}  # fmt: skip

INSULTS = frozenset(
    {"dumm", "dummer", "blod", "bloed", "bloder", "idiot", "idiotisch", "doof", "nutzlos", "scheiss", "scheisse",
     "mist", "schrott", "sinnlos", "bescheuert", "stupid", "useless", "idiotic", "dumb", "sucks", "crap", "shit"}
)  # fmt: skip
QUESTION_WORDS = frozenset(
    {"wer", "wie", "was", "wann", "wo", "welche", "welcher", "welches", "warum", "wieso", "who", "what", "when",
     "where", "which", "why", "how"}
)  # fmt: skip
# words that may surround a small-talk phrase without making it a question ("hallo lieber Bot", "danke dir")
FILLERS = frozenset(
    {"du", "dir", "dich", "euch", "ihnen", "lieber", "liebe", "bot", "regiobot", "nochmal", "noch", "mal", "sehr",
     "schon", "ganz", "auch", "fur", "die", "info", "infos", "antwort", "hilfe", "zusammen", "and", "you", "so",
     "much", "very", "again", "there", "ja", "yes", "nein", "no", "also", "bye", "und"}
)  # fmt: skip

# greetings that open a question even without a comma ("Hallo wann ist …")
OPENERS = frozenset({"hallo", "hi", "hey", "moin", "servus", "hello", "huhu"})
_WORD = re.compile(r"[^\W_]+")
_INDEX: list[tuple[tuple[str, ...], Kind, str]] = sorted(
    (
        (tuple(p.split()), kind, lang)
        for kind, by_lang in PHRASES.items()
        for lang, ps in by_lang.items()
        for p in ps
    ),
    key=lambda item: -len(item[0]),
)


@dataclass(frozen=True)
class SmallTalk:
    kind: Kind
    language: str


def _phrase_at(words: list[str], i: int) -> tuple[int, Kind, str] | None:
    for phrase, kind, lang in _INDEX:
        if tuple(words[i : i + len(phrase)]) == phrase:
            return len(phrase), kind, lang
    return None


def classify(text: str) -> SmallTalk | None:
    """The kind of small talk a whole message is, or None when it asks something else."""
    words = _WORD.findall(fold(text))
    if not words or len(words) > 12:
        return None
    found: list[tuple[Kind, str]] = []
    i = 0
    while i < len(words):
        if (hit := _phrase_at(words, i)) is not None:
            length, kind, lang = hit
            found.append((kind, lang))
            i += length
        elif words[i] in FILLERS:
            i += 1
        else:
            break
    if i == len(words) and found:
        rank: list[Kind] = ["human", "help", "bye", "thanks", "greeting"]
        kind = min((k for k, _ in found), key=rank.index)
        lang = "en" if any(lang == "en" for _, lang in found) else "de"
        return SmallTalk(kind, lang)
    if INSULTS & set(words) and not QUESTION_WORDS & set(words) and len(words) <= 8:
        english = bool({"you", "are", "this", "is"} & set(words)) and not {"du", "bist", "das", "ist"} & set(
            words
        )
        return SmallTalk("insult", "en" if english else "de")
    return None


def strip_pleasantries(text: str) -> str:
    """The question without a leading greeting or thanks and a trailing thanks ("Hallo, wo …? Danke!")."""
    out = text.strip()
    for _ in range(3):
        words = list(_WORD.finditer(out))
        folded = [fold(m[0]) for m in words]
        hit = _phrase_at(folded, 0) if folded else None
        if hit is None or hit[1] not in ("greeting", "thanks") or hit[0] >= len(folded):
            break
        between = out[words[hit[0] - 1].end() : words[hit[0]].start()]
        if not re.search(r"[,!.:;–-]", between) and folded[0] not in OPENERS:
            break  # "Tag der offenen Tür?" is no greeting
        out = out[words[hit[0]].start() :].strip()
    for _ in range(3):
        words = list(_WORD.finditer(out))
        folded = [fold(m[0]) for m in words]
        for start in range(max(0, len(folded) - 4), len(folded)):
            hit = _phrase_at(folded, start)
            if hit and hit[1] == "thanks" and start + hit[0] == len(folded) and start > 0:
                cut = out[: words[start].start()].rstrip(" ,;:-–!")
                if cut.endswith(("?", ".")) or len(folded) - start <= 3:
                    out = cut
                    break
        else:
            break
    return out or text.strip()


REPLIES: dict[Kind, dict[str, str]] = {
    "greeting": {
        "de": "Hallo! Ich beantworte Fragen zur regionalen Zusammenarbeit in Mitteldeutschland – Termine, "
        "Förderaufrufe, Gremien und Ansprechpersonen. Was möchten Sie wissen?",
        "en": "Hello! I answer questions about regional cooperation in central Germany – events, funding calls, "
        "bodies and contact persons. What would you like to know?",
    },
    "thanks": {
        "de": "Gern geschehen! Fragen Sie gern weiter.",
        "en": "You're welcome! Feel free to ask more.",
    },
    "bye": {
        "de": "Auf Wiedersehen! Wenn Sie wieder Fragen haben, bin ich da.",
        "en": "Goodbye! I'm here whenever you have more questions.",
    },
    "help": {
        "de": "Ich bin der Regiobot, ein automatischer Assistent. Ich beantworte Fragen zu regionalen Gremien und "
        "Arbeitsgruppen, Terminen wie dem Regionaldialog, Förderaufrufen und Ansprechpersonen – immer mit "
        "Quelle. Fragen Sie z. B. „{example}“ oder wählen Sie unten ein Thema.",
        "en": "I'm Regiobot, an automated assistant. I answer questions about regional bodies and working groups, "
        "events such as the Regionaldialog, funding calls and contact persons – always with the source. Ask "
        "e.g. “{example}” or choose a topic below.",
    },
    "human": {
        "de": "Ich bin kein Mensch, sondern ein Bot: Ich antworte nur aus den Dokumenten der regionalen Partner "
        "und nenne immer die Quelle. Für ein persönliches Gespräch nenne ich Ihnen gern eine Ansprechperson "
        "(Knopf „Kontakte“).",
        "en": "I'm not a human but a bot: I answer only from the documents of the regional partners and always "
        "name the source. For a personal conversation I can name a contact person (button “Contacts”).",
    },
    "insult": {
        "de": "Schade, dass ich Ihnen nicht weiterhelfen konnte. Versuchen Sie es gern mit einer anderen "
        "Formulierung – oder wählen Sie unten ein Thema.",
        "en": "Sorry I couldn't help. Please try different wording – or choose a topic below.",
    },
}


def reply_text(talk: SmallTalk, example: str) -> str:
    return REPLIES[talk.kind][talk.language].format(example=example)
