"""``pseudoface sweep GRID.yaml``: cross-validate every point of a grid over params keys.

The grid file (YAML, read with ``safe_load``)::

    params: params/synthetic.yaml      # the base (optional; ``--params`` replaces it; default this one)
    set: [train.epochs=10]             # overrides for every point (optional)
    grid:                              # dotted params key -> its values; the points are every combination
      cv.seed: [0, 1, 2]
      encode.layout: [window, frame]

A point is the base with ``set``, the command line's overrides (``--set``, ``--smoke``, ``--ray``) and
one ``key=value`` per grid key applied as ``--set`` applies them, so its run folder is the one
``pseudoface cv`` uses for the same overrides: ``runs/<dataset>/<config hash>/``. A point whose run
folder already holds a finished run of that config, data and code version is reused; the folds of
all other points are one pool (on Ray: all at once, so a cluster is fully used; folds finished
before a crash are kept). ``sweep.csv`` (one row per point: the grid keys, macro-F1 mean ± SD,
ROC-AUC, predicted-positive rate, the feature model and stratified random on the same folds) goes to
``runs/<dataset>/sweeps/<grid name>/`` and is published for the website under
``reports/_sweeps/<grid name>/`` (aggregate scores only; local paths scrubbed).
"""
from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pandas as pd
import yaml

from ..learning import runs
from ..corpora.cache import atomic_write_text
from ..params import Params, ParamsError, load_params, project_root
from .sweep_page import SWEEPS

SWEEP_CSV = "sweep.csv"
SWEEP_JSON = "sweep.json"
GRID_KEYS = ("params", "set", "grid")


