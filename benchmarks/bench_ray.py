"""Wall time of `cv` with its folds as Ray tasks (a local Ray of N workers, 1 thread each) against
the in-process executor on the same configuration, in the same run; the predictions must match.

Default: a synthetic corpus (24 participants x 8 min), the real-corpus training defaults (params
dataclass defaults), 5 folds, 1 repeat. Each configuration runs in a fresh process with its own cold
cache:

- ``local``: ``cv.executor: local`` with ``train.threads: 0`` (torch's default: every core, one fold
  at a time; what `cv` does without --ray)
- ``local, 1 thread``: the same with ``train.threads: 1`` (the per-fold setting of the Ray run)
- ``ray, N workers``: ``cv.executor: ray``, ``train.threads: 1``, a local Ray started with N CPUs (its
  start-up is timed separately and included in the wall time)

The Ray run's predictions.csv must be byte-identical to ``local, 1 thread`` (same threads per fold);
the benchmark fails otherwise. On a 2-core machine expect ~1x: two 1-thread folds at once against
one 2-thread fold; the point of Ray is a cluster (workers = its CPUs / threads per fold).

Usage: python benchmarks/bench_ray.py [--participants 24] [--minutes 8] [--workers 2] [--set key=value ...]
"""
from __future__ import annotations

import argparse
import filecmp
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
    enc = encode_corpus(load_corpus(params), params)
    t = time.perf_counter()
    start = 0.0
    if params.cv.executor == "ray":
        from pseudoface.learning.executor import start_local_ray  # here: the benchmark's worker count, not the machine's cores
        start_local_ray(args.workers, 1 << 30)
        start = time.perf_counter() - t
    [(metrics, _)] = cross_validate([RunSpec(params, Path(args.out), enc)], progress=False)
    wall = time.perf_counter() - t
    if params.cv.executor == "ray":
        import ray
        ray.shutdown()
    use = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"wall": wall, "ray_start": start, "cv": wall - start, "user": use.ru_utime, "n": len(enc.table),
                      "macro_f1": metrics["macro_f1"]["mean"], "epochs": [f["best_epoch"] for f in metrics["fold_details"]],
                      "fold_seconds": [round(f["seconds"], 1) for f in metrics["fold_details"]],
                      "folds": params.cv.folds, "max_epochs": params.train.epochs}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", type=int, default=24)
    ap.add_argument("--minutes", type=float, default=8.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--corpus", help=argparse.SUPPRESS)  # child mode: measure one configuration
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.corpus:
        return child(args)
    from pseudoface.corpora.synthetic import write_corpus
    configs = {"local": ["cv.executor=local"], "local, 1 thread": ["cv.executor=local", "train.threads=1"],
               f"ray, {args.workers} workers": ["cv.executor=ray", "train.threads=1"]}
    with tempfile.TemporaryDirectory() as tmp:
        root = write_corpus(Path(tmp) / "corpus", participants=args.participants, seconds=args.minutes * 60, seed=0)
        results = {}
        for name, extra in configs.items():
            env = dict(os.environ, PSEUDOFACE_CACHE_DIR=tempfile.mkdtemp(dir=tmp))
            out = Path(tempfile.mkdtemp(dir=tmp)) / "run"
            cmd = [sys.executable, __file__, "--corpus", str(root), "--out", str(out), "--workers", str(args.workers)]
            cmd += [f"--set={o}" for o in extra + args.overrides]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if proc.returncode:
                sys.exit(f"{name}: the measured run failed:\n{proc.stderr[-2000:]}")
            results[name] = json.loads(proc.stdout.strip().splitlines()[-1]) | {"out": out}
        ray_name, one = f"ray, {args.workers} workers", "local, 1 thread"
        same = filecmp.cmp(results[one]["out"] / "predictions.csv", results[ray_name]["out"] / "predictions.csv",
                           shallow=False)
    r = results["local"]
    print(f"cv: {r['n']} synthetic participants x {args.minutes:g} min, {r['folds']} folds x 1 repeat, max "
          f"{r['max_epochs']} epochs; {os.cpu_count()} CPU(s) here; each configuration in a fresh process, cold cache")
    print(f"  {'executor':18s} {'wall s':>7s} {'ray start s':>11s} {'folds s':>8s} {'x local':>8s}  macro-F1, chosen epochs, "
          "seconds per fold")
    for name, m in results.items():
        print(f"  {name:18s} {m['wall']:7.1f} {m['ray_start']:11.1f} {m['cv']:8.1f} {r['wall'] / m['wall']:8.2f}  "
              f"{m['macro_f1']:.3f}, {m['epochs']}, {m['fold_seconds']}")
    print(f"  predictions.csv of '{ray_name}' and '{one}': {'byte-identical' if same else 'DIFFERENT'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
