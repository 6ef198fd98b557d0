"""Session-level functionals: the inputs of the simple feature baseline (a regularised logistic regression).

:func:`session_functionals` turns one :class:`~pseudoface.normalise.Normalised` session into a flat
``{name: float}`` with the same names for every session of a kind (landmark or series). Everything
is computed over the session's valid frames only and per session (no statistic crosses sessions).

Landmark sessions (``norm.landmarks`` (T, 68, 3), centred, inter-ocular units): per-frame signals
- ``mouth_open``: inner-lip gap 62-66; ``mouth_width``: corner distance 48-54;
- ``mouth_corner_drop``: corners' midpoint below the upper-lip midpoint 51, along the face's own
  vertical (nose bridge 27 -> nose base 33), so head rotation does not leak in; falls in a smile;
- ``eye_open``: mean lid distance of 37-41, 38-40, 43-47, 44-46;
- ``brow_height``: each brow's centre (17-21, 22-26) from its eye's corners (36/39, 42/45), which
  a blink does not move; mean of the two sides;
- ``head_pitch``/``head_yaw``/``head_roll``: rotation in degrees (pitch positive = nose down);
- ``head_tx``/``head_ty``/``head_tz``: translation from the session median, inter-ocular units.
Each gets ``_sd``, ``_p10``/``_p50``/``_p90`` (levels; translation only ``_sd``, its level is zero
by construction) and ``_mean_abs_velocity`` (mean |change| between consecutive valid frames, per
second). Events per minute of valid time: ``blink_rate_per_min`` (eye-aperture dips),
``smile_rate_per_min`` (mouth-width peaks), ``brow_raise_rate_per_min`` (brow-height peaks) and
``brow_raise_mean_s``; plus ``mouth_open_centroid_hz``. Event thresholds adapt to the session: a
peak must rise above the session median by 4 robust SDs (1.4826 x MAD) of its own signal and
by a floor in its units.

Series sessions (``norm.series`` (T, S), E-DAIC pose/gaze/AU columns, units as read): for each
series ``<name>_sd``, ``_mean``, ``_p10``, ``_p90``, ``_mean_abs_change`` (per second), and
``blink_rate_per_min`` from AU45_r peaks when that column is present.

A session with fewer than ``MIN_VALID_SECONDS`` of valid frames gets 0.0 for every functional
(too little to describe a person); a functional that cannot be computed (no consecutive valid
pair, an empty spectrum) is 0.0 too. Nothing returned is NaN or infinite.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import find_peaks, peak_widths

from ..corpora.face import MOUTH_INNER_VERTICAL, REGIONS
from .normalise import Normalised

MIN_VALID_SECONDS = 2.0
EVENT_MADS = 4.0  # a peak must stand out by this many robust SDs of its session's signal
LEVELS = ("mouth_open", "mouth_width", "mouth_corner_drop", "eye_open", "brow_height",
          "head_pitch", "head_yaw", "head_roll")
TRANSLATIONS = ("head_tx", "head_ty", "head_tz")


def landmark_signals(xyz: np.ndarray) -> dict[str, np.ndarray]:
    """(T, 68, 3) inter-ocular units -> {name: (T,)} per-frame face signals (see module docstring), in
    the input's dtype. The one definition: the feature model, encode's geometry rows and the
    exploration notebook's signal traces (``explore.signal_traces``) all read these."""
    def dist(a, b):
        return np.linalg.norm(xyz[:, a] - xyz[:, b], axis=-1)  # (T,)

    def centre(idx):
        return xyz[:, list(idx)].mean(axis=1)  # (T, 3)

    vertical = xyz[:, 33] - xyz[:, 27]  # (T, 3) the face's own down direction
    vertical /= np.linalg.norm(vertical, axis=1, keepdims=True) + 1e-9
    upper, lower = MOUTH_INNER_VERTICAL
    lids = ((37, 41), (38, 40), (43, 47), (44, 46))  # upper/lower lid pairs, right eye then left
    brow_r = np.linalg.norm(centre(range(17, 22)) - centre((36, 39)), axis=1)
    brow_l = np.linalg.norm(centre(range(22, 27)) - centre((42, 45)), axis=1)
    return {
        "mouth_open": dist(upper, lower),
        "mouth_width": dist(48, 54),
        "mouth_corner_drop": np.einsum("tc,tc->t", centre((48, 54)) - xyz[:, 51], vertical),
        "eye_open": np.mean([dist(a, b) for a, b in lids], axis=0),
        "brow_height": (brow_r + brow_l) / 2,
    }


