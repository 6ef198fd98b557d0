"""What the pseudo-image notebook (02) computes: one window in units a reader knows, the class-mean
images and their difference, their captions; with the privacy guard of :mod:`explore`.

A pseudo-image row's *activity* is its distance from that row's own neutral (:func:`encode.row_neutrals`):
the session's median for landmarks, geometry, landmark pose translation and series pose and gaze;
the template face's orientation for the landmark pose-rotation row; intensity 0 (at rest) for AUs.
Each row group (landmark regions, geometry, pose, each series unit) is drawn on its own colour scale.
"""
from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pandas as pd

from ..encoding.encode import (GEOMETRY, SERIES_GROUPS, SeriesGroup, _value_channels, encode_frames, encode_session, encode_windows, row_names, row_neutrals, series_group)
from .explore import Context, more_less
from ..corpora.face import REGIONS
from ..encoding.normalise import normalise_session
from ..params import Params

# ---------------------------------------------------------------- pseudo-images (notebook 02)

def example_window(ctx: Context) -> dict | None:
    """One window of the first usable session: its pseudo-image and row names; for landmarks also
    raw -> normalised and the seed frame layout of the same session. None when per-participant data
    may not be shown."""
    if not ctx.participant_data:
        return None
    pid, s = next(iter(ctx.corpus.sessions.items()))
    norm = normalise_session(s, ctx.params)
    enc = encode_windows(norm, ctx.params)
    out = {"participant": pid, "image": enc.images[0], "rows": enc.row_names}
    if norm.landmarks is None:
        return out
    frame_params = replace(ctx.params, encode=replace(ctx.params.encode, layout="frame", frame_size=0))
    frames = encode_frames(norm, frame_params)
    W = enc.images.shape[-1]
    raw_t = int(ctx.params.encode.window_seconds * s.fps)
    return out | {"raw": np.asarray(s.landmarks[:raw_t]), "normalised": norm.landmarks[:W],
                  "seed_frame": frames.images[0], "seed_rows": row_names(False)}


def activity(images: np.ndarray, rows: tuple) -> np.ndarray:
    """(..., C, R, W) window pseudo-images -> |value − the row's neutral| (:func:`row_neutrals`), encoded units."""
    return np.abs(images - row_neutrals(rows, images.shape[-3])[:, :, None])


def _series_titles(g: SeriesGroup, magnitude: bool, velocity: bool) -> tuple[str, str]:
    """(colour-bar title, heading) of a block of series rows."""
    per = "/s" if velocity else ""
    size = "size of the " if magnitude else ""
    if velocity:
        heading = f"{g.name}: {size}change per second"
    elif g.neutral == 0:  # AU intensity (0-5) and presence (0/1) are their own size
        heading = f"{g.name} (0 = at rest, {g.per_encoded:g} = {'maximal' if g.per_encoded > 1 else 'present'})"
    else:
        heading = f"{g.name}: {size}change from the session's median"
    return (f"{g.unit}<br>(0–{g.per_encoded:g})" if g.neutral == 0 and not velocity else f"{g.unit}{per}"), heading


