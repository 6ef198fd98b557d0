"""The video side of ``pseudoface extract``: run by the sidecar environment's Python (``.venv-video``),
never imported by the main environment. It imports cv2, mediapipe and numpy only (no pseudoface,
no pandas): mediapipe 0.10.21 needs numpy < 2, which the main environment does not have.

It streams the frames of ONE video with OpenCV, runs MediaPipe's face mesh on the selected ones and
writes only numbers to stdout; decoded frames stay in this process's memory and are never written
anywhere. Protocol (read by ``extract.py``):

1. one JSON line: ``{"frames": declared frame count, "fps": container rate, "width", "height",
   "mediapipe": version}``, or ``{"error": "..."}`` (then exit code 2);
2. per output frame, one record of ``RECORD`` little-endian float64:
   ``[source frame index (0-based), time (s, from the first frame), face found (1/0), 0,
   68 x (x, y, z)]``: MediaPipe's normalised coordinates (x / width, y / height, z on the scale of
   x, smaller = nearer the camera, origin near the head centre), mapped to the 68-point layout;
3. an end record: ``[-1, frames decoded, CPU seconds of this process in the frame loop, 0, ...]``.

``python video_worker.py --check`` prints the versions as JSON after building a face mesh (set-up check).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("GLOG_minloglevel", "2")  # mediapipe's C++ logging: warnings and info off
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

# MediaPipe face-mesh vertex(es) for each of the 68 iBUG/Multi-PIE points that OpenFace writes (0-based,
# in OpenFace's order; a pair is averaged). Correspondence from Peizhi Yan, "Mediapipe_2_Dlib_Landmarks"
# (github.com/PeizhiYan/Mediapipe_2_Dlib_Landmarks, mediapipe2dlib/mp2dlib.py, 2024), read against
# MediaPipe's canonical face-model UV map (mediapipe/modules/face_geometry/data/
# canonical_face_model_uv_visualization.png). "Right" is the subject's right (image left), as in OpenFace.
MP68 = (
    # 0-16 jaw, from the subject's right ear to the left one, through the chin (8 = 152)
    (127,), (234,), (93,), (132, 58), (58, 172), (136,), (150,), (176,), (152,), (400,), (379,), (365,),
    (397, 288), (361,), (323,), (454,), (356,),
    (70,), (63,), (105,), (66,), (107,),  # 17-21 right brow, outer to inner
    (336,), (296,), (334,), (293,), (300,),  # 22-26 left brow, inner to outer
    (168, 6), (197, 195), (5,), (4,),  # 27-30 nose bridge to tip
    (75,), (97,), (2,), (326,), (305,),  # 31-35 nose base
    (33,), (160,), (158,), (133,), (153,), (144,),  # 36-41 right eye: outer corner, upper lid, inner corner, lower lid
    (362,), (385,), (387,), (263,), (373,), (380,),  # 42-47 left eye: inner corner, upper lid, outer corner, lower lid
    (61,), (39,), (37,), (0,), (267,), (269,), (291,), (321,), (314,), (17,), (84,), (91,),  # 48-59 outer lip
    (78,), (82,), (13,), (312,), (308,), (317,), (14,), (87,),  # 60-67 inner lip
)
assert len(MP68) == 68
NEEDED = sorted({i for pair in MP68 for i in pair})  # the 72 mesh vertices read (of 468)
_FIRST = np.array([NEEDED.index(p[0]) for p in MP68])
_SECOND = np.array([NEEDED.index(p[-1]) for p in MP68])
RECORD = 4 + 68 * 3


def landmarks68(needed: np.ndarray) -> np.ndarray:
    """(len(NEEDED), 3) MediaPipe normalised coordinates of the NEEDED vertices -> (68, 3) in OpenFace's numbering."""
    return 0.5 * (needed[_FIRST] + needed[_SECOND])


