"""The run folder: its file names, provenance, fold checkpoints, the outputs, and reading it back.

Run folder (default ``runs/<dataset>/<config-hash>/``): ``run.json`` (config), ``metrics.json``,
``predictions.csv`` (one row per participant per repeat), ``history.csv`` (per repeat, fold,
epoch), ``participants.csv``, ``folds/*.json`` (finished folds, which ``--resume`` keeps) and
``checkpoints/*.pt`` (state dicts with plain metadata: they load with
``torch.load(..., weights_only=True)``), and after a shuffled-label sanity run (``cv.shuffled_labels``)
``shuffled/<k>/`` (the k-th permutation's own run folder) with their summary ``sanity.json``
(:mod:`sanity`);
``reporting.json`` / ``reporting.md`` (:mod:`reporting`). This module owns every one of those names.
"""
from __future__ import annotations

import hashlib
import json
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import torch

from .. import __version__
from .baselines import BASELINES
from ..corpora.cache import atomic_write_bytes, atomic_write_text
from ..encoding.encode import EncodedCorpus
from .evaluate import calibration_summary, summarise
from .intervals import paired_difference, test_fraction
from .model import count_parameters, model_from_params
from ..params import Params, ParamsError, params_from_dict, project_root, without_neutral
from .schema import METRICS_VERSION, check_metrics
from .task import ProbabilityRule, ScoreRule, task_named, task_of

RUN_FILE = "run.json"
METRICS = "metrics.json"
PREDICTIONS = "predictions.csv"
HISTORY = "history.csv"
PARTICIPANTS = "participants.csv"
COMPARISONS = "comparisons.csv"
FOLDS = "folds"
CHECKPOINTS = "checkpoints"
SHUFFLED = "shuffled"  # shuffled/<k>/: the k-th shuffled-label run of this run
SANITY = "sanity.json"
REPORTING_JSON = "reporting.json"
REPORTING_MD = "reporting.md"
# written after the run from its own files: they describe the run they sit beside, so a folder whose
# run trains again loses them until they are written again
DERIVED = (SANITY, REPORTING_JSON, REPORTING_MD)


def code_version() -> str:
    """The package version, plus the git commit when run from a checkout, and when ``lib/`` differs
    from it ``.dirty-<hash>``: a digest of those differences (tracked edits and untracked files), so
    that two runs made with different uncommitted code never read as the same version."""
    def git(*args) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=5).stdout
    try:
        root = project_root()
        head = git("rev-parse", "--short", "HEAD").strip()
        if not head:
            return __version__
        untracked = git("ls-files", "--others", "--exclude-standard", "lib").split()
        changes = git("diff", "HEAD", "--", "lib")
        if not changes and not untracked:
            return f"{__version__}+{head}"
        digest = hashlib.sha256(changes.encode())
        for name in sorted(untracked):
            digest.update(name.encode() + b"\0" + (root / name).read_bytes())
        return f"{__version__}+{head}.dirty-{digest.hexdigest()[:8]}"
    except (OSError, subprocess.SubprocessError):
        return __version__


# Where the folds ran changes no number (a ray run reuses a local one and the reverse): never hashed;
# nor does how many shuffled-label runs follow it (each of those has its own folder and hash)
EXECUTION_KEYS = (("cv", "executor"), ("cv", "ray_address"), ("cv", "max_retries"), ("cv", "shuffled_labels"))


def config_hash(params: Params) -> str:
    cfg = {name: without_neutral(name, section) if isinstance(section, dict) else section
           for name, section in params.to_dict().items() if name != "report"}
    for section, key in EXECUTION_KEYS:
        cfg.get(section, {}).pop(key, None)
    return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:12]


def default_run_dir(params: Params) -> Path:
    return Path("runs") / params.dataset / config_hash(params)


def fold_name(repeat: int, fold: int) -> str:
    return f"r{repeat}_f{fold}"


def open_run_folder(out: Path, params: Params, resume: bool, replace: bool) -> None:
    """Claim ``out`` for this configuration (writes ``run.json``).

    A folder holding another configuration's run is an error, unless ``replace`` (the report's
    own run folders), which removes that run's files first and says so. Without ``resume``,
    finished folds of an earlier run of the same configuration are discarded."""
    run_file = out / RUN_FILE
    chash = config_hash(params)
    if run_file.is_file():
        previous = json.loads(run_file.read_text())
        if previous["config_hash"] != chash and replace:
            print(f"{out}: replacing a run of another configuration ({previous['config_hash']})", file=sys.stderr)
            for sub in (FOLDS, CHECKPOINTS):
                shutil.rmtree(out / sub, ignore_errors=True)
            for name in (RUN_FILE, METRICS, PREDICTIONS, HISTORY, PARTICIPANTS):
                (out / name).unlink(missing_ok=True)
        elif previous["config_hash"] != chash:
            raise ParamsError(f"{out}: holds a run of another configuration ({previous['config_hash']}); "
                              "use another --out")
        if not resume:
            for f in list((out / FOLDS).glob("*.json")):
                f.unlink()
    for name in DERIVED:  # they describe the run about to be replaced
        (out / name).unlink(missing_ok=True)
    atomic_write_text(run_file, json.dumps({"config_hash": chash, "config": params.to_dict()}, indent=1))


