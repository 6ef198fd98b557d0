"""The input groups that explanations occlude, and the feature model's part of each: which rows of a
window pseudo-image (:func:`row_groups`) and which feature-model functionals (:func:`feature_group`)
show one part of the face, the neutral value a group takes when occluded (:func:`group_neutrals`), and
each group's share of the feature model's linear logit (:func:`feature_contributions`). What is
occluded and how is :mod:`explain`; this module only names and groups."""
from __future__ import annotations

import numpy as np

from ..encoding.encode import row_neutrals, series_group
from ..params import ParamsError

GEOMETRY_GROUPS = {"geometry mouth": "mouth geometry", "geometry eyes": "eye and brow geometry"}
POSE_GROUPS = {"pose rotation": "head rotation", "pose translation": "head translation"}
AU_FAMILIES = {"brow AUs": (1, 2, 4), "eye AUs": (5, 6, 7, 45), "nose AUs": (9,),
               "mouth AUs": (10, 12, 14, 15, 17, 20, 23, 25, 26)}  # by the face region each AU moves
# which face part a group shows (a planted cue's region is one of these)
GROUP_PARTS = {"mouth geometry": {"mouth"}, "eye and brow geometry": {"eyes", "brows"}, "mouth": {"mouth"},
               "brows": {"brows"}, "eyes": {"eyes"}, "nose": {"nose"}, "jaw": {"jaw"},
               "head rotation": {"pose"}, "head translation": {"pose"}, "mouth AUs": {"mouth"},
               "brow AUs": {"brows"}, "eye AUs": {"eyes"}, "nose AUs": {"nose"}, "gaze": {"eyes"}}
PLANTED_PART = {"smiles": "mouth", "speech_rate": "mouth", "brows": "brows", "blinks": "eyes",
                "head_motion": "pose", "head_pitch": "pose"}  # synthetic cue family -> face part


def _au_family(name: str) -> str:
    number = int("".join(ch for ch in name[2:4] if ch.isdigit()) or -1)
    return next((fam for fam, aus in AU_FAMILIES.items() if number in aus), "other AUs")


def row_groups(rows: tuple) -> tuple:
    """The group of each row of a window pseudo-image, from encode's row names (``RowLayout.names``
    or the E-DAIC series names)."""
    out = []
    for name in rows:
        if name in POSE_GROUPS or name in GEOMETRY_GROUPS:
            out.append({**POSE_GROUPS, **GEOMETRY_GROUPS}[name])
        elif name.split(" ")[0] in ("jaw", "brows", "nose", "eyes", "mouth"):
            out.append(name.split(" ")[0])  # "mouth 48": a landmark row
        elif name.startswith("AU"):
            out.append(_au_family(name))
        elif series_group(name) is not None:
            g = series_group(name).name
            out.append("gaze" if g.startswith("gaze") else g)
        else:
            raise ParamsError(f"explain: image row {name!r} belongs to no group")
    return tuple(out)


# feature-model functionals (features.py) by the face part their signal comes from
_FEATURE_PARTS = (("mouth_", "mouth"), ("smile_", "mouth"), ("eye_", "eyes"), ("blink_", "eyes"),
                  ("brow_", "brows"), ("head_pitch", "head rotation"), ("head_yaw", "head rotation"),
                  ("head_roll", "head rotation"), ("head_t", "head translation"))


def feature_group(column: str, landmark_rows: bool, series: bool = False) -> str:
    """The group of a feature-model column, named as the image's groups are: on the compact image
    mouth -> mouth geometry, eyes and brows -> eye and brow geometry, and jaw and nose (per-region
    movement only) -> "jaw and nose", which the compact image does not show; for ``series``
    (E-DAIC) the series' own group, and the blink rate (from AU45) -> eye AUs."""
    if column.startswith("AU") or (series and column.startswith("blink_")):
        return _au_family(column if column.startswith("AU") else "AU45")
    if column.startswith(("pose_", "gaze_")):
        return row_groups((column,))[0]
    part = column[len("motion_"):].rsplit("_", 1)[0] if column.startswith("motion_") else \
        next((p for prefix, p in _FEATURE_PARTS if column.startswith(prefix)), None)
    if part is None:
        raise ParamsError(f"explain: feature column {column!r} belongs to no group")
    if landmark_rows or part.startswith("head"):
        return part
    return {"mouth": "mouth geometry", "eyes": "eye and brow geometry", "brows": "eye and brow geometry"}.get(
        part, "jaw and nose")


def group_neutrals(rows: tuple, channels: int) -> np.ndarray:
    """(C, R) the value each channel of each row takes when occluded (module docstring)."""
    return row_neutrals(rows, channels).astype(np.float32)


def feature_contributions(form: dict, features: dict, landmark_rows: bool, series: bool = False) -> dict:
    """{group: contribution} of the feature model's linear logit: each group's standardised
    functionals times their coefficients (its change when set to the training mean, negated)."""
    z = (np.array([float(features[c]) for c in form["columns"]]) - np.array(form["mean"])) / np.array(form["scale"])
    parts = z * np.array(form["coef"])
    out: dict = {}
    for column, value in zip(form["columns"], parts):
        g = feature_group(column, landmark_rows, series)
        out[g] = out.get(g, 0.0) + float(value)
    return out
