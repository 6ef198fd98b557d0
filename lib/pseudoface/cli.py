"""The ``pseudoface`` command: synth, inspect, encode, cv, sweep, predict, explain, report, extract. Every command handler
lives here; library modules never import this one.

User data errors print one line (``error: FILE: line N, column C: ...``) and exit 2, never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .learning.executor import FoldsFailed
from .params import SMOKE, ParamsError, load_params
from .learning.schema import ContractError
from .corpora.textio import DataError


def _params_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--params", required=required, help="params YAML (params/<dataset>.yaml)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter (dotted keys for sections), repeatable")
    p.add_argument("--smoke", action="store_true",
                   help="tiny training settings (1 epoch, 2 folds): checks every stage runs; numbers mean nothing")


def _ray_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="fold trainings as Ray tasks: alone, a local Ray sized to this machine; with an address "
                        "(auto, HOST:PORT, ray://HOST:10001), that cluster (cv.executor, cv.ray_address)")


def _overrides(args) -> list[str]:
    ray = getattr(args, "ray", None)
    ray = [] if ray is None else ["cv.executor=ray"] + ([f"cv.ray_address={ray}"] if ray else [])
    return (list(SMOKE) if getattr(args, "smoke", False) else []) + ray + list(args.overrides)


def cmd_synth(args) -> int:
    from .corpora.synthetic import EFFECTS, write_corpus
    try:
        out = write_corpus(args.out, participants=args.participants, seconds=args.seconds, seed=args.seed,
                           fmt=args.format, effect=args.effect, strength=args.strength, spread=args.spread)
    except ValueError as exc:
        raise ParamsError(f"synth: {exc}") from None
    family = EFFECTS[args.effect]
    strength = family.strength if args.strength is None else args.strength
    spread = family.spread if args.spread is None else args.spread
    print(f"wrote a synthetic {args.format} corpus of {args.participants} participants x {args.seconds:g} s to {out} "
          f"(cue: {args.effect}, strength {strength:g}, spread {spread:g})")
    return 0


def cmd_inspect(args) -> int:
    from .corpora.read import inspect_paths
    lines, problems = inspect_paths(args.paths)
    print("\n".join(lines))
    return _problems_at_end(problems, "  ")


def _problems_at_end(problems: list, prefix: str) -> int:
    """Every problem of a batch, one line each on stderr after the work; exit 1 if any."""
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"{prefix}{p}", file=sys.stderr)
        return 1
    return 0


def cmd_encode(args) -> int:
    """One (windows, channels, rows, time) array per session + summary.csv."""
    from .corpora.cache import atomic_write_bytes, atomic_write_text
    from .encoding.encode import encode_corpus
    from .corpora.read import corpus_summary, ensure_synthetic, load_corpus
    params = load_params(args.params, _overrides(args))
    ensure_synthetic(params)
    corpus = load_corpus(params)
    print("\n".join(corpus_summary(corpus)))
    enc = encode_corpus(corpus, params, progress=True)
    out = Path(args.out)
    for pid, images in enc.images.items():
        atomic_write_bytes(out / f"{pid}.npy", lambda fh, a=images: np.save(fh, a))
    summary = enc.encode_summary
    atomic_write_text(out / "summary.csv", summary.to_csv(index=False))
    shapes = {images.shape[1:] for images in enc.images.values()}
    print(f"wrote {len(enc.images)} arrays {sorted(shapes)} (+ summary.csv) to {out}; "
          f"{int(summary.windows.sum())} windows, {int(summary.skipped_windows.sum())} skipped, "
          f"clip rate {summary.clip_rate.mean():.4f}")
    for p in corpus.problems:
        print(f"problem: {p}")
    return 1 if corpus.problems else 0


def headline(metrics: dict) -> str:
    """Every model's macro-F1 as the site's index prints it: mean ± SD over outer folds with the 95% CI
    of the mean by the corrected resampled t (metrics.json: ``macro_f1.ci95_corrected_t``); above it
    the task's own line (a regression run: the PHQ-8 score)."""
    from .learning.intervals import CORRECTED_T, CORRECTED_T_KEY, UNIT, ci_text, number
    from .site.results import folds_phrase
    from .learning.task import task_named
    models = [("fused model (headline)", metrics["fused_model"])] if "fused_model" in metrics else []
    models += [("network", metrics)] + [(name, v) for name, v in metrics["baselines"].items()]
    parts = [f"macro-F1, mean ± SD over {folds_phrase(metrics['macro_f1'])} (95% CI of the mean, {CORRECTED_T}):"]
    parts += [f"  {name}: {number(v['macro_f1']['mean'])} ± {number(v['macro_f1']['std'])} (95% CI "
              f"{ci_text(v['macro_f1'][CORRECTED_T_KEY], bounds=UNIT)}, {CORRECTED_T}), predicted-positive rate "
              f"{v['predicted_positive_rate']['mean']:.2f}" for name, v in models]
    return "\n".join([line for line in [task_named(metrics.get("task")).headline(metrics)] if line] + parts)


