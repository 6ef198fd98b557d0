"""The TRIPOD+AI items a run can answer from its own files, and the shuffled-label sanity run in words.

TRIPOD+AI (Collins et al., BMJ 2024;385:e078378) is the reporting guideline for prediction models
built with regression or machine learning. :func:`reporting_items` walks its checklist for one run
folder: an item the run's files answer (``metrics.json``, ``run.json``, ``participants.csv``,
``predictions.csv``, ``folds/*.json``, ``sanity.json``) is ``answered``, with the answer computed from
those files and the file and fields it comes from; every other item is ``for the researcher``, with
what to write. No number is written here by hand, no local path survives (:mod:`privacy`), and
per-participant values appear only with ``participant_data=True``. :func:`write_reporting` writes
``reporting.json`` and ``reporting.md`` into the run folder.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .cache import atomic_write_text
from .evaluate import macro_f1
from .params import Params, ParamsError, params_from_dict, project_root
from .privacy import private_paths, scrub
from .runs import FOLDS, METRICS, PARTICIPANTS, PREDICTIONS, REPORTING_JSON, REPORTING_MD, RUN_FILE, load_sanity
from .tripod import ANSWERED, CHECKLIST, GUIDELINE, RESEARCHER


DATASETS = {
    "daic_woz": "DAIC-WOZ (AVEC 2016/2017): per-session CLNF 3-D facial landmark files (68 points, camera-space "
                "mm) and the AVEC 2017 split label files (PHQ-8 score and binary)",
    "e_daic": "E-DAIC (AVEC 2019 DDS): per-session OpenFace 2.1 pose, gaze and action-unit series (no landmarks) "
              "and its split label files (PHQ-8 score and binary)",
    "openface": "OpenFace 2.x per-session CSVs (or landmarks extracted from video by `pseudoface extract`) with a "
                "labels.csv (participant id, label or PHQ-8 score)",
    "synthetic": "a synthetic corpus written by `pseudoface synth` in the DAIC-WOZ file layout (per-session 3-D "
                 "landmark files, split label files) with a planted depression cue",
}
LABEL_RULES = {"score_ge_10": "depressed = PHQ-8 score ≥ 10", "file_binary": "depressed = the label files' binary"}
NOT_FEATURES = ("participant_id", "label", "phq_score", "gender", "split", "valid_fraction", "duration_s")
MODELS = {"network": "network", "feature_model": "feature model", "fused_model": "fused model"}


@dataclass
class RunFiles:
    """A finished run folder's files, read once."""
    metrics: dict
    config: dict  # run.json's resolved config (metrics.json's when run.json is absent)
    participants: pd.DataFrame | None
    predictions: pd.DataFrame | None
    folds: list  # folds/*.json without their per-epoch history
    sanity: dict | None  # runs.load_sanity
    participant_data: bool


def read_run(run_dir: str | Path, participant_data: bool = False) -> RunFiles:
    run_dir = Path(run_dir)
    metrics = json.loads((run_dir / METRICS).read_text())
    run = json.loads((run_dir / RUN_FILE).read_text()) if (run_dir / RUN_FILE).is_file() else {}

    def table(name):
        return pd.read_csv(run_dir / name, dtype={"participant_id": str}) if (run_dir / name).is_file() else None
    folds = [{k: v for k, v in json.loads(p.read_text()).items() if k != "history"}
             for p in sorted((run_dir / FOLDS).glob("*.json"))]
    return RunFiles(metrics, run.get("config", metrics["config"]), table(PARTICIPANTS), table(PREDICTIONS), folds,
                    load_sanity(run_dir), participant_data)


def _f(x, digits: int = 3) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _ms(d: dict) -> str:
    return f"{_f(d['mean'])} ± {_f(d['std'])}"


def _ci(ci) -> str:
    return f"{_f(ci[0], 2)}–{_f(ci[1], 2)}"


def _range(values, digits: int | None = None) -> str:
    lo, hi = min(values), max(values)
    return f"{lo}–{hi}" if digits is None else f"{_f(lo, digits)}–{_f(hi, digits)}"


def _counts(series: pd.Series) -> str:
    return ", ".join(f"{v} {k}" for k, v in series.value_counts().sort_index().items())


