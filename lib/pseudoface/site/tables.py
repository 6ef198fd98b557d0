"""The numbers of a finished run as tables (notebooks 03 and 04, the site, the downloads): each model's
per-fold macro-F1 and the paired differences between models by the fold estimator (the corrected
resampled t, :mod:`intervals`), the screening counts of the pooled predictions, the per-fold choices,
the threshold sweep, the comparison variants against the default. Sentences about them are :mod:`results`'.

Reads run folders through :mod:`runs` and never trains.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

from ..learning.evaluate import macro_f1
from ..learning.intervals import UNIT, ci_text, fold_interval
from ..learning.intervals import test_fraction as fold_share
from ..params import project_root
from ..learning.runs import load_metrics, load_participants, load_run


BASELINE_NAMES = {
    "majority": "majority class", "always_depressed": "always depressed", "stratified_random": "stratified random",
    "gender_only": "gender only", "data_quality": "data quality only", "feature_model": "motion-feature model",
}


TRIVIAL = ("stratified_random", "majority", "always_depressed", "gender_only", "data_quality")  # no face data


def open_run(run_dir: str | Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """(metrics, predictions, history) of a finished run, for notebook 04: configures offline
    plotly rendering, and resolves a relative ``run_dir`` against the project root when the
    notebook runs elsewhere (JupyterLab starts kernels in notebooks/)."""
    from .plots import use_offline_renderer
    use_offline_renderer()
    if not Path(run_dir).exists() and (project_root() / run_dir).exists():
        os.chdir(project_root())
    return load_run(run_dir)


def prevalence(metrics: dict) -> float:
    return metrics["n_depressed"] / max(1, metrics["n_participants"])


def network_name(metrics: dict) -> str:
    """What the run's network is called in tables: it reads clips (the paper's design) or whole sessions."""
    scope = metrics.get("config", {}).get("model", {}).get("scope", "clip")
    return "CNN-LSTM (whole session)" if scope == "session" else "CNN-LSTM (clips)"


def model_label(metrics: dict, key: str, prose: bool = False) -> str:
    """A model's name in tables (``prose``: in a sentence, after "the")."""
    fused = "fused model" if prose else "fused (network + features)"
    return {"network": network_name(metrics), "fused": fused}.get(key, BASELINE_NAMES.get(key, key))


def test_fraction(metrics: dict) -> float:
    """The share of participants an outer fold tests (n2 / (n1 + n2) of the corrected t)."""
    n = [f["n"] for f in metrics.get("fold_details", [])]
    if n:
        return fold_share(n, metrics["n_participants"])
    repeats = max(1, len(metrics["macro_f1"].get("pooled") or {}))  # a summary without the fold table
    return repeats / max(1, len(metrics["macro_f1"].get("folds") or []))


def fold_scores(metrics: dict) -> dict[str, list]:
    """{key: per-fold macro-F1} of every model and baseline of a run, in fold order: "network",
    "fused" (when the run has it), "feature_model" and each trivial baseline."""
    out = {"network": metrics["macro_f1"]["folds"]}
    if "fused_model" in metrics:
        out["fused"] = metrics["fused_model"]["macro_f1"]["folds"]
    return out | {k: v["macro_f1"]["folds"] for k, v in metrics["baselines"].items()}


def headline_key(metrics: dict) -> str:
    """The headline model: the fused one when the run has it (the best on the development seeds)."""
    return "fused" if "fused_model" in metrics else "network"


def headline_keys(metrics: dict) -> list[str]:
    """The models the headline tables show, in order: the headline, the network, the feature model,
    the best trivial baseline (the network once when it is the headline)."""
    return list(dict.fromkeys([headline_key(metrics), "network", "feature_model", best_trivial(metrics)]))


def best_trivial(metrics: dict) -> str:
    """The trivial baseline (no face data) with the highest mean macro-F1 in the run's folds."""
    b = metrics["baselines"]
    return max((k for k in TRIVIAL if k in b), key=lambda k: b[k]["macro_f1"]["mean"])


def paired(metrics: dict, a: str, b: str) -> dict:
    """Model ``a`` minus model ``b`` on the same folds: the mean of the per-fold differences (which is
    the difference of the two means over folds) with its corrected resampled t interval."""
    s = fold_scores(metrics)
    return fold_interval(np.asarray(s[a], float) - np.asarray(s[b], float), test_fraction(metrics))


def verdict(difference: float, ci95: list) -> str:
    """'better', 'worse' or 'not shown' from a paired difference's 95% interval."""
    if ci95[0] > 0:
        return "better"
    if ci95[1] < 0:
        return "worse"
    return "not shown"