def cmd_cv(args) -> int:
    from .learning.cv import RunSpec, cross_validate
    from .encoding.encode import encode_corpus
    from .corpora.read import corpus_summary, ensure_synthetic, load_corpus
    from .site.reporting import write_reporting
    from .learning.runs import REPORTING_MD, SANITY, default_run_dir
    from .learning.sanity import run_shuffled, sanity_sentence
    overrides = _overrides(args) + ([f"cv.protocol={args.protocol}"] if args.protocol else [])
    if args.shuffled_labels is not None:
        overrides.append(f"cv.shuffled_labels={args.shuffled_labels}")
    params = load_params(args.params, overrides)
    ensure_synthetic(params)
    out = Path(args.out) if args.out else default_run_dir(params)
    if params.cv.protocol == "cross_corpus":  # train on one corpus, score the other once, and its own CV
        from .learning.transfer import run_transfer, transfer_lines
        summary = run_transfer(params, out, progress=True)
        print("\n".join(transfer_lines(summary)))
        print(f"wrote {out}/transfer.json and the runs cross-none/, cross-standardise/, within/")
        return 1 if summary["problems"] else 0
    corpus = load_corpus(params)
    print("\n".join(corpus_summary(corpus)))
    enc = encode_corpus(corpus, params, progress=True)
    [(metrics, _)] = cross_validate([RunSpec(params, out, enc, resume=args.resume)])
    print(f"{params.dataset} ({params.cv.protocol}, {metrics['n_participants']} participants): " + headline(metrics))
    print(f"wrote {out}/metrics.json in {metrics['seconds']:.0f} s")
    for p in corpus.problems:
        print(f"problem: {p}", file=sys.stderr)
    if metrics["failed_folds"]:
        print(f"error: {len(metrics['failed_folds'])} fold(s) failed (listed in {out}/metrics.json); the other folds "
              "are kept: the same command with --resume trains only the missing ones", file=sys.stderr)
        return 1
    if params.cv.shuffled_labels:
        sanity = run_shuffled(params, out, enc=enc, progress=True)
        print(f"shuffled-label sanity run: {sanity_sentence(sanity)}\nwrote {out}/{SANITY}")
    write_reporting(out, participant_data=corpus.synthetic or params.report.allow_participant_data)
    print(f"wrote {out}/{REPORTING_MD} (TRIPOD+AI items)")
    return 0


def cmd_sweep(args) -> int:
    """A grid over params keys, each point a run folder; every point's folds in one pool."""
    from .site.sweep import run_sweep
    if args.grid is None and (args.ray or "").endswith((".yaml", ".yml")):
        args.grid, args.ray = args.ray, ""  # `sweep --ray GRID.yaml`: the flag took the grid as its address
    if args.grid is None:
        raise ParamsError("sweep: give the grid file (pseudoface sweep GRID.yaml [--ray [ADDRESS]])")
    table, out = run_sweep(args.grid, params_file=args.params, overrides=_overrides(args), out=args.out)
    print(f"wrote {out} ({len(table)} points, {int(table.reused.sum())} reused)")
    failed = table[table.failed_folds > 0]
    if len(failed):
        print(f"error: {len(failed)} point(s) have failed folds; the same command trains only the missing ones",
              file=sys.stderr)
        return 1
    return 0


