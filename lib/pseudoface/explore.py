"""What the exploration notebooks (01 landmarks, 02 pseudo-images) compute, with the privacy guard.

Fail closed: unless the corpus root carries the synthetic marker (or ``report.allow_participant_data``
is true), nothing here returns per-participant raw landmark sequences, participant identifiers
(tables use anonymous labels P01, P02, ...) or local paths.
"""
from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .corpus import Corpus
from .encode import GEOMETRY, encode_frames, encode_session, encode_windows, row_names
from .face import REGIONS
from .features import landmark_signals
from .normalise import Normalised, normalise_session
from .params import Params, load_params, project_root
from .read import ensure_synthetic, load_corpus

IOD = "inter-ocular units"  # lengths after normalisation: the outer-eye-corner distance is 1


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
    from .plots import use_offline_renderer
    # `pseudoface report` passes a params file outside the project as ${PSEUDOFACE_PARAMS_FILE}
    params_file = re.sub(r"\$\{(\w+)\}", lambda m: os.environ.get(m.group(1), m.group(0)), str(params_file))
    if not Path(params_file).is_file() and (project_root() / params_file).is_file():
        os.chdir(project_root())
    if isinstance(overrides, str):
        overrides = [overrides]
    use_offline_renderer()
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


def signal_traces(norm: Normalised) -> dict:
    """Per-frame signals of a normalised session to plot, keyed 'name (unit)', NaN on invalid frames:
    mouth opening and eye aperture of :func:`features.landmark_signals`, head yaw and pitch."""
    signals = landmark_signals(norm.landmarks)
    out = {f"mouth opening ({IOD})": signals["mouth_open"], f"eye aperture ({IOD})": signals["eye_open"],
           "head yaw (degrees)": np.rad2deg(norm.pose[:, 1]), "head pitch (degrees)": np.rad2deg(norm.pose[:, 0])}
    return {k: np.where(norm.valid, v, np.nan) for k, v in out.items()}


def frame_times(norm: Normalised) -> np.ndarray:
    """(T,) seconds of each normalised frame."""
    return np.arange(len(norm.valid)) / norm.fps


def signal_summary(ctx: Context) -> pd.DataFrame:
    """Per participant: SD of each landmark signal (movement amplitude) and label."""
    labels = dict(zip(ctx.corpus.labels.participant_id, ctx.corpus.labels.label))
    rows = []
    for pid, s in ctx.corpus.sessions.items():
        sig = signal_traces(normalise_session(s, ctx.params))
        rows.append({"label": labels[pid], **{f"SD of {k}": float(np.nanstd(v)) for k, v in sig.items()}})
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
            "image": enc.images[0], "rows": enc.row_names, "seed_frame": frames.images[0],
            "seed_rows": row_names(False)}


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


def image_blocks(image: np.ndarray, rows: tuple, params: Params, centred: bool = False, magnitude: bool = False,
                 velocity: bool = False) -> list:
    """A (C, R, W) window pseudo-image in units a reader knows, split into the row groups
    :func:`plots.pseudo_image_figure` draws with their own colour scales: landmark rows as displacement
    in inter-ocular units (IOD), pose rows as a fraction of their encoding range (±1 = ±rotation_range_deg
    or ±translation_range), other series (E-DAIC) as the encoded value less its neutral 0.5.

    ``velocity``: the velocity channels (the second half of C) instead, per second. ``centred``: the
    image already holds value − 0.5 (e.g. class means of |value − 0.5|)."""
    e = params.encode
    z = np.asarray(image, float) if centred else np.asarray(image, float) - 0.5
    half = z.shape[0] // 2 if z.shape[0] % 2 == 0 and z.shape[0] > 1 else z.shape[0]  # values, then velocities
    z = z[half:] if velocity else z[:half]
    rate = params.normalise.target_fps / 4 if velocity else 1.0  # velocity = 0.5 + 4 * change per frame
    what = ("|velocity|" if magnitude else "velocity") if velocity else ("|displacement|" if magnitude else "displacement")
    per = "/s" if velocity else ""
    kinds = [_row_kind(r) for r in rows]
    if "other" in kinds:  # series (E-DAIC): one block of encoded values
        what = ("|value − 0.5|" if magnitude else "value − 0.5") if not velocity else what
        return [{"z": z * rate, "rows": tuple(rows), "unit": f"{what}<br>(encoded{per})"}]
    # landmark and geometry rows are displacements in IOD, pose rows fractions of their range; one
    # block per consecutive run of a kind, in the image's row order
    scale = {"landmarks": 2 * e.displacement_range, "geometry": 2 * e.displacement_range, "pose": 2.0}
    unit = {"landmarks": f"{what}<br>(IOD{per})", "geometry": f"geometry<br>(IOD{per})", "pose": f"pose<br>(range{per})"}
    blocks, start = [], 0
    for k, run in itertools.groupby(kinds):
        end = start + len(list(run))
        blocks.append({"z": z[:, start:end] * scale[k] * rate, "rows": tuple(rows[start:end]), "unit": unit[k]})
        start = end
    return blocks


