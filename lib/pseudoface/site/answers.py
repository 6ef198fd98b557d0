"""The answers a run's own files give to the TRIPOD+AI Methods items (data, outcome, predictors,
analysis), describing the run that was made, and the helpers :mod:`reporting` answers the rest with.

Each function takes the run's files (:class:`RunFiles`) and returns [(topic, answer, source)]; an
answer is computed from the files, never written by hand, and follows what ran: a corpus of
landmarks or of pose/gaze/AU series (``metrics.json: inputs``), the image layout and rows
(``config.encode``, ``input_shape``), the binary screen or the PHQ-8 score (``task``). A source names
only files the published report offers for download (``metrics.json`` with the resolved
``config``, ``predictions.csv``, ``sanity.json``); what comes from per-participant or per-fold files
that are not published says so instead of citing them. Intervals are :mod:`intervals`' and named.
:mod:`reporting` answers the Results items and walks the checklist with :data:`METHODS` and its own.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..corpora.corpus import AUS, GAZE, POSE
from ..learning.intervals import CORRECTED_T, CORRECTED_T_KEY, beyond_note, count_text, headline_text, number, span_text

DATASETS = {
    "daic_woz": "DAIC-WOZ (AVEC 2016/2017): per-session CLNF 3-D facial landmark files (68 points, camera-space "
                "mm) and the AVEC 2017 split label files (PHQ-8 score and binary)",
    "e_daic": "E-DAIC (AVEC 2019 DDS): per-session OpenFace 2.1 pose, gaze and action-unit series (no landmarks) "
              "and its split label files (PHQ-8 score and binary)",
    "openface": "OpenFace 2.x per-session CSVs (or landmarks extracted from video by `pseudoface extract`) with a "
                "labels.csv (participant id, label or PHQ-8 score)",
    "synthetic": "a synthetic corpus written by `pseudoface synth` with a planted depression cue, in the DAIC-WOZ "
                 "file layout (per-session 3-D landmark files, split label files)",
    "synthetic series": "a synthetic corpus written by `pseudoface synth --format e_daic` with a planted depression "
                        "cue, in the E-DAIC file layout (per-session pose, gaze and action-unit series, no landmarks; "
                        "split label files)",
}
LABEL_RULES = {"score_ge_10": "depressed = PHQ-8 score ≥ 10", "file_binary": "depressed = the label files' binary"}
NOT_FEATURES = ("participant_id", "label", "phq_score", "gender", "split", "valid_fraction", "duration_s")
# what a source says for numbers aggregated from run files that are not published (a licensed
# corpus' downloads carry no per-participant table; fold files hold participant ids)
PARTICIPANT_TABLE = "aggregated from the run's participant table (per participant, not published)"
FOLD_FILES = "aggregated from the run's fold files (participant ids, not published)"


@dataclass
class RunFiles:
    """A finished run folder's files, read once (:func:`reporting.read_run`)."""
    metrics: dict
    config: dict  # metrics.json's resolved config (run.json holds the same)
    participants: pd.DataFrame | None
    predictions: pd.DataFrame | None
    folds: list  # folds/*.json without their per-epoch history
    sanity: dict | None  # sanity.load_sanity
    participant_data: bool


def series(r: RunFiles) -> bool:
    """True for a corpus of pose/gaze/AU series (E-DAIC): no landmarks, no face to align."""
    return r.metrics.get("inputs", "series" if r.metrics["dataset"] == "e_daic" else "landmarks") == "series"


def regression(r: RunFiles) -> bool:
    return r.metrics.get("task") == "regression"


def _f(x, digits: int = 3) -> str:
    return number(x, digits)


def mean_sd_text(d: dict, digits: int = 3) -> str:
    return f"{_f(d['mean'], digits)} ± {_f(d['std'], digits)}"


def range_text(values, digits: int | None = None) -> str:
    """'3–7', or one number when every value prints the same ('12', not '12–12')."""
    return span_text(min(values), max(values), digits)


def counts_text(values: pd.Series) -> str:
    return ", ".join(f"{v} {k}" for k, v in values.value_counts().sort_index().items())