def _n_features(r: RunFiles) -> int:
    """The feature model's inputs: the participant table's columns that do not describe the participant."""
    return 0 if r.participants is None else len([c for c in r.participants.columns if c not in NOT_FEATURES])


def _flow(m: dict) -> str:
    steps = list(m["participant_flow"].items())
    lost = [f"{b} {n - k}" for (_, n), (b, k) in zip(steps, steps[1:]) if n != k]
    return (" → ".join(f"{k} {v}" for k, v in steps) + f"; {m['n_excluded']} excluded"
            + (f" (lost at {', '.join(lost)})" if lost else "")
            + (f"; exclusion steps: {', '.join(m['excluded_reasons'])}" if m["excluded_reasons"] else ""))


# ---------------------------------------------------------------- answers: [(topic, answer, source)]

def _source(r: RunFiles):
    m, p = r.metrics, r.participants
    text = DATASETS.get(m["dataset"], m["dataset"]) + (" (here synthetic data in that layout)"
                                                      if m.get("synthetic") and m["dataset"] != "synthetic" else "")
    splits = f"; analysed participants by split: {_counts(p.split)}" if p is not None else ""
    return [("source of data and label files", f"{text}{splits}. Labels: {LABEL_RULES.get(m['label_rule'])}.",
             "metrics.json: dataset, synthetic, label_rule; participants.csv: split")]


def _eligibility(r: RunFiles):
    d, e = r.config["data"], r.config["encode"]
    only = f"; only the splits {', '.join(d['splits'])}" if d.get("splits") else ""
    return [("eligibility and exclusions", "A participant is analysed when labelled, with a session found and read "
             f"without error, at least {d['min_valid_seconds']:g} s of valid frames (tracker success, confidence ≥ "
             f"{d['confidence_threshold']:g}) and at least one pseudo-image window with at most "
             f"{e['max_missing_fraction']:.0%} masked frames{only}. Flow: {_flow(r.metrics)}.",
             "run.json: config.data, config.encode; metrics.json: participant_flow, n_excluded, excluded_reasons")]


def _preparation(r: RunFiles):
    d, n = r.config["data"], r.config["normalise"]
    return [("pre-processing and quality checks", f"Frames failing the tracker, below confidence "
             f"{d['confidence_threshold']:g}, non-finite{' or inside documented interruptions' * d['mask_quirk_spans']}"
             f" are masked, never dropped; gaps up to {n['max_gap_seconds']:g} s are interpolated; faces are centred and "
             f"scaled to inter-ocular units{', rigidly aligned to a template face' * n['align']} and resampled to "
             f"{n['target_fps']:g} fps. A non-numeric cell: {d['bad_cells']}. Data problems met while reading: "
             f"{len(r.metrics.get('problems', []))}.", "run.json: config.data, config.normalise; metrics.json: problems")]


def _outcome(r: RunFiles):
    m = r.metrics
    n, other = m.get("label_disagreements"), ("the label files' binary" if m["label_rule"] == "score_ge_10"
                                              else "PHQ-8 ≥ 10")
    agree = ("not recorded by this run" if n is None else f"{other} differs for {n} analysed participant(s)" if n
             else f"{other} agrees for every analysed participant")
    return [("outcome definition", f"Binary, {LABEL_RULES.get(m['label_rule'])}: {m['n_depressed']} of "
             f"{m['n_participants']} analysed participants depressed. Disagreement: {agree}.",
             "metrics.json: label_rule, n_depressed, n_participants, label_disagreements")]


def _layout(c: dict, series: bool) -> str:
    e = c["encode"]
    if e["layout"] == "frame":
        return (f"the first {e['frame_count']} valid frames of a session, each frame's 68 × 3 landmark matrix an "
                "image" + (f" resized to {e['frame_size']} × {e['frame_size']}" if e["frame_size"] else ""))
    if series:
        rows = "the pose, gaze and action-unit series (one channel) on fixed ranges"
    else:
        rows = " and ".join(name for name, on in (("68 landmark rows", e["landmark_rows"]), ("head-pose rows",
                            e["include_pose"]), ("face-geometry rows", e["geometry_rows"])) if on)
        rows += (f" (channels: X, Y, Z and their velocities), displacements mapped to [0, 1] over "
                 f"±{e['displacement_range']:g} inter-ocular units")
    return f"{e['window_seconds']:g}-s windows every {e['hop_seconds']:g} s, each a pseudo-image of {rows}"