def image_blocks(image: np.ndarray, rows: tuple, params: Params, centred: bool = False, magnitude: bool = False,
                 velocity: bool = False) -> list:
    """A (C, R, W) window pseudo-image less each row's neutral (:func:`row_neutrals`), in units a
    reader knows, split into the row groups :func:`plots.pseudo_image_figure` draws with their own
    colour scales: landmark and geometry rows as displacement in inter-ocular units (IOD), landmark
    pose rows as a fraction of their encoding range (±1 = ±rotation_range_deg or ±translation_range),
    series rows (E-DAIC) per :data:`SERIES_GROUPS` in mm, degrees, unit-vector components or AU intensity.

    ``velocity``: the velocity channels (the second half of C) instead, per second. ``centred``: the
    image already holds value − neutral (e.g. class means of activity). ``magnitude``: the values are
    sizes |value − neutral| (the titles say so). Each block: z (C', R', W), rows, unit (colour-bar
    title), group, units (for sentences) and, for series, title (the block's heading)."""
    e = params.encode
    image = np.asarray(image, float)
    z = image if centred else image - row_neutrals(rows, image.shape[0])[:, :, None]
    values = _value_channels(z.shape[0])
    z = z[values:] if velocity else z[:values]
    rate = params.normalise.target_fps / 4 if velocity else 1.0  # velocity = 0.5 + 4 * change per frame
    per = "/s" if velocity else ""
    what = f"{'|' * magnitude}{'velocity' if velocity else 'displacement'}{'|' * magnitude}"
    landmark = {"landmarks": (2 * e.displacement_range, f"{what}<br>(IOD{per})", "IOD"),
                "geometry": (2 * e.displacement_range, f"geometry<br>(IOD{per})", "IOD"),
                "pose": (2.0, f"pose<br>(range{per})", "range")}
    blocks, start = [], 0
    for kind, run in itertools.groupby(_row_kind(r) for r in rows):  # one block per consecutive run of a kind
        end = start + len(list(run))
        g, block = series_group(rows[start]), {"rows": tuple(rows[start:end]), "group": kind}
        if kind in landmark:
            scale, block["unit"], units = landmark[kind]
        elif g is not None:  # series: the group's unit in the colour bar, what it shows as the block's heading
            scale, units = g.per_encoded, g.unit
            block["unit"], block["title"] = _series_titles(g, magnitude, velocity)
        else:
            scale, block["unit"], units = 1.0, f"encoded<br>value{per}", "encoded"
        blocks.append(block | {"z": z[:, start:end] * scale * rate, "units": units + per})
        start = end
    return blocks


def _row_kind(name: str) -> str:
    """The kind of a pseudo-image row, from its name (encode.row_names, the geometry rows, series names)."""
    if name.startswith("pose "):
        return "pose"
    if name.startswith("geometry "):
        return "geometry"
    if name.split(" ")[0] in REGIONS:
        return "landmarks"
    g = series_group(name)
    return g.name if g else "other"


def class_mean_images(ctx: Context) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Mean pseudo-image per class, averaged per participant first: (2, C, R, W), their difference
    (depressed − not depressed) and the row names.

    Window layout: the mean *activity*, |value − the row's neutral| (:func:`activity`), so a row that
    moves (or, for an AU, is active) more is larger, whatever its neutral. Frame layout: it holds
    coordinates, not movement (each frame min-max scaled, no neutral), so the mean values
    themselves, at the native 68×3 (a resize is linear, so it would only interpolate these means)."""
    frame = ctx.params.encode.layout == "frame"
    params = replace(ctx.params, encode=replace(ctx.params.encode, frame_size=0)) if frame else ctx.params
    labels = dict(zip(ctx.corpus.labels.participant_id, ctx.corpus.labels.label))
    per_class: dict = {0: [], 1: []}
    rows: tuple = ()
    for pid, s in ctx.corpus.sessions.items():
        enc = encode_session(s, params)
        if enc.windows:
            rows = enc.row_names
            per_class[labels[pid]].append((enc.images if frame else activity(enc.images, rows)).mean(axis=0))
    means = np.stack([np.mean(per_class[c], axis=0) for c in (0, 1)])
    return means, means[1] - means[0], rows


def class_mean_blocks(ctx: Context) -> dict:
    """The class means and their differences as :func:`image_blocks` (activity and, when encoded,
    velocity), with colour limits shared by the two class means (99th percentile of both), the
    figures' channel names and x axis, what is averaged, and the sentences, for notebook 02."""
    from .plots import robust_limit
    means, diff, rows = class_mean_images(ctx)
    if ctx.params.encode.layout == "frame":
        block = {"rows": row_names(False), "unit": "min-max scaled<br>coordinate", "group": "frame", "units": ""}
        blocks = [[block | {"z": m[:1]}] for m in means]
        difference = [block | {"z": diff[:1], "unit": "difference<br>(scaled coordinate)"}]
        axis = {"channels": ("one channel (copied to three)",), "x_values": ["x", "y", "z"], "x_title": "coordinate"}
        return {"not depressed": blocks[0], "depressed": blocks[1], "limits": [robust_limit(means[:, :1])],
                "difference": difference, "velocity difference": None, "what": "min-max scaled coordinate",
                "sentence": class_difference_sentence(difference), "velocity sentence": "",
                "intro": "The frame layout holds coordinates, not movement (each frame's 68×3 matrix min-max scaled, "
                         "with no neutral): the mean scaled coordinates of each class, then their difference.", **axis}
    blocks = [image_blocks(m, rows, ctx.params, centred=True, magnitude=True) for m in means]
    limits = [robust_limit(blocks[0][b]["z"], blocks[1][b]["z"]) for b in range(len(blocks[0]))]
    difference = image_blocks(diff, rows, ctx.params, centred=True, magnitude=True)
    velocity = image_blocks(diff, rows, ctx.params, centred=True, magnitude=True, velocity=True)
    what, vwhat = ("|displacement|", "|velocity|") if ctx.has_landmarks else ("activity", "|change per second|")
    intro = ("Mean absolute displacement from the session's neutral face, averaged over each participant's windows, "
             "then over the participants of a class; then their difference." if ctx.has_landmarks else
             "Mean activity of each row, its distance from the row's neutral (for head pose and gaze the size of the "
             "change from the session's median, for an action unit its intensity, 0 at rest), averaged over each "
             "participant's windows, then over the participants of a class; then their difference, red where the "
             "depressed class is more active. Each group of rows has its own colour scale in its own unit.")
    return {"not depressed": blocks[0], "depressed": blocks[1], "limits": limits, "difference": difference,
            "velocity difference": velocity, "what": what, "intro": intro,
            "sentence": class_difference_sentence(difference, what.strip("|")),
            "velocity sentence": class_difference_sentence(velocity, vwhat.strip("|")),
            "velocity caption": "The same difference for the mean |velocity| (how fast the " + (
                "face moves)." if ctx.has_landmarks else "series change): the size of the frame-to-frame change."),
            "channels": channel_names(rows),
            "x_values": window_seconds_axis(means[0], ctx.params), "x_title": "time in window (s)"}


