"""DAIC-WOZ's pose, gaze and action-unit series (a leaf reader; ``data.signals: shared_series``).

Per session ``NNN_P/NNN_CLNF_pose.txt``, ``NNN_CLNF_gaze.txt`` and ``NNN_CLNF_AUs.txt`` (or
``NNN_CLNF_AUs.csv``, as the corpus documentation names it), in folders or ``NNN_P.zip`` archives
(at any depth; a folder shadows its zip, with a note). Exposes what every reader does
(:func:`find_sessions`, :func:`session_from_path`, :func:`read_session`, :func:`read_labels`,
:data:`QUIRKS`). A session reads as the series layout both corpora share (``corpus.SHARED_SERIES``,
OpenFace 2's names) so a model trained on one corpus reads the other.

A session's source is ``{"pose": src, "gaze": src, "AUs": src}`` (each a path or ``(zip, member)``);
one missing file makes the session a DataError naming the folder or zip and the file (listed and
skipped by the participant flow, never padded). Columns are read by name: DAIC's ``Tx``, ``x_0``,
``AU01_r`` or OpenFace 2's ``pose_Tx``, ``gaze_0_x``. The three files come from one tracker run:
rows are trimmed to the shortest file only when the counts differ by at most a second of frames
and the kept rows' timestamps agree within 0.05 s.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from . import daic
from .corpus import DAIC_AU_INTENSITIES, GAZE_VECTORS, POSE, SHARED_SERIES, Session, frame_flags
from ..params import Params
from .textio import DataError, describe_source, read_columns, read_header

FORMAT = daic.FORMAT
LAYOUT = "NNN_P/NNN_CLNF_pose.txt, NNN_CLNF_gaze.txt and NNN_CLNF_AUs.txt (or NNN_P.zip)"
QUIRKS = daic.QUIRKS
read_labels = daic.read_labels
LABEL_FILES = daic.LABEL_FILES
# input -> accepted file names (the first present is read)
FILES = {"pose": ("{pid}_CLNF_pose.txt",), "gaze": ("{pid}_CLNF_gaze.txt",),
         "AUs": ("{pid}_CLNF_AUs.txt", "{pid}_CLNF_AUs.csv")}
# input -> (SHARED_SERIES names it gives, DAIC-WOZ's own spelling of each)
COLUMNS = {"pose": (POSE, tuple(n[len("pose_"):] for n in POSE)),
           "gaze": (GAZE_VECTORS, tuple(f"{n[7]}_{n[5]}" for n in GAZE_VECTORS)),  # gaze_0_x -> x_0
           "AUs": (DAIC_AU_INTENSITIES + ("AU45_c",), DAIC_AU_INTENSITIES + ("AU45_c",))}
BASE = ("timestamp", "confidence", "success")
TIMESTAMP_TOLERANCE_S = 0.05


def _file_names(pid_text: str) -> dict:
    return {kind: [name.format(pid=pid_text) for name in names] for kind, names in FILES.items()}


def _missing(where, missing: list, pid_text: str) -> DataError:
    wanted = [FILES[kind][0].format(pid=pid_text) for kind in missing]
    return DataError(f"{where}: missing {', '.join(wanted)} (a session needs its pose, gaze and AU files; "
                     "it is skipped, never padded)")


def folder_sources(folder: Path, pid_text: str, required: bool = False):
    """A session folder's three sources; a DataError naming the missing file(s); None when the folder
    holds none of a session's files (not even its landmarks) and ``required`` is false (a zip may
    supply them)."""
    sources, missing = {}, []
    for kind, names in _file_names(pid_text).items():
        path = next((folder / n for n in names if (folder / n).is_file()), None)
        if path is None:
            missing.append(kind)
        else:
            sources[kind] = path
    if missing and not sources and not required and not (folder / daic.LANDMARK_FILE.format(pid=pid_text)).is_file():
        return None
    return _missing(folder, missing, pid_text) if missing else sources


def zip_sources(archive: Path, pid_text: str) -> dict:
    """The three ``(archive, member)`` sources inside a session zip (at any depth); DataError if one is missing."""
    names = _file_names(pid_text)
    members = daic.zip_members(archive, [n for ns in names.values() for n in ns])
    sources, missing = {}, []
    for kind, candidates in names.items():
        member = next((members[n] for n in candidates if n in members), None)
        if member is None:
            missing.append(kind)
        else:
            sources[kind] = (archive, member)
    if missing:
        raise _missing(archive, missing, pid_text)
    return sources


def find_sessions(root: Path) -> tuple[dict, list]:
    """participant_id -> the three sources, or the DataError naming what a session lacks; notes for
    zips shadowed by folders."""
    return daic.scan_sessions(root, folder_sources, zip_sources)


def session_from_path(path: Path) -> tuple[str, dict]:
    """(participant_id, sources) for a session folder ``NNN_P``, a ``NNN_P.zip`` or one of a session's
    files (its siblings in the same folder are the other inputs)."""
    m = re.match(r"^(\d+)", path.name)
    if m is None:
        raise DataError(f"{path}: expected a name starting with the participant number (NNN_P, NNN_CLNF_AUs.txt)")
    if path.is_dir():
        sources = folder_sources(path, m.group(1), required=True)
    elif path.suffix.lower() == ".zip":
        sources = zip_sources(path, m.group(1))
    elif path.is_file():
        sources = folder_sources(path.parent, m.group(1), required=True)
    else:
        raise DataError(f"{path}: file not found")
    if isinstance(sources, DataError):
        raise sources
    return str(int(m.group(1))), sources


def session_inputs(path: Path) -> tuple:
    """The inputs a session folder, ``NNN_P.zip`` or a session file's folder holds, in the order
    landmarks, pose, gaze, AUs (``inspect``)."""
    m = re.match(r"^(\d+)", path.name)
    if m is None:
        return ()
    if path.is_dir():
        names = {p.name for p in path.iterdir()}
    elif path.suffix.lower() == ".zip":
        try:
            names = set(daic.zip_members(path, _all_names(m.group(1))))
        except DataError:
            names = set()
    else:
        names = {p.name for p in path.parent.iterdir()} if path.parent.is_dir() else set()
    have = ["landmarks"] if daic.LANDMARK_FILE.format(pid=m.group(1)) in names else []
    return tuple(have + [kind for kind, ns in _file_names(m.group(1)).items() if any(n in names for n in ns)])


def inputs_present(root: Path) -> dict:
    """participant_id -> :func:`session_inputs` of its folder (or, without one, its zip) under ``root``."""
    present = {}
    entries = sorted(root.iterdir()) if root.is_dir() else []
    for pattern in (daic._SESSION_DIR, daic._SESSION_ZIP):  # folders first: a folder shadows its zip
        for entry in entries:
            m = pattern.match(entry.name)
            if m and str(int(m.group(1))) not in present and entry.is_dir() == (pattern is daic._SESSION_DIR):
                present[str(int(m.group(1)))] = session_inputs(entry)
    return dict(sorted(present.items(), key=lambda kv: int(kv[0])))


def _all_names(pid_text: str) -> list:
    return [daic.LANDMARK_FILE.format(pid=pid_text)] + [n for ns in _file_names(pid_text).values() for n in ns]


def _columns(source, kind: str) -> list[str]:
    """Header names of timestamp, confidence, success and ``kind``'s series (DAIC or OpenFace 2 spelling)."""
    header = read_header(source)
    lookup = {}
    for name in header:
        lookup.setdefault(name.lower(), name)
    names, daic_names = COLUMNS[kind]
    chosen, missing = [], []
    for wanted in [(b, b) for b in BASE] + list(zip(daic_names, names)):
        name = next((lookup[w.lower()] for w in wanted if w.lower() in lookup), None)
        if name is None:
            missing.append(wanted[0])
        chosen.append(name)
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise DataError(f"{describe_source(source)}: line 1: missing column(s) {shown} (expected frame, "
                        f"{', '.join(BASE)}, {', '.join(daic_names)} or OpenFace 2's {names[0]}, …)")
    return chosen