def headline_table(metrics: dict, screen: dict | None = None) -> pd.DataFrame:
    """One row per model (the headline first, then the network, the feature model and the best
    trivial baseline), every one in the same outer folds: macro-F1 by the fold estimator, ROC-AUC
    over folds, and with ``screen`` (:func:`screening`) sensitivity, specificity and Brier."""
    frac, s = test_fraction(metrics), fold_scores(metrics)
    rows = []
    for key in headline_keys(metrics):
        summary = {"network": metrics, "fused": metrics.get("fused_model")}.get(key) or metrics["baselines"][key]
        iv = fold_interval(s[key], frac)
        row = {"model": model_label(metrics, key), "macro-F1 (mean over folds)": iv["mean"], "SD over folds": iv["sd"],
               "95% CI (corrected t)": ci_text(iv["ci95"], bounds=UNIT),
               "ROC-AUC (mean over folds)": summary["roc_auc"]["mean"],
               "calls depressed": summary["predicted_positive_rate"]["mean"]}
        if screen is not None:
            sc = screen.get(key, {})
            row |= {"sensitivity (pooled)": sc.get("sensitivity", np.nan), "specificity (pooled)": sc.get("specificity", np.nan),
                    "Brier (pooled)": sc.get("brier", np.nan)}
        rows.append(row)
    return pd.DataFrame(rows)


def baseline_table(metrics: dict) -> pd.DataFrame:
    """The network, the fused model and every baseline in the same folds (macro-F1 mean and SD over
    folds with the corrected t interval of the mean, predicted-positive rate), each with its
    difference to the feature model by the same estimator (:func:`paired`; drawn beside the bars)."""
    rows, frac, scores = [], test_fraction(metrics), fold_scores(metrics)
    for key in scores:
        summary = {"network": metrics, "fused": metrics.get("fused_model")}.get(key) or metrics["baselines"][key]
        iv = fold_interval(scores[key], frac)
        d = paired(metrics, key, "feature_model") if key != "feature_model" else {"mean": np.nan, "ci95": [np.nan] * 2}
        rows.append({"name": model_label(metrics, key), "mean": iv["mean"], "std": iv["sd"],
                     "ci95_low": iv["ci95"][0], "ci95_high": iv["ci95"][1],
                     "ppr": summary["predicted_positive_rate"]["mean"], "difference": d["mean"],
                     "diff_low": d["ci95"][0], "diff_high": d["ci95"][1]})
    return pd.DataFrame(rows)


def fold_table(metrics: dict) -> pd.DataFrame:
    """One row per outer fold (their mean ± SD is the headline, not a row here)."""
    cols = ["repeat", "fold", "n", "n_depressed", "macro_f1", "f1_depressed", "balanced_accuracy", "roc_auc",
            "predicted_positive_rate", "best_epoch", "threshold"]
    return pd.DataFrame(metrics["fold_details"])[cols]


def screening(predictions: pd.DataFrame) -> dict:
    """Per model, from the pooled out-of-fold predictions of the first repeat: the confusion counts,
    sensitivity, specificity and Brier score ({"network", "feature_model", "fused"} as present)."""
    p = predictions[predictions.repeat == predictions.repeat.min()]
    columns = {"network": ("score", p.prediction)}
    if "feature_score" in p:  # the feature model decides at probability 0.5 (balanced class weights)
        columns["feature_model"] = ("feature_score", (p.feature_score >= 0.5).astype(int))
    if "fused_score" in p:
        columns["fused"] = ("fused_score", p.fused_prediction)
    out = {}
    for key, (score, prediction) in columns.items():
        (tn, fp), (fn, tp) = confusion_matrix(p.label, prediction, labels=[0, 1])
        out[key] = {"tp": int(tp), "fn": int(fn), "tn": int(tn), "fp": int(fp),
                    "sensitivity": tp / (tp + fn) if tp + fn else np.nan,
                    "specificity": tn / (tn + fp) if tn + fp else np.nan,
                    "brier": float(np.mean((p[score] - p.label) ** 2))}
    out["prevalence_brier"] = float(p.label.mean() * (1 - p.label.mean()))
    return out