def channel_names(rows: tuple) -> tuple:
    """The channel titles of a window pseudo-image's figure: X, Y, Z (landmark layouts); none for the one
    channel of series (its blocks have headings)."""
    return ("X", "Y", "Z") if any(_row_kind(r) in ("landmarks", "pose", "geometry") for r in rows) else ("",)


def pseudo_image_intro(ctx: Context) -> str:
    """What notebook 02 shows, for the corpus' layout."""
    seconds = ctx.params.encode.window_seconds
    if ctx.has_landmarks:
        return (f"How a {seconds:g}-second window of landmarks becomes the image the CNN reads: raw → normalised → "
                "pseudo-image, the seed paper's frame layout beside it, and the mean image of each class.")
    return (f"This corpus has no landmarks: the CNN reads {seconds:g}-second windows of per-frame head pose, gaze and "
            "action-unit (AU) intensity series, one image row per series and one column per frame "
            f"({ctx.params.normalise.target_fps:g} per second), with the frame-to-frame change as a second channel. "
            "Each row is encoded about its own neutral: head pose and gaze as the change from the session's median, "
            "AU intensity from 0 (the muscle at rest) on its 0–5 scale. The figures draw each group of rows (head "
            "translation, head rotation, gaze direction, gaze angle, AU intensity) on its own colour scale, in its "
            "own unit.")


def window_seconds_axis(image: np.ndarray, params: Params) -> np.ndarray:
    """(W,) seconds of each column of a window pseudo-image."""
    return np.arange(image.shape[-1]) / params.normalise.target_fps


# What the X, Y, Z channels of the rows other than landmarks hold (encode.landmark_frames)
ROW_CHANNELS = {"pose rotation": ("pitch", "yaw", "roll"), "pose translation": ("x", "y", "z"),
                "geometry mouth": GEOMETRY[0], "geometry eyes": GEOMETRY[1]}


def image_caption(rows: tuple) -> str:
    """What the rows of a window pseudo-image are, for its figure's caption."""
    groups = [k for k, _ in itertools.groupby(_row_kind(r) for r in rows)]
    if any(g in SERIES_GROUPS for g in groups):
        listed = ", ".join(f"{g} ({sum(_row_kind(r) == g for r in rows)} rows, {SERIES_GROUPS[g].unit})"
                           for g in groups if g in SERIES_GROUPS)
        return (f"Rows, top to bottom: {listed}; columns: time. Head pose and gaze rows show the change from the "
                "session's median, AU rows the intensity itself (0 = at rest, 5 = maximal). White is no activity; "
                "each row group has its own colour scale, symmetric at the 99th percentile of its |value|.")
    parts = []
    if "landmarks" in groups:
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


