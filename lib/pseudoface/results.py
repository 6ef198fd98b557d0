"""What the training (03) and fold-analysis (04) notebooks compute: run reuse, comparisons, tables.

Analysis reads run folders (``metrics.json``, ``predictions.csv``, ``history.csv``) and never retrains.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .params import Params

# The paper's central claim, measured on the same folds: the seed network on its frame layout
# against the default window layout, and rigid alignment on against off.
COMPARISONS = {
    "default (window layout, aligned)": [],
    "seed preset (frame layout)": ["encode.layout=frame", "model.preset=seed", "model.clip_windows=16",
                                   "encode.frame_count=16"],
    "window layout, no alignment": ["normalise.align=false"],
}


def run_matches(run_dir: Path, params: Params, fingerprint: str | None = None) -> bool:
    """True when ``run_dir`` holds finished metrics for this config, data and code version."""
    from .cv import code_version, config_hash
    path = Path(run_dir) / "metrics.json"
    if not path.is_file():
        return False
    m = json.loads(path.read_text())
    same = m.get("config_hash") == config_hash(params) and m.get("code_version") == code_version()
    return same and (fingerprint is None or m.get("data_fingerprint") == fingerprint)


def ensure_run(params: Params, run_dir: str | Path, prep=None) -> tuple[dict, bool]:
    """(metrics, reused): run ``cv`` into run_dir unless a matching run is already there."""
    from .cv import prepare, run_cv
    run_dir = Path(run_dir)
    prep = prep or prepare(params)
    if run_matches(run_dir, params, prep.fingerprint):
        return json.loads((run_dir / "metrics.json").read_text()), True
    return run_cv(params, run_dir, progress=False, prep=prep, replace=True), False


def run_comparisons(params: Params, run_root: str | Path, extra: dict | None = None) -> pd.DataFrame:
    """Run (or reuse) each comparison variant in the same outer folds; one row per variant."""
    from dataclasses import asdict
    from .params import params_from_dict
    rows = []
    for name, overrides in {**COMPARISONS, **(extra or {})}.items():
        variant = params_from_dict(asdict(params), overrides)
        run_dir = Path(run_root) / ("variant-" + "-".join(o.split("=")[0].split(".")[-1] + "_" + o.split("=")[1]
                                                       for o in overrides) if overrides else "main")
        metrics, _ = ensure_run(variant, run_dir)
        rows.append({"name": name, "mean": metrics["macro_f1"]["mean"], "std": metrics["macro_f1"]["std"],
                     "roc_auc": metrics["roc_auc"]["mean"], "ppr": metrics["predicted_positive_rate"]["mean"],
                     "parameters": metrics["model_parameters"], "input": "x".join(map(str, metrics["input_shape"])),
                     "seconds": round(metrics["seconds"]), "run": run_dir.name})
    return pd.DataFrame(rows)


def load_run(run_dir: str | Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    run_dir = Path(run_dir)
    if not (run_dir / "metrics.json").is_file():
        raise FileNotFoundError(f"{run_dir}: no metrics.json (run notebook 03 or `pseudoface cv` first)")
    return (json.loads((run_dir / "metrics.json").read_text()), pd.read_csv(run_dir / "predictions.csv",
            dtype={"participant_id": str}), pd.read_csv(run_dir / "history.csv"))


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
    from .evaluate import macro_f1
    rows = []
    for t in np.linspace(0.05, 0.95, 19):
        pred = (predictions.score >= t).astype(int)
        rows.append({"threshold": t, "macro_f1": macro_f1(predictions.label, pred),
                     "predicted_positive_rate": float(pred.mean())})
    return pd.DataFrame(rows)


def pooled_confusion(predictions: pd.DataFrame) -> np.ndarray:
    from sklearn.metrics import confusion_matrix
    return confusion_matrix(predictions.label, predictions.prediction, labels=[0, 1])


def gender_table(metrics: dict) -> pd.DataFrame:
    return pd.DataFrame([{"gender": g, **v} for g, v in metrics["per_gender"].items()]).round(3)


def errors_table(run_dir: str | Path, predictions: pd.DataFrame) -> pd.DataFrame:
    """Per participant (repeat 0): correct or not, against % valid frames and duration."""
    parts = pd.read_csv(Path(run_dir) / "participants.csv", dtype={"participant_id": str})
    p = predictions[predictions.repeat == predictions.repeat.min()].merge(parts[["participant_id", "valid_fraction",
                                                                                 "duration_s"]], on="participant_id")
    return pd.DataFrame({"label": p.label, "correct": p.label == p.prediction,
                         "valid_percent": 100 * p.valid_fraction, "duration_min": p.duration_s / 60})
