import numpy as np
import pytest
import torch

from conftest import make_params
from pseudoface.corpora.corpus import Session
from pseudoface.encoding.encode import encode, encode_frames, encode_windows, window_starts
from pseudoface.corpora.face import rotation_matrix
from pseudoface.learning.model import CNNLSTM, count_parameters
from pseudoface.encoding.normalise import fill_short_gaps, normalise_landmarks, normalise_session
from pseudoface.params import ParamsError, params_from_dict
from pseudoface.corpora.synthetic import Person, animate


def _frames(seconds=12.0, seed=0, score=5):
    return animate(Person(300, score, 0, 1.0, 1.0), seconds, 30.0, np.random.default_rng(seed))


def _params(**sections):
    return params_from_dict(sections)


LANDMARKS = {"landmark_rows": True, "geometry_rows": False}  # the paper's image: the 68 landmark rows (+ pose)


def _lm_params(**sections):
    """Params for the 68-landmark-row image (the default image is the compact one)."""
    return params_from_dict(sections | {"encode": LANDMARKS | sections.get("encode", {})})


def test_window_counts():
    assert len(window_starts(60, 60, 30)) == 1
    assert len(window_starts(59, 60, 30)) == 0
    assert len(window_starts(180, 60, 30)) == 5  # floor((180 - 60) / 30) + 1
    f = _frames(12.0)
    norm = normalise_landmarks(f["landmarks"], ~f["lost"], 30.0, _params())
    enc = encode_windows(norm, _params(encode={"max_missing_fraction": 1.0}))
    T = norm.landmarks.shape[0]  # 12 s at 15 fps
    assert T == 180 and enc.windows == 5 and enc.skipped_windows == 0


@pytest.mark.parametrize("sections, shape", [
    ({"encode": LANDMARKS}, (6, 70, 60)),  # X, Y, Z and their velocities
    ({"encode": LANDMARKS | {"include_pose": False}}, (6, 68, 60)),
    ({"encode": LANDMARKS | {"geometry_rows": True}}, (6, 72, 60)),  # + mouth and eye/brow geometry rows
    ({"encode": LANDMARKS | {"window_seconds": 2.0, "hop_seconds": 1.0}, "normalise": {"target_fps": 10.0}}, (6, 70, 20)),
])
def test_window_shapes(sections, shape):
    f = _frames()
    p = _params(**sections)
    enc = encode_windows(normalise_landmarks(f["landmarks"], ~f["lost"], 30.0, p), p)
    assert enc.images.shape[1:] == shape and enc.images.dtype == np.float32
    assert enc.images.min() >= 0 and enc.images.max() <= 1
    assert len(enc.row_names) == shape[1] and enc.row_names[0] == "jaw 0" and enc.row_names[-1 - (shape[1] - 68)].startswith("mouth")


def test_the_default_window_image_is_pose_and_geometry():
    f = _frames()
    p = _params()
    enc = encode_windows(normalise_landmarks(f["landmarks"], ~f["lost"], 30.0, p), p)
    assert enc.images.shape[1:] == (6, 4, 60) and enc.images.dtype == np.float32
    assert enc.row_names == ("pose rotation", "pose translation", "geometry mouth", "geometry eyes")


@pytest.mark.parametrize("size, shape", [(0, (16, 3, 68, 3)), (32, (16, 3, 32, 32))])
def test_frame_layout_shapes(size, shape):
    f = _frames()
    p = _params(encode={"layout": "frame", "frame_size": size})
    enc = encode(normalise_landmarks(f["landmarks"], ~f["lost"], 30.0, p), p)
    assert enc.images.shape == shape
    assert np.allclose(enc.images[:, 0], enc.images[:, 2])  # one matrix copied into 3 channels