def folds_text(m: dict) -> str:
    """'5 outer folds' or '5 outer folds × 2 repeats'."""
    repeats = len({f["repeat"] for f in m["fold_details"]})
    return f"{len(m['fold_details']) // max(1, repeats)} outer folds" + (f" × {repeats} repeats" if repeats > 1 else "")


def headline(summary: dict, m: dict, digits: int = 3, bounds: tuple | None = None) -> str:
    """A mean over folds as every page prints it: mean ± SD with the corrected t interval, named
    (``bounds``: the metric's range, noted when the interval leaves it: :func:`intervals.beyond_note`)."""
    if digits != 3:
        lo, hi = summary[CORRECTED_T_KEY]
        return (f"{_f(summary['mean'], digits)} ± {_f(summary['std'], digits)} (95% CI {_f(lo, digits)} to "
                f"{_f(hi, digits)}{beyond_note([lo, hi], bounds)}, {CORRECTED_T})")
    return headline_text(summary["mean"], summary["std"], summary[CORRECTED_T_KEY], folds_text(m), bounds)


def n_features(r: RunFiles) -> int:
    """The feature model's inputs: the participant table's columns that do not describe the participant."""
    return 0 if r.participants is None else len([c for c in r.participants.columns if c not in NOT_FEATURES])


def flow_text(m: dict) -> str:
    steps = list(m["participant_flow"].items())
    lost = [f"{b} {n - k}" for (_, n), (b, k) in zip(steps, steps[1:]) if n != k]
    return (" → ".join(f"{k} {v}" for k, v in steps) + f"; {m['n_excluded']} excluded"
            + (f" (lost at {', '.join(lost)})" if lost else "")
            + (f"; exclusion steps: {', '.join(m['excluded_reasons'])}" if m["excluded_reasons"] else ""))


# ---------------------------------------------------------------- answers: [(topic, answer, source)]

def _source(r: RunFiles):
    m, p = r.metrics, r.participants
    key = "synthetic series" if m["dataset"] == "synthetic" and series(r) else m["dataset"]
    text = DATASETS.get(key, m["dataset"]) + (" (here synthetic data in that layout)"
                                              if m.get("synthetic") and m["dataset"] != "synthetic" else "")
    splits = f"; analysed participants by split: {counts_text(p.split)}" if p is not None else ""
    outcome = ("the PHQ-8 score (0–24), the screen derived at ≥ 10" if regression(r)
               else LABEL_RULES.get(m["label_rule"]))
    return [("source of data and label files", f"{text}{splits}. Labels: {outcome}.",
             "metrics.json: dataset, synthetic, label_rule" + (f"; split: {PARTICIPANT_TABLE}" if splits else ""))]


def _eligibility(r: RunFiles):
    d, e = r.config["data"], r.config["encode"]
    only = f"; only the splits {', '.join(d['splits'])}" if d.get("splits") else ""
    return [("eligibility and exclusions", "A participant is analysed when labelled, with a session found and read "
             f"without error, at least {d['min_valid_seconds']:g} s of valid frames (tracker success, confidence ≥ "
             f"{d['confidence_threshold']:g}) and at least one pseudo-image window with at most "
             f"{e['max_missing_fraction']:.0%} masked frames{only}. Flow: {flow_text(r.metrics)}.",
             "metrics.json: config.data, config.encode, participant_flow, n_excluded, excluded_reasons")]


def _preparation(r: RunFiles):
    d, n = r.config["data"], r.config["normalise"]
    masked = (f"Frames failing the tracker, below confidence {d['confidence_threshold']:g}, non-finite"
              + (" or inside documented interruptions" if d["mask_quirk_spans"] and not series(r) else "")
              + f" are masked, never dropped; gaps up to {n['max_gap_seconds']:g} s are interpolated; ")
    if series(r):
        how = (f"the pose, gaze and action-unit series are resampled to {n['target_fps']:g} fps as read (the corpus has "
               "no landmarks: there is no face to centre, scale or align); in the images pose and gaze are taken "
               "relative to the session median, action-unit intensity divided by 5")
    else:
        how = (f"faces are centred and scaled to inter-ocular units{', rigidly aligned to a template face' * n['align']} "
               f"and resampled to {n['target_fps']:g} fps")
    return [("pre-processing and quality checks", f"{masked}{how}. A non-numeric cell: {d['bad_cells']}. Data problems "
             f"met while reading: {len(r.metrics.get('problems', []))}.",
             "metrics.json: config.data, config.normalise, problems")]


