"""E-DAIC (AVEC 2019) reader (a leaf): ``NNN_P/features/NNN_OpenFace2.1.0_Pose_gaze_AUs.csv`` + split CSVs.

E-DAIC ships **no landmarks**: a session carries named per-frame series instead: head pose (6:
pose_Tx/Ty/Tz mm, pose_Rx/Ry/Rz rad), gaze (8: two eye vectors + two angles, rad) and 17 AU
intensities (``_r``, 0-5). Labels: ``train_split.csv``, ``dev_split.csv``, ``test_split.csv``.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .corpus import SERIES_LAYOUTS, Session, frame_flags
from .labels import read_split_labels
from ..params import Params
from .textio import DataError, describe_source, read_columns, read_header

FORMAT = "e_daic"
FEATURE_FILE = "{pid}_OpenFace2.1.0_Pose_gaze_AUs.csv"
LAYOUT = "NNN_P/features/" + FEATURE_FILE.format(pid="NNN")
LABEL_FILES = (("train_split.csv", "train", True), ("dev_split.csv", "dev", True), ("test_split.csv", "test", True))
QUIRKS = pd.DataFrame(columns=["participant_id", "quirk", "mask_start_s", "mask_end_s"])  # none documented
_SESSION_DIR = re.compile(r"^(\d+)_P$")


def find_sessions(root: Path) -> tuple[dict, list]:
    """participant_id -> feature CSV path; no notes (E-DAIC has no archives)."""
    found = {}
    for entry in sorted(root.iterdir()):
        m = _SESSION_DIR.match(entry.name)
        if m and entry.is_dir():
            path = entry / "features" / FEATURE_FILE.format(pid=m.group(1))
            if path.is_file():
                found[str(int(m.group(1)))] = path
    return found, []


def session_from_path(path: Path) -> tuple[str, Path]:
    """(participant_id, source) for a session folder ``NNN_P`` or its feature CSV."""
    m = re.match(r"^(\d+)", path.name)
    if m is None:
        raise DataError(f"{path}: expected a name starting with the participant number (NNN_P, {FEATURE_FILE.format(pid='NNN')})")
    source = path / "features" / FEATURE_FILE.format(pid=m.group(1)) if path.is_dir() else path
    if not source.is_file():
        raise DataError(f"{source}: file not found")
    return str(int(m.group(1))), source


def read_session(pid: str, source, params: Params, mask_quirks: bool = False) -> Session:
    """One OpenFace 2.1 pose/gaze/AU CSV -> Session with (T, S) float32 series: the 31 of
    ``corpus.SERIES`` (data.signals: full_series, the default) or the 27 both corpora share
    (``corpus.SHARED_SERIES``: shared_series)."""
    names = SERIES_LAYOUTS["shared_series" if params.data.signals == "shared_series" else "full_series"]
    header = set(read_header(source))
    base = ["timestamp", "confidence", "success"]
    missing = [c for c in base + list(names) if c not in header]
    if missing:
        raise DataError(f"{describe_source(source)}: line 1: missing column(s) {', '.join(missing[:5])}"
                        " (expected OpenFace 2.1 pose, gaze and AU columns)")
    matrix, n_bad = read_columns(source, base + list(names), bad_cells=params.data.bad_cells,
                                 cache_root=params.data.cache_dir)
    timestamps, confidence, success, valid = frame_flags(matrix, params.data.confidence_threshold)
    return Session(FORMAT, pid, describe_source(source), timestamps, confidence,
                   success, valid, params.data.fps, series=matrix[:, 3:], series_names=names, bad_cells=n_bad)


def read_labels(labels_dir: Path, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels from the E-DAIC split CSVs present -> (labels, disagreements)."""
    return read_split_labels(labels_dir, LABEL_FILES, ("Participant_ID", "participant_ID", "participant_id"),
                             ("PHQ_Score", "PHQ8_Score"), ("PHQ_Binary", "PHQ8_Binary"), params.data.gender_codes,
                             params.data.label_rule)