def test_series_layout_for_edaic(edaic_root):
    from pseudoface.corpora.read import load_corpus
    c = load_corpus(make_params(edaic_root))
    p = _params()
    enc = encode(normalise_session(next(iter(c.sessions.values())), p), p)
    assert enc.images.shape[1:] == (2, 31, 60) and enc.row_names[0] == "pose_Tx" and enc.row_names[-1] == "AU45_r"
    with pytest.raises(Exception, match="E-DAIC ships no"):
        encode(normalise_session(next(iter(c.sessions.values())), p), _params(encode={"layout": "frame"}))


@pytest.mark.parametrize("landmarks", [True, False])
def test_alignment_makes_landmark_rows_invariant_to_similarity_transforms(landmarks):
    f = _frames(8.0)
    valid = ~f["lost"]
    p = _params(encode={"landmark_rows": landmarks, "geometry_rows": True})
    base = encode_windows(normalise_landmarks(f["landmarks"], valid, 30.0, p), p).images
    R = rotation_matrix(0.3, -0.4, 0.2)
    moved = 1.7 * np.einsum("ij,tnj->tni", R, f["landmarks"]) + np.array([40.0, -25.0, 300.0])
    other = encode_windows(normalise_landmarks(moved, valid, 30.0, p), p).images
    face = list(range(68)) + [70, 71] if landmarks else [2, 3]  # landmark and geometry rows (pose rows exempt)
    np.testing.assert_allclose(other[:, :, face], base[:, :, face], atol=2e-4)


def test_halving_movement_changes_images_and_keeps_amplitude():
    f = _frames(8.0)
    valid = ~f["lost"]
    xyz = f["landmarks"]
    mean_face = np.median(xyz[valid], axis=0)
    half = np.where(valid[:, None, None], mean_face + 0.5 * (xyz - mean_face), xyz)
    p = _params(encode={"include_pose": False}, normalise={"align": False})
    a = encode_windows(normalise_landmarks(xyz, valid, 30.0, p), p).images
    b = encode_windows(normalise_landmarks(half, valid, 30.0, p), p).images
    assert not np.allclose(a, b, atol=1e-3)
    assert np.abs(b - 0.5).mean() < 0.7 * np.abs(a - 0.5).mean()


def test_masked_frames_never_produce_nan():
    f = _frames(10.0)
    xyz = f["landmarks"].copy()
    valid = ~f["lost"]
    valid[40:100] = False  # a long gap
    xyz[40:100] = np.nan
    xyz[200] = np.inf
    valid[200] = False
    p = _params(encode={"max_missing_fraction": 1.0})
    norm = normalise_landmarks(xyz, valid, 30.0, p)
    assert np.isfinite(norm.landmarks).all() and np.isfinite(norm.pose).all()
    for layout in ("window", "frame"):
        q = _params(encode={"layout": layout, "max_missing_fraction": 1.0})
        assert np.isfinite(encode(norm, q).images).all()


def test_gap_filling_short_only():
    v = np.arange(10, dtype=np.float32)[:, None]
    valid = np.ones(10, bool)
    valid[[2, 5, 6, 7]] = False
    out, ok = fill_short_gaps(v, valid, max_gap=1)
    assert ok[2] and out[2, 0] == pytest.approx(2.0) and not ok[5:8].any()


def test_windows_with_too_many_missing_frames_are_skipped():
    f = _frames(12.0)
    valid = ~f["lost"]
    valid[:150] = False  # first 5 s masked
    p = _params(encode={"max_missing_fraction": 0.3})
    enc = encode_windows(normalise_landmarks(f["landmarks"], valid, 30.0, p), p)
    assert enc.skipped_windows >= 2 and enc.windows + enc.skipped_windows == 5


def test_preset_parameter_counts():
    assert count_parameters(CNNLSTM(3, "seed")) == 225_473  # the paper's ~225k
    light = count_parameters(CNNLSTM(3, "light"))
    assert light < 50_000


@pytest.mark.parametrize("preset, shape", [("light", (2, 4, 3, 70, 60)), ("seed", (2, 16, 3, 32, 32))])
def test_forward_backward(preset, shape):
    torch.manual_seed(0)
    model = CNNLSTM(shape[2], preset)
    x = torch.rand(shape)
    logits = model(x)
    assert logits.shape == (2,)
    torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor([0.0, 1.0])).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.slow
