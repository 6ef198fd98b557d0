"""The prediction task a run cross-validates (``model.task``): the binary screen (PHQ-8 >= 10) or the
PHQ-8 score. One type per task owns everything that differs between the two, so that the fold job
(:mod:`fold`), the trainer (:mod:`train`), the run folder (:mod:`runs`) and ``predict`` each hold one
code path and ask the task:

- **targets**: what a fold fits on (0/1 labels or PHQ-8 scores), their shuffled-label permutation,
  and the 0/1 strata its inner split keeps (the label; for scores, score >= 10);
- **objective**: the network's training loss on its outputs and the inner-validation loss that
  chooses the epoch (:class:`Objective`);
- **decision rule** (:class:`ProbabilityRule`, :class:`ScoreRule`): how outputs become the screen's
  ranking score (the ``score`` column, in 0-1) and decision (``prediction`` = score >= ``threshold``,
  a cut on that same column in both tasks);
- **beside models**: the baselines, the feature model and the fused model fitted on the same split;
- **result**: the predictions row, the run's own ``metrics.json`` keys, the ``predict`` output.

Every choice (threshold, calibration, score scale) is made from inner-training or inner-validation
participants only; the outer test fold never reaches this module except as rows to predict.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy.special import expit

from .baselines import (BASELINES, REGRESSION_BASELINES, fit_feature_model, fit_predict, fit_ridge, linear_logit, predict_score, ridge_form)
from .evaluate import best_threshold, macro_f1, regression_summary
from .intervals import paired_difference, test_fraction
from .fusion import REGRESSION_WEIGHT, fuse, fuse_scores, fused_logit
from ..corpora.labels import task_labels, unlabelled_reason
from ..params import Params

PHQ8_MAX = 24.0  # eight items scored 0-3
SCREEN_CUTOFF = 10.0  # PHQ-8 >= 10: the binary screen, derived from a predicted score
HUBER_DELTA = 1.0  # in training SDs of the score (~5-6 PHQ-8 points)


# ---------------------------------------------------------------- losses and maps the tasks use

def loss_fn(logits: torch.Tensor, y: torch.Tensor, pos_weight: float) -> torch.Tensor:
    """Binary cross-entropy on logits with the positive class weighted by ``pos_weight``."""
    pw = torch.tensor(pos_weight, dtype=logits.dtype, device=logits.device)
    return F.binary_cross_entropy_with_logits(logits, y, pos_weight=pw)


def regression_loss(outputs: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Huber loss on standardised scores: quadratic within one SD, linear beyond, so the few severe
    scores (PHQ-8 near 20-24 lie 2-3 SDs out) pull the fit less than under MSE while the many
    moderate errors are weighed as by MSE."""
    return F.huber_loss(outputs, z, delta=HUBER_DELTA)


