"""The site as a publication, fast: the generated conclusion follows from the paired difference,
tables read as tables, the key results and navigation say what they should, plotly.js is shared, the
static pages escape text; the bootstrap intervals behind the numbers hold what they should."""
import numpy as np
import pandas as pd
import pytest

from pseudoface import captions, evaluate, results, website


def _metrics(difference, low, high, synthetic=False):
    return {"synthetic": synthetic, "paired_vs_feature_model": {"difference": difference, "ci95": [low, high],
                                                                 "p_not_better": 0.5}}


@pytest.mark.parametrize("paired, expected", [
    ((0.12, 0.03, 0.21), "The CNN-LSTM (clips) beats the motion-feature model on this corpus (paired difference in macro-F1 "
                         "+0.120, 95% CI +0.030 to +0.210)."),
    ((0.073, -0.027, 0.181), "The CNN-LSTM (clips) is not shown to beat the motion-feature model on this corpus: the 95% "
                             "interval of the paired difference spans 0 (paired difference in macro-F1 +0.073, 95% CI "
                             "−0.027 to +0.181)."),
    ((-0.2, -0.35, -0.05), "The CNN-LSTM (clips) does worse than the motion-feature model on this corpus (paired difference "
                           "in macro-F1 −0.200, 95% CI −0.350 to −0.050)."),
])
def test_the_conclusion_follows_from_the_paired_difference(paired, expected):
    assert results.conclusion(_metrics(*paired)) == expected


def test_the_conclusion_speaks_of_the_fused_model_from_its_own_paired_difference():
    m = _metrics(0.0, -0.1, 0.1) | {"config": {"model": {"scope": "session"}},
                                    "fused_model": {"weights": [0.5, 0.25]},
                                    "paired_fused_vs_feature_model": {"difference": 0.08, "ci95": [0.02, 0.15]}}
    text = results.conclusion(m)
    assert text.startswith("The CNN-LSTM (whole session) is not shown to beat")
    assert "The fused model (the network's logit at weight 0.5 beside the feature model's) beats it (paired " \
           "difference +0.080, 95% CI +0.020 to +0.150)" in text


def test_the_conclusion_names_a_synthetic_corpus():
    assert "on this synthetic corpus" in results.conclusion(_metrics(0.1, -0.1, 0.3, synthetic=True))


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


def _stamp(synthetic=True):
    base = {"macro_f1": {"mean": 0.4, "std": 0.1}, "predicted_positive_rate": {"mean": 0.2}}
    metrics = {"synthetic": synthetic, "protocol": "cv", "n_participants": 48, "n_depressed": 15,
               "macro_f1": {"mean": 0.678, "std": 0.098, "ci95": [0.53, 0.81], "pooled": {"0": 0.681}, "folds": [0.6] * 5},
               "roc_auc": {"mean": 0.76, "std": 0.1}, "predicted_positive_rate": {"mean": 0.4, "std": 0.1},
               "baselines": {"majority": base, "feature_model": {"macro_f1": {"mean": 0.611, "std": 0.147},
                                                                 "predicted_positive_rate": {"mean": 0.3}}},
               "paired_vs_feature_model": {"difference": 0.073, "ci95": [-0.027, 0.181]},
               "code_version": "0.1.0+abc", "config_hash": "c0ffee", "data_fingerprint": "f00d",
               "versions": {"python": "3.11"}}
    return {"report": "r", "published": "2026-01-01T00:00:00", "run_finished": "2026-01-01T00:00:00",
            "participant_data": synthetic, "downloads": ["metrics.json", "predictions.csv"], "metrics": metrics}


def test_key_results_put_the_findings_up_front():
    box = website.key_results_html("synthetic", _stamp())
    assert "0.678 ± 0.098" in box and "0.53" in box and "0.81" in box  # macro-F1, SD, CI
    assert "31% of 48 participants are depressed; the network calls 40% depressed" in box
    assert "0.611 ± 0.147" in box and "+0.073" in box and "−0.027" in box
    assert "not shown to beat the motion-feature model on this synthetic corpus" in box
    assert 'href="reports/synthetic/downloads/predictions.csv"' in box
    assert "config hash <code>c0ffee</code>" in box


