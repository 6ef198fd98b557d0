"""Issue 31's content defects: every generated sentence matches its numbers and names its model."""
from __future__ import annotations

import numpy as np
import pandas as pd

from pseudoface.site import results
from test_site import GOOD, _run

FEATURE = [0.6, 0.62, 0.58, 0.61, 0.6]


def test_a_fused_model_equal_to_the_feature_model_says_the_network_contributed_nothing():
    same = _run(GOOD, FEATURE, fused=list(FEATURE))
    assert "the network contributed nothing to the fused model" in results.conclusion(same)
    predictions = pd.DataFrame({"repeat": 0, "label": [0, 1, 1, 0], "feature_score": [0.2, 0.7, 0.4, 0.6],
                                "fused_prediction": [0, 1, 0, 1]})
    assert "the same call as the motion-feature model for all 4 participants" in results.conclusion(same, predictions)
    gained = _run(GOOD, FEATURE, fused=[0.72, 0.75, 0.7, 0.73, 0.72])
    assert "contributed nothing" not in results.conclusion(gained)
    assert "contributed nothing" not in results.conclusion(_run(GOOD, FEATURE))  # no fused model


WIDE = [0.2, 1.0, 0.3, 1.0, 0.9]  # five folds this far apart: the corrected t interval runs past 1


def test_an_interval_past_1_carries_the_note_wherever_it_is_printed():
    from pseudoface.learning.intervals import UNIT, ci_text
    assert ci_text([0.148, 1.143], bounds=UNIT) == ("0.148 to 1.143 [past 1, outside the possible range: uninformative "
                                                    "at this sample size]")
    assert ci_text([0.3, 0.9], bounds=UNIT) == "0.300 to 0.900" and ci_text([0.148, 1.143]) == "0.148 to 1.143"
    m = _run(GOOD, FEATURE, fused=WIDE)
    assert results.fold_interval(WIDE, 0.2)["ci95"][1] > 1
    note = "uninformative at this sample size"
    assert note in results.headline_sentence(m)
    table = results.headline_table(m)
    assert note in table.loc[0, "95% CI (corrected t)"] and note not in table.loc[1, "95% CI (corrected t)"]
    assert "The 95% interval of fused (network + features)" in results.baseline_sentence(m)
    assert note not in results.headline_sentence(_run(GOOD, FEATURE, fused=[0.72, 0.75, 0.7, 0.73, 0.72]))
    from pseudoface.site.answers import headline
    m["fold_details"] = [d | {"repeat": 0} for d in m["fold_details"]]
    assert note in headline(m["fused_model"]["macro_f1"] | {"ci95_corrected_t": [0.148, 1.143], "std": 0.3}, m,
                            bounds=UNIT)


def test_the_fold_analysis_says_which_model_each_figure_and_table_shows():
    import nbformat
    from pseudoface.params import project_root
    m = _run(GOOD, FEATURE, fused=[0.72, 0.75, 0.7, 0.73, 0.72])
    m["fold_details"] = [d | {"repeat": 0, "fold": i, "best_epoch": 3, "threshold": 0.5, "seconds": 1.0}
                         for i, d in enumerate(m["fold_details"])]
    predictions = pd.DataFrame({"repeat": 0, "label": [0, 1, 1, 0], "score": [0.2, 0.7, 0.4, 0.6],
                                "prediction": [0, 1, 0, 1]})
    errors = pd.DataFrame({"correct": [True, False], "valid_percent": [90.0, 80.0]})
    said = "the network, CNN-LSTM (whole session), not the fused model that leads the headline table"
    for text in (results.roc_sentence(m), results.confusion_sentence(predictions, m),
                 results.threshold_sentence(m, predictions), results.errors_sentence(errors, m), results.fold_sentence(m)):
        assert said in text, text
    nb = nbformat.read(project_root() / "notebooks" / "04_fold_analysis.ipynb", 4)
    for call in ("fold_table", "roc_figure", "confusion_figure", "threshold_sweep_figure", "scatter_errors_figure"):
        line = next(ln for c in nb.cells for ln in c.source.splitlines() if f"{call}(" in ln)
        assert "'The network (CNN-LSTM)" in line, call
