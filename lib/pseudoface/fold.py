"""One fold of the protocol: the outer and inner participant splits, and the fold job that trains
on the outer-training participants and predicts the outer test fold, with every baseline fitted on
the same split. :mod:`executor` runs fold jobs (here or on Ray); :mod:`cv` plans them and writes the
run folders.

Every choice a fold makes (epoch, threshold, calibration) is made on inner-validation participants
drawn from its outer-training set; the outer test fold only receives predictions. Folds are
stratified by label and grouped by participant id. A shuffled-label run (``cv.label_permutation``)
keeps the same outer folds and permutes the labels of each fold's outer-training participants
(:func:`training_labels`): everything fitted in the fold sees only those.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit

from .baselines import (BASELINES, REGRESSION_BASELINES, fit_feature_model, fit_predict, fit_ridge, predict_score,
                        ridge_form)
from .encode import EncodedCorpus
from .fusion import REGRESSION_WEIGHT, fuse, fuse_scores
from .params import Params, ParamsError
from .train import PHQ8_MAX, SCREEN_CUTOFF, score, train_model


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


def training_labels(labels: dict, train_ids: list, params: Params, repeat: int, fold: int) -> dict:
    """The labels a fold fits on: ``labels`` ({participant_id: 0/1}) itself, or in the k-th
    shuffled-label run (``cv.label_permutation`` k >= 1) with the ``train_ids`` participants' labels
    permuted among them (class counts kept) by a generator seeded with (k, repeat, fold, cv.seed);
    every other participant (the test fold) keeps its own label."""
    k = params.cv.label_permutation
    if not k:
        return labels
    rng = np.random.default_rng([k, repeat, fold, params.cv.seed % 2 ** 32])
    permuted = rng.permutation(np.array([labels[p] for p in train_ids]))
    return {**labels, **{p: int(v) for p, v in zip(train_ids, permuted)}}


@dataclass
class FoldJob:
    """One fold training of one run: what a worker needs besides the shared corpus."""
    run: int  # index of the run (configuration) in the pool
    corpus: int  # index of the shared encoded corpus it trains on
    params: Params
    repeat: int
    fold: int
    train_ids: list
    test_ids: list
    label: str = ""  # for messages: "<run folder> r0_f1"

    @property
    def name(self) -> str:
        return f"r{self.repeat}_f{self.fold}"


def run_fold(enc: EncodedCorpus, params: Params, repeat: int, fold: int, train_ids: list, test_ids: list,
             device: torch.device, progress=None) -> dict:
    """Train on the fold's outer-training participants (epoch and threshold on inner validation),
    predict its test participants, fuse the network with the feature model (:mod:`fusion`), and
    fit every baseline on the same split. Whatever is fitted sees :func:`training_labels`; the test
    rows carry the true labels. ``model.task: regression``: :func:`run_regression_fold`."""
    if params.model.task == "regression":
        return run_regression_fold(enc, params, repeat, fold, train_ids, test_ids, device, progress)
    truth = dict(zip(enc.table.participant_id, enc.table.label))
    labels = training_labels(truth, train_ids, params, repeat, fold)  # what every model here fits on
    seed = params.cv.seed + 1000 * repeat + fold
    inner_train, inner_val = inner_split(train_ids, labels, params.train.inner_val_fraction, seed)
    assert not set(inner_train) & set(inner_val) and not set(train_ids) & set(test_ids)
    t0 = time.perf_counter()
    trained = train_model(enc.images, labels, inner_train, inner_val, params, seed, device, progress)
    logits = score(trained.model, enc.images, test_ids, params, device)
    prob = trained.probability(logits)
    pred = (prob >= trained.threshold).astype(int)
    table = enc.table.set_index("participant_id")
    rows = [{"repeat": repeat, "fold": fold, "participant_id": pid, "label": int(truth[pid]),
             "phq_score": float(table.at[pid, "phq_score"]), "gender": table.at[pid, "gender"],
             "score": float(p), "threshold": trained.threshold, "prediction": int(d)}
            for pid, p, d in zip(test_ids, prob, pred)]
    tr, te = table.loc[train_ids].reset_index(), table.loc[test_ids].reset_index()
    tr["label"] = [labels[p] for p in train_ids]  # the baselines, feature and fused models: the labels trained on
    feature = fit_feature_model(tr, enc.feature_cols, seed)  # once: its own row and the fused model's part
    fused = fuse(feature, te, enc.feature_cols, logits)
    base = {}
    for name in BASELINES:
        bscore, bpred = fit_predict(name, tr, te, enc.feature_cols, seed, feature_model=feature)
        base[name] = {"score": [float(s) for s in bscore], "prediction": [int(b) for b in bpred]}
    return {"repeat": repeat, "fold": fold, "train_ids": train_ids, "test_ids": test_ids,
            "inner_train_ids": inner_train, "inner_val_ids": inner_val, "best_epoch": trained.best_epoch,
            "threshold": trained.threshold, "pos_weight": trained.pos_weight, "platt": list(trained.platt),
            "seconds": time.perf_counter() - t0,
            **({"label_permutation": params.cv.label_permutation, "train_labels": [int(labels[p]) for p in train_ids]}
               if params.cv.label_permutation else {}),
            "history": [h | {"repeat": repeat, "fold": fold} for h in trained.history],
            "predictions": rows, "baselines": base, "fused": fused, "state": trained.model.state_dict()}


def training_scores(scores: dict, train_ids: list, params: Params, repeat: int, fold: int) -> dict:
    """:func:`training_labels` for PHQ-8 scores: in the k-th shuffled-label run the ``train_ids``
    participants' scores are permuted among them (the same generator seeding); test scores stay."""
    k = params.cv.label_permutation
    if not k:
        return scores
    rng = np.random.default_rng([k, repeat, fold, params.cv.seed % 2 ** 32])
    permuted = rng.permutation(np.array([scores[p] for p in train_ids], float))
    return {**scores, **{p: float(v) for p, v in zip(train_ids, permuted)}}