def _row_kind(name: str) -> str:
    """The kind of a window pseudo-image row, from its name (encode.row_names and the geometry rows)."""
    if name.startswith("pose "):
        return "pose"
    if name.startswith("geometry "):
        return "geometry"
    return "landmarks" if name.split(" ")[0] in REGIONS else "other"


def class_mean_blocks(ctx: Context) -> dict:
    """The class means and their differences as :func:`image_blocks` (displacement and, when encoded,
    velocity), with colour limits shared by the two class means (99th percentile of both), for notebook 02."""
    from .plots import robust_limit
    means, diff, rows = class_mean_images(ctx)
    blocks = [image_blocks(m, rows, ctx.params, centred=True, magnitude=True) for m in means]
    limits = [robust_limit(blocks[0][b]["z"], blocks[1][b]["z"]) for b in range(len(blocks[0]))]
    velocity = ctx.has_landmarks
    return {"not depressed": blocks[0], "depressed": blocks[1], "limits": limits,
            "difference": image_blocks(diff, rows, ctx.params, centred=True),
            "velocity difference": image_blocks(diff, rows, ctx.params, centred=True, velocity=True) if velocity else None,
            "seconds": window_seconds_axis(means[0], ctx.params),
            "channels": ("X", "Y", "Z") if ctx.has_landmarks else ("value",),
            "what": "|displacement|" if ctx.has_landmarks else "|encoded value − 0.5|"}


def context_sentence(ctx: Context) -> str:
    kind = "a synthetic corpus" if ctx.corpus.synthetic else "a licensed corpus"
    shown = ("per-participant examples are shown" if ctx.participant_data else
             "per-participant sequences and identifiers are not shown (report.allow_participant_data is off)")
    return (f"Dataset **{ctx.params.dataset}**, {kind}; " + ("3-D landmarks" if ctx.has_landmarks else
            "no landmarks (pose, gaze and action-unit series)") + f"; {shown}.")


def window_seconds_axis(image: np.ndarray, params: Params) -> np.ndarray:
    """(W,) seconds of each column of a window pseudo-image."""
    return np.arange(image.shape[-1]) / params.normalise.target_fps


def flow_sentence(ctx: Context) -> str:
    """How many labelled participants are usable, and where the others were dropped."""
    counts = ctx.corpus.flow.counts
    labelled, usable = counts.get("labelled", 0), counts.get("usable", 0)
    steps = pd.Series([step for _, step, _ in ctx.corpus.flow.dropped]).value_counts()
    dropped = "; ".join(f"{n} at '{step}'" for step, n in steps.items())
    return (f"{usable} of {labelled} labelled participants are usable"
            + (f"; dropped: {dropped}." if dropped else "; no participant was dropped."))


def overview_sentence(ctx: Context) -> str:
    labels = ctx.corpus.usable_labels()
    n, k = len(labels), int(labels.label.sum())
    by_gender = labels.groupby(labels.gender.astype(str)).label.agg(["size", "sum"])
    gender = "; ".join(f"{g}: {int(r['sum'])} of {int(r['size'])} depressed" for g, r in by_gender.iterrows())
    p = k / max(n, 1)
    floor = (1 - p) / (2 - p)  # macro-F1 of predicting "not depressed" for everyone
    return (f"{k} of {n} usable participants ({100 * p:.0f}%) are depressed (PHQ-8 ≥ 10); {gender}. "
            f"At this prevalence, predicting \"not depressed\" for everyone scores a macro-F1 of {floor:.3f}: "
            "the floor every model is compared with.")


def split_table(ctx: Context) -> pd.DataFrame:
    """Usable participants per split and label, with totals."""
    labels = ctx.corpus.usable_labels()
    t = labels.groupby(["split", "label"]).size().unstack(fill_value=0).reindex(columns=[0, 1], fill_value=0)
    t = t.rename(columns={0: "not depressed", 1: "depressed"})
    t["total"] = t.sum(axis=1)
    return t.reset_index()


