"""Measure the engine: answer accuracy and abstention on a question set, retrieval recall on XQuAD."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from bot.answer import Answer, Engine


class Case(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    question: str
    found: bool
    kind: str = "fact"
    today: date | None = None
    expect_all: list[str] = []
    expect_any: list[str] = []
    expect_source: str | None = None


@dataclass
class CaseResult:
    case: Case
    answer: Answer
    passed: bool
    seconds: float
    rank: int | None = None  # 1-based rank of the right source; 0 = not among the sources; None = unknown


@dataclass
class EvalReport:
    results: list[CaseResult] = field(default_factory=list)

    def _share(self, cases: list[CaseResult]) -> float:
        return sum(r.passed for r in cases) / len(cases) if cases else float("nan")

    @property
    def in_scope(self) -> list[CaseResult]:
        return [r for r in self.results if r.case.found]

    @property
    def out_of_scope(self) -> list[CaseResult]:
        return [r for r in self.results if not r.case.found and r.case.kind != "near_miss"]

    @property
    def near_misses(self) -> list[CaseResult]:
        return [r for r in self.results if not r.case.found and r.case.kind == "near_miss"]

    def summary(self) -> dict[str, float]:
        ranked = [r for r in self.results if r.rank is not None]
        lengths = [len(r.answer.plain()) for r in self.results if r.answer.found]
        return {
            "answer_accuracy": self._share(self.in_scope),
            "abstention_accuracy": self._share(self.out_of_scope),
            "near_miss_declined": self._share(self.near_misses),
            "median_answer_chars": statistics.median(lengths) if lengths else 0,
            "max_answer_chars": max(lengths, default=0),
            "in_scope_cases": len(self.in_scope),
            "out_of_scope_cases": len(self.out_of_scope),
            "near_miss_cases": len(self.near_misses),
            "hit_at_1": sum(r.rank == 1 for r in ranked) / len(ranked) if ranked else float("nan"),
            "hit_at_3": sum(0 < r.rank <= 3 for r in ranked) / len(ranked) if ranked else float("nan"),
            "ranked_cases": len(ranked),
            "mean_latency_ms": 1000 * statistics.mean(r.seconds for r in self.results) if self.results else 0,
            "cases": len(self.results),
        }


def load_cases(path: Path) -> list[Case]:
    return [Case.model_validate(item) for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []]


def passes(case: Case, answer: Answer) -> bool:
    if not case.found:
        return not answer.found
    text = answer.plain().casefold()
    return (
        answer.found
        and all(s.casefold() in text for s in case.expect_all)
        and (not case.expect_any or any(s.casefold() in text for s in case.expect_any))
    )


def _answering_entries(engine: Engine, case: Case) -> set[str]:
    """Entries whose text holds every expected substring: the sources a right answer can come from."""
    if not case.found or not case.expect_all:
        return set()
    return {
        e.id for e in engine.index.entries if all(s.casefold() in e.text.casefold() for s in case.expect_all)
    }


def evaluate(engine: Engine, cases: list[Case]) -> EvalReport:
    report = EvalReport()
    for case in cases:
        started = time.perf_counter()
        answer = engine.ask(case.question, today=case.today)
        seconds = time.perf_counter() - started
        rank = None
        relevant = {case.expect_source} if case.expect_source else _answering_entries(engine, case)
        if relevant:
            ranks = [i for i, s in enumerate(answer.sources, 1) if s.id in relevant]
            rank = ranks[0] if ranks else 0
        report.results.append(CaseResult(case, answer, passes(case, answer), seconds, rank))
    return report


# --------------------------------------------------------------------------- XQuAD


def xquad_knowledge(xquad_json: Path, folder: Path) -> list[tuple[str, str]]:
    """Write one `info` entry per XQuAD paragraph into `folder`; return (question, entry id) pairs."""
    data = json.loads(xquad_json.read_text(encoding="utf-8"))
    entries, pairs = [], []
    n = 0
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            n += 1
            entry_id = f"xquad-{n:04d}"
            entries.append(
                {
                    "id": entry_id,
                    "type": "info",
                    "title": f"{article.get('title', 'XQuAD')} ({n})",
                    "text": paragraph["context"],
                }
            )
            pairs += [(qa["question"], entry_id) for qa in paragraph["qas"]]
    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "defaults": {
            "source": {"document": "XQuAD (deutsch), CC BY-SA 4.0"},
            "updated": date.today().isoformat(),
        },
        "entries": entries,
    }
    (folder / "xquad.yaml").write_text(
        yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return pairs


def retrieval_metrics(engine: Engine, pairs: list[tuple[str, str]]) -> dict[str, float]:
    ranks = []
    started = time.perf_counter()
    for question, expected in pairs:
        ids = [h.entry.id for h in engine.retrieve(question, limit=10).hits]
        ranks.append(ids.index(expected) + 1 if expected in ids else None)
    seconds = time.perf_counter() - started
    n = len(pairs)
    return {
        "questions": n,
        "recall_at_1": sum(r == 1 for r in ranks) / n,
        "recall_at_3": sum(r is not None and r <= 3 for r in ranks) / n,
        "recall_at_10": sum(r is not None for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks if r) / n,
        "mean_latency_ms": 1000 * seconds / n,
    }