def _predictors(r: RunFiles):
    c, m, k = r.config, r.metrics, _n_features(r)
    return [("choice of predictors", "Every landmark-derived signal of the tracker: no pre-selection against the "
             "outcome; gender and data quality enter only as baselines of their own."
             + (f" The feature model reads {k} session-level functionals of the same signals." if k else ""),
             "run.json: config.encode; participants.csv: columns"),
            ("encoding, layout and masking", f"{_layout(c, m['dataset'] == 'e_daic')}; input "
             f"{' × '.join(map(str, m['input_shape']))} (channels × rows × time). Masked frames (tracker failure, low "
             "confidence, non-finite values, documented interruptions) enter the images at the neutral value, so a "
             f"lost frame invents no movement; windows with more than {c['encode']['max_missing_fraction']:.0%} masked "
             "frames are skipped.", "metrics.json: input_shape; run.json: config.encode")]


def _sample_size(r: RunFiles):
    m, k = r.metrics, _n_features(r)
    n, events = m["n_participants"], m["n_depressed"]
    smaller = min(events, n - events)
    return [("participants and events", f"{n} participants, {events} with the outcome (depressed), {n - events} "
             f"without; {smaller} events in the smaller class against {m['model_parameters']} network parameters "
             f"({smaller / m['model_parameters']:.2g} per parameter)"
             + (f" and {k} feature-model inputs ({smaller / k:.2g} per input)" if k else "") + ". Stated, not judged.",
             "metrics.json: n_participants, n_depressed, model_parameters; participants.csv: columns")]


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
    return [("missing data", text, "participants.csv: valid_fraction; metrics.json: encode, n_excluded, "
             "excluded_reasons")]


def _partitioning(r: RunFiles):
    cv, t = r.config["cv"], r.config["train"]
    how = ("the corpus' official split (train → dev, and train + dev → test where test labels exist)"
           if cv["protocol"] == "official" else f"{cv['folds']}-fold cross-validation stratified by label and grouped "
           f"by participant, {cv['repeats']} repeat(s) (outer folds seeded cv.seed {cv['seed']} + 1000 × repeat)")
    return [("partitioning", f"Development and internal validation by {how}. Within each outer-training set "
             f"{t['inner_val_fraction']:.0%} of the participants (stratified) form the inner validation set.",
             "run.json: config.cv, config.train.inner_val_fraction")]


def _handling(r: RunFiles):
    scaled = ("standardised per channel and row by constants from the inner-training participants"
              if r.config["model"]["input_scaling"] else "used as encoded")
    return [("handling of predictors", f"Network inputs {scaled}; the feature model's functionals standardised "
             "within the training fold; gender one-hot and valid fraction with duration for their baselines.",
             "run.json: config.model.input_scaling")]


def _model(r: RunFiles):
    c, m = r.config, r.metrics
    mod, t, cv = c["model"], c["train"], c["cv"]
    net = ("a session network (CNN over windows, LSTM over the whole session, one logit per participant)"
           if mod["scope"] == "session" else f"a CNN-LSTM over clips of {mod['clip_windows']} windows (preset "
           f"{mod['preset']}), a participant scored by the mean clip logit")
    return [("model and internal validation", f"{net}, {m['model_parameters']} parameters; Adam (lr {t['lr']:g}, "
             f"weight decay {t['weight_decay']:g}), at most {t['epochs']} epochs, patience {t['patience']}. Chosen on "
             f"inner validation only: the epoch (chosen {_range([f['best_epoch'] for f in m['fold_details']])}), the "
             f"decision threshold and the calibration ({t['calibration']}); the feature model's L2 strength by "
             "cross-validation within the training fold; the fused model stacks the network's and the feature "
             f"model's logits with a fixed weight. Seeds: cv.seed {cv['seed']}; each fold cv.seed + 1000 × repeat + "
             "fold.", "run.json: config.model, config.train, config.cv; metrics.json: model_parameters, "
             "fold_details.best_epoch")]


