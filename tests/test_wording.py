"""Generated sentences read as prose (issue 31.12): counts with the right number, one number for a
range whose ends agree, trivial predictors named as what they are."""
from __future__ import annotations

import nbformat

from pseudoface.learning.intervals import count_text, span_text
from pseudoface.params import project_root
from pseudoface.site.answers import range_text
from pseudoface.site.results import training_sentence


def test_counts_and_ranges_read_as_prose():
    assert count_text(1, "permutation") == "1 permutation" and count_text(2, "permutation") == "2 permutations"
    assert range_text([12, 12, 12]) == "12" and range_text([3, 7]) == "3–7"
    assert range_text([0.5, 0.5], 2) == "0.50" and span_text(0.5, 0.25, 2, sep=" to ") == "0.50 to 0.25"
    same = {"fold_details": [{"repeat": 0, "fold": f, "best_epoch": 12, "threshold": 0.4, "seconds": 3.0}
                             for f in range(2)]}
    text = training_sentence(same, 30)
    assert "12 to 12" not in text and "Chosen epoch 12 (" in text and "decision threshold 0.40," in text
    spread = {"fold_details": [{"repeat": 0, "fold": f, "best_epoch": 3 + f, "threshold": 0.4 + f / 10, "seconds": 3.0}
                               for f in range(2)]}
    assert "Chosen epochs 3 to 4" in training_sentence(spread, 30)


def test_mean_predictors_are_not_called_avec_baselines():
    for name in ("03_training.ipynb", "04_fold_analysis.ipynb"):
        nb = nbformat.read(project_root() / "notebooks" / name, 4)
        assert not any("(AVEC's baseline)" in c.source for c in nb.cells)
    from pseudoface.site import severity
    assert "(AVEC's baseline)" not in (severity.__doc__ + severity.regression_sentence.__doc__)


def test_a_threshold_the_same_in_every_fold_is_one_number():
    import pandas as pd
    from pseudoface.site.results import threshold_sentence
    metrics = {"macro_f1": {"mean": 0.6}, "fold_details": [
        {"repeat": 0, "fold": f, "best_epoch": 2, "threshold": 0.45, "seconds": 1.0} for f in range(3)]}
    predictions = pd.DataFrame({"label": [0, 1, 1, 0], "score": [0.2, 0.7, 0.4, 0.6]})
    text = threshold_sentence(metrics, predictions)
    assert "own threshold (0.450)" in text and "0.450 to 0.450" not in text
