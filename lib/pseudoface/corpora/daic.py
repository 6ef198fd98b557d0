"""DAIC-WOZ reader (a leaf): ``NNN_P/NNN_CLNF_features3D.txt`` folders or ``NNN_P.zip`` archives + split CSVs.

Exposes what every reader does: :func:`find_sessions`, :func:`session_from_path`, :func:`read_session`,
:func:`read_labels` and :data:`QUIRKS`; :mod:`read` builds the corpus from them.

CLNF_features3D: header row, ``", "`` separators, 208 columns: frame, timestamp, confidence,
success, then X0..X67, Y0..Y67, Z0..Z67 *grouped by axis*, millimetres, camera at the origin.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from .corpus import Session, frame_flags
from .labels import read_split_labels
from ..params import Params
from .textio import DataError, describe_source, read_columns, read_header

FORMAT = "daic_woz"
LANDMARK_FILE = "{pid}_CLNF_features3D.txt"
LAYOUT = "NNN_P/NNN_CLNF_features3D.txt or NNN_P.zip"
_SESSION_DIR = re.compile(r"^(\d+)_P$")
_SESSION_ZIP = re.compile(r"^(\d+)_P\.zip$", re.IGNORECASE)

# (file name, split, labels present?)
LABEL_FILES = (
    ("train_split_Depression_AVEC2017.csv", "train", True),
    ("dev_split_Depression_AVEC2017.csv", "dev", True),
    ("test_split_Depression_AVEC2017.csv", "test", False),
    ("full_test_split.csv", "test", True),
)
ID_NAMES = ("Participant_ID", "participant_ID", "participant_id", "Participant_Id")
SCORE_NAMES = ("PHQ8_Score", "PHQ_Score")
BINARY_NAMES = ("PHQ8_Binary", "PHQ_Binary")

# Documented DAIC-WOZ quirks (../shared/DATASETS.md). Spans in seconds are masked like failed frames.
QUIRKS = pd.DataFrame([
    ("373", "interrupted (~5:52-7:00)", 352.0, 420.0),
    ("444", "interrupted by a phone call (~4:46-6:27)", 286.0, 387.0),
    ("402", "video ends ~2 min before the audio", np.nan, np.nan),
    ("451", "no interviewer transcript", np.nan, np.nan),
    ("458", "no interviewer transcript", np.nan, np.nan),
    ("480", "no interviewer transcript", np.nan, np.nan),
    ("409", "PHQ8_Score 10 but PHQ8_Binary 0 (reported)", np.nan, np.nan),
    ("319", "an empty PHQ-8 item cell (reported)", np.nan, np.nan),
], columns=["participant_id", "quirk", "mask_start_s", "mask_end_s"])


def landmark_columns(header: list[str]) -> list[str]:
    """Header names for timestamp, confidence, success, X0..X67, Y0..Y67, Z0..Z67 (by name).

    Accepts ``X0`` or ``x0`` or ``X_0`` spellings; raises DataError naming the missing ones.
    """
    lookup = {re.sub(r"_", "", h).lower(): h for h in header}
    wanted = ["timestamp", "confidence", "success"] + [f"{a}{i}" for a in "xyz" for i in range(68)]
    missing = [w for w in wanted if w not in lookup]
    if missing:
        raise KeyError(", ".join(missing[:5]) + (" …" if len(missing) > 5 else ""))
    return [lookup[w] for w in wanted]


def find_sessions(root: Path) -> tuple[dict, list]:
    """participant_id -> source (path, or (zip, member)); notes for zips shadowed by folders."""
    def in_folder(folder: Path, pid_text: str):
        path = folder / LANDMARK_FILE.format(pid=pid_text)
        return path if path.is_file() else None
    return scan_sessions(root, in_folder, zip_source)


def scan_sessions(root: Path, in_folder, in_zip) -> tuple[dict, list]:
    """participant_id -> source for the ``NNN_P`` folders and ``NNN_P.zip`` archives under ``root``.

    ``in_folder(folder, pid_text)`` gives a folder's source, None (not a session: a zip may supply it)
    or a DataError (reported when the session is read); ``in_zip(archive, pid_text)`` gives an
    archive's source or raises DataError. A folder with a source shadows its zip, with a note."""
    found, notes = {}, []
    for entry in sorted(root.iterdir()):
        m = _SESSION_DIR.match(entry.name)
        if m and entry.is_dir():
            source = in_folder(entry, m.group(1))
            if source is not None:
                found[str(int(m.group(1)))] = source
    for entry in sorted(root.iterdir()):
        m = _SESSION_ZIP.match(entry.name)
        if not (m and entry.is_file()):
            continue
        pid = str(int(m.group(1)))
        if pid in found and not isinstance(found[pid], DataError):
            notes.append(f"{entry.name}: folder {m.group(1)}_P/ already present, zip not read")
            continue
        if pid in found:
            notes.append(f"{entry.name}: read instead of the incomplete folder {m.group(1)}_P/")
        try:
            found[pid] = in_zip(entry, m.group(1))
        except DataError as exc:
            found[pid] = exc  # reported when the session is read
    return found, notes