def _outcome(r: RunFiles):
    m = r.metrics
    n, other = m.get("label_disagreements"), ("the label files' binary" if m["label_rule"] == "score_ge_10"
                                              else "PHQ-8 ≥ 10")
    agree = ("not recorded by this run" if n is None else f"{other} differs for {count_text(n, 'analysed participant')}" if n
             else f"{other} agrees for every analysed participant")
    if regression(r):
        return [("outcome definition", f"The PHQ-8 score (0–24) of the label files, predicted as a continuous "
                 f"outcome; the screen is derived from the predicted score at ≥ 10. {m['n_depressed']} of "
                 f"{m['n_participants']} analysed participants score ≥ 10 ({LABEL_RULES.get(m['label_rule'])}). "
                 f"Disagreement: {agree}.", "metrics.json: task, label_rule, n_depressed, n_participants, "
                 "label_disagreements")]
    return [("outcome definition", f"Binary, {LABEL_RULES.get(m['label_rule'])}: {m['n_depressed']} of "
             f"{m['n_participants']} analysed participants depressed. Disagreement: {agree}.",
             "metrics.json: label_rule, n_depressed, n_participants, label_disagreements")]


def _rows(r: RunFiles) -> list[str]:
    """The rows of a window pseudo-image, by group, in order."""
    e = r.config["encode"]
    if series(r):
        return [f"head pose ({len(POSE)})", f"gaze ({len(GAZE)})", f"action-unit intensities ({len(AUS)})"]
    return [name for name, on in (("68 landmark rows ordered by facial region", e["landmark_rows"]),
                                  ("2 head-pose rows (rotation from the template face, translation)", e["include_pose"]),
                                  ("2 face-geometry rows (mouth opening, width and corner drop; eye opening and brow "
                                   "height)", e["geometry_rows"])) if on]


def _choice(r: RunFiles) -> str:
    e, k = r.config["encode"], n_features(r)
    features = (f" The feature model reads {k} session-level functionals of the same signals." if k else "")
    if series(r):
        what = ("Every pose, gaze and action-unit intensity series the corpus provides (it ships no landmarks): no "
                "pre-selection against the outcome.")
    elif e["layout"] == "frame":
        what = "All 68 landmarks of the tracker, frame by frame: no pre-selection against the outcome."
    elif e["landmark_rows"]:
        extra = _rows(r)[1:]
        what = ("All 68 landmarks of the tracker" + (f", with {' and '.join(extra)}" if extra else "")
                + ": no pre-selection against the outcome.")
    else:
        what = (f"The network reads {sum(2 for on in (e['include_pose'], e['geometry_rows']) if on)} rows derived from "
                "the landmarks, not the landmarks themselves: " + " and ".join(_rows(r)) + ". These signals were "
                "chosen on a development benchmark of planted synthetic cues (dev seeds only, never the outcome of "
                "this corpus; docs/experiments.md); a cue elsewhere on the face is invisible to the network. The 68 "
                "landmark rows are one option away (encode.landmark_rows).")
    return what + " Gender and data quality enter only as baselines of their own." + features


