"""Analysis of finished runs (what notebooks 03 and 04 and the site's key results show): tables,
diagnostics and the sentences that interpret them, every number computed from the run's files.

Reads run folders through :mod:`runs` and never trains; running or reusing a run is :mod:`cv`'s.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

from .evaluate import macro_f1, paired_bootstrap_difference
from .params import project_root
from .runs import PREDICTIONS, load_participants, load_run

BASELINE_NAMES = {
    "majority": "majority class", "always_depressed": "always depressed", "stratified_random": "stratified random",
    "gender_only": "gender only", "data_quality": "data quality only", "feature_model": "motion-feature model",
}


def _f(x, digits: int = 3, sign: bool = False) -> str:
    """A number for a sentence; 'n/a' for a missing or undefined one (e.g. the SD of one fold)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return (f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}").replace("-", "−")  # a typographic minus


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


def fold_table(metrics: dict) -> pd.DataFrame:
    """One row per outer fold (their mean ± SD is the headline, not a row here)."""
    cols = ["repeat", "fold", "n", "n_depressed", "macro_f1", "f1_depressed", "balanced_accuracy", "roc_auc",
            "predicted_positive_rate", "best_epoch", "threshold"]
    return pd.DataFrame(metrics["fold_details"])[cols]


def network_name(metrics: dict) -> str:
    """What the run's network is called in tables: it reads clips (the paper's design) or whole sessions."""
    scope = metrics.get("config", {}).get("model", {}).get("scope", "clip")
    return "CNN-LSTM (whole session)" if scope == "session" else "CNN-LSTM (clips)"


def models(metrics: dict) -> dict:
    """The three models every page shows, in the same folds: {name: summary} (network, the feature
    model, the fused model; a run written before the fused model had none)."""
    out = {network_name(metrics): metrics, "motion-feature model": metrics["baselines"]["feature_model"]}
    if "fused_model" in metrics:
        out["fused (network + features)"] = metrics["fused_model"]
    return out


def headline_table(metrics: dict) -> pd.DataFrame:
    """One row per model (network, feature model, fused), every one in the same outer folds."""
    rows = []
    for name, s in models(metrics).items():
        m = s["macro_f1"]
        rows.append({"model": name, "macro-F1 mean": m["mean"], "SD over folds": m["std"],
                     "pooled (repeat 0)": m["pooled"].get("0", np.nan),
                     "95% CI (pooled)": f"{_f(m['ci95'][0])} to {_f(m['ci95'][1])}", "ROC-AUC": s["roc_auc"]["mean"],
                     "predicted-positive rate": s["predicted_positive_rate"]["mean"]})
    return pd.DataFrame(rows)


def folds_phrase(macro_f1: dict) -> str:
    """'5 outer folds' or '2 outer folds × 5 repeats', from a metrics macro_f1 entry."""
    repeats = max(1, len(macro_f1.get("pooled") or {}))
    folds = len(macro_f1.get("folds") or []) // repeats
    return f"{folds} outer folds" + (f" × {repeats} repeats" if repeats > 1 else "")


def headline_sentence(metrics: dict) -> str:
    m = metrics["macro_f1"]
    return (f"Macro-F1 {_f(m['mean'])} ± {_f(m['std'])} (mean ± SD over {folds_phrase(m)}; 95% bootstrap CI of "
            f"the pooled value {_f(m['ci95'][0])} to {_f(m['ci95'][1])}). The model calls "
            f"{_f(100 * metrics['predicted_positive_rate']['mean'], 0)}% of participants depressed; "
            f"{_f(100 * prevalence(metrics), 0)}% are.")


def run_caption(metrics: dict, reused: bool) -> str:
    what = "Reused a finished run" if reused else "Ran"
    return (f"{what} ({metrics['protocol']}, {len(metrics['fold_details'])} outer folds, {_f(metrics['seconds'], 0)} s "
            f"on {metrics.get('device', 'cpu')}): the network, the motion-feature model and the fused model in the "
            f"same folds; {metrics['n_depressed']} of {metrics['n_participants']} participants depressed.")


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


def training_sentence(metrics: dict, max_epochs: int) -> str:
    t = chosen_table(metrics)
    return (f"Chosen epochs {t.best_epoch.min()} to {t.best_epoch.max()} (of at most {max_epochs}); decision "
            f"thresholds {_f(t.threshold.min(), 2)} to {_f(t.threshold.max(), 2)}, both chosen on each fold's "
            f"inner-validation participants. A fold took {_f(t.seconds.median(), 0)} s (median).")


def calibration_bins(metrics: dict) -> pd.DataFrame | None:
    """The reliability bins of pooled out-of-fold predictions, or None for a run without them."""
    cal = metrics.get("calibration")
    if not cal or not cal.get("bins"):
        return None
    return pd.DataFrame(cal["bins"])


def calibration_sentence(metrics: dict) -> str:
    cal = metrics.get("calibration")
    if not cal:
        return ("This run has no calibration summary (it was written before runs recorded one); run the report "
                "again to draw the reliability curve.")
    p = prevalence(metrics)
    return (f"Brier score {_f(cal['brier'])} (lower is better; predicting the prevalence {_f(p, 2)} for everyone "
            f"scores {_f(p * (1 - p))}). Points on the diagonal are calibrated; marker size is the number of "
            f"participants in the bin. Calibration method: {cal.get('method', 'none')}.")


