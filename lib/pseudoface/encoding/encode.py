"""The encode stage: normalised sessions -> pseudo-images (and per-session features), for
a session and a whole corpus (:func:`encode_corpus` -> :class:`EncodedCorpus`), cached on disk.

Layouts: the ``window`` layout (default) and the seed's ``frame`` layout.

window (Du, Fu & Wang 2015 style), :func:`encode_windows`:
    ``window_seconds`` of frames every ``hop_seconds`` -> one image (C, R, W):
    channels X, Y, Z and their frame-to-frame velocities; rows (:class:`RowLayout`) = the 68
    landmarks ordered by facial region (jaw, brows, nose, eyes, mouth) if ``landmark_rows`` + 2 pose
    rows (rotation x/y/z, translation x/y/z as the three channels) if ``include_pose`` + 2 geometry
    rows if ``geometry_rows``; columns = time at ``target_fps``. The default image is the compact one: pose
    and geometry rows only (4 rows; ``landmark_rows: false``, ``geometry_rows: true``), on which the
    network learns more of the benchmark's cue families than on the 68-row image
    (benchmarks/bench_quality.py, docs/results.md); the 68 landmark rows are one option away.
    Landmark value = displacement from the session's median aligned face in inter-ocular units,
    mapped to [0, 1] by ``0.5 + d / (2 * displacement_range)`` and clipped (clip rate reported).
    With ``geometry_rows`` two more rows (after pose): per-frame distances between landmarks (mouth
    opening, width, corner drop; eye opening, brow height) from the session median, as channels.
    Pose = rotation from the template face (a head held lowered all session shows) and translation
    relative to the session median, rotation over +-``rotation_range_deg`` and translation over
    +-``translation_range`` inter-ocular units. Masked frames are neutral (0.5) and windows
    with more than ``max_missing_fraction`` masked frames are skipped and counted. Amplitude is
    kept: half the movement gives images half as far from 0.5.
    For series: rows = E-DAIC's pose (6), gaze (8), AU intensities (17) (data.signals: full_series), or the
    27 both corpora share (shared_series: pose, both eyes' gaze vectors, 14 AU intensities, blink presence
    AU45_c), one channel; pose and gaze relative to the session median on fixed ranges, AU intensity / 5,
    AU presence as read (0/1).
frame (the seed paper's code, a faithful reference): each of the first ``frame_count`` valid
    frames' 68x3 matrix (aligned, inter-ocular units) min-max scaled to [0, 1], resized to
    ``frame_size`` x ``frame_size`` (0 = keep 68x3) and copied into 3 channels.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..corpora.cache import cached
from ..corpora.corpus import Corpus, Session, require_landmarks
from ..corpora.face import MIRROR, REGIONS, ROW_ORDER
from .features import landmark_signals, session_features
from .normalise import Normalised, normalise_session
from ..params import EncodeParams, Params, without_neutral
from ..corpora.textio import DataError

ENCODER_VERSION = 4  # 3: per-session features are the functionals + region motion; 4: head-pose SDs no longer repeated in region motion
ENCODE_THREADS = max(1, min(2, os.cpu_count() or 1))  # measured 1.75x on 2 cores

SERIES_RANGES = {"pose_T": 60.0, "pose_R": 0.35, "gaze_": 0.35}  # +- physical range per kind


@dataclass
class Encoded:
    images: np.ndarray  # (N, C, R, W) float32 in [0, 1]
    windows: int
    skipped_windows: int
    clip_rate: float  # fraction of values clipped to [0, 1]
    row_names: tuple
    features: dict = field(default_factory=dict)  # per-session functionals (filled by encode_session)


def window_starts(n_frames: int, window: int, hop: int) -> np.ndarray:
    """Start indices of full windows: floor((T - W) / H) + 1 windows (0 if T < W)."""
    if n_frames < window or window < 1:
        return np.zeros(0, dtype=int)
    return np.arange(0, n_frames - window + 1, hop)


def row_names(include_pose: bool) -> tuple:
    region = {i: name for name, idx in REGIONS.items() for i in idx}
    names = tuple(f"{region[i]} {i}" for i in ROW_ORDER)
    return names + (("pose rotation", "pose translation") if include_pose else ())


@dataclass(frozen=True)
class RowLayout:
    """The rows of a landmark window pseudo-image, top to bottom: the 68 landmark rows (region
    order, :data:`face.ROW_ORDER`) if ``landmarks``, 2 pose rows (rotation, translation) if
    ``pose``, 2 geometry rows (mouth, eyes) if ``geometry``. Built by :meth:`of` from the encode
    params; the encoder writes this layout, training and mirroring read it."""
    landmarks: bool = True
    pose: bool = True
    geometry: bool = False

    @classmethod
    def of(cls, e: EncodeParams) -> "RowLayout":
        return cls(e.landmark_rows, e.include_pose, e.geometry_rows)

    @property
    def first_pose(self) -> int:
        return 68 if self.landmarks else 0

    @property
    def rows(self) -> int:
        return self.first_pose + 2 * self.pose + 2 * self.geometry

    @property
    def names(self) -> tuple:
        return ((row_names(False) if self.landmarks else ()) + (row_names(True)[68:] if self.pose else ())
                + (("geometry mouth", "geometry eyes") if self.geometry else ()))

    def holds(self, image_shape: tuple) -> bool:
        """True when landmark window images of shape (..., C, R, W) have this layout: 6 channels
        (X, Y, Z and velocities; series images have 2) and this many rows."""
        return image_shape[-3] == 6 and image_shape[-2] == self.rows


def _to_unit(values: np.ndarray, half_range: float) -> tuple[np.ndarray, int]:
    scaled = 0.5 + values / (2.0 * half_range)
    clipped = int(np.count_nonzero((scaled < 0) | (scaled > 1)))
    return np.clip(scaled, 0.0, 1.0).astype(np.float32), clipped


# Geometry rows (``encode.geometry_rows``): per-frame distances between landmarks
# (features.landmark_signals), each from the session's median, in inter-ocular units on the
# displacement range; three per row as the channels. Left-right symmetric, so mirroring keeps them.
# A missing third signal (None) is a constant 0.5.
GEOMETRY = (("mouth_open", "mouth_width", "mouth_corner_drop"), ("eye_open", "brow_height", None))


def mirror_images(images: np.ndarray, layout: RowLayout) -> np.ndarray:
    """Left-right mirror of window-layout landmark pseudo-images (..., C, R, W) of ``layout``, C =
    3 or 6 (X, Y, Z [+ their velocities]): landmark rows go to their counterparts, and values along
    x (displacement and velocity x; head yaw and roll; translation x) flip about 0.5; geometry rows
    are symmetric and stay. Amplitude is untouched: a mirrored face moves exactly as much."""
    C, R = images.shape[-3], images.shape[-2]
    if R != layout.rows:
        raise ValueError(f"mirror_images: images have {R} rows, the layout {layout} has {layout.rows}")
    n = layout.first_pose
    order = [ROW_ORDER.index(MIRROR[ROW_ORDER[r]]) for r in range(n)] + list(range(n, R))
    out = images[..., order, :].copy()
    for base in range(0, C, 3):  # the X channel of the values, then of the velocities
        out[..., base, :n, :] = 1.0 - out[..., base, :n, :]
        if layout.pose:  # pose rows: rotation (pitch, yaw, roll) and translation (x, y, z) as channels
            out[..., base + 1, n, :] = 1.0 - out[..., base + 1, n, :]  # yaw
            out[..., base + 2, n, :] = 1.0 - out[..., base + 2, n, :]  # roll
            out[..., base, n + 1, :] = 1.0 - out[..., base, n + 1, :]  # translation x
    return out


def landmark_frames(norm: Normalised, params: Params) -> tuple[np.ndarray, int, tuple]:
    """(T, 3 or 6, R) per-frame columns in [0, 1], number of clipped values, row names."""
    e, layout = params.encode, RowLayout.of(params.encode)
    xyz = norm.landmarks[:, list(ROW_ORDER), :]  # (T, 68, 3)
    median_face = np.median(xyz[norm.valid], axis=0)  # (68, 3) the session's own neutral
    disp = np.where(norm.valid[:, None, None], xyz - median_face, 0.0)
    img, clipped = _to_unit(disp, e.displacement_range)  # (T, 68, 3)
    rows = [img] if layout.landmarks else []
    if layout.pose:
        pose = norm.pose - np.median(norm.pose[norm.valid], axis=0)
        pose[:, :3] = norm.pose[:, :3]  # rotation from the template face, so a lowered head shows as a level
        pose = np.where(norm.valid[:, None], pose, 0.0)
        rot, c1 = _to_unit(np.rad2deg(pose[:, :3]), e.rotation_range_deg)
        tra, c2 = _to_unit(pose[:, 3:], e.translation_range)
        clipped += c1 + c2
        rows += [rot[:, None, :], tra[:, None, :]]
    if layout.geometry:  # two rows of face geometry, three signals each as the channels
        sig = landmark_signals(norm.landmarks)
        zero = np.zeros(len(norm.valid))
        geo = np.stack([zero if k is None else sig[k] for k in GEOMETRY[0] + GEOMETRY[1]], axis=1)  # (T, 6)
        geo = np.where(norm.valid[:, None], geo - np.median(geo[norm.valid], axis=0), 0.0)
        geo, c3 = _to_unit(geo, e.displacement_range)
        clipped += c3
        rows += [geo[:, None, :3], geo[:, None, 3:]]
    frames = np.concatenate(rows, axis=1).transpose(0, 2, 1)  # (T, 3, R); params.check: R > 0
    return _with_velocity(frames), clipped, layout.names


def _with_velocity(frames: np.ndarray) -> np.ndarray:
    """(T, C, R) -> (T, 2C, R) with frame-to-frame change mapped by 0.5 + 4 * delta (+-0.125 of the
    range per frame spans [0, 1])."""
    vel = np.clip(0.5 + 4.0 * np.diff(frames, axis=0, prepend=frames[:1]), 0, 1).astype(np.float32)
    return np.concatenate([frames, vel], axis=1)


def series_frames(norm: Normalised, params: Params) -> tuple[np.ndarray, int, tuple]:
    """(T, 1 or 2, S) per-frame columns in [0, 1] for pose/gaze/AU series."""
    values = norm.series
    median = np.median(values[norm.valid], axis=0)
    cols, clipped = [], 0
    for j, name in enumerate(norm.series_names):
        if name.startswith("AU"):  # intensity 0-5 -> /5; presence (_c) is 0/1 already
            scale = 1.0 if name.endswith("_c") else 5.0
            col, c = np.clip(values[:, j] / scale, 0, 1).astype(np.float32), int(np.count_nonzero(values[:, j] > scale))
        else:
            half = next(r for k, r in SERIES_RANGES.items() if name.startswith(k))
            col, c = _to_unit(values[:, j] - median[j], half)
        cols.append(np.where(norm.valid, col, 0.5 if not name.startswith("AU") else 0.0))
        clipped += c
    frames = np.stack(cols, axis=1)[:, None, :].astype(np.float32)  # (T, 1, S)
    return _with_velocity(frames), clipped, tuple(norm.series_names)


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
    """Bilinear resize of (H, W) to (size, size), corners aligned (the seed code's image resize)."""
    import torch  # only the seed's frame layout resizes: kept off every other import of this module
    t = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float64))[None, None]  # (1, 1, H, W)
    return torch.nn.functional.interpolate(t, size=(size, size), mode="bilinear", align_corners=True)[0, 0].numpy()