def _layout(r: RunFiles) -> str:
    e, shape = r.config["encode"], r.metrics["input_shape"]
    size = " × ".join(map(str, shape))
    if e["layout"] == "frame":
        return (f"the first {e['frame_count']} valid frames of a session, each frame's 68 × 3 aligned landmark matrix "
                "min-max scaled to [0, 1] as an image" + (f" resized to {e['frame_size']} × {e['frame_size']}"
                                                          if e["frame_size"] else "")
                + f", copied into its {shape[0]} channels; input {size} (channels × rows × columns)")
    if series(r):
        rows = (f"{shape[1]} rows (" + ", ".join(_rows(r)) + f"), {shape[0]} channels (each series' value and its "
                "frame-to-frame velocity), pose and gaze relative to the session median on fixed ranges, action-unit "
                "intensity / 5")
    else:
        rows = (f"{shape[1]} rows (" + "; ".join(_rows(r)) + f"), {shape[0]} channels (X, Y, Z and their "
                f"frame-to-frame velocities), displacements mapped to [0, 1] over ±{e['displacement_range']:g} "
                "inter-ocular units")
    return (f"{e['window_seconds']:g}-s windows every {e['hop_seconds']:g} s, each a pseudo-image of {rows}, "
            f"{shape[2]} time steps; input {size} (channels × rows × time)")


def _predictors(r: RunFiles):
    e = r.config["encode"]
    return [("choice of predictors", _choice(r), "metrics.json: inputs, config.encode"
             + (f"; feature count: {PARTICIPANT_TABLE}" if n_features(r) else "")),
            ("encoding, layout and masking", f"{_layout(r)}. Masked frames (tracker failure, low confidence, "
             "non-finite values" + (", documented interruptions" if not series(r) else "") + ") enter the images at "
             "the neutral value, so a lost frame invents no movement; windows with more than "
             f"{e['max_missing_fraction']:.0%} masked frames are skipped.", "metrics.json: input_shape, inputs, "
             "config.encode")]


def _sample_size(r: RunFiles):
    m, k = r.metrics, n_features(r)
    n, events = m["n_participants"], m["n_depressed"]
    smaller = min(events, n - events)
    return [("participants and events", f"{n} participants, {events} with the outcome (depressed"
             + (": PHQ-8 ≥ 10, the screen derived from the predicted score" if regression(r) else "")
             + f"), {n - events} without; {smaller} events in the smaller class against {m['model_parameters']} "
             f"network parameters ({smaller / m['model_parameters']:.2g} per parameter)"
             + (f" and {k} feature-model inputs ({smaller / k:.2g} per input)" if k else "") + ". Stated, not judged.",
             "metrics.json: n_participants, n_depressed, model_parameters" + (f"; feature count: {PARTICIPANT_TABLE}"
                                                                              if k else ""))]


def _missing(r: RunFiles):
    m, p, e = r.metrics, r.participants, r.metrics["encode"]
    text = "" if p is None else (f"Masked frames per session: median {_f(1 - p.valid_fraction.median())}, at most "
                                 f"{_f(1 - p.valid_fraction.min())} (1 − valid fraction). ")
    text += (f"{e['skipped_windows']} of {e['windows'] + e['skipped_windows']} windows skipped (too many masked "
             f"frames); {_f(e['clip_rate'], 4)} of values clipped; {m['n_excluded']} sessions excluded"
             + (f" ({', '.join(m['excluded_reasons'])})" if m["excluded_reasons"] else "")
             + ". Nothing imputed beyond interpolating short gaps (item 7).")
    if r.participant_data and p is not None:
        low = p.nsmallest(3, "valid_fraction")
        text += " Lowest valid fractions: " + ", ".join(f"{a} ({_f(b, 2)})" for a, b in
                                                        zip(low.participant_id, low.valid_fraction)) + "."
    return [("missing data", text, "metrics.json: encode, n_excluded, excluded_reasons"
             + (f"; masked frames: {PARTICIPANT_TABLE}" if p is not None else ""))]


def _partitioning(r: RunFiles):
    cv, t = r.config["cv"], r.config["train"]
    how = ("the corpus' official split (train → dev, and train + dev → test where test labels exist)"
           if cv["protocol"] == "official" else f"{cv['folds']}-fold cross-validation stratified by label and grouped "
           f"by participant, {count_text(cv['repeats'], 'repeat')} (outer folds seeded cv.seed {cv['seed']} + 1000 × repeat)")
    return [("partitioning", f"Development and internal validation by {how}. Within each outer-training set "
             f"{t['inner_val_fraction']:.0%} of the participants (stratified) form the inner validation set.",
             "metrics.json: config.cv, config.train.inner_val_fraction")]