def cmd_predict(args) -> int:
    """Score sessions with every fold model of a run: the network and the fused model, as the
    run's task combines its folds (:mod:`task`); one CSV line per session."""
    from .learning.predict import predict_paths
    rows, problems, columns = predict_paths(Path(args.run), args.paths)
    print(",".join(("participant",) + columns))
    for pid, *values in rows:  # scores and probabilities with 4 decimals, predicted PHQ-8 with 2, screens 0/1
        print(",".join([pid] + [str(v) if isinstance(v, int) else f"{v:.2f}" if "predicted" in c else f"{v:.4f}"
                                for c, v in zip(columns, values)]))
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


def cmd_explain(args) -> int:
    """Occlusion explanations of a finished run's fold models -> <run>/explanations.csv."""
    from .learning.explain import EXPLANATIONS, PROFILE, explain, summary_lines
    summary = explain(Path(args.run), stretches=args.stretches, progress=True)
    print("\n".join(summary_lines(summary)))
    profile = Path(args.run) / PROFILE
    print(f"wrote {Path(args.run) / EXPLANATIONS}" + (f" and {profile}" if profile.is_file() else ""))
    return 0


def cmd_extract(args) -> int:
    """Videos -> OpenFace 2.x-layout landmark CSVs (MediaPipe face mesh in the .venv-video sidecar)."""
    from .corpora.extract import ensure_video_env, extract_paths
    python = ensure_video_env()
    if args.setup:
        print(f"video environment ready: {python}")
        return 0
    if not args.paths or not args.out:
        raise ParamsError("extract: give VIDEO_OR_FOLDER... and --out DIR (or --setup)")
    import os
    from .params import NormaliseParams
    # by default no frame is tracked beyond the rate normalisation keeps (normalise.target_fps)
    max_fps = NormaliseParams().target_fps if args.fps is None and args.every is None else None
    jobs = max(1, min(4, os.cpu_count() or 1))
    results, problems = extract_paths(args.paths, Path(args.out), every=args.every or 1, fps=args.fps, python=python,
                                      max_fps=max_fps, jobs=jobs)
    if results:  # each file keeps its own clock (the openface reader times it by its timestamps)
        print(f"wrote {len(results)} landmark file(s) to {args.out}: MediaPipe face-mesh landmarks in OpenFace 2.x "
              f"columns (not OpenFace/CLNF). Next: {args.out}/labels.csv (participant_id, label or score), then "
              f"`dataset: openface` with data.root: {args.out}")
    return _problems_at_end(problems, "error: ")


