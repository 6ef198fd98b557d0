"""``pseudoface inspect``: what a file, session folder/zip or corpus root holds, one line a session."""
from __future__ import annotations

import re
from pathlib import Path

from .corpus import SYNTHETIC_MARKER, Corpus, Session, load_corpus
from .params import Params, params_from_dict
from .textio import DataError


def detect(path: Path) -> tuple[str, str]:
    """(kind, dataset) for a path: kind is 'corpus' or 'session'."""
    name = path.name
    if path.is_dir():
        if (path / "train_split_Depression_AVEC2017.csv").is_file() or (path / "full_test_split.csv").is_file():
            return "corpus", "synthetic" if (path / SYNTHETIC_MARKER).is_file() else "daic_woz"
        if (path / "train_split.csv").is_file() or (path / "dev_split.csv").is_file():
            return "corpus", "synthetic" if (path / SYNTHETIC_MARKER).is_file() else "e_daic"
        if (path / "labels.csv").is_file():
            return "corpus", "openface"
        if (path / "features").is_dir():
            return "session", "e_daic"
        if re.match(r"^\d+_P$", name):
            return "session", "daic_woz"
        raise DataError(f"{path}: not a corpus root or session folder (no split CSVs, labels.csv or NNN_P layout)")
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if name.endswith("_CLNF_features3D.txt") or name.lower().endswith(".zip"):
        return "session", "daic_woz"
    if name.endswith("_OpenFace2.1.0_Pose_gaze_AUs.csv"):
        return "session", "e_daic"
    if name.endswith(".csv"):
        return "session", "openface"
    raise DataError(f"{path}: unknown file type (expected *_CLNF_features3D.txt, NNN_P.zip, "
                    "*_OpenFace2.1.0_Pose_gaze_AUs.csv or an OpenFace .csv)")


def read_one_session(path: Path, dataset: str, params: Params) -> Session:
    from . import daic, edaic, openface
    pid_match = re.match(r"^(\d+)", path.name)
    pid = str(int(pid_match.group(1))) if pid_match else path.stem
    if dataset == "daic_woz":
        if path.is_dir():
            source = path / daic.LANDMARK_FILE.format(pid=pid_match.group(1))
        elif path.suffix.lower() == ".zip":
            source = daic.zip_source(path, pid_match.group(1))
        else:
            source = path
        if isinstance(source, Path) and not source.is_file():
            raise DataError(f"{source}: file not found")
        return daic.read_session(pid, source, params)
    if dataset == "e_daic":
        source = path / "features" / edaic.FEATURE_FILE.format(pid=pid_match.group(1)) if path.is_dir() else path
        if not source.is_file():
            raise DataError(f"{source}: file not found")
        return edaic.read_session(pid, source, params)
    return openface.read_session(pid, path, params)


def session_line(s: Session, label: str = "") -> str:
    return (f"{s.participant_id:>8}  {s.n_frames:>7} frames  {s.duration_s / 60:6.1f} min  "
            f"{100 * s.valid_fraction:5.1f}% valid  {label}").rstrip()


def inspect_paths(paths: list[str], overrides: dict | None = None) -> tuple[list[str], list[str]]:
    """Return (report lines, problems) for every path; never stops at the first problem."""
    lines, problems = [], []
    for raw in paths:
        path = Path(raw)
        try:
            kind, dataset = detect(path)
            params = params_from_dict({"dataset": dataset, "data": {"root": str(path), **(overrides or {})}})
            if kind == "corpus":
                corpus: Corpus = load_corpus(params)
                lines.append(f"{path}: {dataset} corpus{' (synthetic)' if corpus.synthetic else ''}")
                label_of = dict(zip(corpus.labels["participant_id"], corpus.labels["label"]))
                for pid, s in corpus.sessions.items():
                    lines.append(session_line(s, f"label {label_of.get(pid, '?')}"))
                lines += corpus.flow.lines()
                lines += [f"  note: {n}" for n in corpus.notes]
                if len(corpus.disagreements):
                    lines.append(f"  {len(corpus.disagreements)} label(s) where the file's binary disagrees with "
                                 "PHQ >= 10: " + ", ".join(corpus.disagreements["participant_id"]))
                problems += corpus.problems
            else:
                s = read_one_session(path, dataset, params)
                lines.append(session_line(s))
                if s.valid.sum() == 0:
                    problems.append(f"{s.source}: every frame failed or is masked ({s.n_frames} frames)")
        except DataError as exc:
            problems.append(str(exc))
    return lines, problems
