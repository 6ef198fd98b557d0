"""``pseudoface extract``: 3-D facial landmarks from video, offline, into OpenFace 2.x CSVs.

The face model is MediaPipe's face mesh from ``mediapipe==0.10.21`` (the last release whose wheel
bundles it: nothing is downloaded at run time). mediapipe needs numpy < 2, so it lives in its own
environment (``.venv-video``, from ``requirements-video.txt``; :func:`ensure_video_env`) and runs as
a subprocess (``video_worker.py``) that decodes the video with OpenCV and sends back numbers only:
frames never touch the disk and never leave that process. This module (main environment) never
imports mediapipe; it turns the worker's numbers into the layout the ``openface`` reader takes.

Per frame, what is written (``DIR/<video stem>.csv``, OpenFace 2.x columns, ``", "`` separators):

- ``frame`` (1-based output row), ``face_id`` (0), ``timestamp`` (s from the first frame: the
  decoder's clock, or the frame count over the frame rate where the container has none),
  ``success`` (1: MediaPipe found a face; frames where it did not are kept as 0 rows, coordinates 0),
  ``confidence`` (1 / 0 as success: the legacy face-mesh solution exposes no per-frame score; its
  tracker drops a face whose presence score falls under ``min_tracking_confidence`` = 0.5);
- ``X_0..X_67, Y_0..Y_67, Z_0..Z_67``: the 68 iBUG points (index map in ``video_worker.MP68``) in
  millimetre-like units of OpenFace's camera space (x right, y down, z away from the camera).
  Priors, not measurements: the 3-D distance between the two eye centres (mean of each eye's six
  points) is ``INTERPUPILLARY_MM`` = 63 mm in every frame (the adult mean, Dodgson 2004), and the
  camera has OpenFace's default intrinsics when none are given (focal length
  500 px x (width/640 + height/480) / 2, principal point at the image centre), which places the eyes at
  depth focal x scale. MediaPipe's depth (weak perspective, the scale of x) is scaled alike;
- ``x_0..x_67, y_0..y_67``: image pixels;
- ``pose_Tx, pose_Ty, pose_Tz`` (mm, the 68 points' centroid) and ``pose_Rx, pose_Ry, pose_Rz``
  (radians, OpenFace's convention R = Rx·Ry·Rz): the rotation of the rigid (Kabsch) fit of the
  template face (``face.template_face``, frontal) onto the frame's points. The legacy face-mesh
  solution returns no transformation matrix; this fit is relative to a generic template, so a
  frontal face may read a few degrees off zero (a constant offset per person).

These are **not** OpenFace/CLNF landmarks: a different model with different point definitions
and depth. The output folder carries ``VIDEO_MARKER`` so reports can say so.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from . import openface
from .cache import atomic_write_text
from .face import LEFT_EYE, RIGHT_EYE, kabsch, template_face
from ..params import project_root
from .textio import DataError

INTERPUPILLARY_MM = 63.0  # prior: adult mean interpupillary distance (Dodgson 2004: 63.4 mm)
VIDEO_MARKER = "EXTRACTED_FROM_VIDEO.txt"
VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".mts"}
WORKER = Path(__file__).with_name("video_worker.py")
RECORD = 4 + 68 * 3  # float64 values per frame record (video_worker.RECORD)
NOT_OPENFACE = ("Landmarks extracted from video with MediaPipe's face mesh (pseudoface extract): not OpenFace/CLNF "
                "landmarks; point definitions, depth and scale (a 63 mm interpupillary prior) differ.")
REQUIREMENTS = project_root() / "requirements-video.txt"  # ships with the source checkout (editable install)


class VideoEnvError(DataError):
    """The sidecar environment could not be created or does not work (one line, like data errors)."""


# ---------------------------------------------------------------- the sidecar environment

def video_env_dir() -> Path:
    """``$PSEUDOFACE_VIDEO_ENV``, else ``.venv-video`` in the checkout."""
    return Path(os.environ.get("PSEUDOFACE_VIDEO_ENV") or project_root() / ".venv-video")


def _python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_video_env(env: Path | None = None, say=lambda msg: print(msg, file=sys.stderr, flush=True)) -> Path:
    """The sidecar's Python, creating the environment first if it is missing or its lock changed.

    The stamp file holds the sha256 of ``requirements-video.txt``; creation needs the package index
    once (~410 MB, ~30 s on 2 cores), extraction never does."""
    env = Path(env or video_env_dir())
    if not REQUIREMENTS.is_file():
        raise VideoEnvError(f"{REQUIREMENTS}: not found (the video environment's lock ships with the source checkout)")
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = env / ".installed-stamp"
    if stamp.is_file() and stamp.read_text().strip() == digest and _python(env).exists():
        return _python(env)
    say(f"creating the video environment {env} (mediapipe 0.10.21 + OpenCV from {REQUIREMENTS.name}, ~410 MB; "
        "needs the package index this once, about a minute)...")
    started = time.perf_counter()
    steps = [[sys.executable, "-m", "venv", "--clear", str(env)],
             [str(_python(env)), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
              "--only-binary=:all:", "-r", str(REQUIREMENTS)],
             [str(_python(env)), str(WORKER), "--check"]]
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            lines = [l for l in (done.stderr + done.stdout).splitlines() if l.strip() and "WARNING" not in l]
            raise VideoEnvError(f"{env}: creating the video environment failed at `{' '.join(cmd[1:4])}` "
                                f"(exit {done.returncode}): {lines[-1].strip() if lines else 'no message'}")
    versions = json.loads(done.stdout.strip().splitlines()[-1])
    atomic_write_text(stamp, digest + "\n")
    say(f"video environment ready in {time.perf_counter() - started:.0f} s: "
        + ", ".join(f"{k} {v}" for k, v in versions.items()))
    return _python(env)


# ---------------------------------------------------------------- geometry (pure, tested without mediapipe)

def focal_px(width: int, height: int) -> float:
    """OpenFace's default focal length when no intrinsics are given: 500 px at 640 x 480, scaled."""
    return 500.0 * (width / 640.0 + height / 480.0) / 2.0


