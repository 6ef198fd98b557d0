"""Which parts of the face and which moments drive a decision: occlusion of a finished run's fold
models on their own test participants (``pseudoface explain --run DIR``). Never trains.

What is measured (per fold model, per test participant of that fold):
- network: the change of the participant's calibrated logit (``platt`` a x logit + b; the identity
  unless ``train.calibration: platt``) when one input **group** of rows is replaced by its neutral
  value in every window (:func:`group_neutrals`), and when one **stretch of time** (a tenth of the
  session's windows by default) is replaced in every row. The network reads the whole session, so
  each occluded copy is one whole-session forward pass (clip scope: the mean over its clips, as
  ``train.score`` does).
- feature model: the same groups over its functionals (:func:`feature_group`), each replaced by the
  training mean, which is 0 after the fold's scaler: the change is exactly minus that group's part
  of the linear logit (``checkpoint meta feature_model``, :func:`baselines.linear_form`).

Neutral value (:func:`encode.row_neutrals`): 0.5 in every value and velocity channel, i.e. zero
displacement from the session's median (landmarks, translation, geometry, series pose and gaze),
no frame-to-frame change (velocities), and for the landmark head-rotation row the template
orientation (encode keeps rotation absolute so that a head held lowered all session shows): its
neutral is a level head, not the participant's median; E-DAIC AU intensity rows: 0 (at rest).
Every value is in encode's [0, 1] space; the network's own input scaling is applied after.

Groups follow the image (:func:`row_groups`): compact default (pose and geometry rows) -> head
rotation, head translation, mouth geometry, eye and brow geometry; 68-landmark image -> jaw, brows,
nose, eyes, mouth (+ those pose and geometry rows); E-DAIC series -> head translation, head
rotation, gaze, and AU families by face region (:data:`AU_FAMILIES`).

Why captum's ``FeatureAblation``: the session network's input is one (1, T, C, R, W) tensor (T
varies by participant; ``SessionNet.window_features`` chunks its CNN over B x T windows), and a
feature mask broadcast over it ((1, 1, 1, R, 1) rows -> group, (1, T, 1, 1, 1) windows -> stretch,
their product for the group x time grid) gives exactly these occlusions, batched
``perturbations_per_eval`` copies at a time. Its attribution is f(input) - f(occluded), which this
module calls the **contribution** (positive: the group pushes the score towards depressed); the
change Δ when the group is removed is its negative.

Outputs: ``explanations.csv`` (one row per repeat, fold, model, kind, group, class: n, mean |Δ|,
its SD, mean and SD of the signed contribution), ``explanations.json`` (the run's provenance,
the settings, seconds) and, where per-participant data may be shown (:func:`profile_allowed`),
``explanation_profile.npz`` (one test participant's group x time contributions,
:func:`participant_profile`) in the run folder: products of the run, written by notebook 03 (with
the corpus it already encoded) or ``pseudoface explain``; :func:`ensure` recomputes them when
missing or stale, :func:`read` and :func:`load_profile` only read them (notebook 04).
Occlusion shows what a model uses, not what causes depression; on a synthetic corpus the answer is
known and benchmarks/bench_explain.py checks it.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from . import runs
from .baselines import linear_logit
from ..corpora.cache import atomic_write_bytes, atomic_write_text
from ..encoding.encode import EncodedCorpus, RowLayout, encode_corpus
from ..params import ParamsError, params_from_dict
# what the explanations say lives in explain_summary; its names are this module's too (callers read them here)
from .explain_summary import (CLASSES, MODEL_NAMES, MODELS, STABLE_RULE, STABLE_W, fold_summary,  # noqa: F401
                              missing_reason, rank_agreement, sentence, stability, summary_lines)
from ..corpora.read import load_corpus
# which rows and functionals form a group lives in explain_groups; its names are this module's too
from .explain_groups import (AU_FAMILIES, GROUP_PARTS, PLANTED_PART, feature_contributions,  # noqa: F401
                             feature_group, group_neutrals, row_groups)

EXPLANATIONS = "explanations.csv"
EXPLANATIONS_META = "explanations.json"
PROFILE = "explanation_profile.npz"  # one participant's profile (synthetic corpus or report.allow_participant_data)
EXPLAIN_VERSION = 1
STRETCHES = 10  # stretches of time per session: tenths of its windows

def session_forward(model: torch.nn.Module, scope: str, clip_windows: int):
    """f((B, T, C, R, W) sessions) -> (B,) logits as ``train.score`` scores a participant: the
    session network on the whole session; a clip network's mean over non-overlapping K-window clips
    (a session shorter than K padded with its last window)."""
    if scope == "session":
        return lambda x: model(x)

    def clips_mean(x: torch.Tensor) -> torch.Tensor:
        B, T = x.shape[:2]
        K = clip_windows
        if T < K:
            x = torch.cat([x, x[:, -1:].expand(B, K - T, *x.shape[2:])], dim=1)
        n = x.shape[1] // K
        clips = x[:, :n * K].reshape(B * n, K, *x.shape[2:])  # (B n, K, C, R, W)
        return model(clips).reshape(B, n).mean(dim=1)
    return clips_mean


def stretch_ids(windows: int, stretches: int) -> np.ndarray:
    """(T,) the stretch of each window: ``stretches`` near-equal runs of consecutive windows."""
    return (np.arange(windows) * min(stretches, windows)) // windows


def _feature_ablation():
    """captum's FeatureAblation class. captum imports ``tqdm.auto``, which warns inside a notebook
    kernel without ipywidgets, and the warning names a local path (the report must publish none)."""
    import warnings
    from tqdm import TqdmWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TqdmWarning)
        from captum.attr import FeatureAblation
    return FeatureAblation


@torch.no_grad()
def occlude(forward, images: np.ndarray, neutral: np.ndarray, groups: np.ndarray, stretches: int,
            grid: bool = False, per_eval: int = 4) -> dict:
    """Contributions (logit - occluded logit) of one session (T, C, R, W) with captum:
    {"logit", "group": (G,), "time": (S,)} and with ``grid`` also (G, S). ``groups``: (R,) group
    index of each row; ``neutral``: (C, R) (:func:`group_neutrals`); ``stretches`` 0: groups only.
    Cost: 3 + G + S whole-session forward passes (+ G x S with ``grid``)."""
    FeatureAblation = _feature_ablation()
    T, R = images.shape[0], images.shape[2]
    x = torch.tensor(images[None])  # (1, T, C, R, W); a copy: a cached session is a read-only memory map
    base = torch.from_numpy(neutral)[None, None, :, :, None]  # (1, 1, C, R, 1)
    gmask = torch.as_tensor(groups, dtype=torch.long).reshape(1, 1, 1, R, 1)
    s = torch.as_tensor(stretch_ids(T, max(stretches, 1)), dtype=torch.long)
    tmask = s.reshape(1, T, 1, 1, 1)
    ablation = FeatureAblation(forward)
    out = {"logit": float(forward(x)[0])}
    a = ablation.attribute(x, baselines=base, feature_mask=gmask, perturbations_per_eval=per_eval)
    first_row = [int(np.flatnonzero(groups == g)[0]) for g in range(int(groups.max()) + 1)]
    out["group"] = a[0, 0, 0, first_row, 0].numpy()  # (G,) every element of a group holds its value
    if stretches <= 0:  # groups only (the 68-landmark image at DAIC-WOZ scale: see benchmarks/bench_explain.py)
        return out | {"time": np.zeros(0)}
    a = ablation.attribute(x, baselines=base, feature_mask=tmask, perturbations_per_eval=per_eval)
    first_t = [int(np.flatnonzero(s.numpy() == k)[0]) for k in range(int(s.max()) + 1)]
    out["time"] = a[0, first_t, 0, 0, 0].numpy()  # (S,)
    if grid:
        S = int(s.max()) + 1
        a = ablation.attribute(x, baselines=base, feature_mask=gmask * S + tmask, perturbations_per_eval=per_eval)
        out["grid"] = a[0][first_t][:, 0, first_row, 0].T.numpy()  # (G, S)
    return out


# ---------------------------------------------------------------- a run

def _open(run: Path, enc: EncodedCorpus | None = None):
    """(metrics, params, [(fold name, FoldModel)], encoded corpus) of a finished run; ``enc``: the
    run's corpus already encoded (checked against the run's data fingerprint), else read and encoded."""
    run = Path(run)
    if not run.is_dir():
        raise ParamsError(f"{run}: no such run folder")
    if not (run / runs.METRICS).is_file():
        raise ParamsError(f"{run}: no {runs.METRICS} (run `pseudoface cv` first)")
    models, metrics = runs.load_models(run)  # raises naming the folder when it has no checkpoints
    names = [p.stem for p in sorted((run / runs.CHECKPOINTS).glob("*.pt"))]  # load_models' order
    params = params_from_dict(metrics["config"])
    if params.encode.layout != "window":
        raise ParamsError(f"{run}: explain reads window pseudo-images (encode.layout: window); this run used "
                          f"encode.layout: {params.encode.layout}, whose rows are not face parts")
    if enc is None:
        enc = encode_corpus(load_corpus(params), params)
    if enc.fingerprint != metrics["data_fingerprint"]:
        raise ParamsError(f"{run}: the corpus under {params.data.root} is not the one this run saw "
                          f"(data fingerprint {enc.fingerprint}, the run's {metrics['data_fingerprint']})")
    return metrics, params, list(zip(names, models)), enc


def _fold_info(run: Path, name: str) -> dict:
    path = Path(run) / runs.FOLDS / f"{name}.json"
    if not path.is_file():
        raise ParamsError(f"{path}: missing (the checkpoint {name}.pt has no fold record)")
    return json.loads(path.read_text())


def explain_participants(run: str | Path, stretches: int = STRETCHES, threads: int = 1,
                         progress: bool = False, enc: EncodedCorpus | None = None) -> pd.DataFrame:
    """Every fold model on its own test participants: one row per repeat, fold, participant,
    model, kind (group or time), group (a group name, or ``time k/S``): label, logit, contribution.
    ``enc``: the run's encoded corpus when the caller has it (else read and encoded here)."""
    from tqdm import tqdm
    metrics, params, models, enc = _open(Path(run), enc)
    first = next(iter(enc.images.values()))
    layout_rows = _row_names(params, enc)
    groups = row_groups(layout_rows)
    names = list(dict.fromkeys(groups))
    gidx = np.array([names.index(g) for g in groups])
    neutral = group_neutrals(layout_rows, first.shape[1])
    series = not RowLayout.of(params.encode).holds(first.shape)  # E-DAIC pose/gaze/AU rows
    table = enc.table.set_index("participant_id")
    out = []
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, threads))  # one thread: the 2 cores are shared with trainings
    try:
        for name, fm in tqdm(models, desc="explain", disable=None if progress else True, leave=False):
            info = _fold_info(Path(run), name)
            forward = session_forward(fm.network, params.model.scope, params.model.clip_windows)
            a, b = fm.rule.affine  # explained output = a * raw output + b: contributions scale by a
            for pid in info["test_ids"]:
                pid = str(pid)
                base = {"repeat": info["repeat"], "fold": info["fold"], "participant_id": pid,
                        "label": int(table.at[pid, "label"])}
                occ = occlude(forward, enc.images[pid], neutral, gidx, stretches)
                logit = a * occ["logit"] + b
                out += [base | {"model": "network", "kind": "group", "group": g, "logit": logit,
                                "contribution": a * float(c)} for g, c in zip(names, occ["group"])]
                S = len(occ["time"])
                out += [base | {"model": "network", "kind": "time", "group": f"time {k + 1}/{S}", "logit": logit,
                                "contribution": a * float(c)} for k, c in enumerate(occ["time"])]
                feats = table.loc[pid, fm.feature_model["columns"]].to_dict()
                flogit = linear_logit(fm.feature_model, feats)
                out += [base | {"model": "feature_model", "kind": "group", "group": g, "logit": flogit,
                                "contribution": c}
                        for g, c in feature_contributions(fm.feature_model, feats, params.encode.landmark_rows,
                                                                  series).items()]
    finally:
        torch.set_num_threads(previous)
    return pd.DataFrame(out)


