"""DAIC-WOZ's pose, gaze and action-unit series (a leaf reader; ``data.signals: shared_series``).

Per session ``NNN_P/NNN_CLNF_pose.txt``, ``NNN_CLNF_gaze.txt`` and ``NNN_CLNF_AUs.txt`` (or
``NNN_CLNF_AUs.csv``, as the corpus documentation names it), in folders or ``NNN_P.zip`` archives.
Exposes what every reader does (:func:`find_sessions`, :func:`session_from_path`,
:func:`read_session`, :func:`read_labels`, :data:`QUIRKS`). A session reads as the series layout
both corpora share (``corpus.SHARED_SERIES``, OpenFace 2's names) so a model trained on one corpus
reads the other.

TO BE WRITTEN (helper): see the lead's spec.
"""
from __future__ import annotations

from pathlib import Path

from . import daic
from .textio import DataError

FORMAT = daic.FORMAT
LAYOUT = "NNN_P/NNN_CLNF_pose.txt, NNN_CLNF_gaze.txt and NNN_CLNF_AUs.txt (or NNN_P.zip)"
QUIRKS = daic.QUIRKS
read_labels = daic.read_labels
LABEL_FILES = daic.LABEL_FILES


def find_sessions(root: Path) -> tuple[dict, list]:
    raise DataError(f"{root}: DAIC-WOZ series reader not written yet")


def session_from_path(path: Path):
    raise DataError(f"{path}: DAIC-WOZ series reader not written yet")


def read_session(pid: str, source, params, mask_quirks: bool = False):
    raise DataError(f"{pid}: DAIC-WOZ series reader not written yet")