def encode_frames(norm: Normalised, params: Params) -> Encoded:
    """Seed layout: the first ``frame_count`` valid frames -> (frame_count, 3, S, S) (or (.., 3, 68, 3))."""
    require_landmarks(norm)
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


# ---------------------------------------------------------------- sessions and corpora, cached

def _session_key(session: Session, params: Params) -> dict:
    stamp = []
    for source in session.inputs or (session.source,):
        try:
            st = Path(source.split("!")[0]).stat()
            stamp += [st.st_size, st.st_mtime_ns]
        except OSError:
            pass
    data = without_neutral("data", dataclasses.asdict(params.data))
    return {"source": session.source, "stamp": stamp, "v": ENCODER_VERSION,
            "data": {k: v for k, v in data.items() if k not in ("splits", "test_root", "test_labels_dir", "test_dataset")},
            "normalise": without_neutral("normalise", dataclasses.asdict(params.normalise)),
            "encode": without_neutral("encode", dataclasses.asdict(params.encode)),
            "valid": int(session.valid.sum()), "frames": session.n_frames}


def encode_session(session: Session, params: Params, cache: bool = True) -> Encoded:
    """Pseudo-images and session features of one session, from a single normalisation; cached
    (``encoded/`` in the cache, keyed by the source's identity and the params that shape it)."""
    def compute() -> tuple[dict, dict]:
        norm = normalise_session(session, params)
        enc = encode(norm, params)
        return {"images": enc.images}, {"windows": enc.windows, "skipped": enc.skipped_windows,
                                        "clip_rate": enc.clip_rate, "rows": list(enc.row_names),
                                        "features": session_features(norm)}

    arrays, s = cached("encoded", _session_key(session, params), compute, params.data.cache_dir, enabled=cache)
    return Encoded(arrays["images"], int(s["windows"]), int(s["skipped"]), float(s["clip_rate"]),
                   tuple(s["rows"]), dict(s["features"]))


