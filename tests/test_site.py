"""The site as a publication, fast: the generated conclusion follows from the paired difference,
tables read as tables, the key results and navigation say what they should, plotly.js is shared, the
static pages escape text; the bootstrap intervals metrics.json keeps beside them hold what they should."""
import re

import numpy as np
import pandas as pd
import pytest

from pseudoface.site import captions, results, severity, site_pages, website
from pseudoface.learning import evaluate, intervals


def _summary(folds, ppr=0.3):
    folds = list(folds)
    return {"macro_f1": {"mean": float(np.mean(folds)), "std": float(np.std(folds, ddof=1)), "folds": folds,
                         "pooled": {"0": float(np.mean(folds))}, "ci95_pooled_bootstrap": [0.0, 1.0]},
            "roc_auc": {"mean": 0.7, "std": 0.1}, "predicted_positive_rate": {"mean": ppr, "std": 0.05}}


def _run(network, feature, trivial=None, fused=None, synthetic=False, ppr=0.3, n=100, depressed=30):
    """metrics.json of a run with these per-fold macro-F1 values (5 folds of n / 5 participants)."""
    trivial = {"majority": [0.41] * 5, "stratified_random": [0.5, 0.45, 0.55, 0.5, 0.5]} | (trivial or {})
    m = {"synthetic": synthetic, "protocol": "cv", "n_participants": n, "n_depressed": depressed, "label_rule": "score_ge_10",
         "config": {"model": {"scope": "session"}}, **_summary(network, ppr),
         "fold_details": [{"n": n // 5, "n_depressed": depressed // 5, "roc_auc": 0.7} for _ in network],
         "baselines": {k: _summary(v, 0.0 if k == "majority" else 0.3) for k, v in trivial.items()}
         | {"feature_model": _summary(feature)}}
    if fused is not None:
        m["fused_model"] = _summary(fused) | {"weights": [0.2]}
    return m


GOOD = [0.70, 0.74, 0.68, 0.72, 0.71]


def test_the_fold_interval_is_the_corrected_resampled_t():
    """Worked by hand (Nadeau and Bengio's corrected resampled t): five folds 0.1, 0.3, 0.2, 0.25,
    0.15 have mean 0.2 and s^2 = 0.025 / 4 = 0.00625; test fraction n2 / n1 = 0.2 / 0.8 = 0.25, so
    the variance is 0.00625 x (1/5 + 0.25) = 0.0028125, its root 0.0530330; t(0.975, 4 df) = 2.776445
    (tables), half-width 0.147243. The plain t over folds would give 2.776445 x 0.0353553 = 0.098162."""
    values, fraction = np.array([0.1, 0.3, 0.2, 0.25, 0.15]), 0.2
    iv = results.fold_interval(values, fraction)
    assert iv["mean"] == pytest.approx(0.2) and iv["sd"] == pytest.approx(0.0790569, abs=1e-7)
    assert iv["ci95"] == pytest.approx([0.2 - 0.147243, 0.2 + 0.147243], abs=1e-6)
    assert iv["folds"] == 5
    assert np.isnan(results.fold_interval([0.3], fraction)["ci95"][0])  # one fold: no interval


def test_a_difference_between_models_is_the_difference_of_their_means():
    m = _run([0.6, 0.5, 0.7, 0.55, 0.65], [0.62, 0.58, 0.6, 0.5, 0.7])
    d = results.paired(m, "network", "feature_model")
    assert d["mean"] == pytest.approx(m["macro_f1"]["mean"] - m["baselines"]["feature_model"]["macro_f1"]["mean"])


def test_the_conclusion_says_plainly_when_a_trivial_baseline_does_as_well():
    # the reviewer's case: gender alone (0.607) above the network (0.588)
    m = _run([0.588] * 4 + [0.59], [0.62] * 5, trivial={"gender_only": [0.607, 0.6, 0.61, 0.61, 0.607]})
    text = results.conclusion(m)
    assert text.startswith("The CNN-LSTM (whole session) is no better than a trivial baseline on this corpus: gender only, "
                           "which uses no face data, scores 0.607")
    assert "does worse than the motion-feature model" in text


def test_the_conclusion_names_the_majority_class_floor():
    m = _run([0.41] * 5, [0.6] * 5, ppr=0.0)
    text = results.conclusion(m)
    assert "no better than a trivial baseline" in text and "sits at the majority-class floor" in text
    assert "floor" not in results.conclusion(_run(GOOD, [0.6] * 5))


def test_the_conclusion_ranks_against_every_trivial_baseline_and_the_feature_model():
    m = _run(GOOD, [0.6, 0.62, 0.58, 0.61, 0.6], fused=[0.72, 0.75, 0.7, 0.73, 0.72], synthetic=True)
    text = results.conclusion(m)
    assert text.startswith("The fused model beats every trivial baseline on this synthetic corpus: the best of them, "
                           "stratified random, scores 0.500")
    assert "The fused model (the network's logit at weight 0.2 beside the feature model's) beats the motion-feature model" in text
    assert "The CNN-LSTM (whole session) beats every trivial baseline" in text
    noisy = _run([0.9, 0.3, 0.8, 0.4, 0.7], [0.6, 0.5, 0.55, 0.6, 0.5])
    assert "is not shown to beat the best trivial baseline" in results.conclusion(noisy)
    assert "is not shown to differ from the motion-feature model" in results.conclusion(noisy)


def test_comparison_sentence_says_whether_each_variant_is_within_noise():
    table = pd.DataFrame({"name": ["default", "seed", "no alignment"], "difference": [None, -0.2, 0.05],
                          "diff_low": [None, -0.3, -0.1], "diff_high": [None, -0.1, 0.2]})
    text = results.comparison_sentence(table)
    assert "seed: −0.200 (95% CI −0.300 to −0.100), worse than the default beyond noise" in text
    assert "no alignment: +0.050 (95% CI −0.100 to +0.200), within noise of the default" in text


def test_tables_read_as_tables():
    frame = pd.DataFrame({"fold": [0.0, 1.0], "macro_f1": [0.51234, 0.7], "label": [0, 1], "roc_auc": [0.5, 0.61]})
    html = captions.styled(frame).to_html()
    assert "macro-F1" in html and "ROC-AUC" in html and "roc_auc" not in html
    assert "0.512" in html and ">1<" in html and "1.0" not in html  # integers as integers, scores to 3 decimals
    assert "not depressed" in html and "depressed" in html
    assert "level0_row0" not in html  # no index column
    signed = captions.styled(pd.DataFrame({"difference": [-0.34101, 0.05, np.nan], "seconds": [-3, 4, 5]})).to_html()
    assert "−0.341" in signed and "0.050" in signed and "−3" in signed and "–" in signed  # minus signs, not hyphens
    assert not re.search(r">-\d", signed)


def _stamp(synthetic=True, fused=True, layout="landmarks", small=False):
    m = _run(GOOD, [0.6, 0.62, 0.58, 0.61, 0.6], fused=[0.72, 0.75, 0.7, 0.73, 0.72] if fused else None,
             synthetic=synthetic, n=20 if small else 100, depressed=6 if small else 30)
    m |= {"code_version": "0.1.0+abc", "config_hash": "c0ffee", "data_fingerprint": "f00d", "versions": {"python": "3.11"},
          "label_disagreements": 3}
    screen = {"network": {"tp": 6, "fn": 9, "tn": 20, "fp": 5, "sensitivity": 0.4, "specificity": 0.8, "brier": 0.26},
              "feature_model": {"tp": 9, "fn": 6, "tn": 18, "fp": 7, "sensitivity": 0.6, "specificity": 0.72, "brier": 0.2},
              "prevalence_brier": 0.21}
    if fused:
        screen["fused"] = {"tp": 10, "fn": 5, "tn": 19, "fp": 6, "sensitivity": 0.667, "specificity": 0.76, "brier": 0.22}
    from pseudoface.learning.schema import STAMP_VERSION
    return {"schema_version": STAMP_VERSION, "report": "r", "dataset": "synthetic" if synthetic else "daic_woz",
            "published": "2026-01-01T00:00:00", "run_finished": "2026-01-01T00:00:00", "layout": layout,
            "participant_data": synthetic, "downloads": ["metrics.json", "predictions.csv"],
            "metrics": {"config": {"model": {}}} | m, "screening": screen, "reporting": None, "sanity": None,
            "explanations": None, "regression": None, "from_video": False, "comparison": None}


def test_key_results_put_the_findings_up_front():
    box = site_pages.key_results_html("synthetic", _stamp())
    models = box.split('<table class="pf-models">')[1].split("</table>")[0].split("<tr>")[2:]
    assert models[0].startswith("<td>fused (network + features) <em>(headline)</em></td><td><strong>0.724 ± 0.018</strong>")
    assert "<strong>" not in "".join(models[1:])  # one headline
    assert models[1].startswith("<td>CNN-LSTM (whole session)</td><td>0.710 ± 0.022")
    assert "0.40 (6 of 15)" in models[1] and "0.80 (20 of 25)" in models[1]  # the screening numbers up front
    assert "stratified random <em>(best trivial baseline)</em>" in models[3]
    assert "<th>fused (network + features) − motion-feature model</th><td>+0.122 (95% CI" in box
    assert "beats every trivial baseline on this synthetic corpus" in box
    assert "Label trained and scored: depressed = PHQ-8 score ≥ 10; the files" in box
    assert "binary label disagrees for 3 participants." in box
    assert "Brier score worse than the prevalence-only forecast (0.210" in box  # said where the Brier is shown
    assert "CNN-LSTM (whole session) (0.260), fused model (0.220); these scores" in box
    assert "corrected resampled t" in box and "pooled out-of-fold predictions of the first repeat" in box
    assert "3-D facial landmarks" in box and "Small folds" not in box
    assert 'href="reports/synthetic/downloads/predictions.csv"' in box and "config hash <code>c0ffee</code>" in box


def test_key_results_describe_a_series_corpus_and_warn_on_small_folds():
    box = site_pages.key_results_html("e_daic", _stamp(False, layout="series", small=True))
    assert "head pose, gaze and facial action-unit intensity series (the corpus ships no landmarks)" in box
    assert "3-D facial landmarks" not in box and "Pose, gaze and AU exploration" in box
    assert '<p class="pf-warn" role="note">Small folds: an outer fold holds as few as 4 participants' in box
    assert "more repeats of the fold split" in box


def test_quarto_navigation_has_a_menu_per_dataset_and_no_site_wide_banner():
    meta = website.quarto_metadata(["synthetic"], {"synthetic": _stamp()})["website"]
    menu = meta["navbar"]["left"][1]
    assert menu["text"] == "Synthetic" and [m["href"] for m in menu["menu"]][0] == "reports/synthetic/01_landmarks.ipynb"
    assert "announcement" not in meta  # the banner is per dataset (test_site_quarto.py)


def test_plotlyjs_is_loaded_once_for_the_site(tmp_path):
    import plotly.offline
    site = tmp_path / "_site"
    (site / "reports" / "x").mkdir(parents=True)
    page = site / "reports" / "x" / "a.html"
    embedded = "<script>\n/**\n* plotly.js v9.9.9\n* Copyright\n*/\nvar Plotly = 1;</script>"
    page.write_text(f"<html><head></head><body>{embedded}<div class=\"plotly-graph-div\"></div></body></html>")
    (site / "b.html").write_text("<html><head></head><body>no figure</body></html>")
    website.share_plotlyjs(site)
    text = page.read_text()
    assert "plotly.js v9.9.9" not in text and text.count('<script src="../../assets/plotly.min.js"></script>') == 1
    assert "plotly.min.js" not in (site / "b.html").read_text()
    assert (site / "assets" / "plotly.min.js").read_text() == plotly.offline.get_plotlyjs()


def test_static_pages_escape_text_and_mark_the_current_page():
    from markupsafe import Markup
    page = website._page("page.html.j2", "reports/synthetic/02_pseudo_images.html", ["synthetic"], {"synthetic": _stamp()}, False,
                         title="A <b> & title", body=Markup("<p>kept</p>"), sources="Synthetic", built="Built now.")
    assert page.startswith("<!doctype html>\n") and page.endswith("</html>\n")
    assert "<title>A &lt;b&gt; &amp; title</title>" in page and "<p>kept</p>" in page  # text escaped, HTML kept
    assert '<a href="../../reports/synthetic/02_pseudo_images.html" class="current" aria-current="page">' in page
    assert '<div class="pf-menu current" tabindex="0"><span>Synthetic ▾</span>' in page and "Sweeps" not in page
    assert "From the published reports of Synthetic; each dataset's pages carry its run's provenance." in page


def test_banners_name_what_is_synthetic_or_from_video():
    assert website.site_banner([], True) == "" and website.site_banner(["Synthetic"], True) == captions.banner_html()
    assert captions.BANNER in captions.banner_html() and 'class="pf-banner" role="note"' in captions.banner_html()
    assert "The Synthetic and OpenFace datasets are synthetic data with a planted effect: their numbers" in \
        website.site_banner(["Synthetic", "OpenFace"], False)
    assert "The Synthetic dataset is made of synthetic data with a planted effect: its numbers" in \
        website.site_banner(["Synthetic"], False)
    note = website.video_note({"from_video": True}, "DAIC-WOZ")
    assert "<strong>From video.</strong> DAIC-WOZ: Landmarks extracted" in note and "MediaPipe&#39;s" in note


# ---------------------------------------------------------------- the intervals behind the numbers

def _predictions(n=60, agree=0.8, seed=0):
    rng = np.random.default_rng(seed)
    y = np.tile([0, 1, 0], n // 3)
    return y, np.where(rng.random(len(y)) < agree, y, 1 - y)


def test_the_bootstrap_interval_holds_the_estimate_and_is_seeded():
    y, pred = _predictions()
    low, high = intervals.bootstrap_ci(y, pred, evaluate.macro_f1, 500, seed=3)
    assert low < evaluate.macro_f1(y, pred) < high and 0.05 < high - low < 0.5
    assert intervals.bootstrap_ci(y, pred, evaluate.macro_f1, 500, seed=3) == [low, high]  # the same seed, the same interval


def test_single_class_resamples_and_a_single_participant_are_handled():
    y, pred = np.array([0] * 19 + [1]), np.array([0] * 18 + [1, 1])  # most resamples miss the one depressed
    low, high = intervals.bootstrap_ci(y, pred, evaluate.macro_f1, 300, seed=0)
    assert 0 <= low <= evaluate.macro_f1(y, pred) <= high <= 1
    # 0 wide: no other resample
    assert intervals.bootstrap_ci(np.array([1]), np.array([1]), evaluate.macro_f1, 50, seed=0) == [0.5, 0.5]


def test_the_data_dictionary_names_every_column_or_refuses():
    from pseudoface.site import downloads
    text = downloads.data_dictionary({"folds.csv": "repeat,fold,macro_f1\n0,0,0.5\n", "x.json": "{}"})
    assert text.splitlines()[1:] == ["folds.csv,repeat,repeat of the outer fold split (0 = the first)",
                                     "folds.csv,fold,outer fold within the repeat (0-based)",
                                     "folds.csv,macro_f1,macro-F1 of the network on the fold (mean of the F1 of both classes)"]
    with pytest.raises(KeyError, match="new.csv: column 'ppr_new'"):
        downloads.data_dictionary({"new.csv": "ppr_new\n1\n"})


def test_errors_against_quality_drop_a_constant_duration_and_start_axes_at_zero():
    from pseudoface.site import result_plots
    table = pd.DataFrame({"label": [0, 1, 0, 1], "correct": [True, False, True, True],
                          "valid_percent": [97.0, 99.0, 98.5, 100.0], "duration_min": [1.25] * 4})
    fig = result_plots.scatter_errors_figure(table)
    assert "every session lasts 1.2 min" in fig.layout.yaxis.title.text  # not a flat line of durations
    assert {y for trace in fig.data for y in trace.y} <= {"not depressed", "depressed"}
    assert fig.layout.xaxis.range[0] >= 0 and fig.layout.xaxis.range[1] == 100.5
    varied = result_plots.scatter_errors_figure(table.assign(duration_min=[1.0, 2.0, 3.0, 4.0]))
    assert varied.layout.yaxis.title.text == "session duration (min)" and varied.layout.yaxis.range[0] == 0


def _sanity(shuffled=0.48, leak=False):
    model = {"real": 0.7, "real_first_repeat": 0.7, "shuffled": [shuffled, shuffled], "shuffled_mean": shuffled,
             "gap": 0.7 - shuffled, "within_interval": not leak, "possible_leakage": leak}
    return {"permutations": 2, "settings": {"repeats": 1, "folds": 5, "protocol": "cv", "what": "x"}, "seconds": 12.0,
            "stratified_random": {"macro_f1_mean": 0.5, "macro_f1_first_repeat": 0.5, "ci95_corrected_t": [0.4, 0.6],
                                  "interval": "i"},
            "models": {"network": model, "feature_model": model, "fused_model": model},
            "per_permutation": [{"permutation": k, "seconds": 6.0, "label_correlation": 0.05} for k in (1, 2)],
            "possible_leakage": leak}


def test_each_dataset_has_a_reporting_page_with_its_items_and_the_sanity_run():
    import re
    from html.parser import HTMLParser

    import mistune
    from pseudoface.site import reporting
    stamp = _stamp() | {"sanity": _sanity(), "reporting": {
        "guideline": reporting.GUIDELINE, "config_hash": "c0ffee", "code_version": "0.1.0+abc", "items": [
            {"item": "8a", "section": "Methods", "name": "Outcome", "topic": "Outcome", "status": reporting.ANSWERED,
             "answer": "depressed = PHQ-8 ≥ 10 | a pipe, folds/*.json and checkpoints/*.pt, x < y",
             "source": "metrics.json: label_rule", "researcher": ""},
            {"item": "4", "section": "Introduction", "name": "Objectives", "topic": "Objectives",
             "status": reporting.RESEARCHER, "answer": "", "source": "", "researcher": "State the aims."}]}}
    # one rendering: the Markdown of reporting.md is Quarto's page and, converted once, the fallback's
    markdown = site_pages.reporting_markdown(stamp)
    qmd = site_pages.reporting_qmd(stamp, "synthetic")
    assert markdown in qmd and qmd.startswith('---\ntitle: "Reporting (TRIPOD+AI): Synthetic"\n')
    assert not re.search(r"^( {4}|\t)<", qmd, re.M)  # no indented HTML (pandoc would make it a code block)
    body = site_pages.reporting_body(stamp)
    assert mistune.create_markdown(escape=False, plugins=["table"])(markdown) in body
    assert "1 entries, each with the published file it comes from" in body and "(1 entries:" in body
    # the cell survives both readers: the pipe, the asterisks and the angle bracket are text
    left = '<td style="text-align:left">'
    assert f"{left}depressed = PHQ-8 ≥ 10 | a pipe, folds/*.json and checkpoints/*.pt, x &lt; y</td>" in body
    assert f"{left}metrics.json: label_rule</td>" in body
    assert f"{left}for the researcher</td>\n  {left}State the aims.</td>" in body
    assert "no sign of leakage" in body and "0.480" in body
    assert "stratified random (95% CI 0.400 to 0.600, corrected resampled t)" in body  # the interval, named

    class Balance(HTMLParser):
        def __init__(self):
            super().__init__()
            self.open = []

        def handle_starttag(self, tag, attrs):
            if tag not in ("br", "hr", "img", "meta", "link", "input"):
                self.open.append(tag)

        def handle_endtag(self, tag):
            assert self.open and self.open.pop() == tag, tag
    checker = Balance()
    checker.feed(body)
    assert checker.open == []  # balanced tags
    assert "possible leakage" in site_pages.reporting_body(stamp | {"sanity": _sanity(0.75, leak=True)})
    assert "Not run" in site_pages.reporting_body(_stamp())  # a run without the sanity run says so
    page = website._page("page.html.j2", "index.html", ["synthetic"], {"synthetic": stamp}, False, title="t",
                         built="b", sources="Synthetic")
    assert '<a href="reports/synthetic/reporting.html">5 · Reporting (TRIPOD+AI)</a>' in page
    box = site_pages.key_results_html("synthetic", stamp)
    assert "Shuffled-label sanity run (2 permutations of the training labels, same folds): network 0.480" in box
    assert "the stratified-random baseline&#39;s 95% CI 0.400 to 0.600 (its mean over the run&#39;s outer folds, " \
           "corrected resampled t)" in box


def _regression_metrics():
    def summary(mean, folds):
        return {"mean": mean, "std": float(np.std(folds, ddof=1)), "folds": folds, "pooled": {"0": mean},
                "ci95_pooled_bootstrap": [0, 1]}
    metric = lambda mae: {"mae": summary(mae, [mae] * 5), "rmse": summary(mae + 1, [mae + 1] * 5),  # noqa: E731
                          "ccc": summary(0.3, [0.3] * 5), "pearson": summary(0.5, [0.5] * 5)}
    return {"n_participants": 100, "fold_details": [{"n": 20}] * 5, "regression": metric(4.0),
            "regression_baselines": {"mean": metric(5.0), "median": metric(4.9), "ridge": metric(4.5)},
            "paired_mae_vs_mean": {"network": {"folds": [-1.0, -1.1, -0.9, -1.0, -1.05]},
                                   "ridge": {"folds": [-0.5, 0.4, -0.6, 0.5, -0.3]},
                                   "median": {"folds": [-0.1] * 5}},
            "macro_f1": {"mean": 0.6}, "baselines": {"feature_model": {"macro_f1": {"mean": 0.55}}}}


def test_regression_results_read_against_the_mean_predictor():
    from markupsafe import escape
    m = _regression_metrics()
    table = severity.regression_table(m)
    assert list(table.model) == ["network", "feature model (ridge)", "training-fold mean", "training-fold median"]
    assert table.MAE[0] == "4.00 ± 0.00" and table["MAE − mean predictor (95% CI, corrected t)"][2] == "–"
    text = severity.regression_sentence(m)
    assert "the network beats the mean predictor (MAE 4.00 against 5.00; difference −1.01" in text
    assert "the feature model (ridge) is not shown to differ from the mean predictor" in text
    box = site_pages.key_results_html("synthetic", _stamp() | {"regression": m})
    regression = box.split("<strong>PHQ-8 score (regression, same folds; mean ± SD over folds).</strong> ")[1]
    assert regression.startswith(str(escape(text)))  # the sentence, then the table
    assert "<th" in regression.split("<details>")[0]
    assert "PHQ-8 score (regression" not in site_pages.key_results_html("synthetic", _stamp())


def test_the_residual_sentence_sees_severe_cases_pulled_to_the_mean():
    true = np.array([0, 5, 10, 15, 20, 24], float)
    p = pd.DataFrame({"repeat": 0, "true_score": true, "predicted_score": 8 + 0.2 * (true - 8)})
    text = severity.regression_residuals_sentence(p)
    assert "slope −0.80" in text and "pulled towards the mean by 80%" in text and "(n = 3)" in text


def test_a_variant_drawn_lower_than_the_default_shows_a_negative_difference(tmp_path, valid_metrics):
    """The Comparison page and notebook 03 draw the variants' fold means and print their difference to
    the default: the mean of the per-fold differences, i.e. exactly the difference of those means (the
    issue's case: a variant at 0.419 against the default's 0.466 printed "Δ +0.016")."""
    import json
    folds = {"main": [0.50, 0.40, 0.52, 0.44, 0.47], "variant-a": [0.40, 0.42, 0.45, 0.41, 0.415],
             "variant-b": [0.5, 0.4, 0.5]}  # other folds: no paired difference
    for run, values in folds.items():
        (tmp_path / run).mkdir()
        detail = valid_metrics["fold_details"][0]
        (tmp_path / run / "metrics.json").write_text(json.dumps(valid_metrics | {
            "n_participants": 50, "macro_f1": valid_metrics["macro_f1"] | {"folds": values},
            "fold_details": [detail | {"repeat": 0, "fold": k, "n": 10} for k in range(len(values))]}))
    table = pd.DataFrame({"name": ["default", "variant a", "variant b"], "run": list(folds),
                          "mean": [np.mean(v) for v in folds.values()]})
    out = results.compare_to_default(tmp_path, table)
    a = out.iloc[1]
    assert a["mean"] == pytest.approx(0.419) and out["mean"][0] == pytest.approx(0.466)
    assert a.difference == pytest.approx(a["mean"] - out["mean"][0]) and a.difference < 0
    iv = results.fold_interval(np.subtract(folds["variant-a"], folds["main"]), 0.2)
    assert [a.diff_low, a.diff_high] == pytest.approx(iv["ci95"])  # the corrected t of the per-fold differences
    assert np.isnan(out.difference[2])
    text = results.comparison_sentence(out.iloc[:2])
    assert "variant a: −0.047 (95% CI" in text and "corrected resampled t" in text


def test_the_index_notes_a_difference_whose_interval_leaves_minus_one_to_one():
    """Issue 31.8 on the index: a difference between two models can only lie in [-1, 1]; a corrected t
    interval past that says the folds cannot tell, and the index says so beside it."""
    wide = site_pages._interval({"mean": 0.1, "ci95": [-1.2, 1.4]})
    narrow = site_pages._interval({"mean": 0.1, "ci95": [-0.2, 0.4]})
    assert "past −1 and 1, outside the possible range: uninformative" in wide
    assert "uninformative" not in narrow


def test_the_run_caption_counts_outer_folds_and_repeats_as_the_sentences_do():
    """Seen on page 3 of a 2-fold, 5-repeat run: "Ran (cv, 10 outer folds, ...)" above a sentence saying
    "mean ± SD over 2 outer folds × 5 repeats"."""
    from pseudoface.site import results
    metrics = {"protocol": "cv", "fold_details": [{}] * 10, "seconds": 4.0, "device": "cpu", "n_depressed": 10,
               "n_participants": 30, "macro_f1": {"folds": [0.5] * 10, "pooled": {str(r): 0.5 for r in range(5)}}}
    caption = results.run_caption(metrics, reused=False)
    assert caption.startswith("Ran (cv, 2 outer folds × 5 repeats, 4 s on cpu)") and "10 outer folds" not in caption
    single = metrics | {"fold_details": [{}] * 5, "macro_f1": {"folds": [0.5] * 5, "pooled": {"0": 0.5}}}
    assert results.run_caption(single, reused=True).startswith("Reused a finished run (cv, 5 outer folds, 4 s")