def _measures(r: RunFiles):
    return [("measures and comparisons", "Participant-level macro-F1 (headline: mean ± SD over outer folds, pooled "
             "per repeat, percentile bootstrap 95% interval over participants), ROC-AUC, balanced accuracy, F1 of the "
             "depressed class, predicted-positive rate; calibration by Brier score and a reliability curve; paired "
             "bootstrap differences against the feature model; every baseline in the same folds "
             f"({', '.join(r.metrics['baselines'])}); a shuffled-label sanity run (item 23a).",
             "metrics.json: macro_f1, roc_auc, calibration, paired_vs_feature_model, baselines")]


def _recalibration(r: RunFiles):
    platt = r.config["train"]["calibration"] == "platt"
    return [("recalibration", "Platt scaling of the network's logits, fitted on inner validation in every fold."
             if platt else "None (train.calibration: none): each fold's model is evaluated as fitted.",
             "run.json: config.train.calibration")]


def _computation(r: RunFiles):
    weights = sorted({round(w, 4) for w in r.metrics["fused_model"].get("weights", [])})
    return [("how predictions are calculated", "Each fold's network is stored as a state dict with its threshold and "
             "calibration, and its feature model as a linear form (checkpoints/*.pt); `pseudoface predict --run` "
             "scores new sessions with every fold model (mean logit, median fold threshold). The network's weight in "
             f"the fused logit: {', '.join(map(str, weights)) or 'n/a'}.", "metrics.json: fused_model.weights")]


def _imbalance(r: RunFiles):
    weights = [f["pos_weight"] for f in r.folds if "pos_weight" in f]
    return [("class imbalance", "The network's loss weights the depressed class by the inner-training ratio of "
             "non-depressed to depressed participants, once per fold"
             + (f" ({_range(weights, 2)})" if weights else "") + "; the logistic baselines use balanced class "
             "weights; the threshold is chosen on inner validation. No resampling.", "folds/*.json: pos_weight")]


def _fairness(r: RunFiles):
    return [("fairness", "No fairness constraint in training; performance is reported by gender "
             f"({', '.join(r.metrics.get('per_gender', {})) or 'none recorded'}) and by split (item 23a), and a "
             "gender-only baseline runs in the same folds.", "metrics.json: per_gender, baselines.gender_only")]


def _output(r: RunFiles):
    return [("model output", "A probability of depression per participant and a decision at a threshold chosen per "
             f"fold on inner validation for macro-F1 ({_range([f['threshold'] for f in r.metrics['fold_details']], 2)})"
             "; the fused model decides at probability 0.5.", "metrics.json: fold_details.threshold")]


def _train_vs_eval(r: RunFiles):
    return [("training versus evaluation", "The corpus' official splits: the same source, eligibility, outcome and "
             "predictors." if r.config["cv"]["protocol"] == "official" else "Internal validation only: evaluation "
             "participants come from the same corpus, eligibility, outcome and predictors as the training ones, held "
             "out by participant.", "run.json: config.cv.protocol")]


def _code(r: RunFiles):
    m = r.metrics
    return [("code, versions, configuration", f"pseudoface {m['code_version']}; "
             + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + f"; config hash {m['config_hash']}; data "
             f"fingerprint {m['data_fingerprint']}; device {m['device']}.",
             "metrics.json: code_version, versions, config_hash, data_fingerprint, device")]


def _participant_flow(r: RunFiles):
    m = r.metrics
    return [("participant flow", f"{_flow(m)}. Analysed: {m['n_participants']} ({m['n_depressed']} with the "
             f"outcome, {m['n_participants'] - m['n_depressed']} without).",
             "metrics.json: participant_flow, n_excluded, n_depressed")]


def _characteristics(r: RunFiles):
    p = r.participants
    if p is None:
        return []
    return [("characteristics", f"Gender: {_counts(p.gender)}; split: {_counts(p.split)}; PHQ-8 median "
             f"{_f(p.phq_score.median(), 1)} (IQR {_range(p.phq_score.quantile([.25, .75]), 1)}); session minutes "
             f"median {_f(p.duration_s.median() / 60, 1)}; valid-frame fraction median {_f(p.valid_fraction.median())}"
             ". Depressed by gender: " + ", ".join(f"{g} {int(s.sum())} of {len(s)}" for g, s in
                                                  p.groupby("gender").label) + ".",
             "participants.csv: gender, split, phq_score, duration_s, valid_fraction, label")]


