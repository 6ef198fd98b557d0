"""The session network (model.scope: session): spans in training, whole sessions in scoring."""
import numpy as np
import pytest
import torch

from pseudoface.learning import train as train_mod
from pseudoface.encoding.encode import RowLayout
from pseudoface.learning.model import SessionNet, model_from_params
from pseudoface.params import ParamsError, params_from_dict


def test_spans_are_contiguous_and_between_half_and_the_cap():
    rng = np.random.default_rng(0)
    # each window holds its own index, so a span shows where it came from
    sessions = [np.arange(n, dtype=np.float32)[:, None, None, None] * np.ones((1, 6, 4, 3), np.float32)
                for n in (40, 25, 60)]
    lengths = set()
    for _ in range(50):
        batch = train_mod.sample_spans(sessions, 16, None, rng)  # (B, L, C, R, W)
        B, L = batch.shape[:2]
        lengths.add(L)
        assert B == 3 and 8 <= L <= 16
        starts = batch[:, :, 0, 0, 0]
        np.testing.assert_array_equal(np.diff(starts, axis=1), 1)  # contiguous windows
    assert len(lengths) > 3  # the span length varies: an augmentation
    short = train_mod.sample_spans([s[:5] for s in sessions], 16, None, rng)
    assert 3 <= short.shape[1] <= 5  # never longer than the shortest session


def test_spans_of_landmark_images_are_mirrored_half_the_time():
    rng = np.random.default_rng(1)
    layout = RowLayout(landmarks=False, pose=True, geometry=True)
    # every window of a session alike: a span is the same wherever it starts, unless mirrored
    sessions = [np.repeat(np.random.default_rng(i).random((1, 6, 4, 8), dtype=np.float32), 30, axis=0)
                for i in range(40)]
    batch = train_mod.sample_spans(sessions, 10, layout, rng)
    flipped = [not np.allclose(b[:, 1, 0], s[: len(b), 1, 0]) for b, s in zip(batch, sessions)]
    assert 8 < sum(flipped) < 32
    for b, s, f in zip(batch, sessions, flipped):  # the yaw channel of the rotation row flips about 0.5
        np.testing.assert_allclose(b[:, 1, 0], 1 - s[: len(b), 1, 0] if f else s[: len(b), 1, 0], atol=1e-6)


def test_training_batches_are_participants_and_scoring_reads_the_whole_session(monkeypatch):
    rng = np.random.default_rng(0)
    images = {f"p{i}": rng.random((20 + i, 6, 4, 8), dtype=np.float32) + (i % 2) * 0.2 for i in range(8)}
    labels = {pid: i % 2 for i, pid in enumerate(images)}
    params = params_from_dict({"train": {"epochs": 1, "batch_size": 4, "clips_per_participant": 2,
                                         "span_windows": 12}})
    assert params.model.scope == "session"
    seen = []
    real = SessionNet.forward

    def forward(self, x):
        seen.append((self.training, tuple(x.shape[:2])))
        return real(self, x)
    monkeypatch.setattr(SessionNet, "forward", forward)
    ids = list(images)
    trained = train_mod.train_model(images, labels, ids[:6], ids[6:], params, 0, torch.device("cpu"))
    steps = [s for training, s in seen if training]
    assert [b for b, _ in steps] == [4, 4, 4] and all(6 <= L <= 12 for _, L in steps)  # 6 participants x 2 spans
    scored = [s for training, s in seen if not training]
    assert (1, 26) in scored and (1, 27) in scored  # validation participants scored whole, one at a time
    logits = train_mod.score(trained.model, images, ["p7"], params, torch.device("cpu"))
    trained.model.eval()
    with torch.no_grad():
        whole = trained.model(torch.from_numpy(images["p7"][None]))
    assert logits[0] == pytest.approx(float(whole[0]), abs=1e-6)


def test_window_features_are_the_same_in_any_chunking():
    torch.manual_seed(0)
    model = SessionNet(6, rows=4).eval()
    x = torch.rand(2, 7, 6, 4, 60)
    with torch.no_grad():
        np.testing.assert_allclose(model.window_features(x, chunk=3), model.window_features(x), atol=1e-6)
        assert model.embed(x).shape == (2, 8 * 32)


def test_a_short_event_shows_in_the_window_features_where_an_average_would_dilute_it():
    """Mean and max pooling of the last feature map: one event in one window changes that
    window's max features by more than its mean features."""
    torch.manual_seed(0)
    model = SessionNet(6, rows=4).eval()
    x = torch.full((1, 3, 6, 4, 60), 0.5)
    y = x.clone()
    y[0, 1, 0, 3, 28:32] = 1.0  # a blink-length dip in the eye row of the middle window
    with torch.no_grad():
        a, b = model.window_features(x), model.window_features(y)
    change = (b - a).abs()[0, 1]
    mean_part, max_part = change[:48], change[48:]
    assert max_part.sum() > mean_part.sum() > 0
    assert torch.allclose(a[0, 0], b[0, 0]) and torch.allclose(a[0, 2], b[0, 2])  # other windows untouched


def test_the_session_network_is_built_from_params_and_refuses_the_seed_preset():
    model = model_from_params(params_from_dict({}).model, (6, 4, 60))
    assert isinstance(model, SessionNet) and model.scaled
    with pytest.raises(ParamsError, match="model.preset: seed is the paper's clip network"):
        params_from_dict({}, ["model.preset=seed"])
    params_from_dict({}, ["model.preset=seed", "model.scope=clip"])
