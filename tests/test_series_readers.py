"""DAIC-WOZ's pose, gaze and AU files (corpora/daic_series.py): the format tests the landmark reader has,
the three-file rules (missing file, frame counts) and the series layout both corpora share."""
import copy
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import make_params, tree_digest
from pseudoface.corpora import daic_series, edaic
from pseudoface.corpora.corpus import SHARED_SERIES
from pseudoface.corpora.read import ensure_synthetic, inspect_paths, load_corpus, marker_info, read_one_session
from pseudoface.corpora.synthetic import Person, animate, write_clnf_series, write_corpus, write_openface21
from pseudoface.corpora.textio import DataError


def _session(tmp_path, pid="300", seconds=3.0, seed=0):
    """One session's three series files in ``tmp_path/NNN_P``; (folder, frames)."""
    frames = animate(Person(int(pid), 5, 0, 1.0, 1.0), seconds, 30.0, np.random.default_rng(seed))
    folder = tmp_path / f"{pid}_P"
    folder.mkdir(parents=True)
    write_clnf_series(folder, int(pid), frames, 30.0, np.random.default_rng(seed + 100))
    return folder, frames


def _files(folder, pid="300"):
    return {kind: folder / f"{pid}_CLNF_{kind}.txt" for kind in ("pose", "gaze", "AUs")}


def _params(root, **data):
    return make_params(root, dataset="daic_woz", signals="shared_series", **data)


def _read(folder, pid="300", **data):
    found = daic_series.folder_sources(folder, pid, required=True)
    return daic_series.read_session(pid, found, _params(folder.parent, **data))


def _lines(path):
    return Path(path).read_text().splitlines(keepends=True)


def _edit_cells(path, row, col, value):
    """Set data row ``row`` (0-based), column ``col`` of a written file to the text ``value``."""
    ls = _lines(path)
    cells = ls[row + 1].rstrip("\n").split(", ")
    cells[col] = value
    ls[row + 1] = ", ".join(cells) + "\n"
    Path(path).write_text("".join(ls))


# ---------------------------------------------------------------- formats

def test_three_files_read_as_the_shared_series(tmp_path):
    folder, frames = _session(tmp_path)
    files = _files(folder)
    assert _lines(files["pose"])[0] == "frame, timestamp, confidence, success, Tx, Ty, Tz, Rx, Ry, Rz\n"
    assert _lines(files["gaze"])[0].startswith("frame, timestamp, confidence, success, x_0, y_0, z_0, x_1")
    assert ", AU26_r, AU04_c, AU12_c, AU15_c, AU23_c, AU28_c, AU45_c\n" in _lines(files["AUs"])[0]
    s = _read(folder)
    T = len(frames["confidence"])
    assert s.series.shape == (T, 27) and s.series.dtype == np.float32 and s.series_names == SHARED_SERIES
    assert s.landmarks is None and s.n_frames == T
    assert s.inputs == tuple(str(files[k]) for k in ("pose", "gaze", "AUs")) and s.source == str(files["AUs"])
    col = {n: i for i, n in enumerate(SHARED_SERIES)}
    np.testing.assert_allclose(s.series[:, col["pose_Rx"]], np.round(frames["angles"][:, 0], 6), atol=1e-6)
    np.testing.assert_allclose(s.series[:, col["pose_Tz"]], np.round(frames["shift"][:, 2], 6), rtol=1e-6)
    np.testing.assert_allclose(s.timestamps, np.round(np.arange(T) / 30, 3), atol=1e-6)
    # failed frames are masked, not dropped: timing preserved
    assert not s.valid[frames["lost"]].any() and s.valid[~frames["lost"]].mean() > 0.9


def _openface2_names(text):
    header, rest = text.split("\n", 1)
    names = [n.strip() for n in header.split(",")]
    renamed = [f"pose_{n}" if n in ("Tx", "Ty", "Tz", "Rx", "Ry", "Rz")
               else f"gaze_{n[2]}_{n[0]}" if len(n) == 3 and n[1] == "_" and n[0] in "xyz" else n for n in names]
    return ", ".join(renamed) + "\n" + rest