def _development_vs_evaluation(r: RunFiles):
    d, m = pd.DataFrame(r.metrics["fold_details"]), r.metrics
    return [("development versus evaluation data", f"Outer test folds of {_range(d.n)} participants, "
             f"{_range(d.n_depressed / d.n, 2)} of them depressed, against {_f(m['n_depressed'] / m['n_participants'], 2)}"
             " overall (folds stratified by label).", "metrics.json: fold_details.n, fold_details.n_depressed")]


def _per_analysis(r: RunFiles):
    d = pd.DataFrame(r.metrics["fold_details"])
    text = (f"Per outer fold: inner training {_range(d.n_inner_train)}, inner validation {_range(d.n_inner_val)}, "
            f"test {_range(d.n)} participants ({_range(d.n_depressed)} test events)")
    if r.participants is not None and r.folds:
        y = dict(zip(r.participants.participant_id, r.participants.label))
        text += (f"; events in inner training {_range([sum(y[p] for p in f['inner_train_ids']) for f in r.folds])}, "
                 f"in inner validation {_range([sum(y[p] for p in f['inner_val_ids']) for f in r.folds])}")
    return [("participants and events per analysis", text + ".",
             "metrics.json: fold_details; folds/*.json: inner_train_ids, inner_val_ids; participants.csv: label")]


def _specification(r: RunFiles):
    m = r.metrics
    return [("model specification", f"{len(m['fold_details'])} fold models (checkpoints/*.pt: state dict, threshold, "
             f"calibration, fusion weight, the feature model's linear form), each of {m['model_parameters']} "
             f"parameters over inputs {' × '.join(map(str, m['input_shape']))}; run.json's configuration rebuilds "
             "the network.", "metrics.json: fold_details, model_parameters, input_shape; run.json: config")]


def _performance(r: RunFiles):
    m = r.metrics
    cal = m.get("calibration", {})
    models = "; ".join(f"{name}: macro-F1 {_ms(d['macro_f1'])} (95% CI {_ci(d['macro_f1']['ci95'])}), ROC-AUC "
                       f"{_ms(d['roc_auc'])}, predicted-positive rate {_f(d['predicted_positive_rate']['mean'], 2)}"
                       for name, d in (("network", m), ("feature model", m["baselines"]["feature_model"]),
                                       ("fused model", m["fused_model"])))
    curve = f"a reliability curve of {len(cal['bins'])} equal-count bins" if cal.get("bins") else "no reliability curve"
    return [("discrimination and calibration", f"{models}. Calibration of the network's pooled out-of-fold "
             f"probabilities: Brier {_f(cal.get('brier'))}, {curve}.", "metrics.json: macro_f1, roc_auc, "
             "predicted_positive_rate, baselines.feature_model, fused_model, calibration")]


def _subgroups(r: RunFiles):
    m, p, pred = r.metrics, r.participants, r.predictions
    text = "By gender (network, every repeat): " + "; ".join(
        f"{g}: n {v['n']}, macro-F1 {_f(v['macro_f1'])}, predicted-positive rate {_f(v['predicted_positive_rate'], 2)}"
        for g, v in m.get("per_gender", {}).items())
    if p is not None and pred is not None:
        first = pred[pred.repeat == pred.repeat.min()].merge(p[["participant_id", "split"]], on="participant_id")
        text += ". By split (network, first repeat): " + "; ".join(
            f"{s}: n {len(g)}, macro-F1 {_f(macro_f1(g.label, g.prediction))}" for s, g in first.groupby("split"))
    return [("performance by subgroup", text + ".", "metrics.json: per_gender; predictions.csv, participants.csv: "
             "split")]


def _baselines(r: RunFiles):
    return [("baselines in the same folds", "Macro-F1, mean ± SD over the same outer folds: " + "; ".join(
        f"{name.replace('_', ' ')} {_ms(v['macro_f1'])}" for name, v in r.metrics["baselines"].items()) + ".",
        "metrics.json: baselines")]