def model_table(metrics: dict, params) -> pd.DataFrame:
    """The network and its cost."""
    return pd.DataFrame([{"preset": params.model.preset, "parameters": metrics["model_parameters"],
                          "size (kB, float32)": f"{metrics['model_parameters'] * 4 / 1024:.1f}",
                          "input (C×R×W)": "×".join(map(str, metrics["input_shape"])),
                          "reads": ("the whole session (spans of at most "
                                    f"{params.train.span_windows} windows in training)" if params.model.scope == "session"
                                    else f"clips of K = {params.model.clip_windows} windows"),
                          "video (min)": round(metrics["session_minutes"], 1),
                          "cross-validation (s)": round(metrics["seconds"])}])


def chosen_table(metrics: dict) -> pd.DataFrame:
    t = pd.DataFrame(metrics["fold_details"])[["repeat", "fold", "best_epoch", "threshold", "seconds"]]
    return t.assign(seconds=t.seconds.round())


def calibration_bins(metrics: dict) -> pd.DataFrame | None:
    """The reliability bins of pooled out-of-fold predictions, or None for a run without them."""
    cal = metrics.get("calibration")
    if not cal or not cal.get("bins"):
        return None
    return pd.DataFrame(cal["bins"])


def pooled_confusion(predictions: pd.DataFrame) -> np.ndarray:
    return confusion_matrix(predictions.label, predictions.prediction, labels=[0, 1])


def threshold_sweep(predictions: pd.DataFrame, points: int = 41) -> pd.DataFrame:
    """Pooled macro-F1 and predicted-positive rate over a grid spanning the observed scores."""
    lo, hi = float(predictions.score.min()), float(predictions.score.max())
    pad = max(1e-3, 0.02 * (hi - lo))
    rows = []
    for t in np.linspace(lo - pad, hi + pad, points):
        pred = (predictions.score >= t).astype(int)
        rows.append({"threshold": t, "macro_f1": macro_f1(predictions.label, pred),
                     "predicted_positive_rate": float(pred.mean())})
    return pd.DataFrame(rows)


def gender_table(metrics: dict) -> pd.DataFrame:
    return pd.DataFrame([{"gender": g, **v} for g, v in metrics["per_gender"].items()])


def errors_table(run_dir: str | Path, predictions: pd.DataFrame) -> pd.DataFrame:
    """Per participant (first repeat): correct or not, against % valid frames and duration."""
    parts = load_participants(run_dir)
    p = predictions[predictions.repeat == predictions.repeat.min()].merge(parts[["participant_id", "valid_fraction",
                                                                                 "duration_s"]], on="participant_id")
    return pd.DataFrame({"label": p.label, "correct": p.label == p.prediction,
                         "valid_percent": 100 * p.valid_fraction, "duration_min": p.duration_s / 60})


def compare_to_default(run_root: str | Path, comparison: pd.DataFrame) -> pd.DataFrame:
    """``comparison`` (cv.run_comparisons' table) with each variant's difference to the default (first
    row) in macro-F1 over the same outer folds: the mean of the per-fold differences (exactly the
    difference of the two means the table draws) with its corrected t interval: difference,
    diff_low, diff_high. NaN where the variant's folds are not the default's (other fold sizes)."""
    run_root = Path(run_root)
    out = comparison.copy()
    out["difference"], out["diff_low"], out["diff_high"] = np.nan, np.nan, np.nan
    default = load_metrics(run_root / out.run.iloc[0])

    def folds(m: dict) -> list:
        return [(f["repeat"], f["fold"], f["n"]) for f in m["fold_details"]]
    for i in range(1, len(out)):
        variant = load_metrics(run_root / out.run.iloc[i])
        if folds(variant) == folds(default):
            d = fold_interval(np.asarray(variant["macro_f1"]["folds"], float)
                              - np.asarray(default["macro_f1"]["folds"], float), test_fraction(default))
            out.loc[out.index[i], ["difference", "diff_low", "diff_high"]] = [d["mean"], *d["ci95"]]
    return out


COMPARISON_COLUMNS = {"name": "variant", "mean": "network macro-F1 mean", "std": "network macro-F1 SD",
                      "roc_auc": "network ROC-AUC", "ppr": "predicted-positive rate",
                      "feature": "feature model macro-F1 (same folds)", "fused": "fused macro-F1 (same folds)",
                      "difference": "network: difference to default (mean of per-fold differences)",
                      "diff_low": "95% CI low (corrected t)", "diff_high": "95% CI high (corrected t)",
                      "parameters": "parameters",
                      "input": "input (C×R×W)", "seconds": "seconds"}


def comparison_table(comparison: pd.DataFrame) -> pd.DataFrame:
    return comparison[[c for c in COMPARISON_COLUMNS if c in comparison]]
