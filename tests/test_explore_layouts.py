"""Notebooks 01 and 02 per corpus layout (issue 22, items 1 and 5): every pseudo-image row is shown as
its distance from its own neutral (AU intensity from 0, not 0.5), each group of series rows has its own
colour scale and unit, the class-difference sentence says "more"/"less" as the map is drawn, a series
corpus (E-DAIC) is explored as pose, gaze and AU series, and the landmark path is as before."""
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pseudoface.encoding import encode
from pseudoface.site import explore, images, plots
from pseudoface.corpora import openface
from pseudoface.corpora.corpus import AUS, SERIES
from pseudoface.encoding.encode import encode_frames, encode_windows
from pseudoface.corpora.face import template_face
from pseudoface.encoding.normalise import normalise_landmarks, normalise_series, normalise_session
from pseudoface.params import params_from_dict
from pseudoface.corpora.read import load_corpus
from pseudoface.corpora.synthetic import write_corpus

PLANTED_AU = "AU12_r"
PLANTED_INTENSITY = 2.0


@pytest.fixture(scope="module")
def planted_root(tmp_path_factory) -> Path:
    """A small E-DAIC-layout corpus whose action units are at rest (0) in every frame, except AU12 at
    intensity 2 throughout in the depressed class: more AU activity in the depressed class."""
    root = write_corpus(tmp_path_factory.mktemp("planted") / "corpus", participants=8, seconds=20, seed=11,
                        fmt="e_daic")
    labels = {}
    for split in ("train", "dev", "test"):
        t = pd.read_csv(root / f"{split}_split.csv")
        labels |= dict(zip(t.Participant_ID.astype(str), (t.PHQ_Score >= 10).astype(int)))
    assert set(labels.values()) == {0, 1}
    for csv in sorted(root.glob("*_P/features/*.csv")):
        frame = pd.read_csv(csv, skipinitialspace=True)
        for au in AUS:
            frame[au] = 0.0
        frame[PLANTED_AU] = PLANTED_INTENSITY * labels[csv.name.split("_")[0]]
        openface.write_csv(csv, frame.timestamp.to_numpy(), frame.confidence.to_numpy(), frame.success.to_numpy(),
                           {c: frame[c].to_numpy() for c in frame.columns[5:]})
    return root


def _context(root, participant_data=True, **sections) -> explore.Context:
    params = params_from_dict({"dataset": "synthetic", "data": {"root": str(root), "min_valid_seconds": 5}, **sections})
    return explore.Context(params, load_corpus(params), participant_data)


def _block(blocks: list, group: str) -> dict:
    found = [b for b in blocks if b.get("group") == group]
    assert len(found) == 1, [b.get("group") for b in blocks]
    return found[0]


# ---------------------------------------------------------------- neutrals, per layout

def test_a_still_face_and_resting_series_have_no_activity_in_any_layout():
    """What the encoder writes for 'nothing happens' is each row's neutral: a still face equal to the
    template (68 landmark rows, pose and geometry rows) and series with a constant pose and gaze and
    every AU at 0 (at rest) show zero activity in every row and channel."""
    lm = params_from_dict({"encode": {"landmark_rows": True, "geometry_rows": True}})
    still = np.repeat(template_face()[None] * 1.1 + np.array([5.0, 20.0, 700.0]), 150, axis=0)  # (T, 68, 3) mm
    enc = encode_windows(normalise_landmarks(still, np.ones(150, bool), 30.0, lm), lm)
    assert enc.images.shape[1:3] == (6, 72)
    np.testing.assert_allclose(images.activity(enc.images, enc.row_names), 0, atol=2e-3)

    series = np.zeros((150, len(SERIES)), np.float32)
    series[:, :14] = np.linspace(0.1, 1.4, 14)  # constant head pose and gaze, off zero
    p = params_from_dict({})
    enc = encode_windows(normalise_series(series, SERIES, np.ones(150, bool), 30.0, p), p)
    neutral = encode.row_neutrals(enc.row_names, enc.images.shape[1])
    assert neutral.shape == (2, 31)
    assert (neutral[0, :14] == 0.5).all() and (neutral[0, 14:] == 0).all() and (neutral[1] == 0.5).all()
    np.testing.assert_allclose(images.activity(enc.images, enc.row_names), 0, atol=1e-6)
    for b in images.image_blocks(enc.images[0], enc.row_names, p):
        np.testing.assert_allclose(b["z"], 0, atol=1e-5)  # white: no activity, AU rows included


