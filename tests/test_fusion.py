"""The fused model: a weighted sum of logits, w = 0 is the feature model, the checkpoint form scores
like the fitted model."""
import numpy as np
import pandas as pd
import pytest

from pseudoface import fusion
from pseudoface.baselines import fit_feature_model, fit_predict, linear_form, linear_logit


def _table(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.array([0, 1] * (n // 2))
    cols = ["a", "b", "c"]
    frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=cols)
    frame["a"] += 1.5 * y  # one informative functional
    frame.insert(0, "participant_id", [f"p{i}" for i in range(n)])
    frame.insert(1, "label", y)
    return frame, cols


def test_the_fused_logit_is_the_weighted_sum_decided_at_zero():
    table, cols = _table()
    ids = list(table.participant_id)
    network = np.linspace(-3, 3, 10)
    out = fusion.fuse(fit_feature_model(table.iloc[:30], cols, 0), table.iloc[30:], cols, network)
    model = fit_feature_model(table.iloc[:30], cols, 0)
    z = (1 - fusion.WEIGHT) * model.decision_function(table.iloc[30:][cols].to_numpy()) + fusion.WEIGHT * network
    assert out["weight"] == fusion.WEIGHT and 0 < fusion.WEIGHT < 1
    np.testing.assert_allclose(out["score"], 1 / (1 + np.exp(-z)), rtol=1e-9)
    assert out["prediction"] == (z >= 0).astype(int).tolist()


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
