"""The types every stage shares: a :class:`Session`, the participant :class:`Flow` and the :class:`Corpus`.

One :class:`Session` per participant: timestamps, tracker confidence/success, a validity mask
(failed, low-confidence, non-finite and documented-interruption frames are *masked, never
dropped*, so timing is preserved) and either 68 3-D landmarks (mm, camera space) or named
per-frame series (E-DAIC: pose, gaze, AU intensities).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd


from .textio import DataError

SYNTHETIC_MARKER = "SYNTHETIC_CORPUS.txt"
# OpenFace 2.x per-frame series (E-DAIC's only facial signals; optional in a user's OpenFace CSV)
POSE = ("pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz")
GAZE = ("gaze_0_x", "gaze_0_y", "gaze_0_z", "gaze_1_x", "gaze_1_y", "gaze_1_z", "gaze_angle_x", "gaze_angle_y")
AUS = tuple(f"AU{n:02d}_r" for n in (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45))
SERIES = POSE + GAZE + AUS
# DAIC-WOZ's 2016 OpenFace (XXX_CLNF_AUs): 14 intensities and 6 presences; gaze: each eye's direction in
# camera space (GAZE's first six), as OpenFace 2 names them
DAIC_AU_INTENSITIES = tuple(f"AU{n:02d}_r" for n in (1, 2, 4, 5, 6, 9, 10, 12, 14, 15, 17, 20, 25, 26))
DAIC_AU_PRESENCES = tuple(f"AU{n:02d}_c" for n in (4, 12, 15, 23, 28, 45))
GAZE_VECTORS = GAZE[:6]
# The series layout both corpora share (data.signals: shared_series), in the same rows, names and units on
# both: head pose (mm, rad), both eyes' gaze vectors (camera space), the 14 AU intensities (0-5) and blink
# presence (AU45_c, 0/1; DAIC-WOZ has no AU45 intensity)
SHARED_SERIES = POSE + GAZE_VECTORS + DAIC_AU_INTENSITIES + ("AU45_c",)
SERIES_LAYOUTS = {"shared_series": SHARED_SERIES, "full_series": SERIES}


class NoLandmarksError(DataError):
    """Raised when landmarks are asked of a session without them (E-DAIC distributes none)."""


def require_landmarks(session_or_norm) -> None:
    if session_or_norm.landmarks is None:
        raise NoLandmarksError("e_daic: E-DAIC ships no 2-D or 3-D landmarks (only OpenFace 2.1 pose, gaze "
                               "and action units); use the window layout over its series instead")


@dataclass
class Session:
    dataset: str
    participant_id: str
    source: str  # file (zip!member) the frames came from
    timestamps: np.ndarray  # (T,) float32, seconds
    confidence: np.ndarray  # (T,) float32 in [0, 1]
    success: np.ndarray  # (T,) bool, tracker success flag
    valid: np.ndarray  # (T,) bool: usable frames (see module docstring)
    fps: float
    landmarks: Optional[np.ndarray] = None  # (T, 68, 3) float32, mm, camera at origin
    series: Optional[np.ndarray] = None  # (T, S) float32, columns = series_names
    series_names: tuple = ()
    bad_cells: int = 0  # non-numeric cells masked (data.bad_cells: mask)
    # every file the session was read from when there are several (DAIC-WOZ's pose, gaze and AU files);
    # empty: ``source`` alone. The encode cache keys on each one's identity
    inputs: tuple = ()

    @property
    def n_frames(self) -> int:
        return int(self.timestamps.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    @property
    def valid_fraction(self) -> float:
        return float(self.valid.mean()) if self.n_frames else 0.0


def frame_flags(matrix: np.ndarray, threshold: float, n_values: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame flags of a reader matrix whose columns are timestamp, confidence, success, values...

    matrix (T, 3 + V) -> timestamps (T,), confidence (T,), success (T,) bool and valid (T,) bool:
    success, confidence >= threshold and the frame's first ``n_values`` values (default: all) finite. Frames are never
    removed, only marked.
    """
    timestamps, confidence = np.asarray(matrix[:, 0]), np.asarray(matrix[:, 1])
    success = np.asarray(matrix[:, 2]) > 0.5
    finite = np.isfinite(matrix[:, 3:] if n_values is None else matrix[:, 3:3 + n_values]).all(axis=1)
    return timestamps, confidence, success, success & (np.nan_to_num(confidence) >= threshold) & finite


# ---------------------------------------------------------------- flow and corpus

@dataclass
class Flow:
    """Participant flow: labelled -> session found -> read without error -> enough valid frames -> usable."""
    counts: dict = field(default_factory=dict)  # step -> number of participants
    dropped: list = field(default_factory=list)  # (participant_id, step not passed, reason)
    unlabelled: list = field(default_factory=list)  # sessions found with no label (excluded)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"step": list(self.counts), "participants": list(self.counts.values())})

    def dropped_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.dropped, columns=["participant_id", "step", "reason"])

    def lines(self) -> list[str]:
        out = ["participant flow: " + " -> ".join(f"{k} {v}" for k, v in self.counts.items())]
        for pid, step, reason in self.dropped:
            out.append(f"  excluded {pid} at '{step}': {reason}")
        if self.unlabelled:
            out.append(f"  {len(self.unlabelled)} session(s) without a label, excluded: "
                       + ", ".join(self.unlabelled))
        return out


@dataclass
class Corpus:
    dataset: str
    root: Path
    synthetic: bool
    labels: pd.DataFrame  # every labelled participant (labels.LABEL_COLUMNS)
    sessions: dict  # participant_id -> Session, usable participants only
    flow: Flow
    problems: list  # one-line data errors, all of them
    disagreements: pd.DataFrame  # file binary vs score rule
    quirks: pd.DataFrame  # documented quirks (DAIC-WOZ), may be empty
    notes: list = field(default_factory=list)

    def usable_labels(self) -> pd.DataFrame:
        return self.labels[self.labels["participant_id"].isin(self.sessions)].reset_index(drop=True)