def _header(**fields) -> None:
    sys.stdout.buffer.write((json.dumps(fields) + "\n").encode())
    sys.stdout.buffer.flush()


def run(path: str, every: int, fps: float | None, max_fps: float | None = None) -> int:
    if not os.path.isfile(path):
        _header(error="no such file")
        return 2
    if os.path.getsize(path) == 0:
        _header(error="empty file (0 bytes)")
        return 2
    import cv2
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        _header(error="cannot be opened as a video (unknown format, or the file is truncated or corrupt)")
        return 2
    declared = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    src_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if fps is not None and src_fps > 0 and fps > src_fps * 1.001:
        _header(error=f"--fps {fps:g} is above the video's own {src_fps:.3f} fps (frames are taken, never invented)")
        return 2
    if fps is None and every == 1 and max_fps and src_fps > max_fps * 1.001:
        fps = max_fps  # a faster video is put on the max_fps clock; a slower one keeps every frame
    import mediapipe as mp
    pending = cap.grab()  # the first frame's own size: the container's may predate a rotation flag
    first = cap.retrieve()[1] if pending else None
    height, width = first.shape[:2] if first is not None else (int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                                                                int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)))
    _header(frames=declared, fps=src_fps, width=width, height=height, mediapipe=mp.__version__, clock=fps)
    out = sys.stdout.buffer
    # Tracking mode (not static images): the detector runs only when the tracked face is lost.
    mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1, refine_landmarks=False,
                                           min_detection_confidence=0.5, min_tracking_confidence=0.5)
    step = 1.0 / src_fps if src_fps > 0 else 1.0 / 30
    record = np.zeros(RECORD, dtype="<f8")
    index, t0, t_prev, next_tick = 0, None, -np.inf, 0.0
    cpu_start = time.process_time()  # every thread of this process: decoding and inference
    while pending:
        t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        t0 = t if t0 is None else t0
        t = t - t0
        if not t > t_prev:  # no (or a non-increasing) container clock: count frames instead
            t = (t_prev + step) if index else 0.0
        t_prev = t
        if fps is None:
            repeats = 1 if index % every == 0 else 0
        else:  # one output frame per tick of a 1/fps clock: the first frame within half a frame of it
            repeats = 0
            while next_tick <= t + 0.5 * step:
                repeats += 1
                next_tick += 1.0 / fps
        if repeats:
            ok, frame = (first is not None, first) if index == 0 else cap.retrieve()
            if not ok or frame.shape[:2] != (height, width):
                break  # undecodable, or the size changed mid-stream: the end check reports the shortfall
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            rgb.flags.writeable = False
            found = mesh.process(rgb).multi_face_landmarks
            record[:] = 0.0
            record[0], record[1] = index, t
            if found:
                mesh_points = found[0].landmark
                pts = np.array([(mesh_points[i].x, mesh_points[i].y, mesh_points[i].z) for i in NEEDED])
                record[2] = 1.0
                record[4:] = landmarks68(pts).ravel()
            for _ in range(repeats):
                out.write(record.tobytes())
        index += 1
        first = None
        pending = cap.grab()
    mesh.close()
    cap.release()
    end = np.zeros(RECORD, dtype="<f8")
    end[0], end[1], end[2] = -1, index, time.process_time() - cpu_start
    out.write(end.tobytes())
    out.flush()
    return 0


def check() -> int:
    import cv2
    import mediapipe as mp
    mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1).close()
    print(json.dumps({"mediapipe": mp.__version__, "opencv": cv2.__version__, "numpy": np.__version__}))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("video", nargs="?")
    p.add_argument("--every", type=int, default=1)
    p.add_argument("--fps", type=float, default=None)
    p.add_argument("--max-fps", type=float, default=None)
    p.add_argument("--check", action="store_true")
    args = p.parse_args(argv)
    if args.check:
        return check()
    return run(args.video, max(1, args.every), args.fps, args.max_fps)


if __name__ == "__main__":
    sys.exit(main())
