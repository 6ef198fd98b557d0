"""Trivial and simple baselines, fitted in exactly the CNN-LSTM's outer folds.

Each baseline sees the outer-training participants only and predicts the outer-test ones:
majority class, always depressed, stratified random (at the training prevalence), gender only,
data quality only (logistic regression on % valid frames and duration) and the feature model: the
yardstick the network must beat, built as a careful researcher would. Its inputs are session-level
functionals of landmark-derived signals (:func:`features.session_features`: SD, percentiles,
velocities and event rates of mouth, eyes, brows and head pose, and per-region movement),
standardised within the training fold; an L2-regularised logistic regression whose strength is
chosen by 5-fold cross-validated log-loss inside the training fold. Logistic regressions use
balanced class weights and the fixed 0.5 threshold: nothing is tuned on test.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

BASELINES = ("majority", "always_depressed", "stratified_random", "gender_only", "data_quality", "feature_model")


FEATURE_MODEL_CS = np.logspace(-4, 2, 13)  # regularisation strengths tried on inner folds


def _lr(seed: int):
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000,
                                                              random_state=seed))


def feature_model(seed: int, n_train_minority: int):
    """Standardise, then L2 logistic regression with C chosen by inner stratified CV on log-loss."""
    folds = StratifiedKFold(n_splits=max(2, min(5, n_train_minority)), shuffle=True, random_state=seed)
    return make_pipeline(StandardScaler(), LogisticRegressionCV(
        Cs=FEATURE_MODEL_CS, l1_ratios=(0.0,), cv=folds, scoring="neg_log_loss", class_weight="balanced",
        max_iter=5000, use_legacy_attributes=False))


def fit_feature_model(train: pd.DataFrame, feature_cols: list[str], seed: int):
    """The feature model fitted on ``train`` (label and the session feature columns)."""
    y = train.label.to_numpy()
    return feature_model(seed, int(min(y.sum(), len(y) - y.sum()))).fit(train[feature_cols].to_numpy(float), y)


def linear_form(model, feature_cols: list[str]) -> dict:
    """A fitted feature model as plain numbers (column names, standardisation, coefficients): what a
    checkpoint stores so that ``predict`` can compute its logit without pickled objects."""
    scaler, lr = model[0], model[-1]
    return {"columns": list(feature_cols), "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist(),
            "coef": lr.coef_[0].tolist(), "intercept": float(lr.intercept_[0])}


def linear_logit(form: dict, features: dict) -> float:
    """The feature model's logit for one session's ``features`` ({name: value}) from :func:`linear_form`."""
    x = np.array([float(features[c]) for c in form["columns"]])
    z = (x - np.array(form["mean"])) / np.array(form["scale"])
    return float(z @ np.array(form["coef"]) + form["intercept"])


def fit_predict(name: str, train: pd.DataFrame, test: pd.DataFrame, feature_cols: list[str],
                seed: int, feature_model=None) -> tuple[np.ndarray, np.ndarray]:
    """(score, prediction) for the test participants. ``train``/``test`` carry label, gender,
    valid_fraction, duration_s and the session feature columns. ``feature_model``: the feature
    model already fitted on ``train`` (:func:`fit_feature_model`; the fold fits it once for this
    row and the fused model), else it is fitted here."""
    y = train.label.to_numpy()
    prevalence = float(y.mean())
    n = len(test)
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}")
    if len(np.unique(y)) < 2:  # one class in training: no model can do more than say it
        constant = 1.0 if name == "always_depressed" else prevalence
        return np.full(n, constant), np.full(n, int(constant > 0.5))
    trivial = {"majority": DummyClassifier(strategy="prior"),
               "always_depressed": DummyClassifier(strategy="constant", constant=1),
               "stratified_random": DummyClassifier(strategy="stratified", random_state=seed)}
    if name in trivial:
        model = trivial[name].fit(np.zeros((len(y), 1)), y)
        return model.predict_proba(np.zeros((n, 1)))[:, list(model.classes_).index(1)], model.predict(np.zeros((n, 1)))
    if name == "gender_only":
        cols = sorted(set(train.gender) | set(test.gender))
        X_tr = np.stack([(train.gender == g).to_numpy(float) for g in cols], 1)
        X_te = np.stack([(test.gender == g).to_numpy(float) for g in cols], 1)
    elif name == "data_quality":
        X_tr = train[["valid_fraction", "duration_s"]].to_numpy(float)
        X_te = test[["valid_fraction", "duration_s"]].to_numpy(float)
    else:  # feature_model
        model = feature_model if feature_model is not None else fit_feature_model(train, feature_cols, seed)
        score = model.predict_proba(test[feature_cols].to_numpy(float))[:, 1]
        return score, (score >= 0.5).astype(int)
    model = _lr(seed).fit(X_tr, y)
    score = model.predict_proba(X_te)[:, 1]
    return score, (score >= 0.5).astype(int)


# ---------------------------------------------------------------- model.task: regression (PHQ-8 score)
# The same folds: the training-fold mean and median predictors (trivial: the training mean or
# median score for everyone; AVEC's own baselines were learned
# models) and the feature model as ridge regression on the same functionals.
REGRESSION_BASELINES = ("mean", "median", "ridge")
RIDGE_ALPHAS = np.logspace(-2, 4, 13)  # L2 strengths tried on inner folds


def fit_ridge(train: pd.DataFrame, feature_cols: list[str], seed: int):
    """Standardise, then ridge regression of ``phq_score`` with alpha chosen by inner 5-fold CV on
    squared error within the training fold (the regression counterpart of :func:`feature_model`)."""
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import KFold
    folds = KFold(n_splits=max(2, min(5, len(train))), shuffle=True, random_state=seed)
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=RIDGE_ALPHAS, cv=folds, scoring="neg_mean_squared_error"))
    return model.fit(train[feature_cols].to_numpy(float), train.phq_score.to_numpy(float))


def ridge_form(model, feature_cols: list[str]) -> dict:
    """A fitted ridge pipeline as plain numbers (:func:`linear_form`'s keys): ``predict`` computes
    its score with :func:`linear_logit` (the linear function is the predicted score)."""
    scaler, ridge = model[0], model[-1]
    return {"columns": list(feature_cols), "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist(),
            "coef": np.ravel(ridge.coef_).tolist(), "intercept": float(ridge.intercept_), "alpha": float(ridge.alpha_)}


def predict_score(name: str, train: pd.DataFrame, test: pd.DataFrame, feature_cols: list[str], seed: int,
                  ridge=None) -> np.ndarray:
    """Predicted PHQ-8 scores (clipped to 0-24) of the test participants from ``train``'s
    ``phq_score`` only. ``ridge``: the ridge already fitted on ``train`` (:func:`fit_ridge`)."""
    y = train.phq_score.to_numpy(float)
    if name == "mean":
        return np.full(len(test), float(y.mean()))
    if name == "median":
        return np.full(len(test), float(np.median(y)))
    if name != "ridge":
        raise ValueError(f"unknown regression baseline {name!r}")
    model = ridge if ridge is not None else fit_ridge(train, feature_cols, seed)
    return np.clip(model.predict(test[feature_cols].to_numpy(float)), 0.0, 24.0)