def _screen(predicted) -> dict:
    """A model's derived screen in the binary result's shape: score = predicted PHQ-8 / 24 (a 0-1
    ranking score for ROC-AUC, not a probability), prediction = predicted PHQ-8 >= 10."""
    predicted = np.asarray(predicted, float)
    return {"score": [float(v / PHQ8_MAX) for v in predicted],
            "prediction": [int(v >= SCREEN_CUTOFF) for v in predicted],
            "predicted_score": [float(v) for v in predicted]}


def run_regression_fold(enc: EncodedCorpus, params: Params, repeat: int, fold: int, train_ids: list,
                        test_ids: list, device: torch.device, progress=None) -> dict:
    """:func:`run_fold` for ``model.task: regression``: the same outer and inner splits (the inner
    split stratified by the binary label, PHQ-8 >= 10), the network trained on the PHQ-8 score
    (:func:`train.train_regression`), the mean, median and ridge baselines
    (:data:`baselines.REGRESSION_BASELINES`) and the fused score on the same split; every model's
    screen derived at >= 10. The binary baselines are fitted on the derived labels as in a binary
    run; their ``feature_model`` row is the ridge's derived screen."""
    table = enc.table.set_index("participant_id")
    truth = {p: float(v) for p, v in zip(enc.table.participant_id, enc.table.phq_score)}
    scores = training_scores(truth, train_ids, params, repeat, fold)  # what every model here fits on
    labels = {p: int(v >= SCREEN_CUTOFF) for p, v in scores.items()}
    seed = params.cv.seed + 1000 * repeat + fold
    inner_train, inner_val = inner_split(train_ids, labels, params.train.inner_val_fraction, seed)
    assert not set(inner_train) & set(inner_val) and not set(train_ids) & set(test_ids)
    t0 = time.perf_counter()
    trained = train_model(enc.images, scores, inner_train, inner_val, params, seed, device, progress)
    predicted = trained.predicted_score(score(trained.model, enc.images, test_ids, params, device))
    screen = _screen(predicted)
    rows = [{"repeat": repeat, "fold": fold, "participant_id": pid, "label": int(truth[pid] >= SCREEN_CUTOFF),
             "phq_score": truth[pid], "gender": table.at[pid, "gender"], "score": s,
             "threshold": SCREEN_CUTOFF / PHQ8_MAX, "prediction": d, "true_score": truth[pid], "predicted_score": v}
            for pid, s, d, v in zip(test_ids, screen["score"], screen["prediction"], screen["predicted_score"])]
    tr, te = table.loc[train_ids].reset_index(), table.loc[test_ids].reset_index()
    tr["label"] = [labels[p] for p in train_ids]
    tr["phq_score"] = [scores[p] for p in train_ids]
    ridge = fit_ridge(tr, enc.feature_cols, seed)  # once: its own row and the fused model's part
    regression = {name: _screen(predict_score(name, tr, te, enc.feature_cols, seed, ridge=ridge))
                  for name in REGRESSION_BASELINES}
    base = {}
    for name in BASELINES:
        if name == "feature_model":
            base[name] = {k: regression["ridge"][k] for k in ("score", "prediction")}
            continue
        bscore, bpred = fit_predict(name, tr, te, enc.feature_cols, seed)
        base[name] = {"score": [float(s) for s in bscore], "prediction": [int(b) for b in bpred]}
    fused = _screen(fuse_scores(regression["ridge"]["predicted_score"], predicted))
    fused |= {"weight": REGRESSION_WEIGHT, "feature_model": ridge_form(ridge, enc.feature_cols)}
    return {"repeat": repeat, "fold": fold, "train_ids": train_ids, "test_ids": test_ids,
            "inner_train_ids": inner_train, "inner_val_ids": inner_val, "best_epoch": trained.best_epoch,
            "threshold": trained.threshold, "pos_weight": trained.pos_weight, "platt": list(trained.platt),
            "task": "regression", "target_scale": list(trained.target_scale), "seconds": time.perf_counter() - t0,
            **({"label_permutation": params.cv.label_permutation,
                "train_labels": [int(labels[p]) for p in train_ids], "train_scores": [scores[p] for p in train_ids]}
               if params.cv.label_permutation else {}),
            "history": [h | {"repeat": repeat, "fold": fold} for h in trained.history],
            "predictions": rows, "baselines": base, "regression_baselines": regression, "fused": fused,
            "state": trained.model.state_dict()}
