import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import DATA, make_params
from pseudoface.corpora import daic, edaic, openface
from pseudoface.corpora.corpus import SERIES, NoLandmarksError, require_landmarks
from pseudoface.corpora.read import load_corpus
from pseudoface.corpora.synthetic import Person, animate, write_clnf
from pseudoface.corpora.textio import DataError


def _clnf(tmp_path, pid="300", seconds=3.0, seed=0):
    person = Person(int(pid), 5, 0, 1.0, 1.0)
    frames = animate(person, seconds, 30.0, np.random.default_rng(seed))
    folder = tmp_path / f"{pid}_P"
    path = folder / f"{pid}_CLNF_features3D.txt"
    write_clnf(path, frames, 30.0)
    return path, frames


def _lines(path):
    return Path(path).read_text().splitlines(keepends=True)


# ---------------------------------------------------------------- formats

def test_clnf_round_trip_to_written_precision(tmp_path):
    path, frames = _clnf(tmp_path)
    header = _lines(path)[0]
    assert header.startswith("frame, timestamp, confidence, success, X0, X1") and header.count(",") == 207
    s = daic.read_session("300", path, make_params(tmp_path))
    T = len(frames["confidence"])
    assert s.landmarks.shape == (T, 68, 3) and s.landmarks.dtype == np.float32
    np.testing.assert_allclose(s.landmarks, np.round(frames["landmarks"], 3).astype(np.float32), atol=1e-4)
    np.testing.assert_allclose(s.timestamps, np.round(np.arange(T) / 30, 3), atol=1e-6)
    assert (s.success == (frames["success"] == 1)).all()
    # failed frames are masked, not dropped: timing preserved
    assert s.n_frames == T and not s.valid[frames["lost"]].any()


def test_axis_grouped_columns_map_to_points(tmp_path):
    path, _ = _clnf(tmp_path)
    raw = pd.read_csv(path, skipinitialspace=True)
    s = daic.read_session("300", path, make_params(tmp_path))
    assert s.landmarks[5, 17, 0] == pytest.approx(raw.loc[5, "X17"], abs=1e-3)
    assert s.landmarks[5, 17, 1] == pytest.approx(raw.loc[5, "Y17"], abs=1e-3)
    assert s.landmarks[5, 67, 2] == pytest.approx(raw.loc[5, "Z67"], abs=1e-3)


def test_real_openface_file():
    params = make_params(DATA, dataset="openface")
    s = openface.read_session("OpenFace_Test", DATA / "OpenFace_Test.csv", params)
    assert s.landmarks.shape == (100, 68, 3)
    assert s.valid.all()
    z = s.landmarks[:, :, 2]
    assert 500 < z.min() and z.max() < 700  # mm in front of the camera
    assert "AU12_r" in s.series_names and "pose_Rx" in s.series_names
    raw = pd.read_csv(DATA / "OpenFace_Test.csv", skipinitialspace=True)
    assert s.landmarks[0, 30, 0] == pytest.approx(raw.loc[0, "X_30"], rel=1e-6)


def test_openface_with_face_id_and_no_2d_columns(tmp_path):
    raw = pd.read_csv(DATA / "OpenFace_Test.csv", skipinitialspace=True)
    raw = raw.drop(columns=[c for c in raw.columns if c.startswith(("x_", "y_", "p_"))])
    raw = pd.concat([raw.iloc[:, :1], pd.DataFrame({"face_id": 0}, index=raw.index), raw.iloc[:, 1:]], axis=1)
    raw.to_csv(tmp_path / "p1.csv", index=False)
    s = openface.read_session("p1", tmp_path / "p1.csv", make_params(tmp_path, dataset="openface"))
    assert s.landmarks.shape == (100, 68, 3)


def test_openface_corpus_with_labels(tmp_path):
    for pid in ("a", "b"):
        shutil.copy(DATA / "OpenFace_Test.csv", tmp_path / f"{pid}.csv")
    (tmp_path / "labels.csv").write_text("participant_id,score,gender\na,12,female\nb,3,male\nc,4,male\n")
    c = load_corpus(make_params(tmp_path, dataset="openface", min_valid_seconds=1))
    assert set(c.sessions) == {"a", "b"}
    assert dict(zip(c.labels.participant_id, c.labels.label)) == {"a": 1, "b": 0, "c": 0}
    assert ("c", "session found", "no session file under the corpus root") in c.flow.dropped