def encode_sessions(corpus: Corpus, params: Params, progress: bool = False) -> tuple[dict, pd.DataFrame]:
    """participant_id -> Encoded for every usable session, and the summary table (participant_id,
    frames, valid_frames, windows, skipped_windows, clip_rate)."""
    from tqdm import tqdm  # text bars (tqdm.auto wants ipywidgets inside notebooks)
    out, rows = {}, []
    items = list(corpus.sessions.items())
    # sessions are independent and numpy releases the GIL in the heavy steps: two at a time
    with ThreadPoolExecutor(max_workers=ENCODE_THREADS) as pool:
        results = pool.map(lambda item: encode_session(item[1], params), items)
        for (pid, s), enc in tqdm(zip(items, results), total=len(items), desc="encode",
                                  disable=None if progress else True, leave=False):
            out[pid] = enc
            rows.append((pid, s.n_frames, int(s.valid.sum()), enc.windows, enc.skipped_windows,
                         round(enc.clip_rate, 6)))
    summary = pd.DataFrame(rows, columns=["participant_id", "frames", "valid_frames", "windows",
                                          "skipped_windows", "clip_rate"])
    return out, summary


@dataclass
class EncodedCorpus:
    """A corpus ready for training: its participants with at least one pseudo-image window."""
    corpus: Corpus
    images: dict  # participant_id -> (N, C, R, W) float32
    table: pd.DataFrame  # one row per participant: label, phq_score, gender, split, quality, session features
    feature_cols: list  # the session-feature columns of ``table`` (the feature model's inputs)
    encode_summary: pd.DataFrame  # per usable session: frames, windows, skipped windows, clip rate
    fingerprint: str  # participants, labels and frame counts: identifies the data a run saw


