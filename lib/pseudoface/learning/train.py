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

from ..encoding.encode import RowLayout, mirror_images
from .model import CNNLSTM, SessionNet, model_from_params, set_input_scaling
from ..params import Params
from .task import ProbabilityRule, ScoreRule, task_of


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
    history: list  # dicts: epoch, train_loss, val_loss, val_macro_f1
    rule: ProbabilityRule | ScoreRule  # how the model's outputs become a score and a screen (the task's)


def _pad(images: np.ndarray, K: int) -> np.ndarray:
    if len(images) >= K:
        return images
    return np.concatenate([images, np.repeat(images[-1:], K - len(images), axis=0)])


def eval_clips(images: np.ndarray, K: int) -> np.ndarray:
    """(N, C, R, W) -> (M, K, C, R, W) non-overlapping clips covering the session."""
    images = _pad(images, K)
    starts = range(0, len(images) - K + 1, K)
    return np.stack([images[s:s + K] for s in starts])


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
                loss_of, layout: RowLayout | None, rng: np.random.Generator, device: torch.device) -> float:
    """One epoch: random clips (clip scope) or spans (session scope) of every training
    participant, ``clips_per_participant`` times each, ``loss_of(outputs, targets)`` (the task's
    :class:`task.Objective` loss); the mean training loss."""
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
        loss = loss_of(model(x), y)
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


def train_model(images: dict, targets: dict, train_ids: list, val_ids: list, params: Params, seed: int,
                device: torch.device, progress=None) -> Trained:
    """Fit on ``train_ids``, choose the epoch and the decision rule on ``val_ids`` (both inner, never
    test). ``targets``: {participant_id: what the task fits} (``model.task``: 0/1 labels or PHQ-8
    scores); the loss, the epoch-selection loss and the rule are the task's (:mod:`task`).

    The network is seeded and its input scaling fitted on the inner-training participants; epochs of
    :func:`train_epoch` run until :class:`EpochSelector` stops on the inner-validation loss; the
    chosen epoch's weights are loaded."""
    t = params.train
    objective = task_of(params).objective(targets, train_ids, val_ids)
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
        train_loss = train_epoch(model, opt, images, train_ids, objective.targets, params, objective.loss,
                                 layout if mirror else None, rng, device)
        val_out = score(model, images, val_ids, params, device, max_clips=t.val_clips)
        loss = float(objective.val_loss(val_out))
        history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": loss,
                        "val_macro_f1": objective.val_macro_f1(val_out)})
        if progress is not None:
            progress.set_postfix(epoch=epoch, val_loss=f"{loss:.3f}")
        if selector.update(epoch, loss, model):
            break
    model.load_state_dict(selector.state)
    rule = objective.rule(lambda: score(model, images, val_ids, params, device), params)
    return Trained(model, selector.best_epoch, history, rule)
