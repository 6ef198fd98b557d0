"""Write the four notebooks (no outputs, a `parameters` cell, library calls only). Run once after edits."""
import nbformat as nbf

PARAMS = '''params_file = "params/synthetic.yaml"  # params YAML (one per dataset)
overrides = []  # key=value overrides (list of strings), validated by the library
run_dir = "runs/synthetic/report"  # where notebook 03 writes its runs and 04 reads them'''


def nb(cells):
    book = nbf.v4.new_notebook()
    out = []
    for kind, src in cells:
        if kind == "md":
            out.append(nbf.v4.new_markdown_cell(src))
        else:
            c = nbf.v4.new_code_cell(src)
            if kind == "params":
                c.metadata["tags"] = ["parameters"]
            out.append(c)
    book.cells = out
    book.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}}
    return book


SETUP = "from pseudoface import explore, plots\nctx = explore.setup(params_file, overrides)\nprint(f\"dataset {ctx.params.dataset}; synthetic corpus: {ctx.corpus.synthetic}; landmarks: {ctx.has_landmarks}; per-participant data shown: {ctx.participant_data}\")"

landmarks = nb([
    ("md", "# 01 · Landmark exploration\nParticipant flow, corpus overview, data quality, the 3-D face and landmark signals by label."),
    ("params", PARAMS), ("code", SETUP),
    ("md", "## Participant flow\nlabelled → session found → read without error → enough valid frames → usable."),
    ("code", "flow, dropped = explore.flow_tables(ctx)\nplots.flow_figure(flow).show()\ndropped"),
    ("md", "## Corpus overview"),
    ("code", "plots.overview_figure(ctx.corpus.usable_labels()).show()\nctx.corpus.usable_labels().groupby(['split', 'label']).size().unstack(fill_value=0)"),
    ("md", "## Data quality\nDuration and % valid frames per session; the documented quirk sessions are flagged."),
    ("code", "quality = explore.quality_table(ctx)\nplots.quality_figure(quality).show()\nquality[['duration_min', 'valid_percent']].describe().round(2)"),
    ("code", "quality[quality.quirk != ''] if (quality.quirk != '').any() else 'no documented quirk session among the usable participants'"),
    ("code", "explore.disagreements_table(ctx) if len(ctx.corpus.disagreements) else 'no label disagreements'"),
    ("md", "## The 3-D face\nMean of the per-session median normalised faces (aligned, inter-ocular units), then up to 10 s of one session."),
    ("code", "plots.face_figure(explore.mean_face(ctx)).show() if ctx.has_landmarks else print('not applicable: this corpus has no landmarks (E-DAIC ships pose, gaze and AU series only)')"),
    ("code", "example = explore.example_session(ctx) if ctx.has_landmarks else None\nif example is not None:\n    plots.face_animation(example[2][::2], example[1].fps / 2, f'Participant {example[0]}: first 10 s').show()\nelse:\n    print('not shown: no landmarks, or per-participant data of a licensed corpus (report.allow_participant_data)')"),
    ("md", "## Landmark signals\nMouth opening, eye aperture and head pose over time (one session), and their per-participant SD by label."),
    ("code", "if example is not None:\n    n = example[1]\n    plots.signals_figure(explore.frame_times(n), explore.landmark_signals(n), 'Signals of one session').show()"),
    ("code", "if ctx.has_landmarks:\n    summary = explore.signal_summary(ctx)\n    plots.distribution_figure(summary, [c for c in summary.columns if c != 'label'], 'Movement amplitude by label').show()\nelse:\n    print('not applicable: no landmarks')"),
])

pseudo = nb([
    ("md", "# 02 · Pseudo-images\nOne window from raw landmarks → normalised → pseudo-image; the seed's frame layout beside it; mean pseudo-images per class."),
    ("params", PARAMS), ("code", SETUP),
    ("code", "ex = explore.example_window(ctx) if ctx.has_landmarks else None\nprint('per-participant example not shown' if ex is None else f\"participant {ex['participant']}\")"),
    ("code", "if ex is not None:\n    plots.face_figure(ex['raw'][0], 'Raw first frame (mm, camera space)').show()\n    plots.face_figure(ex['normalised'][0], 'Normalised (centred, inter-ocular units, aligned)').show()"),
    ("code", "if ex is not None:\n    plots.pseudo_image_figure(ex['image'], ex['rows'], 'Window pseudo-image (X/Y/Z displacement, rows by facial region)').show()"),
    ("code", "if ex is not None:\n    plots.pseudo_image_figure(ex['seed_frame'][:1], tuple(f'landmark {i}' for i in range(68)), \"Seed layout: one frame's 68x3 matrix (min-max scaled; copied to 3 channels)\", ('one channel',), zmid=None, x_title='coordinate (x, y, z)').show()"),
    ("md", "## Mean pseudo-image per class\nMean absolute displacement from neutral, per participant then per class, and the difference (depressed − not)."),
    ("code", "means, diff, rows = explore.class_mean_images(ctx)\nnames = ('X', 'Y', 'Z') if ctx.has_landmarks else ('value',)\nplots.pseudo_image_figure(means[0], rows, 'Not depressed: mean |displacement|', names, zmid=None).show()\nplots.pseudo_image_figure(means[1], rows, 'Depressed: mean |displacement|', names, zmid=None).show()\nplots.pseudo_image_figure(diff, rows, 'Difference (depressed − not)', names, zmid=0.0).show()"),
])