def load_grid(path: str | Path) -> tuple[str | None, list[str], dict[str, list]]:
    """(base params file, overrides for every point, {dotted key: values}) of a grid file."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: grid file not found")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ParamsError(f"{path}{f':{mark.line + 1}' if mark else ''}: not valid YAML "
                          f"({getattr(exc, 'problem', exc)})") from None
    if not isinstance(raw, dict) or set(raw) - set(GRID_KEYS):
        extra = sorted(set(raw) - set(GRID_KEYS)) if isinstance(raw, dict) else []
        raise ParamsError(f"{path}: expected a mapping with {', '.join(GRID_KEYS)}"
                          + (f"; unknown: {', '.join(extra)}" if extra else ""))
    grid = raw.get("grid")
    if not isinstance(grid, dict) or not grid:
        raise ParamsError(f"{path}: grid: expected a mapping of dotted params keys to lists of values")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ParamsError(f"{path}: grid.{key}: expected a non-empty list of values; got {values!r}")
    fixed = raw.get("set") or []
    if isinstance(fixed, str):
        fixed = [fixed]
    if not isinstance(fixed, list) or not all(isinstance(s, str) for s in fixed):
        raise ParamsError(f"{path}: set: expected a list of key=value strings")
    base = raw.get("params")
    if base is not None and not isinstance(base, str):
        raise ParamsError(f"{path}: params: expected a params file path")
    return base, fixed, {str(k): v for k, v in grid.items()}


def override(key: str, value) -> str:
    """``key=value`` as ``--set`` takes it: the value in JSON, which YAML reads back unchanged."""
    return f"{key}={json.dumps(value)}"


def grid_points(grid: dict[str, list]) -> list[dict]:
    """Every combination, the first key varying slowest."""
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def point_params(grid_file: Path, base: str | None, overrides: list[str], grid: dict) -> list[tuple[dict, Params]]:
    """[(point, its Params)]; an unknown key or a wrong value is an error naming the grid file."""
    swept = set(grid)
    for item in overrides:
        key = item.split("=", 1)[0].strip()
        if key in swept:
            raise ParamsError(f"{grid_file}: grid.{key}: also set for every point ({item}); drop one of them")
    out = []
    for point in grid_points(grid):
        try:
            params = load_params(base, overrides + [override(k, v) for k, v in point.items()])
        except ParamsError as exc:
            raise ParamsError(f"{grid_file}: {exc}") from None
        out.append((point, params))
    return out


def row(point: dict, params: Params, run_dir: Path, metrics: dict, reused: bool) -> dict:
    b = metrics["baselines"]
    return {**{k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in point.items()},
            "macro_f1_mean": metrics["macro_f1"]["mean"], "macro_f1_std": metrics["macro_f1"]["std"],
            "roc_auc_mean": metrics["roc_auc"]["mean"], "roc_auc_std": metrics["roc_auc"]["std"],
            "predicted_positive_rate": metrics["predicted_positive_rate"]["mean"],
            "feature_model_mean": b["feature_model"]["macro_f1"]["mean"],
            "feature_model_std": b["feature_model"]["macro_f1"]["std"],
            "feature_model_auc": (b["feature_model"].get("roc_auc") or {}).get("mean"),
            "stratified_random_mean": b["stratified_random"]["macro_f1"]["mean"],
            "stratified_random_std": b["stratified_random"]["macro_f1"]["std"],
            "folds": len(metrics["macro_f1"]["folds"]), "failed_folds": len(metrics.get("failed_folds") or []),
            "seconds": round(metrics["seconds"]), "reused": reused, "config_hash": runs.config_hash(params),
            "run": run_dir.as_posix()}


def run_sweep(grid_file: str | Path, params_file: str | None = None, overrides: list[str] | tuple = (),
              out: str | Path | None = None, progress: bool = True, publish_to: Path | None = None
              ) -> tuple[pd.DataFrame, Path]:
    """Run (or reuse) every point of the grid; (the sweep table, the path of sweep.csv)."""
    from ..learning.cv import RunSpec, cross_validate
    from ..corpora.read import ensure_synthetic
    from .privacy import private_paths, scrub
    grid_file = Path(grid_file)
    base, fixed, grid = load_grid(grid_file)
    base = params_file or base or str(project_root() / "params" / "synthetic.yaml")
    points = point_params(grid_file, base, fixed + list(overrides), grid)
    first = points[0][1]
    ensure_synthetic(first)
    configs = [(params, runs.default_run_dir(params)) for _, params in points]
    if len({d for _, d in configs}) < len(configs):
        raise ParamsError(f"{grid_file}: two points give the same configuration (a key the run does not use?)")
    folds = sum(p.cv.repeats * (p.cv.folds if p.cv.protocol == "cv" else 2) for p, _ in configs)
    ready = sum(runs.run_matches(d, p) for p, d in configs)
    print(f"sweep {grid_file.stem}: {len(points)} point{'s' * (len(points) != 1)} over {', '.join(grid)}; {folds} fold trainings in all, "
          f"{ready} point{'s' * (ready != 1)} already finished (reused)", flush=True)
    started = time.perf_counter()
    results = cross_validate([RunSpec(p, d, resume=True, replace=True, reuse=True) for p, d in configs],
                             progress=progress, desc="sweep folds")
    table = pd.DataFrame([row(point, params, run_dir, metrics, reused)
                          for (point, params), (_, run_dir), (metrics, reused) in zip(points, configs, results)])
    out = Path(out) if out else Path("runs") / first.dataset / "sweeps" / grid_file.stem
    info = {"name": grid_file.stem, "dataset": first.dataset, "params": Path(base).name, "set": fixed,
            "overrides": list(overrides), "grid": grid, "keys": list(grid),
            "synthetic": bool(results[0][0].get("synthetic")), "code_version": runs.code_version(),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": round(time.perf_counter() - started)}
    atomic_write_text(out / SWEEP_CSV, table.to_csv(index=False))
    atomic_write_text(out / SWEEP_JSON, json.dumps(info, indent=1))
    paths = private_paths(first, Path.cwd())
    # beside the reports, relative to the project: what the site's sweep page reads
    published = Path(publish_to or SWEEPS) / grid_file.stem
    atomic_write_text(published / SWEEP_CSV, scrub(table.drop(columns=["run"]).to_csv(index=False), paths))
    atomic_write_text(published / SWEEP_JSON, json.dumps(scrub(info, paths), indent=1))
    print(table[[*grid, "macro_f1_mean", "macro_f1_std", "feature_model_mean", "reused"]].to_string(index=False))
    return table, out / SWEEP_CSV
