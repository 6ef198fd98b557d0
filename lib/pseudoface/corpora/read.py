"""The one dataset switch: a dataset name or a path -> its reader; the corpus and its participant flow.

Readers (:mod:`daic`, :mod:`edaic`, :mod:`openface`) are leaves exposing ``find_sessions``,
``session_from_path``, ``read_session``, ``read_labels`` and ``QUIRKS``; this module picks one
(resolving the synthetic marker to the layout it was written in), runs the participant flow over
the sessions it finds (:func:`load_corpus`), and serves ``inspect`` and ``predict`` with the same
switch (:func:`detect`, :func:`read_one_session`).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from . import daic, daic_series, edaic, openface
from .cache import replace_dir
from .corpus import SYNTHETIC_MARKER, Corpus, Flow, Session
from .labels import task_labels, unlabelled_reason
from ..params import Params, ParamsError, params_from_dict
from .textio import DataError

READERS = {"daic_woz": daic, "e_daic": edaic, "openface": openface}
NAMES = {"daic_woz": "DAIC-WOZ", "e_daic": "E-DAIC", "openface": "OpenFace"}


def marker_info(root: Path) -> dict:
    """The synthetic marker's JSON (format, seed, planted effect, ...), or {} for a real corpus."""
    path = Path(root) / SYNTHETIC_MARKER
    return json.loads(path.read_text()) if path.is_file() else {}


def is_synthetic(root: Path) -> bool:
    return (Path(root) / SYNTHETIC_MARKER).is_file()


def corpus_format(params: Params) -> str:
    """The file layout to read: the dataset's own, or for ``synthetic`` the one its marker names."""
    if params.dataset == "synthetic":
        return marker_info(Path(params.data.root).expanduser()).get("format", "daic_woz")
    return params.dataset


def signals_of(params: Params, fmt: str) -> str:
    """What a session of layout ``fmt`` is read as (data.signals resolved): ``auto`` is landmarks
    where the layout has them (DAIC-WOZ, OpenFace), else E-DAIC's full series."""
    signals = params.data.signals
    if signals == "auto":
        return "full_series" if fmt == "e_daic" else "landmarks"
    if fmt == "e_daic" and signals == "landmarks":
        raise ParamsError("data.signals: landmarks: E-DAIC ships no 2-D or 3-D landmarks (only OpenFace 2.1 pose, "
                          "gaze and action units); use shared_series or full_series")
    if fmt == "openface" and signals != "landmarks":
        raise ParamsError(f"data.signals: {signals}: the openface dataset is read as landmarks (its pose, gaze "
                          "and AU columns ride along); set data.signals: landmarks or auto")
    if fmt == "daic_woz" and signals == "full_series":
        raise ParamsError("data.signals: full_series is E-DAIC's OpenFace 2.1 set; DAIC-WOZ's 2016 files share "
                          "only data.signals: shared_series")
    return signals


def reader_of(params: Params, fmt: str):
    """The reader module for layout ``fmt`` under the params' data.signals."""
    return daic_series if fmt == "daic_woz" and signals_of(params, fmt) == "shared_series" else READERS[fmt]


def ensure_synthetic(params: Params, fmt: str = "daic_woz", first_id: int = 300, seed: int | None = None) -> None:
    """Generate the synthetic corpus into data.root if the params name the synthetic dataset and it is
    missing, or generate it again (replacing the folder whole) if it was generated from params (its
    marker's origin, or a marker from before origins at the old default size, 48 x 75 s) at another
    size than ``data.synthetic_participants`` x ``data.synthetic_seconds`` or by a generator before
    version 2 (which wrote no DAIC-WOZ pose, gaze and AU files). A corpus written by
    ``pseudoface synth`` is never replaced, and a folder without the synthetic marker never touched.
    ``fmt``, ``first_id`` and ``seed`` (default cv.seed): the layout, first participant number and seed
    of a corpus generated here (a cross-corpus run's synthetic test corpus: E-DAIC layout, from 600)."""
    from .synthetic import write_corpus
    d = params.data
    root = Path(d.root).expanduser()
    if params.dataset != "synthetic":
        return
    size = (d.synthetic_participants, float(d.synthetic_seconds))
    if is_synthetic(root):
        info = marker_info(root)
        found = (info.get("participants"), float(info.get("seconds", 0)))
        from_params = info.get("origin", "params" if found == (48, 75.0) else "synth") == "params"
        outdated = info.get("generator_version", 1) < 2  # no pose, gaze and AU files
        outdated |= (info.get("format", "daic_woz"), info.get("first_id", 300)) != (fmt, first_id)
        if (found == size and not outdated) or not from_params:
            return
        if found != size:
            print(f"the synthetic corpus in {root} has {info.get('participants')} participants x {info.get('seconds')} s; "
                  f"the params ask for {size[0]} x {size[1]:g} s: generating it again ...", flush=True)
        else:
            print(f"the synthetic corpus in {root} was written by generator version {info.get('generator_version', 1)} "
                  f"in the {info.get('format', 'daic_woz')} layout; the params ask for version 2 in the {fmt} layout: "
                  "generating it again ...", flush=True)
    elif root.exists() and any(root.iterdir()):
        raise ParamsError(f"{root}: data.root is not empty and holds no synthetic corpus; the synthetic dataset "
                          "generates its corpus there: point data.root at an empty or missing folder")
    else:
        print(f"generating the synthetic corpus into {root} ...", flush=True)
    tmp = root.with_name(root.name + ".generating")
    shutil.rmtree(tmp, ignore_errors=True)
    write_corpus(tmp, participants=size[0], seconds=size[1], seed=params.cv.seed if seed is None else seed,
                 fmt=fmt, first_id=first_id, origin="params")
    replace_dir(tmp, root, root.with_name(root.name + ".replaced"))  # the new corpus appears whole


