"""Participant-level metrics and their summaries: per fold, across folds (with the corrected t
interval) and pooled (with the participant bootstrap); the two estimators are :mod:`intervals`'.

All functions take plain arrays: ``y`` (n,) 0/1 labels, ``score`` (n,) probabilities of
"depressed", ``pred`` (n,) 0/1 decisions.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score, roc_auc_score

from .intervals import BOOTSTRAP_KEY, CORRECTED_T_KEY, bootstrap_ci, corrected_t_ci, test_fraction


def fold_metrics(y: np.ndarray, score: np.ndarray, pred: np.ndarray) -> dict:
    """Macro-F1 (headline), F1 per class, balanced accuracy, ROC-AUC, precision/recall of the
    depressed class, confusion matrix [[tn, fp], [fn, tp]] and predicted-positive rate."""
    y, pred = np.asarray(y, int), np.asarray(pred, int)
    f1 = f1_score(y, pred, labels=[0, 1], average=None, zero_division=0)
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    auc = roc_auc_score(y, score) if len(np.unique(y)) == 2 and score is not None else float("nan")
    return {
        "macro_f1": float(f1.mean()),
        "f1_depressed": float(f1[1]), "f1_not_depressed": float(f1[0]),
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)) if len(np.unique(y)) == 2 else float("nan"),
        "roc_auc": float(auc),
        "precision": float(tp / (tp + fp)) if tp + fp else 0.0,
        "recall": float(tp / (tp + fn)) if tp + fn else 0.0,
        "confusion": [[int(tn), int(fp)], [int(fn), int(tp)]],
        "predicted_positive_rate": float(pred.mean()) if len(pred) else float("nan"),
        "n": int(len(y)), "n_depressed": int(y.sum()),
    }


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean F1 of the classes 0 and 1, a class neither present nor predicted scoring 0: sklearn's
    ``f1_score(labels=[0, 1], average="macro", zero_division=0)`` to the last bit, counted with
    numpy because the bootstraps call it thousands of times (sklearn's checks cost ~1 ms a call)."""
    y, pred = np.asarray(y, int), np.asarray(pred, int)
    scores = []
    for c in (0, 1):
        tp = int(np.count_nonzero((y == c) & (pred == c)))
        denominator = int(np.count_nonzero(y == c)) + int(np.count_nonzero(pred == c))  # 2tp + fp + fn
        scores.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores))


def mean_sd(values) -> dict:
    """Mean and sample SD (ddof=1, the paper's convention) ignoring NaN."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], float)
    return {"mean": float(v.mean()) if v.size else float("nan"),
            "std": float(v.std(ddof=1)) if v.size > 1 else float("nan")}


def best_threshold(y: np.ndarray, score: np.ndarray) -> float:
    """Threshold maximising macro-F1 on (inner validation) scores; midpoints between sorted scores."""
    s = np.unique(np.asarray(score, float))
    if s.size < 2:
        return 0.5
    candidates = np.concatenate([[s[0] - 1e-6], (s[:-1] + s[1:]) / 2])
    scores = [macro_f1(y, (score >= t).astype(int)) for t in candidates]
    best = np.flatnonzero(np.isclose(scores, max(scores)))
    return float(np.median(candidates[best]))  # middle of the tied best range


def _fraction(predictions: pd.DataFrame, n_participants: int | None) -> float:
    """The corrected t's test share: the mean outer test fold over the run's participants (those the
    first repeat predicts, each once, unless ``n_participants`` says how many the run had)."""
    sizes = predictions.groupby(["repeat", "fold"]).size()
    return test_fraction(sizes, n_participants or int((predictions.repeat == predictions.repeat.min()).sum()))


def summarise(predictions: pd.DataFrame, n_boot: int, seed: int, n_participants: int | None = None) -> dict:
    """Summary over a predictions table (repeat, fold, label, score, prediction, gender): per-fold
    mean +- SD and the corrected t interval of the mean (``ci95_corrected_t``, the headline), pooled
    out-of-fold macro-F1 per repeat with the first repeat's participant bootstrap interval
    (``ci95_pooled_bootstrap``), per gender. ``n_participants``: the run's (default: those predicted)."""
    folds = [fold_metrics(g.label, g.score, g.prediction) | {"repeat": int(r), "fold": int(f)}
             for (r, f), g in predictions.groupby(["repeat", "fold"])]
    pooled = {str(r): macro_f1(g.label, g.prediction) for r, g in predictions.groupby("repeat")}  # JSON keys
    first = predictions[predictions.repeat == predictions.repeat.min()]
    gender = {}
    for name, g in predictions.groupby("gender"):
        gender[str(name)] = {"n": int(g.participant_id.nunique()), "macro_f1": macro_f1(g.label, g.prediction),
                             "predicted_positive_rate": float(g.prediction.mean())}
    values = [f["macro_f1"] for f in folds]
    return {
        "macro_f1": mean_sd(values) | {
            "folds": values, CORRECTED_T_KEY: corrected_t_ci(values, _fraction(predictions, n_participants)),
            "pooled": pooled,
            BOOTSTRAP_KEY: bootstrap_ci(first.label.to_numpy(), first.prediction.to_numpy(), macro_f1, n_boot, seed)},
        "roc_auc": mean_sd([f["roc_auc"] for f in folds]),
        "balanced_accuracy": mean_sd([f["balanced_accuracy"] for f in folds]),
        "f1_depressed": mean_sd([f["f1_depressed"] for f in folds]),
        "predicted_positive_rate": mean_sd([f["predicted_positive_rate"] for f in folds]) | {
            "folds": [f["predicted_positive_rate"] for f in folds]},
        "per_gender": gender,
        "folds": folds,
    }


