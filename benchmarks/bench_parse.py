"""Parse throughput, cached reload and peak memory of the CLNF_features3D reader.

Alternative measured in the same run: ``pandas.read_csv(path, skipinitialspace=True)``.
Targets (issue 2): parse >= 1.5x pandas, cached reload >= 20x pandas, peak memory <= 2x the
returned arrays. Usage: python benchmarks/bench_parse.py [--minutes 20]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROBE = r"""
import json, os, sys, time
import numpy as np, pandas as pd
from pseudoface import daic
from pseudoface.params import params_from_dict
mode, path, small = sys.argv[1], sys.argv[2], sys.argv[3]
def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
params = params_from_dict({"dataset": "daic_woz", "data": {"root": os.path.dirname(path)}})
def run(path):
    if mode == "pandas":
        frame = pd.read_csv(path, skipinitialspace=True)
        return float(frame.iloc[:, 4:].to_numpy(np.float32).sum())
    if mode == "parser":
        from pseudoface import textio
        matrix, _ = textio.parse_columns(path, daic.landmark_columns(textio.read_header(path)))
        return float(matrix[:, 3:].sum())
    s = daic.read_session("300", path, params)
    return float(np.asarray(s.landmarks).sum())  # touch every value (memory-mapped when cached)
run(small)  # warm-up on a 10 s file: first-call initialisation is not what is measured, for any mode
if mode == "cached":
    run(path)  # fill the cache
base = rss("VmRSS:")
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM)
t = time.perf_counter()
checksum = run(path)
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "peak_extra": rss("VmHWM:") - base, "checksum": checksum}))
"""


def run(mode: str, path: Path, small: Path, cache: str) -> dict:
    env = dict(os.environ, PSEUDOFACE_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", PROBE, mode, str(path), str(small)], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from pseudoface.synthetic import Person, animate, write_clnf
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "300_P" / "300_CLNF_features3D.txt"
        frames = animate(Person(300, 5, 0, 1.0, 1.0), args.minutes * 60, 30.0, np.random.default_rng(0))
        write_clnf(path, frames, 30.0)
        small = Path(tmp) / "301_P" / "301_CLNF_features3D.txt"
        write_clnf(small, animate(Person(301, 5, 0, 1.0, 1.0), 10, 30.0, np.random.default_rng(1)), 30.0)
        T = len(frames["confidence"])
        returned = T * (204 + 3) * 4  # landmarks + timestamp/confidence/success as float32
        size_mb = path.stat().st_size / 1e6
        results = {}
        for mode in ("pandas", "parser", "parse", "cached"):
            runs = [run(mode, path, small, tempfile.mkdtemp(dir=tmp)) for _ in range(args.repeats)]
            results[mode] = min(runs, key=lambda r: r["seconds"])
        for mode in ("parser", "parse"):
            assert abs(results["pandas"]["checksum"] - results[mode]["checksum"]) < 1e-3 * abs(results["pandas"]["checksum"]) + 1
    p, q, c = results["pandas"]["seconds"], results["parse"]["seconds"], results["cached"]["seconds"]
    r = results["parser"]["seconds"]
    print(f"CLNF_features3D, {args.minutes:g} min session: {T} frames, {size_mb:.1f} MB text, "
          f"returned arrays {returned / 1e6:.1f} MB (best of {args.repeats}, fresh process each, after a warm-up call on a 10 s file)")
    print(f"  pandas.read_csv(skipinitialspace=True): {p:.3f} s  ({size_mb / p:.0f} MB/s)  "
          f"peak extra {results['pandas']['peak_extra'] / 1e6:.0f} MB")
    print(f"  pseudoface parser alone (textio.parse_columns): {r:.3f} s  ({size_mb / r:.0f} MB/s)  "
          f"peak extra {results['parser']['peak_extra'] / 1e6:.0f} MB")
    print(f"  pseudoface read_session, first parse (pyarrow + cache write): {q:.3f} s  ({size_mb / q:.0f} MB/s)  "
          f"peak extra {results['parse']['peak_extra'] / 1e6:.0f} MB")
    print(f"  pseudoface cached reload (mmap .npy): {c:.4f} s")
    print(f"  parser speed-up vs pandas:  {p / r:5.1f}x  (target >= 1.5x)")
    print(f"  read_session (parse + validity + cache write) vs pandas: {p / q:5.1f}x")
    print(f"  cached reload vs pandas:    {p / c:5.1f}x  (target >= 20x)")
    print(f"  parser peak / returned data: {results['parser']['peak_extra'] / returned:5.2f}x (target <= 2x)")
    print(f"  read_session peak / returned data: {results['parse']['peak_extra'] / returned:5.2f}x "
          f"(pandas: {results['pandas']['peak_extra'] / returned:.2f}x)")


if __name__ == "__main__":
    main()
