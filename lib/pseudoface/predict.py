"""Scoring new sessions with a finished run: every fold model's (calibrated) logit, averaged, and
the median fold threshold. ``pseudoface predict --run DIR FILE...``."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from scipy.special import expit

from . import runs
from .baselines import linear_logit
from .fusion import fuse_scores, fused_logit
from .encode import encode_session
from .params import params_from_dict
from .read import detect, read_one_session
from .textio import DataError
from .train import PHQ8_MAX, SCREEN_CUTOFF, predicted_score, score


def predict_paths(run: Path, paths: list[str]) -> tuple[list[tuple[str, float, int, float, int]], list[str]]:
    """Score sessions with every fold model of a run.

    Network: each fold's calibrated logit, averaged; decided at the median fold threshold. Fused
    model: each fold's fused logit (its weight, its feature model), averaged; decided at 0.5.
    Returns ([(participant_id, probability, prediction, fused probability, fused prediction)],
    problems); one problem per bad path. A ``model.task: regression`` run: the PHQ-8 scores
    (:func:`predict_scores`), (participant_id, predicted score, screen, fused score, fused screen)."""
    models, meta = runs.load_models(Path(run))
    params = params_from_dict(meta["config"])
    threshold = float(np.median([m.threshold for m in models]))
    rows, problems = [], []
    for raw in paths:
        try:
            _, dataset = detect(Path(raw))
            session = read_one_session(Path(raw), dataset, params)
            encoded = encode_session(session, params)
            images = {"x": encoded.images}
            if images["x"].shape[0] == 0:
                raise DataError(f"{raw}: no usable pseudo-image window")
            raw_logits = [score(m.network, images, ["x"], params, torch.device("cpu"))[0] for m in models]
            if params.model.task == "regression":
                rows.append((session.participant_id, *predict_scores(models, raw_logits, encoded.features)))
                continue
            # each fold model's calibrated logit, averaged (identity map unless calibration: platt)
            prob = float(expit(np.mean([m.platt[0] * z + m.platt[1] for m, z in zip(models, raw_logits)])))
            fused = float(expit(np.mean([fused_logit(linear_logit(m.feature_model, encoded.features), z, m.fusion_weight)
                                         for m, z in zip(models, raw_logits)])))
            rows.append((session.participant_id, prob, int(prob >= threshold), fused, int(fused >= 0.5)))
        except DataError as exc:
            problems.append(str(exc))
    return rows, problems


def predict_scores(models: list, outputs: list, features: dict) -> tuple[float, int, float, int]:
    """A regression run's (predicted PHQ-8, screen, fused PHQ-8, fused screen) for one session: each
    fold network's output mapped to its fold's score scale and clipped, averaged over folds; the
    fused score per fold from that fold's ridge (its linear form) and weight, averaged; screens at >= 10."""
    network = [float(predicted_score(z, m.target_scale)) for m, z in zip(models, outputs)]
    ridge = [float(np.clip(linear_logit(m.feature_model, features), 0.0, PHQ8_MAX)) for m in models]
    fused = [float(fuse_scores(r, n, m.fusion_weight)) for m, r, n in zip(models, ridge, network)]
    value, fused_value = float(np.mean(network)), float(np.mean(fused))
    return value, int(value >= SCREEN_CUTOFF), fused_value, int(fused_value >= SCREEN_CUTOFF)
