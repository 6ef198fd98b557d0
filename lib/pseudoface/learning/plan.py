"""What a cross-validation is about to run and how long it will take: the plan line printed before
the first fold, the projection of one fold's training before any has finished, threads per fold,
and the progress bar that redoes the projection from the first finished fold. The executors
(:mod:`executor`) run the folds; this module only describes and times them.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

# Rough cost of one clip-window through the network and back, per training clip and epoch, on one
# core (benchmarks/bench_cv.py's real-corpus defaults): only for the projection printed before the
# first fold has finished; the projection is then redone from the folds' measured times.
SECONDS_PER_CLIP_WINDOW = 0.0012


@dataclass
class Plan:
    """What is about to run: printed before the first fold starts."""
    jobs: int
    workers: int
    threads: int
    executor: str
    where: str
    per_fold_s: float  # projected seconds of one fold training
    runs: int = 1
    reused: list = field(default_factory=list)

    def projected_s(self) -> float:
        return math.ceil(self.jobs / max(1, self.workers)) * self.per_fold_s

    def text(self) -> str:
        from .intervals import count_text
        runs = f" in {count_text(self.runs, 'run')}" if self.runs > 1 else ""
        return (f"plan: {count_text(self.jobs, 'fold training')}{runs} on {count_text(self.workers, 'worker')} "
                f"({self.executor}: {self.where}; {count_text(self.threads, 'thread')} each); projected wall time ~{duration_text(self.projected_s())} "
                "(a rough estimate until the first fold finishes)")


def duration_text(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def fold_threads(params) -> int:
    """Threads (and Ray CPUs) per fold training: ``train.threads``, or 1 per Ray task when 0; 0
    in-process means torch's default (this machine's cores)."""
    return params.train.threads or (1 if params.cv.executor == "ray" else 0)


def projected_fold_seconds(params, n_participants: int, image_shape: tuple) -> float:
    """A rough upper bound for one fold training (every epoch run) before any fold has finished."""
    t = params.train
    n_train = n_participants * (1 - 1 / max(2, params.cv.folds)) * (1 - t.inner_val_fraction)
    pixels = math.prod(image_shape) / (6 * 70 * 60)  # relative to the 68-landmark window image (bench_cv measured it)
    clips = n_train * t.clips_per_participant + n_participants * t.inner_val_fraction * max(1, t.val_clips) / 3
    # windows per training example: a clip, or a span of half to all of span_windows (3/4 on average)
    windows = params.model.clip_windows if params.model.scope == "clip" else 0.75 * t.span_windows
    return 2.0 + SECONDS_PER_CLIP_WINDOW * t.epochs * clips * windows * pixels


class Progress:
    """tqdm over folds, the plan line before it, and the projection redone after the first finished
    fold (all silent when not ``enabled``: notebooks)."""

    def __init__(self, plan: Plan, desc: str, enabled: bool):
        from tqdm import tqdm  # text bars (tqdm.auto wants ipywidgets inside notebooks)
        self.plan, self.enabled, self.started, self.first = plan, enabled, time.perf_counter(), True
        if enabled:
            print(plan.text(), flush=True)
        self.bar = tqdm(total=plan.jobs, desc=desc, disable=None if enabled else True)

    def done(self, seconds: float) -> None:
        self.bar.update(1)
        if self.first and self.enabled and self.plan.jobs > 1:
            left = self.plan.jobs - 1
            projected = math.ceil(left / max(1, self.plan.workers)) * seconds + (time.perf_counter() - self.started)
            self.bar.write(f"plan: the first fold took {duration_text(seconds)}; projected wall time now "
                           f"~{duration_text(projected)} in all")
        self.first = False

    def close(self) -> None:
        self.bar.close()
