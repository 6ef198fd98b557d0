"""Pseudo-images from normalised sessions: the ``window`` layout (default) and the seed's ``frame`` layout.

window (Du, Fu & Wang 2015 style), :func:`encode_windows`:
    ``window_seconds`` of frames every ``hop_seconds`` -> one image (C, R, W):
    channels X, Y, Z (+ their frame-to-frame velocity if ``velocity_channels``); rows = the 68
    landmarks ordered by facial region (jaw, brows, nose, eyes, mouth) + 2 pose rows (rotation
    x/y/z, translation x/y/z as the three channels); columns = time at ``target_fps``.
    Landmark value = displacement from the session's median aligned face in inter-ocular units,
    mapped to [0, 1] by ``0.5 + d / (2 * displacement_range)`` and clipped (clip rate reported).
    Pose = relative to the session median, rotation over +-``rotation_range_deg`` and translation
    over +-``translation_range`` inter-ocular units. Masked frames are neutral (0.5) and windows
    with more than ``max_missing_fraction`` masked frames are skipped and counted. Amplitude is
    kept: half the movement gives images half as far from 0.5.
    For series (E-DAIC): rows = pose (6), gaze (8), AU intensities (17), one channel; pose and gaze
    relative to the session median on fixed ranges, AU intensity / 5.
frame (the seed paper's code, a faithful reference): each of the first ``frame_count`` valid
    frames' 68x3 matrix (aligned, inter-ocular units) min-max scaled to [0, 1], resized to
    ``frame_size`` x ``frame_size`` (0 = keep 68x3) and copied into 3 channels.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .face import REGIONS, ROW_ORDER
from .normalise import Normalised
from .params import Params

SERIES_RANGES = {"pose_T": 60.0, "pose_R": 0.35, "gaze_": 0.35}  # +- physical range per kind


@dataclass
class Encoded:
    images: np.ndarray  # (N, C, R, W) float32 in [0, 1]
    windows: int
    skipped_windows: int
    clip_rate: float  # fraction of values clipped to [0, 1]
    row_names: tuple
    motion: dict = field(default_factory=dict)  # per-session movement statistics (filled by pipeline)


def window_starts(n_frames: int, window: int, hop: int) -> np.ndarray:
    """Start indices of full windows: floor((T - W) / H) + 1 windows (0 if T < W)."""
    if n_frames < window or window < 1:
        return np.zeros(0, dtype=int)
    return np.arange(0, n_frames - window + 1, hop)


def row_names(include_pose: bool) -> tuple:
    region = {i: name for name, idx in REGIONS.items() for i in idx}
    names = tuple(f"{region[i]} {i}" for i in ROW_ORDER)
    return names + (("pose rotation", "pose translation") if include_pose else ())


def _to_unit(values: np.ndarray, half_range: float) -> tuple[np.ndarray, int]:
    scaled = 0.5 + values / (2.0 * half_range)
    clipped = int(np.count_nonzero((scaled < 0) | (scaled > 1)))
    return np.clip(scaled, 0.0, 1.0).astype(np.float32), clipped


def landmark_frames(norm: Normalised, params: Params) -> tuple[np.ndarray, int, tuple]:
    """(T, 3 or 6, R) per-frame columns in [0, 1], number of clipped values, row names."""
    e = params.encode
    xyz = norm.landmarks[:, list(ROW_ORDER), :]  # (T, 68, 3)
    median_face = np.median(xyz[norm.valid], axis=0)  # (68, 3) the session's own neutral
    disp = np.where(norm.valid[:, None, None], xyz - median_face, 0.0)
    img, clipped = _to_unit(disp, e.displacement_range)  # (T, 68, 3)
    rows = [img]
    names = row_names(False)
    if e.include_pose:
        pose = norm.pose - np.median(norm.pose[norm.valid], axis=0)
        pose = np.where(norm.valid[:, None], pose, 0.0)
        rot, c1 = _to_unit(np.rad2deg(pose[:, :3]), e.rotation_range_deg)
        tra, c2 = _to_unit(pose[:, 3:], e.translation_range)
        clipped += c1 + c2
        rows += [rot[:, None, :], tra[:, None, :]]
        names = row_names(True)
    frames = np.concatenate(rows, axis=1).transpose(0, 2, 1)  # (T, 3, R)
    return _with_velocity(frames, e.velocity_channels), clipped, names


def _with_velocity(frames: np.ndarray, velocity: bool) -> np.ndarray:
    """(T, C, R) -> (T, 2C, R) with frame-to-frame change mapped by 0.5 + 4 * delta (+-0.125 of the
    range per frame spans [0, 1]) when ``velocity``; unchanged otherwise."""
    if not velocity:
        return frames
    vel = np.clip(0.5 + 4.0 * np.diff(frames, axis=0, prepend=frames[:1]), 0, 1).astype(np.float32)
    return np.concatenate([frames, vel], axis=1)


def series_frames(norm: Normalised, params: Params) -> tuple[np.ndarray, int, tuple]:
    """(T, 1 or 2, S) per-frame columns in [0, 1] for pose/gaze/AU series."""
    values = norm.series
    median = np.median(values[norm.valid], axis=0)
    cols, clipped = [], 0
    for j, name in enumerate(norm.series_names):
        if name.startswith("AU"):
            col, c = np.clip(values[:, j] / 5.0, 0, 1).astype(np.float32), int(np.count_nonzero(values[:, j] > 5))
        else:
            half = next(r for k, r in SERIES_RANGES.items() if name.startswith(k))
            col, c = _to_unit(values[:, j] - median[j], half)
        cols.append(np.where(norm.valid, col, 0.5 if not name.startswith("AU") else 0.0))
        clipped += c
    frames = np.stack(cols, axis=1)[:, None, :].astype(np.float32)  # (T, 1, S)
    return _with_velocity(frames, params.encode.velocity_channels), clipped, tuple(norm.series_names)


def encode_windows(norm: Normalised, params: Params) -> Encoded:
    """Normalised session -> (N, C, R, W) window pseudo-images (see module docstring)."""
    e = params.encode
    frames, clipped, names = (landmark_frames if norm.landmarks is not None else series_frames)(norm, params)
    W = int(round(e.window_seconds * norm.fps))
    H = max(1, int(round(e.hop_seconds * norm.fps)))
    starts = window_starts(frames.shape[0], W, H)
    keep = [s for s in starts if (~norm.valid[s:s + W]).mean() <= e.max_missing_fraction]
    images = np.stack([frames[s:s + W] for s in keep]).transpose(0, 2, 3, 1) if keep else \
        np.zeros((0, frames.shape[1], frames.shape[2], W), np.float32)  # (N, C, R, W)
    return Encoded(np.ascontiguousarray(images, dtype=np.float32), len(keep), len(starts) - len(keep),
                   clipped / max(1, frames.size), names)


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (H, W) to (size, size)."""
    H, W = img.shape
    ys = np.linspace(0, H - 1, size)
    xs = np.linspace(0, W - 1, size)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, H - 1), np.minimum(x0 + 1, W - 1)
    wy, wx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = (1 - wx) * img[y0][:, x0] + wx * img[y0][:, x1]
    bottom = (1 - wx) * img[y1][:, x0] + wx * img[y1][:, x1]
    return (1 - wy) * top + wy * bottom


def encode_frames(norm: Normalised, params: Params) -> Encoded:
    """Seed layout: the first ``frame_count`` valid frames -> (frame_count, 3, S, S) (or (.., 3, 68, 3))."""
    if norm.landmarks is None:
        from .edaic import require_landmarks
        require_landmarks("e_daic")
    e = params.encode
    idx = np.flatnonzero(norm.valid)[: e.frame_count]
    out = []
    for t in idx:
        m = norm.landmarks[t].astype(np.float64)  # (68, 3)
        m = (m - m.min()) / max(m.max() - m.min(), 1e-9)
        if e.frame_size:
            m = _resize(m, e.frame_size)
        out.append(np.repeat(m[None], 3, axis=0))
    shape = (3, e.frame_size, e.frame_size) if e.frame_size else (3, 68, 3)
    images = np.stack(out).astype(np.float32) if out else np.zeros((0,) + shape, np.float32)
    skipped = int(len(idx) < e.frame_count)
    return Encoded(images, len(out), skipped, 0.0, tuple(f"landmark {i}" for i in range(68)))


def encode(norm: Normalised, params: Params) -> Encoded:
    return encode_frames(norm, params) if params.encode.layout == "frame" else encode_windows(norm, params)