def fit_platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) of sigmoid(a * logit + b) by logistic regression on inner-validation participants,
    with a mild L2 penalty (few participants); identity when a class is missing or the fit would
    reverse the ranking. A monotone map: decisions at the inner-validation threshold, ROC-AUC and
    macro-F1 are unchanged; only the probabilities (Brier score, reliability) change."""
    from sklearn.linear_model import LogisticRegression
    if len(np.unique(y)) < 2:
        return 1.0, 0.0
    lr = LogisticRegression(C=1.0).fit(np.asarray(logits, float)[:, None], np.asarray(y, int))
    a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    # a <= 0 would reverse (or erase) the network's ranking on the strength of a dozen participants:
    # no usable calibration then, keep the identity
    return (a, b) if a > 0 else (1.0, 0.0)


def score_scale(scores: np.ndarray) -> tuple[float, float]:
    """(mean, SD) of the inner-training participants' PHQ-8 scores: the network's output is the
    score standardised by them (an SD below 1 point, e.g. a tiny fold, counts as 1)."""
    scores = np.asarray(scores, float)
    return float(scores.mean()), float(max(scores.std(), 1.0))


def predicted_score(outputs, scale: tuple) -> np.ndarray:
    """Network outputs (standardised scores) -> PHQ-8 scores clipped to 0-24."""
    return np.clip(scale[0] + scale[1] * np.asarray(outputs, float), 0.0, PHQ8_MAX)


def screen_of_scores(predicted) -> dict:
    """A predicted PHQ-8 score's screen in the binary result's shape: ``score`` = predicted / 24 (a
    0-1 ranking score for ROC-AUC, not a probability), ``prediction`` = predicted >= 10."""
    predicted = np.asarray(predicted, float)
    return {"score": [float(v / PHQ8_MAX) for v in predicted],
            "prediction": [int(v >= SCREEN_CUTOFF) for v in predicted],
            "predicted_score": [float(v) for v in predicted]}


# ---------------------------------------------------------------- decision rules (what a fold model keeps)

@dataclass(frozen=True)
class ProbabilityRule:
    """Binary task: score = sigmoid(a * logit + b) (``platt``; the identity unless
    ``train.calibration: platt``), screen = score >= ``threshold`` (the inner-validation macro-F1-best
    cut). ``pos_weight``: the BCE weight the network trained with (recorded only)."""
    threshold: float
    platt: tuple = (1.0, 0.0)
    pos_weight: float = 1.0

    @property
    def affine(self) -> tuple:
        """(a, b): the explained output, the calibrated logit, is a * logit + b."""
        return self.platt

    def calibrated_logit(self, logits):
        return self.platt[0] * np.asarray(logits) + self.platt[1]

    def scores(self, logits) -> np.ndarray:
        return expit(self.calibrated_logit(logits))

    def screen(self, logits) -> dict:
        prob = self.scores(logits)
        return {"score": [float(p) for p in prob], "prediction": [int(d) for d in prob >= self.threshold]}

    def record(self) -> dict:
        return {"threshold": self.threshold, "platt": list(self.platt), "pos_weight": self.pos_weight}


@dataclass(frozen=True)
class ScoreRule:
    """Regression task: predicted PHQ-8 = clip(mean + SD * output, 0, 24) (``scale``: the
    inner-training participants' mean and SD); score = predicted / 24; screen = predicted >= 10, i.e.
    score >= :attr:`threshold` = 10 / 24, the same cut-on-the-score meaning as the binary rule's."""
    scale: tuple = (0.0, 1.0)
    threshold: float = SCREEN_CUTOFF / PHQ8_MAX

    @property
    def affine(self) -> tuple:
        """(a, b): the explained output, the predicted PHQ-8 before clipping, is a * output + b."""
        return self.scale[1], self.scale[0]

    def predicted(self, outputs) -> np.ndarray:
        return predicted_score(outputs, self.scale)

    def screen(self, outputs) -> dict:
        return screen_of_scores(self.predicted(outputs))

    def record(self) -> dict:
        return {"threshold": self.threshold, "target_scale": list(self.scale)}


@dataclass
class Objective:
    """What the trainer needs of a task for one inner split."""
    targets: np.ndarray  # (n_inner_train,) float32: what the training loss compares outputs with
    loss: Callable  # (outputs (B,), targets (B,)) tensors -> the training loss
    val_loss: Callable  # inner-validation outputs (n,) -> the loss that chooses the epoch
    val_macro_f1: Callable  # inner-validation outputs (n,) -> macro-F1 of the screen (for the history)
    # (a function giving the chosen model's inner-validation outputs (n,), params) -> the fold's decision rule
    rule: Callable


class Task:
    """What both tasks share; :class:`BinaryTask` and :class:`RegressionTask` fill in the rest."""
    name = ""
    dtype: type = float
    predict_columns: tuple = ()

    def truth(self, table: pd.DataFrame) -> dict:
        raise NotImplementedError

    def training_targets(self, targets: dict, train_ids: list, params: Params, repeat: int, fold: int) -> dict:
        """The targets a fold fits on: ``targets`` itself, or in the k-th shuffled-label run
        (``cv.label_permutation`` k >= 1) with the ``train_ids`` participants' targets permuted among
        them (class counts or the score distribution kept) by a generator seeded with (k, repeat,
        fold, cv.seed); every other participant (the test fold) keeps its own."""
        k = params.cv.label_permutation
        if not k:
            return targets
        rng = np.random.default_rng([k, repeat, fold, params.cv.seed % 2 ** 32])
        permuted = rng.permutation(np.array([targets[p] for p in train_ids], self.dtype))
        return {**targets, **{p: self.dtype(v) for p, v in zip(train_ids, permuted)}}

    def strata(self, targets: dict) -> dict:
        """{participant_id: 0/1}: what the inner split stratifies by and the binary baselines fit."""
        raise NotImplementedError

    def row_extra(self, truth, network: dict, i: int) -> dict:
        """The task's own columns of the i-th test participant's predictions row (``network``: the
        rule's screen of the test fold, ``truth``: the participant's true target)."""
        return {}

    def fitted_table(self, train: pd.DataFrame, targets: dict, train_ids: list) -> pd.DataFrame:
        """The outer-training rows (in ``train_ids`` order) with the targets the fold fits: ``label``
        (the strata), and for scores ``phq_score``."""
        strata = self.strata(targets)
        train["label"] = [strata[p] for p in train_ids]
        return train

    def fold_record(self, targets: dict, train_ids: list) -> dict:
        """What a shuffled-label fold's JSON records of the targets it fitted."""
        strata = self.strata(targets)
        return {"train_labels": [int(strata[p]) for p in train_ids]}

    def labels(self, labels: pd.DataFrame, labels_dir) -> pd.DataFrame:
        """The corpus's label table as this task needs it (``label`` -1: excluded): what
        :func:`read.load_corpus` applies, defined beside the label files' reader (:data:`labels.TASK_LABELS`)."""
        return task_labels(labels, labels_dir, self.name)

    def unlabelled_reason(self, source: str) -> str:
        return unlabelled_reason(source, self.name)

    def outputs(self, results: list, predictions: pd.DataFrame, params: Params, n_participants: int) -> dict:
        """The task's own ``metrics.json`` keys (predictions columns added in place); ``n_participants``:
        the run's, for the corrected t's test fraction."""
        return {"task": self.name}


class BinaryTask(Task):
    """PHQ-8 >= 10 (or the file's binary, ``data.label_rule``): weighted BCE on the network's logit,
    the epoch by inner-validation BCE, a Platt map (optional) and the macro-F1-best threshold on
    inner-validation probabilities."""
    name = "binary"
    dtype = int
    predict_columns = ("score", "prediction", "fused_score", "fused_prediction")

    def truth(self, table: pd.DataFrame) -> dict:
        return dict(zip(table.participant_id, table.label))

    def strata(self, targets: dict) -> dict:
        return targets

    def objective(self, targets: dict, train_ids: list, val_ids: list) -> Objective:
        y_train = np.array([targets[p] for p in train_ids], dtype=np.float32)
        pos_weight = float((len(y_train) - y_train.sum()) / max(1.0, float(y_train.sum())))  # once per fold, inner-train only
        y_val = np.array([targets[p] for p in val_ids])

        def rule(val_outputs, params: Params) -> ProbabilityRule:
            val_logits = val_outputs()
            platt = fit_platt(val_logits, y_val) if params.train.calibration == "platt" else (1.0, 0.0)
            uncut = ProbabilityRule(0.5, platt, pos_weight)
            return ProbabilityRule(best_threshold(y_val, uncut.scores(val_logits)), platt, pos_weight)
        return Objective(
            y_train, lambda out, y: loss_fn(out, y, pos_weight),
            lambda logits: loss_fn(torch.from_numpy(logits).float(), torch.from_numpy(y_val).float(), pos_weight),
            lambda logits: macro_f1(y_val, (logits >= 0).astype(int)), rule)

    def beside(self, train: pd.DataFrame, test: pd.DataFrame, feature_cols: list, seed: int,
               network_test: np.ndarray, rule: ProbabilityRule) -> dict:
        """Every baseline and the fused model (of the raw ``network_test`` logits) on the fold's split
        (``train.label``: what was fitted)."""
        feature = fit_feature_model(train, feature_cols, seed)  # once: its own row and the fused model's part
        base = {}
        for name in BASELINES:
            bscore, bpred = fit_predict(name, train, test, feature_cols, seed, feature_model=feature)
            base[name] = {"score": [float(s) for s in bscore], "prediction": [int(b) for b in bpred]}
        return {"baselines": base, "fused": fuse(feature, test, feature_cols, network_test)}

    def predict(self, models: list, outputs: list, features: dict) -> tuple:
        """(probability, screen, fused probability, fused screen) of one new session: each fold's
        calibrated logit averaged, decided at the median fold threshold; each fold's fused logit (its
        weight, its feature model) averaged, decided at 0.5."""
        threshold = float(np.median([m.rule.threshold for m in models]))
        prob = float(expit(np.mean([m.rule.calibrated_logit(z) for m, z in zip(models, outputs)])))
        fused = float(expit(np.mean([fused_logit(linear_logit(m.feature_model, features), z, m.fusion_weight)
                                     for m, z in zip(models, outputs)])))
        return prob, int(prob >= threshold), fused, int(fused >= 0.5)

    @staticmethod
    def rule_from(meta: dict) -> ProbabilityRule:
        a, b = meta.get("platt", (1.0, 0.0))
        return ProbabilityRule(float(meta["threshold"]), (float(a), float(b)), float(meta.get("pos_weight", 1.0)))

    def headline(self, metrics: dict) -> str:
        return ""


class RegressionTask(Task):
    """The PHQ-8 score: the network's one output read as the score standardised by the
    inner-training participants' mean and SD, Huber loss, the epoch by inner-validation Huber loss,
    no threshold or calibration (the screen is the predicted score >= 10); the mean, median and ridge
    baselines and the fused score (the average of ridge and network) on the same split. The binary
    baselines are fitted on the derived labels as in a binary run; their ``feature_model`` row is the
    ridge's derived screen."""
    name = "regression"
    dtype = float
    predict_columns = ("predicted_score", "prediction", "fused_predicted_score", "fused_prediction")

    def truth(self, table: pd.DataFrame) -> dict:
        return {p: float(v) for p, v in zip(table.participant_id, table.phq_score)}

    def strata(self, targets: dict) -> dict:
        return {p: int(v >= SCREEN_CUTOFF) for p, v in targets.items()}

    def row_extra(self, truth, network: dict, i: int) -> dict:
        return {"true_score": truth, "predicted_score": network["predicted_score"][i]}

    def fitted_table(self, train: pd.DataFrame, targets: dict, train_ids: list) -> pd.DataFrame:
        train = super().fitted_table(train, targets, train_ids)
        train["phq_score"] = [targets[p] for p in train_ids]
        return train

    def fold_record(self, targets: dict, train_ids: list) -> dict:
        return super().fold_record(targets, train_ids) | {"train_scores": [targets[p] for p in train_ids]}

    def objective(self, targets: dict, train_ids: list, val_ids: list) -> Objective:
        raw_train = np.array([targets[p] for p in train_ids], dtype=float)
        scale = score_scale(raw_train)  # once per fold, inner-train only
        z_train = ((raw_train - scale[0]) / scale[1]).astype(np.float32)
        raw_val = np.array([targets[p] for p in val_ids], dtype=float)
        z_val = torch.from_numpy((raw_val - scale[0]) / scale[1]).float()
        return Objective(
            z_train, regression_loss, lambda out: regression_loss(torch.from_numpy(out).float(), z_val),
            lambda out: macro_f1((raw_val >= SCREEN_CUTOFF).astype(int),
                                 (predicted_score(out, scale) >= SCREEN_CUTOFF).astype(int)),
            lambda val_outputs, params: ScoreRule(scale))

    def beside(self, train: pd.DataFrame, test: pd.DataFrame, feature_cols: list, seed: int,
               network_test: np.ndarray, rule: ScoreRule) -> dict:
        """The regression baselines, the binary baselines on the derived labels (``train.label``) and
        the fused score; ``train.phq_score``: the scores fitted."""
        ridge = fit_ridge(train, feature_cols, seed)  # once: its own row and the fused model's part
        regression = {name: screen_of_scores(predict_score(name, train, test, feature_cols, seed, ridge=ridge))
                      for name in REGRESSION_BASELINES}
        base = {}
        for name in BASELINES:
            if name == "feature_model":
                base[name] = {k: regression["ridge"][k] for k in ("score", "prediction")}
                continue
            bscore, bpred = fit_predict(name, train, test, feature_cols, seed)
            base[name] = {"score": [float(s) for s in bscore], "prediction": [int(b) for b in bpred]}
        fused = screen_of_scores(fuse_scores(regression["ridge"]["predicted_score"], rule.predicted(network_test)))
        fused |= {"weight": REGRESSION_WEIGHT, "feature_model": ridge_form(ridge, feature_cols)}
        return {"baselines": base, "regression_baselines": regression, "fused": fused}

    def predict(self, models: list, outputs: list, features: dict) -> tuple:
        """(predicted PHQ-8, screen, fused PHQ-8, fused screen) of one new session: each fold
        network's output on its fold's scale, clipped, averaged over folds; the fused score per fold
        from that fold's ridge (its linear form) and weight, averaged; screens at >= 10."""
        network = [float(m.rule.predicted(z)) for m, z in zip(models, outputs)]
        ridge = [float(np.clip(linear_logit(m.feature_model, features), 0.0, PHQ8_MAX)) for m in models]
        fused = [float(fuse_scores(r, n, m.fusion_weight)) for m, r, n in zip(models, ridge, network)]
        value, fused_value = float(np.mean(network)), float(np.mean(fused))
        return value, int(value >= SCREEN_CUTOFF), fused_value, int(fused_value >= SCREEN_CUTOFF)

    @staticmethod
    def rule_from(meta: dict) -> ScoreRule:
        return ScoreRule(tuple(float(v) for v in meta["target_scale"]))

    def outputs(self, results: list, predictions: pd.DataFrame, params: Params, n_participants: int) -> dict:
        """``task``, ``regression``, ``regression_baselines``, ``regression_fused_model``,
        ``paired_mae_vs_mean`` and the predictions columns, added in place: ``true_score``,
        ``predicted_score`` (the network's, already there), ``feature_predicted_score`` (ridge),
        ``fused_predicted_score``, ``mean_predicted_score``, ``median_predicted_score``. The derived
        screen (``prediction``, ``macro_f1`` ...) keeps the binary task's names."""
        def column(of) -> np.ndarray:
            return np.array([v for r in results for v in of(r)["predicted_score"]], float)
        predictions["feature_predicted_score"] = column(lambda r: r["regression_baselines"]["ridge"])
        predictions["fused_predicted_score"] = column(lambda r: r["fused"])
        for name in ("mean", "median"):
            predictions[f"{name}_predicted_score"] = column(lambda r, name=name: r["regression_baselines"][name])
        first = predictions[predictions.repeat == predictions.repeat.min()]
        fraction = test_fraction(first.groupby("fold").size(), n_participants)
        cols = {"network": "predicted_score", "ridge": "feature_predicted_score", "fused": "fused_predicted_score",
                "mean": "mean_predicted_score", "median": "median_predicted_score"}
        summary = {name: regression_summary(predictions, params.cv.bootstrap if name == "network" else 200,
                                            params.cv.seed, col, n_participants) for name, col in cols.items()}
        return {
            "task": self.name,
            # the network's PHQ-8 score: rmse, mae, ccc, pearson each {mean, std (ddof 1), folds, pooled, ci95}
            "regression": summary["network"],
            "regression_baselines": {name: summary[name] for name in ("mean", "median", "ridge")},
            "regression_fused_model": summary["fused"] | {"weight": results[0]["fused"]["weight"]},
            # each model's per-fold MAE minus the training-fold mean predictor's (negative: better): the mean
            # of the per-fold differences, their SD and the corrected t interval (intervals.paired_difference)
            "paired_mae_vs_mean": {name: paired_difference(summary[name]["mae"]["folds"], summary["mean"]["mae"]["folds"],
                                                           fraction) for name in ("network", "ridge", "fused", "median")},
            "target_scales": [r["target_scale"] for r in results],
        }

    def headline(self, metrics: dict) -> str:
        """The PHQ-8 score's line above the derived screen's in ``pseudoface cv``."""
        from .intervals import CORRECTED_T, CORRECTED_T_KEY
        r, mean = metrics["regression"], metrics["regression_baselines"]["mean"]
        return ("PHQ-8 score, mean ± SD over folds (95% CI of the mean, " + CORRECTED_T + "): "
                + ", ".join(f"{k.upper()} {r[k]['mean']:.2f} ± {r[k]['std']:.2f} "
                            f"({r[k][CORRECTED_T_KEY][0]:.2f} to {r[k][CORRECTED_T_KEY][1]:.2f})"
                            for k in ("rmse", "mae", "ccc", "pearson"))
                + f"; training-fold mean predictor MAE {mean['mae']['mean']:.2f}. Derived screen at >= 10:")


TASKS = {"binary": BinaryTask(), "regression": RegressionTask()}


def task_of(params: Params) -> Task:
    """The task ``model.task`` names."""
    return TASKS[params.model.task]


def task_named(name: str | None) -> Task:
    """The task a ``metrics.json`` or checkpoint records (``task``; runs before it was recorded: binary)."""
    return TASKS[name or "binary"]