def _robust_sd(x: np.ndarray) -> float:
    return 1.4826 * float(np.median(np.abs(x - np.median(x))))


def _peaks(x: np.ndarray, valid: np.ndarray, fps: float, floor: float, min_gap_s: float) -> np.ndarray:
    """Indices of events of ``x``: peaks at least max(4 robust SDs, ``floor``) above the session median.

    The height test keeps slow noise out (a noise peak is tall only against its neighbouring
    trough, not against the median); the half-size prominence test counts a bumpy event once.
    Invalid frames are set to the median first, so a gap neither makes nor hides an event.
    """
    level = float(np.median(x[valid]))
    filled = np.where(valid, x, level)
    size = max(EVENT_MADS * _robust_sd(x[valid]), floor)
    peaks, _ = find_peaks(filled, height=level + size, prominence=size / 2,
                          distance=max(1, int(round(min_gap_s * fps))))
    return peaks


def _mean_abs_velocity(x: np.ndarray, valid: np.ndarray, fps: float) -> float:
    pairs = valid[1:] & valid[:-1]  # only changes between two consecutive valid frames
    return float(np.mean(np.abs(np.diff(x))[pairs]) * fps) if pairs.any() else 0.0


def _spectral_centroid(x: np.ndarray, valid: np.ndarray, fps: float) -> float:
    filled = np.where(valid, x, np.median(x[valid]))
    power = np.abs(np.fft.rfft(filled - filled.mean())) ** 2
    freqs = np.fft.rfftfreq(len(filled), 1.0 / fps)
    return float((freqs * power).sum() / power.sum()) if power.sum() > 0 else 0.0


def _landmark_functionals(norm: Normalised) -> dict[str, float]:
    valid, fps = norm.valid, norm.fps
    signals = landmark_signals(norm.landmarks.astype(np.float64))
    pose = norm.pose.astype(np.float64) if norm.pose is not None else np.zeros((len(valid), 6))  # (T, 6)
    for j, name in enumerate(("head_pitch", "head_yaw", "head_roll")):
        signals[name] = np.rad2deg(pose[:, j])
    for j, name in enumerate(TRANSLATIONS):
        signals[name] = pose[:, 3 + j]
    out = {}
    for name in LEVELS + TRANSLATIONS:
        x = signals[name]
        out[f"{name}_sd"] = float(np.std(x[valid]))  # how much the behaviour varies (psychomotor activity)
        if name in LEVELS:  # where the behaviour sits: a lowered head or brow shows in the level, not the SD
            p10, p50, p90 = np.percentile(x[valid], [10, 50, 90])
            out.update({f"{name}_p10": p10, f"{name}_p50": p50, f"{name}_p90": p90})
        out[f"{name}_mean_abs_velocity"] = _mean_abs_velocity(x, valid, fps)  # how fast it moves
    minutes = valid.sum() / fps / 60.0
    # blinks: dips of the eye aperture; at least 15% of its median aperture, 0.2 s apart (blinks last 0.1-0.4 s)
    eye = signals["eye_open"]
    out["blink_rate_per_min"] = len(_peaks(-eye, valid, fps, 0.15 * abs(float(np.median(eye[valid]))), 0.2)) / minutes
    # smiles: the mouth widens by a few % of the inter-ocular distance for seconds; 1 s apart
    out["smile_rate_per_min"] = len(_peaks(signals["mouth_width"], valid, fps, 0.02, 1.0)) / minutes
    # brow raises: the brows lift by a few % of the inter-ocular distance for about a second
    brow = signals["brow_height"]
    raises = _peaks(brow, valid, fps, 0.01, 0.5)
    out["brow_raise_rate_per_min"] = len(raises) / minutes
    if len(raises):  # how long a raise lasts: its width at half prominence
        filled = np.where(valid, brow, np.median(brow[valid]))
        out["brow_raise_mean_s"] = float(np.mean(peak_widths(filled, raises, rel_height=0.5)[0]) / fps)
    else:
        out["brow_raise_mean_s"] = 0.0
    # articulation rate independent of amplitude (speed/sd would need a ratio a linear model cannot form)
    out["mouth_open_centroid_hz"] = _spectral_centroid(signals["mouth_open"], valid, fps)
    return out


