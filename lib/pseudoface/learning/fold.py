"""One fold of the protocol: the outer and inner participant splits, and the fold job that trains
on the outer-training participants and predicts the outer test fold, with every baseline fitted on
the same split. :mod:`executor` runs fold jobs (here or on Ray); :mod:`cv` plans them and writes the
run folders.

Every choice a fold makes (epoch, threshold, calibration) is made on inner-validation participants
drawn from its outer-training set; the outer test fold only receives predictions. Folds are
stratified by label and grouped by participant id. A shuffled-label run (``cv.label_permutation``)
keeps the same outer folds and permutes the targets of each fold's outer-training participants
(:meth:`task.Task.training_targets`): everything fitted in the fold sees only those.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit

from ..encoding.encode import EncodedCorpus
from ..params import Params, ParamsError
from .task import task_of
from .train import score, train_model


def outer_splits(table: pd.DataFrame, params: Params, repeat: int) -> list:
    """[(fold, train_ids, test_ids)]: stratified by label, grouped by participant id."""
    ids, y = table.participant_id.to_numpy(), table.label.to_numpy()
    if params.cv.protocol == "cross_corpus":  # one test set: the test corpus (encoding.pairing's union table)
        side = table.corpus.to_numpy()
        return [(0, list(ids[side == "training"]), list(ids[side == "test"]))]
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
    """Train on the fold's outer-training participants (epoch and decision rule on inner
    validation), predict its test participants, and fit every baseline and the fused model on the
    same split; what differs between the binary screen and the PHQ-8 score is the task's
    (:mod:`task`). Whatever is fitted sees :meth:`task.Task.training_targets`; the test rows carry
    the true labels."""
    task = task_of(params)
    truth = task.truth(enc.table)
    targets = task.training_targets(truth, train_ids, params, repeat, fold)  # what every model here fits on
    strata = task.strata(targets)
    seed = params.cv.seed + 1000 * repeat + fold
    inner_train, inner_val = inner_split(train_ids, strata, params.train.inner_val_fraction, seed)
    assert not set(inner_train) & set(inner_val) and not set(train_ids) & set(test_ids)
    t0 = time.perf_counter()
    trained = train_model(enc.images, targets, inner_train, inner_val, params, seed, device, progress)
    outputs = score(trained.model, enc.images, test_ids, params, device)
    network = trained.rule.screen(outputs)
    table = enc.table.set_index("participant_id")
    true_strata = task.strata(truth)
    rows = [{"repeat": repeat, "fold": fold, "participant_id": pid, "label": int(true_strata[pid]),
             "phq_score": float(table.at[pid, "phq_score"]), "gender": table.at[pid, "gender"],
             "score": network["score"][i], "threshold": trained.rule.threshold, "prediction": network["prediction"][i],
             **task.row_extra(truth[pid], network, i)}
            for i, pid in enumerate(test_ids)]
    tr, te = table.loc[train_ids].reset_index(), table.loc[test_ids].reset_index()
    tr = task.fitted_table(tr, targets, train_ids)  # the baselines, feature and fused models: the targets fitted
    beside = task.beside(tr, te, enc.feature_cols, seed, outputs, trained.rule)
    return {"repeat": repeat, "fold": fold, "task": task.name, "train_ids": train_ids, "test_ids": test_ids,
            "inner_train_ids": inner_train, "inner_val_ids": inner_val, "best_epoch": trained.best_epoch,
            **trained.rule.record(), "seconds": time.perf_counter() - t0,
            **({"label_permutation": params.cv.label_permutation} | task.fold_record(targets, train_ids)
               if params.cv.label_permutation else {}),
            "history": [h | {"repeat": repeat, "fold": fold} for h in trained.history],
            "predictions": rows, **beside, "state": trained.model.state_dict()}
