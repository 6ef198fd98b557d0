"""E-DAIC (AVEC 2019) reader: ``NNN_P/features/NNN_OpenFace2.1.0_Pose_gaze_AUs.csv`` + split CSVs.

E-DAIC ships **no landmarks**: a session carries named per-frame series instead: head pose (6:
pose_Tx/Ty/Tz mm, pose_Rx/Ry/Rz rad), gaze (8: two eye vectors + two angles, rad) and 17 AU
intensities (``_r``, 0-5). Labels: ``train_split.csv``, ``dev_split.csv``, ``test_split.csv``.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .corpus import (Corpus, Session, apply_label_rule, build_corpus, merge_label_tables,
                     read_label_table, frame_flags)
from .params import Params
from .textio import DataError, describe_source, read_columns, read_header

FEATURE_FILE = "{pid}_OpenFace2.1.0_Pose_gaze_AUs.csv"
POSE = ("pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz")
GAZE = ("gaze_0_x", "gaze_0_y", "gaze_0_z", "gaze_1_x", "gaze_1_y", "gaze_1_z", "gaze_angle_x", "gaze_angle_y")
AUS = tuple(f"AU{n:02d}_r" for n in (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45))
SERIES = POSE + GAZE + AUS
LABEL_FILES = (("train_split.csv", "train"), ("dev_split.csv", "dev"), ("test_split.csv", "test"))
_SESSION_DIR = re.compile(r"^(\d+)_P$")


class NoLandmarksError(DataError):
    """Raised when landmarks are asked of E-DAIC, which distributes none."""


def require_landmarks(dataset: str) -> None:
    if dataset == "e_daic":
        raise NoLandmarksError("e_daic: E-DAIC ships no 2-D or 3-D landmarks (only OpenFace 2.1 pose, gaze "
                               "and action units); use the window layout over its series instead")


def find_sessions(root: Path) -> dict:
    found = {}
    for entry in sorted(root.iterdir()):
        m = _SESSION_DIR.match(entry.name)
        if m and entry.is_dir():
            path = entry / "features" / FEATURE_FILE.format(pid=m.group(1))
            if path.is_file():
                found[str(int(m.group(1)))] = path
    return found


def read_session(pid: str, source, params: Params, dataset: str = "e_daic") -> Session:
    """One OpenFace 2.1 pose/gaze/AU CSV -> Session with (T, 31) float32 series."""
    header = set(read_header(source))
    base = ["timestamp", "confidence", "success"]
    missing = [c for c in base + list(SERIES) if c not in header]
    if missing:
        raise DataError(f"{describe_source(source)}: line 1: missing column(s) {', '.join(missing[:5])}"
                        " (expected OpenFace 2.1 pose, gaze and AU intensity columns)")
    matrix, n_bad = read_columns(source, base + list(SERIES), bad_cells=params.data.bad_cells,
                                 cache_root=params.data.cache_dir)
    timestamps, confidence, success, valid = frame_flags(matrix, params.data.confidence_threshold)
    return Session(dataset, pid, describe_source(source), timestamps, confidence,
                   success, valid, params.data.fps, series=matrix[:, 3:], series_names=SERIES, bad_cells=n_bad)


def read_labels(labels_dir: Path, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    tables, problems = [], []
    for name, split in LABEL_FILES:
        path = labels_dir / name
        if path.is_file():
            try:
                tables.append(read_label_table(path, ("Participant_ID", "participant_ID", "participant_id"),
                                               ("PHQ_Score", "PHQ8_Score"), ("PHQ_Binary", "PHQ8_Binary"),
                                               split, params.data.gender_codes, True))
            except DataError as exc:
                problems.append(str(exc))
    if problems:
        raise DataError("; ".join(problems))
    if not tables:
        raise DataError(f"{labels_dir}: no label files found (expected {', '.join(n for n, _ in LABEL_FILES)})")
    return apply_label_rule(merge_label_tables(tables), params.data.label_rule)


def load_e_daic(root: Path, params: Params) -> Corpus:
    labels, disagreements = read_labels(Path(params.data.labels_dir or root).expanduser(), params)
    found = find_sessions(root)
    if not found:
        raise DataError(f"{root}: no E-DAIC sessions (expected NNN_P/features/{FEATURE_FILE.format(pid='NNN')})")
    dataset = "synthetic" if params.dataset == "synthetic" else "e_daic"
    return build_corpus(dataset, root, labels, found, lambda pid, src: read_session(pid, src, params, "e_daic"),
                        params, disagreements, pd.DataFrame(columns=["participant_id", "quirk"]))