def _series_functionals(norm: Normalised) -> dict[str, float]:
    valid, fps = norm.valid, norm.fps
    series = norm.series.astype(np.float64)  # (T, S)
    out = {}
    for j, name in enumerate(norm.series_names):
        x = series[:, j]
        p10, p90 = np.percentile(x[valid], [10, 90])
        out[f"{name}_sd"] = float(np.std(x[valid]))  # variability of the pose/gaze/AU channel
        out[f"{name}_mean"] = float(np.mean(x[valid]))  # its level (a lowered gaze, a resting AU)
        out[f"{name}_p10"], out[f"{name}_p90"] = float(p10), float(p90)  # its usual range, robust to outliers
        out[f"{name}_mean_abs_change"] = _mean_abs_velocity(x, valid, fps)  # how fast it changes, per second
    # blinks: peaks of AU45 of at least 0.5, 0.2 s apart: its intensity (0-5, E-DAIC) or, in the shared
    # layout, its presence (0/1, resampled, so a blink is a bump above 0.5)
    blink = next((n for n in ("AU45_r", "AU45_c") if n in norm.series_names), None)
    if blink:
        au45 = series[:, list(norm.series_names).index(blink)]
        out["blink_rate_per_min"] = len(_peaks(au45, valid, fps, 0.5, 0.2)) / (valid.sum() / fps / 60.0)
    return out


def session_functionals(norm: Normalised) -> dict[str, float]:
    """One normalised session -> {functional name: value} (units: inter-ocular distances, degrees,
    per second or per minute; see the module docstring). Same names for every session of a kind;
    all 0.0 when fewer than ``MIN_VALID_SECONDS`` are valid; never NaN or infinite."""
    landmarks = norm.landmarks is not None
    enough = norm.valid.sum() >= max(2, MIN_VALID_SECONDS * norm.fps)
    if enough:
        out = _landmark_functionals(norm) if landmarks else _series_functionals(norm)
    else:  # compute on a short stand-in so the names match, then zero every value
        T = max(2, int(MIN_VALID_SECONDS * norm.fps) + 1)
        stand_in = Normalised(
            np.zeros((T, 68, 3), np.float32) if landmarks else None, np.zeros((T, 6), np.float32) if landmarks else None,
            None if landmarks else np.zeros((T, len(norm.series_names)), np.float32), norm.series_names,
            np.ones(T, bool), norm.fps, norm.interocular_mm)
        out = {k: 0.0 for k in (_landmark_functionals if landmarks else _series_functionals)(stand_in)}
    return {k: float(v) if np.isfinite(v) else 0.0 for k, v in out.items()}


def region_motion(norm: Normalised) -> dict[str, float]:
    """Per-region movement statistics of a landmark session (valid frames only): for each facial
    region the SD of the displacement from the session median face and the mean absolute
    frame-to-frame speed, both in inter-ocular units. (Head pose SDs are ``head_*_sd`` of
    :func:`session_functionals`, not repeated here.)"""
    v = norm.valid
    xyz = norm.landmarks
    disp = xyz - np.median(xyz[v], axis=0)
    both = v[1:] & v[:-1]
    speed = np.linalg.norm(np.diff(xyz, axis=0), axis=2)[both]  # (T', 68)
    feats = {}
    for name, idx in REGIONS.items():
        feats[f"{name}_sd"] = float(np.linalg.norm(disp[v][:, list(idx)], axis=2).std())
        feats[f"{name}_speed"] = float(speed[:, list(idx)].mean()) if speed.size else 0.0
    return feats


def session_features(norm: Normalised) -> dict[str, float]:
    """What the feature model sees of a session: :func:`session_functionals`, and for landmark
    sessions the per-region movement statistics of :func:`region_motion` (prefixed ``motion_``)."""
    out = session_functionals(norm)
    if norm.landmarks is not None and norm.valid.sum() >= 2:
        out.update({f"motion_{k}": (v if np.isfinite(v) else 0.0) for k, v in region_motion(norm).items()})
    return out
