"""Session functionals: they track what the synthetic generator planted, and are always finite and named alike."""
import numpy as np
import pandas as pd
import pytest

from pseudoface.site.explore import signal_traces
from pseudoface.encoding.features import MIN_VALID_SECONDS, landmark_signals, session_features, session_functionals
from pseudoface.encoding.normalise import normalise_landmarks, normalise_series
from pseudoface.params import params_from_dict
from pseudoface.corpora.animation import Cue, Person, animate
from pseudoface.corpora.synthetic import write_openface21

PARAMS = params_from_dict({})
FPS = 30.0


def _frames(seconds=60.0, seed=0, head_scale=1.0, cue=None, score=5):
    return animate(Person(300, score, 0, 1.0, head_scale), seconds, FPS, np.random.default_rng(seed), cue=cue)


def _functionals(frames, valid=None):
    valid = ~frames["lost"] if valid is None else valid
    return session_functionals(normalise_landmarks(frames["landmarks"], valid, FPS, PARAMS))


def _planted_per_minute(envelope):  # onsets of a planted event envelope, per minute
    onsets = np.flatnonzero(np.diff((envelope > 0.05).astype(int)) == 1)
    return len(onsets) / (len(envelope) / FPS / 60)


def test_blink_rate_tracks_the_planted_blink_rate():
    detected, planted = [], []
    for blink_rate in (0.4, 1.0, 2.0):
        for seed in range(3):
            f = _frames(60.0, seed, cue=Cue(blink_rate=blink_rate))
            detected.append(_functionals(f)["blink_rate_per_min"])
            planted.append(_planted_per_minute(f["blink"]))
    detected, planted = np.array(detected).reshape(3, 3).mean(1), np.array(planted).reshape(3, 3).mean(1)
    assert detected[0] < detected[1] < detected[2]
    # close to the truth where blinks rarely overlap (at the highest rate some merge in both counts)
    np.testing.assert_allclose(detected, planted, rtol=0.3)


def test_smile_and_brow_rates_follow_their_planted_rates():
    few = [_functionals(_frames(60.0, s, cue=Cue(smile_rate=0.3, brow_rate=0.3))) for s in range(3)]
    many = [_functionals(_frames(60.0, s, cue=Cue(smile_rate=2.0, brow_rate=2.0))) for s in range(3)]
    for name in ("smile_rate_per_min", "brow_raise_rate_per_min"):
        assert np.mean([m[name] for m in many]) > 2 * np.mean([m[name] for m in few]), name


def test_doubled_head_movement_has_larger_head_sd():
    calm, lively = _functionals(_frames(head_scale=1.0)), _functionals(_frames(head_scale=2.0))
    for axis in ("pitch", "yaw", "roll"):
        assert 1.6 < lively[f"head_{axis}_sd"] / calm[f"head_{axis}_sd"] < 2.4, axis
        assert lively[f"head_{axis}_mean_abs_velocity"] > 1.5 * calm[f"head_{axis}_mean_abs_velocity"]
    for axis in ("tx", "ty", "tz"):
        assert lively[f"head_{axis}_sd"] > 1.5 * calm[f"head_{axis}_sd"], axis
    # the face itself did not change
    assert lively["mouth_open_sd"] == pytest.approx(calm["mouth_open_sd"], rel=0.1)


def test_head_pitch_level_follows_a_planted_offset_in_degrees():
    level = _functionals(_frames(cue=Cue(head_pitch_deg=0.0)))["head_pitch_p50"]
    down = _functionals(_frames(cue=Cue(head_pitch_deg=12.0)))["head_pitch_p50"]
    assert down - level == pytest.approx(12.0, abs=1.5)  # degrees, positive = nose down