def _row_names(params, enc) -> tuple:
    """The row names of the run's images (encode writes them with every session)."""
    from ..encoding.encode import encode_session
    pid = enc.table.participant_id.iloc[0]
    return tuple(encode_session(enc.corpus.sessions[pid], params).row_names)


def top_groups(run: str | Path) -> dict | None:
    """{model: rank agreement (:func:`rank_agreement`: top group, share of folds that rank it first,
    Kendall's W, stable)} of a run's current explanations, or None when it has none (the site's summary)."""
    if not is_current(run):
        return None
    summary = load(run)
    return {m: rank_agreement(summary, m) for m in MODELS if (summary.model == m).any()}


# ---------------------------------------------------------------- the run folder's files

def _provenance(metrics: dict) -> dict:
    return {k: metrics.get(k) for k in ("config_hash", "code_version", "data_fingerprint")}


def explain(run: str | Path, stretches: int = STRETCHES, threads: int = 1, progress: bool = False,
            enc: EncodedCorpus | None = None) -> pd.DataFrame:
    """Explain a finished run and write ``explanations.csv``, ``explanations.json`` and (where
    :func:`profile_allowed`) the participant profile into it; ``enc``: the run's encoded corpus when
    the caller has it (notebook 03), else read and encoded once here."""
    run = Path(run)
    t0 = time.perf_counter()
    if enc is None:
        enc = _open(run)[3]  # once, for the explanations and the profile
    per = explain_participants(run, stretches, threads, progress, enc)
    summary = fold_summary(per)
    seconds = time.perf_counter() - t0
    metrics = runs.load_metrics(run)
    atomic_write_text(run / EXPLANATIONS, summary.to_csv(index=False))
    atomic_write_text(run / EXPLANATIONS_META, json.dumps(
        {"version": EXPLAIN_VERSION, **_provenance(metrics), "stretches": stretches, "seconds": seconds,
         "participants": int(per.participant_id.nunique()), "folds": int(per[["repeat", "fold"]].drop_duplicates().shape[0]),
         "neutral": "encode.row_neutrals (zero displacement / no change; AU rows 0)", "library": "captum FeatureAblation"},
        indent=1))
    if profile_allowed(metrics):
        _write_profile(run, participant_profile(run, enc=enc))
    return summary