@pytest.mark.parametrize("variant", ["openface2_names", "no_spaces", "leading_spaces", "au_csv", "columns_reordered"])
def test_header_variants_read_the_same(tmp_path, variant):
    folder, _ = _session(tmp_path)
    reference = _read(folder)
    files = _files(folder)
    for kind, path in files.items():
        text = path.read_text()
        if variant == "openface2_names":
            text = _openface2_names(text)
        elif variant == "no_spaces":
            text = text.replace(", ", ",")
        elif variant == "leading_spaces":
            text = text.replace(", ", ",   ")
        elif variant == "columns_reordered" and kind == "pose":
            rows = [l.rstrip("\n").split(", ") for l in text.splitlines(keepends=True)]
            text = "".join(", ".join(r[:4] + r[7:] + r[4:7]) + "\n" for r in rows)  # Rx Ry Rz before Tx Ty Tz
        path.write_text(text)
    if variant == "openface2_names":
        assert "pose_Tx" in files["pose"].read_text() and "gaze_0_x" in files["gaze"].read_text()
    if variant == "au_csv":
        files["AUs"].rename(folder / "300_CLNF_AUs.csv")
    s = _read(folder)
    np.testing.assert_array_equal(s.series, reference.series)
    np.testing.assert_array_equal(s.valid, reference.valid)
    if variant == "au_csv":
        assert s.source.endswith("300_CLNF_AUs.csv")