def encode_corpus(corpus: Corpus, params: Params, progress: bool = False) -> EncodedCorpus:
    """Encode every usable session; sessions without a single window leave the flow at 'usable'
    (the returned corpus' flow: ``corpus`` itself is left as read, so one corpus can be encoded
    under several settings, e.g. the report's comparison variants).

    Raises DataError when no participant is left (the flow says where they went)."""
    if not corpus.sessions:
        raise DataError(f"{corpus.root}: no session was usable ({' -> '.join(f'{k} {v}' for k, v in corpus.flow.counts.items())});"
                        " see the participant flow (`pseudoface inspect`) for each exclusion")
    corpus = dataclasses.replace(corpus, flow=dataclasses.replace(corpus.flow, dropped=list(corpus.flow.dropped)))
    encoded, summary = encode_sessions(corpus, params, progress=progress)
    labels = corpus.usable_labels().set_index("participant_id")
    rows = []
    for pid, s in corpus.sessions.items():
        if encoded[pid].windows == 0:
            corpus.flow.dropped.append((pid, "usable", "no pseudo-image window passed encode.max_missing_fraction"))
            continue
        rows.append({"participant_id": pid, "label": int(labels.at[pid, "label"]),
                     "phq_score": labels.at[pid, "phq_score"], "gender": labels.at[pid, "gender"],
                     "split": labels.at[pid, "split"], "valid_fraction": s.valid_fraction,
                     "duration_s": s.duration_s, **encoded[pid].features})
    if not rows:
        raise DataError(f"{corpus.root}: no session gave a pseudo-image window (encode.max_missing_fraction "
                        f"{params.encode.max_missing_fraction:g}); see the encode summary")
    table = pd.DataFrame(rows)
    feature_cols = [c for c in table.columns if c not in
                    ("participant_id", "label", "phq_score", "gender", "split", "valid_fraction", "duration_s")]
    fp = hashlib.sha256(json.dumps(
        [(r.participant_id, r.label, corpus.sessions[r.participant_id].n_frames,
          int(corpus.sessions[r.participant_id].valid.sum())) for r in table.itertuples()]).encode()).hexdigest()[:16]
    return EncodedCorpus(corpus, {p: encoded[p].images for p in table.participant_id}, table, feature_cols,
                         summary, fp)