def is_current(run: str | Path) -> bool:
    """True when the run folder's explanations describe its current metrics (same config, code
    version and data) and this module's version."""
    run = Path(run)
    meta, csv = run / EXPLANATIONS_META, run / EXPLANATIONS
    if not (meta.is_file() and csv.is_file() and (run / runs.METRICS).is_file()):
        return False
    m, metrics = json.loads(meta.read_text()), runs.load_metrics(run)
    if profile_allowed(metrics) and not (run / PROFILE).is_file():
        return False
    return m.get("version") == EXPLAIN_VERSION and all(m.get(k) == v for k, v in _provenance(metrics).items())


def load(run: str | Path) -> pd.DataFrame:
    return pd.read_csv(Path(run) / EXPLANATIONS, dtype={"group": str})


def ensure(run: str | Path, enc: EncodedCorpus | None = None, **kw) -> pd.DataFrame:
    """The run's explanations, computed first when missing or stale (notebook 03, with the corpus
    it encoded: ``enc``)."""
    return load(run) if is_current(run) else explain(run, enc=enc, **kw)


def _not_current(run: Path) -> ParamsError:
    return ParamsError(f"{run}: no explanations of this run's current models (notebook 03 of the report writes "
                       f"them, or `pseudoface explain --run {run}`)")


