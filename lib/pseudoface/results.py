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

from .evaluate import macro_f1
from .intervals import CORRECTED_T, ci_text, fold_interval, headline_text
from .intervals import test_fraction as fold_share
from .params import project_root
from .runs import load_metrics, load_participants, load_run

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


TRIVIAL = ("stratified_random", "majority", "always_depressed", "gender_only", "data_quality")  # no face data
POOLED_ESTIMATOR = "pooled out-of-fold predictions of the first repeat"


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


def model_label(metrics: dict, key: str, prose: bool = False) -> str:
    """A model's name in tables (``prose``: in a sentence, after "the")."""
    fused = "fused model" if prose else "fused (network + features)"
    return {"network": network_name(metrics), "fused": fused}.get(key, BASELINE_NAMES.get(key, key))


def headline_key(metrics: dict) -> str:
    """The headline model: the fused one when the run has it (the best on the development seeds)."""
    return "fused" if "fused_model" in metrics else "network"


def paired(metrics: dict, a: str, b: str) -> dict:
    """Model ``a`` minus model ``b`` on the same folds: the mean of the per-fold differences (which is
    the difference of the two means over folds) with its corrected resampled t interval."""
    s = fold_scores(metrics)
    return fold_interval(np.asarray(s[a], float) - np.asarray(s[b], float), test_fraction(metrics))


def best_trivial(metrics: dict) -> str:
    """The trivial baseline (no face data) with the highest mean macro-F1 in the run's folds."""
    b = metrics["baselines"]
    return max((k for k in TRIVIAL if k in b), key=lambda k: b[k]["macro_f1"]["mean"])


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


def headline_keys(metrics: dict) -> list[str]:
    """The models the headline tables show, in order: the headline, the network, the feature model,
    the best trivial baseline (the network once when it is the headline)."""
    return list(dict.fromkeys([headline_key(metrics), "network", "feature_model", best_trivial(metrics)]))


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
               "95% CI (corrected t)": ci_text(iv["ci95"]),
               "ROC-AUC (mean over folds)": summary["roc_auc"]["mean"],
               "calls depressed": summary["predicted_positive_rate"]["mean"]}
        if screen is not None:
            sc = screen.get(key, {})
            row |= {"sensitivity (pooled)": sc.get("sensitivity", np.nan), "specificity (pooled)": sc.get("specificity", np.nan),
                    "Brier (pooled)": sc.get("brier", np.nan)}
        rows.append(row)
    return pd.DataFrame(rows)


def folds_phrase(macro_f1: dict) -> str:
    """'5 outer folds' or '2 outer folds × 5 repeats', from a metrics macro_f1 entry."""
    repeats = max(1, len(macro_f1.get("pooled") or {}))
    folds = len(macro_f1.get("folds") or []) // repeats
    return f"{folds} outer folds" + (f" × {repeats} repeats" if repeats > 1 else "")


def estimator_note(metrics: dict) -> str:
    """Which estimator each number of the headline tables is."""
    return (f"Macro-F1 and ROC-AUC: mean over the {folds_phrase(metrics['macro_f1'])} (the headline estimator), with "
            "the SD over folds; the 95% CI of the mean macro-F1 and of every difference between models is the "
            "corrected resampled t over folds (Nadeau and Bengio, 2003), which allows for folds sharing training "
            "participants. A difference is the mean of the per-fold paired differences, i.e. exactly the difference "
            f"of the two means. Sensitivity, specificity and Brier score: {POOLED_ESTIMATOR}.")


def headline_sentence(metrics: dict) -> str:
    key = headline_key(metrics)
    iv = fold_interval(fold_scores(metrics)[key], test_fraction(metrics))
    ppr = (metrics.get("fused_model") if key == "fused" else metrics)["predicted_positive_rate"]["mean"]
    return (f"The {model_label(metrics, key, prose=True)}: macro-F1 "
            f"{headline_text(iv['mean'], iv['sd'], iv['ci95'], folds_phrase(metrics['macro_f1']))}. It calls "
            f"{_f(100 * ppr, 0)}% of participants depressed; {_f(100 * prevalence(metrics), 0)}% are. "
            + label_sentence(metrics))


LABEL_RULES = {"score_ge_10": "PHQ-8 score ≥ 10", "file_binary": "the binary label of the corpus' label files"}


def label_sentence(metrics: dict) -> str:
    """Which label every model was trained and scored on, and how often the other reading disagrees."""
    rule = metrics.get("label_rule", "score_ge_10")
    other = "the files' binary label" if rule == "score_ge_10" else "PHQ-8 ≥ 10"
    n = metrics.get("label_disagreements")
    count = ("" if n is None else f"; {other} disagrees for {n} participant{'s' * (n != 1)}"
             if n else f"; {other} agrees for every participant")
    return f"Label trained and scored: depressed = {LABEL_RULES.get(rule, rule)}{count}."