def test_au_rows_at_rest_show_no_activity(planted_root):
    """Old behaviour: AU rows drawn as |encoded value − 0.5| sat at ~0.5 (AU intensity / 5 near 0)."""
    cm = images.class_mean_blocks(_context(planted_root))
    rest = _block(cm["not depressed"], "AU intensity")
    assert rest["z"].shape[:2] == (1, len(AUS))
    np.testing.assert_allclose(rest["z"], 0, atol=1e-6)
    active = _block(cm["depressed"], "AU intensity")
    row = rest["rows"].index(PLANTED_AU)
    z = active["z"][0, row]  # in intensity units (0-5); masked frames are neutral (at rest)
    assert z.min() > 0.8 * PLANTED_INTENSITY and z.max() < PLANTED_INTENSITY + 1e-5
    np.testing.assert_allclose(np.delete(active["z"], row, axis=1), 0, atol=1e-6)
    assert cm["what"] == "activity" and "0 at rest" in cm["intro"]


def test_more_au_activity_in_the_depressed_class_is_a_positive_difference_said_more(planted_root):
    cm = images.class_mean_blocks(_context(planted_root))
    diff = _block(cm["difference"], "AU intensity")
    row = diff["rows"].index(PLANTED_AU)
    assert diff["z"][0, row].min() > 0.9 * PLANTED_INTENSITY  # red in the difference map
    sentence = cm["sentence"]
    au_part = re.search(r"AU intensity: (.*?\))(?:; |\. )", sentence).group(1)
    assert re.fullmatch(rf"{PLANTED_AU} \+[\d.]+ intensity \(more in the depressed class\)", au_part), sentence
    assert "less in the depressed class" not in au_part and "Red: more in the depressed class" in sentence
    # the sentence's sign follows the map whatever the group: flip the map, flip the words
    flipped = [b | {"z": -b["z"]} for b in cm["difference"]]
    assert re.search(rf"AU intensity: {PLANTED_AU} −[\d.]+ intensity \(less in the depressed class\)",
                     images.class_difference_sentence(flipped, "activity"))


def test_page_1_medians_and_page_2_means_say_which_statistic_they_compare(planted_root):
    """Issue 31, point 9: on E-DAIC, AU12 was "less" on page 1 and "more" on page 2 with no word of the
    statistic. A median and a mean of participants can disagree (one very active depressed participant):
    each sentence must say which it is, so the pages no longer read as a contradiction."""
    # 3 participants per class; AU12 per-participant means: the depressed median is lower, its mean higher
    intensity = pd.DataFrame({"label": [0, 0, 0, 1, 1, 1], "au": [PLANTED_AU] * 6,
                              "intensity": [0.5, 0.6, 0.7, 0.3, 0.4, 3.0]})
    assert intensity.groupby("label").intensity.median().diff().iloc[-1] < 0
    assert intensity.groupby("label").intensity.mean().diff().iloc[-1] > 0
    page1 = explore.au_intensity_sentence(intensity)
    assert f"median, over a class's participants, of each participant's mean intensity over the session: " \
           f"{PLANTED_AU}, 0.60 (not depressed) vs 0.40 (depressed), less in the depressed class" in page1, page1
    assert "These are medians: the Pseudo-images page compares class means" in page1
    page2 = images.class_mean_blocks(_context(planted_root))["sentence"]
    assert page2.startswith("Largest difference per row group in mean activity (the mean over a class's "
                            "participants of each participant's mean over its windows)"), page2
    assert "These are means: the Corpus exploration page compares the median participant's" in page2


def test_each_series_group_has_its_own_block_unit_and_colour_scale(planted_root):
    ctx = _context(planted_root)
    cm = images.class_mean_blocks(ctx)
    groups = [b["group"] for b in cm["not depressed"]]
    assert groups == list(encode.SERIES_GROUPS)[:5]  # head translation, head rotation, gaze direction, gaze angle, AU
    units = [b["unit"] for b in cm["not depressed"]]
    assert units == ["mm", "degrees", "unit vector", "degrees", "intensity<br>(0–5)"]
    assert cm["not depressed"][1]["title"] == "head rotation: size of the change from the session's median"
    assert len(cm["limits"]) == len(groups)
    assert [len(b["rows"]) for b in cm["difference"]] == [3, 3, 6, 2, 17]
    fig = plots.pseudo_image_figure(cm["difference"], "difference", cm["channels"], x_values=cm["x_values"])
    axes = [fig.layout[f"coloraxis{i + 1}" if i else "coloraxis"] for i in range(len(groups))]
    assert [a.colorbar.title.text for a in axes] == [b["unit"] for b in cm["difference"]]
    bars = sorted((a.colorbar.y - a.colorbar.len / 2, a.colorbar.y + a.colorbar.len / 2) for a in axes)
    assert all(lo_next >= hi - 1e-9 for (_, hi), (lo_next, _) in zip(bars, bars[1:]))  # colour bars do not overlap
    # the example window of a series corpus: blocks in the groups' units, AU intensity itself
    ex = images.example_window(ctx)
    assert "raw" not in ex and ex["image"].shape[:2] == (2, 31)
    blocks = images.image_blocks(ex["image"], ex["rows"], ctx.params)
    assert [b["group"] for b in blocks] == groups and (_block(blocks, "AU intensity")["z"] >= 0).all()
    assert "velocity" in images.velocity_caption(ex["rows"]) or "change" in images.velocity_caption(ex["rows"])
    assert images.channel_names(ex["rows"]) == ("",)  # one channel: the blocks have headings instead