def read(run: str | Path) -> pd.DataFrame:
    """The run's explanations as written beside it; never computes (notebook 04 reads the run's files
    only): an error naming the way to write them when missing or stale."""
    if not is_current(run):
        raise _not_current(Path(run))
    return load(run)


def _write_profile(run: Path, profile: dict) -> None:
    arrays = {k: np.asarray(profile[k]) for k in ("grid", "image")}
    meta = json.dumps({k: v for k, v in profile.items() if k not in arrays})
    atomic_write_bytes(run / PROFILE, lambda fh: np.savez(fh, meta=np.array(meta), **arrays))


def load_profile(run: str | Path) -> dict:
    """The participant profile :func:`explain` wrote beside the run (:func:`participant_profile`'s
    dict); never computes."""
    run = Path(run)
    if not is_current(run) or not (run / PROFILE).is_file():
        raise _not_current(run)
    with np.load(run / PROFILE, allow_pickle=False) as z:
        return json.loads(str(z["meta"])) | {"grid": z["grid"], "image": z["image"]}


# ---------------------------------------------------------------- one participant (synthetic only)

def profile_allowed(metrics: dict) -> bool:
    """Per-participant time profiles: a synthetic corpus, or ``report.allow_participant_data``."""
    return bool(metrics.get("synthetic") or metrics["config"].get("report", {}).get("allow_participant_data"))