def holds_config(out: Path, params: Params) -> bool:
    """True when ``out`` was claimed by this configuration (its finished folds may be resumed)."""
    run_file = Path(out) / RUN_FILE
    return run_file.is_file() and json.loads(run_file.read_text())["config_hash"] == config_hash(params)


def finished_fold(out: Path, repeat: int, fold: int) -> dict | None:
    path = out / FOLDS / f"{fold_name(repeat, fold)}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def save_fold(out: Path, result: dict) -> None:
    """Checkpoint (state dict + plain metadata) and the fold's JSON (without the state)."""
    name = fold_name(result["repeat"], result["fold"])
    state = result.pop("state")
    task = task_named(result.get("task"))
    # the task's decision rule as plain numbers (binary: threshold, platt, pos_weight; regression:
    # threshold, target_scale), the fused model's weight and feature model (regression: the ridge)
    meta = {"repeat": result["repeat"], "fold": result["fold"], "task": task.name, "best_epoch": result["best_epoch"],
            **task.rule_from(result).record(),
            "fusion_weight": result["fused"]["weight"], "feature_model": result["fused"]["feature_model"]}
    atomic_write_bytes(out / CHECKPOINTS / f"{name}.pt", lambda fh: torch.save({"state_dict": state, "meta": meta}, fh))
    atomic_write_text(out / FOLDS / f"{name}.json", json.dumps(result))


@dataclass
class FoldModel:
    """One fold's trained models, as its checkpoint holds them."""
    network: torch.nn.Module  # in eval mode
    rule: ProbabilityRule | ScoreRule  # the task's decision rule: outputs -> score and screen (:mod:`task`)
    fusion_weight: float  # the network's share of the fused logit (:mod:`fusion`)
    feature_model: dict  # the feature model's linear form (baselines.linear_form; regression: ridge_form)


def load_models(run: Path) -> tuple[list[FoldModel], dict]:
    """A :class:`FoldModel` for every fold checkpoint, and the run's metrics."""
    meta = load_metrics(run)
    params = params_from_dict(meta["config"])
    models = []
    for ckpt in sorted((run / CHECKPOINTS).glob("*.pt")):
        blob = torch.load(ckpt, map_location="cpu", weights_only=True)
        model = model_from_params(params.model, meta["input_shape"])
        model.load_state_dict(blob["state_dict"])
        task = task_named(blob["meta"].get("task"))
        models.append(FoldModel(model.eval(), task.rule_from(blob["meta"]), float(blob["meta"]["fusion_weight"]),
                                blob["meta"]["feature_model"]))
    if not models:
        raise ParamsError(f"{run}: no checkpoints (run `pseudoface cv` first)")
    return models, meta


def _predictions_of(results: list, model) -> pd.DataFrame:
    """The network's predictions table with another model's score and decision in their place;
    ``model(fold result)`` gives that model's {score, prediction} lists for the fold."""
    return pd.DataFrame([dict(p, score=s, prediction=d) for r in results
                         for p, s, d in zip(r["predictions"], model(r)["score"], model(r)["prediction"])])