def _handling(r: RunFiles):
    scaled = ("standardised per channel and row by constants from the inner-training participants"
              if r.config["model"]["input_scaling"] else "used as encoded")
    return [("handling of predictors", f"Network inputs {scaled}; the feature model's functionals standardised "
             "within the training fold; gender one-hot and valid fraction with duration for their baselines.",
             "metrics.json: config.model.input_scaling")]


def _model(r: RunFiles):
    c, m = r.config, r.metrics
    mod, t, cv = c["model"], c["train"], c["cv"]
    reads = ("a session network (CNN over windows, LSTM over the whole session" if mod["scope"] == "session" else
             f"a CNN-LSTM over clips of {mod['clip_windows']} windows (preset {mod['preset']}, a participant scored by "
             "the mean clip output")
    epochs = range_text([f["best_epoch"] for f in m["fold_details"]])
    common = (f"{m['model_parameters']} parameters; Adam (lr {t['lr']:g}, weight decay {t['weight_decay']:g}), at most "
              f"{t['epochs']} epochs, patience {t['patience']}")
    seeds = f" Seeds: cv.seed {cv['seed']}; each fold cv.seed + 1000 × repeat + fold."
    if regression(r):
        text = (f"{reads}, one output per participant read as the PHQ-8 score standardised by the inner-training "
                f"participants' mean and SD), {common}; Huber loss on the standardised score. Chosen on inner "
                f"validation only: the epoch, by the inner-validation loss (chosen {epochs}); predicted scores are "
                "clipped to 0–24 and the screen is the predicted score ≥ 10 (no threshold is tuned). The feature model "
                "is ridge regression on the session functionals, its L2 strength by cross-validation within the "
                "training fold; the fused model averages the network's and the ridge's predicted scores.")
    else:
        text = (f"{reads}, one logit per participant), {common}; class-weighted BCE on the logit. Chosen on inner "
                f"validation only: the epoch (chosen {epochs}), the decision threshold and the calibration "
                f"({t['calibration']}); the feature model's L2 strength by cross-validation within the training fold; "
                "the fused model stacks the network's and the feature model's logits with a fixed weight.")
    return [("model and internal validation", text + seeds, "metrics.json: task, config.model, config.train, "
             "config.cv, model_parameters, fold_details.best_epoch")]


def _measures(r: RunFiles):
    m = r.metrics
    estimator = (f"mean ± SD over the outer folds with the 95% interval of the mean by the {CORRECTED_T} (Nadeau and "
                 "Bengio, 2003; Bouckaert and Frank, 2004, for repeats), which allows for folds sharing training "
                 "participants; the same for every model and baseline")
    paired = f"the mean of the per-fold paired differences with the {CORRECTED_T} interval"
    bootstrap = ("metrics.json also keeps each pooled value with a participant bootstrap interval "
                 "(ci95_pooled_bootstrap), which no page reports")
    if regression(r):
        text = (f"PHQ-8 score: MAE (headline), RMSE, Lin's CCC and Pearson r per outer fold, each reported as {estimator}; "
                f"each model's MAE against the training-fold mean predictor's in the same folds as {paired}; the derived "
                f"screen (predicted score ≥ 10) by participant-level macro-F1, the same estimator; {bootstrap}")
        source = ("metrics.json: regression, regression_baselines, regression_fused_model, paired_mae_vs_mean, "
                  "macro_f1, fused_model")
    else:
        text = (f"Participant-level macro-F1 (the headline; the fused model is the headline model), reported as "
                f"{estimator}; ROC-AUC, balanced accuracy, F1 of the depressed class and the predicted-positive rate as "
                f"means over folds; differences between models (against the feature model and the best trivial "
                f"baseline, between comparison variants) as {paired}; calibration by the Brier score and equal-count "
                "reliability bins of the network's and the fused model's probabilities (notebook 03 draws the network's "
                "curve); sensitivity, specificity and the Brier score on the pooled out-of-fold predictions of the first "
                f"repeat; {bootstrap}")
        source = "metrics.json: macro_f1, roc_auc, calibration, fused_model, differences, baselines"
    return [("measures and comparisons", f"{text}. Every baseline runs in the same folds "
             f"({', '.join(m['baselines'])}); a shuffled-label sanity run follows (item 23a).", source)]


