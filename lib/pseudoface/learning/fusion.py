"""The fused model: the network's logit and the feature model's logit in one score.

``fused logit = (1 - w) * feature-model logit + w * network logit``, decided at 0 (probability
0.5), the feature model's own rule: both logits come from losses weighted to balance the classes.
``w`` = :data:`WEIGHT`, the network's share, a constant chosen on the development corpus seeds
(1000 and 1001 of ``benchmarks/bench_quality.py``, never the reported ones) from 0, 0.1, 0.2, 0.3,
0.5 and 1 (docs/experiments.md). Each fold's fused model uses that fold's network and the feature
model fitted on the same outer-training participants (the feature-model row's model, fitted once
for both), so ``w = 0`` is exactly that row.

Why a fixed stacking weight and neither a jointly trained head nor a weight fitted per fold: a
fold trains on a few dozen participants; the feature model's ~60 functionals already have their
L2 strength chosen by cross-validation, and a head that learned weights for them beside a 256-wide
session embedding would overfit. A weight chosen per fold on inner-validation scores was measured
(5 candidates, ~12 inner-validation participants a fold): too noisy, it fell below the feature
model on the development seeds (docs/experiments.md).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from .baselines import linear_form

WEIGHT = 0.2  # the network's share of the fused logit (chosen on the development seeds)


def feature_logits(model, table: pd.DataFrame, feature_cols: list[str]) -> np.ndarray:
    """The feature model's logits (its decision function) for the participants of ``table``."""
    return model.decision_function(table[feature_cols].to_numpy(float))


def fused_logit(feature_logit, network_logit, weight: float = WEIGHT):
    return (1 - weight) * np.asarray(feature_logit) + weight * np.asarray(network_logit)


def fuse(feature_model, test: pd.DataFrame, feature_cols: list[str], network_test: np.ndarray) -> dict:
    """The fused model of one fold for the participants of ``test`` (rows in ``network_test``'s
    order): {weight, score (probability), prediction, feature_model (the linear form of
    ``feature_model``, the fold's feature model fitted on its outer-training participants)}."""
    z = fused_logit(feature_logits(feature_model, test, feature_cols), network_test, WEIGHT)
    return {"weight": WEIGHT, "score": [float(p) for p in expit(z)], "prediction": [int(v) for v in z >= 0],
            "feature_model": linear_form(feature_model, feature_cols)}


# model.task: regression: the fused score is (1 - w) * ridge + w * network, both predicted PHQ-8
# scores. w = 0.5, fixed a priori (a plain average): no weight was chosen on any seed, dev or reported.
REGRESSION_WEIGHT = 0.5


def fuse_scores(ridge_score, network_score, weight: float = REGRESSION_WEIGHT) -> np.ndarray:
    """The fused predicted PHQ-8 score (both inputs already on 0-24, so the average is too)."""
    return (1 - weight) * np.asarray(ridge_score, float) + weight * np.asarray(network_score, float)
