"""Parse throughput, cached reload and peak memory of the CLNF_features3D reader.

Alternative measured in the same run: ``pandas.read_csv(path, skipinitialspace=True)``.
Targets (issue 9, replacing issue 2's withdrawn 1.5x): parse >= 1.0x pandas, cached reload >= 20x
pandas, peak memory <= 6x the returned arrays (pandas' own figure).
Usage: python benchmarks/bench_parse.py [--minutes 20] [--repeats 5]

Also measured when polars is installed (it is not a dependency; ``pip install polars`` to include
it): polars' whole-file reader on the same output, the (T, 207) float32 matrix.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROBE = r"""
import json, os, shutil, statistics, sys, time
import numpy as np, pandas as pd
from pseudoface.corpora import daic, textio
from pseudoface.params import params_from_dict
mode, path, small, steady_runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
params = params_from_dict({"dataset": "daic_woz", "data": {"root": os.path.dirname(path)}})
names = [f"c{j}" for j in range(208)]
def parse(path):  # the timed part: text -> numbers, nothing else
    if mode == "pandas":
        return pd.read_csv(path, skipinitialspace=True)
    if mode == "parser":
        return textio.parse_columns(path, daic.landmark_columns(textio.read_header(path)))[0]
    if mode == "polars_whole":
        import polars as pl
        return pl.read_csv(path, has_header=False, skip_rows=1, columns=list(range(1, 208)), quote_char=None,
                           schema={n: pl.Float32 for n in names}).to_numpy(order="fortran")
    session = daic.read_session("300", path, params)
    float(np.asarray(session.landmarks).sum())  # touch every value: a memory-mapped reload is lazy
    return session
def checksum(result):  # untimed: the same landmark values, whichever reader produced them
    if mode == "pandas":
        return float(result.iloc[:, 4:].to_numpy(np.float64).sum())
    if mode in ("parse", "cached"):
        return float(np.asarray(result.landmarks, np.float64).sum())
    return float(np.asarray(result[:, 3:], np.float64).sum())
def fresh_cache():  # read_session's first parse must parse, not reload
    if mode == "parse":
        from pseudoface.corpora.cache import cache_root
        shutil.rmtree(cache_root(), ignore_errors=True)
parse(small)  # warm-up on a 10 s file: imports and first-call set-up are not what is measured
if mode == "cached":
    parse(path)  # fill the cache
fresh_cache()
base = rss("VmRSS:")
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM)
t = time.perf_counter()
result = parse(path)
first = time.perf_counter() - t
peak = rss("VmHWM:") - base
total = checksum(result)
del result
steady = []
for _ in range(steady_runs):  # the same file again: memory and threads already set up, as when a corpus is read
    fresh_cache()
    t = time.perf_counter()
    result = parse(path)
    steady.append(time.perf_counter() - t)
    del result
print(json.dumps({"seconds": first, "steady": statistics.median(steady), "peak_extra": peak, "checksum": total}))
"""


def run(mode: str, path: Path, small: Path, cache: str, steady_runs: int) -> dict:
    env = dict(os.environ, PSEUDOFACE_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", PROBE, mode, str(path), str(small), str(steady_runs)],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


LABELS = {
    "pandas": "pandas.read_csv(skipinitialspace=True)",
    "parser": "pseudoface parser (textio.parse_columns)",
    "parse": "pseudoface read_session, first parse + cache write",
    "cached": "pseudoface read_session, cached reload (mmap)",
    "polars_whole": "alternative: polars whole file",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--repeats", type=int, default=5, help="fresh processes per reader (interleaved)")
    ap.add_argument("--steady", type=int, default=4, help="further parses of the same file in each process")
    args = ap.parse_args()
    from pseudoface.corpora.synthetic import Person, animate, write_clnf
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "300_P" / "300_CLNF_features3D.txt"
        frames = animate(Person(300, 5, 0, 1.0, 1.0), args.minutes * 60, 30.0, np.random.default_rng(0))
        write_clnf(path, frames, 30.0)
        small = Path(tmp) / "301_P" / "301_CLNF_features3D.txt"
        write_clnf(small, animate(Person(301, 5, 0, 1.0, 1.0), 10, 30.0, np.random.default_rng(1)), 30.0)
        T = len(frames["confidence"])
        returned = T * (204 + 3) * 4  # landmarks + timestamp/confidence/success as float32
        size_mb = path.stat().st_size / 1e6
        modes = ["pandas", "parser", "parse", "cached"]
        if importlib.util.find_spec("polars") is not None:
            modes.append("polars_whole")
        runs = {mode: [] for mode in modes}
        for _ in range(args.repeats):  # interleaved, so a slow spell on the machine hits every reader
            for mode in modes:
                runs[mode].append(run(mode, path, small, tempfile.mkdtemp(dir=tmp), args.steady))
    med = {mode: {key: statistics.median(r[key] for r in rs) for key in ("seconds", "steady", "peak_extra")}
           for mode, rs in runs.items()}
    reference = runs["pandas"][0]["checksum"]
    for mode, rs in runs.items():  # every reader returned the same landmark values
        assert all(abs(r["checksum"] - reference) < 1e-6 * abs(reference) + 1 for r in rs), mode
    pandas = med["pandas"]
    print(f"CLNF_features3D, {args.minutes:g} min session: {T} frames, {size_mb:.1f} MB of text, returned arrays "
          f"{returned / 1e6:.1f} MB; {os.cpu_count()} CPUs. Medians of {args.repeats} fresh processes per reader, "
          f"interleaved. 'first': the first parse of the file in a process (after a warm-up on a 10 s file); "
          f"'steady': median of {args.steady} more parses in the same process (as when a corpus is read); "
          "'peak': resident memory added during the first parse.")
    print(f"  {'reader':52s} {'first s':>8s} {'x pandas':>8s} {'steady s':>9s} {'x pandas':>8s} {'peak MB':>8s} {'x data':>7s}")
    for mode in modes:
        m = med[mode]
        print(f"  {LABELS[mode]:52s} {m['seconds']:8.3f} {pandas['seconds'] / m['seconds']:8.2f} {m['steady']:9.3f} "
              f"{pandas['steady'] / m['steady']:8.2f} {m['peak_extra'] / 1e6:8.0f} {m['peak_extra'] / returned:7.2f}")
    if "polars_whole" not in modes:
        print("  (polars is not installed: pip install polars to add it as a further alternative)")
    parser = med["parser"]
    print("Targets (issue 9):")
    print(f"  parse >= 1.0x pandas:           first {pandas['seconds'] / parser['seconds']:.2f}x, "
          f"steady {pandas['steady'] / parser['steady']:.2f}x")
    print(f"  cached reload >= 20x pandas:    {pandas['seconds'] / med['cached']['seconds']:.0f}x")
    print(f"  peak <= 6x the returned arrays: parser {parser['peak_extra'] / returned:.2f}x, "
          f"read_session {med['parse']['peak_extra'] / returned:.2f}x")


if __name__ == "__main__":
    main()
