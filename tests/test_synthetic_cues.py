"""The synthetic generator's cue families: each changes its own behaviour, in the documented
direction, and nothing else; the default corpus stays byte-identical to the original generator."""
import json

import numpy as np
import pandas as pd
import pytest

from conftest import tree_digest
from pseudoface.corpora.animation import EFFECT, EFFECTS, SINGLE_CUES, Cue, Person, animate, personal_cue
from pseudoface.corpora.synthetic import GENERATOR_VERSION, write_corpus

SECONDS, FPS, SEEDS = 60.0, 30.0, range(4)
MILD, SEVERE = 2, 22  # PHQ-8 scores of the two people compared


def _sessions(effect: str, score: int, strength=None) -> list[dict]:
    """One person per seed at this severity, zero spread: the same noise streams for both severities."""
    out = []
    for seed in SEEDS:
        person = Person(300 + seed, score, 0, 1.0, 1.0)
        cue = personal_cue(person, effect, strength, spread=0.0)
        out.append(animate(person, SECONDS, FPS, np.random.default_rng(seed), cue=cue))
    return out


# ---------------------------------------------------------------- what each family is measured by

def smile_widening(f):  # mm the mouth corners spread beyond their usual distance (landmarks 48-54)
    ok = ~f["lost"]
    width = np.linalg.norm(f["landmarks"][ok, 48] - f["landmarks"][ok, 54], axis=1)
    return np.percentile(width, 98) - np.median(width)


def head_rotation_sd(f):  # degrees, mean over pitch/yaw/roll
    return np.rad2deg(f["angles"]).std(axis=0).mean()


def head_translation_sd(f):  # mm, mean over x/y/z
    return f["shift"].std(axis=0).mean()


def mean_pitch(f):  # degrees, positive = nose down
    return np.rad2deg(f["angles"][:, 0]).mean()


def _per_minute(envelope):  # event onsets per minute of a planted envelope
    onsets = np.flatnonzero(np.diff((envelope > 0.05).astype(int)) == 1)
    return len(onsets) / (len(envelope) / FPS / 60)


def brow_raise_rate(f):
    return _per_minute(f["brow"])


def blink_rate(f):
    return _per_minute(f["blink"])


def articulation_hz(f):  # amplitude-free frequency of the mouth movement: sd(velocity) / (2 pi sd)
    return np.diff(f["mouth"]).std() * FPS / (2 * np.pi * f["mouth"].std())


# family -> (strong strength, targeted measure, expected sign of SEVERE - MILD, unrelated measures)
CASES = {
    "smiles": (0.9, smile_widening, -1, (head_rotation_sd, articulation_hz)),
    "head_motion": (0.8, head_rotation_sd, -1, (smile_widening, blink_rate)),
    "head_pitch": (20.0, mean_pitch, +1, (head_rotation_sd, smile_widening, blink_rate)),
    "brows": (0.9, brow_raise_rate, -1, (smile_widening, head_rotation_sd)),
    "blinks": (0.8, blink_rate, -1, (smile_widening, head_rotation_sd, articulation_hz)),
    "speech_rate": (0.6, articulation_hz, -1, (smile_widening, head_rotation_sd, blink_rate)),
}


@pytest.mark.parametrize("effect", list(CASES))
def test_each_family_moves_its_own_signal_only(effect):
    strength, target, sign, unrelated = CASES[effect]
    mild, severe = _sessions(effect, MILD, strength), _sessions(effect, SEVERE, strength)

    def mean(measure, sessions):
        return np.mean([measure(f) for f in sessions])
    a, b = mean(target, mild), mean(target, severe)
    if target is mean_pitch:  # a level: at least half the planted offset difference, in degrees
        assert b - a > 0.5 * strength * (SEVERE - MILD) / 24
    else:
        assert sign * (b - a) > 0.3 * abs(a), f"{effect}: {target.__name__} {a:.3f} -> {b:.3f}"
    for measure in unrelated:
        u, v = mean(measure, mild), mean(measure, severe)
        assert abs(v - u) <= 0.1 * abs(u) + 1e-9, f"{effect} moved {measure.__name__}: {u:.3f} -> {v:.3f}"


