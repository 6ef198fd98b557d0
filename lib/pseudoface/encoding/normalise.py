"""Per-session landmark normalisation. No statistic is ever computed across sessions.

Steps (:func:`normalise_landmarks`):
1. mask invalid frames (tracker failure, low confidence, non-finite, documented interruptions);
2. fill gaps up to ``max_gap_seconds`` by linear interpolation; longer gaps stay masked;
3. centre each frame on its centroid (the translation is kept as a pose signal);
4. scale by the session's median 3-D outer-eye-corner distance (landmarks 36-45), so one unit =
   one inter-ocular distance; a single per-session factor, so movement amplitude is preserved;
5. optionally align each frame rigidly (Kabsch, rotation only) to the template face, keeping
   the removed rotation (as angles) as a per-frame pose signal;
6. resample to ``target_fps`` on a uniform clock derived from the frame index and ``fps``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from ..corpora.corpus import Session
from ..corpora.face import OUTER_EYE_CORNERS, kabsch, template_face
from ..params import Params


@dataclass
class Normalised:
    landmarks: np.ndarray | None  # (T, 68, 3) float32, centred, inter-ocular units, aligned if asked
    pose: np.ndarray | None  # (T, 6) float32: rotation (rad, x/y/z) + translation (inter-ocular units)
    series: np.ndarray | None  # (T, S) float32 (E-DAIC style series), units as read
    series_names: tuple
    valid: np.ndarray  # (T,) bool
    fps: float
    interocular_mm: float  # the session's scale factor (median 36-45 distance)


def fill_short_gaps(values: np.ndarray, valid: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Interpolate runs of invalid frames no longer than ``max_gap`` between two valid frames.

    values (T, ...) float; valid (T,) bool -> (filled values, new valid). Edges are not filled.
    """
    valid = valid.copy()
    out = np.array(values, dtype=np.float32, copy=True)
    idx = np.flatnonzero(valid)
    if idx.size < 2 or max_gap < 1:
        return out, valid
    gaps = np.flatnonzero(np.diff(idx) > 1)
    for g in gaps:
        a, b = idx[g], idx[g + 1]
        if b - a - 1 <= max_gap:
            w = (np.arange(a + 1, b) - a) / (b - a)
            w = w.reshape((-1,) + (1,) * (out.ndim - 1))
            out[a + 1:b] = (1 - w) * out[a] + w * out[b]
            valid[a + 1:b] = True
    return out, valid


def rotation_angles(R: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotation matrices -> (T, 3) angles (rad, x/y/z) for R = Rz @ Ry @ Rx (extrinsic x-y-z:
    scipy's lower-case "xyz"), the inverse of :func:`face.rotation_matrix`."""
    return Rotation.from_matrix(R).as_euler("xyz")


def resample(values: np.ndarray, valid: np.ndarray, fps: float, target_fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Linear resampling (T, ...) at ``fps`` -> (T', ...) at ``target_fps``; a new frame is valid
    only if both source frames around it are valid."""
    T = values.shape[0]
    if abs(fps - target_fps) < 1e-9:
        return values, valid
    t_new = np.arange(0, (T - 1) / fps + 1e-9, 1.0 / target_fps) * fps  # in source frame units
    lo = np.clip(np.floor(t_new).astype(int), 0, T - 1)
    hi = np.clip(lo + 1, 0, T - 1)
    w = (t_new - lo).reshape((-1,) + (1,) * (values.ndim - 1)).astype(np.float32)
    out = (1 - w) * values[lo] + w * values[hi]
    return out.astype(np.float32), valid[lo] & valid[hi]


def normalise_landmarks(landmarks: np.ndarray, valid: np.ndarray, fps: float, params: Params) -> Normalised:
    """(T, 68, 3) mm + (T,) valid -> :class:`Normalised` (see module docstring)."""
    if not valid.any():
        raise ValueError("no valid frame to normalise")
    npar = params.normalise
    xyz = np.where(valid[:, None, None], np.asarray(landmarks, dtype=np.float32), np.float32(np.nan))
    xyz, valid = fill_short_gaps(xyz, valid, int(round(npar.max_gap_seconds * fps)))
    xyz[~valid] = 0.0  # masked frames carry no values (no NaN flows further)
    centroid = xyz.mean(axis=1)  # (T, 3)
    xyz = xyz - centroid[:, None, :]
    a, b = OUTER_EYE_CORNERS
    iod = float(np.median(np.linalg.norm(xyz[valid, a] - xyz[valid, b], axis=1)))
    if not np.isfinite(iod) or iod <= 0:
        raise ValueError("degenerate face: outer eye corners coincide")
    xyz /= iod
    translation = (centroid - np.median(centroid[valid], axis=0)) / iod  # (T, 3)
    angles = np.zeros((len(xyz), 3), dtype=np.float32)
    if npar.align:
        template = template_face()
        template = template - template.mean(axis=0)
        template /= np.linalg.norm(template[a] - template[b])
        R = kabsch(xyz[valid].astype(np.float64), template)
        xyz[valid] = (xyz[valid] @ R.transpose(0, 2, 1)).astype(np.float32)  # each point p -> R p
        angles[valid] = rotation_angles(R.transpose(0, 2, 1))  # head rotation = inverse of the aligning one
    pose = np.concatenate([angles, translation], axis=1).astype(np.float32)
    pose[~valid] = 0.0
    xyz, valid_r = resample(xyz, valid, fps, npar.target_fps)
    pose, _ = resample(pose, valid, fps, npar.target_fps)
    return Normalised(xyz, pose, None, (), valid_r, npar.target_fps, iod)


def normalise_series(series: np.ndarray, names: tuple, valid: np.ndarray, fps: float, params: Params) -> Normalised:
    """(T, S) pose/gaze/AU series -> resampled, gaps filled, masked frames zeroed (no NaN)."""
    if not valid.any():
        raise ValueError("no valid frame to normalise")
    values = np.where(valid[:, None], np.asarray(series, dtype=np.float32), np.float32(np.nan))
    values, valid = fill_short_gaps(values, valid, int(round(params.normalise.max_gap_seconds * fps)))
    values[~valid] = 0.0
    values, valid = resample(values, valid, fps, params.normalise.target_fps)
    return Normalised(None, None, values, names, valid, params.normalise.target_fps, float("nan"))


def normalise_session(session: Session, params: Params) -> Normalised:
    if session.landmarks is not None:
        return normalise_landmarks(session.landmarks, session.valid, session.fps, params)
    return normalise_series(session.series, session.series_names, session.valid, session.fps, params)
