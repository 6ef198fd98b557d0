"""The fused model: the session network's logit and the feature model's logit in one score,
stacked on inner-validation scores only.

``fused = (1 - w) * feature logit + w * network logit``, with the one weight ``w`` chosen from
:data:`WEIGHTS` by the class-weighted log-loss on the fold's inner-validation participants (the
network's epoch and threshold are chosen there too; the outer test fold never is). The decision is
fused logit >= 0 (probability 0.5), the feature model's own rule: both logits come from losses
weighted to balance the classes.

Why stacking and not one jointly trained head: a fold trains on a few dozen participants, the
feature model's ~60 functionals already have their L2 strength chosen by cross-validation, and a
head that learns weights for them beside a 256-wide session embedding would overfit. One weight
fitted on inner validation cannot overfit much, and ``w = 0`` is exactly the feature model, so
the fused model departs from the yardstick only as far as inner validation says the network adds.
The feature model inside the fold is fitted on the inner-training participants to score inner
validation; the test participants get the one fitted on the whole outer-training set (the same
model as the feature-model row), so ``w = 0`` reproduces that row's decisions.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from .baselines import fit_feature_model, linear_form

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # the network's share of the fused logit


def feature_logits(model, table: pd.DataFrame, feature_cols: list[str]) -> np.ndarray:
    """The feature model's logits (its decision function) for the participants of ``table``."""
    return model.decision_function(table[feature_cols].to_numpy(float))


def weighted_log_loss(y: np.ndarray, z: np.ndarray, pos_weight: float) -> float:
    """Binary cross-entropy of logits ``z`` with the positive class weighted (as training's loss)."""
    p = np.clip(expit(z), 1e-12, 1 - 1e-12)
    return float(np.mean(-(pos_weight * y * np.log(p) + (1 - y) * np.log(1 - p))))


def choose_weight(y_val: np.ndarray, feature_val: np.ndarray, network_val: np.ndarray, pos_weight: float) -> float:
    """The weight of :data:`WEIGHTS` whose fused inner-validation loss is lowest (the first of equals)."""
    losses = [weighted_log_loss(y_val, (1 - w) * feature_val + w * network_val, pos_weight) for w in WEIGHTS]
    return WEIGHTS[int(np.argmin(losses))]


def fuse(table: pd.DataFrame, feature_cols: list[str], inner_train: list, inner_val: list, train_ids: list,
         test_ids: list, network_val: np.ndarray, network_test: np.ndarray, pos_weight: float, seed: int) -> dict:
    """The fused model of one fold: {weight, score (probability), prediction, feature_model (its
    linear form, fitted on the outer-training participants)} for ``test_ids``."""
    t = table.set_index("participant_id")
    inner = fit_feature_model(t.loc[inner_train].reset_index(), feature_cols, seed)
    y_val = t.loc[inner_val, "label"].to_numpy(float)
    w = choose_weight(y_val, feature_logits(inner, t.loc[inner_val], feature_cols), network_val, pos_weight)
    outer = fit_feature_model(t.loc[train_ids].reset_index(), feature_cols, seed)
    z = (1 - w) * feature_logits(outer, t.loc[test_ids], feature_cols) + w * np.asarray(network_test)
    prob = expit(z)
    return {"weight": w, "score": [float(p) for p in prob], "prediction": [int(v) for v in z >= 0],
            "feature_model": linear_form(outer, feature_cols)}


def fused_probability(weight: float, feature_logit: float, network_logit: float) -> float:
    return float(expit((1 - weight) * feature_logit + weight * network_logit))