def test_model_fits_a_tiny_separable_set():
    torch.manual_seed(0)
    x = torch.rand(8, 4, 3, 20, 16) * 0.2 + 0.4
    y = torch.tensor([0, 1] * 4, dtype=torch.float32)
    x[y == 1, :, :, :5] += 0.3  # class 1: brighter top rows
    model = CNNLSTM(3, "light", dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.05


def test_channels_last_weights_compute_the_same_network():
    torch.manual_seed(0)
    model = CNNLSTM(3, "light").eval()
    assert model.cnn[0].weight.is_contiguous(memory_format=torch.channels_last)
    plain = CNNLSTM(3, "light").eval()
    plain.cnn = plain.cnn.to(memory_format=torch.contiguous_format)
    plain.load_state_dict(model.state_dict())
    x = torch.rand(2, 3, 3, 70, 60)
    with torch.no_grad():
        torch.testing.assert_close(model(x), plain(x), atol=1e-5, rtol=1e-5)


def test_input_scaling_makes_rows_comparable_and_is_saved():
    """Per-(channel, row) constants from the training images: a row recorded on another scale gives
    the same network output once the constants are refitted; the constants travel in the state dict."""
    from pseudoface.learning.model import set_input_scaling
    rng = np.random.default_rng(0)
    images = [rng.normal(0.5, 0.02, (6, 3, 10, 8)).astype(np.float32) for _ in range(4)]
    torch.manual_seed(0)
    model = CNNLSTM(3, "light", rows=10).eval()
    set_input_scaling(model, images)
    ref = np.concatenate(images).astype(np.float64)
    np.testing.assert_allclose(model.input_shift[..., 0].numpy(), ref.mean(axis=(0, 3)), atol=1e-6)
    np.testing.assert_allclose(model.input_scale[..., 0].numpy(), ref.std(axis=(0, 3)), rtol=1e-4)
    x = torch.from_numpy(np.stack(images)[:, :4])  # (B=4, K=4, C, R, W)
    out = model(x)
    stretched = [a.copy() for a in images]
    for a in stretched:
        a[:, :, 3] = 0.5 + 10 * (a[:, :, 3] - 0.5)  # row 3 moves ten times as much
    set_input_scaling(model, stretched)
    torch.testing.assert_close(model(torch.from_numpy(np.stack(stretched)[:, :4])), out, atol=1e-4, rtol=1e-4)
    assert {"input_shift", "input_scale"} <= set(model.state_dict())
    assert count_parameters(model) == count_parameters(CNNLSTM(3, "light"))  # constants, not parameters


def test_platt_map_and_calibration_summary():
    from pseudoface.learning.evaluate import calibration_summary
    from pseudoface.learning.task import fit_platt
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    logits = 3.0 * (2 * y - 1) + rng.normal(0, 3, 400)  # informative but overconfident by 3x... and scaled
    a, b = fit_platt(logits, y)
    assert 0 < a < 1.0  # shrinks overconfident logits
    assert fit_platt(logits, np.zeros(400, int)) == (1.0, 0.0)  # one class: identity
    perfect = calibration_summary(np.array([0, 0, 1, 1]), np.array([0.0, 0.0, 1.0, 1.0]), n_bins=2)
    assert perfect["brier"] == 0 and [b["observed_rate"] for b in perfect["bins"]] == [0.0, 1.0]
    s = calibration_summary(y, rng.random(400), n_bins=5)
    assert [b["count"] for b in s["bins"]] == [80] * 5 and 0.2 < s["brier"] < 0.45


def test_head_rotation_is_measured_from_the_template_and_translation_from_the_session_median():
    """A head held pitched 10 degrees all session (the template face, rotated, still): the rotation row
    shows the 10 degrees, 0.5 + 10 / (2 x encode.rotation_range_deg 20) = 0.75 in its pitch channel,
    because rotation is measured from the template face, not from the session's median pose (which
    would give 0.5 and hide a lowered head); the translation row is relative to the session's median
    (0.5: the head did not move); every velocity channel is 0.5 (no change)."""
    from pseudoface.corpora.face import template_face
    p = params_from_dict({})
    assert p.encode.rotation_range_deg == 20.0
    face = template_face() @ rotation_matrix(np.deg2rad(10.0), 0.0, 0.0).T * 1.1 + np.array([5.0, 20.0, 700.0])
    enc = encode_windows(normalise_landmarks(np.repeat(face[None], 150, axis=0), np.ones(150, bool), 30.0, p), p)
    rows = list(enc.row_names)
    rotation, translation = enc.images[:, :, rows.index("pose rotation")], enc.images[:, :, rows.index("pose translation")]
    np.testing.assert_allclose(rotation[:, 0], 0.75, atol=1e-5)  # pitch, (N, W)
    np.testing.assert_allclose(rotation[:, 1:], 0.5, atol=1e-5)  # yaw, roll; velocities
    np.testing.assert_allclose(translation, 0.5, atol=1e-5)


def test_mirror_is_an_involution_that_swaps_sides_and_keeps_amplitude():
    from pseudoface.encoding.encode import RowLayout, mirror_images
    from pseudoface.corpora.face import MIRROR
    f = animate(Person(300, 3, 0, 1.0, 1.0), 8, 30, np.random.default_rng(2))
    p = _lm_params()
    norm = normalise_landmarks(f["landmarks"], ~f["lost"], 30.0, p)
    images = encode_windows(norm, p).images  # (N, 6, 70, W)
    layout = RowLayout.of(p.encode)
    assert layout == RowLayout(landmarks=True, pose=True, geometry=False) and layout.holds(images.shape)
    flipped = mirror_images(images, layout)
    np.testing.assert_allclose(mirror_images(flipped, layout), images, atol=1e-6)
    assert images.shape[1] == 6  # X, Y, Z and their velocities
    yz = [1, 2, 4, 5]
    np.testing.assert_allclose(flipped[:, yz, 36], images[:, yz, MIRROR[36]])  # y/z of an eye corner: the other one's
    np.testing.assert_allclose(flipped[:, [0, 3], 36], 1 - images[:, [0, 3], MIRROR[36]], atol=1e-6)  # x flips about 0.5
    np.testing.assert_allclose(np.abs(flipped - 0.5).sum(), np.abs(images - 0.5).sum(), rtol=1e-5)  # same amplitude


def test_geometry_rows_show_a_wider_mouth_and_survive_mirroring():
    from pseudoface.encoding.encode import RowLayout, mirror_images
    f = _frames(16.0, seed=3)
    xyz = f["landmarks"].copy()
    half = len(xyz) // 2
    xyz[half:, 48, 0] -= 4.0  # a held smile in the second half: the corners move apart
    xyz[half:, 54, 0] += 4.0
    p = _lm_params(encode={"geometry_rows": True, "max_missing_fraction": 1.0})
    norm = normalise_landmarks(xyz, np.ones(len(xyz), bool), 30.0, p)
    enc = encode_windows(norm, p)
    assert enc.row_names[-2:] == ("geometry mouth", "geometry eyes")
    width = enc.images[:, 1, 70].mean(axis=1)  # channel 1 of the mouth row: mouth width
    assert width[-1] - width[0] > 0.2  # wider in the smiling half, on the [0, 1] scale
    eyes = enc.images[:, 0, 71].mean(axis=1)  # eye opening: untouched by the smile
    assert abs(eyes[-1] - eyes[0]) < 0.05
    np.testing.assert_allclose(enc.images[:, 2, 71], 0.5)  # the unused third channel is neutral
    layout = RowLayout.of(p.encode)
    assert layout.rows == 72 and layout.names == enc.row_names
    flipped = mirror_images(enc.images, layout)
    np.testing.assert_array_equal(flipped[:, :, 70:], enc.images[:, :, 70:])  # symmetric measures
    np.testing.assert_allclose(mirror_images(flipped, layout), enc.images, atol=1e-6)
    no_pose = encode_windows(norm, _lm_params(encode={"geometry_rows": True, "include_pose": False,
                                                      "max_missing_fraction": 1.0})).images
    assert no_pose.shape[2] == 70  # geometry right after the landmarks: mirroring must not treat it as pose
    no_pose_layout = RowLayout(landmarks=True, pose=False, geometry=True)
    np.testing.assert_array_equal(mirror_images(no_pose, no_pose_layout)[:, :, 68:], no_pose[:, :, 68:])
    with pytest.raises(ValueError, match="70 rows"):  # told the wrong layout: refused, never misread
        mirror_images(no_pose, layout)


def test_compact_images_keep_pose_and_geometry_and_mirror_like_the_full_ones():
    """``landmark_rows: false``: the same pose and geometry rows as the full image, without the 68
    landmark rows; mirroring flips yaw, roll and translation x and leaves geometry alone."""
    from pseudoface.encoding.encode import RowLayout, mirror_images
    f = _frames(16.0, seed=4)
    full_p = _params(encode={"geometry_rows": True, "landmark_rows": True, "max_missing_fraction": 1.0})
    compact_p = _params(encode={"geometry_rows": True, "landmark_rows": False, "max_missing_fraction": 1.0})
    norm = normalise_landmarks(f["landmarks"], np.ones(len(f["landmarks"]), bool), 30.0, full_p)
    full, compact = encode_windows(norm, full_p), encode_windows(norm, compact_p)
    assert compact.row_names == ("pose rotation", "pose translation", "geometry mouth", "geometry eyes")
    assert compact.images.shape[1:3] == (6, 4)
    np.testing.assert_array_equal(compact.images, full.images[:, :, 68:])
    flipped = mirror_images(compact.images, RowLayout.of(compact_p.encode))
    np.testing.assert_allclose(flipped, mirror_images(full.images, RowLayout.of(full_p.encode))[:, :, 68:], atol=1e-6)
    np.testing.assert_array_equal(flipped[:, :, 2:], compact.images[:, :, 2:])  # geometry: symmetric
    np.testing.assert_allclose(flipped[:, 1, 0], 1 - compact.images[:, 1, 0], atol=1e-6)  # yaw flips
    with pytest.raises(ParamsError, match="encode.landmark_rows: false leaves no rows"):  # refused in params
        _params(encode={"landmark_rows": False, "include_pose": False, "geometry_rows": False})


def test_image_blocks_give_each_kind_of_row_its_own_unit():
    """Notebook 02's blocks: landmark and geometry rows in inter-ocular units, pose rows as a fraction
    of their range, in row order; a compact image (no landmark rows) and series get the same treatment."""
    from pseudoface.encoding.encode import row_names
    from pseudoface.site.images import image_blocks
    p = _params(encode={"geometry_rows": True})
    full_rows = row_names(True) + ("geometry mouth", "geometry eyes")
    image = np.full((6, 72, 4), 0.6)  # every value 0.1 above neutral
    blocks = image_blocks(image, full_rows, p)
    assert [len(b["rows"]) for b in blocks] == [68, 2, 2]
    assert [b["unit"].split("<br>")[1] for b in blocks] == ["(IOD)", "(range)", "(IOD)"]
    r = 2 * p.encode.displacement_range
    np.testing.assert_allclose([b["z"].max() for b in blocks], [0.1 * r, 0.2, 0.1 * r])
    compact = image_blocks(image[:, 68:], full_rows[68:], p)
    assert [b["rows"] for b in compact] == [("pose rotation", "pose translation"), ("geometry mouth", "geometry eyes")]
    series = image_blocks(np.full((1, 3, 4), 0.6), ("pose_Tx", "gaze_0_x", "AU01_r"), p)
    assert [b["unit"] for b in series] == ["mm", "unit vector", "intensity<br>(0–5)"]  # one scale per unit
    np.testing.assert_allclose([b["z"].max() for b in series], [12.0, 0.07, 3.0])  # AU: 0.6 x 5 from its neutral 0
