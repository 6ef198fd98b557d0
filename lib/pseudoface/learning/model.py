"""The networks: a small CNN encodes each pseudo-image; an LSTM runs over a clip of K of them
(:class:`CNNLSTM`, ``model.scope: clip``, the paper's design) or over every window of a session
(:class:`SessionNet`, ``model.scope: session``); one logit.

Presets:
- ``seed``: the paper's network as its code builds it: conv 3x3 32/64/128 with ReLU, max-pool
  after the first two, global average pool, LSTM(128), dropout, Linear(128 -> 1); 225,473
  parameters with 3 input channels.
- ``light`` (the default; called ``default`` until the session network became the default
  network): a lighter network for the window layout: conv 3x3 16/32/48 with batch norm and
  ReLU, max-pool after the first two, global average pool, LSTM(32), dropout, Linear(32 -> 1).
  With the default params its inputs are standardised per row (below) and the clip is summarised
  by the mean of the LSTM's states (``model.pooling: mean``); the seed comparison keeps the paper's
  last state and raw inputs. :class:`SessionNet` runs this preset's CNN over every window.

Presets and ``model.pooling`` concern ``model.scope: clip`` only; the default network (``model.scope:
session``) is :class:`SessionNet`.

Optional input standardisation (``rows`` given): each (channel, row) of a pseudo-image is shifted
and scaled by constants held as buffers (saved in the checkpoint, not trained), set by
:func:`set_input_scaling` from the training participants only. The window layout maps every row
to [0, 1] on one fixed physical range, so the face rows' small movements sit within a few
hundredths of 0.5 while the pose rows span more; per-row constants put every row on one footing
without touching between-person differences in amplitude (one constant per row for the corpus).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

PRESETS = {
    "seed": {"channels": (32, 64, 128), "hidden": 128, "batch_norm": False},
    "light": {"channels": (16, 32, 48), "hidden": 32, "batch_norm": True},
}


def window_cnn(in_channels: int, cfg: dict, global_pool: bool = True) -> nn.Sequential:
    """conv 3x3 per ``cfg["channels"]`` (+ batch norm) + ReLU, max-pool between, and a global
    average pool: (B, C, R, W) -> (B, F, 1, 1), F = the last channel count; without
    ``global_pool`` the last feature map (B, F, r, w)."""
    n = len(cfg["channels"])
    layers, c_in = [], in_channels
    for i, c_out in enumerate(cfg["channels"]):
        layers.append(nn.Conv2d(c_in, c_out, kernel_size=3, padding=1))
        if cfg["batch_norm"]:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(nn.ReLU(inplace=True))
        if i < n - 1:
            layers.append(nn.MaxPool2d(2, ceil_mode=True))
        c_in = c_out
    if global_pool:
        layers.append(nn.AdaptiveAvgPool2d((1, 1)))  # rows and time averaged away
    # channels-last convolution weights: ~30% faster training and ~35% faster inference on CPU
    # (measured, 2 cores); numerically the same network
    return nn.Sequential(*layers).to(memory_format=torch.channels_last)


class _Scaled(nn.Module):
    """Optional per-(channel, row) input standardisation held as buffers (see module docstring)."""

    def _init_scaling(self, in_channels: int, rows: int | None) -> None:
        self.scaled = rows is not None
        if self.scaled:  # (C, R, 1) per-row constants, identity until set_input_scaling
            self.register_buffer("input_shift", torch.zeros(in_channels, rows, 1))
            self.register_buffer("input_scale", torch.ones(in_channels, rows, 1))

    def _scale(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.input_shift) / self.input_scale if self.scaled else x


class CNNLSTM(_Scaled):
    def __init__(self, in_channels: int = 3, preset: str = "light", dropout: float = 0.5, rows: int | None = None):
        super().__init__()
        cfg = PRESETS[preset]
        self._init_scaling(in_channels, rows)
        self.cnn = window_cnn(in_channels, cfg)
        self.lstm = nn.LSTM(cfg["channels"][-1], cfg["hidden"], batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(cfg["hidden"], 1)

    pooling = "last"  # "last": the LSTM's final state; "mean": the mean of its states over the clip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.embed(x)[1])).squeeze(-1)  # (B,) logits

    def embed(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, K, C, H, W) clips -> (window features (B, K, F), clip summary (B, hidden)): what the head reads."""
        B, K, C, H, W = x.shape  # K pseudo-images per clip
        x = self._scale(x)
        feats = self.cnn(x.reshape(B * K, C, H, W)).reshape(B, K, -1)  # (B, K, F)
        seq, _ = self.lstm(feats)  # (B, K, hidden)
        return feats, (seq.mean(dim=1) if self.pooling == "mean" else seq[:, -1])


