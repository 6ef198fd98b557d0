"""What a run's explanations say (:mod:`explain` computes them; this module only reads the table):
the per-fold summary of the occlusion changes, each model's group ranking across folds with its
agreement (Kendall's W; stable at :data:`STABLE_W`, the one threshold every page states), and the
sentences the terminal, notebook 04 and the site print. Pure pandas on ``explanations.csv``'s frame."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

MODELS = ("network", "feature_model")
CLASSES = {"all": None, "not depressed": 0, "depressed": 1}


def fold_summary(per: pd.DataFrame) -> pd.DataFrame:
    """``explanations.csv``: per repeat, fold, model, kind, group and class (all, not depressed,
    depressed): n, mean and SD of |Δ| (= |contribution|), mean and SD of the signed contribution
    (positive: the group pushes that class's scores up, towards depressed)."""
    keys = ["repeat", "fold", "model", "kind", "group"]
    parts = []
    for cls, label in CLASSES.items():
        sub = per if label is None else per[per.label == label]
        if not len(sub):
            continue
        agg = sub.assign(abs_delta=sub.contribution.abs()).groupby(keys, sort=False).agg(
            n=("contribution", "size"), mean_abs_delta=("abs_delta", "mean"), sd_abs_delta=("abs_delta", "std"),
            mean_contribution=("contribution", "mean"), sd_contribution=("contribution", "std"))
        parts.append(agg.reset_index().assign(**{"class": cls}))
    frame = pd.concat(parts, ignore_index=True)
    return frame[keys + ["class", "n", "mean_abs_delta", "sd_abs_delta", "mean_contribution", "sd_contribution"]]


def _fold_matrix(summary: pd.DataFrame, model: str, value: str = "mean_abs_delta", cls: str = "all") -> pd.DataFrame:
    """(folds x groups) of one model's group rows; ``value`` "class_gap": the depressed participants'
    mean contribution minus the others' (how far the group separates the classes, in logit)."""
    if value == "class_gap":
        return (_fold_matrix(summary, model, "mean_contribution", "depressed")
                - _fold_matrix(summary, model, "mean_contribution", "not depressed")).dropna(axis=1)
    sub = summary[(summary.model == model) & (summary.kind == "group") & (summary["class"] == cls)]
    return sub.pivot_table(index=["repeat", "fold"], columns="group", values=value, sort=False).dropna(axis=1)


def stability(summary: pd.DataFrame) -> pd.DataFrame:
    """Per model and group, over folds: mean and SD of the fold's mean |Δ|, the share of folds in
    which the group ranks first, its mean rank, the depressed participants' mean contribution (what
    pushes them up) and the class gap (:func:`_fold_matrix`), ordered by model, then mean |Δ| (largest
    first: the order every sentence and bar chart prints), then mean rank."""
    rows = []
    for model in [m for m in MODELS if (summary.model == m).any()]:
        m = _fold_matrix(summary, model)
        ranks = m.rank(axis=1, ascending=False)
        dep = _fold_matrix(summary, model, "mean_contribution", "depressed")
        gap = _fold_matrix(summary, model, "class_gap")
        for g in m.columns:
            rows.append({"model": model, "group": g, "folds": len(m), "mean_abs_delta": float(m[g].mean()),
                         "sd_abs_delta": float(m[g].std(ddof=1)) if len(m) > 1 else float("nan"),
                         "first_share": float((ranks[g] == 1).mean()), "mean_rank": float(ranks[g].mean()),
                         "depressed_contribution": float(dep[g].mean()) if g in dep else float("nan"),
                         "class_gap": float(gap[g].mean()) if g in gap else float("nan")})
    out = pd.DataFrame(rows)
    out["order"] = out.model.map({m: i for i, m in enumerate(MODELS)})
    out = out.sort_values(["order", "mean_abs_delta", "mean_rank"], ascending=[True, False, True])
    return out.drop(columns="order").reset_index(drop=True)


STABLE_W = 0.7  # Kendall's W at or above which a ranking is called stable across folds, everywhere
STABLE_RULE = f"stable means Kendall's W ≥ {STABLE_W:.2f}"  # how a page states it


def rank_agreement(summary: pd.DataFrame, model: str, by: str = "mean_abs_delta") -> dict:
    """How far the folds agree on the ranking of groups by mean |Δ| (``by``; or "class_gap", how
    far a group separates the classes): Kendall's W (1 = the same
    order in every fold; 1/folds expected by chance) with its chi-square p-value, the mean pairwise
    Spearman correlation between folds (0 by chance), the top group (the largest mean over folds, as
    every sentence and chart ranks) and the share of folds that rank it first; ``stable`` when
    W >= :data:`STABLE_W`, one threshold on the number printed beside the word."""
    m = _fold_matrix(summary, model, by)
    k, n = m.shape
    if k < 2 or n < 2:
        return {"model": model, "folds": k, "groups": n, "kendall_w": float("nan"), "p_value": float("nan"),
                "mean_spearman": float("nan"), "top": m.columns[0] if n else "", "top_share": float("nan"),
                "stable": False}
    ranks = m.rank(axis=1, ascending=False).to_numpy()  # (k, n), 1 = largest
    sums = ranks.sum(axis=0)
    w = float(12 * np.sum((sums - k * (n + 1) / 2) ** 2) / (k ** 2 * (n ** 3 - n)))
    p = float(stats.chi2.sf(k * (n - 1) * w, n - 1))
    rho = [stats.spearmanr(ranks[i], ranks[j])[0] for i in range(k) for j in range(i + 1, k)]
    top = m.columns[int(np.lexsort((sums, -m.mean().to_numpy()))[0])]  # the largest mean; ties: the better mean rank
    share = float(np.mean(ranks[:, list(m.columns).index(top)] == 1))
    return {"model": model, "folds": k, "groups": n, "kendall_w": w, "p_value": p,
            "mean_spearman": float(np.nanmean(rho)), "top": top, "top_share": share,
            "stable": bool(w >= STABLE_W)}


MODEL_NAMES = {"network": "The network", "feature_model": "The motion-feature model"}


def missing_reason(groups) -> str:
    """Why the network has no bar for ``groups`` the feature model has."""
    jaw = (" (the compact pseudo-image has no jaw or nose rows; only the feature model's movement functionals "
           "cover those landmarks)" if "jaw and nose" in groups else "")
    return f"its input has no rows of {'that group' if len(groups) == 1 else 'those groups'}{jaw}, so nothing of it is occluded"


def _size(x: float) -> str:
    """A logit change to 2 significant figures (0.54, 0.0031): fixed decimals would print small changes as 0.00."""
    return f"{x:.2g}"


def sentence(summary: pd.DataFrame) -> str:
    """The top groups of each model by mean |Δ| (the number printed, largest first), whether the
    ranking is stable across folds by the one stated threshold (:data:`STABLE_W`), and why a group one
    model has gets no bar for the other."""
    st = stability(summary)
    out = []
    models = [m for m in MODELS if (st.model == m).any()]
    for model in models:
        s, agree = st[st.model == model].sort_values("mean_abs_delta", ascending=False), rank_agreement(summary, model)
        first, second = (s.iloc[i] for i in (0, min(1, len(s) - 1)))
        how = "stable" if agree["stable"] else "not stable"
        out.append(f"{MODEL_NAMES[model]}'s score changes most when {first.group} is replaced by its neutral value "
                   f"(mean |Δ logit| {_size(first.mean_abs_delta)} ± {_size(first.sd_abs_delta)} over folds), then "
                   f"{second.group} ({_size(second.mean_abs_delta)} ± {_size(second.sd_abs_delta)}); {first.group} is the "
                   f"largest in {agree['top_share'] * agree['folds']:.0f} of {agree['folds']} folds, and the ranking "
                   f"of all groups is {how} across folds (Kendall's W {agree['kendall_w']:.2f}; 1 is the same order "
                   f"in every fold, {1 / max(agree['folds'], 1):.2f} is chance; {STABLE_RULE}).")
    if "network" in models:
        missing = sorted(set(st.group[st.model != "network"]) - set(st.group[st.model == "network"]))
        if missing:
            out.append(f"The network has no bar for {' or '.join(missing)}: {missing_reason(missing)}.")
    return " ".join(out)


def summary_lines(summary: pd.DataFrame) -> list[str]:
    """The short table ``pseudoface explain`` prints."""
    lines = [f"{'model':14s} {'group':24s} {'mean |Δ logit| ± SD':>20s} {'first':>6s} {'depressed push':>15s}"]
    for r in stability(summary).itertuples():
        lines.append(f"{r.model:14s} {r.group:24s} {r.mean_abs_delta:12.3f} ± {r.sd_abs_delta:5.3f} "
                     f"{r.first_share:6.0%} {r.depressed_contribution:+15.3f}")
    for model in MODELS:
        if (summary.model == model).any():
            a = rank_agreement(summary, model)
            lines.append(f"{model}: Kendall's W {a['kendall_w']:.2f} over {a['folds']} folds (p {a['p_value']:.3f}), "
                         f"mean pairwise Spearman {a['mean_spearman']:+.2f}; top {a['top']} "
                         f"({'stable' if a['stable'] else 'not stable'}; {STABLE_RULE})")
    return lines