def participant_profile(run: str | Path, participant_id: str | None = None, stretches: int = 20,
                        enc: EncodedCorpus | None = None) -> dict:
    """One test participant's group x time contributions over their pseudo-image (by default the
    depressed participant of the first repeat with the highest network score). Refused (ParamsError)
    unless :func:`profile_allowed`. ``enc``: the run's encoded corpus when the caller has it."""
    run = Path(run)
    metrics = runs.load_metrics(run)
    if not profile_allowed(metrics):
        raise ParamsError(f"{run}: per-participant time profiles are shown only for a synthetic corpus "
                          "(or with report.allow_participant_data: true)")
    metrics, params, models, enc = _open(run, enc)
    pred = pd.read_csv(run / runs.PREDICTIONS, dtype={"participant_id": str})
    pred = pred[pred.repeat == 0]
    if participant_id is None:
        pool = pred[pred.label == 1] if (pred.label == 1).any() else pred
        participant_id = str(pool.sort_values("score", ascending=False).participant_id.iloc[0])
    row = pred[pred.participant_id == str(participant_id)]
    if row.empty:
        raise ParamsError(f"{run}: participant {participant_id} is not a test participant of the first repeat")
    name = runs.fold_name(0, int(row.fold.iloc[0]))
    fm = dict(models)[name]
    rows = _row_names(params, enc)
    groups = row_groups(rows)
    names = list(dict.fromkeys(groups))
    images = enc.images[str(participant_id)]  # (T, C, R, W)
    neutral = group_neutrals(rows, images.shape[1])
    occ = occlude(session_forward(fm.network, params.model.scope, params.model.clip_windows), images, neutral,
                  np.array([names.index(g) for g in groups]), stretches, grid=True)
    e = params.encode
    W = images.shape[-1]
    hop = max(1, int(round(e.hop_seconds * W / e.window_seconds)))  # frames between window starts
    cv = images.shape[1] // 2 if images.shape[1] % 2 == 0 and images.shape[1] > 1 else images.shape[1]
    # the session's value channels, stitched from the windows (each window's first hop frames)
    stitched = np.concatenate([images[i, :cv, :, :hop] for i in range(len(images) - 1)] + [images[-1, :cv]], axis=-1)
    shown = (stitched - neutral[:cv, :, None]).transpose(1, 0, 2).reshape(len(rows) * cv, -1)  # (R x Cv, frames)
    labels = [f"{r} {'XYZ'[c]}" if cv == 3 else r for r in rows for c in range(cv)]
    s = stretch_ids(len(images), stretches)
    spans = [(float(np.flatnonzero(s == k)[0] * e.hop_seconds),
              float(np.flatnonzero(s == k)[-1] * e.hop_seconds + e.window_seconds)) for k in range(int(s.max()) + 1)]
    a, b = fm.rule.affine
    return {"participant_id": str(participant_id), "label": int(row.label.iloc[0]), "fold": name,
            "logit": a * occ["logit"] + b, "groups": names, "grid": a * occ["grid"], "spans": spans,
            "image": shown, "image_rows": labels, "fps": W / e.window_seconds}


def profile_sentence(profile: dict, calibration: str = "platt") -> str:
    """One sentence on a participant's profile; the logit is named as ``train.calibration`` has it
    (``platt``: the calibrated logit)."""
    g, k = np.unravel_index(int(np.argmax(np.abs(profile["grid"]))), profile["grid"].shape)
    value = float(profile["grid"][g, k])
    start, end = profile["spans"][k]
    label = "depressed" if profile["label"] else "not depressed"
    return (f"Participant {profile['participant_id']} ({label}, {'calibrated logit' if calibration == 'platt' else 'logit'} {profile['logit']:+.2f}, test "
            f"participant of fold {profile['fold']}): the largest single change comes from {profile['groups'][g]} "
            f"at {start:.0f}-{end:.0f} s, which {'pushes the score up' if value > 0 else 'pulls the score down'} "
            f"by {abs(value):.2f} (logit).")
