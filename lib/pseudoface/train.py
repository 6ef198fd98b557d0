"""Training one model on one (inner) split: clip sampling, losses on logits, early stopping.

- Training: each epoch draws ``clips_per_participant`` random clips of K consecutive windows per
  participant, labelled by the participant (optionally class-balanced sampling instead); with
  ``session_clips`` = M > 1 an example is M clips of one participant and the loss is on their mean
  logit (what scoring computes), the clips per step and per epoch staying the same.
- Scoring: a participant's score is the mean logit over all its non-overlapping K-window clips
  (a participant with fewer than K windows gives one clip, padded by repeating its last window);
  probability = sigmoid(mean logit).
- Losses on logits: ``weighted_bce`` (pos_weight = N_neg / N_pos of the inner-train
  participants, computed once), ``focal`` (gamma), ``bce_focal`` (the seed's sum of both).
- The epoch is chosen by inner-validation loss with patience (per epoch on up to ``val_clips``
  evenly spaced clips per participant, for speed on long sessions; optionally the mean over the
  last ``smooth_epochs`` epochs); an optional Platt map of logits (``calibration: platt``) and the
  threshold (``threshold_rule``) are fitted on inner-validation scores only. Input scaling
  constants (``model.input_scaling``) come from the inner-training participants. The outer test
  fold never reaches this module.
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

from .encode import mirror_images
from .evaluate import best_threshold, macro_f1
from .model import CNNLSTM, model_from_params, set_input_scaling
from .params import Params, ParamsError


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

    def probability(self, logits: np.ndarray) -> np.ndarray:
        return expit(self.platt[0] * np.asarray(logits) + self.platt[1])


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


def check_protocol(params: Params) -> None:
    t = params.train
    if t.balanced_sampling and t.loss in ("weighted_bce", "bce_focal"):
        raise ParamsError("train.balanced_sampling: cannot be combined with a pos_weight loss "
                          f"(train.loss: {t.loss}); use train.loss: focal or switch sampling off")
    m = params.model
    if m.stem == "rows" and m.row_bins > 1:  # one row is left after a first layer that spans them all
        raise ParamsError(f"model.row_bins: {m.row_bins} bands of rows cannot follow model.stem: rows (its first "
                          "convolution spans every row, leaving one); set row_bins: 1 or stem: square")


def _pad(images: np.ndarray, K: int) -> np.ndarray:
    if len(images) >= K:
        return images
    return np.concatenate([images, np.repeat(images[-1:], K - len(images), axis=0)])


def eval_clips(images: np.ndarray, K: int) -> np.ndarray:
    """(N, C, R, W) -> (M, K, C, R, W) non-overlapping clips covering the session."""
    images = _pad(images, K)
    starts = range(0, len(images) - K + 1, K)
    return np.stack([images[s:s + K] for s in starts])


def loss_fn(logits: torch.Tensor, y: torch.Tensor, params: Params, pos_weight: float) -> torch.Tensor:
    t = params.train
    pw = torch.tensor(pos_weight, dtype=logits.dtype, device=logits.device)
    bce = F.binary_cross_entropy_with_logits(logits, y, pos_weight=pw)
    if t.loss == "weighted_bce":
        return bce
    p = torch.sigmoid(logits)
    pt = torch.where(y > 0.5, p, 1 - p)
    focal = ((1 - pt) ** t.focal_gamma * F.binary_cross_entropy_with_logits(logits, y, reduction="none")).mean()
    return focal if t.loss == "focal" else bce + focal


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


def choose_threshold(rule: str, y_val: np.ndarray, p_val: np.ndarray, prevalence: float) -> float:
    if rule == "0.5":
        return 0.5
    if rule == "prevalence":  # predict the inner-train prevalence as positive on inner validation
        return float(np.quantile(p_val, 1 - prevalence)) if len(p_val) else 0.5
    return best_threshold(y_val, p_val)


def train_model(images: dict, labels: dict, train_ids: list, val_ids: list, params: Params, seed: int,
                device: torch.device, progress=None) -> Trained:
    """Fit on ``train_ids``, choose epoch and threshold on ``val_ids`` (both inner, never test)."""
    check_protocol(params)
    t, K = params.train, params.model.clip_windows
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = model_from_params(params.model, images[train_ids[0]].shape[1:])
    set_input_scaling(model, [images[p] for p in train_ids])  # inner-training participants only
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)
    y_train = np.array([labels[p] for p in train_ids], dtype=np.float32)
    n_pos = max(1.0, float(y_train.sum()))
    pos_weight = float((len(y_train) - y_train.sum()) / n_pos)  # once per fold, inner-train only
    loss_weight = 1.0 if t.loss == "focal" else pos_weight
    y_val = np.array([labels[p] for p in val_ids])
    best_state, best_loss, best_epoch, waited, history = None, np.inf, 0, 0, []
    smooth = max(1, t.smooth_epochs)
    shape = images[train_ids[0]].shape  # (N, C, R, W)
    e = params.encode  # landmark window images (not series): their rows are known
    rows = 68 * e.landmark_rows + 2 * e.include_pose + 2 * e.geometry_rows
    mirror = t.mirror and e.layout == "window" and shape[1] in (3, 6) and shape[2] == rows
    for epoch in range(1, t.epochs + 1):
        model.train()
        M = max(1, t.session_clips)
        per_participant = max(1, t.clips_per_participant // M)  # examples of M clips each
        if t.balanced_sampling:
            w = np.where(y_train > 0.5, 0.5 / n_pos, 0.5 / max(1.0, len(y_train) - y_train.sum()))
            order = rng.choice(len(train_ids), size=len(train_ids) * per_participant, p=w / w.sum())
        else:
            order = rng.permutation(np.repeat(np.arange(len(train_ids)), per_participant))
        losses = []
        per_step = max(1, t.batch_size // M)  # examples per step: the same clips per step for any M
        for b in range(0, len(order), per_step):
            idx = order[b:b + per_step]
            clips = []
            for i in idx:
                imgs = _pad(images[train_ids[i]], K)
                for s in rng.integers(0, len(imgs) - K + 1, size=M) if M > 1 else [rng.integers(0, len(imgs) - K + 1)]:
                    clips.append(imgs[s:s + K])
            batch = np.stack(clips)  # (B * M, K, C, R, W)
            if mirror:  # half the clips mirrored left-right (signal-preserving augmentation)
                flip = rng.random(len(batch)) < 0.5
                batch[flip] = mirror_images(batch[flip], e.include_pose, e.landmark_rows)
            x = torch.from_numpy(batch).to(device)
            y = torch.from_numpy(y_train[idx]).to(device)
            opt.zero_grad()
            logits = model(x).reshape(len(idx), M).mean(1)  # mean logit per example, as in scoring
            loss = loss_fn(logits, y, params, loss_weight)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        val_logits = score_participants(model, images, val_ids, K, device, max_clips=t.val_clips)
        val_loss = float(loss_fn(torch.from_numpy(val_logits).float(), torch.from_numpy(y_val).float(),
                                 params, loss_weight))
        val_f1 = macro_f1(y_val, (val_logits >= 0).astype(int))
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "val_loss": val_loss,
                        "val_macro_f1": val_f1})
        if progress is not None:
            progress.set_postfix(epoch=epoch, val_loss=f"{val_loss:.3f}")
        score = float(np.mean([h["val_loss"] for h in history[-smooth:]]))  # trailing mean
        if score < best_loss - 1e-4:
            best_loss, best_epoch, waited = score, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            waited += 1
            if waited >= t.patience:
                break
    model.load_state_dict(best_state)
    val_logits = score_participants(model, images, val_ids, K, device)
    platt = fit_platt(val_logits, y_val) if t.calibration == "platt" else (1.0, 0.0)
    trained = Trained(model, best_epoch, 0.5, history, pos_weight, platt)
    trained.threshold = choose_threshold(t.threshold_rule, y_val, trained.probability(val_logits), float(y_train.mean()))
    return trained
