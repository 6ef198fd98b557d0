"""Wall time, CPU (user/system), peak memory and throughput of `cv`, projected to DAIC-WOZ scale,
with glibc's default allocator settings against pseudoface's tuned ones, in the same run.

Default: a synthetic corpus with DAIC-WOZ-length sessions (16 min) but fewer participants, the
real-corpus training defaults (params dataclass defaults: K = 8, 30 epochs, patience 6, 4 clips
per participant, 5 folds) and one repeat. Every cost then scales with the number of participants
at fixed session length, so the projection to 189 sessions is ``measured x 189 / participants``
(stated, not measured). Target: <= 20 min on 2 CPU cores with the default preset.

Each configuration runs in a fresh process on the same corpus with a cold cache:
``glibc default`` (PSEUDOFACE_MALLOC_TUNING=0) and ``tuned`` (train.keep_freed_memory: large
freed blocks stay in the heap instead of being unmapped and faulted in again every step).

``--vs KEY=VALUE`` (repeatable) compares the default against a params alternative instead of the
allocator, both tuned, in the same run on the same corpus (e.g. ``--vs model.scope=clip``: the
session network against the clip network). Targets: <= 10 min projected, peak memory <= 4 GB.

Usage: python benchmarks/bench_cv.py [--participants 24] [--minutes 16] [--set key=value ...] [--vs key=value ...]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(args) -> None:
    from pseudoface.learning.cv import RunSpec, cross_validate
    from pseudoface.encoding.encode import encode_corpus
    from pseudoface.params import params_from_dict
    from pseudoface.corpora.read import load_corpus
    params = params_from_dict({"dataset": "synthetic", "data": {"root": args.corpus}}, ["cv.repeats=1"] + args.overrides)
    t = time.perf_counter()
    enc = encode_corpus(load_corpus(params), params)
    t_prep = time.perf_counter() - t
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        [(metrics, _)] = cross_validate([RunSpec(params, Path(tmp) / "run", enc)], progress=False)
    t_cv = time.perf_counter() - t
    use = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"prep": t_prep, "cv": t_cv, "user": use.ru_utime, "sys": use.ru_stime,
                      "peak_mb": use.ru_maxrss / 1024, "n": len(enc.table), "minutes": metrics["session_minutes"],
                      "macro_f1": metrics["macro_f1"]["mean"], "epochs": [f["best_epoch"] for f in metrics["fold_details"]],
                      "folds": params.cv.folds, "K": params.model.clip_windows, "max_epochs": params.train.epochs}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", type=int, default=24)
    ap.add_argument("--minutes", type=float, default=16.0)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--vs", action="append", default=[], metavar="KEY=VALUE",
                    help="the alternative: these overrides (default: glibc's allocator settings)")
    ap.add_argument("--corpus", help=argparse.SUPPRESS)  # child mode: measure one configuration
    args = ap.parse_args()
    if args.corpus:
        return child(args)
    from pseudoface.corpora.synthetic import write_corpus
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        root = write_corpus(Path(tmp) / "corpus", participants=args.participants, seconds=args.minutes * 60, seed=0)
        t_gen = time.perf_counter() - t
        results = {}
        alternative = ("alternative: " + " ".join(args.vs), "1", args.vs) if args.vs else ("glibc default", "0", [])
        for name, tuning, extra in (alternative, ("default (tuned)" if args.vs else "tuned", "1", [])):
            env = dict(os.environ, PSEUDOFACE_MALLOC_TUNING=tuning, PSEUDOFACE_CACHE_DIR=tempfile.mkdtemp(dir=tmp))
            cmd = [sys.executable, __file__, "--corpus", str(root)] + [f"--set={o}" for o in args.overrides + extra]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if proc.returncode:
                sys.exit(f"{name}: the measured run failed:\n{proc.stderr[-2000:]}")
            out = proc.stdout
            results[name] = json.loads(out.strip().splitlines()[-1])
    base = results[alternative[0]]
    r = results["default (tuned)" if args.vs else "tuned"]
    print(f"cv: {r['n']} synthetic participants x {args.minutes:g} min ({r['minutes']:.0f} session-minutes), "
          f"{r['folds']} folds x 1 repeat, K={r['K']}, max {r['max_epochs']} epochs; corpus written in {t_gen:.0f} s; "
          f"each configuration in a fresh process, cold cache")
    print(f"  {'configuration':14s} {'read+encode s':>13s} {'cv s':>7s} {'user s':>7s} {'sys s':>6s} {'peak MB':>8s} "
          f"{'projected min':>13s} {'speed x alt':>11s}  macro-F1, chosen epochs")
    for name, m in results.items():
        projected = (m["prep"] + m["cv"]) * 189 / m["n"] / 60
        speed = (base["prep"] + base["cv"]) / (m["prep"] + m["cv"])
        print(f"  {name:14s} {m['prep']:13.1f} {m['cv']:7.1f} {m['user']:7.0f} {m['sys']:6.0f} {m['peak_mb']:8.0f} "
              f"{projected:13.1f} {speed:11.2f}  {m['macro_f1']:.3f} {m['epochs']}")
    print(f"  projected to DAIC-WOZ (189 sessions x {args.minutes:g} min, one repeat) = (read+encode + cv) x 189 / "
          f"{r['n']}; targets <= 10 min, peak <= 4096 MB")


if __name__ == "__main__":
    main()