def test_quarto_navigation_has_a_menu_per_dataset_and_the_banner():
    meta = website.quarto_metadata(["synthetic"], {"synthetic": _stamp()})["website"]
    menu = meta["navbar"]["left"][1]
    assert menu["text"] == "Synthetic" and [m["href"] for m in menu["menu"]][0] == "reports/synthetic/01_landmarks.ipynb"
    assert captions.BANNER in meta["announcement"]["content"]
    assert "announcement" not in website.quarto_metadata(["daic_woz"], {"daic_woz": _stamp(False)})["website"]


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
    page = website._page("page.html.j2", "reports/synthetic/02_pseudo_images.html", ["synthetic"], False,
                         title="A <b> & title", body=Markup("<p>kept</p>"), sources="Synthetic", built="Built now.")
    assert page.startswith("<!doctype html>\n") and page.endswith("</html>\n")
    assert "<title>A &lt;b&gt; &amp; title</title>" in page and "<p>kept</p>" in page  # text escaped, HTML kept
    assert '<a href="../../reports/synthetic/02_pseudo_images.html" class="current" aria-current="page">' in page
    assert '<div class="pf-menu current" tabindex="0"><span>Synthetic ▾</span>' in page and "Sweeps" not in page
    assert "From the published reports of Synthetic; each dataset's pages carry its run's provenance." in page


def test_banners_name_what_is_synthetic_or_from_video():
    assert website.site_banner([], True) == "" and website.site_banner(["Synthetic"], True) == captions.banner_html()
    assert captions.BANNER in captions.banner_html() and 'class="pf-banner" role="note"' in captions.banner_html()
    assert "The Synthetic and OpenFace datasets are synthetic data" in website.site_banner(["Synthetic", "OpenFace"], False)
    note = website.video_note({"from_video": True}, "DAIC-WOZ")
    assert "<strong>From video.</strong> DAIC-WOZ: Landmarks extracted" in note and "MediaPipe&#39;s" in note


# ---------------------------------------------------------------- the intervals behind the numbers

def _predictions(n=60, agree=0.8, seed=0):
    rng = np.random.default_rng(seed)
    y = np.tile([0, 1, 0], n // 3)
    return y, np.where(rng.random(len(y)) < agree, y, 1 - y)


def test_the_bootstrap_interval_holds_the_estimate_and_is_seeded():
    y, pred = _predictions()
    low, high = evaluate.bootstrap_ci(y, pred, 500, seed=3)
    assert low < evaluate.macro_f1(y, pred) < high and 0.05 < high - low < 0.5
    assert evaluate.bootstrap_ci(y, pred, 500, seed=3) == [low, high]  # the same seed, the same interval


def test_single_class_resamples_and_a_single_participant_are_handled():
    y, pred = np.array([0] * 19 + [1]), np.array([0] * 18 + [1, 1])  # most resamples miss the one depressed
    low, high = evaluate.bootstrap_ci(y, pred, 300, seed=0)
    assert 0 <= low <= evaluate.macro_f1(y, pred) <= high <= 1
    assert evaluate.bootstrap_ci(np.array([1]), np.array([1]), 50, seed=0) == [0.5, 0.5]  # 0 wide: no other resample


def test_the_paired_difference_of_identical_predictions_is_exactly_zero():
    y, pred = _predictions()
    d = evaluate.paired_bootstrap_difference(y, pred, pred.copy(), 300, seed=1)
    assert d == {"difference": 0.0, "ci95": [0.0, 0.0], "p_not_better": 1.0}


def test_the_paired_difference_sees_a_better_model():
    y, worse = _predictions(agree=0.6, seed=2)
    better = np.where(np.random.default_rng(5).random(len(y)) < 0.9, y, 1 - y)
    d = evaluate.paired_bootstrap_difference(y, better, worse, 500, seed=1)
    assert d["difference"] > 0 and d["ci95"][0] < d["difference"] < d["ci95"][1] and d["p_not_better"] < 0.05


def test_key_results_lead_with_the_fused_model_when_the_run_has_one():
    stamp = _stamp()
    stamp["metrics"] = dict(stamp["metrics"], fused_model={
        "macro_f1": {"mean": 0.701, "std": 0.05}, "roc_auc": {"mean": 0.8}, "predicted_positive_rate": {"mean": 0.3},
        "weights": [0.2]}, paired_fused_vs_feature_model={"difference": 0.09, "ci95": [0.01, 0.2]})
    box = website.key_results_html("synthetic", stamp)
    rows = box.split("</table>")[0].split("<tr>")[1:]
    assert rows[0].startswith("<th>Fused model macro-F1 (headline)</th><td><strong>0.701 ± 0.050</strong>")
    assert rows[1].startswith("<th>Fused − feature model</th><td>+0.090")
    assert "<strong>" not in "".join(rows[2:])  # one headline
    assert "0.678 ± 0.098" in box and "0.611 ± 0.147" in box  # the network and the feature model still shown