def _recalibration(r: RunFiles):
    platt = r.config["train"]["calibration"] == "platt"
    return [("recalibration", "Platt scaling of the network's logits, fitted on inner validation in every fold."
             if platt else "None (train.calibration: none): each fold's model is evaluated as fitted"
             + (" (a regression predicts the score itself)." if regression(r) else "."),
             "metrics.json: config.train.calibration")]


def _computation(r: RunFiles):
    weights = sorted({round(w, 4) for w in r.metrics["fused_model"].get("weights", [])})
    how = ("the mean of the fold models' predicted PHQ-8 scores, the screen at ≥ 10" if regression(r)
           else "mean logit, median fold threshold")
    return [("how predictions are calculated", "Each fold's network is stored as a state dict with its "
             + ("target scale" if regression(r) else "threshold and calibration") + ", and its feature model as a "
             f"linear form (checkpoints/*.pt, kept in the run folder); `pseudoface predict --run` scores new sessions "
             f"with every fold model ({how}). The network's weight in the fused "
             f"{'score' if regression(r) else 'logit'}: {', '.join(map(str, weights)) or 'n/a'}.",
             "metrics.json: task, fused_model.weights")]


def _imbalance(r: RunFiles):
    if regression(r):
        return [("class imbalance", "The score is regressed without class weights (Huber loss on the standardised "
                 "PHQ-8 score); the inner split is stratified by the screen label (≥ 10); the screen's logistic "
                 "baselines use balanced class weights. No resampling.", "metrics.json: task, config.train")]
    weights = [f["pos_weight"] for f in r.folds if "pos_weight" in f]
    return [("class imbalance", "The network's loss weights the depressed class by the inner-training ratio of "
             "non-depressed to depressed participants, once per fold"
             + (f" ({range_text(weights, 2)})" if weights else "") + "; the logistic baselines use balanced class "
             "weights; the threshold is chosen on inner validation. No resampling.",
             f"metrics.json: config.train; weights: {FOLD_FILES}")]


def _fairness(r: RunFiles):
    return [("fairness", "No fairness constraint in training; performance is reported by gender "
             f"({', '.join(r.metrics.get('per_gender', {})) or 'none recorded'}) and by split (item 23a), and a "
             "gender-only baseline runs in the same folds.", "metrics.json: per_gender, baselines.gender_only")]


def _output(r: RunFiles):
    if regression(r):
        return [("model output", "A predicted PHQ-8 score per participant (0–24, clipped) and the screen at a "
                 "predicted score ≥ 10; the fused model averages the network's and the ridge's predicted scores and "
                 "screens at the same cut-off.", "metrics.json: task, fold_details.threshold")]
    return [("model output", "A probability of depression per participant and a decision at a threshold chosen per "
             f"fold on inner validation for macro-F1 ({range_text([f['threshold'] for f in r.metrics['fold_details']], 2)})"
             "; the fused model decides at probability 0.5.", "metrics.json: fold_details.threshold")]


def _train_vs_eval(r: RunFiles):
    return [("training versus evaluation", "The corpus' official splits: the same source, eligibility, outcome and "
             "predictors." if r.config["cv"]["protocol"] == "official" else "Internal validation only: evaluation "
             "participants come from the same corpus, eligibility, outcome and predictors as the training ones, held "
             "out by participant.", "metrics.json: config.cv.protocol")]


METHODS = {
    "5a": _source, "6b": _eligibility, "7": _preparation, "8a": _outcome, "9a": lambda r: _predictors(r)[:1],
    "9b": lambda r: _predictors(r)[1:], "10": _sample_size, "11": _missing, "12a": _partitioning, "12b": _handling,
    "12c": _model, "12e": _measures, "12f": _recalibration, "12g": _computation, "13": _imbalance, "14": _fairness,
    "15": _output, "16": _train_vs_eval,
}
