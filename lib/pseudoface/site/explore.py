"""What the corpus-exploration notebook (01) computes, and the setup every notebook shares
(:class:`Context`: params, corpus, whether per-participant data may be shown); the pseudo-image
notebook's (02) is :mod:`images`.

Fail closed: unless the corpus root carries the synthetic marker (or ``report.allow_participant_data``
is true), nothing here returns per-participant raw landmark or series sequences, participant
identifiers (tables use anonymous labels P01, P02, ...) or local paths.

Two kinds of corpus: landmarks (DAIC-WOZ, the synthetic default, videos) and per-frame series
(E-DAIC: head pose, gaze, action-unit (AU) intensities, grouped by unit in :data:`encode.SERIES_GROUPS`).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..corpora.corpus import Corpus
from ..encoding.encode import SERIES_GROUPS, series_group
from ..encoding.features import landmark_signals
from ..encoding.normalise import Normalised, normalise_session
from ..params import Params, load_params, project_root
from ..corpora.read import ensure_synthetic, load_corpus

IOD = "inter-ocular units"  # lengths after normalisation: the outer-eye-corner distance is 1
NOT_SHOWN = ("Not shown: this is a licensed corpus, and its per-participant data is not published "
             "(only aggregates over participants are).")
TRACE_GROUPS = ("head rotation", "head translation", "gaze angle", "AU intensity")  # gaze direction = gaze angle


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


def label_rule_sentence(ctx: Context) -> str:
    """Which label the models are trained and scored on, and what the disagreements mean for it."""
    n = len(ctx.corpus.disagreements)
    rule = ("PHQ-8 score ≥ 10 (the files' binary label is not used)" if ctx.params.data.label_rule == "score_ge_10"
            else "the files' binary label (not PHQ-8 ≥ 10)")
    return (f"Every model on these pages is trained and scored on depressed = {rule}. "
            + (f"The {n} participant{'s' * (n != 1)} above would carry the other label under the other rule." if n
               else "Both rules give every usable participant the same label."))


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


# ---------------------------------------------------------------- series corpora (E-DAIC)

def series_values(norm: Normalised) -> dict:
    """{group name: {series name: (T,) in the group's unit (:data:`SERIES_GROUPS`), NaN on invalid
    frames}} of a normalised series session."""
    out: dict = {}
    for j, name in enumerate(norm.series_names):
        g = series_group(name)
        if g is not None:
            out.setdefault(g.name, {})[name] = np.where(norm.valid, norm.series[:, j] * g.per_raw, np.nan)
    return out


def series_label(group: str) -> str:
    """'<group> (<unit>)' of a :data:`SERIES_GROUPS` entry, for axes and table columns."""
    g = SERIES_GROUPS[group]
    return f"{g.name} ({f'0–{g.per_encoded:g}' if g.neutral == 0 else g.unit})"  # AUs have a scale, not a unit


def series_summaries(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per usable participant of a series corpus: (1) label and each group's amplitude, 'SD of <group>
    (<unit>)' = the mean over the group's series of each one's SD over the session's valid frames;
    (2) long table label, au, intensity = each AU's mean intensity (0-5) over the valid frames.
    Anonymous rows (no participant column)."""
    labels = dict(zip(ctx.corpus.labels.participant_id, ctx.corpus.labels.label))
    amplitude, intensity = [], []
    for pid, s in ctx.corpus.sessions.items():
        values = series_values(normalise_session(s, ctx.params))
        amplitude.append({"label": labels[pid], **{
            f"SD of {series_label(g)}": float(np.mean([np.nanstd(v) for v in series.values()]))
            for g, series in values.items()}})
        intensity += [{"label": labels[pid], "au": name, "intensity": float(np.nanmean(v))}
                      for name, v in values.get("AU intensity", {}).items()]
    return pd.DataFrame(amplitude), pd.DataFrame(intensity, columns=["label", "au", "intensity"])


def au_intensity_sentence(intensity: pd.DataFrame) -> str:
    """The AU whose median per-participant mean intensity differs most between the classes, with the
    direction, and how many AUs are less intense in the depressed class."""
    med = intensity.groupby(["au", "label"]).intensity.median().unstack().reindex(columns=[0, 1])  # (AU, class)
    diff = (med[1] - med[0]).dropna()
    if diff.empty:
        return "Only one class has participants: no class difference to describe."
    au = diff.abs().idxmax()
    return (f"Largest class difference in the median, over a class's participants, of each participant's mean "
            f"intensity over the session: {au}, {med.at[au, 0]:.2f} (not depressed) vs "
            f"{med.at[au, 1]:.2f} (depressed), {more_less(diff[au])} in the depressed class; "
            f"{int((diff < 0).sum())} of {len(diff)} action units are less intense in the depressed class. "
            "Each point is one participant. These are medians: the Pseudo-images page compares class means over "
            "the encoded windows, which a few very active participants can pull the other way.")


def example_series(ctx: Context):
    """(participant label, times (T,) s, {'<group> (<unit>)': {series: (T,)}}) of the first usable
    session's head pose, gaze angles and AU intensities (:data:`TRACE_GROUPS`), NaN on invalid frames;
    head translation from its session median (the camera distance would flatten the other axes).
    None when per-participant data may not be shown."""
    if not ctx.participant_data:
        return None
    pid, s = next(iter(ctx.corpus.sessions.items()))
    norm = normalise_session(s, ctx.params)
    values = series_values(norm)
    values["head translation"] = {k: v - np.nanmedian(v) for k, v in values.get("head translation", {}).items()}
    return pid, frame_times(norm), {series_label(g).replace("translation (", "translation − median ("): values[g]
                                    for g in TRACE_GROUPS if values.get(g)}


def context_sentence(ctx: Context) -> str:
    kind = "a synthetic corpus" if ctx.corpus.synthetic else "a licensed corpus"
    shown = ("per-participant examples are shown" if ctx.participant_data else
             "per-participant sequences and identifiers of a licensed corpus are not shown")
    return (f"Dataset **{ctx.params.dataset}**, {kind}; " + ("3-D landmarks" if ctx.has_landmarks else
            "no landmarks (pose, gaze and action-unit series)") + f"; {shown}.")


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


def more_less(value: float) -> str:
    """A signed class difference in words (depressed minus not depressed)."""
    return "more" if value > 0 else ("less" if value < 0 else "no different")