def baseline_table(metrics: dict) -> pd.DataFrame:
    """The network, the fused model and every baseline; the first two with their paired difference
    to the feature model on the same participants (drawn beside the bars)."""
    rows = [{"name": network_name(metrics), "mean": metrics["macro_f1"]["mean"], "std": metrics["macro_f1"]["std"],
             "ppr": metrics["predicted_positive_rate"]["mean"]}]
    if "fused_model" in metrics:
        f = metrics["fused_model"]
        rows.append({"name": "fused (network + features)", "mean": f["macro_f1"]["mean"], "std": f["macro_f1"]["std"],
                     "ppr": f["predicted_positive_rate"]["mean"]})
    rows += [{"name": BASELINE_NAMES.get(k, k), "mean": v["macro_f1"]["mean"], "std": v["macro_f1"]["std"],
              "ppr": v["predicted_positive_rate"]["mean"]} for k, v in metrics["baselines"].items()]
    t = pd.DataFrame(rows)
    t["difference"], t["diff_low"], t["diff_high"] = np.nan, np.nan, np.nan
    for i, key in enumerate(("paired_vs_feature_model", "paired_fused_vs_feature_model")):
        paired = metrics.get(key)
        if paired and (i == 0 or "fused_model" in metrics):
            t.loc[i, ["difference", "diff_low", "diff_high"]] = [paired["difference"], *paired["ci95"]]
    return t


def verdict(difference: float, ci95: list) -> str:
    """'better', 'worse' or 'not shown' from a paired difference's 95% interval."""
    if ci95[0] > 0:
        return "better"
    if ci95[1] < 0:
        return "worse"
    return "not shown"


def conclusion(metrics: dict) -> str:
    """One sentence that follows from the paired CNN-LSTM minus feature-model difference."""
    paired = metrics["paired_vs_feature_model"]
    d, (lo, hi) = paired["difference"], paired["ci95"]
    where = "on this synthetic corpus" if metrics.get("synthetic") else "on this corpus"
    interval = f"paired difference in macro-F1 {_f(d, sign=True)}, 95% CI {_f(lo, sign=True)} to {_f(hi, sign=True)}"
    net = f"The {network_name(metrics)}"
    text = {"better": f"{net} beats the motion-feature model {where} ({interval}).",
            "worse": f"{net} does worse than the motion-feature model {where} ({interval}).",
            "not shown": f"{net} is not shown to beat the motion-feature model {where}: the 95% interval of "
                         f"the paired difference spans 0 ({interval})."}[verdict(d, [lo, hi])]
    fused = metrics.get("paired_fused_vs_feature_model")
    if fused and "fused_model" in metrics:
        fd, (flo, fhi) = fused["difference"], fused["ci95"]
        word = {"better": "beats", "worse": "does worse than", "not shown": "is not shown to beat"}[verdict(fd, [flo, fhi])]
        text += (f" The fused model (the network's logit at weight {metrics['fused_model']['weights'][0]:g} beside "
                 f"the feature model's) {word} it (paired difference {_f(fd, sign=True)}, 95% CI "
                 f"{_f(flo, sign=True)} to {_f(fhi, sign=True)}).")
    return text


def baseline_sentence(metrics: dict) -> str:
    b = metrics["baselines"]
    best = max(b, key=lambda k: b[k]["macro_f1"]["mean"])
    return (f"The strongest baseline is the {BASELINE_NAMES.get(best, best)} ({_f(b[best]['macro_f1']['mean'])} ± "
            f"{_f(b[best]['macro_f1']['std'])}). " + conclusion(metrics) + " Right panel: the paired bootstrap over "
            "participants of the first repeat (same folds, same participants).")


def roc_sentence(metrics: dict) -> str:
    aucs = [f["roc_auc"] for f in metrics["fold_details"]]
    return (f"ROC-AUC {_f(metrics['roc_auc']['mean'])} ± {_f(metrics['roc_auc']['std'])} over folds "
            f"(from {_f(np.nanmin(aucs))} to {_f(np.nanmax(aucs))}); 0.5 is chance, the dashed line. "
            "With a handful of participants per fold each curve moves in large steps.")


def pooled_confusion(predictions: pd.DataFrame) -> np.ndarray:
    return confusion_matrix(predictions.label, predictions.prediction, labels=[0, 1])


def confusion_sentence(predictions: pd.DataFrame) -> str:
    (tn, fp), (fn, tp) = pooled_confusion(predictions)
    return (f"{tp} of {tp + fn} depressed participants are detected (sensitivity {_f(tp / max(1, tp + fn), 2)}); "
            f"{tn} of {tn + fp} not depressed are correctly ruled out (specificity {_f(tn / max(1, tn + fp), 2)}). "
            "Percentages are of each true class; every participant appears once per repeat.")


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


