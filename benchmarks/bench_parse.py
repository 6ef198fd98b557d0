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
mode, path = sys.argv[1], sys.argv[2]
def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
params = params_from_dict({"dataset": "daic_woz", "data": {"root": os.path.dirname(path)}})
if mode == "cached":
    daic.read_session("300", path, params)  # warm the cache
base = rss("VmRSS:")
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM)
t = time.perf_counter()
if mode == "pandas":
    frame = pd.read_csv(path, skipinitialspace=True)
    checksum = float(frame.iloc[:, 4:].to_numpy(np.float32).sum())
else:
    s = daic.read_session("300", path, params)
    checksum = float(np.asarray(s.landmarks).sum())  # touch every value (memory-mapped when cached)
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "peak_extra": rss("VmHWM:") - base, "checksum": checksum}))
"""


def run(mode: str, path: Path, cache: str) -> dict:
    env = dict(os.environ, PSEUDOFACE_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", PROBE, mode, str(path)], capture_output=True, text=True, env=env,
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
        T = len(frames["confidence"])
        returned = T * (204 + 3) * 4  # landmarks + timestamp/confidence/success as float32
        size_mb = path.stat().st_size / 1e6
        results = {}
        for mode in ("pandas", "parse", "cached"):
            runs = [run(mode, path, tempfile.mkdtemp(dir=tmp)) for _ in range(args.repeats)]
            results[mode] = min(runs, key=lambda r: r["seconds"])
        assert abs(results["pandas"]["checksum"] - results["parse"]["checksum"]) < 1e-3 * abs(results["pandas"]["checksum"]) + 1
    p, q, c = results["pandas"]["seconds"], results["parse"]["seconds"], results["cached"]["seconds"]
    print(f"CLNF_features3D, {args.minutes:g} min session: {T} frames, {size_mb:.1f} MB text, "
          f"returned arrays {returned / 1e6:.1f} MB (best of {args.repeats}, fresh process each)")
    print(f"  pandas.read_csv(skipinitialspace=True): {p:.3f} s  ({size_mb / p:.0f} MB/s)  "
          f"peak extra {results['pandas']['peak_extra'] / 1e6:.0f} MB")
    print(f"  pseudoface read_session, first parse (pyarrow + cache write): {q:.3f} s  ({size_mb / q:.0f} MB/s)  "
          f"peak extra {results['parse']['peak_extra'] / 1e6:.0f} MB")
    print(f"  pseudoface cached reload (mmap .npy): {c:.4f} s")
    print(f"  parse speed-up vs pandas:   {p / q:5.1f}x  (target >= 1.5x)")
    print(f"  cached reload vs pandas:    {p / c:5.1f}x  (target >= 20x)")
    print(f"  parse peak / returned data: {results['parse']['peak_extra'] / returned:5.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