def small_fold_warning(metrics: dict) -> str:
    """A warning when outer folds hold too few participants or events for a per-fold metric ('' if not)."""
    d = pd.DataFrame(metrics["fold_details"])
    events = d.n_depressed.min()
    others = (d.n - d.n_depressed).min()
    if d.n.min() >= 20 and min(events, others) >= 5:
        return ""
    repeats = max(1, len(metrics["macro_f1"].get("pooled") or {}))
    aucs = d.roc_auc.dropna()
    spread = f" (per-fold ROC-AUC runs {_f(aucs.min())} to {_f(aucs.max())})" if len(aucs) else ""
    advice = ("more repeats of the fold split would average over splits" if repeats < 3 else
              f"the {repeats} repeats average over splits")
    return (f"Small folds: an outer fold holds as few as {d.n.min()} participants, {events} of them depressed, too few "
            f"to estimate a per-fold metric well{spread}; read the mean ± SD over folds as rough, {advice}, "
            "and only more participants narrow the intervals.")


def run_caption(metrics: dict, reused: bool) -> str:
    what = "Reused a finished run" if reused else "Ran"
    return (f"{what} ({metrics['protocol']}, {len(metrics['fold_details'])} outer folds, {_f(metrics['seconds'], 0)} s "
            f"on {metrics.get('device', 'cpu')}): the headline model, the network, the motion-feature model and the best "
            f"trivial baseline in the same folds; {metrics['n_depressed']} of {metrics['n_participants']} participants "
            "depressed.")


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
    """The network's Brier score (the curve drawn) against the prevalence-only forecast, and the
    fused (headline) model's beside it."""
    cal = metrics.get("calibration")
    if not cal:
        return ("This run has no calibration summary (it was written before runs recorded one); run the report "
                "again to draw the reliability curve.")
    p = prevalence(metrics)
    reference = p * (1 - p)
    reading = (f"This is worse than the prevalence-only forecast, which gives every participant the probability {_f(p, 2)} "
               f"and scores {_f(reference)}: the network's scores may rank participants, but they are not usable as "
               "probabilities of depression." if cal["brier"] >= reference else
               f"This beats the prevalence-only forecast ({_f(p, 2)} for everyone scores {_f(reference)}).")
    fused = metrics.get("fused_model", {}).get("calibration")
    headline = (f" The fused model (the headline) scores a Brier of {_f(fused['brier'])} on the same participants, "
                f"{'worse than' if fused['brier'] >= reference else 'better than'} the prevalence-only forecast."
                if fused else "")
    return (f"Brier score {_f(cal['brier'])} of the network's pooled out-of-fold probabilities (lower is better). {reading}"
            f"{headline} Points on the diagonal are calibrated; marker size is the number of participants in the bin. "
            f"Calibration method: {cal.get('method', 'none')}.")


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


def verdict(difference: float, ci95: list) -> str:
    """'better', 'worse' or 'not shown' from a paired difference's 95% interval."""
    if ci95[0] > 0:
        return "better"
    if ci95[1] < 0:
        return "worse"
    return "not shown"


def _difference(d: dict) -> str:
    return f"difference {_f(d['mean'], sign=True)}, 95% CI {_f(d['ci95'][0], sign=True)} to {_f(d['ci95'][1], sign=True)}"


def _against_trivial(metrics: dict, key: str, where: str) -> str:
    """One sentence: does model ``key`` beat the best trivial baseline, in the same folds?"""
    trivial = best_trivial(metrics)
    d = paired(metrics, key, trivial)
    name, base = model_label(metrics, key, prose=True), BASELINE_NAMES.get(trivial, trivial)
    where = f" {where}" if where else ""
    score = _f(metrics["baselines"][trivial]["macro_f1"]["mean"])
    if verdict(d["mean"], d["ci95"]) == "better":
        return f"The {name} beats every trivial baseline{where}: the best of them, {base}, scores {score} ({_difference(d)})."
    if d["mean"] <= 0:
        return (f"The {name} is no better than a trivial baseline{where}: {base}, which uses no face data, scores "
                f"{score} ({_difference(d)}).")
    return (f"The {name} is not shown to beat the best trivial baseline{where}, {base} at {score} ({_difference(d)}: "
            "the interval spans 0).")


def _against_features(metrics: dict, key: str) -> str:
    d = paired(metrics, key, "feature_model")
    word = {"better": "beats", "worse": "does worse than", "not shown": "is not shown to differ from"}[verdict(d["mean"], d["ci95"])]
    return f"The {model_label(metrics, key, prose=True)} {word} the motion-feature model ({_difference(d)})."