def test_head_motion_also_steadies_translation_and_head_pitch_keeps_the_spread():
    mild, severe = _sessions("head_motion", MILD, 0.8), _sessions("head_motion", SEVERE, 0.8)
    assert np.mean([head_translation_sd(f) for f in severe]) < 0.5 * np.mean([head_translation_sd(f) for f in mild])
    mild, severe = _sessions("head_pitch", MILD, 20.0), _sessions("head_pitch", SEVERE, 20.0)
    np.testing.assert_allclose([head_translation_sd(f) for f in severe], [head_translation_sd(f) for f in mild])


def test_amplitude_is_the_original_bundle():
    person = Person(300, 12, 0, 1.0, 1.0)
    cue = personal_cue(person)
    assert cue == personal_cue(person, "amplitude", EFFECTS["amplitude"].strength, EFFECTS["amplitude"].spread)
    assert cue.movement == cue.head_motion == 1 - EFFECT["amplitude"] * 0.5
    assert cue.smile_rate == 1 - EFFECT["smiles"] * 0.5 and cue.syllable_rate == 1 - EFFECT["speech_rate"] * 0.5
    assert (cue.blink_rate, cue.brow_rate, cue.head_pitch_deg) == (1.0, 1.0, 0.0)
    assert personal_cue(Person(300, 0, 0, 1.0, 1.0)) == Cue(families=("amplitude",))  # no severity, no change


def test_single_families_touch_only_their_knobs():
    untouched = Cue()
    knobs = {"smiles": {"smile_rate", "smile_size"}, "head_motion": {"head_motion"},
             "head_pitch": {"head_pitch_deg"}, "brows": {"brow_rate", "brow_duration"},
             "blinks": {"blink_rate"}, "speech_rate": {"syllable_rate"}}
    for effect, mine in knobs.items():
        cue = personal_cue(Person(305, 20, 1, 1.0, 1.0), effect, rng=np.random.default_rng(1))
        changed = {k for k in Cue.__dataclass_fields__ if k != "families" and getattr(cue, k) != getattr(untouched, k)}
        assert changed == mine, effect
        assert cue.families == (effect,)


def test_mixed_draws_two_or_three_families_per_person():
    cues = [personal_cue(Person(300 + i, 20, 0, 1.0, 1.0), "mixed", spread=0.0, rng=np.random.default_rng(i))
            for i in range(60)]
    sizes = {len(c.families) for c in cues}
    assert sizes == {2, 3}
    assert set().union(*(c.families for c in cues)) == set(SINGLE_CUES)
    assert all(set(c.families) <= set(SINGLE_CUES) for c in cues)
    # with no spread, a behaviour outside the person's families stays typical
    blinks_off = [c for c in cues if "blinks" not in c.families]
    assert blinks_off and all(c.blink_rate == 1.0 for c in blinks_off)
    assert all(c.blink_rate < 1.0 for c in cues if "blinks" in c.families)


def test_spread_makes_the_classes_overlap():
    def blink_knob(score, i, spread=None):
        return personal_cue(Person(300 + i, score, 0, 1.0, 1.0), "blinks", spread=spread,
                            rng=np.random.default_rng([9, i])).blink_rate
    mild = np.array([blink_knob(3, i) for i in range(80)])
    severe = np.array([blink_knob(18, i + 100) for i in range(80)])
    assert np.median(severe) < np.median(mild)  # learnable
    assert severe.max() > np.median(mild) and mild.min() < np.median(severe)  # far from separable
    assert len({blink_knob(18, i, spread=0.0) for i in range(10)}) == 1  # no spread: severity alone


def _as_generator_1(root):
    """The corpus as generator version 1 wrote it: without the DAIC-WOZ pose, gaze and AU files (added
    in version 2, drawn after everything else) and with version 1 in the marker."""
    for path in root.glob("*_P/*_CLNF_*.txt"):
        if not path.name.endswith("_CLNF_features3D.txt"):
            path.unlink()
    marker = root / "SYNTHETIC_CORPUS.txt"
    text = marker.read_text()
    assert f'"generator_version": {GENERATOR_VERSION},' in text
    marker.write_text(text.replace(f'"generator_version": {GENERATOR_VERSION},', '"generator_version": 1,'))
    return root