def test_zipped_session_at_any_depth_and_folder_shadows_zip(tmp_path):
    folder, _ = _session(tmp_path / "src", pid="301")
    reference = _read(folder, pid="301")
    root = tmp_path / "corpus"
    root.mkdir()
    with zipfile.ZipFile(root / "301_P.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for kind, path in _files(folder, "301").items():
            name = "301_CLNF_AUs.csv" if kind == "AUs" else path.name  # the documentation's AU name too
            zf.write(path, f"301_P/deeper/{name}")
    found, notes = daic_series.find_sessions(root)
    assert found["301"]["AUs"] == (root / "301_P.zip", "301_P/deeper/301_CLNF_AUs.csv") and not notes
    s = daic_series.read_session("301", found["301"], _params(root))
    np.testing.assert_array_equal(s.series, reference.series)
    assert "301_P.zip!301_P/deeper/301_CLNF_pose.txt" in s.inputs[0]
    assert daic_series.session_from_path(root / "301_P.zip")[1] == found["301"]
    shutil.copytree(folder, root / "301_P")
    found, notes = daic_series.find_sessions(root)
    assert found["301"]["pose"] == root / "301_P" / "301_CLNF_pose.txt" and "zip not read" in notes[0]


# ---------------------------------------------------------------- bad input, one line each

def test_bad_cell_gives_one_line_with_file_line_and_column(tmp_path):
    folder, _ = _session(tmp_path)
    gaze = _files(folder)["gaze"]
    _edit_cells(gaze, 6, 5, "oops")  # y_0 of data row 7: line 8
    with pytest.raises(DataError, match=r"line 8, column 'y_0': expected a number, got 'oops'") as err:
        _read(folder)
    assert str(gaze) in str(err.value) and "\n" not in str(err.value)


def test_bad_cells_mask_mode(tmp_path):
    folder, _ = _session(tmp_path)
    _edit_cells(_files(folder)["AUs"], 6, 11, "-1.#IND")  # AU12_r of frame 6
    _edit_cells(_files(folder)["AUs"], 9, 1, "nan?")  # the timestamp of frame 9
    s = _read(folder, bad_cells="mask")
    assert s.bad_cells == 2 and s.n_frames == 90 and np.isnan(s.series[6, SHARED_SERIES.index("AU12_r")])
    assert not s.valid[6] and not s.valid[9] and s.valid[[5, 7, 8, 10]].all()


def test_missing_column_names_the_file(tmp_path):
    folder, _ = _session(tmp_path)
    pose = _files(folder)["pose"]
    ls = _lines(pose)
    pose.write_text(ls[0].replace(", Tz,", ", Tq,") + "".join(ls[1:]))
    with pytest.raises(DataError, match=r"300_CLNF_pose.txt: line 1: missing column\(s\) Tz") as err:
        _read(folder)
    assert "\n" not in str(err.value)


def test_success_zero_in_any_file_masks_the_frame(tmp_path):
    folder, frames = _session(tmp_path)
    before = _read(folder)
    assert before.valid[20] and before.valid[40]
    _edit_cells(_files(folder)["gaze"], 20, 3, "0")  # success 0 in the gaze file only
    _edit_cells(_files(folder)["pose"], 40, 2, "0.1")  # low confidence in the pose file only
    s = _read(folder)
    assert not s.valid[20] and not s.success[20] and not s.valid[40] and s.n_frames == before.n_frames
    assert (s.valid == before.valid).sum() == s.n_frames - 2  # only those two frames changed


def test_missing_file_is_listed_and_the_participant_dropped(synth_root, tmp_path):
    root = tmp_path / "c"
    shutil.copytree(synth_root, root)
    sessions = sorted(root.glob("*_P"), key=lambda p: p.name)
    gone = sessions[2] / f"{sessions[2].name[:3]}_CLNF_gaze.txt"
    gone.unlink()
    pid_zip = sessions[4].name[:3]  # a zip lacking its AU file
    with zipfile.ZipFile(root / f"{pid_zip}_P.zip", "w") as zf:
        for kind in ("pose", "gaze"):
            zf.write(sessions[4] / f"{pid_zip}_CLNF_{kind}.txt", f"{pid_zip}_CLNF_{kind}.txt")
    shutil.rmtree(sessions[4])
    c = load_corpus(_params(root))
    assert len(c.problems) == 2
    assert str(sessions[2]) in c.problems[0] and gone.name in c.problems[0] and "CLNF_pose" not in c.problems[0]
    assert f"{pid_zip}_P.zip" in c.problems[1] and f"{pid_zip}_CLNF_AUs.txt" in c.problems[1]
    steps = {pid: step for pid, step, _ in c.flow.dropped}
    assert steps[sessions[2].name[:3]] == "read without error" and steps[pid_zip] == "read without error"
    assert sessions[2].name[:3] not in c.sessions and pid_zip not in c.sessions and len(c.sessions) == 10
    assert all(s.series.shape[1] == 27 for s in c.sessions.values())


def test_frame_counts_trimmed_within_a_second_else_an_error(tmp_path):
    folder, _ = _session(tmp_path)
    pose = _files(folder)["pose"]
    full = _lines(pose)
    pose.write_text("".join(full[:-10]))  # 10 frames short: within 1 s at 30 fps
    s = _read(folder)
    assert s.n_frames == 80 and s.series.shape == (80, 27)
    pose.write_text("".join(full[:-40]))  # 40 frames short
    with pytest.raises(DataError, match=r"300_CLNF_(gaze|AUs).txt has 90 frames but .*300_CLNF_pose.txt 50") as err:
        _read(folder)
    assert "\n" not in str(err.value)
    pose.write_text("".join(full))
    gaze = _files(folder)["gaze"]
    for row in range(30, 90):  # the same count, but from line 32 on another run's timestamps
        _edit_cells(gaze, row, 1, f"{row / 30 + 0.2:.3f}")
    with pytest.raises(DataError, match=r"300_CLNF_gaze.txt: line 32: timestamp 1.2 s but .*300_CLNF_AUs.txt line 32 has 1 s"):
        _read(folder)


def test_quirk_span_is_masked(tmp_path):
    folder, _ = _session(tmp_path, pid="373", seconds=1.0)
    for path in _files(folder, "373").values():  # timestamps inside the documented interruption (5:52-7:00)
        for row in range(30):
            _edit_cells(path, row, 1, f"{360 + row / 30:.3f}")
    s = _read(folder, pid="373")
    assert s.valid.any()
    found = daic_series.folder_sources(folder, "373")
    masked = daic_series.read_session("373", found, _params(tmp_path), mask_quirks=True)
    assert masked.n_frames == 30 and not masked.valid.any()


# ---------------------------------------------------------------- one layout for both corpora

def test_the_same_face_reads_alike_in_both_layouts(tmp_path):
    """DAIC-WOZ's three files and E-DAIC's one CSV of the same frames give the same 27 series, in the same
    units, and the planted behaviours drive the same action units in both."""
    frames = animate(Person(300, 5, 0, 1.2, 1.0), 60.0, 30.0, np.random.default_rng(4))
    rng = np.random.default_rng(5)
    folder = tmp_path / "d" / "300_P"
    folder.mkdir(parents=True)
    write_clnf_series(folder, 300, frames, 30.0, copy.deepcopy(rng))
    csv = tmp_path / "e" / "300_P" / "features" / "300_OpenFace2.1.0_Pose_gaze_AUs.csv"
    write_openface21(csv, frames, 30.0, copy.deepcopy(rng))
    d = _read(folder)
    e = edaic.read_session("300", csv, make_params(tmp_path, dataset="e_daic", signals="shared_series"))
    assert d.series_names == e.series_names == SHARED_SERIES and d.series.shape == e.series.shape
    col = {n: i for i, n in enumerate(SHARED_SERIES)}
    for s in (d, e):
        ok = s.valid
        def corr(name, planted):
            return np.corrcoef(s.series[ok, col[name]], planted[ok])[0, 1]
        assert corr("AU12_r", frames["smile"]) > 0.8 and corr("AU06_r", frames["smile"]) > 0.8
        assert corr("AU01_r", frames["brow"]) > 0.8 and corr("AU02_r", frames["brow"]) > 0.8
        assert corr("AU25_r", frames["mouth"]) > 0.6 and corr("AU26_r", frames["mouth"]) > 0.6
        assert s.series[ok & (frames["blink"] > 0.6), col["AU45_c"]].mean() > 0.9
        assert s.series[ok & (frames["blink"] == 0), col["AU45_c"]].mean() < 0.05
        gaze = s.series[:, [col[n] for n in SHARED_SERIES[6:12]]].reshape(-1, 2, 3)
        np.testing.assert_allclose(np.linalg.norm(gaze, axis=2), 1.0, atol=1e-4)  # unit vectors
        assert 300 < np.median(s.series[ok, col["pose_Tz"]]) < 1500  # mm
        assert np.abs(s.series[ok, col["pose_Ry"]]).max() < 1.0  # rad
    np.testing.assert_allclose(d.series, e.series, atol=1e-5)


def test_synthetic_corpora_in_both_layouts_share_the_series(tmp_path):
    d = write_corpus(tmp_path / "d", participants=6, seconds=12, seed=8)
    e = write_corpus(tmp_path / "e", participants=6, seconds=12, seed=8, fmt="e_daic")
    cd = load_corpus(make_params(d, signals="shared_series"))
    ce = load_corpus(make_params(e, signals="shared_series"))
    assert not cd.problems and set(cd.sessions) == set(ce.sessions) and len(cd.sessions) >= 5
    for pid, s in cd.sessions.items():
        assert s.series_names == ce.sessions[pid].series_names == SHARED_SERIES and len(s.inputs) == 3
        np.testing.assert_allclose(s.series, ce.sessions[pid].series, atol=1e-5)
    landmarks = load_corpus(make_params(d, signals="landmarks"))  # the same corpus, read from landmarks as before
    assert next(iter(landmarks.sessions.values())).landmarks is not None
    full = load_corpus(make_params(e, signals="full_series"))  # E-DAIC's own 31 series: the shared 27 among them
    assert set(SHARED_SERIES) - {"AU45_c"} <= set(next(iter(full.sessions.values())).series_names)


# ---------------------------------------------------------------- inspect and the synthetic corpus

def test_inspect_says_which_inputs_sessions_have(synth_root, tmp_path):
    root = tmp_path / "c"
    shutil.copytree(synth_root, root)
    first = sorted(root.glob("*_P"))[0]
    (first / f"{first.name[:3]}_CLNF_AUs.txt").unlink()
    lines, problems = inspect_paths([str(root)])
    assert "  inputs: landmarks 12, pose 12, gaze 12, AUs 11 of 12 session(s)" in lines
    assert f"  sessions lacking inputs: {first.name[:3]} (AUs)" in lines and not problems
    lines, _ = inspect_paths([str(sorted(root.glob("*_P"))[1])])
    assert lines[-1] == "  inputs: landmarks, pose, gaze, AUs"
    series_file = sorted(root.glob("*_P"))[1] / f"{sorted(root.glob('*_P'))[1].name[:3]}_CLNF_pose.txt"
    lines, problems = inspect_paths([str(series_file)])  # a series file is read as the series
    assert not problems and "frames" in lines[0]
    for path in root.glob("*_P/*_CLNF_features3D.txt"):  # series only: the corpus is read from them
        path.unlink()
    lines, problems = inspect_paths([str(root)])
    assert "  inputs: landmarks 0, pose 12, gaze 12, AUs 11 of 12 session(s)" in lines
    assert len(problems) == 1 and "CLNF_AUs.txt" in problems[0]


def test_read_one_session_from_a_series_file(tmp_path):
    folder, _ = _session(tmp_path, pid="310")
    s = read_one_session(folder / "310_CLNF_gaze.txt", "daic_woz", _params(tmp_path))
    assert s.participant_id == "310" and s.series_names == SHARED_SERIES
    (folder / "310_CLNF_AUs.txt").unlink()
    with pytest.raises(DataError, match=r"310_P: missing 310_CLNF_AUs.txt"):
        read_one_session(folder, "daic_woz", _params(tmp_path))


def test_first_id_numbers_participants_and_is_recorded(tmp_path):
    root = write_corpus(tmp_path / "c", participants=4, seconds=3, seed=1, first_id=600, fmt="e_daic")
    assert sorted(p.name for p in root.glob("*_P")) == ["600_P", "601_P", "602_P", "603_P"]
    assert marker_info(root)["first_id"] == 600
    assert "first_id" not in marker_info(write_corpus(tmp_path / "d", participants=4, seconds=3, seed=1))


def test_a_params_corpus_from_generator_1_is_generated_again(tmp_path, capsys):
    from pseudoface.params import params_from_dict
    params = lambda root: params_from_dict({"dataset": "synthetic", "data": {"root": str(root)}},  # noqa: E731
                                           ["data.synthetic_participants=5", "data.synthetic_seconds=4"])
    root = tmp_path / "p"
    ensure_synthetic(params(root))
    marker = root / "SYNTHETIC_CORPUS.txt"
    info = json.loads(marker.read_text())
    marker.write_text(json.dumps(dict(info, generator_version=1)))
    for path in root.glob("*_P/*_CLNF_pose.txt"):
        path.unlink()
    ensure_synthetic(params(root))
    assert marker_info(root)["generator_version"] == 2 and len(list(root.glob("*_P/*_CLNF_pose.txt"))) == 5
    assert "generator version 1" in capsys.readouterr().out
    mine = write_corpus(tmp_path / "mine", participants=5, seconds=4, seed=0)  # `pseudoface synth`'s: never replaced
    (mine / "SYNTHETIC_CORPUS.txt").write_text(json.dumps(dict(marker_info(mine), generator_version=1)))
    before = tree_digest(mine)
    ensure_synthetic(params(mine))
    assert tree_digest(mine) == before