# ---------------------------------------------------------------- what each row's values mean
class SeriesGroup(NamedTuple):
    """Series of one unit (E-DAIC, corpus.SERIES) and how encode.series_frames maps them to [0, 1]."""
    name: str
    prefixes: tuple  # the series whose names start with one of these
    unit: str  # the unit shown
    per_raw: float  # shown unit per unit as read (radians -> degrees)
    per_encoded: float  # shown unit per encoded unit: 2 x the +- range of encode.SERIES_RANGES; AU: intensity / 5
    neutral: float  # the encoded value of no activity in the value channel
    suffix: str = ""  # and whose names end with this (AU intensity _r against presence _c)


_DEG = float(np.rad2deg(1.0))
SERIES_GROUPS = {g.name: g for g in (  # in the row order of a series pseudo-image
    SeriesGroup("head translation", ("pose_T",), "mm", 1.0, 2 * SERIES_RANGES["pose_T"], 0.5),
    SeriesGroup("head rotation", ("pose_R",), "degrees", _DEG, 2 * SERIES_RANGES["pose_R"] * _DEG, 0.5),
    SeriesGroup("gaze direction", ("gaze_0_", "gaze_1_"), "unit vector", 1.0, 2 * SERIES_RANGES["gaze_"], 0.5),
    SeriesGroup("gaze angle", ("gaze_angle",), "degrees", _DEG, 2 * SERIES_RANGES["gaze_"] * _DEG, 0.5),
    SeriesGroup("AU intensity", ("AU",), "intensity", 1.0, 5.0, 0.0, "_r"),
    SeriesGroup("AU presence", ("AU",), "presence", 1.0, 1.0, 0.0, "_c"))}


def series_group(name: str) -> SeriesGroup | None:
    """The :data:`SERIES_GROUPS` entry of a series (row) name, or None."""
    return next((g for g in SERIES_GROUPS.values() if name.startswith(g.prefixes) and name.endswith(g.suffix)), None)


def _value_channels(channels: int) -> int:
    """How many of a window image's C channels are values (the rest are their velocities)."""
    return channels // 2 if channels % 2 == 0 and channels > 1 else channels


def row_neutrals(rows: tuple, channels: int) -> np.ndarray:
    """(C, R) encoded value of no activity for each channel and row of a window pseudo-image: 0.5
    (encode: the session's median, the template orientation for landmark pose rotation, no change in
    every velocity channel), except the value channel of AU rows: 0, intensity at rest (encode maps
    AU intensity / 5 onto [0, 1], it does not centre it)."""
    neutral = np.full((channels, len(rows)), 0.5)
    for r, name in enumerate(rows):
        g = series_group(name)
        if g is not None:
            neutral[:_value_channels(channels), r] = g.neutral
    return neutral
