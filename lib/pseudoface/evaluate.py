"""Participant-level metrics and their summaries: per fold, across folds, pooled, bootstrap.

All functions take plain arrays: ``y`` (n,) 0/1 labels, ``score`` (n,) probabilities of
"depressed", ``pred`` (n,) 0/1 decisions.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score, roc_auc_score


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


def _bootstrap(data: tuple, statistic, n_boot: int, seed: int):
    """scipy's percentile bootstrap over participants: the arrays in ``data`` are resampled together
    (``paired=True``: one participant keeps its label and its predictions), ``n_boot`` resamples from
    a generator seeded with ``seed``. Returns (95% interval, the resampled statistics).

    Resamples holding one class only need no special case: macro-F1 is defined on them
    (``zero_division=0``: the absent class scores 0, as in the loop this replaced), so scipy never
    meets an undefined value. scipy refuses fewer than two participants; every resample of one
    participant is that participant, so the interval is then the point value, 0 wide."""
    from scipy.stats import bootstrap
    data = tuple(np.asarray(d) for d in data)
    if len(data[0]) < 2:
        value = float(statistic(*data))
        return [value, value], np.full(n_boot, value)
    res = bootstrap(data, statistic, n_resamples=n_boot, paired=True, vectorized=False, method="percentile",
                    confidence_level=0.95, rng=np.random.default_rng(seed))
    ci = res.confidence_interval
    return [float(ci.low), float(ci.high)], res.bootstrap_distribution


def bootstrap_ci(y: np.ndarray, pred: np.ndarray, n_boot: int, seed: int, stat=macro_f1) -> list:
    """95% percentile interval of ``stat`` over participants resampled with replacement."""
    return _bootstrap((y, pred), stat, n_boot, seed)[0]


def paired_bootstrap_difference(y: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, n_boot: int,
                                seed: int) -> dict:
    """Macro-F1(a) - macro-F1(b) on the same participants, with a paired 95% bootstrap interval
    and the fraction of resamples where a is not better (a one-sided bootstrap p)."""
    y, a, b = map(np.asarray, (y, pred_a, pred_b))
    ci, diffs = _bootstrap((y, a, b), lambda y, a, b: macro_f1(y, a) - macro_f1(y, b), n_boot, seed)
    return {"difference": macro_f1(y, a) - macro_f1(y, b), "ci95": ci,
            "p_not_better": float(np.mean(np.asarray(diffs) <= 0))}


def best_threshold(y: np.ndarray, score: np.ndarray) -> float:
    """Threshold maximising macro-F1 on (inner validation) scores; midpoints between sorted scores."""
    s = np.unique(np.asarray(score, float))
    if s.size < 2:
        return 0.5
    candidates = np.concatenate([[s[0] - 1e-6], (s[:-1] + s[1:]) / 2])
    scores = [macro_f1(y, (score >= t).astype(int)) for t in candidates]
    best = np.flatnonzero(np.isclose(scores, max(scores)))
    return float(np.median(candidates[best]))  # middle of the tied best range


def summarise(predictions: pd.DataFrame, n_boot: int, seed: int) -> dict:
    """Summary over a predictions table (repeat, fold, label, score, prediction, gender):
    per-fold mean +- SD, pooled out-of-fold macro-F1 per repeat, bootstrap CI, per gender."""
    folds = [fold_metrics(g.label, g.score, g.prediction) | {"repeat": int(r), "fold": int(f)}
             for (r, f), g in predictions.groupby(["repeat", "fold"])]
    pooled = {str(r): macro_f1(g.label, g.prediction) for r, g in predictions.groupby("repeat")}  # JSON keys
    first = predictions[predictions.repeat == predictions.repeat.min()]
    gender = {}
    for name, g in predictions.groupby("gender"):
        gender[str(name)] = {"n": int(g.participant_id.nunique()), "macro_f1": macro_f1(g.label, g.prediction),
                             "predicted_positive_rate": float(g.prediction.mean())}
    return {
        "macro_f1": mean_sd([f["macro_f1"] for f in folds]) | {
            "folds": [f["macro_f1"] for f in folds], "pooled": pooled,
            "ci95": bootstrap_ci(first.label.to_numpy(), first.prediction.to_numpy(), n_boot, seed)},
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


def regression_summary(predictions: pd.DataFrame, n_boot: int, seed: int, column: str = "predicted_score") -> dict:
    """{rmse, mae, ccc, pearson}, each like ``macro_f1`` in :func:`summarise`: mean and SD (ddof = 1)
    over folds, ``folds``, ``pooled`` (out-of-fold, per repeat) and ``ci95`` (percentile bootstrap
    over the first repeat's participants, :func:`_bootstrap`) of ``predictions[column]`` against
    ``true_score``."""
    import warnings
    groups = list(predictions.groupby(["repeat", "fold"]))
    first = predictions[predictions.repeat == predictions.repeat.min()]
    out = {}
    for name, fn in REGRESSION_FUNCTIONS.items():
        folds = [fn(g.true_score, g[column]) for _, g in groups]
        pooled = {str(r): fn(g.true_score, g[column]) for r, g in predictions.groupby("repeat")}
        with warnings.catch_warnings():  # a constant predictor's r (NaN in every resample) has no interval
            warnings.simplefilter("ignore")
            ci = _bootstrap((first.true_score.to_numpy(float), first[column].to_numpy(float)), fn, n_boot, seed)[0]
        out[name] = mean_sd(folds) | {"folds": folds, "pooled": pooled, "ci95": ci}
    return out


def paired_fold_difference(a: list, b: list) -> dict:
    """Mean and SD (ddof = 1) of the per-fold differences a - b (the same folds, in the same order)."""
    d = np.asarray(a, float) - np.asarray(b, float)
    return mean_sd(d) | {"folds": [float(v) for v in d]}
