"""Scoring new sessions with a finished run: every fold model's (calibrated) logit, averaged, and
the median fold threshold. ``pseudoface predict --run DIR FILE...``."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from scipy.special import expit

from . import runs
from .baselines import linear_logit
from .fusion import fused_logit
from .encode import encode_session
from .params import params_from_dict
from .read import detect, read_one_session
from .textio import DataError
from .train import score


def predict_paths(run: Path, paths: list[str]) -> tuple[list[tuple[str, float, int, float, int]], list[str]]:
    """Score sessions with every fold model of a run.

    Network: each fold's calibrated logit, averaged; decided at the median fold threshold. Fused
    model: each fold's fused logit (its weight, its feature model), averaged; decided at 0.5.
    Returns ([(participant_id, probability, prediction, fused probability, fused prediction)],
    problems); one problem per bad path."""
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
            # each fold model's calibrated logit, averaged (identity map unless calibration: platt)
            prob = float(expit(np.mean([m.platt[0] * z + m.platt[1] for m, z in zip(models, raw_logits)])))
            fused = float(expit(np.mean([fused_logit(linear_logit(m.feature_model, encoded.features), z, m.fusion_weight)
                                         for m, z in zip(models, raw_logits)])))
            rows.append((session.participant_id, prob, int(prob >= threshold), fused, int(fused >= 0.5)))
        except DataError as exc:
            problems.append(str(exc))
    return rows, problems
