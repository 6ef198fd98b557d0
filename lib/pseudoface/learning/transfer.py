"""Does the screen transfer? The cross-corpus run (``cv.protocol: cross_corpus``) and its comparison.

:func:`run_transfer` trains on the training corpus and scores the test corpus once, without and
with the label-free adaptation (``cv.adaptation``: none, standardise; :mod:`encoding.pairing`), and
cross-validates the test corpus within itself with the same models (its own grouped CV, the
``cv.folds`` of the params). Every choice of the cross runs (epoch, threshold, calibration, the
feature model's regularisation, the fusion) is made on the training corpus's inner validation: the
test corpus only receives predictions.

:func:`transfer_summary` turns the three runs into ``transfer.json``: for the network, the feature
model and the fused model, the macro-F1 and ROC-AUC on the test corpus with a participant bootstrap
interval (one test set: there are no folds to take an interval over), every baseline's, the same
models' within-corpus macro-F1 on the same participants (their out-of-fold predictions of the first
repeat) and the **transfer gap** (within minus cross) with a paired participant bootstrap interval:
each participant resampled keeps its label and both predictions.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..corpora.cache import atomic_write_text
from ..corpora.read import corpus_format
from ..encoding.pairing import test_corpus_params
from ..params import Params, ParamsError, derive
from .cv import RunSpec, cross_validate
from .evaluate import macro_f1
from .intervals import BOOTSTRAP_KEY, bootstrap_ci, paired_bootstrap_ci
from .runs import PREDICTIONS, load_metrics, load_participants

TRANSFER_JSON = "transfer.json"
TRANSFER_VERSION = 1
ADAPTATIONS = ("none", "standardise")
# model -> (decision column, score column) of predictions.csv
MODELS = {"network": ("prediction", "score"), "feature_model": ("feature_prediction", "feature_score"),
          "fused_model": ("fused_prediction", "fused_score")}
BASELINES = ("majority", "always_depressed", "stratified_random", "gender_only", "data_quality")


def run_dirs(run_root: Path) -> dict:
    """The transfer's run folders: ``cross-none``, ``cross-standardise`` and ``within``."""
    run_root = Path(run_root)
    return {**{f"cross-{a}": run_root / f"cross-{a}" for a in ADAPTATIONS}, "within": run_root / "within"}


def run_transfer(params: Params, run_root: str | Path, progress: bool = False) -> dict:
    """Run (or reuse) the cross runs and the within-corpus run into ``run_root``; write and return
    ``transfer.json`` (:func:`transfer_summary`)."""
    if params.cv.protocol != "cross_corpus":
        raise ParamsError(f"cv.protocol: {params.cv.protocol}: a transfer needs cv.protocol: cross_corpus")
    dirs = run_dirs(Path(run_root))
    specs = [RunSpec(derive(params, [f"cv.adaptation={a}"]), dirs[f"cross-{a}"], replace=True, reuse=True)
             for a in ADAPTATIONS]
    specs.append(RunSpec(test_corpus_params(params), dirs["within"], replace=True, reuse=True))
    cross_validate(specs, progress=progress, desc="transfer")
    summary = transfer_summary(Path(run_root), params)
    atomic_write_text(Path(run_root) / TRANSFER_JSON, json.dumps(summary, indent=1, default=float))
    return summary


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score
    return float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else float("nan")


def _predictions(run: Path) -> pd.DataFrame:
    p = pd.read_csv(run / PREDICTIONS, dtype={"participant_id": str})
    return p[p.repeat == p.repeat.min()].set_index("participant_id")


