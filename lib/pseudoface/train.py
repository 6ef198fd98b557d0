"""Training one model on one (inner) split: span (or clip) sampling, a loss on logits, early stopping.

- Training (:func:`train_epoch`), the default ``model.scope: session``: each epoch draws
  ``clips_per_participant`` random contiguous spans per participant (:func:`sample_batches`,
  :func:`sample_spans`), labelled by the participant; a batch's spans share one length, drawn
  between half and all of min(``span_windows``, its shortest session). With ``model.scope: clip``
  (the paper's design, the option) the examples are random clips of K = ``clip_windows``
  consecutive windows instead (:func:`sample_clips`). Either way half of the landmark images are
  mirrored left-right.
- Scoring (:func:`score`): session scope, one forward pass over the participant's whole session;
  clip scope, the mean logit over all its non-overlapping K-window clips (a participant with fewer
  than K windows gives one clip, padded by repeating its last window). Probability = sigmoid(logit).
- Loss: binary cross-entropy on logits with pos_weight = N_neg / N_pos of the inner-train
  participants, computed once.
- Selection (:class:`EpochSelector`): the epoch with the lowest inner-validation loss, averaged
  over the last :data:`SMOOTH_EPOCHS` epochs, with patience (scored per epoch as above; clip scope
  on up to ``val_clips`` evenly spaced clips per participant, for speed on long sessions); an
  optional Platt map of logits (``calibration: platt``) and the macro-F1-best threshold are fitted
  on inner-validation scores only. Input scaling constants (``model.input_scaling``) come from the
  inner-training participants. The outer test fold never reaches this module.
- ``model.task: regression`` (the PHQ-8 score): the same network, sampling and epoch choice; its
  one output is read as the score standardised by the inner-training participants' mean and SD
  (:func:`score_scale`), so the head starts near the training mean and the loss is in SD units;
  the loss is Huber (:func:`regression_loss`); the epoch is chosen by the same
  :class:`EpochSelector` on the inner-validation Huber loss; predicted scores are clipped to 0-24
  (:meth:`Trained.predicted_score`); no threshold is chosen (the screen is the score >= 10).
"""
from __future__ import annotations

import copy
import ctypes
import os
import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import expit

from .encode import RowLayout, mirror_images
from .evaluate import best_threshold, macro_f1
from .model import CNNLSTM, SessionNet, model_from_params, set_input_scaling
from .params import Params


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters (malloc.h)


def keep_freed_memory() -> bool:
    """Keep large freed blocks in the process heap (glibc only; once per process; returns whether set).

    Training frees and re-allocates the same activation buffers every step. glibc serves blocks
    above its mmap threshold with fresh mappings and unmaps them on free, so every step faults
    their pages in and zeroes them again (a profile showed a third of CPU time in the kernel:
    page faults, clear_page). Raising the mmap and trim thresholds keeps those blocks for reuse.
    A libc tunable no Python library exposes, hence ctypes; PSEUDOFACE_MALLOC_TUNING=0 turns it
    off (benchmarks/bench_cv.py measures both)."""
    if os.environ.get("PSEUDOFACE_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False  # not glibc (e.g. musl): nothing to tune
    ok = libc.mallopt(_M_MMAP_THRESHOLD, 1 << 30) == 1
    return libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30) == 1 and ok


@dataclass
class Trained:
    model: CNNLSTM
    best_epoch: int
    threshold: float
    history: list  # dicts: epoch, train_loss, val_loss, val_macro_f1
    pos_weight: float
    platt: tuple = (1.0, 0.0)  # probability = sigmoid(a * logit + b); identity unless calibration: platt
    # model.task: regression: predicted score = clip(mean + sd * output, 0, 24) (score_scale)
    target_scale: tuple = (0.0, 1.0)

    def probability(self, logits: np.ndarray) -> np.ndarray:
        return expit(self.platt[0] * np.asarray(logits) + self.platt[1])

    def predicted_score(self, outputs: np.ndarray) -> np.ndarray:
        return predicted_score(outputs, self.target_scale)


PHQ8_MAX = 24.0  # eight items scored 0-3
SCREEN_CUTOFF = 10.0  # PHQ-8 >= 10: the binary screen, derived from a predicted score
HUBER_DELTA = 1.0  # in training SDs of the score (~5-6 PHQ-8 points)