def floor_sentence(metrics: dict) -> str:
    """'' unless the network sits at the majority-class floor (it calls (almost) everyone one class)."""
    ppr = metrics["predicted_positive_rate"]["mean"]
    majority = metrics["baselines"].get("majority", {}).get("macro_f1", {}).get("mean", np.nan)
    if ppr <= 0.05 or ppr >= 0.95:
        return (f"The {network_name(metrics)} sits at the majority-class floor: it calls {_f(100 * ppr, 0)}% of "
                f"participants depressed, so its macro-F1 ({_f(metrics['macro_f1']['mean'])}) is about that of calling "
                f"everyone one class ({_f(majority)}).")
    if metrics["macro_f1"]["mean"] <= majority + 0.01:
        return (f"The {network_name(metrics)}'s macro-F1 ({_f(metrics['macro_f1']['mean'])}) is no higher than that of "
                f"calling everyone not depressed ({_f(majority)}), though it calls {_f(100 * ppr, 0)}% of participants "
                "depressed: its decisions carry no information about the label here.")
    return ""


def conclusion(metrics: dict) -> str:
    """What the run shows, ranked against every baseline in the same folds: the headline model (and
    the network when the headline is the fused model) against the best trivial baseline and the
    feature model, by the fold estimator (:func:`paired`), saying plainly when a model does not beat
    a trivial baseline."""
    where = "on this synthetic corpus" if metrics.get("synthetic") else "on this corpus"
    head = headline_key(metrics)
    parts = [_against_trivial(metrics, head, where)]
    if head == "fused":
        parts.append(_against_features(metrics, "fused").replace(
            "The fused model", f"The fused model (the network's logit at weight "
                               f"{metrics['fused_model']['weights'][0]:g} beside the feature model's)", 1))
        parts.append(_against_trivial(metrics, "network", ""))
    parts.append(_against_features(metrics, "network"))
    parts.append(floor_sentence(metrics))
    return " ".join(p for p in parts if p)


def baseline_sentence(metrics: dict) -> str:
    """The strongest baseline, and where the network and the fused model rank among every model and
    baseline of the run (by mean macro-F1 over folds)."""
    b = metrics["baselines"]
    best = max(b, key=lambda k: b[k]["macro_f1"]["mean"])
    table = baseline_table(metrics).sort_values("mean", ascending=False).reset_index(drop=True)
    parts = []
    for key in ("fused", "network"):
        if key in fold_scores(metrics):
            name = model_label(metrics, key)
            rank = int(table.index[table.name == name][0])
            above = " and ".join(", ".join(table.name.iloc[:rank]).rsplit(", ", 1))
            parts.append(f"the {model_label(metrics, key, prose=True)} ranks {rank + 1} of {len(table)}"
                         + (f", below {above}" if above else ""))
    return (f"The strongest baseline is the {BASELINE_NAMES.get(best, best)} ({_f(b[best]['macro_f1']['mean'])} ± "
            f"{_f(b[best]['macro_f1']['std'])}). By mean macro-F1 over folds, " + "; ".join(parts) + ". A rank is not "
            "a test: the right panel gives each difference to the motion-feature model with its interval.")


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
    codes = (" Gender is shown as the corpus codes it (code 0, code 1): the corpus documentation we could read does not "
             "say which code is which, so the researcher names them in the dataset's params file."
             if any(str(k).startswith("code ") for k in g) else "")
    return "; ".join(parts) + ". Groups this small differ by chance; a gap is a question, not a finding." + codes


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


def comparison_sentence(comparison: pd.DataFrame) -> str:
    """Per variant: its difference to the default and whether it is beyond noise."""
    parts = []
    for r in comparison.iloc[1:].itertuples():
        v = verdict(r.difference, [r.diff_low, r.diff_high])
        what = {"better": "better than the default beyond noise", "worse": "worse than the default beyond noise",
                "not shown": "within noise of the default"}[v]
        parts.append(f"{r.name}: {_f(r.difference, sign=True)} (95% CI {_f(r.diff_low, sign=True)} to "
                     f"{_f(r.diff_high, sign=True)}), {what}")
    return (f"Differences in mean macro-F1 to the default over the same outer folds (the mean of the per-fold "
            f"differences, 95% CI by the {CORRECTED_T}) — " + "; ".join(parts) + "."
            if parts else "No variant beside the default.")


COMPARISON_COLUMNS = {"name": "variant", "mean": "network macro-F1 mean", "std": "network macro-F1 SD",
                      "roc_auc": "network ROC-AUC", "ppr": "predicted-positive rate",
                      "feature": "feature model macro-F1 (same folds)", "fused": "fused macro-F1 (same folds)",
                      "difference": "network: difference to default (mean of per-fold differences)",
                      "diff_low": "95% CI low (corrected t)", "diff_high": "95% CI high (corrected t)",
                      "parameters": "parameters",
                      "input": "input (C×R×W)", "seconds": "seconds"}


def comparison_table(comparison: pd.DataFrame) -> pd.DataFrame:
    return comparison[[c for c in COMPARISON_COLUMNS if c in comparison]]
