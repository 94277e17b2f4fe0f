"""Choose the abstention parameters (search.min_confidence, coverage_weight, overlap_weight, margin).

Asks every question of the calibration sets once with the confidence and margin checks switched off (the
other checks – places, asked value, list topics – stay on), records whether the answer would be right and
the decision's inputs, then grid-searches the parameters for the best sum of in-scope accuracy and
abstention (near misses count as out of scope: declining them or a partial answer is right). The
confidence is capped at 1 exactly as the engine does, so thresholds above 1 never come out.
The held-out set (benchmarks/heldout_questions.yaml) is never passed here; it is only reported.
Prints the chosen values; copy them into config.yaml's `search` section.

    python benchmarks/calibrate.py [FILES…]   # default: dev set + both calibration sets
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

from bot.answer import Engine
from bot.answer.decide import confidence
from bot.config import load_config
from bot.evaluation import load_cases, passes

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = [
    ROOT.parent / "shared" / "eval" / "dev_questions.yaml",
    ROOT / "benchmarks" / "calibration_questions.yaml",
    ROOT / "benchmarks" / "calibration_questions_2.yaml",
]


def rows_for(engine: Engine, paths: list[Path]) -> list[tuple[bool, bool, bool, dict[str, float]]]:
    """(in scope, right if answered, answered with checks open, features) per case."""
    rows = []
    for path in paths:
        if "heldout" in path.name:
            raise SystemExit("Der Held-out-Satz wird nie zur Kalibrierung benutzt.")
        for case in load_cases(path):
            answer = engine.ask(case.question, today=case.today)
            right = passes(case, answer) if case.found else False
            rows.append((case.found, right, answer.found, answer.features))
    return rows


def grid(rows: list[tuple[bool, bool, bool, dict[str, float]]]) -> dict[str, float]:
    found = np.array([r[0] for r in rows])
    right = np.array([r[1] for r in rows])
    opened = np.array([r[2] for r in rows])
    listed = np.array([not r[3] for r in rows])  # lists and declines by other checks carry no confidence inputs
    feats = {
        k: np.array([r[3].get(k, 0.0) for r in rows])
        for k in ("dense", "coverage", "overlap", "gap", "conflicting")
    }
    best: dict[str, float] = {"score": -1.0, "spread": -1.0}
    for cw, ow, margin in itertools.product(
        np.arange(0, 0.61, 0.05), np.arange(0, 0.61, 0.05), (0.0, 0.02, 0.04, 0.06)
    ):
        conf = np.array(
            [
                confidence(d, c, o, cw, ow)
                for d, c, o in zip(feats["dense"], feats["coverage"], feats["overlap"], strict=True)
            ]
        )
        for threshold in np.arange(0.30, 1.001, 0.01):
            ambiguous = (feats["conflicting"] > 0) & (feats["gap"] < margin) & (conf < threshold + margin)
            answered = opened & (listed | ((conf >= threshold) & ~ambiguous))
            in_scope = float((answered & right)[found].mean())
            abstain = float((~answered)[~found].mean())
            score = in_scope + abstain
            spread = float(np.min(np.abs(conf[opened] - threshold))) if opened.any() else 0.0
            if score > best["score"] + 1e-9 or (
                abs(score - best["score"]) < 1e-9 and spread > best["spread"]
            ):
                best = {
                    "score": score,
                    "spread": spread,
                    "coverage_weight": round(float(cw), 2),
                    "overlap_weight": round(float(ow), 2),
                    "min_confidence": round(float(threshold), 2),
                    "margin": margin,
                    "in_scope": in_scope,
                    "abstention": abstain,
                }
    best["upper_bound"] = float(right[found].mean())
    return best


def main(paths: list[Path]) -> None:
    config = load_config()
    search = config.search.model_copy(update={"min_confidence": -10.0, "margin": 0.0})
    engine = Engine.load(config.model_copy(update={"search": search}))
    rows = rows_for(engine, paths)
    best = grid(rows)
    n_found = sum(r[0] for r in rows)
    print(f"cases: {len(rows)} ({n_found} in scope, {len(rows) - n_found} out of scope / near miss)")
    print(f"upper bound in-scope (answer right when not abstaining): {best['upper_bound']:.3f}")
    print(
        f"chosen: min_confidence={best['min_confidence']} coverage_weight={best['coverage_weight']} "
        f"overlap_weight={best['overlap_weight']} margin={best['margin']}"
    )
    print(f"  → in-scope accuracy {best['in_scope']:.3f}, abstention {best['abstention']:.3f}")


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]] or [p for p in DEFAULT if p.exists()])
