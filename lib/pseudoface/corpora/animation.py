"""The synthetic corpus's generative model: people, their planted cue and a face that moves.

Each participant gets a PHQ-8 score, a personal expressivity and a face that moves: smooth head
rotation and translation, blinks, speech turns with mouth movement, smiles, brow raises, tracking
losses (success 0, low confidence, garbage coordinates) and measurement noise.

Planted effect (documented, the thing a model can learn), one cue family per corpus (``EFFECTS``):
- ``amplitude`` (the default, the original corpus): psychomotor retardation. Facial and head
  movement amplitude scale by ``1 - 0.45 * PHQ/24``, smiles are rarer by ``1 - 0.6 * PHQ/24`` and
  speech articulation slows by ``1 - 0.15 * PHQ/24``; personal expressivity varies log-normally
  (sd 0.3) and head movement has its own personal scale, so classes overlap strongly.
- ``smiles``, ``head_motion``, ``head_pitch``, ``brows``, ``blinks``, ``speech_rate``: severity acts
  through that one behaviour only (:func:`personal_cue`), each person with a personal gain on the
  cue and a personal baseline of the behaviour, so classes overlap strongly.
- ``mixed``: each person's severity acts through their own random 2-3 of those six families.
Deterministic for a seed; the marker file records the family, its strength and spread.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .corpus import AUS, GAZE, POSE
from .face import rotation_matrix, template_face

MISSING_IDS = (342, 394, 398, 460)  # absent from the real DAIC-WOZ numbering too
EFFECT = {"amplitude": 0.45, "smiles": 0.6, "speech_rate": 0.15}  # the amplitude family at its default strength


@dataclass(frozen=True)
class CueFamily:
    description: str  # one line, for the CLI's --effect help
    strength: float  # default change at PHQ 24 for a person of gain 1: a fraction (degrees for head_pitch)
    spread: float  # default person-to-person spread (see personal_cue)


EFFECTS = {
    "amplitude": CueFamily("facial and head movement amplitude x(1 - s*PHQ/24), smiles rarer and articulation "
                           "slower with it (the original corpus; people vary by expressivity)", 0.45, 0.0),
    "smiles": CueFamily("smiles rarer and weaker: rate and size x(1 - s*PHQ/24)", 0.6, 0.5),
    "head_motion": CueFamily("less head rotation and translation movement: amplitude x(1 - s*PHQ/24)", 0.5, 0.5),
    "head_pitch": CueFamily("head pitched down (gaze lowered) by s*PHQ/24 degrees on average", 8.0, 0.5),
    "brows": CueFamily("brow raises rarer x(1 - s*PHQ/24) and shorter x(1 - s/2*PHQ/24)", 0.6, 0.5),
    "blinks": CueFamily("blink rate x(1 - s*PHQ/24): fewer blinks (a negative s gives more)", 0.5, 0.5),
    "speech_rate": CueFamily("slower articulation: syllable rate of mouth movement x(1 - s*PHQ/24)", 0.3, 0.5),
    "mixed": CueFamily("each person's severity acts through their own random 2-3 of the six single families, "
                       "each at s times its default strength", 1.0, 0.5),
}
SINGLE_CUES = ("smiles", "head_motion", "head_pitch", "brows", "blinks", "speech_rate")  # what mixed draws from


@dataclass(frozen=True)
class Person:
    participant_id: int
    phq_score: int
    gender: int  # 0 female, 1 male (this corpus' own coding, stated in its marker file)
    expressivity: float
    head_scale: float


@dataclass(frozen=True)
class Cue:
    """One person's behaviour knobs: multipliers on the population's typical size or rate (1 = typical)
    and a mean downward head pitch in degrees; ``families`` says which cue families carry the severity."""
    movement: float = 1.0  # facial movement amplitude, on top of the personal expressivity
    head_motion: float = 1.0  # head rotation and translation amplitude, on top of the personal head scale
    head_pitch_deg: float = 0.0
    smile_rate: float = 1.0
    smile_size: float = 1.0
    brow_rate: float = 1.0
    brow_duration: float = 1.0
    blink_rate: float = 1.0
    syllable_rate: float = 1.0
    families: tuple = ()


def check_effect(effect: str) -> None:
    if effect not in EFFECTS:
        raise ValueError(f"unknown effect {effect!r}; choose one of: {', '.join(EFFECTS)}")


def _drop(change: float) -> float:
    return max(0.05, 1 - change)  # a large personal gain must not make a rate negative


def personal_cue(person: Person, effect: str = "amplitude", strength: float | None = None,
                 spread: float | None = None, rng: np.random.Generator | None = None) -> Cue:
    """How ``person``'s severity shows under one cue family of ``EFFECTS`` (None: the family's defaults).

    A targeted behaviour changes by ``1 - strength * gain * PHQ/24`` (floored at 0.05; head_pitch adds
    ``strength * gain * PHQ/24`` degrees of downward pitch) from a personal baseline. The personal
    gain is log-normal with SD ``spread``; the baseline is log-normal with SD ``spread * |strength|``
    (normal with that SD in degrees for head_pitch), so one ``spread`` gives every family a similar
    overlap of the classes. ``mixed`` gives each behaviour a baseline and acts through 2-3 of them.
    ``rng`` draws the gain, baselines and mixed subset (default: seeded by the participant id);
    with ``spread`` 0 only the mixed subset is random. Other behaviours stay at 1 (typical).
    """
    check_effect(effect)
    family = EFFECTS[effect]
    strength = family.strength if strength is None else float(strength)
    spread = family.spread if spread is None else float(spread)
    if not spread >= 0:
        raise ValueError(f"spread must be >= 0, got {spread}")
    rng = np.random.default_rng([person.participant_id, 7]) if rng is None else rng
    sev = person.phq_score / 24.0
    z = rng.standard_normal(2 + len(SINGLE_CUES))  # always drawn, so every family sees the same people
    gain = float(np.exp(spread * z[0]))
    if effect == "amplitude":
        # The original bundle: its three coefficients scale together; at the defaults these are
        # exactly the original expressions (k = 1, gain = 1, baseline = 1), so corpora stay byte-identical.
        k = strength / family.strength
        move = float(np.exp(spread * abs(strength) * z[1])) * _drop(EFFECT["amplitude"] * k * sev * gain)
        return Cue(movement=move, head_motion=move, smile_rate=_drop(EFFECT["smiles"] * k * sev * gain),
                   syllable_rate=_drop(EFFECT["speech_rate"] * k * sev * gain), families=("amplitude",))
    if effect == "mixed":
        chosen = set(rng.choice(len(SINGLE_CUES), size=int(rng.integers(2, 4)), replace=False).tolist())
        families = tuple(f for i, f in enumerate(SINGLE_CUES) if i in chosen)
    else:
        families = (effect,)
    knobs = {}
    for i, name in enumerate(SINGLE_CUES):
        if effect != "mixed" and name != effect:
            continue
        s = strength * EFFECTS[name].strength if effect == "mixed" else strength
        base = spread * abs(s) * z[2 + i]  # log baseline (degrees for head_pitch)
        change = s * gain * sev if name in families else 0.0
        if name == "smiles":
            knobs.update(smile_rate=float(np.exp(base)) * _drop(change), smile_size=_drop(change))
        elif name == "head_motion":
            knobs.update(head_motion=float(np.exp(base)) * _drop(change))
        elif name == "head_pitch":
            knobs.update(head_pitch_deg=base + change)
        elif name == "brows":
            knobs.update(brow_rate=float(np.exp(base)) * _drop(change), brow_duration=_drop(change / 2))
        elif name == "blinks":
            knobs.update(blink_rate=float(np.exp(base)) * _drop(change))
        else:
            knobs.update(syllable_rate=float(np.exp(base)) * _drop(change))
    return Cue(**knobs, families=families)


def _smooth(rng: np.random.Generator, T: int, fps: float, cutoff_hz: float, n: int = 1) -> np.ndarray:
    """(T, n) low-pass Gaussian noise with unit standard deviation."""
    spec = np.fft.rfft(rng.standard_normal((T, n)), axis=0)
    freqs = np.fft.rfftfreq(T, 1.0 / fps)
    spec[freqs > max(cutoff_hz, freqs[min(1, len(freqs) - 1)])] = 0  # keep >= 1 bin on short sessions
    spec[0] = 0
    out = np.fft.irfft(spec, n=T, axis=0)
    return out / (out.std(axis=0, keepdims=True) + 1e-9)


def _events(rng: np.random.Generator, T: int, fps: float, rate_hz: float, dur_s: tuple) -> np.ndarray:
    """(T,) envelope in [0, 1] of randomly timed Hann-shaped events."""
    env = np.zeros(T)
    n = rng.poisson(rate_hz * T / fps)
    for start in rng.integers(0, T, size=n):
        length = max(2, int(rng.uniform(*dur_s) * fps))
        stop = min(T, start + length)
        env[start:stop] = np.maximum(env[start:stop], np.hanning(length)[: stop - start])
    return env


def sample_people(n: int, rng: np.random.Generator, first_id: int = 300) -> list[Person]:
    """``n`` people numbered from ``first_id`` (skipping :data:`MISSING_IDS`), ~32% depressed."""
    ids, pid = [], first_id
    while len(ids) < n:
        if pid not in MISSING_IDS:
            ids.append(pid)
        pid += 1
    people = []
    depressed_set = set(rng.permutation(n)[: int(round(0.32 * n))].tolist())  # fixed prevalence ~32%
    for i, pid in enumerate(ids):
        depressed = i in depressed_set
        score = int(rng.integers(10, 24)) if depressed else int(rng.integers(0, 10))
        people.append(Person(pid, score, int(rng.integers(0, 2)), float(np.exp(rng.normal(0, 0.3))),
                             float(np.exp(rng.normal(0, 0.3)))))
    return people


def animate(person: Person, seconds: float, fps: float, rng: np.random.Generator, cue: Cue | None = None) -> dict:
    """Frames of one session: landmarks (T, 68, 3) mm camera space, pose, expression envelopes.

    ``cue`` sets how the person's severity shows (default: ``personal_cue(person)``, the amplitude
    family). The random draws happen in the same order for every cue, so the default never changes.
    """
    cue = personal_cue(person) if cue is None else cue
    T = int(round(seconds * fps))
    amp = person.expressivity * cue.movement
    head = person.head_scale * cue.head_motion
    speaking = (_smooth(rng, T, fps, 0.08)[:, 0] > -0.2).astype(float)
    speaking = np.convolve(speaking, np.hanning(9) / np.hanning(9).sum(), mode="same")
    syllable_hz = 4.0 * cue.syllable_rate
    mouth = amp * 7.0 * speaking * np.abs(_smooth(rng, T, fps, syllable_hz)[:, 0]) ** 1.2
    smile = amp * cue.smile_size * _events(rng, T, fps, 0.06 * cue.smile_rate, (1.5, 4.0))
    brow_s = (0.5 * cue.brow_duration, 1.5 * cue.brow_duration)
    brow = amp * _events(rng, T, fps, 0.08 * cue.brow_rate, brow_s) * (0.5 + 0.5 * speaking)
    blink = _events(rng, T, fps, 0.28 * cue.blink_rate, (0.15, 0.3))
    face = np.repeat(template_face()[None], T, axis=0)  # (T, 68, 3)
    face *= rng.uniform(0.9, 1.1)  # personal face size
    lower = [55, 56, 57, 58, 59, 65, 66, 67]
    face[:, lower, 1] += mouth[:, None]
    face[:, 5:12, 1] += 0.45 * mouth[:, None]
    face[:, [48, 60], 0] -= 4 * smile[:, None]
    face[:, [54, 64], 0] += 4 * smile[:, None]
    face[:, [48, 54, 60, 64], 1] -= 3 * smile[:, None]
    face[:, 17:27, 1] -= 4 * brow[:, None]
    face[:, [37, 38, 43, 44], 1] += 4.5 * blink[:, None]
    face[:, [40, 41, 46, 47], 1] -= 0.6 * blink[:, None]
    face += 0.35 * amp * _smooth(rng, T, fps, 1.0, 68 * 3).reshape(T, 68, 3)
    angles = np.deg2rad(head * np.array([3.0, 6.0, 2.0])) * _smooth(rng, T, fps, 0.4, 3)  # pitch, yaw, roll
    angles += np.deg2rad(rng.normal(0, [4, 6, 3]))
    if cue.head_pitch_deg:  # positive pitch = nose down in OpenFace's y-down camera frame; also lowers gaze
        angles[:, 0] += np.deg2rad(cue.head_pitch_deg)
    shift = head * np.array([8.0, 5.0, 12.0]) * _smooth(rng, T, fps, 0.1, 3)
    shift += np.array([rng.normal(0, 30), rng.normal(30, 20), rng.normal(700, 80)])
    R = rotation_matrix(angles[:, 0], angles[:, 1], angles[:, 2])  # (T, 3, 3)
    xyz = np.einsum("tij,tpj->tpi", R, face) + shift[:, None, :]
    xyz += rng.normal(0, [0.25, 0.25, 0.8], size=xyz.shape)
    confidence = np.clip(rng.normal(0.93, 0.03, T), 0.0, 0.98)
    success = np.ones(T, dtype=int)
    lost = _events(rng, T, fps, 1 / 40, (0.3, 2.5)) > 0
    lost |= rng.random(T) < 0.003
    success[lost] = 0
    confidence[lost] = rng.uniform(0.02, 0.4, lost.sum())
    if lost.any():  # OpenFace still writes coordinates for failed frames: garbage
        xyz[lost] = rng.normal(0, 300, size=(lost.sum(), 68, 3)) + np.array([0, 0, 500])
    shaky = (rng.random(T) < 0.01) & ~lost
    confidence[shaky] = rng.uniform(0.5, 0.74, shaky.sum())
    return {"landmarks": xyz, "angles": angles, "shift": shift, "mouth": mouth, "smile": smile,
            "brow": brow, "blink": blink, "confidence": confidence, "success": success, "lost": lost}


def face_series(frames: dict, fps: float, rng: np.random.Generator) -> dict:
    """OpenFace 2 name -> (T,) series of one session, from its frames (:func:`animate`): pose (mm, rad)
    and gaze (unit vectors and angles, rad) from the head motion, the 17 AU intensities (0-5) of
    ``corpus.AUS`` from the planted behaviours (a smile raises AU06/AU12, a brow raise AU01/AU02, speech
    AU25/AU26, a blink AU45) over a little noise. Both layouts' series files are written from it, with
    the same draws in the same order, so the same person's series are the same in both."""
    T = len(frames["confidence"])
    pitch, yaw = frames["angles"][:, 0], frames["angles"][:, 1]
    gx = np.sin(-yaw + 0.05 * _smooth(rng, T, fps, 1.0)[:, 0])
    gy = np.sin(pitch + 0.05 * _smooth(rng, T, fps, 1.0)[:, 0])
    gz = -np.sqrt(np.clip(1 - gx ** 2 - gy ** 2, 0, 1))
    gaze = [gx, gy, gz, gx, gy, gz, np.arctan2(gx, -gz), np.arctan2(gy, -gz)]
    pose = [frames["shift"][:, 0], frames["shift"][:, 1], frames["shift"][:, 2],
            frames["angles"][:, 0], frames["angles"][:, 1], frames["angles"][:, 2]]
    drive = {"AU01_r": 3 * frames["brow"], "AU02_r": 2.5 * frames["brow"], "AU06_r": 2 * frames["smile"],
             "AU12_r": 3 * frames["smile"], "AU25_r": frames["mouth"] / 3, "AU26_r": frames["mouth"] / 4,
             "AU45_r": 3 * frames["blink"]}
    aus = [np.clip(drive.get(n, 0) + np.abs(0.3 * _smooth(rng, T, fps, 1.0)[:, 0]), 0, 5) for n in AUS]
    return dict(zip(GAZE + POSE + AUS, gaze + pose + aus))
