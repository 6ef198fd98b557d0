"""The fused model: one weight on inner validation, w = 0 is the feature model, the checkpoint form
scores like the fitted model."""
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


def test_weight_follows_whichever_score_inner_validation_supports():
    rng = np.random.default_rng(1)
    y = np.array([0, 1] * 10, float)
    informative, noise = 4 * (y - 0.5), rng.normal(size=20)
    assert fusion.choose_weight(y, noise, informative, 1.0) == 1.0  # the network carries it
    assert fusion.choose_weight(y, informative, noise, 1.0) == 0.0  # the feature model carries it


def test_weight_zero_is_exactly_the_feature_model_row(monkeypatch):
    table, cols = _table()
    ids = list(table.participant_id)
    train, test = ids[:30], ids[30:]
    inner_train, inner_val = train[:22], train[22:]
    monkeypatch.setattr(fusion, "WEIGHTS", (0.0,))
    out = fusion.fuse(table, cols, inner_train, inner_val, train, test, np.zeros(8), np.full(10, 5.0), 1.0, 0)
    t = table.set_index("participant_id")
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