def quality_sentence(quality: pd.DataFrame) -> str:
    d, v = quality.duration_min, quality.valid_percent
    return (f"Sessions last {d.median():.1f} min (median; {d.min():.1f} to {d.max():.1f}); a median {v.median():.1f}% of "
            f"frames are valid (lowest {v.min():.1f}%). Differences between the classes here would be a confound, "
            "which is why the fold analysis has a data-quality-only baseline.")


def amplitude_sentence(summary: pd.DataFrame) -> str:
    """Median of each signal's per-participant SD, by class."""
    parts = []
    for col in (c for c in summary.columns if c != "label"):
        med = summary.groupby("label")[col].median()
        parts.append(f"{col.split(' (')[0].removeprefix('SD of ')}: {med.get(0, np.nan):.3g} (not depressed) "
                     f"vs {med.get(1, np.nan):.3g} (depressed)")
    return "Median per-participant SD — " + "; ".join(parts) + ". Each point is one participant."


# What the X, Y, Z channels of the rows other than landmarks hold (encode.landmark_frames)
ROW_CHANNELS = {"pose rotation": ("pitch", "yaw", "roll"), "pose translation": ("x", "y", "z"),
                "geometry mouth": GEOMETRY[0], "geometry eyes": GEOMETRY[1]}


def image_caption(rows: tuple) -> str:
    """What the rows of a window pseudo-image are, for its figure's caption."""
    parts = []
    if any(_row_kind(r) == "landmarks" for r in rows):
        parts.append("the 68 landmarks grouped by facial region")
    if "pose rotation" in rows:
        parts.append("two head-pose rows, rotation (pitch, yaw, roll in the X, Y, Z panels) and translation "
                     "(their own colour scale: a fraction of the encoding range)")
    if "geometry mouth" in rows:
        parts.append("two face-geometry rows, mouth (opening, width, corner drop in the X, Y, Z panels) and eyes "
                     "(eye opening, brow height; the Z panel is unused)")
    listed = "; ".join(parts) if parts else "the encoded series"
    return (f"Rows, top to bottom: {listed}; columns: time. White is no movement; colour limits are symmetric "
            "at the 99th percentile of |value| of each row group. IOD: inter-ocular units.")


def class_difference_sentence(blocks_diff: list, what: str = "displacement") -> str:
    """Per facial region (first block's rows), the depressed-minus-not difference averaged over
    channels and time: is it the same sign everywhere, and where is it largest. An image without
    landmark rows: the largest difference of each signal (row and channel) of each block instead."""
    if _row_kind(blocks_diff[0]["rows"][0]) in ("pose", "geometry"):
        return _signal_difference_sentence(blocks_diff, what)
    z, rows = blocks_diff[0]["z"], blocks_diff[0]["rows"]
    per_row = z.mean(axis=(0, 2))
    regions = pd.Series(per_row, index=[r.split(" ")[0] for r in rows]).groupby(level=0, sort=False).mean()
    lo, hi = regions.idxmin(), regions.idxmax()
    unit = re.search(r"\(([^)]*)\)", blocks_diff[0]["unit"]).group(1)  # e.g. IOD, IOD/s, encoded
    if regions.max() < 0:
        head = f"The depressed class has less mean |{what}| in every facial region"
    elif regions.min() > 0:
        head = f"The depressed class has more mean |{what}| in every facial region"
    else:
        head = f"The sign of the difference in mean |{what}| varies between facial regions"
    return (f"{head}: averaged over channels and time, from {regions[lo]:.2g} {unit} ({lo}) to {regions[hi]:.2g} "
            f"{unit} ({hi}). Blue: less in the depressed class.").replace("-", "−")


def _signal_difference_sentence(blocks_diff: list, what: str) -> str:
    """Per block of pose or geometry rows: the signal (row, channel) whose depressed-minus-not
    difference, averaged over time, is largest in size."""
    found = []
    for b in blocks_diff:
        mean = b["z"].mean(axis=2)  # (C, R)
        c, r = np.unravel_index(np.argmax(np.abs(mean)), mean.shape)
        names = ROW_CHANNELS.get(b["rows"][r], ())
        signal = names[c % 3] if c % 3 < len(names) and names[c % 3] else f"channel {c + 1}"
        unit = re.search(r"\(([^)]*)\)", b["unit"]).group(1)
        found.append(f"{signal.replace('_', ' ')} ({b['rows'][r]}) {mean[c, r]:+.2g} {unit}")
    return (f"Largest difference in mean |{what}| per row group, depressed − not depressed, averaged over time: "
            + "; ".join(found) + ". Blue: less in the depressed class.").replace("-", "−")