def write_outputs(out: Path, params: Params, enc: EncodedCorpus, results: list, seconds: float, device: str,
                  failed: list | None = None) -> dict:
    """Summarise the fold results against the baselines; write metrics, predictions, history.

    ``failed``: [{repeat, fold, error}] of folds that never finished (a Ray task out of retries);
    they are listed in ``metrics.json`` as ``failed_folds`` and such a run is never reused."""
    results = sorted(results, key=lambda r: (r["repeat"], r["fold"]))  # plan order, whatever finished first
    predictions = pd.DataFrame([row for r in results for row in r["predictions"]])
    history = pd.DataFrame([h for r in results for h in r["history"]])
    n = len(enc.table)
    summary = summarise(predictions, params.cv.bootstrap, params.cv.seed, n)
    baselines, base_preds = {}, {}
    for name in BASELINES:
        frame = _predictions_of(results, lambda r: r["baselines"][name])
        base_preds[name] = frame
        baselines[name] = {k: v for k, v in summarise(frame, 200, params.cv.seed, n).items() if k != "folds"}
    fused = _predictions_of(results, lambda r: r["fused"])
    fused_summary = {k: v for k, v in summarise(fused, params.cv.bootstrap, params.cv.seed, n).items() if k != "folds"}
    predictions["feature_score"] = base_preds["feature_model"].score.to_numpy()
    predictions["feature_prediction"] = base_preds["feature_model"].prediction.to_numpy()
    predictions["fused_score"] = fused.score.to_numpy()
    predictions["fused_prediction"] = fused.prediction.to_numpy()
    first = predictions[predictions.repeat == predictions.repeat.min()]
    fraction = test_fraction([f["n"] for f in summary["folds"]], n)
    feature_folds = baselines["feature_model"]["macro_f1"]["folds"]
    input_shape = next(iter(enc.images.values())).shape[1:]
    c = enc.corpus
    metrics = {
        "schema_version": METRICS_VERSION,  # schema.METRICS: every key below, checked before it is written
        "dataset": params.dataset, "protocol": params.cv.protocol, "label_rule": params.data.label_rule,
        "synthetic": c.synthetic,
        "n_participants": int(len(enc.table)), "n_depressed": int(enc.table.label.sum()),
        "n_excluded": int(len(c.flow.dropped)), "participant_flow": c.flow.counts,
        # analysed participants whose file binary label and PHQ-8 >= 10 differ (either rule; labels.apply_label_rule)
        "label_disagreements": int(c.disagreements.participant_id.isin(enc.table.participant_id).sum()),
        "excluded_reasons": sorted({step for _, step, _ in c.flow.dropped}),
        "problems": c.problems,
        "config": params.to_dict(), "config_hash": config_hash(params), "code_version": code_version(),
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                     "pandas": pd.__version__, "sklearn": sklearn.__version__},
        "data_fingerprint": enc.fingerprint, "seed": params.cv.seed, "device": device,
        "model_parameters": count_parameters(model_from_params(params.model, input_shape)),
        "input_shape": list(input_shape),
        "inputs": "landmarks" if any(s.landmarks is not None for s in c.sessions.values()) else "series",
        "calibration": calibration_summary(first.label.to_numpy(), first.score.to_numpy())
        | {"method": params.train.calibration},
        **{k: v for k, v in summary.items() if k != "folds"},
        "fold_details": [dict(f, best_epoch=r["best_epoch"], threshold=r["threshold"], seconds=r["seconds"],
                              n_inner_train=len(r["inner_train_ids"]), n_inner_val=len(r["inner_val_ids"]))
                         for f, r in zip(summary["folds"], sorted(results, key=lambda r: (r["repeat"], r["fold"])))],
        "baselines": baselines,
        # the network's and the feature model's logits, stacked with a fixed weight (fusion.py)
        "fused_model": fused_summary | {"weights": [r["fused"]["weight"] for r in results],
                                        "calibration": calibration_summary(first.label.to_numpy(),
                                                                           first.fused_score.to_numpy())},
        # model minus the feature model in the same folds: the mean of the per-fold differences, corrected t
        "differences": {"network_minus_feature_model": paired_difference(summary["macro_f1"]["folds"], feature_folds,
                                                                         fraction),
                        "fused_minus_feature_model": paired_difference(fused_summary["macro_f1"]["folds"],
                                                                       feature_folds, fraction)},
        "encode": {"windows": int(enc.encode_summary.windows.sum()),
                   "skipped_windows": int(enc.encode_summary.skipped_windows.sum()),
                   "clip_rate": float(enc.encode_summary.clip_rate.mean())},
        "seconds": seconds,
        "failed_folds": list(failed or []),
        "session_minutes": float(sum(s.duration_s for s in c.sessions.values()) / 60),
    }
    metrics |= task_of(params).outputs(results, predictions, params, n)  # task; a regression run's own keys
    atomic_write_text(out / PREDICTIONS, predictions.to_csv(index=False))
    atomic_write_text(out / HISTORY, history.to_csv(index=False))
    atomic_write_text(out / PARTICIPANTS, enc.table.to_csv(index=False))
    check_metrics(json.loads(json.dumps(metrics, default=float)), f"{out / METRICS} (being written)")
    atomic_write_text(out / METRICS, json.dumps(metrics, indent=1, default=float))
    return metrics


def run_matches(run_dir: Path, params: Params, fingerprint: str | None = None) -> bool:
    """True when ``run_dir`` holds finished metrics for this config, data and code version."""
    path = Path(run_dir) / METRICS
    if not path.is_file():
        return False
    m = json.loads(path.read_text())
    same = m.get("config_hash") == config_hash(params) and m.get("code_version") == code_version()
    same = same and not m.get("failed_folds")  # an incomplete run is finished by running it again
    return same and (fingerprint is None or m.get("data_fingerprint") == fingerprint)


def load_metrics(run_dir: str | Path) -> dict:
    path = Path(run_dir) / METRICS
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir}: no {METRICS} (run notebook 03 or `pseudoface cv` first)")
    return check_metrics(json.loads(path.read_text()), str(path))


def load_run(run_dir: str | Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """(metrics, predictions, history) of a finished run."""
    run_dir = Path(run_dir)
    return (load_metrics(run_dir), pd.read_csv(run_dir / PREDICTIONS, dtype={"participant_id": str}),
            pd.read_csv(run_dir / HISTORY))


def load_participants(run_dir: str | Path) -> pd.DataFrame:
    return pd.read_csv(Path(run_dir) / PARTICIPANTS, dtype={"participant_id": str})