def test_the_shared_series_draw_blink_presence_on_its_own_0_to_1_scale(planted_root):
    """data.signals: shared_series (the cross-corpus input): 27 rows, no gaze angles, blink presence
    (AU45_c, 0/1) as its own block whose neutral is 0 and whose scale ends at 1, not AU intensity's 5."""
    ctx = _context(planted_root, data={"root": str(planted_root), "min_valid_seconds": 5, "signals": "shared_series"})
    cm = images.class_mean_blocks(ctx)
    blocks = cm["not depressed"]
    assert [b["group"] for b in blocks] == ["head translation", "head rotation", "gaze direction", "AU intensity",
                                            "AU presence"]
    assert [len(b["rows"]) for b in blocks] == [3, 3, 6, 14, 1] and blocks[-1]["unit"] == "presence<br>(0–1)"
    assert encode.row_neutrals(("AU45_c", "AU12_r", "pose_Tx"), 2)[0].tolist() == [0.0, 0.0, 0.5]
    ex = images.example_window(ctx)
    assert ex["image"].shape[:2] == (2, 27) and set(np.unique(ex["image"][0, -1])) <= {0.0, 1.0}  # presence as read


def test_the_page_text_follows_the_layout(planted_root, synth_root):
    series, landmarks = _context(planted_root, participant_data=False), _context(synth_root, participant_data=False)
    intro = images.pseudo_image_intro(series)
    assert "no landmarks" in intro and "window of landmarks" not in intro and "from 0" in intro
    assert "window of landmarks" in images.pseudo_image_intro(landmarks)
    caption = images.image_caption(tuple(SERIES))
    assert "AU intensity (17 rows" in caption and "0 = at rest" in caption
    for ctx in (series, landmarks):
        assert "report." not in explore.context_sentence(ctx)  # no params keys in sentences for readers
    assert "report." not in explore.NOT_SHOWN
    assert images.example_window(series) is None and explore.example_series(series) is None  # privacy


# ---------------------------------------------------------------- notebook 01 on a series corpus

def test_series_exploration_families_and_shapes(edaic_root):
    ctx = _context(edaic_root)
    assert not ctx.has_landmarks
    amplitude, intensity = explore.series_summaries(ctx)
    n = len(ctx.corpus.sessions)
    assert list(amplitude.columns) == ["label", "SD of head translation (mm)", "SD of head rotation (degrees)",
                                       "SD of gaze direction (unit vector)", "SD of gaze angle (degrees)",
                                       "SD of AU intensity (0–5)"]
    assert len(amplitude) == n and (amplitude.drop(columns="label") > 0).all().all()
    assert "participant_id" not in amplitude and "participant_id" not in intensity  # aggregates only
    assert len(intensity) == n * len(AUS) and set(intensity.au) == set(AUS)
    assert intensity.intensity.between(0, 5).all()
    assert re.search(r"AU\d\d_r, [\d.]+ \(not depressed\) vs [\d.]+ \(depressed\), (more|less) in the depressed class",
                     explore.au_intensity_sentence(intensity))
    assert explore.amplitude_sentence(amplitude).startswith("Median per-participant SD — head translation:")
    pid, t, traces = explore.example_series(ctx)
    assert list(traces) == ["head rotation (degrees)", "head translation − median (mm)", "gaze angle (degrees)",
                            "AU intensity (0–5)"]
    assert [len(v) for v in traces.values()] == [3, 3, 2, 17]
    assert all(len(x) == len(t) for v in traces.values() for x in v.values())
    rot = traces["head rotation (degrees)"]["pose_Ry"]
    assert 1 < np.nanstd(rot) < 30  # degrees, not radians
    assert abs(np.nanmedian(traces["head translation − median (mm)"]["pose_Tz"])) < 1e-3  # not ~700 mm away
    fig = plots.signals_figure(t, traces, "series")
    assert [d.type for d in fig.data].count("heatmap") == 1 and [d.type for d in fig.data].count("scatter") == 8
    fig = plots.au_intensity_figure(intensity)
    assert len(fig.data) == 2 and fig.layout.boxmode == "group"