def velocity_caption(rows: tuple) -> str:
    """Caption of a window's velocity channels (landmark layouts: three; series: one)."""
    if channel_names(rows) == ("X", "Y", "Z"):
        return ("The frame-to-frame change of each value, per second: the three extra channels the network reads "
                "beside X, Y and Z.")
    return ("The frame-to-frame change of each series, per second: the second channel the network reads beside the "
            "values. White is no change.")


def _signed(value: float, units: str = "") -> str:
    return f"{value:+.2g}".replace("-", "−") + (f" {units}" if units else "")


def class_difference_sentence(blocks_diff: list, what: str = "displacement") -> str:
    """Per facial region (first block's rows), the depressed-minus-not difference averaged over
    channels and time: is it the same sign everywhere, and where is it largest. An image without
    landmark rows: the largest difference of each row group instead (:func:`_signal_difference_sentence`).
    ``blocks_diff``: :func:`image_blocks` of a difference of class means of activity (or, frame
    layout, of values): positive = more in the depressed class."""
    if blocks_diff[0].get("group") == "frame" or _row_kind(blocks_diff[0]["rows"][0]) != "landmarks":
        return _signal_difference_sentence(blocks_diff, what)
    z, rows = blocks_diff[0]["z"], blocks_diff[0]["rows"]
    per_row = z.mean(axis=(0, 2))
    regions = pd.Series(per_row, index=[r.split(" ")[0] for r in rows]).groupby(level=0, sort=False).mean()
    lo, hi = regions.idxmin(), regions.idxmax()
    unit = blocks_diff[0]["units"]  # IOD or IOD/s
    if regions.max() < 0:
        head = f"The depressed class has less mean |{what}| in every facial region"
    elif regions.min() > 0:
        head = f"The depressed class has more mean |{what}| in every facial region"
    else:
        head = f"The sign of the difference in mean |{what}| varies between facial regions"
    return (f"{head}: averaged over channels and time, from {_signed(regions[lo], unit)} ({lo}) to "
            f"{_signed(regions[hi], unit)} ({hi}). Blue: less in the depressed class.")


def _signal_difference_sentence(blocks_diff: list, what: str) -> str:
    """Per block of rows (landmark pose or geometry, a series group, the frame layout): the signal
    (row and channel; frame layout: landmark and coordinate) whose depressed-minus-not difference,
    averaged over time, is largest in size, with its direction."""
    found, frame = [], blocks_diff[0]["group"] == "frame"
    for b in blocks_diff:
        mean = b["z"][0] if frame else b["z"].mean(axis=2)  # frame: (R, 3 coordinates); else (C, R) over time
        i, j = np.unravel_index(np.argmax(np.abs(mean)), mean.shape)
        if frame:
            signal, group = f"landmark {b['rows'][i]}, coordinate {'xyz'[j]}", "frame layout"
            direction = "higher" if mean[i, j] > 0 else "lower"
        else:
            names = ROW_CHANNELS.get(b["rows"][j], ())
            name = names[i % 3] if i % 3 < len(names) and names[i % 3] else ""
            signal = f"{name.replace('_', ' ')} ({b['rows'][j]})" if name else b["rows"][j]
            group, direction = b["group"], f"{more_less(mean[i, j])} in the depressed class"
        found.append(f"{group}: {signal} {_signed(mean[i, j], b['units'])} ({direction})")
    if frame:
        return ("Largest difference in mean scaled coordinate, depressed − not depressed: " + "; ".join(found)
                + ". Blue: lower in the depressed class.")
    medians = (" These are means: the Corpus exploration page compares the median participant's AU intensity "
               "over the whole session, which a few very active participants do not move, so an AU's direction "
               "can differ between the two pages." if any(b["group"] == "AU intensity" for b in blocks_diff) else "")
    return (f"Largest difference per row group in mean {what} (the mean over a class's participants of each "
            "participant's mean over its windows), depressed − not depressed, averaged over time: "
            + "; ".join(found) + ". Red: more in the depressed class; blue: less." + medians)
