"""The project's two interval estimators, and the names they carry wherever a number is shown.

* :func:`fold_interval`: the **corrected resampled t** over outer folds (Nadeau and Bengio, 2003;
  Bouckaert and Frank, 2004, for repeats). The interval of every headline number (a model's mean
  macro-F1 over folds, a regression metric's mean over folds) and of every difference between two
  models (the mean of per-fold paired differences). ``metrics.json`` stores it as
  ``ci95_corrected_t``; pages, the terminal and the TRIPOD+AI items print it as
  "95% CI lo to hi, corrected resampled t".
* :func:`bootstrap_ci`: the **pooled participant bootstrap**: the percentile interval of a statistic
  of the pooled out-of-fold predictions of the first repeat, participants resampled with
  replacement. Kept in ``metrics.json`` as ``ci95_pooled_bootstrap`` beside ``pooled`` (the value it
  is the interval of); no page shows it.

Both take plain arrays; nothing here knows a run's layout.
"""
from __future__ import annotations

import math

import numpy as np

CORRECTED_T = "corrected resampled t"  # how a page names the fold interval
CORRECTED_T_KEY = "ci95_corrected_t"  # metrics.json: the fold interval of a mean over folds
BOOTSTRAP_KEY = "ci95_pooled_bootstrap"  # metrics.json: the interval of ``pooled`` (first repeat)
ESTIMATORS = {
    CORRECTED_T_KEY: "95% interval of the mean over outer folds: corrected resampled t (Nadeau and Bengio, 2003), "
                     "variance s² (1/J + n_test/n_train) on J − 1 degrees of freedom; the interval every page shows",
    BOOTSTRAP_KEY: "95% percentile bootstrap interval of the pooled out-of-fold value of the first repeat "
                   "(participants resampled with replacement); kept for reference, shown on no page",
}


def test_fraction(fold_sizes, n_participants: int) -> float:
    """n2 / (n1 + n2) of the corrected t: the mean outer test fold's share of the participants."""
    sizes = list(fold_sizes)
    return float(np.mean(sizes)) / max(1, n_participants) if sizes else float("nan")


def fold_interval(values, fraction: float) -> dict:
    """{mean, sd, ci95, folds} of per-fold values (or per-fold paired differences): the mean over
    folds with the corrected resampled t 95% interval, variance s² (1/J + n2/n1) on J - 1 degrees
    of freedom (``fraction`` = n2 / (n1 + n2), :func:`test_fraction`). The plain t interval over
    folds would be too narrow, since folds share training participants; scipy and scikit-learn
    have no such interval, hence these few lines. NaN values (a fold without a defined value) are
    left out; fewer than two folds give no interval (NaN)."""
    from scipy.stats import t as student
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    j = len(v)
    if j < 2 or not 0 < fraction < 1:
        return {"mean": float(v.mean()) if j else np.nan, "sd": np.nan, "ci95": [np.nan, np.nan], "folds": j}
    half = student.ppf(0.975, j - 1) * math.sqrt(v.var(ddof=1) * (1 / j + fraction / (1 - fraction)))
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)), "ci95": [float(v.mean() - half), float(v.mean() + half)],
            "folds": j}


def corrected_t_ci(values, fraction: float) -> list:
    """The ``ci95_corrected_t`` entry of ``metrics.json``: [low, high] of :func:`fold_interval`."""
    return fold_interval(values, fraction)["ci95"]


def paired_difference(a, b, fraction: float) -> dict:
    """Model a minus model b on the same folds (the same order): the mean of the per-fold
    differences (exactly the difference of the two means over folds), their SD, the differences
    themselves and the corrected t interval, as ``metrics.json`` stores it."""
    d = np.asarray(a, float) - np.asarray(b, float)
    iv = fold_interval(d, fraction)
    return {"mean": iv["mean"], "std": iv["sd"], "folds": [float(x) for x in d], CORRECTED_T_KEY: iv["ci95"]}


