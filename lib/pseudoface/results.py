"""Analysis of finished runs (what notebooks 03 and 04 show): tables and diagnostics.

Reads run folders through :mod:`runs` and never trains; running or reusing a run is :mod:`cv`'s.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

from .evaluate import macro_f1
from .params import project_root
from .runs import load_participants, load_run


def open_run(run_dir: str | Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """(metrics, predictions, history) of a finished run, for notebook 04: configures offline
    plotly rendering, and resolves a relative ``run_dir`` against the project root when the
    notebook runs elsewhere (JupyterLab starts kernels in notebooks/)."""
    import plotly.io as pio
    pio.renderers.default = os.environ.get("PLOTLY_RENDERER", "plotly_mimetype+notebook")
    if not Path(run_dir).exists() and (project_root() / run_dir).exists():
        os.chdir(project_root())
    return load_run(run_dir)


def fold_table(metrics: dict) -> pd.DataFrame:
    cols = ["repeat", "fold", "n", "n_depressed", "macro_f1", "f1_depressed", "balanced_accuracy", "roc_auc",
            "predicted_positive_rate", "best_epoch", "threshold"]
    t = pd.DataFrame(metrics["fold_details"])[cols]
    mean = t.mean(numeric_only=True)
    sd = t.std(numeric_only=True, ddof=1)
    return pd.concat([t, pd.DataFrame([mean.rename("mean"), sd.rename("SD")])]).round(3)


def headline_table(metrics: dict) -> pd.DataFrame:
    m = metrics["macro_f1"]
    return pd.DataFrame([{
        "macro-F1 mean": m["mean"], "SD (ddof=1)": m["std"], "pooled (repeat 0)": m["pooled"].get("0", np.nan),
        "95% CI low": m["ci95"][0], "95% CI high": m["ci95"][1], "ROC-AUC": metrics["roc_auc"]["mean"],
        "predicted-positive rate": metrics["predicted_positive_rate"]["mean"],
        "participants": metrics["n_participants"], "depressed": metrics["n_depressed"]}]).round(3)


def baseline_table(metrics: dict) -> pd.DataFrame:
    rows = [{"name": "CNN-LSTM", "mean": metrics["macro_f1"]["mean"], "std": metrics["macro_f1"]["std"],
             "ppr": metrics["predicted_positive_rate"]["mean"]}]
    rows += [{"name": k, "mean": v["macro_f1"]["mean"], "std": v["macro_f1"]["std"],
              "ppr": v["predicted_positive_rate"]["mean"]} for k, v in metrics["baselines"].items()]
    return pd.DataFrame(rows).round(3)


def threshold_sweep(predictions: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for t in np.linspace(0.05, 0.95, 19):
        pred = (predictions.score >= t).astype(int)
        rows.append({"threshold": t, "macro_f1": macro_f1(predictions.label, pred),
                     "predicted_positive_rate": float(pred.mean())})
    return pd.DataFrame(rows)


def pooled_confusion(predictions: pd.DataFrame) -> np.ndarray:
    return confusion_matrix(predictions.label, predictions.prediction, labels=[0, 1])


def gender_table(metrics: dict) -> pd.DataFrame:
    return pd.DataFrame([{"gender": g, **v} for g, v in metrics["per_gender"].items()]).round(3)


def errors_table(run_dir: str | Path, predictions: pd.DataFrame) -> pd.DataFrame:
    """Per participant (repeat 0): correct or not, against % valid frames and duration."""
    parts = load_participants(run_dir)
    p = predictions[predictions.repeat == predictions.repeat.min()].merge(parts[["participant_id", "valid_fraction",
                                                                                 "duration_s"]], on="participant_id")
    return pd.DataFrame({"label": p.label, "correct": p.label == p.prediction,
                         "valid_percent": 100 * p.valid_fraction, "duration_min": p.duration_s / 60})