def test_default_corpus_is_byte_identical_to_the_original_generator(tmp_path):
    # Digests of the generator before cue families existed (commit 595cb94, numpy 2.4); the committed
    # reports depend on these bytes. A numpy upgrade that changes them must be looked at, not re-pinned blindly.
    daic = write_corpus(tmp_path / "d", participants=5, seconds=10, seed=7)
    assert len(list(daic.glob("*_P/*_CLNF_*.txt"))) == 5 * 4  # landmarks, pose, gaze, AUs
    assert tree_digest(_as_generator_1(daic)) == "278d8a68e7684a9115ab683d8124b8d4266d8ed817267047b192135d94cb94a2"
    edaic = write_corpus(tmp_path / "e", participants=5, seconds=10, seed=7, fmt="e_daic")
    assert tree_digest(_as_generator_1(edaic)) == "14ab8b2595a5f542d0891d6819fde2c302607579ee692ad3995aaaef423ddd8a"
    assert json.loads((daic / "SYNTHETIC_CORPUS.txt").read_text())["planted_effect"] == EFFECT
    explicit = write_corpus(tmp_path / "x", participants=5, seconds=10, seed=7, effect="amplitude",
                            strength=EFFECTS["amplitude"].strength, spread=EFFECTS["amplitude"].spread)
    assert tree_digest(_as_generator_1(explicit)) == tree_digest(daic)


def test_unknown_effect_names_the_choices(tmp_path):
    with pytest.raises(ValueError, match="unknown effect 'frowns'.*amplitude.*head_pitch.*mixed"):
        write_corpus(tmp_path / "c", participants=5, seconds=5, effect="frowns")
    assert not (tmp_path / "c").exists()  # refused before writing anything
    with pytest.raises(ValueError, match="choose one of"):
        personal_cue(Person(300, 5, 0, 1.0, 1.0), "frowns")
    with pytest.raises(ValueError, match="spread"):
        personal_cue(Person(300, 5, 0, 1.0, 1.0), "blinks", spread=-1)


def test_head_pitch_corpus_lowers_the_gaze_columns_and_is_recorded(tmp_path):
    root = write_corpus(tmp_path / "e", participants=10, seconds=8, seed=2, fmt="e_daic", effect="head_pitch",
                        strength=40.0, spread=0.0)
    labels = pd.concat([pd.read_csv(root / f"{s}_split.csv") for s in ("train", "dev", "test")])
    gaze, pitch = {}, {}
    for pid in labels["Participant_ID"]:
        table = pd.read_csv(root / f"{pid}_P" / "features" / f"{pid}_OpenFace2.1.0_Pose_gaze_AUs.csv",
                            skipinitialspace=True)
        gaze[pid], pitch[pid] = table["gaze_angle_y"].mean(), table["pose_Rx"].mean()
    depressed = labels["PHQ_Binary"] == 1
    for values in (gaze, pitch):
        v = labels["Participant_ID"].map(values)
        assert v[depressed].mean() - v[~depressed].mean() > np.deg2rad(5)  # looking down: positive y
    marker = json.loads((root / "SYNTHETIC_CORPUS.txt").read_text())["planted_effect"]
    assert marker["effect"] == "head_pitch" and marker["strength"] == 40.0 and marker["spread"] == 0.0
    assert "degrees" in marker["description"]


def test_mixed_corpus_records_each_persons_families(tmp_path):
    root = write_corpus(tmp_path / "m", participants=6, seconds=4, seed=1, effect="mixed")
    marker = json.loads((root / "SYNTHETIC_CORPUS.txt").read_text())["planted_effect"]
    assert marker["effect"] == "mixed" and marker["spread"] == EFFECTS["mixed"].spread
    families = marker["families_by_participant"]
    assert len(families) == 6 and all(2 <= len(f) <= 3 and set(f) <= set(SINGLE_CUES) for f in families.values())
    again = write_corpus(tmp_path / "m2", participants=6, seconds=4, seed=1, effect="mixed")
    assert tree_digest(again) == tree_digest(root)  # deterministic for a seed, subsets included
