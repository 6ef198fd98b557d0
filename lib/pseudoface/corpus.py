"""What every reader returns: sessions, labels and the participant flow, and the corpus loader.

One :class:`Session` per participant: timestamps, tracker confidence/success, a validity mask
(failed, low-confidence, non-finite and documented-interruption frames are *masked, never
dropped*, so timing is preserved) and either 68 3-D landmarks (mm, camera space) or named
per-frame series (E-DAIC: pose, gaze, AU intensities).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from .params import Params
from .textio import DataError

SYNTHETIC_MARKER = "SYNTHETIC_CORPUS.txt"
LABEL_COLUMNS = ["participant_id", "split", "phq_score", "file_binary", "label", "gender", "source"]


@dataclass
class Session:
    dataset: str
    participant_id: str
    source: str  # file (zip!member) the frames came from
    timestamps: np.ndarray  # (T,) float32, seconds
    confidence: np.ndarray  # (T,) float32 in [0, 1]
    success: np.ndarray  # (T,) bool, tracker success flag
    valid: np.ndarray  # (T,) bool: usable frames (see module docstring)
    fps: float
    landmarks: Optional[np.ndarray] = None  # (T, 68, 3) float32, mm, camera at origin
    series: Optional[np.ndarray] = None  # (T, S) float32, columns = series_names
    series_names: tuple = ()
    bad_cells: int = 0  # non-numeric cells masked (data.bad_cells: mask)

    @property
    def n_frames(self) -> int:
        return int(self.timestamps.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    @property
    def valid_fraction(self) -> float:
        return float(self.valid.mean()) if self.n_frames else 0.0

    @property
    def has_landmarks(self) -> bool:
        return self.landmarks is not None


def frame_flags(matrix: np.ndarray, threshold: float, n_values: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame flags of a reader matrix whose columns are timestamp, confidence, success, values...

    matrix (T, 3 + V) -> timestamps (T,), confidence (T,), success (T,) bool and valid (T,) bool:
    success, confidence >= threshold and the frame's first ``n_values`` values (default: all) finite. Frames are never
    removed, only marked.
    """
    timestamps, confidence = np.asarray(matrix[:, 0]), np.asarray(matrix[:, 1])
    success = np.asarray(matrix[:, 2]) > 0.5
    finite = np.isfinite(matrix[:, 3:] if n_values is None else matrix[:, 3:3 + n_values]).all(axis=1)
    return timestamps, confidence, success, success & (np.nan_to_num(confidence) >= threshold) & finite


# ---------------------------------------------------------------- labels

def normalise_gender(raw: object, codes: dict) -> str:
    """Map a raw Gender cell to female / male / unknown, or 'code <v>' for an unmapped code."""
    if raw is None or (isinstance(raw, float) and np.isnan(raw)) or str(raw).strip() == "":
        return "unknown"
    text = str(raw).strip()
    if text.endswith(".0"):
        text = text[:-2]
    low = text.lower()
    if low in ("female", "f", "woman"):
        return "female"
    if low in ("male", "m", "man"):
        return "male"
    if text in codes:
        return codes[text]
    return f"code {text}"


