"""Synthetic corpus in the exact DAIC-WOZ (or E-DAIC) layout: the embedded default data set.

:func:`write_corpus` draws people and animates their faces (:mod:`animation`: the planted cue
families, ``EFFECTS``) and writes each session in the real layout: DAIC-WOZ's
``NNN_CLNF_features3D.txt`` and its pose, gaze and AU files, or E-DAIC's OpenFace 2.1 CSV, with the
split CSVs and the marker file (``SYNTHETIC_CORPUS.txt``: family, strength, spread, seed).
Deterministic for a seed.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import openface
from .animation import EFFECT, EFFECTS, Person, animate, check_effect, face_series, personal_cue, sample_people
from .cache import atomic_write_text
from .corpus import AUS, DAIC_AU_INTENSITIES, DAIC_AU_PRESENCES, GAZE, GAZE_VECTORS, POSE, SYNTHETIC_MARKER
from .face import rotation_matrix
from .textio import write_columns

GENERATOR_VERSION = 2  # 2: the DAIC-WOZ layout also has each session's CLNF pose, gaze and AU files


def _clnf_frame_columns(frames: dict, fps: float) -> tuple[list, list]:
    """(header, columns) of the frame, timestamp, confidence and success columns every CLNF file starts with."""
    T = len(frames["confidence"])
    return (["frame", "timestamp", "confidence", "success"],
            [np.arange(1, T + 1), np.round(np.arange(T) / fps, 3), np.round(frames["confidence"], 6), frames["success"]])


def write_clnf(path: Path, frames: dict, fps: float) -> None:
    xyz = np.round(frames["landmarks"], 3)  # (T, 68, 3)
    header, cols = _clnf_frame_columns(frames, fps)
    header = header + [f"{a}{i}" for a in "XYZ" for i in range(68)]
    cols = cols + [xyz[:, i, a] for a in range(3) for i in range(68)]
    write_columns(path, header, cols)


def write_openface21(path: Path, frames: dict, fps: float, rng: np.random.Generator) -> None:
    T = len(frames["confidence"])
    series = face_series(frames, fps, rng)
    aus = [series[n] for n in AUS]
    names = list(GAZE) + list(POSE) + list(AUS) + [n.replace("_r", "_c") for n in AUS]
    cols = ([np.round(series[n], 6) for n in GAZE] + [np.round(series[n], 6) for n in POSE]
            + [np.round(a, 2) for a in aus] + [(a > 1).astype(int) for a in aus])
    openface.write_csv(path, np.arange(T) / fps, frames["confidence"], frames["success"], dict(zip(names, cols)))


def write_clnf_series(folder: Path, pid: int, frames: dict, fps: float, rng: np.random.Generator) -> None:
    """A DAIC-WOZ session's ``NNN_CLNF_pose.txt``, ``NNN_CLNF_gaze.txt`` and ``NNN_CLNF_AUs.txt`` with the
    corpus' column names and order (``", "`` separators): pose Tx, Ty, Tz (mm), Rx, Ry, Rz (rad); gaze
    x_0..z_1 (camera space) then x_h0..z_h1 (the same vectors in head space); the 14 AU intensities then
    the 6 presences (1 where the intensity exceeds 1; AU28, lip suck, is never planted: 0)."""
    T = len(frames["confidence"])
    series = face_series(frames, fps, rng)
    header, base = _clnf_frame_columns(frames, fps)
    gaze = np.stack([series[n] for n in GAZE_VECTORS], axis=1).reshape(T, 2, 3)  # (T, eye, xyz), camera space
    R = rotation_matrix(frames["angles"][:, 0], frames["angles"][:, 1], frames["angles"][:, 2])  # head -> camera
    head_gaze = np.einsum("tji,tej->tei", R, gaze)  # R^T g: (T, eye, xyz) in head space
    tables = {
        "pose": (["Tx", "Ty", "Tz", "Rx", "Ry", "Rz"], [np.round(series[n], 6) for n in POSE]),
        "gaze": ([f"{a}_{e}" for e in "01" for a in "xyz"] + [f"{a}_h{e}" for e in "01" for a in "xyz"],
                 [np.round(gaze[:, e, a], 6) for e in range(2) for a in range(3)]
                 + [np.round(head_gaze[:, e, a], 6) for e in range(2) for a in range(3)]),
        "AUs": (list(DAIC_AU_INTENSITIES) + list(DAIC_AU_PRESENCES),
                [np.round(series[n], 2) for n in DAIC_AU_INTENSITIES]
                + [(series.get(n.replace("_c", "_r"), np.zeros(T)) > 1).astype(int) for n in DAIC_AU_PRESENCES]),
    }
    for kind, (names, cols) in tables.items():
        write_columns(folder / f"{pid}_CLNF_{kind}.txt", header + names, base + cols)


def _split_of(i: int, n: int) -> str:
    frac = i / n
    return "train" if frac < 0.57 else ("dev" if frac < 0.76 else "test")


def _items(score: int, rng: np.random.Generator) -> list[int]:
    items = np.zeros(8, int)
    for _ in range(score):
        open_slots = np.flatnonzero(items < 3)
        items[rng.choice(open_slots)] += 1
    return items.tolist()


def write_labels_daic(out: Path, people: list[Person], rng: np.random.Generator) -> list[str]:
    """AVEC 2017 split files with their real column names; returns the planted label quirks."""
    item_names = ["PHQ8_NoInterest", "PHQ8_Depressed", "PHQ8_Sleep", "PHQ8_Tired", "PHQ8_Appetite",
                  "PHQ8_Failure", "PHQ8_Concentrating", "PHQ8_Moving"]
    rows = {"train": [], "dev": [], "test": []}
    planted = []
    for i, p in enumerate(people):
        rows[_split_of(i, len(people))].append(p)
    for split in ("train", "dev"):
        lines = [",".join(["Participant_ID", "PHQ8_Binary", "PHQ8_Score", "Gender"] + item_names)]
        for j, p in enumerate(rows[split]):
            binary = int(p.phq_score >= 10)
            items = [str(v) for v in _items(p.phq_score, rng)]
            if split == "train" and j == 1:  # like the reported 319: an empty item cell
                items[3] = ""
                planted.append(f"{p.participant_id}: empty PHQ8_Tired cell")
            if split == "train" and p.phq_score == 10 and not any("binary" in q for q in planted):
                binary = 0  # like the reported 409: score 10 but binary 0
                planted.append(f"{p.participant_id}: PHQ8_Score 10 but PHQ8_Binary 0")
            lines.append(",".join([str(p.participant_id), str(binary), str(p.phq_score), str(p.gender)] + items))
        atomic_write_text(out / f"{split}_split_Depression_AVEC2017.csv", "\n".join(lines) + "\n")
    test = rows["test"]
    atomic_write_text(out / "test_split_Depression_AVEC2017.csv",
                      "participant_ID,Gender\n" + "".join(f"{p.participant_id},{p.gender}\n" for p in test))
    atomic_write_text(out / "full_test_split.csv", "Participant_ID,PHQ_Binary,PHQ_Score,Gender\n" + "".join(
        f"{p.participant_id},{int(p.phq_score >= 10)},{p.phq_score},{p.gender}\n" for p in test))
    return planted


def write_labels_edaic(out: Path, people: list[Person], rng: np.random.Generator) -> list[str]:
    header = "Participant_ID,Gender,PHQ_Binary,PHQ_Score,PCL-C (PTSD),PTSD Severity\n"
    lines = {"train": [header], "dev": [header], "test": [header]}
    for i, p in enumerate(people):
        pcl = int(rng.integers(17, 60))
        lines[_split_of(i, len(people))].append(
            f"{p.participant_id},{'male' if p.gender else 'female'},{int(p.phq_score >= 10)},{p.phq_score},"
            f"{int(pcl >= 44)},{pcl}\n")
    for split, text in lines.items():
        atomic_write_text(out / f"{split}_split.csv", "".join(text))
    return []


def _planted(effect: str, strength: float | None, spread: float | None, cues: dict) -> dict:
    """The marker's record of the planted effect; the default keeps the original corpus' content."""
    family = EFFECTS[effect]
    strength = family.strength if strength is None else float(strength)
    spread = family.spread if spread is None else float(spread)
    if effect == "amplitude" and strength == family.strength and spread == family.spread:
        return dict(EFFECT)
    record = {"effect": effect, "strength": strength, "spread": spread, "description": family.description}
    if effect == "mixed":
        record["families_by_participant"] = {str(pid): list(c.families) for pid, c in cues.items()}
    return record


def write_corpus(out: str | Path, participants: int = 48, seconds: float = 75.0, seed: int = 0,
                 fmt: str = "daic_woz", fps: float = 30.0, effect: str = "amplitude",
                 strength: float | None = None, spread: float | None = None, origin: str = "synth",
                 first_id: int = 300) -> Path:
    """Write a synthetic corpus to ``out`` (DAIC-WOZ or E-DAIC layout) and return the path.

    ``effect`` names the planted cue family (``EFFECTS``); ``strength``/``spread`` None take its defaults.
    ``origin`` goes into the marker: ``params`` for the corpus a params file's ``data.synthetic_*`` keys
    describe (``read.ensure_synthetic``, which may generate it again at another size), ``synth`` otherwise.
    Participants are numbered from ``first_id`` (E-DAIC's own people start at 600). In the DAIC-WOZ
    layout each session has its landmark file and its pose, gaze and AU files, the latter drawn after
    the landmarks from the participant's stream: the landmark files stay generator version 1's and the
    series equal the same seed's E-DAIC-layout ones.
    """
    check_effect(effect)
    if participants < 4:
        raise ValueError("participants must be at least 4 (the splits need both classes)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    people = sample_people(participants, rng, first_id)
    cues = {}
    for p in people:
        # the personal cue draws from its own stream, so the default corpus' draws are the original ones
        cues[p.participant_id] = personal_cue(p, effect, strength, spread,
                                              np.random.default_rng([seed, p.participant_id, 7]))
        prng = np.random.default_rng([seed, p.participant_id])
        frames = animate(p, seconds, fps, prng, cue=cues[p.participant_id])
        folder = out / f"{p.participant_id}_P"
        if fmt == "daic_woz":
            write_clnf(folder / f"{p.participant_id}_CLNF_features3D.txt", frames, fps)
            write_clnf_series(folder, p.participant_id, frames, fps, prng)
        else:
            write_openface21(folder / "features" / f"{p.participant_id}_OpenFace2.1.0_Pose_gaze_AUs.csv",
                             frames, fps, prng)
    planted = (write_labels_daic if fmt == "daic_woz" else write_labels_edaic)(out, people, rng)
    marker = {"synthetic": True, "format": fmt, "generator_version": GENERATOR_VERSION, "seed": seed,
              "participants": participants, "seconds": seconds, "fps": fps, "gender_codes": {"0": "female", "1": "male"},
              "planted_effect": _planted(effect, strength, spread, cues), "planted_label_quirks": planted,
              "note": "Synthetic data written by pseudoface; not clinical data."}
    if first_id != 300:
        marker["first_id"] = first_id
    if origin != "synth":  # absent means synth: a synth corpus' bytes stay the original generator's
        marker["origin"] = origin
    atomic_write_text(out / SYNTHETIC_MARKER, json.dumps(marker, indent=2) + "\n")
    return out
