"""The fused model's weight, recomputed from finished runs' out-of-fold scores (no training).

For every ``bench_quality`` run folder given (dev seeds only: the weight is chosen on these, never
on reported seeds), the fused logit ``(1 - w) * feature-model logit + w * network logit`` decided
at 0 is recomputed for each candidate ``w`` from ``predictions.csv`` (the network's ``score`` and the
feature model's ``feature_score`` are probabilities: their logits are taken back), scored per fold
by macro-F1 and averaged over folds, then over runs. ``w = 0`` is the feature model itself.

Usage: python benchmarks/bench_fusion.py benchmarks/out/runs/*-s100[01]-daic_woz-<hash> [--weights 0 0.1 ...]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import logit
from sklearn.metrics import f1_score


def fused_f1(pred: pd.DataFrame, w: float) -> float:
    eps = 1e-6
    z = (1 - w) * logit(pred.feature_score.clip(eps, 1 - eps)) + w * logit(pred.score.clip(eps, 1 - eps))
    pred = pred.assign(fused=(z >= 0).astype(int))
    return float(np.mean([f1_score(g.label, g.fused, average="macro", zero_division=0)
                          for _, g in pred.groupby(["repeat", "fold"])]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--weights", nargs="+", type=float, default=[0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0])
    args = ap.parse_args()
    rows = []
    for run in args.runs:
        pred = pd.read_csv(run / "predictions.csv", dtype={"participant_id": str})
        rows.append({"run": run.name, **{f"{w:g}": fused_f1(pred, w) for w in args.weights}})
    table = pd.DataFrame(rows).set_index("run")
    print(table.round(3).to_string())
    print("\nmean over runs (macro-F1 per weight; w = network's share, 0 = the feature model):")
    print(table.mean().round(3).to_string())


if __name__ == "__main__":
    main()
