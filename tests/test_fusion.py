"""The fused model: a weighted sum of logits, w = 0 is the feature model, the checkpoint form scores
like the fitted model."""
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pseudoface.learning import fusion
from pseudoface.learning.baselines import fit_feature_model, fit_predict, linear_form, linear_logit


def _table(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.array([0, 1] * (n // 2))
    cols = ["a", "b", "c"]
    frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=cols)
    frame["a"] += 1.5 * y  # one informative functional
    frame.insert(0, "participant_id", [f"p{i}" for i in range(n)])
    frame.insert(1, "label", y)
    return frame, cols


def _known_feature_model(coef):
    """A fitted feature model whose logit is known by hand: no standardisation (mean 0, scale 1),
    the coefficients ``coef``, intercept 0, so its logit is ``x @ coef``."""
    table, cols = _table()
    model = fit_feature_model(table, cols, 0)
    scaler, lr = model[0], model[-1]
    scaler.mean_, scaler.scale_ = np.zeros(3), np.ones(3)
    lr.coef_, lr.intercept_ = np.array([coef], float), np.zeros(1)
    return model, cols


def test_the_fused_logit_is_the_weighted_sum_decided_at_zero(monkeypatch):
    """A worked example, numbers by hand: with the network's share w = 0.25 the fused logit is
    0.75 x the feature model's logit + 0.25 x the network's, decided at 0 (a tie counts as depressed)."""
    model, cols = _known_feature_model([1.0, 0.0, 0.0])  # the feature model's logit is column a
    test = pd.DataFrame({"a": [2.0, -1.0, 0.0, -4.0], "b": [9.0] * 4, "c": [-9.0] * 4})
    network = np.array([-3.0, 3.0, 0.5, 10.0])
    monkeypatch.setattr(fusion, "WEIGHT", 0.25)
    out = fusion.fuse(model, test, cols, network)
    # 0.75 * 2 + 0.25 * -3 = 0.75;  -0.75 + 0.75 = 0 (the tie);  0 + 0.125;  -3 + 2.5 = -0.5
    assert out["weight"] == 0.25
    np.testing.assert_allclose(out["score"], [0.679178699, 0.5, 0.531209370, 0.377540669], atol=1e-9)
    assert out["prediction"] == [1, 1, 1, 0]
    assert out["feature_model"]["coef"] == [1.0, 0.0, 0.0] and out["feature_model"]["intercept"] == 0.0


def test_the_fusion_weight_is_the_one_the_method_page_states():
    method = (Path(__file__).parent.parent / "method.qmd").read_text()
    share = re.search(r"the network's share ([0-9.]+)", method)
    assert share and float(share.group(1)) == fusion.WEIGHT, "method.qmd states another fusion weight than fusion.WEIGHT"


def test_weight_zero_is_exactly_the_feature_model_row(monkeypatch):
    table, cols = _table()
    ids = list(table.participant_id)
    train, test = ids[:30], ids[30:]
    monkeypatch.setattr(fusion, "WEIGHT", 0.0)
    t = table.set_index("participant_id")
    out = fusion.fuse(fit_feature_model(t.loc[train].reset_index(), cols, 0), t.loc[test], cols, np.full(10, 5.0))
    score, pred = fit_predict("feature_model", t.loc[train].reset_index(), t.loc[test].reset_index(), cols, 0)
    assert out["weight"] == 0.0 and out["prediction"] == pred.tolist()
    np.testing.assert_allclose(out["score"], score, rtol=1e-9)


def test_checkpoint_form_scores_like_the_fitted_feature_model():
    table, cols = _table()
    model = fit_feature_model(table, cols, 0)
    form = linear_form(model, cols)
    rows = table[cols].to_dict("records")
    np.testing.assert_allclose([linear_logit(form, r) for r in rows], model.decision_function(table[cols].to_numpy()),
                               rtol=1e-9, atol=1e-9)
    with pytest.raises(KeyError):  # a session missing a functional is an error, not a silent zero
        linear_logit(form, {"a": 1.0, "b": 0.0})