def transfer_summary(run_root: Path, params: Params) -> dict:
    """The transfer's numbers from its finished runs (module docstring); aggregates only."""
    dirs = run_dirs(run_root)
    n_boot, seed = params.cv.bootstrap, params.cv.seed
    within_m, within_p = load_metrics(dirs["within"]), _predictions(dirs["within"])
    out = {"version": TRANSFER_VERSION, "bootstrap": n_boot, "adaptations": {}}
    for a in ADAPTATIONS:
        m, p = load_metrics(dirs[f"cross-{a}"]), _predictions(dirs[f"cross-{a}"])
        ids = list(p.index)
        missing = [pid for pid in ids if pid not in within_p.index]
        if missing:
            raise ParamsError(f"{dirs['within']}: the within-corpus run has no prediction for {len(missing)} test "
                              f"participant(s) of the cross run ({', '.join(missing[:3])} …); run the transfer again")
        w = within_p.loc[ids]
        y = p.label.to_numpy(int)
        models = {}
        for name, (decision, score) in MODELS.items():
            cross, within = p[decision].to_numpy(int), w[decision].to_numpy(int)
            models[name] = {
                "cross": {"macro_f1": macro_f1(y, cross), BOOTSTRAP_KEY: bootstrap_ci(y, cross, macro_f1, n_boot, seed),
                          "roc_auc": _auc(y, p[score].to_numpy(float)),
                          "predicted_positive_rate": float(cross.mean())},
                "within": {"macro_f1": macro_f1(y, within), BOOTSTRAP_KEY: bootstrap_ci(y, within, macro_f1, n_boot, seed),
                           "roc_auc": _auc(y, w[score].to_numpy(float))},
                "gap": {"macro_f1": macro_f1(y, within) - macro_f1(y, cross),
                        BOOTSTRAP_KEY: paired_bootstrap_ci(y, within, cross, macro_f1, n_boot, seed)}}
        baselines = {name: {"macro_f1": float(m["baselines"][name]["macro_f1"]["pooled"]["0"]),
                            BOOTSTRAP_KEY: m["baselines"][name]["macro_f1"][BOOTSTRAP_KEY]}
                     for name in BASELINES if name in m["baselines"]}
        out["adaptations"][a] = {"models": models, "baselines": baselines, "n_test": len(ids),
                                 "n_test_depressed": int(y.sum()), "seconds": m["seconds"],
                                 "best_epoch": m["fold_details"][0]["best_epoch"]}
    first = load_metrics(dirs["cross-none"])
    sides = load_participants(dirs["cross-none"]).corpus.value_counts()
    flow = first["participant_flow"]
    out |= {"dataset": params.dataset, "synthetic": bool(first["synthetic"]),
            "training": {"dataset": params.dataset, "layout": corpus_format(params), "n": int(sides.get("training", 0))},
            "test": {"dataset": params.data.test_dataset, "layout": corpus_format(test_corpus_params(params)),
                     "n": int(sides.get("test", 0))},
            "in_both": int(next((v for k, v in flow.items() if k.startswith("in both corpora")), 0)),
            "overlap_side": params.cv.overlap, "participant_flow": flow, "problems": first["problems"],
            "within_cv": {"folds": within_m["config"]["cv"]["folds"], "repeats": within_m["config"]["cv"]["repeats"],
                          "n": within_m["n_participants"], "seconds": within_m["seconds"],
                          "network": within_m["macro_f1"]["mean"],
                          "feature_model": within_m["baselines"]["feature_model"]["macro_f1"]["mean"],
                          "fused_model": within_m["fused_model"]["macro_f1"]["mean"]},
            "input": first["input_shape"], "model_parameters": first["model_parameters"],
            "provenance": {"code_version": first["code_version"], "config_hash": first["config_hash"],
                           "data_fingerprint": first["data_fingerprint"], "device": first["device"]},
            "config": {"model": first["config"]["model"], "data": {"signals": first["config"]["data"]["signals"]}}}
    return out


def best_trivial(adaptation: dict) -> tuple[str, float]:
    """(name, macro-F1) of the best baseline without face data on the test corpus, of one adaptation's
    block of ``transfer.json``."""
    name = max(adaptation["baselines"], key=lambda k: adaptation["baselines"][k]["macro_f1"])
    return name, adaptation["baselines"][name]["macro_f1"]


def transfer_lines(s: dict) -> list[str]:
    """What ``pseudoface cv`` prints of a transfer: per adaptation and model the test corpus's
    macro-F1 with its bootstrap interval, the within-corpus one and the gap; the best baseline."""
    from .intervals import ci_text, number
    lines = [f"trained on {s['training']['dataset']} ({s['training']['n']} participants), scored once on "
             f"{s['test']['dataset']} ({s['test']['n']}); {s['in_both']} in both corpora left the {s['overlap_side']} "
             f"side; macro-F1 on the test corpus (95% CI, participant bootstrap):"]
    for a, block in s["adaptations"].items():
        best, value = best_trivial(block)
        lines.append(f"  adaptation {a}: best trivial baseline {best} {number(value)}")
        for key, m in block["models"].items():
            lines.append(f"    {key}: {number(m['cross']['macro_f1'])} ({ci_text(m['cross'][BOOTSTRAP_KEY])}); within "
                         f"{number(m['within']['macro_f1'])}; gap {number(m['gap']['macro_f1'])} "
                         f"({ci_text(m['gap'][BOOTSTRAP_KEY])})")
    return lines


def load_transfer(run_root: str | Path) -> dict:
    path = Path(run_root) / TRANSFER_JSON
    if not path.is_file():
        raise FileNotFoundError(f"{run_root}: no {TRANSFER_JSON} (run `pseudoface report` on a cross_corpus params file)")
    return json.loads(path.read_text())