def score_scale(scores: np.ndarray) -> tuple[float, float]:
    """(mean, SD) of the inner-training participants' PHQ-8 scores: the network's output is the
    score standardised by them (an SD below 1 point, e.g. a tiny fold, counts as 1)."""
    scores = np.asarray(scores, float)
    return float(scores.mean()), float(max(scores.std(), 1.0))


def predicted_score(outputs, scale: tuple) -> np.ndarray:
    """Network outputs (standardised scores) -> PHQ-8 scores clipped to 0-24."""
    return np.clip(scale[0] + scale[1] * np.asarray(outputs, float), 0.0, PHQ8_MAX)


def regression_loss(outputs: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Huber loss on standardised scores: quadratic within one SD, linear beyond, so the few severe
    scores (PHQ-8 near 20-24 lie 2-3 SDs out) pull the fit less than under MSE while the many
    moderate errors are weighed as by MSE."""
    return F.huber_loss(outputs, z, delta=HUBER_DELTA)


def fit_platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) of sigmoid(a * logit + b) by logistic regression on inner-validation participants,
    with a mild L2 penalty (few participants); identity when a class is missing or the fit would
    reverse the ranking. A monotone map: decisions at the inner-validation threshold, ROC-AUC and
    macro-F1 are unchanged; only the probabilities (Brier score, reliability) change."""
    from sklearn.linear_model import LogisticRegression
    if len(np.unique(y)) < 2:
        return 1.0, 0.0
    lr = LogisticRegression(C=1.0).fit(np.asarray(logits, float)[:, None], np.asarray(y, int))
    a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    # a <= 0 would reverse (or erase) the network's ranking on the strength of a dozen participants:
    # no usable calibration then, keep the identity
    return (a, b) if a > 0 else (1.0, 0.0)


def _pad(images: np.ndarray, K: int) -> np.ndarray:
    if len(images) >= K:
        return images
    return np.concatenate([images, np.repeat(images[-1:], K - len(images), axis=0)])


def eval_clips(images: np.ndarray, K: int) -> np.ndarray:
    """(N, C, R, W) -> (M, K, C, R, W) non-overlapping clips covering the session."""
    images = _pad(images, K)
    starts = range(0, len(images) - K + 1, K)
    return np.stack([images[s:s + K] for s in starts])


def loss_fn(logits: torch.Tensor, y: torch.Tensor, pos_weight: float) -> torch.Tensor:
    """Binary cross-entropy on logits with the positive class weighted by ``pos_weight``."""
    pw = torch.tensor(pos_weight, dtype=logits.dtype, device=logits.device)
    return F.binary_cross_entropy_with_logits(logits, y, pos_weight=pw)


@torch.no_grad()
def score_participants(model: CNNLSTM, images: dict, pids: list, K: int, device: torch.device,
                       batch: int = 32, max_clips: int = 0) -> np.ndarray:
    """Mean logit per participant over its non-overlapping clips -> (n,) logits.

    ``max_clips`` > 0 keeps that many evenly spaced clips per participant (a cheaper, deterministic
    estimate used only for the per-epoch inner-validation loss)."""
    model.eval()
    out = []
    for pid in pids:
        clips = eval_clips(images[pid], K)
        if 0 < max_clips < len(clips):
            clips = clips[np.linspace(0, len(clips) - 1, max_clips).round().astype(int)]
        logits = [model(torch.from_numpy(clips[i:i + batch]).to(device)) for i in range(0, len(clips), batch)]
        out.append(float(torch.cat(logits).mean()))
    return np.asarray(out)


# The epoch is the lowest mean inner-validation loss over the last few epochs: a few validation
# participants make a single epoch's loss noisy (docs/experiments.md)
SMOOTH_EPOCHS = 3


@torch.no_grad()
def score_sessions(model: SessionNet, images: dict, pids: list, device: torch.device) -> np.ndarray:
    """One logit per participant from the whole session -> (n,) logits."""
    model.eval()
    # torch.tensor copies: a cached session is a read-only memory map
    return np.asarray([float(model(torch.tensor(images[pid][None], device=device))[0]) for pid in pids])


def score(model, images: dict, pids: list, params: Params, device: torch.device, max_clips: int = 0) -> np.ndarray:
    """Participants' logits as ``model.scope`` defines them (session: the whole session; clip: the
    mean over its clips, ``max_clips`` evenly spaced ones when > 0)."""
    if params.model.scope == "session":
        return score_sessions(model, images, pids, device)
    return score_participants(model, images, pids, params.model.clip_windows, device, max_clips=max_clips)


def sample_batches(n_train: int, per_participant: int, batch_size: int, rng: np.random.Generator):
    """One epoch's examples: each training participant ``per_participant`` times, shuffled, in
    batches of ``batch_size`` indices."""
    order = rng.permutation(np.repeat(np.arange(n_train), per_participant))
    return [order[b:b + batch_size] for b in range(0, len(order), batch_size)]


def sample_clips(sessions: list, K: int, layout: RowLayout | None, rng: np.random.Generator) -> np.ndarray:
    """One random clip of K consecutive windows from each session -> (B, K, C, R, W); with a
    ``layout`` (landmark window images) half of them mirrored left-right (a signal-preserving
    augmentation)."""
    clips = []
    for imgs in sessions:
        imgs = _pad(imgs, K)
        s = rng.integers(0, len(imgs) - K + 1)
        clips.append(imgs[s:s + K])
    return _mirror_half(np.stack(clips), layout, rng)  # (B, K, C, R, W)


def sample_spans(sessions: list, span: int, layout: RowLayout | None, rng: np.random.Generator) -> np.ndarray:
    """One random contiguous span from each session -> (B, L, C, R, W), L drawn once per batch
    between half and all of min(``span``, the shortest session's windows); with a ``layout``
    (landmark window images) half of the spans mirrored left-right. The pooled statistics are
    per-window averages and extremes, so a span is a smaller sample of the same session."""
    longest = min(span, min(len(s) for s in sessions))
    L = int(rng.integers((longest + 1) // 2, longest + 1))
    batch = np.stack([s[start:start + L] for s in sessions for start in [rng.integers(0, len(s) - L + 1)]])
    return _mirror_half(batch, layout, rng)


def _mirror_half(batch: np.ndarray, layout: RowLayout | None, rng: np.random.Generator) -> np.ndarray:
    """(B, T, C, R, W) with each example mirrored left-right with probability 1/2 when ``layout``
    (landmark window images) is given; unchanged (no draw) otherwise."""
    if layout is not None:
        flip = rng.random(len(batch)) < 0.5
        batch[flip] = mirror_images(batch[flip], layout)
    return batch


def train_epoch(model, opt, images: dict, train_ids: list, y_train: np.ndarray, params: Params,
                pos_weight: float, layout: RowLayout | None, rng: np.random.Generator, device: torch.device) -> float:
    """One epoch: random clips (clip scope) or spans (session scope) of every training
    participant, ``clips_per_participant`` times each; the mean training loss."""
    t, K = params.train, params.model.clip_windows
    model.train()
    losses = []
    for idx in sample_batches(len(train_ids), t.clips_per_participant, t.batch_size, rng):
        sessions = [images[train_ids[i]] for i in idx]
        batch = (sample_spans(sessions, t.span_windows, layout, rng) if params.model.scope == "session"
                 else sample_clips(sessions, K, layout, rng))
        x = torch.from_numpy(batch).to(device)
        y = torch.from_numpy(y_train[idx]).to(device)
        opt.zero_grad()
        loss = regression_loss(model(x), y) if params.model.task == "regression" else loss_fn(model(x), y, pos_weight)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return float(np.mean(losses))


class EpochSelector:
    """Early stopping on inner-validation loss: keeps the state of the epoch with the lowest
    trailing mean over :data:`SMOOTH_EPOCHS` epochs; ``stop`` after ``patience`` epochs without
    improvement."""

    def __init__(self, patience: int):
        self.patience, self.losses = patience, []
        self.best, self.best_epoch, self.state, self.waited = np.inf, 0, None, 0

    def update(self, epoch: int, val_loss: float, model: CNNLSTM) -> bool:
        """Record an epoch; True when training should stop."""
        self.losses.append(val_loss)
        score = float(np.mean(self.losses[-SMOOTH_EPOCHS:]))
        if score < self.best - 1e-4:
            self.best, self.best_epoch, self.waited = score, epoch, 0
            self.state = copy.deepcopy(model.state_dict())
            return False
        self.waited += 1
        return self.waited >= self.patience


def _fit(images: dict, train_ids: list, val_ids: list, y_train: np.ndarray, pos_weight: float, params: Params,
         seed: int, device: torch.device, progress, val_loss, val_macro_f1) -> tuple:
    """What both tasks share: the network seeded and its input scaling fitted on the inner-training
    participants, epochs of :func:`train_epoch` until :class:`EpochSelector` stops on the
    inner-validation loss (``val_loss(outputs)``; ``val_macro_f1(outputs)`` for the history), the
    chosen epoch's weights loaded. Returns (model, selector, history)."""
    t = params.train
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = model_from_params(params.model, images[train_ids[0]].shape[1:])
    set_input_scaling(model, [images[p] for p in train_ids])  # inner-training participants only
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)
    layout = RowLayout.of(params.encode)  # landmark window images mirror; series and frame images do not
    mirror = t.mirror and params.encode.layout == "window" and layout.holds(images[train_ids[0]].shape)
    selector, history = EpochSelector(t.patience), []
    for epoch in range(1, t.epochs + 1):
        train_loss = train_epoch(model, opt, images, train_ids, y_train, params, pos_weight,
                                 layout if mirror else None, rng, device)
        val_out = score(model, images, val_ids, params, device, max_clips=t.val_clips)
        loss = float(val_loss(val_out))
        history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": loss, "val_macro_f1": val_macro_f1(val_out)})
        if progress is not None:
            progress.set_postfix(epoch=epoch, val_loss=f"{loss:.3f}")
        if selector.update(epoch, loss, model):
            break
    model.load_state_dict(selector.state)
    return model, selector, history


def train_model(images: dict, labels: dict, train_ids: list, val_ids: list, params: Params, seed: int,
                device: torch.device, progress=None) -> Trained:
    """Fit on ``train_ids``, choose epoch, threshold (and Platt map) on ``val_ids`` (both inner, never test).
    ``labels``: {participant_id: 0/1}, or with ``model.task: regression`` {participant_id: PHQ-8 score}."""
    if params.model.task == "regression":
        return train_regression(images, labels, train_ids, val_ids, params, seed, device, progress)
    y_train = np.array([labels[p] for p in train_ids], dtype=np.float32)
    pos_weight = float((len(y_train) - y_train.sum()) / max(1.0, float(y_train.sum())))  # once per fold, inner-train only
    y_val = np.array([labels[p] for p in val_ids])
    model, selector, history = _fit(
        images, train_ids, val_ids, y_train, pos_weight, params, seed, device, progress,
        lambda logits: loss_fn(torch.from_numpy(logits).float(), torch.from_numpy(y_val).float(), pos_weight),
        lambda logits: macro_f1(y_val, (logits >= 0).astype(int)))
    val_logits = score(model, images, val_ids, params, device)
    platt = fit_platt(val_logits, y_val) if params.train.calibration == "platt" else (1.0, 0.0)
    trained = Trained(model, selector.best_epoch, 0.5, history, pos_weight, platt)
    trained.threshold = best_threshold(y_val, trained.probability(val_logits))
    return trained


def train_regression(images: dict, scores: dict, train_ids: list, val_ids: list, params: Params, seed: int,
                     device: torch.device, progress=None) -> Trained:
    """:func:`train_model` for ``model.task: regression``: ``scores`` {participant_id: PHQ-8 score};
    the same network, sampling, seeds and epoch choice (on the inner-validation Huber loss); no
    threshold or calibration (``threshold`` is the screen's cut-off, 10, on the predicted score)."""
    raw_train = np.array([scores[p] for p in train_ids], dtype=float)
    scale = score_scale(raw_train)  # once per fold, inner-train only
    z_train = ((raw_train - scale[0]) / scale[1]).astype(np.float32)
    raw_val = np.array([scores[p] for p in val_ids], dtype=float)
    z_val = torch.from_numpy((raw_val - scale[0]) / scale[1]).float()
    model, selector, history = _fit(
        images, train_ids, val_ids, z_train, 1.0, params, seed, device, progress,
        lambda out: regression_loss(torch.from_numpy(out).float(), z_val),
        lambda out: macro_f1((raw_val >= SCREEN_CUTOFF).astype(int),
                             (predicted_score(out, scale) >= SCREEN_CUTOFF).astype(int)))
    return Trained(model, selector.best_epoch, SCREEN_CUTOFF, history, 1.0, (1.0, 0.0), scale)