def apply_label_rule(labels: pd.DataFrame, rule: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Set ``label`` (1 depressed, 0 not, -1 unknown) from ``phq_score >= 10`` or ``file_binary``.

    Returns (labels, disagreements): rows where the file's binary and the score rule differ.
    """
    labels = labels.copy()
    from_score = np.where(labels["phq_score"].notna(), (labels["phq_score"] >= 10).astype(float), np.nan)
    chosen = from_score if rule == "score_ge_10" else labels["file_binary"].to_numpy(dtype=float)
    labels["label"] = np.where(np.isnan(chosen), -1, chosen).astype(int)
    both = labels["phq_score"].notna() & labels["file_binary"].notna()
    disagree = both & (from_score != labels["file_binary"].to_numpy(dtype=float))
    cols = ["participant_id", "split", "phq_score", "file_binary", "source"]
    return labels, labels.loc[disagree, cols].reset_index(drop=True)


def read_label_table(path: Path, id_names: tuple, score_names: tuple, binary_names: tuple,
                     split: str, gender_codes: dict, require_labels: bool) -> pd.DataFrame:
    """Read one split CSV into the common label columns, validating only the columns used."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    table.columns = [str(c).strip() for c in table.columns]

    def find(names: tuple, needed: bool) -> Optional[str]:
        for n in names:
            for c in table.columns:
                if c == n:
                    return c
        if needed:
            raise DataError(f"{path}: line 1: missing column {names[0]!r} (header: {', '.join(table.columns)})")
        return None

    id_col = find(id_names, True)
    score_col = find(score_names, require_labels)
    binary_col = find(binary_names, require_labels)
    gender_col = find(("Gender", "gender"), False)

    def number(col: Optional[str], i: int, needed: bool) -> float:
        if col is None:
            return np.nan
        cell = str(table.at[i, col]).strip()
        if cell == "" and not needed:
            return np.nan
        try:
            return float(cell)
        except ValueError:
            raise DataError(f"{path}: line {i + 2}, column {col!r}: expected a number, got {cell!r}") from None

    rows = []
    for i in range(len(table)):
        raw_id = str(table.at[i, id_col]).strip()
        try:
            pid = str(int(float(raw_id)))
        except ValueError:
            raise DataError(f"{path}: line {i + 2}, column {id_col!r}: expected a participant id, got {raw_id!r}") from None
        score = number(score_col, i, require_labels)
        binary = number(binary_col, i, require_labels)
        if not np.isnan(binary) and binary not in (0.0, 1.0):
            raise DataError(f"{path}: line {i + 2}, column {binary_col!r}: expected 0 or 1, got {binary:g}")
        gender = normalise_gender(table.at[i, gender_col] if gender_col else None, gender_codes)
        rows.append((pid, split, score, binary, -1, gender, f"{path.name}:{i + 2}"))
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)