def build_corpus(dataset: str, root: Path, labels: pd.DataFrame, found: dict, reader, params: Params,
                 disagreements: pd.DataFrame, notes: list | None = None) -> Corpus:
    """Run the participant flow over ``found`` (participant_id -> source, or the DataError met
    while locating it) with ``reader.read_session``.

    Every read error is collected (never fatal one by one); sessions without labels are listed.
    """
    flow, problems, sessions = Flow(), [], {}
    labelled = labels[labels["label"] >= 0]
    for row in labels[labels["label"] < 0].itertuples():
        flow.dropped.append((row.participant_id, "labelled", unlabelled_reason(row.source, params.model.task)))
    flow.counts["labelled"] = len(labelled)
    listed = set(labels["participant_id"])
    flow.unlabelled = [pid for pid in found if pid not in listed]
    present = [pid for pid in labelled["participant_id"] if pid in found]
    for pid in labelled["participant_id"]:
        if pid not in found:
            flow.dropped.append((pid, "session found", "no session file under the corpus root"))
    flow.counts["session found"] = len(present)
    mask_quirks = params.data.mask_quirk_spans and dataset == "daic_woz"  # the real corpus' documented spans
    enough = []
    min_frames = params.data.min_valid_seconds * params.data.fps
    n_read = 0
    for pid in present:
        try:
            if isinstance(found[pid], DataError):
                raise found[pid]
            session = reader.read_session(pid, found[pid], params, mask_quirks)
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
        else:
            sessions[pid] = session
    flow.counts["usable"] = len(sessions)
    quirks = reader.QUIRKS if dataset == "daic_woz" else reader.QUIRKS.iloc[:0]
    return Corpus(dataset, Path(root), is_synthetic(root), labels, sessions, flow, problems,
                  disagreements, quirks, notes or [])


def load_corpus(params: Params) -> Corpus:
    """Read the corpus that ``params.dataset`` / ``params.data.root`` name."""
    root = Path(params.data.root).expanduser()
    if not root.is_dir():
        raise DataError(f"{root}: corpus root not found (data.root in the params file)")
    fmt = corpus_format(params)
    reader = reader_of(params, fmt)
    labels_dir = Path(params.data.labels_dir or root).expanduser()
    labels, disagreements = reader.read_labels(labels_dir, params)
    labels = task_labels(labels, labels_dir, params.model.task)  # label -1: no label or no PHQ-8 score
    found, notes = reader.find_sessions(root)
    if not found:
        raise DataError(f"{root}: no {NAMES[fmt]} sessions (expected {reader.LAYOUT})")
    dataset = "synthetic" if params.dataset == "synthetic" else fmt
    return build_corpus(dataset, root, labels, found, reader, params, disagreements, notes)


def corpus_summary(corpus: Corpus) -> list[str]:
    """Lines a command prints after loading a corpus: where, flow, splits, label-rule rows, notes."""
    labels = corpus.usable_labels()
    lines = [f"{corpus.dataset} corpus at {corpus.root}{' (synthetic)' if corpus.synthetic else ''}"]
    lines += corpus.flow.lines()
    by_split = labels.groupby("split")["label"].agg(["count", "sum"])
    for split, row in by_split.iterrows():
        lines.append(f"  {split}: {int(row['count'])} participants, {int(row['sum'])} depressed")
    if len(corpus.disagreements):
        lines.append(f"  label rule: {len(corpus.disagreements)} row(s) where the file's binary disagrees with "
                     "PHQ >= 10: " + ", ".join(corpus.disagreements["participant_id"]))
    lines += [f"  note: {n}" for n in corpus.notes]
    return lines


# ---------------------------------------------------------------- single paths (inspect, predict)

