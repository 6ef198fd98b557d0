"""Reading DAIC-WOZ's pose, gaze and AU files against reading its landmark file, cold, per session.

Target (issue 32): reading the series files of 189 x 16-minute sessions costs no more than reading
their landmark files. Sessions: ``--sessions`` synthetic DAIC-WOZ-layout ones of ``--minutes`` at
30 fps (the real corpus' length: ~16 min), each with its CLNF_features3D file and its three series
files. Cold: every read parses into a fresh, empty cache folder (``data.cache_dir``), as the first
read of a corpus does (parse + cache write); all values are touched. The two readers alternate over
the sessions, ``--repeats`` times (medians per session, then the mean over sessions), after a
warm-up read of each on a short session (imports and first-call set-up are not what is measured).
Usage: python benchmarks/bench_read_series.py [--sessions 8] [--minutes 16] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from pseudoface.corpora import daic, daic_series
from pseudoface.corpora.synthetic import write_corpus
from pseudoface.params import params_from_dict

CORPUS_SESSIONS = 189  # DAIC-WOZ's


def read_cold(reader, pid: str, source, root: Path, cache: Path) -> float:
    """Seconds to read one session into a fresh cache folder, every value touched."""
    shutil.rmtree(cache, ignore_errors=True)
    params = params_from_dict({"dataset": "daic_woz", "data": {"root": str(root), "cache_dir": str(cache)}})
    t = time.perf_counter()
    s = reader.read_session(pid, source, params)
    float(np.asarray(s.landmarks if s.landmarks is not None else s.series, np.float64).sum())
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--minutes", type=float, default=16.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).parent / "out" / "bench_read_series.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = write_corpus(Path(tmp) / "corpus", participants=max(4, args.sessions), seconds=args.minutes * 60, seed=0)
        warm = write_corpus(Path(tmp) / "warm", participants=4, seconds=10, seed=1)
        readers = {"landmarks": daic, "series": daic_series}
        found = {name: r.find_sessions(root)[0] for name, r in readers.items()}
        pids = sorted(found["landmarks"], key=int)[: args.sessions]
        sizes = {"landmarks": 0, "series": 0}
        for pid in pids:
            sizes["landmarks"] += Path(found["landmarks"][pid]).stat().st_size
            sizes["series"] += sum(Path(p).stat().st_size for p in found["series"][pid].values())
        cache = Path(tmp) / "cache"
        for name, r in readers.items():  # warm-up
            pid, source = next(iter(r.find_sessions(warm)[0].items()))
            read_cold(r, pid, source, warm, cache)
        times = {name: {pid: [] for pid in pids} for name in readers}
        load_before = os.getloadavg()
        for _ in range(args.repeats):
            for pid in pids:
                for name, r in readers.items():  # alternating: machine load drifts alike over both
                    times[name][pid].append(read_cold(r, pid, found[name][pid], root, cache))
        load_after = os.getloadavg()
    per_session = {name: statistics.mean(statistics.median(ts) for ts in by_pid.values())
                   for name, by_pid in times.items()}
    ratio = per_session["series"] / per_session["landmarks"]
    frames = int(round(args.minutes * 60 * 30))
    print(f"DAIC-WOZ reading, cold (fresh cache folder each read: parse + cache write), {len(pids)} synthetic "
          f"session(s) of {args.minutes:g} min ({frames} frames at 30 fps); medians of {args.repeats} alternating "
          f"reads per session, mean over sessions; {os.cpu_count()} CPUs, load {load_before[0]:.1f} -> {load_after[0]:.1f}")
    print(f"  {'input':44s} {'MB/session':>10s} {'s/session':>10s} {f'x {CORPUS_SESSIONS} s':>10s}")
    labels = {"landmarks": "landmarks (CLNF_features3D)", "series": "series (CLNF_pose + CLNF_gaze + CLNF_AUs)"}
    for name in readers:
        print(f"  {labels[name]:44s} {sizes[name] / len(pids) / 1e6:10.1f} {per_session[name]:10.3f} "
              f"{per_session[name] * CORPUS_SESSIONS:10.1f}")
    verdict = "met" if ratio <= 1.0 else "NOT met"
    print(f"  series / landmarks: {ratio:.2f} (target <= 1.00 for {CORPUS_SESSIONS} sessions: {verdict})")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({
        "sessions": len(pids), "minutes": args.minutes, "repeats": args.repeats, "cpus": os.cpu_count(),
        "load": [load_before[0], load_after[0]], "seconds_per_session": per_session,
        "mb_per_session": {k: v / len(pids) / 1e6 for k, v in sizes.items()}, "series_over_landmarks": ratio,
        "extrapolated_seconds": {k: v * CORPUS_SESSIONS for k, v in per_session.items()}}, indent=2) + "\n")


if __name__ == "__main__":
    main()