def merge_label_tables(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate split tables; a participant listed twice is an error naming both places.

    A later table with labels may fill in an earlier unlabelled row of the same split
    (DAIC-WOZ ``full_test_split.csv`` over ``test_split_Depression_AVEC2017.csv``).
    """
    merged: dict[str, dict] = {}
    for table in tables:
        for row in table.to_dict("records"):
            pid = row["participant_id"]
            if pid in merged:
                old = merged[pid]
                fills_in = (old["split"] == row["split"] and np.isnan(old["phq_score"])
                            and np.isnan(old["file_binary"]) and not old.get("_filled"))
                if not fills_in:
                    raise DataError(f"{row['source']}: duplicated participant {pid} (also at {old['source']})")
                if row["gender"] == "unknown":
                    row["gender"] = old["gender"]
                row["_filled"] = True
            merged[pid] = row
    frame = pd.DataFrame(list(merged.values()), columns=LABEL_COLUMNS)
    return frame.sort_values("participant_id", key=lambda s: s.map(_id_sort_key)).reset_index(drop=True)


def _id_sort_key(pid: str):
    return (0, int(pid), "") if str(pid).isdigit() else (1, 0, str(pid))


# ---------------------------------------------------------------- flow and corpus

@dataclass
class Flow:
    """Participant flow: labelled -> session found -> read without error -> enough valid frames -> usable."""
    counts: dict = field(default_factory=dict)  # step -> number of participants
    dropped: list = field(default_factory=list)  # (participant_id, step not passed, reason)
    unlabelled: list = field(default_factory=list)  # sessions found with no label (excluded)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"step": list(self.counts), "participants": list(self.counts.values())})

    def dropped_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.dropped, columns=["participant_id", "step", "reason"])

    def lines(self) -> list[str]:
        out = ["participant flow: " + " -> ".join(f"{k} {v}" for k, v in self.counts.items())]
        for pid, step, reason in self.dropped:
            out.append(f"  excluded {pid} at '{step}': {reason}")
        if self.unlabelled:
            out.append(f"  {len(self.unlabelled)} session(s) without a label, excluded: "
                       + ", ".join(self.unlabelled))
        return out


@dataclass
class Corpus:
    dataset: str
    root: Path
    synthetic: bool
    labels: pd.DataFrame  # every labelled participant (LABEL_COLUMNS)
    sessions: dict  # participant_id -> Session, usable participants only
    flow: Flow
    problems: list  # one-line data errors, all of them
    disagreements: pd.DataFrame  # file binary vs score rule
    quirks: pd.DataFrame  # documented quirks (DAIC-WOZ), may be empty
    notes: list = field(default_factory=list)

    @property
    def participants(self) -> list[str]:
        return list(self.sessions)

    def usable_labels(self) -> pd.DataFrame:
        return self.labels[self.labels["participant_id"].isin(self.sessions)].reset_index(drop=True)


def is_synthetic(root: Path) -> bool:
    return (Path(root) / SYNTHETIC_MARKER).is_file()


def build_corpus(dataset: str, root: Path, labels: pd.DataFrame, found: dict, read_session,
                 params: Params, disagreements: pd.DataFrame, quirks: pd.DataFrame,
                 notes: list | None = None) -> Corpus:
    """Run the participant flow over ``found`` (participant_id -> source) with ``read_session``.

    Every read error is collected (never fatal one by one); sessions without labels are listed.
    """
    flow, problems, sessions = Flow(), [], {}
    labelled = labels[labels["label"] >= 0]
    for row in labels[labels["label"] < 0].itertuples():
        flow.dropped.append((row.participant_id, "labelled", f"no label in {row.source}"))
    flow.counts["labelled"] = len(labelled)
    listed = set(labels["participant_id"])
    flow.unlabelled = [pid for pid in found if pid not in listed]
    present = [pid for pid in labelled["participant_id"] if pid in found]
    for pid in labelled["participant_id"]:
        if pid not in found:
            flow.dropped.append((pid, "session found", "no session file under the corpus root"))
    flow.counts["session found"] = len(present)
    enough = []
    min_frames = params.data.min_valid_seconds * params.data.fps
    n_read = 0
    for pid in present:
        try:
            session = read_session(pid, found[pid])
        except DataError as exc:
            problems.append(str(exc))
            flow.dropped.append((pid, "read without error", str(exc)))
            continue
        n_read += 1
        n_valid = int(session.valid.sum())
        if n_valid == 0:
            msg = f"{session.source}: every frame failed or is masked ({session.n_frames} frames)"
            problems.append(msg)
            flow.dropped.append((pid, "enough valid frames", msg))
        elif n_valid < min_frames:
            flow.dropped.append((pid, "enough valid frames",
                                 f"{n_valid / params.data.fps:.1f} s valid < data.min_valid_seconds "
                                 f"{params.data.min_valid_seconds:g}"))
        else:
            enough.append(session)
    flow.counts["read without error"] = n_read
    flow.counts["enough valid frames"] = len(enough)
    split_of = dict(zip(labels["participant_id"], labels["split"]))
    for session in enough:
        pid = session.participant_id
        if params.data.splits and split_of[pid] not in params.data.splits:
            flow.dropped.append((pid, "usable", f"split {split_of[pid]} not in data.splits"))
        elif params.data.max_participants and len(sessions) >= params.data.max_participants:
            flow.dropped.append((pid, "usable", "beyond data.max_participants"))
        else:
            sessions[pid] = session
    flow.counts["usable"] = len(sessions)
    return Corpus(dataset, Path(root), is_synthetic(root), labels, sessions, flow, problems,
                  disagreements, quirks, notes or [])


def load_corpus(params: Params) -> Corpus:
    """Read the corpus that ``params.dataset`` / ``params.data.root`` name."""
    root = Path(params.data.root).expanduser()
    if not root.is_dir():
        raise DataError(f"{root}: corpus root not found (data.root in the params file)")
    fmt = params.dataset
    if fmt == "synthetic":
        from .synthetic import marker_info
        fmt = marker_info(root).get("format", "daic_woz")
    if fmt == "daic_woz":
        from .daic import load_daic_woz
        return load_daic_woz(root, params)
    if fmt == "e_daic":
        from .edaic import load_e_daic
        return load_e_daic(root, params)
    from .openface import load_openface
    return load_openface(root, params)
