"""Label tables: reading the split CSVs, merging them, the binary label rule, the gender vocabulary.

Every reader turns its split files into one frame of :data:`LABEL_COLUMNS` through these helpers;
``label`` is 1 depressed, 0 not, -1 unknown.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from .textio import DataError

LABEL_COLUMNS = ["participant_id", "split", "phq_score", "file_binary", "label", "gender", "source"]


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
    return frame.sort_values("participant_id", key=lambda s: s.map(id_sort_key)).reset_index(drop=True)


def id_sort_key(pid: str):
    return (0, int(pid), "") if str(pid).isdigit() else (1, 0, str(pid))


def read_split_labels(labels_dir: Path, files: tuple, id_names: tuple, score_names: tuple, binary_names: tuple,
                      gender_codes: dict, rule: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A corpus' labels from its split CSVs -> (labels, disagreements).

    ``files``: (file name, split, has labels) per split file; the absent ones are skipped. Every
    broken file is reported together; no file at all is an error naming the names expected."""
    tables, problems = [], []
    for name, split, has_labels in files:
        path = labels_dir / name
        if not path.is_file():
            continue
        try:
            tables.append(read_label_table(path, id_names, score_names, binary_names, split, gender_codes, has_labels))
        except DataError as exc:
            problems.append(str(exc))
    if problems:
        raise DataError("; ".join(problems))
    if not tables:
        raise DataError(f"{labels_dir}: no label files found (expected {', '.join(f[0] for f in files)})")
    return apply_label_rule(merge_label_tables(tables), rule)


PHQ8_RANGE = (0.0, 24.0)  # eight items scored 0-3


def regression_labels(labels: pd.DataFrame, labels_dir: Path) -> pd.DataFrame:
    """The labels of a ``model.task: regression`` run: every row with a PHQ-8 score gets ``label``
    = score >= 10 (the binary truth the outer folds stratify by and the derived screen is scored
    against, whatever ``data.label_rule``); a row without a score gets -1 (excluded, counted in the
    participant flow by :func:`read.build_corpus`).

    Raises DataError (one line, naming the file) when a label file that labels participants has no
    score at all (no score column, or every cell empty), when no file has a score, or when a score
    lies outside 0-24."""
    files = labels["source"].str.rsplit(":", n=1).str[0]
    for name, rows in labels.groupby(files, sort=False):
        if (rows["phq_score"].notna() | rows["file_binary"].notna()).any() and rows["phq_score"].isna().all():
            raise DataError(f"{Path(labels_dir) / name}: no PHQ-8 score (PHQ8_Score / PHQ_Score / score column "
                            "missing or empty); model.task: regression needs the score")
    if labels["phq_score"].isna().all():
        raise DataError(f"{labels_dir}: no PHQ-8 score in any label file; model.task: regression needs the score")
    low, high = PHQ8_RANGE
    bad = labels["phq_score"].notna() & ~labels["phq_score"].between(low, high)
    if bad.any():
        row = labels[bad].iloc[0]
        name, line = str(row["source"]).rsplit(":", 1)
        raise DataError(f"{Path(labels_dir) / name}: line {line}: PHQ-8 score {row['phq_score']:g} outside "
                        f"{low:g}-{high:g}")
    labels = labels.copy()
    score = labels["phq_score"].to_numpy(dtype=float)
    labels["label"] = np.where(np.isnan(score), -1, score >= 10).astype(int)
    return labels


# What each ``model.task`` reads from the label files (task.Task.labels delegates here, so that reading a
# corpus, a stage below the task type, needs nothing of it): the table as the task needs it (label -1:
# excluded) and why an excluded row was excluded.
TASK_LABELS = {
    "binary": (lambda labels, labels_dir: labels, "no label in {source}"),
    "regression": (regression_labels, "no PHQ-8 score in {source} (model.task: regression)"),
}


def task_labels(labels: pd.DataFrame, labels_dir: Path, task: str) -> pd.DataFrame:
    """The label table as ``task`` (``model.task``) needs it: a regression run keeps only rows with a
    PHQ-8 score (:func:`regression_labels`; never a silent fall-back to the binary labels)."""
    return TASK_LABELS[task][0](labels, labels_dir)


def unlabelled_reason(source: str, task: str) -> str:
    """Why a row of ``source`` with label -1 is excluded from a ``task`` run."""
    return TASK_LABELS[task][1].format(source=source)