def _align(matrices: dict, sources: dict, fps: float) -> int:
    """The frame count the three files share: the shortest, when the others are at most one second
    of frames longer and the kept rows' timestamps agree; else a DataError naming both files."""
    counts = {kind: m.shape[0] for kind, m in matrices.items()}
    short, long = min(counts, key=counts.get), max(counts, key=counts.get)
    T = counts[short]
    if counts[long] - T > round(fps):
        raise DataError(f"{describe_source(sources[long])} has {counts[long]} frames but "
                        f"{describe_source(sources[short])} {T}: more than 1 s apart (expected one tracker "
                        "run's files, with the same frames)")
    reference = np.asarray(matrices["AUs"][:T, 0], dtype=np.float64)
    for kind in ("pose", "gaze"):
        apart = np.abs(np.asarray(matrices[kind][:T, 0], dtype=np.float64) - reference) > TIMESTAMP_TOLERANCE_S
        if apart.any():
            i = int(np.argmax(apart))
            raise DataError(f"{describe_source(sources[kind])}: line {i + 2}: timestamp {matrices[kind][i, 0]:g} s but "
                            f"{describe_source(sources['AUs'])} line {i + 2} has {reference[i]:g} s (expected one "
                            f"tracker run's files, timestamps within {TIMESTAMP_TOLERANCE_S:g} s)")
    return T


def read_session(pid: str, source: dict, params: Params, mask_quirks: bool = False) -> Session:
    """Read a session's pose, gaze and AU files -> Session with (T, 27) float32 ``series`` in
    ``corpus.SHARED_SERIES`` order: pose_Tx/Ty/Tz (mm), pose_Rx/Ry/Rz (rad), both eyes' camera-space
    gaze vectors (unit), the 14 AU intensities (0-5) and AU45_c (blink presence, 0/1). A frame is valid
    when it is in every file with success, confidence >= data.confidence_threshold and finite values;
    with ``mask_quirks``, the documented interruption spans of :data:`QUIRKS` are masked too."""
    d = params.data
    matrices, n_bad = {}, 0
    for kind in FILES:
        matrices[kind], bad = read_columns(source[kind], _columns(source[kind], kind), bad_cells=d.bad_cells,
                                           cache_root=d.cache_dir)
        n_bad += bad
    T = _align(matrices, source, d.fps)
    series = np.empty((T, len(SHARED_SERIES)), dtype=np.float32)  # (T, 27)
    valid = np.ones(T, dtype=bool)
    success = np.ones(T, dtype=bool)
    confidence = np.ones(T, dtype=np.float32)
    col = 0
    for kind, matrix in matrices.items():
        _, conf, ok, usable = frame_flags(matrix[:T], d.confidence_threshold)
        width = matrix.shape[1] - 3
        series[:, col:col + width] = matrix[:T, 3:]
        col += width
        valid &= usable
        success &= ok
        confidence = np.fmin(confidence, conf)
    timestamps = np.array(matrices["AUs"][:T, 0])
    valid &= np.isfinite(timestamps)
    if mask_quirks:
        valid &= ~daic.quirk_frames(pid, timestamps)
    inputs = tuple(describe_source(source[kind]) for kind in FILES)
    return Session(FORMAT, pid, inputs[-1], timestamps, confidence, success, valid, d.fps,
                   series=series, series_names=SHARED_SERIES, bad_cells=n_bad, inputs=inputs)
