"""The shuffled-label sanity run, in one place: its runs, its summary ``sanity.json`` and its words.

After a finished run, :func:`run_shuffled` cross-validates the same settings on the outer folds of
its first repeat with the training participants' labels permuted (``cv.label_permutation`` k = 1..N,
``cv.shuffled_labels`` N; the permutation itself is applied inside the fold job,
``task.Task.training_targets``), each into ``<run>/shuffled/<k>/``, and writes ``<run>/sanity.json``
(:func:`sanity_summary`): each model's mean macro-F1 on shuffled labels beside the real run on the
same folds and beside the stratified-random baseline's mean over the run's folds with its
corrected resampled t 95% interval, the interval the index shows for that baseline
(``metrics.json``: ``baselines.stratified_random.macro_f1.ci95_corrected_t``). A shuffled mean above
that interval is flagged as possible leakage. :func:`sanity_table`, :func:`sanity_sentence` and
:func:`sanity_brief` say it on notebook 03, the reporting page, the TRIPOD+AI item 23a, the index and
the terminal; the downloads publish ``sanity.json`` as it is.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from . import runs
from ..corpora.cache import atomic_write_text
from .cv import RunSpec, cross_validate
from ..encoding.encode import EncodedCorpus, encode_corpus
from .intervals import CORRECTED_T, CORRECTED_T_KEY, UNIT, ci_text, count_text, number
from ..params import Params, ParamsError, params_from_dict
from ..corpora.read import load_corpus

SANITY_MODELS = {"network": lambda m: m, "feature_model": lambda m: m["baselines"]["feature_model"],
                 "fused_model": lambda m: m["fused_model"]}
MODELS = {"network": "network", "feature_model": "feature model", "fused_model": "fused model"}
SANITY_INTERVAL = ("the stratified-random baseline's mean macro-F1 over the run's outer folds with its corrected "
                   "resampled t 95% interval (metrics.json: baselines.stratified_random.macro_f1.ci95_corrected_t), "
                   "the interval the index shows for that baseline")


def shuffled_dir(run_dir: str | Path, permutation: int) -> Path:
    return Path(run_dir) / runs.SHUFFLED / str(permutation)


def shuffled_params(params: Params, permutation: int) -> Params:
    """The k-th shuffled-label run of ``params``: the same settings on the first repeat's outer folds
    (the cheap setting, stated in ``sanity.json``), labels permuted in training (task.Task.training_targets)."""
    return params_from_dict(asdict(params), [f"cv.label_permutation={permutation}", "cv.shuffled_labels=0",
                                             "cv.repeats=1"])


def run_shuffled(params: Params, run_dir: str | Path, permutations: int | None = None,
                 enc: EncodedCorpus | None = None, progress: bool = False) -> dict:
    """Cross-validate (or reuse, when finished with the same configuration, data and code) the
    shuffled-label runs 1..N (N: ``permutations``, default ``cv.shuffled_labels``) of the finished
    run in ``run_dir`` into ``run_dir/shuffled/<k>/``, and write their summary ``run_dir/sanity.json``
    (:func:`sanity_summary`); returns it."""
    n = params.cv.shuffled_labels if permutations is None else permutations
    if n < 1:
        raise ParamsError(f"cv.shuffled_labels: expected 1 or more permutations; got {n}")
    real = runs.load_metrics(run_dir)
    if real["config_hash"] != runs.config_hash(params):
        raise ParamsError(f"{run_dir}: holds a run of another configuration ({real['config_hash']}); "
                          "the shuffled-label runs follow the run of these parameters")
    specs = [RunSpec(shuffled_params(params, k), shuffled_dir(run_dir, k), enc, replace=True, reuse=True)
             for k in range(1, n + 1)]
    if enc is None:  # encoded once for every permutation (they share the encoding)
        enc = encode_corpus(load_corpus(params), params)
        for s in specs:
            s.enc = enc
    done = cross_validate(specs, progress, desc="shuffled-label folds")
    sanity = sanity_summary(real, [m for m, _ in done], [r for _, r in done], [label_correlation(s.out) for s in specs])
    write_sanity(run_dir, sanity)
    return sanity


# ---------------------------------------------------------------- sanity.json

def first_repeat_mean(model: dict, metrics: dict) -> float:
    """Mean macro-F1 of ``model`` (a summary in ``metrics``) over the folds of repeat 0: the folds a
    shuffled-label run trains on (``fold_details`` and every ``macro_f1.folds`` are in plan order)."""
    n = sum(1 for f in metrics["fold_details"] if f["repeat"] == 0)
    return float(np.nanmean(model["macro_f1"]["folds"][:n]))


def label_correlation(run_dir: str | Path) -> float:
    """Mean over a shuffled-label run's folds of the correlation between the permuted and the true
    labels of the training participants (0 in expectation; by chance a permutation keeps some of
    the truth, which a strong cue turns into above-chance scores)."""
    participants = runs.load_participants(run_dir)
    truth = dict(zip(participants.participant_id, participants.label))
    values = []
    for path in sorted((Path(run_dir) / runs.FOLDS).glob("*.json")):
        fold = json.loads(path.read_text())
        if "train_labels" in fold:
            true = [truth[p] for p in fold["train_ids"]]
            values.append(float(np.corrcoef(fold["train_labels"], true)[0, 1]))
    return float(np.mean(values)) if values else float("nan")


def sanity_summary(real: dict, shuffled: list[dict], reused: list[bool], correlations: list | None = None) -> dict:
    """``sanity.json``: each model's macro-F1 under shuffled training labels (mean over each run's
    folds, then over permutations) beside the real run on the same folds and the stratified-random
    baseline's corrected t interval (:data:`SANITY_INTERVAL`); ``possible_leakage`` when a shuffled
    mean lies above that interval. ``correlations``: :func:`label_correlation` of each shuffled run."""
    random = real["baselines"]["stratified_random"]["macro_f1"]
    low, high = (float(v) for v in random[CORRECTED_T_KEY])
    models = {}
    for name, of in SANITY_MODELS.items():
        values = [float(of(m)["macro_f1"]["mean"]) for m in shuffled]
        mean = float(np.mean(values)) if values else float("nan")
        same_folds = first_repeat_mean(of(real), real)
        models[name] = {"real": float(of(real)["macro_f1"]["mean"]), "real_first_repeat": same_folds,
                        "shuffled": values, "shuffled_mean": mean, "gap": same_folds - mean,
                        "within_interval": bool(low <= mean <= high), "possible_leakage": bool(mean > high)}
    first = shuffled[0]["config"]["cv"] if shuffled else real["config"]["cv"]
    return {
        "permutations": len(shuffled),
        "settings": {"repeats": first["repeats"], "folds": first["folds"], "protocol": first["protocol"],
                     "what": "the real run's network, training and baseline settings on the outer folds of its first "
                             "repeat; in every fold the outer-training (inner-training and inner-validation) "
                             "participants' labels are permuted among them, the test participants keep their true "
                             "labels and every metric is computed on them"},
        "run": {k: real[k] for k in ("config_hash", "code_version", "data_fingerprint")},
        "stratified_random": {"macro_f1_mean": float(random["mean"]), "macro_f1_first_repeat":
                              first_repeat_mean(real["baselines"]["stratified_random"], real),
                              CORRECTED_T_KEY: [low, high], "interval": SANITY_INTERVAL},
        "models": models,
        "per_permutation": [{"permutation": int(m["config"]["cv"]["label_permutation"]),
                             "folder": f"{runs.SHUFFLED}/{m['config']['cv']['label_permutation']}",
                             "config_hash": m["config_hash"], "seconds": float(m["seconds"]), "reused": bool(r),
                             "label_correlation": float(c),
                             **{name: float(of(m)["macro_f1"]["mean"]) for name, of in SANITY_MODELS.items()},
                             "stratified_random": float(m["baselines"]["stratified_random"]["macro_f1"]["mean"])}
                            for m, r, c in zip(shuffled, reused, correlations or [float("nan")] * len(shuffled))],
        "seconds": float(sum(m["seconds"] for m in shuffled)),
        "possible_leakage": any(m["possible_leakage"] for m in models.values()),
    }


def write_sanity(run_dir: str | Path, sanity: dict) -> None:
    atomic_write_text(Path(run_dir) / runs.SANITY, json.dumps(sanity, indent=1, default=float))


def load_sanity(run_dir: str | Path) -> dict | None:
    """The run's ``sanity.json``, or None when there is none or it describes another run (config
    hash, code version or data fingerprint differ from its ``metrics.json``)."""
    path, metrics = Path(run_dir) / runs.SANITY, Path(run_dir) / runs.METRICS
    if not path.is_file() or not metrics.is_file():
        return None
    sanity, m = json.loads(path.read_text()), json.loads(metrics.read_text())
    same = all(sanity["run"].get(k) == m.get(k) for k in ("config_hash", "code_version", "data_fingerprint"))
    return sanity if same else None


# ---------------------------------------------------------------- in words

def _random_interval(sanity: dict) -> str:
    """'the stratified-random baseline's 95% CI 0.208 to 0.921 (mean over the run's folds, corrected resampled t)'."""
    return (f"the stratified-random baseline's 95% CI {ci_text(sanity['stratified_random'][CORRECTED_T_KEY], bounds=UNIT)} (its "
            f"mean over the run's outer folds, {CORRECTED_T})")


def sanity_table(sanity: dict) -> pd.DataFrame:
    """One row per model: macro-F1 on the true labels (same folds), on shuffled labels (each
    permutation and their mean), the gap, and where the mean lies against the random interval;
    a last row for the stratified-random baseline with that interval."""
    rows = [{"model": MODELS[key], "true labels (same folds)": v["real_first_repeat"],
             **{f"shuffled {p['permutation']}": s for p, s in zip(sanity["per_permutation"], v["shuffled"])},
             "shuffled mean": v["shuffled_mean"], "gap": v["gap"],
             "against the random interval": "above: possible leakage" if v["possible_leakage"]
             else "within" if v["within_interval"] else "below"} for key, v in sanity["models"].items()]
    rows.append({"model": f"stratified random (95% CI {ci_text(sanity['stratified_random'][CORRECTED_T_KEY], bounds=UNIT)}, "
                          f"{CORRECTED_T})",
                 "true labels (same folds)": sanity["stratified_random"]["macro_f1_first_repeat"]})
    return pd.DataFrame(rows)


def sanity_brief(sanity: dict) -> str:
    """The sanity run in one short sentence for the index."""
    m = sanity["models"]
    flagged = [MODELS[k] for k, v in m.items() if v["possible_leakage"]]
    verdict = (f"possible leakage flagged for the {' and the '.join(flagged)}" if flagged else "no sign of leakage")
    return (f"Shuffled-label sanity run ({count_text(sanity['permutations'], 'permutation')} of the training labels, same folds): "
            f"network {number(m['network']['shuffled_mean'])}, fused model {number(m['fused_model']['shuffled_mean'])} "
            f"against {_random_interval(sanity)}: {verdict}.")


def sanity_sentence(sanity: dict | None) -> str:
    """The shuffled macro-F1 beside the random baseline's interval and the real run, the cost, and
    the leakage flag, in one sentence ("Not run ..." without a summary)."""
    if not sanity:
        return "Not run: this run has no shuffled-label sanity run (switched off in the dataset's parameters)."
    m, s = sanity["models"], sanity["settings"]
    flagged = [MODELS[k] for k, v in m.items() if v["possible_leakage"]]
    r = [p.get("label_correlation") for p in sanity["per_permutation"]]
    r = float(np.mean([v for v in r if v is not None and np.isfinite(v)] or [np.nan]))
    verdict = (f"possible leakage: the {' and the '.join(flagged)} on shuffled labels {'lies' if len(flagged) == 1 else 'lie'} above that interval "
               f"(the permuted training labels correlate {number(r, 2)} with the true ones on average: by chance a "
               "permutation keeps some of the truth, and more permutations tell the two apart)"
               if flagged else "no sign of leakage: no model on shuffled labels lies above that interval")
    below = [MODELS[k] for k, v in m.items() if not v["possible_leakage"] and not v["within_interval"]]
    if below:  # below the interval: a model that learned nothing tends to call (almost) everyone one class
        verdict += (f"; the {' and the '.join(below)} {'lies' if len(below) == 1 else 'lie'} below it: with nothing to learn, a model tends to call "
                    "almost everyone one class, whose macro-F1 is lower than a random guess's")
    return (f"Trained on shuffled labels ({count_text(sanity['permutations'], 'permutation')} of the training participants' "
            f"labels on the first repeat's {s['folds']} outer folds, the same settings), the network reaches macro-F1 "
            f"{number(m['network']['shuffled_mean'])} (feature model {number(m['feature_model']['shuffled_mean'])}, "
            f"fused model {number(m['fused_model']['shuffled_mean'])}; means over folds) beside "
            f"{_random_interval(sanity)} and its own {number(m['network']['real_first_repeat'])} on the true labels in "
            f"the same folds (gap {number(m['network']['gap'])}; fused model "
            f"{number(m['fused_model']['real_first_repeat'])}, gap {number(m['fused_model']['gap'])}); the shuffled runs "
            f"took {sanity['seconds']:.0f} s of training; {verdict}.")
