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
