"""What the exploration notebooks (01 landmarks, 02 pseudo-images) compute, with the privacy guard.

Fail closed: unless the corpus root carries the synthetic marker (or ``report.allow_participant_data``
is true), nothing here returns per-participant raw landmark sequences, participant identifiers
(tables use anonymous labels P01, P02, ...) or local paths.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .corpus import Corpus
from .encode import encode_frames, encode_session, encode_windows
from .face import MOUTH_INNER_VERTICAL
from .normalise import Normalised, normalise_session
from .params import Params, load_params, project_root
from .read import ensure_synthetic, load_corpus


@dataclass
class Context:
    params: Params
    corpus: Corpus
    participant_data: bool  # may per-participant data be shown?

    @property
    def has_landmarks(self) -> bool:
        return any(s.landmarks is not None for s in self.corpus.sessions.values())


def setup(params_file: str, overrides: list | tuple = ()) -> Context:
    """Validate notebook parameters, load the corpus, configure offline plotly rendering.

    Relative paths are the project root's (a notebook opened in JupyterLab runs in notebooks/)."""
    import plotly.io as pio
    if not Path(params_file).is_file() and (project_root() / params_file).is_file():
        os.chdir(project_root())
    if isinstance(overrides, str):
        overrides = [overrides]
    pio.renderers.default = os.environ.get("PLOTLY_RENDERER", "plotly_mimetype+notebook")
    params = load_params(params_file, list(overrides))
    ensure_synthetic(params)
    corpus = load_corpus(params)
    return Context(params, corpus, corpus.synthetic or params.report.allow_participant_data)


def anon_map(ctx: Context) -> dict:
    ids = list(ctx.corpus.labels.participant_id)
    if ctx.participant_data:
        return {p: p for p in ids}
    return {p: f"P{i + 1:03d}" for i, p in enumerate(ids)}


def flow_tables(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    dropped = ctx.corpus.flow.dropped_table()
    if not ctx.participant_data:
        m = anon_map(ctx)
        dropped["participant_id"] = dropped.participant_id.map(lambda p: m.get(p, "unlabelled"))
        dropped["reason"] = dropped.reason.map(lambda r: r.split(": ", 1)[-1] if os.sep in r else r)
    return ctx.corpus.flow.table(), dropped


def disagreements_table(ctx: Context) -> pd.DataFrame:
    """Rows whose file binary label disagrees with PHQ >= 10 (anonymised unless allowed)."""
    t = ctx.corpus.disagreements.copy()
    m = anon_map(ctx)
    t["participant_id"] = t.participant_id.map(m)
    if not ctx.participant_data:
        t = t.drop(columns=["source"])
    return t


def quality_table(ctx: Context) -> pd.DataFrame:
    """One row per usable participant: split, label, gender, minutes, % valid, documented quirk."""
    labels = ctx.corpus.usable_labels().set_index("participant_id")
    quirks = dict(zip(ctx.corpus.quirks.get("participant_id", []), ctx.corpus.quirks.get("quirk", [])))
    m = anon_map(ctx)
    rows = [{"participant": m[pid], "split": labels.at[pid, "split"], "label": int(labels.at[pid, "label"]),
             "gender": labels.at[pid, "gender"], "duration_min": round(s.duration_s / 60, 2),
             "valid_percent": round(100 * s.valid_fraction, 1), "quirk": quirks.get(pid, "")}
            for pid, s in ctx.corpus.sessions.items()]
    return pd.DataFrame(rows)


def landmark_signals(norm: Normalised) -> dict:
    """Interpretable per-frame signals of a normalised session (inter-ocular units / degrees)."""
    xyz = norm.landmarks
    a, b = MOUTH_INNER_VERTICAL
    mouth = np.linalg.norm(xyz[:, a] - xyz[:, b], axis=1)
    eye = (np.linalg.norm(xyz[:, 37] - xyz[:, 41], axis=1) + np.linalg.norm(xyz[:, 44] - xyz[:, 46], axis=1)) / 2
    out = {"mouth opening": mouth, "eye aperture": eye,
           "head yaw (deg)": np.rad2deg(norm.pose[:, 1]), "head pitch (deg)": np.rad2deg(norm.pose[:, 0])}
    return {k: np.where(norm.valid, v, np.nan) for k, v in out.items()}


def frame_times(norm: Normalised) -> np.ndarray:
    """(T,) seconds of each normalised frame."""
    return np.arange(len(norm.valid)) / norm.fps


def signal_summary(ctx: Context) -> pd.DataFrame:
    """Per participant: SD of each landmark signal (movement amplitude) and label."""
    labels = dict(zip(ctx.corpus.labels.participant_id, ctx.corpus.labels.label))
    rows = []
    for pid, s in ctx.corpus.sessions.items():
        sig = landmark_signals(normalise_session(s, ctx.params))
        rows.append({"label": labels[pid], **{f"{k} SD": float(np.nanstd(v)) for k, v in sig.items()}})
    return pd.DataFrame(rows)


def mean_face(ctx: Context) -> np.ndarray:
    """(68, 3) mean of the per-session median normalised faces (an aggregate: always publishable)."""
    faces = [np.median(n.landmarks[n.valid], axis=0) for n in
             (normalise_session(s, ctx.params) for s in ctx.corpus.sessions.values())]
    return np.mean(faces, axis=0)


def example_session(ctx: Context, seconds: float = 10.0):
    """(participant label, normalised session, excerpt (T, 68, 3)) of the first usable session, or
    None when per-participant data may not be shown."""
    if not ctx.participant_data:
        return None
    pid, s = next(iter(ctx.corpus.sessions.items()))
    norm = normalise_session(s, ctx.params)
    start = int(np.argmax(norm.valid))
    n = int(seconds * norm.fps)
    return pid, norm, norm.landmarks[start:start + n]


def example_window(ctx: Context) -> dict | None:
    """One window, raw -> normalised -> pseudo-image, and the seed frame layout of the same session."""
    if not ctx.participant_data:
        return None
    from dataclasses import replace
    pid, s = next(iter(ctx.corpus.sessions.items()))
    norm = normalise_session(s, ctx.params)
    enc = encode_windows(norm, ctx.params)
    frame_params = replace(ctx.params, encode=replace(ctx.params.encode, layout="frame", frame_size=0))
    frames = encode_frames(norm, frame_params)
    W = enc.images.shape[-1]
    raw_t = int(ctx.params.encode.window_seconds * s.fps)
    return {"participant": pid, "raw": np.asarray(s.landmarks[:raw_t]), "normalised": norm.landmarks[:W],
            "image": enc.images[0], "rows": enc.row_names, "seed_frame": frames.images[0]}


def class_mean_images(ctx: Context) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Mean window pseudo-image per class, averaged per participant first: (2, C, R, W), row names.

    Values are centred displacement images, so the mean shows where movement differs, not its sign."""
    labels = dict(zip(ctx.corpus.labels.participant_id, ctx.corpus.labels.label))
    per_class: dict = {0: [], 1: []}
    rows: tuple = ()
    for pid, s in ctx.corpus.sessions.items():
        enc = encode_session(s, ctx.params)
        if enc.windows:
            per_class[labels[pid]].append(np.abs(enc.images - 0.5).mean(axis=0))
            rows = enc.row_names
    means = np.stack([np.mean(per_class[c], axis=0) for c in (0, 1)])
    return means, means[1] - means[0], rows