training = nb([
    ("md", "# 03 · Training\nRuns participant-grouped cross-validation (or reuses a run whose config, data fingerprint and code version match), then the comparisons on the same folds."),
    ("params", PARAMS), ("code", SETUP),
    ("code", "import pandas as pd\nfrom pseudoface import cv, results\nprep = cv.prepare(ctx.params)\nmetrics, reused = results.ensure_run(ctx.params, f'{run_dir}/main', prep)\nprint(('reused' if reused else 'ran') + f\" {metrics['protocol']} run: {len(metrics['fold_details'])} folds in {metrics['seconds']:.0f} s on {metrics['device']}\")\nresults.headline_table(metrics)"),
    ("code", "history = pd.read_csv(f'{run_dir}/main/history.csv')\nchosen = pd.DataFrame(metrics['fold_details'])[['repeat', 'fold', 'best_epoch', 'threshold', 'seconds']]\nplots.learning_curves_figure(history, chosen).show()\nchosen.round(3)"),
    ("md", "## Model"),
    ("code", "pd.DataFrame([{'preset': ctx.params.model.preset, 'parameters': metrics['model_parameters'], 'size (kB, float32)': round(metrics['model_parameters'] * 4 / 1024, 1), 'input (C, R, W)': metrics['input_shape'], 'clip windows K': ctx.params.model.clip_windows, 'session minutes': round(metrics['session_minutes'], 1), 'cv seconds': round(metrics['seconds'])}])"),
    ("md", "## Comparisons on the same outer folds\nThe seed preset (frame layout) against the default window layout, and alignment on against off."),
    ("code", "if ctx.params.report.comparisons:\n    comparison = results.run_comparisons(ctx.params, run_dir)\n    comparison.to_csv(f'{run_dir}/comparisons.csv', index=False)\n    plots.comparison_figure(comparison, 'Variants, same folds').show()\n    display(comparison.round(3))\nelse:\n    print('comparisons off (report.comparisons: false)')"),
])

folds = nb([
    ("md", "# 04 · Fold analysis\nReads the run's files only (no training): fold table, ROC, confusion, threshold sweep (diagnostic), baselines, gender, errors against data quality."),
    ("params", PARAMS),
    ("code", "from pseudoface import explore, plots, results\nexplore.setup(params_file, overrides)\nmetrics, predictions, history = results.load_run(f'{run_dir}/main')\nresults.headline_table(metrics)"),
    ("code", "results.fold_table(metrics)"),
    ("code", "plots.roc_figure(predictions).show()\nplots.confusion_figure(results.pooled_confusion(predictions)).show()"),
    ("code", "plots.threshold_sweep_figure(results.threshold_sweep(predictions)).show()"),
    ("md", "## Baselines in the same folds"),
    ("code", "baselines = results.baseline_table(metrics)\nplots.comparison_figure(baselines, 'CNN-LSTM beside the baselines').show()\nbaselines"),
    ("code", "paired = metrics['paired_vs_feature_model']\nprint(f\"CNN-LSTM minus feature model, macro-F1: {paired['difference']:+.3f} (paired bootstrap 95% CI {paired['ci95'][0]:+.3f} to {paired['ci95'][1]:+.3f}; share of resamples not better: {paired['p_not_better']:.2f})\")"),
    ("md", "## By gender and against data quality"),
    ("code", "results.gender_table(metrics)"),
    ("code", "plots.scatter_errors_figure(results.errors_table(f'{run_dir}/main', predictions)).show()"),
])

for name, book in (("01_landmarks", landmarks), ("02_pseudo_images", pseudo), ("03_training", training), ("04_fold_analysis", folds)):
    nbf.write(book, f"notebooks/{name}.ipynb")