class SessionNet(_Scaled):
    """A whole session (or a contiguous span of it) -> one logit.

    Every window goes through the light preset's CNN (shared weights), its last feature map
    pooled by both mean and max (a short event inside a window shows in the max, which an average
    over the window's 4 s dilutes) -> (T, 2 x 48). A bidirectional LSTM runs over the session's
    windows -> (T, 2 x 32); the sequence is
    pooled four ways that can
    express what a clip network cannot: the mean (how often a window holds an event: a rate), the
    SD (how variable), the max (the strongest event) and a learned attention average (which
    moments matter) -> (4 x 64); dropout; Linear -> 1. Every pooling is a statistic over the
    windows, so a session of any length gives one logit, and a span is a smaller sample of it."""

    def __init__(self, in_channels: int, dropout: float = 0.5, rows: int | None = None, hidden: int = 32):
        super().__init__()
        cfg = PRESETS["light"]
        self._init_scaling(in_channels, rows)
        self.cnn = window_cnn(in_channels, cfg, global_pool=False)  # pooled by mean and max below
        self.lstm = nn.LSTM(2 * cfg["channels"][-1], hidden, batch_first=True, bidirectional=True)
        self.attention = nn.Linear(2 * hidden, 1)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(8 * hidden, 1)

    def window_features(self, x: torch.Tensor, chunk: int = 256) -> torch.Tensor:
        """(B, T, C, R, W) -> (B, T, F), the CNN run over at most ``chunk`` windows at a time
        (memory stays bounded for a 16-minute session's ~480 windows when scoring)."""
        B, T = x.shape[:2]
        flat = self._scale(x).reshape(B * T, *x.shape[2:])

        def pooled(maps: torch.Tensor) -> torch.Tensor:  # (n, F, r, w) -> (n, 2F)
            return torch.cat([maps.mean(dim=(2, 3)), maps.amax(dim=(2, 3))], dim=1)
        feats = torch.cat([pooled(self.cnn(flat[i:i + chunk])) for i in range(0, B * T, chunk)])
        return feats.reshape(B, T, -1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, C, R, W) -> (B, 8 x hidden): the session embedding the head reads."""
        return self.embed_windows(self.window_features(x))

    def embed_windows(self, feats: torch.Tensor) -> torch.Tensor:
        """(B, T, F) window features -> (B, 8 x hidden) session embedding."""
        seq, _ = self.lstm(feats)  # (B, T, 2H)
        weights = torch.softmax(self.attention(seq), dim=1)  # (B, T, 1)
        sd = seq.std(dim=1, unbiased=False) if seq.shape[1] > 1 else torch.zeros_like(seq[:, 0])
        return torch.cat([seq.mean(dim=1), sd, seq.amax(dim=1), (weights * seq).sum(dim=1)], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.embed(x))).squeeze(-1)  # (B,) logits


def model_from_params(model_params, input_shape) -> nn.Module:
    """The network ``params.model`` describes, for inputs of shape (C, R, W)."""
    C, R, _ = input_shape
    if model_params.scope == "session":
        return SessionNet(C, model_params.dropout, rows=R if model_params.input_scaling else None)
    model = CNNLSTM(C, model_params.preset, model_params.dropout, rows=R if model_params.input_scaling else None)
    model.pooling = model_params.pooling
    return model


@torch.no_grad()
def set_input_scaling(model: _Scaled, images: list) -> None:
    """Per-(channel, row) mean and SD over every window and time step of ``images`` (a list of
    (N, C, R, W) arrays of the training participants, each weighted equally) into the model's buffers."""
    if not model.scaled:
        return
    means = np.stack([np.mean(a, axis=(0, 3), dtype=np.float64) for a in images])  # (P, C, R)
    sq = np.stack([np.mean(np.square(a, dtype=np.float64), axis=(0, 3)) for a in images])  # (P, C, R)
    mean = means.mean(0)
    sd = np.maximum(np.sqrt(np.maximum(sq.mean(0) - mean ** 2, 0)), 1e-3)  # a constant row stays as it is
    model.input_shift.copy_(torch.from_numpy(mean[..., None]).float())
    model.input_scale.copy_(torch.from_numpy(sd[..., None]).float())


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def pick_device(choice: str = "auto") -> torch.device:
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")