def test_functionals_are_finite_and_named_alike_for_every_session():
    sessions = [_frames(30.0, 1), _frames(45.0, 2, cue=Cue(movement=0.1, blink_rate=0.0, smile_rate=0.0)),
                _frames(30.0, 3, head_scale=0.0, score=20)]
    f = _frames(30.0, 4)
    patchy = ~f["lost"]
    patchy[100:400] = False  # a long tracking loss in the middle
    results = [_functionals(s) for s in sessions] + [_functionals(f, patchy)]
    # too little valid time: every functional is 0.0, with the same names
    short = ~f["lost"]
    short[int(MIN_VALID_SECONDS * FPS / 2):] = False
    results.append(_functionals(f, short))
    names = list(results[0])
    assert len(names) == len(set(names)) > 40
    for r in results:
        assert list(r) == names
        assert all(isinstance(v, float) and np.isfinite(v) for v in r.values())
    assert all(v == 0.0 for v in results[-1].values())
    assert {"mouth_open_sd", "blink_rate_per_min", "smile_rate_per_min", "brow_raise_rate_per_min",
            "head_pitch_p50", "head_yaw_mean_abs_velocity", "eye_open_p10", "brow_height_p90"} <= set(names)
    assert results[1]["blink_rate_per_min"] == 0.0  # no blinks planted, none found


def _series_session(tmp_path, seed, cue=None, seconds=60.0):
    f = _frames(seconds, seed, cue=cue)
    path = tmp_path / f"{seed}.csv"
    write_openface21(path, f, FPS, np.random.default_rng(seed))
    table = pd.read_csv(path, skipinitialspace=True)
    names = tuple(table.columns[5:][~table.columns[5:].str.endswith("_c")])  # pose, gaze and AU intensities
    valid = (table["success"] == 1).to_numpy()
    return normalise_series(table[list(names)].to_numpy(np.float32), names, valid, FPS, PARAMS), f


def test_series_sessions_get_per_series_functionals_and_au45_blinks(tmp_path):
    rare, f_rare = _series_session(tmp_path, 1, Cue(blink_rate=0.4))
    often, f_often = _series_session(tmp_path, 2, Cue(blink_rate=1.5))
    a, b = session_functionals(rare), session_functionals(often)
    assert list(a) == list(b)
    assert all(np.isfinite(v) for v in a.values())
    for name in rare.series_names:
        assert {f"{name}_{s}" for s in ("sd", "mean", "p10", "p90", "mean_abs_change")} <= set(a)
    assert a["blink_rate_per_min"] < b["blink_rate_per_min"]
    for got, frames in ((a, f_rare), (b, f_often)):
        assert got["blink_rate_per_min"] == pytest.approx(_planted_per_minute(frames["blink"]), rel=0.3)
    # without an AU45 column there is simply no blink rate
    no_au45 = normalise_series(rare.series[:, :3], rare.series_names[:3], rare.valid, rare.fps, PARAMS)
    assert set(session_functionals(no_au45)) == {f"{n}_{s}" for n in rare.series_names[:3]
                                                   for s in ("sd", "mean", "p10", "p90", "mean_abs_change")}


def test_feature_model_inputs_hold_no_column_twice():
    """No two inputs of the feature model are the same statistic under two names (as the head-pose
    SDs once were, in both the functionals and the region motion)."""
    norms = [normalise_landmarks(f["landmarks"], ~f["lost"], FPS, PARAMS)
             for f in (_frames(40.0, seed, head_scale=0.5 + seed, score=4 * seed) for seed in range(5))]
    table = pd.DataFrame([session_features(n) for n in norms])  # (sessions, features)
    varying = table.loc[:, table.std() > 0]
    assert varying.shape[1] > 0.9 * table.shape[1]
    cols = list(varying)
    same = [(a, b) for i, a in enumerate(cols) for b in cols[i + 1:]
            if np.allclose(varying[a], varying[b], rtol=1e-5, atol=0)]
    assert same == []
    assert {"head_pitch_sd", "head_tz_sd", "motion_mouth_sd", "motion_eyes_speed"} <= set(table)


def test_exploration_traces_are_the_feature_signals():
    f = _frames(10.0, 1)
    norm = normalise_landmarks(f["landmarks"], ~f["lost"], FPS, PARAMS)
    traces, signals = signal_traces(norm), landmark_signals(norm.landmarks)
    v = norm.valid
    np.testing.assert_array_equal(traces["eye aperture (inter-ocular units)"][v], signals["eye_open"][v])
    np.testing.assert_array_equal(traces["mouth opening (inter-ocular units)"][v], signals["mouth_open"][v])
    assert np.isnan(traces["eye aperture (inter-ocular units)"][~v]).all()
