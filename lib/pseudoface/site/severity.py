"""Analysis of a finished PHQ-8 regression run (``model.task: regression``; notebooks 03 and 04 and
the site's key results): the models against the training-fold mean predictor (a trivial predictor, not
AVEC's baselines, which were learned models) in MAE, RMSE, CCC and Pearson r, and whether severe cases
are pulled towards the mean. Reads the run's metrics and predictions; never trains. The binary screen's analysis is :mod:`results`'.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .results import fold_interval, test_fraction, verdict
from ..learning.intervals import number

REGRESSION_MODELS = {"network": "network", "ridge": "feature model (ridge)", "fused": "fused (network + ridge)",
                     "mean": "training-fold mean", "median": "training-fold median"}
REGRESSION_METRICS = {"mae": "MAE", "rmse": "RMSE", "ccc": "CCC", "pearson": "Pearson r"}


def regression_summaries(metrics: dict) -> dict:
    """{model key: {metric: summary}} of a regression run: the network, ridge, fused, mean, median."""
    out = {"network": metrics["regression"], "ridge": metrics["regression_baselines"]["ridge"]}
    if "regression_fused_model" in metrics:
        out["fused"] = metrics["regression_fused_model"]
    return out | {k: metrics["regression_baselines"][k] for k in ("mean", "median")}


def regression_table(metrics: dict) -> pd.DataFrame:
    """One row per model in the same folds: MAE, RMSE, CCC, Pearson r (mean ± SD over folds), MAE
    minus the mean predictor's (mean of per-fold differences, corrected t interval), the derived
    screen's macro-F1 (predicted score ≥ 10)."""
    frac, paired_mae = test_fraction(metrics), metrics.get("paired_mae_vs_mean", {})
    screen = {"network": metrics["macro_f1"]["mean"], "ridge": metrics["baselines"]["feature_model"]["macro_f1"]["mean"],
              "fused": metrics.get("fused_model", {}).get("macro_f1", {}).get("mean", np.nan)}
    rows = []
    for key, s in regression_summaries(metrics).items():
        row = {"model": REGRESSION_MODELS[key]}
        for m, name in REGRESSION_METRICS.items():
            mean, sd = (None if v is None else round(v, 2) + 0.0 for v in (s[m]["mean"], s[m]["std"]))  # no "−0.00"
            row[name] = number(mean, 2) if mean is None or not math.isfinite(mean) else f"{number(mean, 2)} ± {number(sd, 2)}"
        d = fold_interval(paired_mae[key]["folds"], frac) if key in paired_mae else None
        row["MAE − mean predictor (95% CI, corrected t)"] = (f"{number(d['mean'], 2, sign=True)} ({number(d['ci95'][0], 2, sign=True)} to "
                                                f"{number(d['ci95'][1], 2, sign=True)})" if d else "–")
        row["screen macro-F1 (score ≥ 10)"] = screen.get(key, np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def regression_sentence(metrics: dict) -> str:
    """The network and the ridge against the training-fold mean predictor, in MAE and CCC."""
    s, frac = regression_summaries(metrics), test_fraction(metrics)
    parts = []
    for key in ("network", "ridge", "fused"):
        if key not in s:
            continue
        d = fold_interval(metrics["paired_mae_vs_mean"][key]["folds"], frac)
        word = {"better": "beats", "worse": "does worse than",
                "not shown": "is not shown to differ from"}[verdict(-d["mean"], [-d["ci95"][1], -d["ci95"][0]])]
        parts.append(f"the {REGRESSION_MODELS[key]} {word} the mean predictor (MAE {number(s[key]['mae']['mean'], 2)} against "
                     f"{number(s['mean']['mae']['mean'], 2)}; difference {number(d['mean'], 2, sign=True)}, 95% CI "
                     f"{number(d['ci95'][0], 2, sign=True)} to {number(d['ci95'][1], 2, sign=True)}; CCC {number(s[key]['ccc']['mean'], 2)})")
    text = "PHQ-8 score (0–24) predicted in the same outer folds: " + "; ".join(parts) + "."
    return text[0].upper() + text[1:] + (" A CCC near 0 means the predictions barely follow the true scores; the "
                                         "mean predictor's CCC is 0 by construction.")


def regression_residuals_sentence(predictions: pd.DataFrame) -> str:
    """Are severe cases pulled towards the mean? The residual's slope against the true score."""
    p = predictions[predictions.repeat == predictions.repeat.min()]
    residual = p.predicted_score - p.true_score
    slope = float(np.polyfit(p.true_score, residual, 1)[0]) if p.true_score.nunique() > 1 else np.nan
    severe = p.true_score >= 15
    pulled = (f" Participants with a score of 15 or more are predicted {number(-residual[severe].mean(), 1)} points too low "
              f"on average (n = {int(severe.sum())})." if severe.any() else "")
    return (f"Residual (predicted − true) against the true score: slope {number(slope, 2)} (0 would be no pull; −1 a constant "
            f"prediction), i.e. scores are pulled towards the mean by {number(-100 * slope, 0)}% of their distance from it."
            + pulled)