def threshold_sentence(metrics: dict, predictions: pd.DataFrame) -> str:
    at_half = macro_f1(predictions.label, (predictions.score >= 0.5).astype(int))
    sweep = threshold_sweep(predictions)
    best = sweep.loc[sweep.macro_f1.idxmax()]
    t = chosen_table(metrics).threshold
    return (f"Scores range from {_f(predictions.score.min(), 3)} to {_f(predictions.score.max(), 3)}. At a threshold of 0.5 "
            f"the pooled macro-F1 would be {_f(at_half)}, not the reported {_f(metrics['macro_f1']['mean'])}: each fold "
            f"uses its own threshold ({_f(t.min(), 3)} to {_f(t.max(), 3)}), chosen on inner validation, and the reported "
            f"value is the mean over folds. The best threshold in hindsight ({_f(best.threshold, 3)}, macro-F1 "
            f"{_f(best.macro_f1)}) was chosen on the test participants themselves, so it is optimistic.")


def gender_table(metrics: dict) -> pd.DataFrame:
    return pd.DataFrame([{"gender": g, **v} for g, v in metrics["per_gender"].items()])


def gender_sentence(metrics: dict) -> str:
    g = metrics["per_gender"]
    parts = [f"{name}: macro-F1 {_f(v['macro_f1'])}, predicted-positive rate {_f(v['predicted_positive_rate'], 2)} "
             f"(n = {v['n']})" for name, v in g.items()]
    return "; ".join(parts) + ". Groups this small differ by chance; a gap is a question, not a finding."


def errors_table(run_dir: str | Path, predictions: pd.DataFrame) -> pd.DataFrame:
    """Per participant (first repeat): correct or not, against % valid frames and duration."""
    parts = load_participants(run_dir)
    p = predictions[predictions.repeat == predictions.repeat.min()].merge(parts[["participant_id", "valid_fraction",
                                                                                 "duration_s"]], on="participant_id")
    return pd.DataFrame({"label": p.label, "correct": p.label == p.prediction,
                         "valid_percent": 100 * p.valid_fraction, "duration_min": p.duration_s / 60})


def errors_sentence(errors: pd.DataFrame) -> str:
    wrong, right = errors[~errors.correct], errors[errors.correct]
    if wrong.empty:
        return "Every participant of the first repeat is classified correctly."
    return (f"{len(wrong)} of {len(errors)} participants are misclassified. Median valid frames: {_f(wrong.valid_percent.median(), 1)}% "
            f"for errors against {_f(right.valid_percent.median(), 1)}% for correct predictions; errors clustered at "
            "low quality would point at the data rather than the model.")


def compare_to_default(run_root: str | Path, comparison: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """``comparison`` (cv.run_comparisons' table) with each variant's paired difference to the default
    (first row) in macro-F1 on the same participants of the first repeat: difference, diff_low, diff_high."""
    run_root = Path(run_root)
    out = comparison.copy()
    out["difference"], out["diff_low"], out["diff_high"] = np.nan, np.nan, np.nan

    def first_repeat(run: str) -> pd.DataFrame:
        p = pd.read_csv(run_root / run / PREDICTIONS, dtype={"participant_id": str})
        return p[p.repeat == p.repeat.min()].set_index("participant_id").sort_index()
    default = first_repeat(out.run.iloc[0])
    for i in range(1, len(out)):
        variant = first_repeat(out.run.iloc[i]).reindex(default.index)
        d = paired_bootstrap_difference(default.label.to_numpy(), variant.prediction.to_numpy(),
                                        default.prediction.to_numpy(), n_boot, seed)
        out.loc[out.index[i], ["difference", "diff_low", "diff_high"]] = [d["difference"], *d["ci95"]]
    return out


def comparison_sentence(comparison: pd.DataFrame) -> str:
    """Per variant: its paired difference to the default and whether it is beyond noise."""
    parts = []
    for r in comparison.iloc[1:].itertuples():
        v = verdict(r.difference, [r.diff_low, r.diff_high])
        what = {"better": "better than the default beyond noise", "worse": "worse than the default beyond noise",
                "not shown": "within noise of the default"}[v]
        parts.append(f"{r.name}: {_f(r.difference, sign=True)} (95% CI {_f(r.diff_low, sign=True)} to "
                     f"{_f(r.diff_high, sign=True)}), {what}")
    return ("Paired differences in macro-F1 to the default on the same participants — " + "; ".join(parts) + "."
            if parts else "No variant beside the default.")


COMPARISON_COLUMNS = {"name": "variant", "mean": "network macro-F1 mean", "std": "network macro-F1 SD",
                      "roc_auc": "network ROC-AUC", "ppr": "predicted-positive rate",
                      "feature": "feature model macro-F1 (same folds)", "fused": "fused macro-F1 (same folds)",
                      "difference": "network: difference to default",
                      "diff_low": "95% CI low", "diff_high": "95% CI high", "parameters": "parameters",
                      "input": "input (C×R×W)", "seconds": "seconds"}


def comparison_table(comparison: pd.DataFrame) -> pd.DataFrame:
    return comparison[[c for c in COMPARISON_COLUMNS if c in comparison]]