def cmd_report(args) -> int:
    """Execute and publish the notebooks (unless --site-only), then build the site from every
    complete published report. Exit 1 if a notebook failed (nothing of that dataset published)."""
    from .site.report import report_targets, run_report
    from .site.website import build_site
    root = Path.cwd()
    problems = [] if args.site_only else run_report(root, report_targets(root, args.params, args.all),
                                                      _overrides(args))
    renderer = build_site(root)
    print(f"site built with {renderer}: reports/_site/index.html")
    for p in problems:
        print(f"problem: {p}")
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pseudoface", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="write a synthetic corpus in the DAIC-WOZ or E-DAIC layout")
    p.add_argument("--out", required=True)
    p.add_argument("--participants", type=int, default=48)
    p.add_argument("--seconds", type=float, default=75.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--format", choices=["daic_woz", "e_daic"], default="daic_woz")
    from .corpora.synthetic import EFFECTS
    p.add_argument("--effect", choices=list(EFFECTS), default="amplitude",
                   help="the planted depression cue: " + "; ".join(f"{k}: {v.description}" for k, v in EFFECTS.items()))
    p.add_argument("--strength", type=float, default=None, help="cue strength (default: the family's)")
    p.add_argument("--spread", type=float, default=None, help="person-to-person SD of the cue's gain (default: the family's)")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("inspect", help="one line per session and the participant flow; non-zero exit on any broken input")
    p.add_argument("paths", nargs="+", help="a file, a session folder or zip, or a corpus root")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("encode", help="read -> normalise -> encode a corpus into pseudo-image arrays")
    _params_args(p)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_encode)

    p = sub.add_parser("cv", help="participant-grouped cross-validation with baselines -> metrics.json")
    _params_args(p)
    p.add_argument("--out", default=None, help="run folder (default runs/<dataset>/<config-hash>/)")
    p.add_argument("--resume", action="store_true", help="keep finished folds of an interrupted run")
    p.add_argument("--protocol", choices=["cv", "official"], default=None)
    p.add_argument("--shuffled-labels", type=int, default=None, metavar="N",
                   help="then N shuffled-label sanity runs (training labels permuted; the first repeat's folds) into "
                        "<out>/shuffled/<k>/ and their summary <out>/sanity.json (cv.shuffled_labels)")
    _ray_arg(p)
    p.set_defaults(func=cmd_cv)

    p = sub.add_parser("sweep", help="cross-validate a grid over params keys -> sweep.csv (one row per point)")
    p.add_argument("grid", metavar="GRID.yaml", nargs="?", help="`grid:` {dotted key: [values]}; optional `params:` and `set:`")
    _params_args(p, required=False)
    p.add_argument("--out", default=None, help="folder of sweep.csv (default runs/<dataset>/sweeps/<grid name>/)")
    _ray_arg(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("predict", help="score sessions with a trained run")
    p.add_argument("--run", required=True, help="a run folder written by `pseudoface cv`")
    p.add_argument("paths", nargs="+")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("explain", help="which input groups and moments each fold model uses (occlusion) -> "
                                       "<run>/explanations.csv")
    p.add_argument("--run", required=True, help="a run folder written by `pseudoface cv`")
    p.add_argument("--stretches", type=int, default=10, help="stretches of time per session (default 10: tenths; 0: input groups only, the cheaper run)")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("extract", help="3-D landmarks from videos (MediaPipe, offline) into OpenFace 2.x CSVs")
    p.add_argument("paths", nargs="*", metavar="VIDEO_OR_FOLDER", help="video files, or folders of them")
    p.add_argument("--out", help="output folder: one <video name>.csv each (a custom `openface` corpus)")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--fps", type=float, default=None,
                      help="output frame rate: one frame per 1/F s tick (at most the video's own rate); default: "
                           "15 fps (normalise.target_fps) for a faster video, every frame of a slower one")
    rate.add_argument("--every", type=int, default=None, help="keep every N-th frame (1: every frame of any video)")
    p.add_argument("--setup", action="store_true", help="only create (or check) the video environment .venv-video")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("report", help="execute the notebook suite and build the website")
    _params_args(p, required=False)
    p.add_argument("--all", action="store_true", help="every params/*.yaml whose corpus is present")
    p.add_argument("--site-only", action="store_true", help="rebuild the website from executed notebooks")
    _ray_arg(p)
    p.set_defaults(func=cmd_report)
    return parser


def _kept_after_interrupt(args, exc: KeyboardInterrupt) -> str:
    """What an interrupted `report` or `cv` left on disk, in words ('' for the other commands)."""
    if getattr(exc, "kept", None):  # report.ReportInterrupted knows
        return exc.kept
    if args.command == "cv":
        from .learning.runs import FOLDS, default_run_dir
        try:
            out = Path(args.out) if args.out else default_run_dir(load_params(
                args.params, _overrides(args) + ([f"cv.protocol={args.protocol}"] if args.protocol else [])))
        except (ParamsError, DataError):
            return "nothing kept"
        n = len(list((out / FOLDS).glob("*.json")))
        if n:
            return f"{n} finished fold(s) kept in {out / FOLDS}/; the same command with --resume continues from them"
        return "no fold had finished; nothing kept"
    if args.command == "sweep":
        return "every finished fold is kept in its point's run folder; the same command continues from them"
    return ""


def _stop(signum, frame):
    raise KeyboardInterrupt  # a killed job (SIGTERM) cleans up like Ctrl-C


def main(argv: list[str] | None = None) -> int:
    import signal
    args = build_parser().parse_args(argv)
    try:
        previous = signal.signal(signal.SIGTERM, _stop)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        return args.func(args)
    except (DataError, ParamsError, ContractError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FoldsFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        kept = _kept_after_interrupt(args, exc)
        print(f"interrupted: {kept}" if kept else "interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