def number(x, digits: int = 3, sign: bool = False) -> str:
    """A number as pages print it: ``digits`` decimals (with ``sign``, '+' before a positive one), a
    typographic minus, 'n/a' when undefined."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return (f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}").replace("-", "−")


def count_text(n: int, word: str, many: str | None = None) -> str:
    """'1 permutation', '2 permutations': a count with its noun in the right number (never "(s)")."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def span_text(lo, hi, digits: int | None = None, sep: str = "–") -> str:
    """'3–7', or one number when both ends print the same ('12', never '12–12')."""
    a, b = (str(lo), str(hi)) if digits is None else (number(lo, digits), number(hi, digits))
    return a if a == b else f"{a}{sep}{b}"


UNIT = (0.0, 1.0)  # the range of macro-F1, ROC-AUC and the predicted-positive rate
DIFFERENCE = (-1.0, 1.0)  # the range of a difference between two of them


def beyond_note(ci, bounds: tuple | None) -> str:
    """' [past 1, outside the possible range: uninformative at this sample size]' when the interval
    leaves the range ``bounds`` its metric can take, else ''. The corrected t is symmetric and knows
    no limits, so with few folds it runs past them; such an interval says the data cannot tell."""
    if bounds is None or not all(math.isfinite(c) for c in ci):
        return ""
    past = [number(b, 0) for b, out in ((bounds[0], ci[0] < bounds[0]), (bounds[1], ci[1] > bounds[1])) if out]
    if not past:
        return ""
    return f" [past {' and '.join(past)}, outside the possible range: uninformative at this sample size]"


def ci_text(ci, digits: int = 3, bounds: tuple | None = None) -> str:
    """'0.579 to 0.756': how every page, the terminal and the TRIPOD+AI items print an interval; with
    ``bounds`` (the metric's range, e.g. :data:`UNIT`) the note of :func:`beyond_note` when it leaves them."""
    return f"{number(ci[0], digits)} to {number(ci[1], digits)}" + beyond_note(ci, bounds)


def headline_text(mean: float, sd: float, ci, folds: str, bounds: tuple | None = None) -> str:
    """'0.668 ± 0.047 (mean ± SD over 5 outer folds; 95% CI 0.579 to 0.756, corrected resampled t)'
    (with ``bounds``: the note of :func:`beyond_note` when the interval leaves them)."""
    return f"{number(mean)} ± {number(sd)} (mean ± SD over {folds}; 95% CI {ci_text(ci, bounds=bounds)}, {CORRECTED_T})"


# ---------------------------------------------------------------- the pooled participant bootstrap

def _bootstrap(data: tuple, statistic, n_boot: int, seed: int):
    """scipy's percentile bootstrap over participants: the arrays in ``data`` are resampled together
    (``paired=True``: one participant keeps its label and its predictions), ``n_boot`` resamples from
    a generator seeded with ``seed``. Returns (95% interval, the resampled statistics).

    Resamples holding one class only need no special case: macro-F1 is defined on them
    (``zero_division=0``: the absent class scores 0), so scipy never meets an undefined value.
    scipy refuses fewer than two participants; every resample of one participant is that
    participant, so the interval is then the point value, 0 wide."""
    from scipy.stats import bootstrap
    data = tuple(np.asarray(d) for d in data)
    if len(data[0]) < 2:
        value = float(statistic(*data))
        return [value, value], np.full(n_boot, value)
    res = bootstrap(data, statistic, n_resamples=n_boot, paired=True, vectorized=False, method="percentile",
                    confidence_level=0.95, rng=np.random.default_rng(seed))
    ci = res.confidence_interval
    return [float(ci.low), float(ci.high)], res.bootstrap_distribution


def bootstrap_ci(true: np.ndarray, pred: np.ndarray, statistic, n_boot: int, seed: int) -> list:
    """95% percentile interval of ``statistic(true, pred)`` over participants resampled with
    replacement (``true`` and ``pred`` resampled together)."""
    return _bootstrap((true, pred), statistic, n_boot, seed)[0]


def paired_bootstrap_ci(true: np.ndarray, a: np.ndarray, b: np.ndarray, statistic, n_boot: int, seed: int) -> list:
    """95% percentile interval of ``statistic(true, a) - statistic(true, b)`` over participants
    resampled with replacement, each keeping its label and both predictions (two models, or one
    model trained two ways, scored on the same participants: the cross-corpus transfer gap)."""
    return _bootstrap((true, a, b), lambda t, x, y: statistic(t, x) - statistic(t, y), n_boot, seed)[0]
