"""Scoring new sessions with a finished run: every fold model's output, combined as the run's task
says (:mod:`task`). ``pseudoface predict --run DIR FILE...``."""
from __future__ import annotations

from pathlib import Path

import torch

from . import runs
from ..encoding.encode import encode_session
from ..params import params_from_dict
from ..corpora.read import detect, read_one_session
from .task import task_of
from ..corpora.textio import DataError
from .train import score


def predict_paths(run: Path, paths: list[str]) -> tuple[list[tuple], list[str], tuple]:
    """Score sessions with every fold model of a run, as the run's task does it
    (:meth:`task.BinaryTask.predict`: probability and screen of the network and the fused model;
    :meth:`task.RegressionTask.predict`: the predicted PHQ-8 scores and their screens at >= 10).

    Returns ([(participant_id, *values)], problems, the value columns' names); one problem per bad path."""
    models, meta = runs.load_models(Path(run))
    params = params_from_dict(meta["config"])
    task = task_of(params)
    rows, problems = [], []
    for raw in paths:
        try:
            _, dataset = detect(Path(raw))
            session = read_one_session(Path(raw), dataset, params)
            encoded = encode_session(session, params)
            images = {"x": encoded.images}
            if images["x"].shape[0] == 0:
                raise DataError(f"{raw}: no usable pseudo-image window")
            outputs = [score(m.network, images, ["x"], params, torch.device("cpu"))[0] for m in models]
            rows.append((session.participant_id, *task.predict(models, outputs, encoded.features)))
        except DataError as exc:
            problems.append(str(exc))
    return rows, problems, task.predict_columns
