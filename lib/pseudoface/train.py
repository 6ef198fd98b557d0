"""Training one model on one (inner) split: clip sampling, losses on logits, early stopping.

- Training: each epoch draws ``clips_per_participant`` random clips of K consecutive windows per
  participant, labelled by the participant (optionally class-balanced sampling instead).
- Scoring: a participant's score is the mean logit over all its non-overlapping K-window clips
  (a participant with fewer than K windows gives one clip, padded by repeating its last window);
  probability = sigmoid(mean logit).
- Losses on logits: ``weighted_bce`` (pos_weight = N_neg / N_pos of the inner-train
  participants, computed once), ``focal`` (gamma), ``bce_focal`` (the seed's sum of both).
- The epoch is chosen by inner-validation loss with patience (per epoch on up to ``val_clips``
  evenly spaced clips per participant, for speed on long sessions); the threshold by ``threshold_rule``
  on inner-validation scores only. The outer test fold never reaches this module.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import expit

from .evaluate import best_threshold, macro_f1
from .model import CNNLSTM
from .params import Params, ParamsError


@dataclass
class Trained:
    model: CNNLSTM
    best_epoch: int
    threshold: float
    history: list  # dicts: epoch, train_loss, val_loss, val_macro_f1
    pos_weight: float


def check_protocol(params: Params) -> None:
    t = params.train
    if t.balanced_sampling and t.loss in ("weighted_bce", "bce_focal"):
        raise ParamsError("train.balanced_sampling: cannot be combined with a pos_weight loss "
                          f"(train.loss: {t.loss}); use train.loss: focal or switch sampling off")


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
    in_channels = images[train_ids[0]].shape[1]
    model = CNNLSTM(in_channels, params.model.preset, params.model.dropout).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)
    y_train = np.array([labels[p] for p in train_ids], dtype=np.float32)
    n_pos = max(1.0, float(y_train.sum()))
    pos_weight = float((len(y_train) - y_train.sum()) / n_pos)  # once per fold, inner-train only
    loss_weight = 1.0 if t.loss == "focal" else pos_weight
    y_val = np.array([labels[p] for p in val_ids])
    best_state, best_loss, best_epoch, waited, history = None, np.inf, 0, 0, []
    for epoch in range(1, t.epochs + 1):
        model.train()
        if t.balanced_sampling:
            w = np.where(y_train > 0.5, 0.5 / n_pos, 0.5 / max(1.0, len(y_train) - y_train.sum()))
            order = rng.choice(len(train_ids), size=len(train_ids) * t.clips_per_participant, p=w / w.sum())
        else:
            order = rng.permutation(np.repeat(np.arange(len(train_ids)), t.clips_per_participant))
        losses = []
        for b in range(0, len(order), t.batch_size):
            idx = order[b:b + t.batch_size]
            clips = []
            for i in idx:
                imgs = _pad(images[train_ids[i]], K)
                s = rng.integers(0, len(imgs) - K + 1)
                clips.append(imgs[s:s + K])
            x = torch.from_numpy(np.stack(clips)).to(device)  # (B, K, C, R, W)
            y = torch.from_numpy(y_train[idx]).to(device)
            opt.zero_grad()
            loss = loss_fn(model(x), y, params, loss_weight)
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
        if val_loss < best_loss - 1e-4:
            best_loss, best_epoch, waited = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            waited += 1
            if waited >= t.patience:
                break
    model.load_state_dict(best_state)
    p_val = expit(score_participants(model, images, val_ids, K, device))
    threshold = choose_threshold(t.threshold_rule, y_val, p_val, float(y_train.mean()))
    return Trained(model, best_epoch, threshold, history, pos_weight)
