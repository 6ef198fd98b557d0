"""OpenFace 2.x FeatureExtraction CSVs from a user's own videos (dataset name ``openface``; a leaf reader).

Layout: a folder of ``<participant_id>.csv`` files plus ``labels.csv`` with ``participant_id``,
``label`` (0/1) or ``score`` (PHQ-8), optional ``gender`` and ``split``. Columns are read by name:
with or without ``face_id``, with ``", "`` separators, with or without the optional 2-D or ``p_*``
blocks. Landmarks are ``X_0..X_67, Y_0..Y_67, Z_0..Z_67`` (mm). Frame rate: a file whose
timestamps rise strictly (a video's, and ``pseudoface extract``'s output) gives its own, 1 / the
median step, so clips at 23.976, 25 or 30 fps (or extracted with ``--every N``) are all timed
right, when that rate is a camera's (1-120 fps); otherwise ``data.fps``: OpenFace's timestamps
for an image sequence are zeros, repeats or made-up steps (its own test file steps 1 ms).

:func:`write_csv` writes this layout (``pseudoface extract`` and the synthetic E-DAIC corpus).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .corpus import SERIES, Session, frame_flags
from .labels import LABEL_COLUMNS, apply_label_rule, normalise_gender
from ..params import Params
from .textio import DataError, describe_source, read_columns, read_header, write_columns

FORMAT = "openface"
LAYOUT = "<participant_id>.csv files and labels.csv"
LABEL_FILE = "labels.csv"
LANDMARKS = [f"{a}_{i}" for a in "XYZ" for i in range(68)]
QUIRKS = pd.DataFrame(columns=["participant_id", "quirk", "mask_start_s", "mask_end_s"])  # none documented


def find_sessions(root: Path) -> tuple[dict, list]:
    """participant_id (the file stem) -> CSV path, every ``*.csv`` but ``labels.csv``."""
    return {p.stem: p for p in sorted(root.glob("*.csv")) if p.name != LABEL_FILE}, []


def session_from_path(path: Path) -> tuple[str, Path]:
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    return path.stem, path


def read_session(pid: str, source, params: Params, mask_quirks: bool = False) -> Session:
    """One OpenFace 2.x CSV -> Session with (T, 68, 3) landmarks (+ pose/gaze/AU series if present)."""
    header = set(read_header(source))
    base = ["timestamp", "confidence", "success"]
    missing = [c for c in base + LANDMARKS if c not in header]
    if missing:
        raise DataError(f"{describe_source(source)}: line 1: missing column(s) {', '.join(missing[:5])}"
                        " (expected OpenFace 2.x 3-D landmarks X_0..Z_67)")
    extra = [c for c in SERIES if c in header]  # optional pose / gaze / AU blocks
    matrix, n_bad = read_columns(source, base + LANDMARKS + extra, bad_cells=params.data.bad_cells,
                                 cache_root=params.data.cache_dir)
    T = matrix.shape[0]
    landmarks = matrix[:, 3:3 + 204].reshape(T, 68, 3, order="F")  # X_*, Y_*, Z_* blocks -> (T, 68, 3)
    timestamps, confidence, success, valid = frame_flags(matrix, params.data.confidence_threshold, n_values=204)
    series = matrix[:, 3 + 204:] if extra else None
    return Session(FORMAT, pid, describe_source(source), timestamps, confidence, success, valid,
                   frame_rate(timestamps, params.data.fps),
                   landmarks=landmarks, series=series, series_names=tuple(extra), bad_cells=n_bad)


def write_csv(path: Path, timestamps: np.ndarray, confidence: np.ndarray, success: np.ndarray,
              columns: dict[str, np.ndarray]) -> None:
    """One OpenFace 2.x FeatureExtraction CSV (``", "`` separators), atomically: ``frame`` (1-based),
    ``face_id`` 0, ``timestamp`` (s, to 3 decimals), ``confidence`` (to 2 decimals), ``success``
    (0/1), then ``columns`` (name -> (T,) values, written as given) in their order."""
    T = len(timestamps)
    write_columns(path, ["frame", "face_id", "timestamp", "confidence", "success", *columns],
                  [np.arange(1, T + 1), np.zeros(T, np.int64), np.round(timestamps, 3), np.round(confidence, 2),
                   np.asarray(success, np.int64), *columns.values()])


def frame_rate(timestamps: np.ndarray, default: float) -> float:
    """1 / median timestamp step when the timestamps rise strictly (seconds) at a camera's rate
    (1-120 fps), else ``default``."""
    steps = np.diff(np.asarray(timestamps, dtype=np.float64))
    if len(steps) < 2 or not np.all(np.isfinite(steps)) or np.any(steps <= 0):
        return float(default)
    fps = 1.0 / float(np.median(steps))
    return fps if 1.0 <= fps <= 120.0 else float(default)


def read_labels(labels_dir: Path, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``labels.csv``: participant_id, label (0/1) or score (PHQ-8), optional gender and split."""
    path = Path(labels_dir) / LABEL_FILE
    if not path.is_file():
        raise DataError(f"{path}: labels file not found (participant_id, label or score, optional gender)")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    table.columns = [c.strip() for c in table.columns]
    if "participant_id" not in table.columns:
        raise DataError(f"{path}: line 1: missing column 'participant_id'")
    if "label" not in table.columns and "score" not in table.columns:
        raise DataError(f"{path}: line 1: missing column 'label' or 'score'")
    rows, seen = [], {}
    for i, rec in enumerate(table.to_dict("records")):
        pid = rec["participant_id"].strip()
        if pid in seen:
            raise DataError(f"{path}: line {i + 2}: duplicated participant {pid} (also line {seen[pid]})")
        seen[pid] = i + 2
        values = {}
        for col in ("score", "label"):
            cell = str(rec.get(col, "")).strip()
            try:
                values[col] = float(cell) if cell else np.nan
            except ValueError:
                raise DataError(f"{path}: line {i + 2}, column '{col}': expected a number, got {cell!r}") from None
        rows.append((pid, rec.get("split", "") or "all", values["score"], values["label"], -1,
                     normalise_gender(rec.get("gender"), params.data.gender_codes), f"{path.name}:{i + 2}"))
    labels = pd.DataFrame(rows, columns=LABEL_COLUMNS)
    rule = params.data.label_rule if labels["phq_score"].notna().any() else "file_binary"
    return apply_label_rule(labels, rule)