def detect(path: Path) -> tuple[str, str]:
    """(kind, dataset) for a path: kind is 'corpus' or 'session'."""
    name = path.name
    if path.is_dir():
        synthetic = is_synthetic(path)
        if any((path / f).is_file() for f, _, _ in daic.LABEL_FILES if f != "test_split_Depression_AVEC2017.csv"):
            return "corpus", "synthetic" if synthetic else "daic_woz"
        if any((path / f).is_file() for f, split, _ in edaic.LABEL_FILES if split != "test"):
            return "corpus", "synthetic" if synthetic else "e_daic"
        if (path / openface.LABEL_FILE).is_file():
            return "corpus", "openface"
        if (path / "features").is_dir():
            return "session", "e_daic"
        if daic._SESSION_DIR.match(name):
            return "session", "daic_woz"
        raise DataError(f"{path}: not a corpus root or session folder (no split CSVs, labels.csv or NNN_P layout)")
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if name.endswith(daic.LANDMARK_FILE.format(pid="")) or name.lower().endswith(".zip") or is_series_file(path):
        return "session", "daic_woz"
    if name.endswith(edaic.FEATURE_FILE.format(pid="")):
        return "session", "e_daic"
    if name.endswith(".csv"):
        return "session", "openface"
    raise DataError(f"{path}: unknown file type (expected *_CLNF_features3D.txt, *_CLNF_pose.txt, *_CLNF_gaze.txt, "
                    "*_CLNF_AUs.txt, NNN_P.zip, *_OpenFace2.1.0_Pose_gaze_AUs.csv or an OpenFace .csv)")


def read_one_session(path: Path, dataset: str, params: Params) -> Session:
    """One session from a file, session folder or zip, read by the reader ``dataset`` names."""
    reader = reader_of(params, dataset)
    pid, source = reader.session_from_path(Path(path))
    return reader.read_session(pid, source, params)


def session_line(s: Session, label: str = "") -> str:
    return (f"{s.participant_id:>8}  {s.n_frames:>7} frames  {s.duration_s / 60:6.1f} min  "
            f"{100 * s.valid_fraction:5.1f}% valid  {label}").rstrip()


def is_series_file(path: Path) -> bool:
    """A DAIC-WOZ session's pose, gaze or AU file (by name)."""
    return any(path.name.endswith(n.format(pid="")) for names in daic_series.FILES.values() for n in names)


def inputs_lines(present: dict) -> list[str]:
    """``inspect``'s lines on which DAIC-WOZ inputs a corpus' sessions have (participant_id -> present inputs)."""
    kinds = ("landmarks",) + tuple(daic_series.FILES)
    counts = ", ".join(f"{k} {sum(k in v for v in present.values())}" for k in kinds)
    out = [f"  inputs: {counts} of {len(present)} session(s)"]
    lacking = [f"{pid} ({', '.join(k for k in kinds if k not in v)})" for pid, v in present.items() if len(v) < len(kinds)]
    if lacking:
        out.append(f"  sessions lacking inputs: {', '.join(lacking[:10])}" + (" …" if len(lacking) > 10 else ""))
    return out


def inspect_paths(paths: list[str], overrides: dict | None = None) -> tuple[list[str], list[str]]:
    """Return (report lines, problems) for every path; never stops at the first problem.

    For DAIC-WOZ (and a synthetic corpus in its layout) it also says which inputs each session has
    (landmarks, pose, gaze, AUs), and reads the series (data.signals: shared_series) where there are
    no landmarks to read: a pose, gaze or AU file, or a corpus or session with the series only."""
    lines, problems = [], []
    for raw in paths:
        path = Path(raw)
        try:
            kind, dataset = detect(path)
            data = {"root": str(path), **(overrides or {})}
            params = params_from_dict({"dataset": dataset, "data": data})
            present = {}
            if corpus_format(params) == "daic_woz":
                present = (daic_series.inputs_present(path) if kind == "corpus"
                           else {path.name: daic_series.session_inputs(path)})
                has = [set(v) for v in present.values()]
                series_only = not any("landmarks" in v for v in has) and any(set(daic_series.FILES) <= v for v in has)
                if "signals" not in data and (series_only or is_series_file(path)):
                    params = params_from_dict({"dataset": dataset, "data": {**data, "signals": "shared_series"}})
            if kind == "corpus":
                corpus = load_corpus(params)
                lines.append(f"{path}: {dataset} corpus{' (synthetic)' if corpus.synthetic else ''}")
                lines += inputs_lines(present) if present else []
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
                if present:
                    lines.append(f"  inputs: {', '.join(present[path.name]) or 'none'}")
                if s.valid.sum() == 0:
                    problems.append(f"{s.source}: every frame failed or is masked ({s.n_frames} frames)")
        except DataError as exc:
            problems.append(str(exc))
    return lines, problems
