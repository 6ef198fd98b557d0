"""What a finished run shows, in words (notebooks 03 and 04, the site's key results): the generated
sentences beside each table and figure, and the conclusion against every baseline in the same folds,
every number computed from the run's files.

The tables themselves are :mod:`tables`'; the names notebooks call as ``results.<name>`` are imported
here so that ``from pseudoface.site import results`` is the one analysis namespace a notebook needs.
Reads run folders through :mod:`runs` (via :mod:`tables`) and never trains.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..learning.evaluate import macro_f1
from ..learning.intervals import CORRECTED_T, DIFFERENCE, UNIT, beyond_note, fold_interval, headline_text, number, span_text
from .tables import (BASELINE_NAMES, COMPARISON_COLUMNS, TRIVIAL, baseline_table, best_trivial, calibration_bins, chosen_table, compare_to_default, comparison_table, errors_table, fold_scores, fold_table, gender_table, headline_key, headline_keys, headline_table, model_label, model_table, network_name, open_run, paired, pooled_confusion, prevalence, screening, test_fraction, threshold_sweep, verdict)


POOLED_ESTIMATOR = "pooled out-of-fold predictions of the first repeat"


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
            f"{headline_text(iv['mean'], iv['sd'], iv['ci95'], folds_phrase(metrics['macro_f1']), UNIT)}. It calls "
            f"{number(100 * ppr, 0)}% of participants depressed; {number(100 * prevalence(metrics), 0)}% are. "
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
    spread = f" (per-fold ROC-AUC {span_text(aucs.min(), aucs.max(), 3, sep=' to ')})" if len(aucs) else ""
    advice = ("more repeats of the fold split would average over splits" if repeats < 3 else
              f"the {repeats} repeats average over splits")
    return (f"Small folds: an outer fold holds as few as {d.n.min()} participants, {events} of them depressed, too few "
            f"to estimate a per-fold metric well{spread}; read the mean ± SD over folds as rough, {advice}, "
            "and only more participants narrow the intervals.")


def run_caption(metrics: dict, reused: bool) -> str:
    what = "Reused a finished run" if reused else "Ran"  # '2 outer folds × 5 repeats', not '10 outer folds'
    return (f"{what} ({metrics['protocol']}, {folds_phrase(metrics['macro_f1'])}, {number(metrics['seconds'], 0)} s "
            f"on {metrics.get('device', 'cpu')}): the headline model, the network, the motion-feature model and the best "
            f"trivial baseline in the same folds; {metrics['n_depressed']} of {metrics['n_participants']} participants "
            "depressed.")


def fold_sentence(metrics: dict) -> str:
    """Which model the per-fold table shows (its macro-F1 and its parts are the network's)."""
    return (f"Every number of this table belongs to {shown_model(metrics)[:-1]}: its macro-F1 and the parts of it per "
            "outer fold, and the epoch and threshold chosen for it on inner validation.")


def training_sentence(metrics: dict, max_epochs: int) -> str:
    t = chosen_table(metrics)
    epochs = span_text(t.best_epoch.min(), t.best_epoch.max(), sep=" to ")
    thresholds = span_text(t.threshold.min(), t.threshold.max(), 2, sep=" to ")
    return (f"Chosen epoch{'s' * (' ' in epochs)} {epochs} (of at most {max_epochs}); decision "
            f"threshold{'s' * (' ' in thresholds)} {thresholds}, both chosen on each fold's "
            f"inner-validation participants. A fold took {number(t.seconds.median(), 0)} s (median).")


def calibration_sentence(metrics: dict) -> str:
    """The network's Brier score (the curve drawn) against the prevalence-only forecast, and the
    fused (headline) model's beside it."""
    cal = metrics.get("calibration")
    if not cal:
        return ("This run has no calibration summary (it was written before runs recorded one); run the report "
                "again to draw the reliability curve.")
    p = prevalence(metrics)
    reference = p * (1 - p)
    reading = (f"This is worse than the prevalence-only forecast, which gives every participant the probability {number(p, 2)} "
               f"and scores {number(reference)}: the network's scores may rank participants, but they are not usable as "
               "probabilities of depression." if cal["brier"] >= reference else
               f"This beats the prevalence-only forecast ({number(p, 2)} for everyone scores {number(reference)}).")
    fused = metrics.get("fused_model", {}).get("calibration")
    headline = (f" The fused model (the headline) scores a Brier of {number(fused['brier'])} on the same participants, "
                f"{'worse than' if fused['brier'] >= reference else 'better than'} the prevalence-only forecast."
                if fused else "")
    return (f"Brier score {number(cal['brier'])} of the network's pooled out-of-fold probabilities (lower is better). {reading}"
            f"{headline} Points on the diagonal are calibrated; marker size is the number of participants in the bin. "
            f"Calibration method: {cal.get('method', 'none')}.")


def _difference(d: dict) -> str:
    return (f"difference {number(d['mean'], sign=True)}, 95% CI {number(d['ci95'][0], sign=True)} to {number(d['ci95'][1], sign=True)}"
            + beyond_note(d["ci95"], DIFFERENCE))


def _against_trivial(metrics: dict, key: str, where: str) -> str:
    """One sentence: does model ``key`` beat the best trivial baseline, in the same folds?"""
    trivial = best_trivial(metrics)
    d = paired(metrics, key, trivial)
    name, base = model_label(metrics, key, prose=True), BASELINE_NAMES.get(trivial, trivial)
    where = f" {where}" if where else ""
    score = number(metrics["baselines"][trivial]["macro_f1"]["mean"])
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
        return (f"The {network_name(metrics)} sits at the majority-class floor: it calls {number(100 * ppr, 0)}% of "
                f"participants depressed, so its macro-F1 ({number(metrics['macro_f1']['mean'])}) is about that of calling "
                f"everyone one class ({number(majority)}).")
    if metrics["macro_f1"]["mean"] <= majority + 0.01:
        return (f"The {network_name(metrics)}'s macro-F1 ({number(metrics['macro_f1']['mean'])}) is no higher than that of "
                f"calling everyone not depressed ({number(majority)}), though it calls {number(100 * ppr, 0)}% of participants "
                "depressed: its decisions carry no information about the label here.")
    return ""


def fused_contribution_sentence(metrics: dict, predictions: pd.DataFrame | None = None) -> str:
    """'' unless the fused model scores exactly the feature model's macro-F1 in every outer fold: then
    the network contributed nothing to it (its "+0.000 (+0.000 to +0.000)" is no estimate of a small
    gain), said in words; with ``predictions``, how many participants get the same call from both."""
    scores = fold_scores(metrics)
    if "fused" not in scores or len(scores["fused"]) != len(scores["feature_model"]) or not np.allclose(
            np.asarray(scores["fused"], float), np.asarray(scores["feature_model"], float), rtol=0, atol=1e-12):
        return ""
    calls = ""
    if predictions is not None and {"fused_prediction", "feature_score"} <= set(predictions):
        p = predictions[predictions.repeat == predictions.repeat.min()]
        same = int((p.fused_prediction == (p.feature_score >= 0.5).astype(int)).sum())
        calls = (f"; it makes the same call as the motion-feature model for all {len(p)} participants" if same == len(p)
                 else f"; their calls differ for {len(p) - same} of {len(p)} participants, with the same macro-F1")
    return (f"The fused model scores exactly the motion-feature model's macro-F1 in every outer fold{calls}: the "
            f"network contributed nothing to the fused model here, whose difference of {number(0.0, sign=True)} is the "
            "feature model's own result, not a small gain.")


def conclusion(metrics: dict, predictions: pd.DataFrame | None = None) -> str:
    """What the run shows, ranked against every baseline in the same folds: the headline model (and
    the network when the headline is the fused model) against the best trivial baseline and the
    feature model, by the fold estimator (:func:`paired`), saying plainly when a model does not beat
    a trivial baseline, and when the network contributed nothing to the fused model
    (:func:`fused_contribution_sentence`; ``predictions``: the first repeat's calls)."""
    where = "on this synthetic corpus" if metrics.get("synthetic") else "on this corpus"
    head = headline_key(metrics)
    parts = [_against_trivial(metrics, head, where)]
    if head == "fused":
        parts.append(_against_features(metrics, "fused").replace(
            "The fused model", f"The fused model (the network's logit at weight "
                               f"{metrics['fused_model']['weights'][0]:g} beside the feature model's)", 1))
        parts.append(fused_contribution_sentence(metrics, predictions))
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
    wide = [r.name for r in table.itertuples() if beyond_note([r.ci95_low, r.ci95_high], UNIT)]
    wide += [f"{r.name} minus the motion-feature model" for r in table.itertuples()
             if beyond_note([r.diff_low, r.diff_high], DIFFERENCE)]
    note = (f" The 95% interval of {' and of '.join(wide)} runs past the limits the metric can take (0 to 1 for "
            "macro-F1, −1 to +1 for a difference): such an interval is uninformative at this sample size." if wide else "")
    return (f"The strongest baseline is the {BASELINE_NAMES.get(best, best)} ({number(b[best]['macro_f1']['mean'])} ± "
            f"{number(b[best]['macro_f1']['std'])}). By mean macro-F1 over folds, " + "; ".join(parts) + ". A rank is not "
            "a test: the right panel gives each difference to the motion-feature model with its interval." + note)


def shown_model(metrics: dict | None) -> str:
    """Which model the fold analysis' per-fold table, ROC, confusion matrix, threshold sweep and error
    scatter show: always the network, which is not the headline when the run has a fused model
    (ends in a comma, for a clause that follows)."""
    if metrics is None:
        return "the network (CNN-LSTM),"
    return (f"the network, {network_name(metrics)}" + (", not the fused model that leads the headline table,"
                                                         if headline_key(metrics) == "fused" else ","))


def roc_sentence(metrics: dict) -> str:
    aucs = [f["roc_auc"] for f in metrics["fold_details"]]
    lo, hi = number(np.nanmin(aucs)), number(np.nanmax(aucs))
    spread = f"{lo} in every fold" if lo == hi else f"from {lo} to {hi}"
    return (f"These are the curves of {shown_model(metrics)[:-1]}. ROC-AUC {number(metrics['roc_auc']['mean'])} ± "
            f"{number(metrics['roc_auc']['std'])} over folds ({spread}); 0.5 is chance, the dashed line. "
            "With a handful of participants per fold each curve moves in large steps.")


def confusion_sentence(predictions: pd.DataFrame, metrics: dict | None = None) -> str:
    (tn, fp), (fn, tp) = pooled_confusion(predictions)
    return (f"The calls of {shown_model(metrics)[:-1]}: {tp} of {tp + fn} depressed participants are detected (sensitivity {number(tp / max(1, tp + fn), 2)}); "
            f"{tn} of {tn + fp} not depressed are correctly ruled out (specificity {number(tn / max(1, tn + fp), 2)}). "
            "Percentages are of each true class; every participant appears once per repeat.")


def threshold_sentence(metrics: dict, predictions: pd.DataFrame) -> str:
    at_half = macro_f1(predictions.label, (predictions.score >= 0.5).astype(int))
    sweep = threshold_sweep(predictions)
    best = sweep.loc[sweep.macro_f1.idxmax()]
    t = chosen_table(metrics).threshold
    return (f"The scores of {shown_model(metrics)} range from {number(predictions.score.min(), 3)} to {number(predictions.score.max(), 3)}. At a threshold of 0.5 "
            f"the pooled macro-F1 would be {number(at_half)}, not the reported {number(metrics['macro_f1']['mean'])}: each fold "
            f"uses its own threshold ({span_text(t.min(), t.max(), 3, sep=' to ')}), chosen on inner validation, and the reported "
            f"value is the mean over folds. The best threshold in hindsight ({number(best.threshold, 3)}, macro-F1 "
            f"{number(best.macro_f1)}) was chosen on the test participants themselves, so it is optimistic.")


def gender_sentence(metrics: dict) -> str:
    g = metrics["per_gender"]
    parts = [f"{name}: macro-F1 {number(v['macro_f1'])}, predicted-positive rate {number(v['predicted_positive_rate'], 2)} "
             f"(n = {v['n']})" for name, v in g.items()]
    codes = (" Gender is shown as the corpus codes it (code 0, code 1): the corpus documentation we could read does not "
             "say which code is which, so the researcher names them in the dataset's params file."
             if any(str(k).startswith("code ") for k in g) else "")
    return "; ".join(parts) + ". Groups this small differ by chance; a gap is a question, not a finding." + codes


def errors_sentence(errors: pd.DataFrame, metrics: dict | None = None) -> str:
    wrong, right = errors[~errors.correct], errors[errors.correct]
    if wrong.empty:
        return f"Every participant of the first repeat is classified correctly by {shown_model(metrics)[:-1]}."
    return (f"{len(wrong)} of {len(errors)} participants are misclassified by {shown_model(metrics)[:-1]}. Median valid frames: {number(wrong.valid_percent.median(), 1)}% "
            f"for errors against {number(right.valid_percent.median(), 1)}% for correct predictions; errors clustered at "
            "low quality would point at the data rather than the model.")


def comparison_sentence(comparison: pd.DataFrame) -> str:
    """Per variant: its difference to the default and whether it is beyond noise."""
    parts = []
    for r in comparison.iloc[1:].itertuples():
        v = verdict(r.difference, [r.diff_low, r.diff_high])
        what = {"better": "better than the default beyond noise", "worse": "worse than the default beyond noise",
                "not shown": "within noise of the default"}[v]
        parts.append(f"{r.name}: {number(r.difference, sign=True)} (95% CI {number(r.diff_low, sign=True)} to "
                     f"{number(r.diff_high, sign=True)}), {what}")
    return (f"Differences in mean macro-F1 to the default over the same outer folds (the mean of the per-fold "
            f"differences, 95% CI by the {CORRECTED_T}) — " + "; ".join(parts) + "."
            if parts else "No variant beside the default.")
