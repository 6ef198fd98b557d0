"""Scoring new sessions with a finished run: every fold model's (calibrated) logit, averaged, and
the median fold threshold. ``pseudoface predict --run DIR FILE...``."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from scipy.special import expit

from . import runs
from .encode import encode_session
from .params import params_from_dict
from .read import detect, read_one_session
from .textio import DataError
from .train import score_participants


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