def _usability(r: RunFiles):
    d, e = r.config["data"], r.config["encode"]
    return [("poor-quality input", f"A session with less than {d['min_valid_seconds']:g} s of valid frames is not "
             f"scored and windows with more than {e['max_missing_fraction']:.0%} masked frames are skipped; "
             "`pseudoface predict` applies the same rules and names a session it cannot score.",
             "run.json: config.data.min_valid_seconds, config.encode.max_missing_fraction")]


ANSWERS = {
    "5a": _source, "6b": _eligibility, "7": _preparation, "8a": _outcome, "9a": lambda r: _predictors(r)[:1],
    "9b": lambda r: _predictors(r)[1:], "10": _sample_size, "11": _missing, "12a": _partitioning, "12b": _handling,
    "12c": _model, "12e": _measures, "12f": _recalibration, "12g": _computation, "13": _imbalance, "14": _fairness,
    "15": _output, "16": _train_vs_eval, "18f": _code, "20a": _participant_flow, "20b": _characteristics,
    "20c": _development_vs_evaluation, "21": _per_analysis, "22": _specification,
    "23a": lambda r: _performance(r) + _subgroups(r) + _baselines(r)
    + [("shuffled-label sanity run", sanity_sentence(r.sanity), "sanity.json")],
    "24": lambda r: [("model updating", "None: each fold's model is reported as fitted on its training participants.",
                      "run.json: config.train.calibration")],
    "27a": _usability,
}


def reporting_items(run_dir: str | Path, participant_data: bool = False) -> list[dict]:
    """One dict per TRIPOD+AI item (several for an item the run answers in parts): item, section,
    name, topic, status (``answered`` / ``for the researcher``), answer, source (file: fields) and
    researcher (what the researcher writes or adds; '' when nothing). Local paths are scrubbed."""
    r = read_run(run_dir, participant_data)
    items = []
    for item, section, name, todo in CHECKLIST:
        answers = ANSWERS[item](r) if item in ANSWERS else []
        items += [{"item": item, "section": section, "name": name, "topic": topic, "status": ANSWERED,
                   "answer": answer, "source": source, "researcher": todo} for topic, answer, source in answers]
        if not answers:
            items.append({"item": item, "section": section, "name": name, "topic": name, "status": RESEARCHER,
                          "answer": "", "source": "", "researcher": todo or "Describe this item for the study."})
    return scrub(items, _private_paths(r.config))


def _private_paths(config: dict) -> list:
    try:
        params = params_from_dict(config)
    except ParamsError:  # a run of an older configuration: its data root, the project and home at least
        params = params_from_dict({"data": {"root": config.get("data", {}).get("root") or Params().data.root}})
    return private_paths(params, project_root())


def reporting_markdown(items: list[dict], metrics: dict) -> str:
    """The items as one Markdown table (what the researcher adds in italics after an answer)."""
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")
    lines = [f"# Reporting items: {metrics['dataset']}", "",
             f"{GUIDELINE}: {sum(i['status'] == ANSWERED for i in items)} entries answered from the files of run "
             f"{metrics['config_hash']} (code {metrics['code_version']}); the other items are for the researcher.",
             "", "| item | TRIPOD+AI | status | answer, or what to write | source |", "|---|---|---|---|---|"]
    for i in items:
        text = (i["answer"] + (f" *Researcher: {i['researcher']}*" if i["researcher"] else "")) if i["answer"] \
            else i["researcher"]
        name = i["name"] if i["topic"] == i["name"] else f"{i['name']} ({i['topic']})"
        lines.append(f"| {i['item']} | {cell(name)} | {i['status']} | {cell(text)} | {cell(i['source'])} |")
    return "\n".join(lines) + "\n"


def write_reporting(run_dir: str | Path, participant_data: bool = False) -> list[dict]:
    """Write ``reporting.json`` and ``reporting.md`` (atomically) into ``run_dir``; returns the items."""
    run_dir = Path(run_dir)
    items = reporting_items(run_dir, participant_data)
    metrics = json.loads((run_dir / METRICS).read_text())
    doc = {"guideline": GUIDELINE, "dataset": metrics["dataset"], "config_hash": metrics["config_hash"],
           "code_version": metrics["code_version"], "participant_data": participant_data, "items": items}
    atomic_write_text(run_dir / REPORTING_JSON, json.dumps(doc, indent=1))
    atomic_write_text(run_dir / REPORTING_MD, reporting_markdown(items, metrics))
    return items