def to_camera_mm(norm: np.ndarray, found: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe normalised (T, 68, 3) -> (xyz (T, 68, 3) mm, OpenFace camera space; pixels (T, 68, 2)).

    Per frame, scale s = INTERPUPILLARY_MM / (3-D eye-centre distance in pixels); X = (u - cx)·s,
    Y = (v - cy)·s, Z = focal·s + (z - z_eyes)·s (weak perspective at the eyes' depth). Frames
    without a face (``found`` False) are zeros."""
    px = np.stack([norm[..., 0] * width, norm[..., 1] * height, norm[..., 2] * width], axis=-1)  # (T, 68, 3)
    right, left = px[:, list(RIGHT_EYE)].mean(axis=1), px[:, list(LEFT_EYE)].mean(axis=1)  # (T, 3)
    iod = np.linalg.norm(right - left, axis=1)  # (T,)
    ok = found & (iod > 1e-6)
    s = np.where(ok, INTERPUPILLARY_MM / np.where(ok, iod, 1.0), 0.0)[:, None]  # (T, 1) mm per pixel
    eye_z = 0.5 * (right[:, 2] + left[:, 2])[:, None]
    xyz = np.stack([(px[..., 0] - width / 2) * s, (px[..., 1] - height / 2) * s,
                    (focal_px(width, height) + px[..., 2] - eye_z) * s], axis=-1)
    xyz[~ok] = 0.0
    pixels = px[..., :2].copy()
    pixels[~ok] = 0.0
    return xyz, pixels


def openface_angles(R: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations -> (T, 3) angles (rad) with R = Rx @ Ry @ Rz, OpenFace's pose_R* convention
    (intrinsic x-y-z: scipy's upper-case "XYZ")."""
    return Rotation.from_matrix(R).as_euler("XYZ")


def head_pose(xyz: np.ndarray, found: np.ndarray) -> np.ndarray:
    """(T, 68, 3) mm -> (T, 6) pose_Tx, Ty, Tz (centroid, mm), pose_Rx, Ry, Rz (rad; rotation taking the
    frontal template onto the frame); zeros where ``found`` is False."""
    pose = np.zeros((len(xyz), 6))
    if found.any():
        pts = xyz[found]
        centroid = pts.mean(axis=1)  # (F, 3)
        template = template_face()
        R = kabsch(pts - centroid[:, None], template - template.mean(axis=0))  # observed -> template
        pose[found, :3] = centroid
        pose[found, 3:] = openface_angles(R.transpose(0, 2, 1))  # the head's rotation: template -> observed
    return pose


# ---------------------------------------------------------------- the OpenFace CSV

def write_openface_csv(path: Path, timestamps: np.ndarray, found: np.ndarray, xyz: np.ndarray,
                       pixels: np.ndarray, pose: np.ndarray) -> None:
    """One video's frames as an OpenFace 2.x CSV (:func:`openface.write_csv`): pose (mm to 3 decimals,
    radians to 6), 2-D pixels ``x_*``, ``y_*`` and 3-D ``X_*``, ``Y_*``, ``Z_*`` (to 3 decimals);
    confidence is 1 / 0 as ``found``."""
    names = ["pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"]
    cols = [np.round(pose[:, j], 3) for j in range(3)] + [np.round(pose[:, j], 6) for j in range(3, 6)]
    names += [f"{a}_{i}" for a in "xy" for i in range(68)] + openface.LANDMARKS
    cols += [np.round(pixels[:, i, a], 3) for a in range(2) for i in range(68)]
    cols += [np.round(xyz[:, i, a], 3) for a in range(3) for i in range(68)]
    openface.write_csv(path, timestamps, found.astype(float), found, dict(zip(names, cols)))


# ---------------------------------------------------------------- one video through the worker

@dataclass
class VideoResult:
    name: str  # the output stem (participant id)
    frames: int  # output rows
    face_fraction: float
    duration_s: float  # video time covered by the rows
    fps_out: float  # frame rate of the rows (what data.fps must be)
    seconds: float  # wall time of the extraction
    startup_s: float  # of which before the first frame's numbers arrived (environment start, model load)
    cpu_s: float  # CPU seconds the worker spent in its frame loop (decoding + face mesh, all its threads)
    decoded: int  # source frames decoded
    declared: int  # source frames the container declares
    complete: bool  # False: the file ended early (truncated or corrupt)

    def line(self, out: Path) -> str:
        speed = self.duration_s / self.seconds if self.seconds > 0 else float("inf")
        return (f"{self.name}: {self.frames} frames at {self.fps_out:.3f} fps ({self.duration_s:.1f} s of video), "
                f"face in {100 * self.face_fraction:.1f}%, {self.seconds:.1f} s ({speed:.1f}x real time) "
                f"-> {out / (self.name + '.csv')}")


def _stream(python: Path, video: Path, every: int, fps: float | None, progress: bool, max_fps: float | None = None):
    """Run the worker on one video -> (header, records (R, RECORD), (decoded frames, loop CPU s), seconds,
    start-up seconds)."""
    from tqdm import tqdm  # text bars (tqdm.auto wants ipywidgets inside notebooks)
    cmd = ([str(python), str(WORKER), str(video), "--every", str(every)] + (["--fps", repr(fps)] if fps else [])
           + (["--max-fps", repr(max_fps)] if max_fps else []))
    started = time.perf_counter()
    with tempfile.TemporaryFile() as log:  # the worker's stderr (decoder and TFLite chatter): text only
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        try:
            line = proc.stdout.readline()
            try:
                header = json.loads(line)
            except ValueError:
                header = None
            if not isinstance(header, dict):
                proc.wait()
                raise DataError(f"{video}: the video worker failed to start (exit {proc.returncode}): {_last(log)}")
            if "error" in header:
                proc.wait()
                raise DataError(f"{video}: {header['error']}")
            chunks, decoded, cpu, size, first = [], None, 0.0, RECORD * 8, None
            with tqdm(total=header["frames"] or None, desc=video.name[:30], unit="frame", leave=False,
                      disable=None if progress else True, file=sys.stderr) as bar:
                while True:
                    raw = proc.stdout.read(size)
                    if len(raw) < size:
                        break
                    rec = np.frombuffer(raw, dtype="<f8")
                    if rec[0] < 0:
                        decoded, cpu = int(rec[1]), float(rec[2])
                        bar.update(max(0, decoded - bar.n))
                        break
                    chunks.append(rec)
                    first = first or time.perf_counter() - started
                    bar.update(max(0, int(rec[0]) + 1 - bar.n))
            proc.stdout.close()
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if decoded is None or code:
            raise DataError(f"{video}: the video worker stopped after {len(chunks)} frames (exit {code}): {_last(log)}")
    records = np.stack(chunks) if chunks else np.zeros((0, RECORD))
    seconds = time.perf_counter() - started
    return header, records, (decoded, cpu), seconds, seconds if first is None else first


def _last(log) -> str:
    log.seek(0)
    lines = [l.strip() for l in log.read().decode(errors="replace").splitlines() if l.strip()]
    return lines[-1] if lines else "no message"


def extract_video(python: Path, video: Path, out: Path, every: int = 1, fps: float | None = None,
                  progress: bool = True, max_fps: float | None = None) -> tuple[VideoResult, str | None]:
    """Extract one video into ``out/<stem>.csv`` -> (result, problem or None).

    Raises DataError (nothing written) for an unreadable file, a video without frames or without a
    face in any frame. A file that ends before the frames it declares is written (the frames read)
    and returned with a problem line."""
    header, records, (decoded, cpu), seconds, startup = _stream(python, video, every, fps, progress, max_fps)
    fps = header.get("clock") or fps  # max_fps put a faster video on its clock
    declared = int(header["frames"])
    if decoded == 0 or len(records) == 0:
        raise DataError(f"{video}: no frames could be decoded (zero-length video"
                        + (f"; the container declares {declared}" if declared else "") + ")")
    found = records[:, 2] > 0.5
    if not found.any():
        raise DataError(f"{video}: no face in any of the {len(records)} frames examined (nothing written)")
    src_fps = float(header["fps"]) or 30.0  # a container without a frame rate: said below
    fps_out = fps if fps else src_fps / every
    norm = records[:, 4:].reshape(-1, 68, 3)
    xyz, pixels = to_camera_mm(norm, found, int(header["width"]), int(header["height"]))
    pose = head_pose(xyz, found)
    write_openface_csv(out / f"{video.stem}.csv", records[:, 1], found, xyz, pixels, pose)
    complete = not (declared and declared - decoded > max(3, 0.01 * declared))
    result = VideoResult(video.stem, len(records), float(found.mean()), len(records) / fps_out, fps_out, seconds,
                         startup, cpu, decoded, declared, complete)
    problem = None if complete else (f"{video}: frame {decoded + 1} of the {declared} it declares: the file ends early "
                                     f"(truncated or corrupt); wrote the {len(records)} frames read")
    if not float(header["fps"]) and not fps:
        problem = (f"{video}: the container gives no frame rate; wrote it as 30 fps (pass --fps to set the clock)"
                   + (f"; {problem.split(': ', 1)[1]}" if problem else ""))
    return result, problem


# ---------------------------------------------------------------- a batch

def find_videos(paths: list[str]) -> tuple[list[Path], list[str]]:
    """Video files from files and folders (a folder: its files with a video suffix, not recursive)."""
    videos, problems = [], []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES)
            if not found:
                problems.append(f"{p}: no video files in this folder ({', '.join(sorted(VIDEO_SUFFIXES))})")
            videos += found
        elif p.exists():
            videos.append(p)  # named explicitly: tried whatever its suffix
        else:
            problems.append(f"{p}: no such file or folder")
    return videos, problems


def from_video(root) -> bool:
    """Whether a corpus folder holds landmarks written by ``pseudoface extract`` (its marker file)."""
    return root is not None and (Path(root).expanduser() / VIDEO_MARKER).is_file()


def _write_marker(out: Path, results: list[VideoResult], every: int, fps: float | None) -> None:
    """Create or update the folder's ``VIDEO_MARKER`` (JSON): the extractor, its priors, one entry per video."""
    path = out / VIDEO_MARKER
    try:
        marker = json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        marker = {}
    videos = marker.get("videos", {})
    for r in results:
        videos[r.name] = {"frames": r.frames, "fps": round(r.fps_out, 6), "face_fraction": round(r.face_fraction, 4),
                          "complete": r.complete, "every": every, "resampled_fps": fps,
                          "extracted": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    marker = {"note": NOT_OPENFACE, "extractor": "MediaPipe face mesh, mediapipe==0.10.21 (pseudoface extract)",
              "index_map": "video_worker.MP68 (after github.com/PeizhiYan/Mediapipe_2_Dlib_Landmarks)",
              "interpupillary_mm": INTERPUPILLARY_MM, "focal_px": "500 * (width/640 + height/480) / 2",
              "videos": dict(sorted(videos.items()))}
    atomic_write_text(path, json.dumps(marker, indent=2) + "\n")


def extract_paths(paths: list[str], out: Path, every: int = 1, fps: float | None = None,
                  progress: bool = True, python: Path | None = None, say=print, max_fps: float | None = None,
                  jobs: int = 1) -> tuple[list[VideoResult], list[str]]:
    """Extract every video; ``say`` each one's summary line as it finishes -> (results, problems).

    ``max_fps``: a video faster than this is put on a ``max_fps`` clock (the CLI's default: the
    rate normalisation keeps, so no frame is tracked only to be dropped); a slower one keeps every
    frame. ``jobs`` videos at a time, each in its own worker process (the CLI: one per core, at
    most 4). Never stops at a problem: one line per failed video (and per missing path), returned
    at the end."""
    if every < 1:
        raise DataError(f"--every {every}: expected a whole number >= 1")
    if fps is not None and not fps > 0:
        raise DataError(f"--fps {fps:g}: expected a frame rate > 0")
    out = Path(out)
    videos, problems = find_videos(paths)
    results, taken, todo = [], {}, []
    python = python or ensure_video_env()
    for video in videos:
        if video.stem in taken:
            problems.append(f"{video}: same output name {video.stem}.csv as {taken[video.stem]} (rename one)")
            continue
        taken[video.stem] = video
        todo.append(video)
    # each video is a worker process (decoding and the face mesh run there): threads here only wait
    late = {}  # video -> its problem, reported in the batch's order whatever finished first
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(extract_video, python, video, out, every, fps, progress and jobs == 1, max_fps): video
                   for video in todo}
        for future in as_completed(futures):
            try:
                result, problem = future.result()
            except DataError as exc:
                late[futures[future]] = str(exc)
                continue
            results.append(result)
            clock = fps or (result.fps_out if max_fps and result.fps_out == max_fps else None)
            _write_marker(out, [result], every, clock)  # after each file: an interrupted batch is marked too
            say(result.line(out))
            if problem:
                late[futures[future]] = problem
    order = {v.stem: i for i, v in enumerate(todo)}
    return sorted(results, key=lambda r: order[r.name]), problems + [late[v] for v in todo if v in late]