def test_zip_member_read_in_place(tmp_path):
    path, frames = _clnf(tmp_path / "src", pid="301")
    root = tmp_path / "corpus"
    root.mkdir()
    with zipfile.ZipFile(root / "301_P.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(path, "301_CLNF_features3D.txt")
    found, _ = daic.find_sessions(root)
    assert found["301"] == (root / "301_P.zip", "301_CLNF_features3D.txt")
    s = daic.read_session("301", found["301"], make_params(root))
    np.testing.assert_allclose(s.landmarks, np.round(frames["landmarks"], 3), atol=1e-4)
    assert "301_P.zip!301_CLNF_features3D.txt" in s.source


def test_folder_shadows_zip_with_a_note(tmp_path):
    path, _ = _clnf(tmp_path, pid="302")
    with zipfile.ZipFile(tmp_path / "302_P.zip", "w") as zf:
        zf.write(path, "302_P/302_CLNF_features3D.txt")
    found, notes = daic.find_sessions(tmp_path)
    assert found["302"] == path and "zip not read" in notes[0]


def test_edaic_series_and_no_landmarks(edaic_root):
    c = load_corpus(make_params(edaic_root))
    s = next(iter(c.sessions.values()))
    assert s.landmarks is None and s.series.shape[1] == 31 and s.series_names == SERIES
    with pytest.raises(NoLandmarksError, match="E-DAIC ships no 2-D or 3-D landmarks"):
        require_landmarks(s)
    assert set(c.labels.gender) <= {"female", "male"}


def test_quirk_span_is_masked(tmp_path):
    path, _ = _clnf(tmp_path, pid="373", seconds=1.0)
    lines = _lines(path)
    # shift timestamps into the documented interruption (5:52-7:00)
    out = [lines[0]] + [l.replace(", ", f", {360 + i * 0.033:.3f}#", 1).split("#", 1)[0] + ", "
                        + l.split(", ", 2)[2] for i, l in enumerate(lines[1:])]
    path.write_text("".join(out))
    s = daic.read_session("373", path, make_params(tmp_path, dataset="daic_woz"), mask_quirks=True)
    assert s.n_frames == 30 and not s.valid.any()
    s2 = daic.read_session("373", path, make_params(tmp_path, dataset="daic_woz"), mask_quirks=False)
    assert s2.valid.any()


# ---------------------------------------------------------------- bad input, one line each

@pytest.mark.parametrize("mutate, message", [
    (lambda ls: ls[:-1] + [ls[-1][: len(ls[-1]) // 2]], r"line 91: expected 208 fields, got \d+ \(truncated row\?\)"),
    (lambda ls: ls[:10] + [ls[10].rstrip("\n") + ", 1.5\n"] + ls[11:], r"line 11: expected 208 fields, got 209"),
    (lambda ls: ls[:7] + [", ".join(ls[7].split(", ")[:20] + ["oops"] + ls[7].split(", ")[21:])] + ls[8:],
     r"line 8, column 'X16': expected a number, got 'oops'"),
    (lambda ls: [], r"line 1: empty file"),
    (lambda ls: ls[:1], r"header only: no data rows"),
    (lambda ls: [ls[0].replace(", X5,", ", Q5,")] + ls[1:], r"line 1: missing column\(s\) x5"),
])
def test_bad_clnf_input_gives_one_line(tmp_path, mutate, message):
    path, _ = _clnf(tmp_path)
    path.write_text("".join(mutate(_lines(path))))
    with pytest.raises(DataError, match=message) as err:
        daic.read_session("300", path, make_params(tmp_path))
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_bad_cells_mask_mode(tmp_path):
    path, _ = _clnf(tmp_path)
    ls = _lines(path)
    cells = ls[7].split(", ")
    cells[20] = "-1.#IND"
    ls[7] = ", ".join(cells)
    path.write_text("".join(ls))
    s = daic.read_session("300", path, make_params(tmp_path, bad_cells="mask"))
    assert s.bad_cells == 1 and not s.valid[6] and s.n_frames == 90


def test_corpus_reports_every_problem_and_all_failed(synth_root, tmp_path):
    root = tmp_path / "c"
    shutil.copytree(synth_root, root)
    files = sorted(root.glob("*_P/*_CLNF_features3D.txt"))
    files[0].write_text(files[0].read_text()[:-40])  # truncated last row
    ls = _lines(files[1])
    files[1].write_text(ls[0] + "".join(", ".join(l.split(", ")[:3] + ["0"] + l.split(", ")[4:]) for l in ls[1:]))
    c = load_corpus(make_params(root))
    assert len(c.problems) == 2
    assert "truncated" in c.problems[0] and "every frame failed" in c.problems[1]
    steps = {pid: step for pid, step, _ in c.flow.dropped}
    assert steps[files[0].parent.name[:3]] == "read without error"
    assert steps[files[1].parent.name[:3]] == "enough valid frames"
    assert c.flow.counts["usable"] == 10


# ---------------------------------------------------------------- labels

def _labels(tmp_path, files: dict, **data):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return daic.read_labels(tmp_path, make_params(tmp_path, dataset="daic_woz", **data))


TRAIN = ("Participant_ID,PHQ8_Binary,PHQ8_Score,Gender,PHQ8_NoInterest,PHQ8_Tired\n"
         "303,0,3,1,1,\n409,0,10,0,2,1\n")


def test_label_rule_and_disagreements(tmp_path):
    labels, disagree = _labels(tmp_path, {"train_split_Depression_AVEC2017.csv": TRAIN})
    assert dict(zip(labels.participant_id, labels.label)) == {"303": 0, "409": 1}
    assert list(disagree.participant_id) == ["409"]
    labels, _ = _labels(tmp_path, {}, label_rule="file_binary")
    assert dict(zip(labels.participant_id, labels.label))["409"] == 0


def test_test_split_lowercase_id_and_full_test_names(tmp_path):
    files = {"train_split_Depression_AVEC2017.csv": TRAIN,
             "test_split_Depression_AVEC2017.csv": "participant_ID,Gender\n300,1\n301,0\n"}
    labels, _ = _labels(tmp_path, files)
    assert dict(zip(labels.participant_id, labels.label))["300"] == -1  # listed, not labelled
    (tmp_path / "full_test_split.csv").write_text("Participant_ID,PHQ_Binary,PHQ_Score,Gender\n300,1,15,1\n")
    labels, _ = _labels(tmp_path, {}, gender_codes={"0": "female", "1": "male"})
    row = labels.set_index("participant_id").loc["300"]
    assert row.label == 1 and row.phq_score == 15 and row.split == "test" and row.gender == "male"
    assert labels.set_index("participant_id").loc["301"].label == -1


def test_gender_vocabulary(tmp_path):
    labels, _ = _labels(tmp_path, {"train_split_Depression_AVEC2017.csv": TRAIN})
    assert set(labels.gender) == {"code 0", "code 1"}  # no mapping set: no guess
    labels, _ = _labels(tmp_path, {}, gender_codes={"0": "female", "1": "male"})
    assert set(labels.gender) == {"female", "male"}


@pytest.mark.parametrize("files, message", [
    ({"train_split_Depression_AVEC2017.csv": "Participant_ID,PHQ8_Binary,Gender\n303,0,1\n"},
     r"train_split_Depression_AVEC2017.csv: line 1: missing column 'PHQ8_Score'"),
    ({"train_split_Depression_AVEC2017.csv": TRAIN, "dev_split_Depression_AVEC2017.csv":
      "Participant_ID,PHQ8_Binary,PHQ8_Score,Gender\n303,0,3,1\n"}, r"duplicated participant 303"),
    ({"train_split_Depression_AVEC2017.csv": "Participant_ID,PHQ8_Binary,PHQ8_Score,Gender\n303,0,,1\n"},
     r"line 2, column 'PHQ8_Score': expected a number, got ''"),
    ({}, r"no label files found"),
])
def test_bad_label_files(tmp_path, files, message):
    with pytest.raises(DataError, match=message):
        _labels(tmp_path, files)


def test_edaic_labels_gender_strings_and_rule(tmp_path):
    (tmp_path / "train_split.csv").write_text(
        "Participant_ID,Gender,PHQ_Binary,PHQ_Score,PCL-C (PTSD),PTSD Severity\n300,male,0,12,0,30\n301,female,1,14,1,50\n")
    labels, disagree = edaic.read_labels(tmp_path, make_params(tmp_path, dataset="e_daic"))
    assert list(labels.gender) == ["male", "female"] and list(labels.label) == [1, 1]
    assert list(disagree.participant_id) == ["300"]


def test_openface_frame_rate_from_regular_timestamps_only():
    from pseudoface.corpora.openface import frame_rate
    assert frame_rate(np.arange(100) / 23.976, 30.0) == pytest.approx(23.976)  # a video's own rate
    assert frame_rate(np.arange(100) * 2 / 25.0, 30.0) == pytest.approx(12.5)  # extracted with --every 2
    assert frame_rate(np.zeros(100), 30.0) == 30.0  # image sequence: no usable clock
    assert frame_rate(np.arange(100) * 0.001, 30.0) == 30.0  # OpenFace's made-up 1 ms steps
    assert frame_rate(np.r_[0.0, 0.04, 0.04, 0.08], 30.0) == 30.0  # a repeat: not a clock
