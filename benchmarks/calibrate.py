"""Choose the abstention parameters (search.min_confidence, coverage_weight, overlap_weight).

Runs every question of the given sets once with abstention disabled, records whether the answer would be
right and the confidence features, then grid-searches the parameters for the best sum of in-scope accuracy
and abstention accuracy (near misses count as out of scope: declining them is best).
Prints the chosen values; copy them into config.yaml's `search` section.

    python benchmarks/calibrate.py ../shared/eval/dev_questions.yaml benchmarks/calibration_questions.yaml
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

from bot.answer import Engine
from bot.config import load_config
from bot.evaluation import load_cases, passes
from bot.search import term_overlap


def main(paths: list[str]) -> None:
    config = load_config()
    open_config = config.model_copy(
        update={"search": config.search.model_copy(update={"min_confidence": -10.0})}
    )
    engine = Engine.load(open_config)
    rows = []
    for path in paths:
        for case in load_cases(Path(path)):
            answer = engine.ask(case.question, today=case.today)
            result = engine.retrieve(case.question)
            best = result.best
            coverage = len(result.known_terms) / len(result.query_terms) if result.query_terms else 0.0
            overlap = term_overlap(result, best, engine.index) if best else 0.0
            gap = result.hits[0].score - result.hits[1].score if len(result.hits) > 1 else 1.0
            rows.append(
                (
                    case.found,
                    passes(case, answer) if case.found else False,
                    best.dense if best else 0.0,
                    coverage,
                    overlap,
                    gap,
                )
            )
    found = np.array([r[0] for r in rows])
    right = np.array([r[1] for r in rows])
    feats = np.array([r[2:] for r in rows])
    best_score, best_params = -1.0, None
    grid = itertools.product(np.arange(0, 0.61, 0.05), np.arange(0, 0.61, 0.05), (0.0, 0.02, 0.04, 0.06))
    for cw, ow, margin_setting in grid:
        conf = feats[:, 0] + cw * feats[:, 1] + ow * feats[:, 2]
        for threshold in np.arange(0.2, 1.4, 0.01):
            ambiguous = (feats[:, 3] < margin_setting) & (conf < threshold + margin_setting)
            answered = (conf >= threshold) & ~ambiguous
            in_scope = (answered & right)[found].mean()
            abstain = (~answered)[~found].mean()
            score = in_scope + abstain
            margin = np.min(np.abs(conf - threshold))
            if score > best_score + 1e-9 or (abs(score - best_score) < 1e-9 and margin > best_params[3]):
                best_score, best_params = (
                    score,
                    (round(cw, 2), round(ow, 2), round(threshold, 2), margin, in_scope, abstain),
                )
    cw, ow, threshold, _, in_scope, abstain = best_params
    print(f"cases: {len(rows)} ({found.sum()} in scope, {(~found).sum()} out of scope / near miss)")
    print(f"upper bound in-scope (answer right when not abstaining): {right[found].mean():.3f}")
    print(
        f"chosen: min_confidence={threshold} coverage_weight={cw} overlap_weight={ow} margin={margin_setting}"
    )
    print(f"  → in-scope accuracy {in_scope:.3f}, abstention {abstain:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["../shared/eval/dev_questions.yaml", "benchmarks/calibration_questions.yaml"])