def zip_members(archive: Path, targets) -> dict:
    """target file name -> its member path inside a zip (the first at any depth); absent targets left out."""
    try:
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        raise DataError(f"{archive}: not a readable zip archive") from None
    members = {}
    for name in names:
        base = name.rsplit("/", 1)[-1]
        if base in targets and base not in members:
            members[base] = name
    return members


def zip_source(archive: Path, pid_text: str) -> tuple:
    """(archive, member) of the CLNF_features3D file inside a session zip (at any depth)."""
    target = LANDMARK_FILE.format(pid=pid_text)
    members = zip_members(archive, (target,))
    if not members:
        raise DataError(f"{archive}: no member {target} in the archive")
    return (archive, members[target])


def session_from_path(path: Path) -> tuple[str, object]:
    """(participant_id, source) for a session folder ``NNN_P``, a ``NNN_P.zip`` or a landmark file."""
    m = re.match(r"^(\d+)", path.name)
    if m is None:
        raise DataError(f"{path}: expected a name starting with the participant number (NNN_P, NNN_CLNF_features3D.txt)")
    if path.is_dir():
        source = path / LANDMARK_FILE.format(pid=m.group(1))
    elif path.suffix.lower() == ".zip":
        source = zip_source(path, m.group(1))
    else:
        source = path
    if isinstance(source, Path) and not source.is_file():
        raise DataError(f"{source}: file not found")
    return str(int(m.group(1))), source


def read_session(pid: str, source, params: Params, mask_quirks: bool = False) -> Session:
    """Read one CLNF_features3D file -> Session with (T, 68, 3) float32 landmarks in mm; with
    ``mask_quirks``, the documented interruption spans of :data:`QUIRKS` are masked."""
    header = read_header(source)
    try:
        columns = landmark_columns(header)
    except KeyError as exc:
        raise DataError(f"{describe_source(source)}: line 1: missing column(s) {exc.args[0]} "
                        "(expected frame, timestamp, confidence, success, X0..X67, Y0..Y67, Z0..Z67)") from None
    matrix, n_bad = read_columns(source, columns, bad_cells=params.data.bad_cells,
                                 cache_root=params.data.cache_dir)
    T = matrix.shape[0]
    # axis-grouped columns X0..X67, Y0..Y67, Z0..Z67 -> (T, 68, 3); a view of the column-major matrix
    landmarks = matrix[:, 3:].reshape(T, 68, 3, order="F")
    timestamps, confidence, success, valid = frame_flags(matrix, params.data.confidence_threshold)
    valid &= np.isfinite(timestamps)
    if mask_quirks:
        valid &= ~quirk_frames(pid, timestamps)
    return Session(FORMAT, pid, describe_source(source), timestamps, confidence, success, valid,
                   params.data.fps, landmarks=landmarks, bad_cells=n_bad)


def quirk_frames(pid: str, timestamps: np.ndarray) -> np.ndarray:
    """(T,) bool: the frames inside a documented interruption span of :data:`QUIRKS` for ``pid``."""
    inside = np.zeros(len(timestamps), dtype=bool)
    for q in QUIRKS[(QUIRKS["participant_id"] == pid) & QUIRKS["mask_start_s"].notna()].itertuples():
        inside |= (timestamps >= q.mask_start_s) & (timestamps <= q.mask_end_s)
    return inside


def read_labels(labels_dir: Path, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels from the AVEC 2017 split CSVs present -> (labels, disagreements)."""
    return read_split_labels(labels_dir, LABEL_FILES, ID_NAMES, SCORE_NAMES, BINARY_NAMES, params.data.gender_codes,
                             params.data.label_rule)
