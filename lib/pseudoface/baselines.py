"""Trivial and simple baselines, fitted in exactly the CNN-LSTM's outer folds.

Each baseline sees the outer-training participants only and predicts the outer-test ones:
majority class, always depressed, stratified random (at the training prevalence), gender only,
data quality only (logistic regression on % valid frames and duration) and a simple feature
model (logistic regression on per-session motion statistics, :func:`motion_features`). Logistic
regressions use balanced class weights and the fixed 0.5 threshold: nothing is tuned on test.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .face import REGIONS
from .normalise import Normalised

BASELINES = ("majority", "always_depressed", "stratified_random", "gender_only", "data_quality", "feature_model")


def motion_features(norm: Normalised) -> dict:
    """Per-session movement statistics (valid frames only): for each facial region the SD of the
    displacement from the session median face and the mean absolute frame-to-frame speed (both in
    inter-ocular units), and the SD of head rotation (deg) and translation; for series sessions the
    SD and mean absolute change of every series."""
    v = norm.valid
    feats = {}
    if norm.landmarks is not None:
        xyz = norm.landmarks
        disp = xyz - np.median(xyz[v], axis=0)
        both = v[1:] & v[:-1]
        speed = np.linalg.norm(np.diff(xyz, axis=0), axis=2)[both]  # (T', 68)
        for name, idx in REGIONS.items():
            feats[f"{name}_sd"] = float(np.linalg.norm(disp[v][:, list(idx)], axis=2).std())
            feats[f"{name}_speed"] = float(speed[:, list(idx)].mean()) if speed.size else 0.0
        pose = norm.pose[v]
        for j, name in enumerate(("rot_x", "rot_y", "rot_z", "tr_x", "tr_y", "tr_z")):
            feats[f"pose_{name}_sd"] = float(np.rad2deg(pose[:, j]).std() if j < 3 else pose[:, j].std())
    else:
        s = norm.series
        both = v[1:] & v[:-1]
        for j, name in enumerate(norm.series_names):
            feats[f"{name}_sd"] = float(s[v, j].std())
            feats[f"{name}_change"] = float(np.abs(np.diff(s[:, j]))[both].mean()) if both.any() else 0.0
    return feats


def _lr(seed: int):
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000,
                                                              random_state=seed))


def fit_predict(name: str, train: pd.DataFrame, test: pd.DataFrame, feature_cols: list[str],
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(score, prediction) for the test participants. ``train``/``test`` carry label, gender,
    valid_fraction, duration_s and the motion feature columns."""
    y = train.label.to_numpy()
    prevalence = float(y.mean())
    n = len(test)
    if name == "majority":
        return np.full(n, prevalence), np.full(n, int(prevalence > 0.5))
    if name == "always_depressed":
        return np.ones(n), np.ones(n, int)
    if name == "stratified_random":
        draw = np.random.default_rng(seed).random(n)
        return draw, (draw < prevalence).astype(int)
    if name == "gender_only":
        cols = sorted(set(train.gender) | set(test.gender))
        X_tr = np.stack([(train.gender == g).to_numpy(float) for g in cols], 1)
        X_te = np.stack([(test.gender == g).to_numpy(float) for g in cols], 1)
    elif name == "data_quality":
        X_tr = train[["valid_fraction", "duration_s"]].to_numpy(float)
        X_te = test[["valid_fraction", "duration_s"]].to_numpy(float)
    elif name == "feature_model":
        X_tr, X_te = train[feature_cols].to_numpy(float), test[feature_cols].to_numpy(float)
    else:
        raise ValueError(f"unknown baseline {name!r}")
    if len(np.unique(y)) < 2:
        return np.full(n, prevalence), np.full(n, int(prevalence > 0.5))
    model = _lr(seed).fit(X_tr, y)
    score = model.predict_proba(X_te)[:, 1]
    return score, (score >= 0.5).astype(int)
