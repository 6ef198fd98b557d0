"""The protocol: participant-grouped cross-validation (or the official split) with baselines in the
same folds, run or reused, the comparison variants, and scoring new sessions with a run.

Every choice a fold makes (epoch, threshold) is made on inner-validation participants drawn from
its outer-training set; the outer test fold only receives predictions. Folds are stratified by
label and grouped by participant id. Persistence (file names, checkpoints, metrics) is
:mod:`runs`'; analysis of finished runs is :mod:`results`'.
"""
from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.special import expit
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit

from . import runs
from .baselines import BASELINES, fit_predict
from .encode import EncodedCorpus, encode_corpus, encode_session
from .model import pick_device
from .params import Params, ParamsError, params_from_dict
from .read import detect, load_corpus, read_one_session
from .textio import DataError
from .train import check_protocol, keep_freed_memory, score_participants, train_model

# The paper's central claim, measured on the same folds: the seed network on its frame layout
# against the default window layout, and rigid alignment on against off.
COMPARISONS = {
    "default (window layout, aligned)": [],
    # the seed as its code runs: no input scaling, last LSTM state, no augmentation, the first 16 frames
    "seed preset (frame layout)": ["encode.layout=frame", "model.preset=seed", "model.clip_windows=16",
                                   "encode.frame_count=16", "model.input_scaling=false", "model.pooling=last",
                                   "train.mirror=false"],
    "window layout, no alignment": ["normalise.align=false"],
}


def outer_splits(table: pd.DataFrame, params: Params, repeat: int) -> list:
    """[(fold, train_ids, test_ids)]: stratified by label, grouped by participant id."""
    ids, y = table.participant_id.to_numpy(), table.label.to_numpy()
    if params.cv.protocol == "official":
        split = table.split.to_numpy()
        folds = [(0, ids[split == "train"], ids[split == "dev"])]
        if (split == "test").any():
            folds.append((1, ids[np.isin(split, ["train", "dev"])], ids[split == "test"]))
        return [(f, list(a), list(b)) for f, a, b in folds]
    k = params.cv.folds
    if min(np.bincount(y, minlength=2)) < k:
        raise ParamsError(f"cv.folds: {k} folds need at least {k} participants per class "
                          f"(have {np.bincount(y, minlength=2).tolist()})")
    sgkf = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=params.cv.seed + 1000 * repeat)
    return [(f, list(ids[tr]), list(ids[te])) for f, (tr, te) in enumerate(sgkf.split(ids, y, groups=ids))]


def inner_split(train_ids: list, labels: dict, fraction: float, seed: int) -> tuple[list, list]:
    """Stratified participant split of the outer-training set into inner train / validation."""
    y = np.array([labels[p] for p in train_ids])
    n_val = max(2, int(round(fraction * len(train_ids))))
    sss = StratifiedShuffleSplit(n_splits=1, test_size=n_val, random_state=seed)
    tr, va = next(sss.split(np.zeros(len(y)), y))
    return [train_ids[i] for i in tr], [train_ids[i] for i in va]


def run_fold(enc: EncodedCorpus, params: Params, repeat: int, fold: int, train_ids: list, test_ids: list,
             device: torch.device, progress=None) -> dict:
    """Train on the fold's outer-training participants (epoch and threshold on inner validation),
    predict its test participants, and fit every baseline on the same split."""
    labels = dict(zip(enc.table.participant_id, enc.table.label))
    seed = params.cv.seed + 1000 * repeat + fold
    inner_train, inner_val = inner_split(train_ids, labels, params.train.inner_val_fraction, seed)
    assert not set(inner_train) & set(inner_val) and not set(train_ids) & set(test_ids)
    t0 = time.perf_counter()
    trained = train_model(enc.images, labels, inner_train, inner_val, params, seed, device, progress)
    logits = score_participants(trained.model, enc.images, test_ids, params.model.clip_windows, device)
    prob = trained.probability(logits)
    pred = (prob >= trained.threshold).astype(int)
    table = enc.table.set_index("participant_id")
    rows = [{"repeat": repeat, "fold": fold, "participant_id": pid, "label": int(labels[pid]),
             "phq_score": float(table.at[pid, "phq_score"]), "gender": table.at[pid, "gender"],
             "score": float(p), "threshold": trained.threshold, "prediction": int(d)}
            for pid, p, d in zip(test_ids, prob, pred)]
    tr, te = table.loc[train_ids].reset_index(), table.loc[test_ids].reset_index()
    base = {}
    for name in BASELINES:
        score, bpred = fit_predict(name, tr, te, enc.feature_cols, seed)
        base[name] = {"score": [float(s) for s in score], "prediction": [int(b) for b in bpred]}
    return {"repeat": repeat, "fold": fold, "train_ids": train_ids, "test_ids": test_ids,
            "inner_train_ids": inner_train, "inner_val_ids": inner_val, "best_epoch": trained.best_epoch,
            "threshold": trained.threshold, "pos_weight": trained.pos_weight, "platt": list(trained.platt),
            "seconds": time.perf_counter() - t0,
            "history": [h | {"repeat": repeat, "fold": fold} for h in trained.history],
            "predictions": rows, "baselines": base, "state": trained.model.state_dict()}


