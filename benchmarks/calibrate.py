"""Choose the abstention parameters (search.min_confidence, coverage_weight, overlap_weight, margin).

Asks every question of the calibration sets once with the confidence and margin checks switched off (the
other checks – places, asked value, list topics – stay on), records whether the answer would be right and
the decision's inputs, then grid-searches the parameters for the best sum of in-scope accuracy and
abstention (near misses count as out of scope: declining them or a partial answer is right). The
confidence is capped at 1 exactly as the engine does, so thresholds above 1 never come out.
The held-out set (benchmarks/heldout_questions.yaml) is never passed here; it is only reported.
Prints the chosen values; copy them into config.yaml's `search` section.

    python benchmarks/calibrate.py [FILES…]   # default: dev set + the calibration sets
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
    *sorted((ROOT / "benchmarks").glob("calibration_questions*.yaml")),
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
    """Best weights and margin; for them, the best threshold per language (German and English questions
    add separately to the objective, so each threshold is chosen on its own questions)."""
    found = np.array([r[0] for r in rows])
    right = np.array([r[1] for r in rows])
    opened = np.array([r[2] for r in rows])
    listed = np.array(
        [not r[3] for r in rows]
    )  # lists and declines by other checks carry no confidence inputs
    keys = ("dense", "coverage", "overlap", "gap", "conflicting", "english")
    feats = {k: np.array([r[3].get(k, 0.0) for r in rows]) for k in keys}
    english = feats["english"] > 0
    best: dict[str, float] = {"score": -1.0, "spread": -1.0}
    weights = np.arange(0, 0.61, 0.05)
    for cw, ow, margin in itertools.product(weights, weights, (0.0, 0.02, 0.04, 0.06)):
        conf = confidence(feats["dense"], feats["coverage"], feats["overlap"], cw, ow)
        total, spread, chosen = 0.0, 0.0, {}
        for lang, mask in (("de", ~english), ("en", english)):
            top = (-1.0, -1.0, 0.0)
            for threshold in np.arange(0.30, 1.001, 0.01):
                ambiguous = (feats["conflicting"] > 0) & (feats["gap"] < margin) & (conf < threshold + margin)
                answered = opened & (listed | ((conf >= threshold) & ~ambiguous))
                score = float((answered & right & found & mask).sum() / found.sum())
                score += float((~answered & ~found & mask).sum() / (~found).sum())
                gap = float(np.min(np.abs(conf[opened & mask] - threshold))) if (opened & mask).any() else 0.0
                if score > top[0] + 1e-9 or (abs(score - top[0]) < 1e-9 and gap > top[1]):
                    top = (score, gap, float(threshold))
            total += top[0]
            spread += top[1]
            chosen[lang] = round(top[2], 2)
        if total > best["score"] + 1e-9 or (abs(total - best["score"]) < 1e-9 and spread > best["spread"]):
            best = {
                "score": total,
                "spread": spread,
                "coverage_weight": round(float(cw), 2),
                "overlap_weight": round(float(ow), 2),
                "min_confidence": chosen["de"],
                "min_confidence_en": chosen["en"],
                "margin": margin,
            }
    best.update(scores(rows, best))
    best["upper_bound"] = float(right[found].mean())
    return best


def scores(
    rows: list[tuple[bool, bool, bool, dict[str, float]]], params: dict[str, float]
) -> dict[str, float]:
    """In-scope accuracy and abstention of `rows` under the given parameters."""
    found = np.array([r[0] for r in rows])
    right = np.array([r[1] for r in rows])
    opened = np.array([r[2] for r in rows])
    listed = np.array([not r[3] for r in rows])
    feats = {k: np.array([r[3].get(k, 0.0) for r in rows]) for k in ("dense", "coverage", "overlap", "gap")}
    conflicting = np.array([r[3].get("conflicting", 0.0) > 0 for r in rows])
    english = np.array([r[3].get("english", 0.0) > 0 for r in rows])
    conf = confidence(
        feats["dense"],
        feats["coverage"],
        feats["overlap"],
        params["coverage_weight"],
        params["overlap_weight"],
    )
    threshold = np.where(english, params["min_confidence_en"], params["min_confidence"])
    ambiguous = conflicting & (feats["gap"] < params["margin"]) & (conf < threshold + params["margin"])
    answered = opened & (listed | ((conf >= threshold) & ~ambiguous))
    return {
        "in_scope": float((answered & right)[found].mean()),
        "abstention": float((~answered)[~found].mean()),
    }


def main(paths: list[Path]) -> None:
    config = load_config()
    search = config.search.model_copy(
        update={"min_confidence": -10.0, "min_confidence_en": None, "margin": 0.0}
    )
    engine = Engine.load(config.model_copy(update={"search": search}))
    per_file = [rows_for(engine, [path]) for path in paths]
    rows = [row for part in per_file for row in part]
    halves = [[r for i, part in enumerate(per_file) if i % 2 == side for r in part] for side in (0, 1)]
    for side in (0, 1):  # chosen on one half of the sets, reported on the other
        chosen = grid(halves[side])
        other = scores(halves[1 - side], chosen)
        now = scores(halves[1 - side], config.search.model_dump())
        print(
            f"half {side + 1}: chosen {_params(chosen)} → other half in-scope {other['in_scope']:.3f}, "
            f"abstention {other['abstention']:.3f} (config.yaml there: {now['in_scope']:.3f}, {now['abstention']:.3f})"
        )
    current = scores(rows, config.search.model_dump())
    print(f"config.yaml now: in-scope {current['in_scope']:.3f}, abstention {current['abstention']:.3f}")
    best = grid(rows)
    n_found = sum(r[0] for r in rows)
    print(f"cases: {len(rows)} ({n_found} in scope, {len(rows) - n_found} out of scope / near miss)")
    print(f"upper bound in-scope (answer right when not abstaining): {best['upper_bound']:.3f}")
    print(f"chosen: {_params(best)}")
    print(f"  → in-scope accuracy {best['in_scope']:.3f}, abstention {best['abstention']:.3f}")


def _params(best: dict[str, float]) -> str:
    return " ".join(
        f"{k}={best[k]}"
        for k in ("min_confidence", "min_confidence_en", "coverage_weight", "overlap_weight", "margin")
    )


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]] or [p for p in DEFAULT if p.exists()])