def calibration_summary(y: np.ndarray, score: np.ndarray, n_bins: int = 5) -> dict:
    """Brier score and a reliability curve of pooled out-of-fold scores: ``bins`` of equal count
    (quantiles of the scores, so every point rests on the same number of participants), each with
    its mean score, observed depressed rate and count."""
    from sklearn.metrics import brier_score_loss
    y, score = np.asarray(y, int), np.asarray(score, float)
    order = np.argsort(score, kind="stable")
    bins = [{"mean_score": float(score[idx].mean()), "observed_rate": float(y[idx].mean()), "count": int(len(idx))}
            for idx in np.array_split(order, min(n_bins, len(y))) if len(idx)]
    return {"brier": float(brier_score_loss(y, score)), "bins": bins}


# ---------------------------------------------------------------- PHQ-8 severity (model.task: regression)
# ``true`` (n,) PHQ-8 scores, ``pred`` (n,) predicted scores on the same 0-24 scale.
REGRESSION_METRICS = ("rmse", "mae", "ccc", "pearson")


def rmse(true, pred) -> float:
    true, pred = np.asarray(true, float), np.asarray(pred, float)
    return float(np.sqrt(np.mean((pred - true) ** 2)))


def mae(true, pred) -> float:
    true, pred = np.asarray(true, float), np.asarray(pred, float)
    return float(np.mean(np.abs(pred - true)))


def ccc(true, pred) -> float:
    """Lin's concordance correlation coefficient, as AVEC 2019 scores it:
    2 cov(t, p) / (var(t) + var(p) + (mean(t) - mean(p))^2), population moments (ddof = 0).
    Written here: four lines of numpy, and no maintained library the project already depends on
    has it (scikit-learn and scipy do not). 1 only for identity; a shift or a rescaling lowers it
    below Pearson's r; NaN when both vectors are constant (undefined)."""
    true, pred = np.asarray(true, float), np.asarray(pred, float)
    denominator = true.var() + pred.var() + (true.mean() - pred.mean()) ** 2
    if not len(true) or denominator == 0:
        return float("nan")
    return float(2 * np.mean((true - true.mean()) * (pred - pred.mean())) / denominator)


def pearson(true, pred) -> float:
    """Pearson's r; NaN when either vector is constant (a mean predictor has no correlation)."""
    true, pred = np.asarray(true, float), np.asarray(pred, float)
    if len(true) < 2 or np.ptp(true) == 0 or np.ptp(pred) == 0:  # exact: a mean's std() is ~1e-16, not 0
        return float("nan")
    return float(np.corrcoef(true, pred)[0, 1])


REGRESSION_FUNCTIONS = {"rmse": rmse, "mae": mae, "ccc": ccc, "pearson": pearson}


def regression_summary(predictions: pd.DataFrame, n_boot: int, seed: int, column: str = "predicted_score",
                       n_participants: int | None = None) -> dict:
    """{rmse, mae, ccc, pearson}, each like ``macro_f1`` in :func:`summarise`: mean and SD (ddof = 1)
    over folds, ``folds``, ``ci95_corrected_t`` (the fold interval of the mean), ``pooled``
    (out-of-fold, per repeat) and ``ci95_pooled_bootstrap`` (over the first repeat's participants)
    of ``predictions[column]`` against ``true_score``."""
    import warnings
    groups = list(predictions.groupby(["repeat", "fold"]))
    first = predictions[predictions.repeat == predictions.repeat.min()]
    fraction = _fraction(predictions, n_participants)
    out = {}
    for name, fn in REGRESSION_FUNCTIONS.items():
        folds = [fn(g.true_score, g[column]) for _, g in groups]
        pooled = {str(r): fn(g.true_score, g[column]) for r, g in predictions.groupby("repeat")}
        with warnings.catch_warnings():  # a constant predictor's r (NaN in every resample) has no interval
            warnings.simplefilter("ignore")
            ci = bootstrap_ci(first.true_score.to_numpy(float), first[column].to_numpy(float), fn, n_boot, seed)
        out[name] = mean_sd(folds) | {"folds": folds, CORRECTED_T_KEY: corrected_t_ci(folds, fraction),
                                      "pooled": pooled, BOOTSTRAP_KEY: ci}
    return out