def test_the_landmark_path_is_unchanged(synth_root):
    ctx = _context(synth_root)
    assert ctx.has_landmarks
    summary = explore.signal_summary(ctx)
    assert list(summary.columns) == ["label", "SD of mouth opening (inter-ocular units)",
                                     "SD of eye aperture (inter-ocular units)", "SD of head yaw (degrees)",
                                     "SD of head pitch (degrees)"]
    pid, norm, excerpt = explore.example_session(ctx)
    assert excerpt.shape[1:] == (68, 3)
    fig = plots.signals_figure(explore.frame_times(norm), explore.signal_traces(norm), "signals")
    assert [d.type for d in fig.data] == ["scatter"] * 4 and not any(d.showlegend for d in fig.data)
    assert all(d.line.color is None for d in fig.data) and fig.layout.height == 4 * 150 + 110
    # the landmark rows' neutral is 0.5 in every channel: blocks are (value − 0.5) × their scale, as before
    ex = images.example_window(ctx)
    assert ex["image"].shape[:2] == (6, 4) and "seed_frame" in ex
    blocks = images.image_blocks(ex["image"], ex["rows"], ctx.params)
    r = 2 * ctx.params.encode.displacement_range
    np.testing.assert_allclose(blocks[0]["z"], (ex["image"][:3, :2] - 0.5) * 2.0, rtol=1e-6)
    np.testing.assert_allclose(blocks[1]["z"], (ex["image"][:3, 2:] - 0.5) * r, rtol=1e-6)
    assert [b["unit"] for b in blocks] == ["pose<br>(range)", "geometry<br>(IOD)"]
    assert images.channel_names(ex["rows"]) == ("X", "Y", "Z")
    cm = images.class_mean_blocks(ctx)
    assert cm["what"] == "|displacement|" and cm["velocity difference"] is not None
    assert cm["sentence"].startswith("Largest difference per row group in mean displacement")
    assert "median" not in cm["sentence"]  # no AU rows: nothing to set against page 1's AU medians


def test_the_68_landmark_rows_keep_their_regions_and_sentence(synth_root):
    ctx = _context(synth_root, encode={"landmark_rows": True, "geometry_rows": False})
    cm = images.class_mean_blocks(ctx)
    assert [len(b["rows"]) for b in cm["difference"]] == [68, 2]
    assert re.match(r"The (depressed class has (more|less)|sign of the difference)", cm["sentence"])
    assert cm["sentence"].endswith("Blue: less in the depressed class.")


def test_the_frame_layout_shows_mean_coordinates_not_activity(synth_root):
    """The seed's frame layout has no neutral (min-max scaled coordinates): its class means are of the
    values, at the native 68×3 even when the encoding resizes."""
    ctx = _context(synth_root, encode={"layout": "frame", "frame_size": 32, "frame_count": 4})
    cm = images.class_mean_blocks(ctx)
    z = cm["not depressed"][0]["z"]
    assert z.shape == (1, 68, 3) and 0 <= z.min() and z.max() <= 1 and z.std() > 0.05
    s = next(iter(ctx.corpus.sessions.values()))
    native = replace(ctx.params, encode=replace(ctx.params.encode, frame_size=0))
    assert encode_frames(normalise_session(s, native), native).images.shape[1:] == (3, 68, 3)
    assert cm["velocity difference"] is None and cm["x_values"] == ["x", "y", "z"]
    assert "coordinate" in cm["sentence"] and "no neutral" in cm["intro"]


# ---------------------------------------------------------------- the notebooks, executed

@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["e_daic", "daic_woz"])
def test_notebooks_01_and_02_per_layout(fmt, tmp_path):
    import nbformat
    import papermill as pm
    root = Path(__file__).parent.parent
    corpus = write_corpus(tmp_path / "corpus", participants=8, seconds=20, seed=4, fmt=fmt)
    params = tmp_path / "p.yaml"
    params.write_text(f"dataset: synthetic\ndata:\n  root: {corpus}\n  min_valid_seconds: 5\n")
    text = {}
    for name in ("01_landmarks", "02_pseudo_images"):
        out = tmp_path / f"{name}.ipynb"
        pm.execute_notebook(str(root / "notebooks" / f"{name}.ipynb"), str(out), kernel_name="python3",
                            parameters={"params_file": str(params)}, cwd=str(root), progress_bar=False)
        text[name] = json.dumps([c.get("outputs", []) for c in nbformat.read(out, as_version=4).cells])
    assert "Not applicable" not in text["01_landmarks"]
    if fmt == "e_daic":
        assert "## Head pose, gaze and action units" in text["01_landmarks"]
        assert "The 3-D face" not in text["01_landmarks"]
        assert "Mean action-unit intensity by label" in text["01_landmarks"]
        assert "no landmarks" in text["02_pseudo_images"] and "AU intensity:" in text["02_pseudo_images"]
    else:
        assert "## The 3-D face" in text["01_landmarks"] and "## Landmark signals" in text["01_landmarks"]
        assert "Head pose, gaze and action units" not in text["01_landmarks"]
        assert "window of landmarks" in text["02_pseudo_images"]
