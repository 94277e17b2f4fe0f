"""Synthetic German knowledge of N entries for the scale benchmark, from templates and real vocabulary.

How it works
------------
1. **Vocabulary from the shipped knowledge** (`knowledge/*.yaml`, read with `bot.knowledge`):
   organisation names (`organisation.name`), person names (`contact.person` and event speakers, split
   into first and last names and recombined, so there are far more people than in the source), contact
   roles, event series (`Regionaldialog`, `fokusholz.dialog`, …), topics (tags, `focus_areas`,
   `topics` and event topics of at most four words), funding programmes, source document names and the
   place names of a fixed candidate list that actually occur in the shipped texts (Sangerhausen,
   Allstedt, Peine, Saalekreis, …). Nothing is invented except the connecting sentences.
2. **Entries from templates**, deterministic for a seed (`random.Random(seed)`): per 100 entries about
   12 `organisation`, 20 `contact`, 22 `event`, 8 `funding_call`, 13 `project` and 25 `info`. Each
   template picks words from the vocabulary, writes a German passage of 150–350 characters (the size
   the README asks editors for) with dates as TT.MM.JJJJ, sets the typed fields (`kind`, `chair`,
   `series`/`number`/`date`/`place`, `opens`/`closes`, …) and one example question. References are
   valid: contacts point to organisations, organisations' chairs and events'/calls' contacts point to
   contacts, parents to earlier organisations. Ids are `syn-<typ>-<n>`; titles are made unique with a
   counter where two draws collide. The result passes `regiobot check` (schema, ids, references,
   unique titles).
3. **Files**: 1,000 entries per YAML file (`synthetic-00001.yaml`, …), each with `defaults` (a real
   source document name marked "(synthetisch)", `updated`).
4. **Queries** (`queries(n)`): for randomly drawn entries a question from a *different* template than
   the entry's own example question (so the query is never an indexed text), with the entry id the
   question is about; plus about 10 % "Wann ist der nächste <Serie>?" and 10 % out-of-scope
   questions, so that abstention and next-event paths are timed too.

Usage::

    python benchmarks/synthetic.py 10000 /tmp/syn-knowledge [--seed 0] [--queries 200 --queries-out q.json]
    regiobot check /tmp/syn-knowledge
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
PER_FILE = 1000
MIX = [  # (type, share per 100 entries)
    ("organisation", 12),
    ("contact", 20),
    ("event", 22),
    ("funding_call", 8),
    ("project", 13),
    ("info", 25),
]
TODAY = date(2024, 3, 1)
PLACE_CANDIDATES = [
    "Sangerhausen", "Eisleben", "Halle", "Leipzig", "Peine", "Allstedt", "Gerbstedt", "Sondershausen",
    "Bleicherode", "Roßleben", "Walbeck", "Wettelrode", "Riestedt", "Helfta", "Heiligenthal",
    "Braunschweig", "Hannover", "Göttingen", "Wolfsburg", "Bitterfeld", "Saalekreis", "Burgenlandkreis",
    "Anhalt-Bitterfeld", "Altenburger Land", "Jena", "Chemnitz", "Zwickau", "Mansfeld-Südharz",
    "Nordthüringen", "Mansfelder Land", "Südharz", "Magdeburg", "Dessau", "Erfurt", "Kyffhäuser",
]  # fmt: skip
ORG_KINDS = [  # (word, kind, article nominative, article dative)
    ("Arbeitsgruppe", "arbeitsgruppe", "Die", "der"), ("Projektgruppe", "projektgruppe", "Die", "der"),
    ("Netzwerk", "netzwerk", "Das", "dem"), ("Forum", "forum", "Das", "dem"), ("Verein", "verein", "Der", "dem"),
    ("Initiative", "sonstige", "Die", "der"), ("Gremium", "gremium", "Das", "dem"),
]  # fmt: skip
EVENT_SERIES = ["Regionalkonferenz", "Fachforum", "Werkstattgespräch", "Dialogforum"]
RHYTHMS = ["monatlich", "vierteljährlich", "zweimal im Jahr", "jährlich", "nach Bedarf"]
ELIGIBLE = [
    "Kommunen und Landkreise", "Vereine und Verbände", "kleine und mittlere Unternehmen",
    "Hochschulen und Forschungseinrichtungen", "Unternehmen und Kommunen", "gemeinnützige Träger",
]  # fmt: skip
PROJECT_WORDS = ["Projekt", "Modellvorhaben", "Studie", "Pilotprojekt", "Konzept"]
PROJECT_STATUS = ["in Planung", "laufend", "abgeschlossen"]
ASPECTS = ["Überblick", "Zahlen und Fakten", "Ergebnisse", "Beteiligung", "Ansprechpartner", "Ausblick"]
FORMATS = ["praesenz", "online", "hybrid"]
OUT_OF_SCOPE = [
    "Wie wird das Wetter morgen in Berlin?",
    "Wer hat die Fußball-Weltmeisterschaft 2014 gewonnen?",
    "Wie koche ich eine Kürbissuppe?",
    "Was kostet ein Flug nach Mallorca?",
    "Wie hoch ist der Eiffelturm?",
    "Welche Aktien soll ich kaufen?",
    "Wann fährt der nächste Zug nach Hamburg?",
    "Was ist die Hauptstadt von Australien?",
]
MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]


@dataclass
class Vocabulary:
    places: list[str]
    organisations: list[str]
    first_names: list[str]
    last_names: list[str]
    roles: list[str]
    series: list[str]
    topics: list[str]
    programmes: list[str]
    documents: list[str]

    def sizes(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.__dict__.items()}


def vocabulary(knowledge_dir: Path = ROOT / "knowledge") -> Vocabulary:
    """The real words of the shipped knowledge that the templates mix."""
    from bot.knowledge import load_knowledge

    kb = load_knowledge(knowledge_dir)
    if not kb.ok:
        raise SystemExit(f"shipped knowledge invalid: {kb.errors[:3]}")
    entries = kb.entries
    corpus = " ".join(f"{e.title} {e.text}" for e in entries)
    places = [p for p in PLACE_CANDIDATES if p in corpus]
    people = {e.person for e in entries if e.type == "contact"} | {
        s.name for e in entries if e.type == "event" for s in e.speakers
    }
    firsts, lasts = set(), set()
    for name in people:
        words = [w for w in name.split() if not w.endswith(".") and w[:1].isupper() and "(" not in w]
        if len(words) >= 2:
            firsts.add(words[0])
            lasts.add(" ".join(words[1:]))
    topics = set()
    for e in entries:
        candidates = [*e.tags, *getattr(e, "focus_areas", []), *getattr(e, "topics", [])]
        if e.type == "event" and e.topic:
            candidates.append(e.topic)
        topics.update(t for t in candidates if 1 <= len(t.split()) <= 4 and len(t) <= 40 and t not in places)
    roles = {
        e.role for e in entries if e.type == "contact" and e.role and len(e.role) <= 45 and ";" not in e.role
    }
    organisations = {e.name for e in entries if e.type == "organisation" and len(e.name) <= 60}
    return Vocabulary(
        places=sorted(places),
        organisations=sorted(organisations),
        first_names=sorted(firsts),
        last_names=sorted(lasts),
        roles=sorted(roles - {"Allgemeiner Kontakt"}),
        series=sorted({e.series for e in entries if e.type == "event" and e.series}),
        topics=sorted(topics),
        programmes=sorted({e.programme for e in entries if e.type == "funding_call"}),
        documents=sorted({e.source.document for e in entries}),
    )


def slug(text: str) -> str:
    text = text.lower().replace("ß", "ss").replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "x"


def german(day: date) -> str:
    return f"{day:%d.%m.%Y}"


@dataclass
class Generator:
    vocab: Vocabulary
    n: int
    seed: int = 0
    entries: list[dict] = field(default_factory=list)
    titles: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        total = sum(share for _, share in MIX)
        counts = {t: max(1, self.n * share // total) for t, share in MIX}
        counts["info"] += self.n - sum(counts.values())
        self.counts = counts
        self.ids = {t: [f"syn-{t.replace('_', '-')}-{i}" for i in range(c)] for t, c in counts.items()}
        self.org_names: dict[str, tuple[str, str]] = {}  # id -> (nominative, dative) with article
        self.org_places: dict[str, str] = {}
        self.people: dict[str, tuple[str, str]] = {}  # contact id -> (person, role)
        self.series_numbers: dict[str, int] = {}
        self.facts: dict[str, dict] = {}  # entry id -> words for queries

    # ------------------------------------------------------------------ helpers

    def pick(self, items: list[str]) -> str:
        return items[self.rng.randrange(len(items))]

    def unique(self, title: str) -> str:
        candidate, k = title, 2
        while " ".join(candidate.lower().split()) in self.titles:
            candidate = f"{title} ({k})"
            k += 1
        self.titles.add(" ".join(candidate.lower().split()))
        return candidate

    def day(self, start: int = 2019, end: int = 2026) -> date:
        first = date(start, 1, 1)
        return first + timedelta(days=self.rng.randrange((date(end, 12, 31) - first).days))

    def person_name(self) -> str:
        return f"{self.pick(self.vocab.first_names)} {self.pick(self.vocab.last_names)}"

    def org(self) -> str:
        return self.pick(self.ids["organisation"])

    def org_name(self, org_id: str) -> tuple[str, str]:
        return self.org_names.get(org_id) or ("die Region", "der Region")

    def contact(self) -> str:
        return self.pick(self.ids["contact"])

    # ------------------------------------------------------------------ templates

    def organisation(self, entry_id: str, i: int) -> dict:
        word, kind, article, dative = ORG_KINDS[i % len(ORG_KINDS)]
        topic, place = self.pick(self.vocab.topics), self.pick(self.vocab.places)
        name = self.unique(f"{word} {topic} {place}")
        self.org_names[entry_id] = (f"{article.lower()} {name}", f"{dative} {name}")
        self.org_places[entry_id] = place
        partner = self.pick(self.vocab.organisations)
        chair = self.contact()
        founded = self.rng.randrange(1990, 2023)
        rhythm = self.pick(RHYTHMS)
        text = (
            f"{article} {name} wurde {founded} gegründet und bündelt die Zusammenarbeit zum Thema {topic} in "
            f"{place}. Beteiligt sind Kommunen, Unternehmen sowie {partner}. Die Mitglieder treffen sich {rhythm}."
        )
        entry = {
            "id": entry_id, "type": "organisation", "title": name, "text": text,
            "questions": [f"Was macht {article.lower()} {name}?"], "tags": [topic, place],
            "name": name, "kind": kind, "chair": chair, "meeting_rhythm": rhythm,
            "focus_areas": [topic], "founded": founded,
        }  # fmt: skip
        if i > 10 and self.rng.random() < 0.3:
            entry["parent"] = self.ids["organisation"][self.rng.randrange(i)]
        self.facts[entry_id] = {"name": name, "article": article.lower(), "dative": dative}
        return entry

    def contact_entry(self, entry_id: str, i: int) -> dict:
        person = self.person_name()
        role = self.pick(self.vocab.roles)
        org = self.org()
        org_name = self.org_name(org)[1]
        topic = self.pick(self.vocab.topics)
        first, last = person.split(" ", 1)
        email = f"{slug(first)}.{slug(last)}{i}@{slug(self.org_places.get(org, 'region'))}-region.de"
        phone = f"0{self.rng.randrange(3000, 3999)} {self.rng.randrange(100000, 999999)}"
        title = self.unique(f"{person}, {role}")
        text = (
            f"{person} ist {role} bei {org_name} und Ansprechperson für {topic}. "
            f"Erreichbar per E-Mail unter {email} oder telefonisch unter {phone}."
        )
        self.people[entry_id] = (person, role)
        self.facts[entry_id] = {"person": person, "org_name": org_name, "topic": topic, "role": role}
        return {
            "id": entry_id, "type": "contact", "title": title, "text": text,
            "questions": [f"Wer ist Ansprechperson für {topic} bei {org_name}?"], "tags": [topic, "Kontakt"],
            "person": person, "role": role, "organisation": org, "email": email, "phone": phone,
            "topics": [topic],
        }  # fmt: skip

    def event(self, entry_id: str, i: int) -> dict:
        if self.rng.random() < 0.5:
            series = self.pick(self.vocab.series)
        else:
            series = f"{self.pick(EVENT_SERIES)} {self.pick(self.vocab.places)}"
        number = self.series_numbers.get(series, 0) + 1
        self.series_numbers[series] = number
        place, topic = self.pick(self.vocab.places), self.pick(self.vocab.topics)
        when = self.day()
        past = when < TODAY
        speaker = self.contact()
        person, role = self.people.get(speaker) or (self.person_name(), self.pick(self.vocab.roles))
        organiser = self.org()
        org_name = self.org_name(organiser)[0]
        verb = "fand am {} in {} statt" if past else "findet am {} in {} statt"
        text = (
            f"Die Veranstaltung „{number}. {series}“ {verb.format(german(when), place)}. Thema "
            f"{'war' if past else 'ist'} {topic}. {person} ({role}) {'sprach' if past else 'spricht'} über "
            f"{topic} in {place}; eingeladen hat {org_name}."
        )
        title = self.unique(f"{number}. {series} in {place}")
        self.facts[entry_id] = {"series": series, "number": number, "place": place, "topic": topic}
        return {
            "id": entry_id, "type": "event", "title": title, "text": text,
            "questions": [f"Wann {'war' if past else 'ist'} die Veranstaltung {number}. {series}?"],
            "tags": [series, topic], "series": series, "number": number, "date": when,
            "status": "stattgefunden" if past else "geplant", "place": place, "topic": topic,
            "format": self.pick(FORMATS), "speakers": [{"name": person, "role": role, "talk": topic}],
            "organiser": organiser, "contacts": [speaker],
        }  # fmt: skip

    def funding_call(self, entry_id: str, i: int) -> dict:
        topic, place = self.pick(self.vocab.topics), self.pick(self.vocab.places)
        opens = self.day(2022, 2025)
        closes = opens + timedelta(days=self.rng.randrange(30, 240))
        programme = self.unique(f"{self.pick(self.vocab.programmes)}: {topic} {place} {opens.year}")
        org = self.org()
        org_name = self.org_name(org)[0]
        eligible = self.pick(ELIGIBLE)
        amount = f"bis zu {self.rng.randrange(5, 200)}.000 Euro"
        text = (
            f"Mit dem Förderaufruf {programme} unterstützt {org_name} Vorhaben zu {topic} in {place}. "
            f"Anträge stellen {eligible} vom {german(opens)} bis {german(closes)}; gefördert werden {amount}."
        )
        self.facts[entry_id] = {"programme": programme, "topic": topic, "place": place}
        return {
            "id": entry_id, "type": "funding_call", "title": programme, "text": text,
            "questions": [f"Welche Förderung gibt es für {topic} in {place}?"], "tags": [topic, "Förderung"],
            "programme": programme, "organisation": org, "opens": opens, "closes": closes,
            "topics": [topic], "eligible": eligible, "amount": amount, "contacts": [self.contact()],
        }  # fmt: skip

    def project(self, entry_id: str, i: int) -> dict:
        topic, place = self.pick(self.vocab.topics), self.pick(self.vocab.places)
        name = self.unique(f"{self.pick(PROJECT_WORDS)} {topic} {place}")
        org = self.org()
        partner = self.pick(self.vocab.organisations)
        status = self.pick(PROJECT_STATUS)
        start = self.rng.randrange(2018, 2025)
        text = (
            f"Das Vorhaben „{name}“ ist {status}; Träger ist {self.org_name(org)[0]}. "
            f"Es startete {start} und soll {topic} in {place} voranbringen. Partner: {partner}."
        )
        self.facts[entry_id] = {"name": name, "topic": topic, "place": place, "partner": partner}
        return {
            "id": entry_id, "type": "project", "title": name, "text": text,
            "questions": [f"Was ist das Ziel von {name}?"], "tags": [topic, place],
            "name": name, "organisation": org, "status": status, "partners": [partner],
        }  # fmt: skip

    def info(self, entry_id: str, i: int) -> dict:
        topic, place = self.pick(self.vocab.topics), self.pick(self.vocab.places)
        aspect = self.pick(ASPECTS)
        title = self.unique(f"{topic} in {place}: {aspect}")
        org = self.pick(self.vocab.organisations)
        month, year = self.pick(MONTHS), self.rng.randrange(2019, 2026)
        share = self.rng.randrange(5, 95)
        text = (
            f"Zum Thema {topic} in {place} ({aspect}) berichtet {org}: Seit {month} {year} arbeiten "
            f"{self.rng.randrange(3, 40)} Partner zusammen, {share} Prozent der Vorhaben sind umgesetzt. "
            f"Der nächste Bericht erscheint {month} {year + 1}."
        )
        self.facts[entry_id] = {"topic": topic, "place": place, "aspect": aspect, "org": org, "year": year}
        return {
            "id": entry_id, "type": "info", "title": title, "text": text,
            "questions": [f"Was gibt es Neues zu {topic} in {place}?"], "tags": [topic, place],
        }  # fmt: skip

    # ------------------------------------------------------------------ all

    def generate(self) -> list[dict]:
        makers = {
            "organisation": self.organisation,
            "contact": self.contact_entry,
            "event": self.event,
            "funding_call": self.funding_call,
            "project": self.project,
            "info": self.info,
        }
        for kind, _ in MIX:
            for i, entry_id in enumerate(self.ids[kind]):
                self.entries.append(makers[kind](entry_id, i))
        return self.entries

    def queries(self, n: int, seed: int = 1) -> list[dict]:
        """Questions about random entries (another template than the entry's own), next-event, off-topic."""
        rng = random.Random(seed)
        by_id = {e["id"]: e for e in self.entries}
        out = []
        for k in range(n):
            roll = k % 10
            if roll == 8:
                series = rng.choice(sorted(self.series_numbers))
                question = f"Wann ist die nächste Veranstaltung der Reihe {series}?"
                out.append({"question": question, "expect": None, "kind": "next_event"})
                continue
            if roll == 9:
                out.append({"question": rng.choice(OUT_OF_SCOPE), "expect": None, "kind": "out_of_scope"})
                continue
            entry = by_id[rng.choice(self.entries)["id"]]
            f = self.facts[entry["id"]]
            t = entry["type"]
            if t == "organisation":
                q = rng.choice(
                    [
                        f"Wer hat den Vorsitz in {f['dative']} {f['name']}?",
                        f"Wie oft trifft sich {f['article']} {f['name']}?",
                    ]
                )
            elif t == "contact":
                q = rng.choice(
                    [
                        f"Wie erreiche ich {f['person']}?",
                        f"Welche Aufgabe hat {f['person']} bei {f['org_name']}?",
                    ]
                )
            elif t == "event":
                q = rng.choice(
                    [
                        f"Wo fand die Veranstaltung {f['number']}. {f['series']} statt?",
                        f"Worum ging es bei der Veranstaltung {f['number']}. {f['series']}?",
                    ]
                )
            elif t == "funding_call":
                q = f"Bis wann kann man {f['programme']} beantragen?"
            elif t == "project":
                q = rng.choice([f"Wer ist Partner bei {f['name']}?", f"Wie ist der Stand bei {f['name']}?"])
            else:
                q = f"Wie viele Partner arbeiten beim Thema {f['topic']} in {f['place']} zusammen ({f['aspect']})?"
            out.append({"question": q, "expect": entry["id"], "kind": t})
        return out


def _dumper():
    return getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def write(entries: list[dict], folder: Path, vocab: Vocabulary) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, start in enumerate(range(0, len(entries), PER_FILE), 1):
        doc = {
            "defaults": {
                "source": {
                    "document": f"{vocab.documents[n % len(vocab.documents)]} (synthetisch)",
                    "as_of": "2024-02",
                },
                "updated": date(2024, 2, 20),
            },
            "entries": entries[start : start + PER_FILE],
        }
        path = folder / f"synthetic-{n:05d}.yaml"
        with open(path, "w", encoding="utf-8") as handle:
            yaml.dump(doc, handle, Dumper=_dumper(), allow_unicode=True, sort_keys=False, width=120)
        paths.append(path)
    return paths


def generate(n: int, folder: Path, seed: int = 0, n_queries: int = 0) -> dict:
    """Write N synthetic entries to `folder`; return stats and (optionally) queries."""
    started = time.perf_counter()
    vocab = vocabulary()
    gen = Generator(vocab, n, seed)
    entries = gen.generate()
    paths = write(entries, folder, vocab)
    return {
        "entries": len(entries),
        "files": len(paths),
        "bytes": sum(p.stat().st_size for p in paths),
        "counts": gen.counts,
        "vocabulary": vocab.sizes(),
        "series": len(gen.series_numbers),
        "seconds": round(time.perf_counter() - started, 2),
        "queries": gen.queries(n_queries) if n_queries else [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Synthetisches Wissen für den Skalierungs-Benchmark erzeugen"
    )
    parser.add_argument("n", type=int, help="Anzahl Einträge")
    parser.add_argument("folder", type=Path, help="Zielordner (wird angelegt)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--queries", type=int, default=0, help="so viele Testfragen erzeugen")
    parser.add_argument("--queries-out", type=Path, help="Testfragen als JSON hierhin schreiben")
    args = parser.parse_args()
    stats = generate(args.n, args.folder, args.seed, args.queries)
    queries = stats.pop("queries")
    if args.queries_out:
        args.queries_out.write_text(json.dumps(queries, ensure_ascii=False, indent=1))
    print(json.dumps(stats, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