def load_reporting(run_dir: str | Path) -> dict | None:
    """``reporting.json`` of a run folder (None when it has none)."""
    path = Path(run_dir) / REPORTING_JSON
    return json.loads(path.read_text()) if path.is_file() else None


# ---------------------------------------------------------------- the sanity run in words

def sanity_table(sanity: dict) -> pd.DataFrame:
    """One row per model: macro-F1 on the true labels (same folds), on shuffled labels (each
    permutation and their mean), the gap, and where the mean lies against the random interval;
    a last row for the stratified-random baseline."""
    rows = [{"model": MODELS[key], "true labels (same folds)": v["real_first_repeat"],
             **{f"shuffled {p['permutation']}": s for p, s in zip(sanity["per_permutation"], v["shuffled"])},
             "shuffled mean": v["shuffled_mean"], "gap": v["gap"],
             "against the random interval": "above: possible leakage" if v["possible_leakage"]
             else "within" if v["within_interval"] else "below"} for key, v in sanity["models"].items()]
    rows.append({"model": f"stratified random (95% interval {_ci(sanity['stratified_random']['ci95'])})",
                 "true labels (same folds)": sanity["stratified_random"]["macro_f1_first_repeat"]})
    return pd.DataFrame(rows)


def sanity_brief(sanity: dict) -> str:
    """The sanity run in one short sentence for the index."""
    m = sanity["models"]
    flagged = [MODELS[k] for k, v in m.items() if v["possible_leakage"]]
    verdict = (f"possible leakage flagged for the {' and the '.join(flagged)}" if flagged else "no sign of leakage")
    return (f"Shuffled-label sanity run ({sanity['permutations']} permutation(s) of the training labels, same folds): "
            f"network {_f(m['network']['shuffled_mean'])}, fused model {_f(m['fused_model']['shuffled_mean'])} against "
            f"the stratified-random baseline's 95% interval {_ci(sanity['stratified_random']['ci95'])}: {verdict}.")


def sanity_sentence(sanity: dict | None) -> str:
    """The shuffled macro-F1 beside the random baseline's interval and the real run, the cost, and
    the leakage flag, in one sentence ("Not run ..." without a summary)."""
    if not sanity:
        return "Not run: this run has no shuffled-label sanity run (switched off in the dataset's parameters)."
    m, s = sanity["models"], sanity["settings"]
    flagged = [MODELS[k] for k, v in m.items() if v["possible_leakage"]]
    r = [p.get("label_correlation") for p in sanity["per_permutation"]]
    r = float(np.mean([v for v in r if v is not None and np.isfinite(v)] or [np.nan]))
    verdict = (f"possible leakage: the {' and the '.join(flagged)} on shuffled labels lie(s) above that interval "
               f"(the permuted training labels correlate {_f(r, 2)} with the true ones on average: by chance a "
               "permutation keeps some of the truth, and more permutations tell the two apart)"
               if flagged else "no sign of leakage: no model on shuffled labels lies above that interval")
    below = [MODELS[k] for k, v in m.items() if not v["possible_leakage"] and not v["within_interval"]]
    if below:  # below the interval: a model that learned nothing tends to call (almost) everyone one class
        verdict += (f"; the {' and the '.join(below)} lie(s) below it: with nothing to learn, a model tends to call "
                    "almost everyone one class, whose macro-F1 is lower than a random guess's")
    return (f"Trained on shuffled labels ({sanity['permutations']} permutation(s) of the training participants' "
            f"labels on the first repeat's {s['folds']} outer folds, the same settings), the network reaches macro-F1 "
            f"{_f(m['network']['shuffled_mean'])} (feature model {_f(m['feature_model']['shuffled_mean'])}, fused "
            f"model {_f(m['fused_model']['shuffled_mean'])}) beside the stratified-random baseline's 95% interval "
            f"{_ci(sanity['stratified_random']['ci95'])} and its own {_f(m['network']['real_first_repeat'])} on the "
            f"true labels in the same folds (gap {_f(m['network']['gap'])}; fused model "
            f"{_f(m['fused_model']['real_first_repeat'])}, gap {_f(m['fused_model']['gap'])}); the shuffled runs "
            f"took {sanity['seconds']:.0f} s of training; {verdict}.")
