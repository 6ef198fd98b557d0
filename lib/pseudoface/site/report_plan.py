"""What ``pseudoface report`` is about to run, said before it runs: the fold trainings of a dataset's
report (the main run, the comparison variants, the PHQ-8 regression, the shuffled-label sanity run),
where they run and a rough projection of their time from the image shape the params encode."""
from __future__ import annotations

import os

from ..params import Params


def planned_image_shape(params: Params, series: int = 0) -> tuple[int, int, int]:
    """(C, R, W) of one pseudo-image the params encode, before any is encoded: the window layout's
    rows from :class:`encode.RowLayout` (the default compact image: 6 x 4 x 60), or ``series`` rows
    of 2 channels for a corpus of per-frame series (E-DAIC); the frame layout's (3, 68, 3) or resized
    (3, S, S) frame."""
    from ..encoding.encode import RowLayout
    e = params.encode
    if e.layout == "frame":
        return (3, e.frame_size, e.frame_size) if e.frame_size else (3, 68, 3)
    steps = int(round(e.window_seconds * params.normalise.target_fps))  # the encoder's window at target_fps
    return (2, series, steps) if series else (6, RowLayout.of(e).rows, steps)  # X, Y, Z + their velocities


def report_plan(params: Params, participants: int, series: int = 0) -> str:
    """The report's fold trainings, each counted (the main run, each comparison variant and the
    PHQ-8 regression run, unless reused; the shuffled-label sanity run), where they run (``--ray``
    passes ``cv.executor``/``cv.ray_address`` to the notebooks' runs) and a rough projection from
    each run's image shape (``series``: see :func:`planned_image_shape`); notebook 03 runs them (on
    Ray: the variants' folds as one pool)."""
    from ..learning.cv import comparison_variants
    from ..params import derive
    from ..learning.plan import duration_text, fold_threads, projected_fold_seconds
    variants = ([derive(params, overrides) for overrides in comparison_variants(not series, params.dataset).values() if overrides]
                if params.report.comparisons else [])  # the default is the main run
    regression = params.report.regression and params.model.task == "binary"  # notebook 03's companion run
    names = ["the main run"] + ([f"{len(variants)} comparison variant{'s' * (len(variants) != 1)}"] if variants else []) + (
        ["the PHQ-8 regression"] if regression else [])
    runs = 1 + len(variants) + regression
    first_repeat = params.cv.folds if params.cv.protocol == "cv" else 2
    folds = params.cv.repeats * first_repeat
    shuffled_folds = params.cv.shuffled_labels * first_repeat  # notebook 03's sanity run: the first repeat's folds
    threads = fold_threads(params)
    if params.cv.executor == "ray" and params.cv.ray_address:
        where, workers = f"Ray cluster at {params.cv.ray_address}: as many at once as its CPUs allow", None
    elif params.cv.executor == "ray":
        workers = max(1, (os.cpu_count() or 1) // threads)
        where = f"a local Ray: {workers} at once, {threads} thread{'s' * (threads != 1)} each"
    else:
        where, workers = "in the notebook's process, one after another", 1
    projection = ""
    if workers:
        def per_fold(p: Params) -> float:
            return projected_fold_seconds(p, participants, planned_image_shape(p, series))
        # the main run (and the regression run, the same network and folds) first, then the variants
        # (one pool on Ray), then the sanity run
        seconds = (1 + regression) * -(-folds // workers) * per_fold(params)
        if variants:
            seconds += -(-(folds * len(variants)) // workers) * sum(map(per_fold, variants)) / len(variants)
        seconds += -(-(shuffled_folds) // workers) * per_fold(params)
        projection = f"; projected ~{duration_text(seconds)} if none is reused (rough)"
    sanity = (f" + {shuffled_folds} for the shuffled-label sanity run ({params.cv.shuffled_labels} permutation{'s' * (params.cv.shuffled_labels != 1)} "
              f"x {first_repeat} folds of the first repeat)" if shuffled_folds else "")
    return (f"plan: up to {runs * folds + shuffled_folds} fold trainings ({runs} run{'s' * (runs != 1)} x {folds}: "
            f"{', '.join(names)}){sanity}, {where}{projection}")