def run_cv(params: Params, out: Path, enc: EncodedCorpus, resume: bool = False, progress: bool = True,
           replace: bool = False) -> dict:
    """Cross-validate (or run the official split) into the run folder ``out``; returns metrics.

    Finished folds are written as they finish, so an interrupted run resumes with ``resume``."""
    from tqdm import tqdm  # text bars (tqdm.auto wants ipywidgets inside notebooks)
    check_protocol(params)
    out = Path(out)
    runs.open_run_folder(out, params, resume, replace)
    keep_freed_memory()
    device = pick_device(params.train.device)
    started = time.perf_counter()
    plan = [(r, f, a, b) for r in range(params.cv.repeats) for f, a, b in outer_splits(enc.table, params, r)]
    results = []
    bar = tqdm(plan, desc="cv folds", disable=None if progress else True)
    for r, f, train_ids, test_ids in bar:
        done = runs.finished_fold(out, r, f) if resume else None
        if done is not None:
            results.append(done)
            continue
        result = run_fold(enc, params, r, f, train_ids, test_ids, device, bar if progress else None)
        runs.save_fold(out, result)
        results.append(result)
    return runs.write_outputs(out, params, enc, results, time.perf_counter() - started, str(device))


def run_or_reuse(params: Params, run_dir: str | Path, enc: EncodedCorpus | None = None) -> tuple[dict, bool]:
    """(metrics, reused): cross-validate into ``run_dir`` unless a run of the same config, data
    fingerprint and code version is already there."""
    run_dir = Path(run_dir)
    enc = enc or encode_corpus(load_corpus(params), params)
    if runs.run_matches(run_dir, params, enc.fingerprint):
        return runs.load_metrics(run_dir), True
    return run_cv(params, run_dir, enc, progress=False, replace=True), False


def variant_dir(run_root: str | Path, overrides: list) -> Path:
    """``main`` for the default, else ``variant-<key>_<value>-...`` from the overrides."""
    if not overrides:
        return Path(run_root) / "main"
    return Path(run_root) / ("variant-" + "-".join(o.split("=")[0].split(".")[-1] + "_" + o.split("=")[1]
                                                   for o in overrides))


def run_comparisons(params: Params, run_root: str | Path, extra: dict | None = None) -> pd.DataFrame:
    """Run (or reuse) each comparison variant in the same outer folds; one row per variant."""
    rows = []
    for name, overrides in {**COMPARISONS, **(extra or {})}.items():
        variant = params_from_dict(asdict(params), overrides)
        run_dir = variant_dir(run_root, overrides)
        metrics, _ = run_or_reuse(variant, run_dir)
        rows.append({"name": name, "mean": metrics["macro_f1"]["mean"], "std": metrics["macro_f1"]["std"],
                     "roc_auc": metrics["roc_auc"]["mean"], "ppr": metrics["predicted_positive_rate"]["mean"],
                     "parameters": metrics["model_parameters"], "input": "x".join(map(str, metrics["input_shape"])),
                     "seconds": round(metrics["seconds"]), "run": run_dir.name})
    return pd.DataFrame(rows)


def predict_paths(run: Path, paths: list[str]) -> tuple[list[tuple[str, float, int]], list[str]]:
    """Score sessions with every fold model of a run: mean logit, median fold threshold.

    Returns ([(participant_id, probability, prediction)], problems); one problem per bad path."""
    models, meta = runs.load_models(Path(run))
    params = params_from_dict(meta["config"])
    threshold = float(np.median([t for _, t, _ in models]))
    rows, problems = [], []
    for raw in paths:
        try:
            _, dataset = detect(Path(raw))
            session = read_one_session(Path(raw), dataset, params)
            images = {"x": encode_session(session, params).images}
            if images["x"].shape[0] == 0:
                raise DataError(f"{raw}: no usable pseudo-image window")
            # each fold model's calibrated logit, averaged (identity map unless calibration: platt)
            logits = [a * score_participants(m, images, ["x"], params.model.clip_windows, torch.device("cpu"))[0] + b
                      for m, _, (a, b) in models]
            prob = float(expit(np.mean(logits)))
            rows.append((session.participant_id, prob, int(prob >= threshold)))
        except DataError as exc:
            problems.append(str(exc))
    return rows, problems
