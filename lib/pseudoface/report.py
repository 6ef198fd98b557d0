"""``pseudoface report``: execute the four notebooks per dataset with papermill, then build the site.

papermill executes; the renderer only renders (the site shows exactly what ran). Renderer:
``quarto render`` (``_quarto.yml``, execution off) where Quarto is on PATH; otherwise a static site
from the same executed notebooks (nbconvert's HTML exporter + generated index, comparison and
method pages). The command prints which renderer it used.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd

from .params import ParamsError, load_params
from .read import ensure_synthetic, load_corpus
from .runs import COMPARISONS, METRICS

NOTEBOOKS = ("01_landmarks", "02_pseudo_images", "03_training", "04_fold_analysis")
TITLES = {"01_landmarks": "Landmark exploration", "02_pseudo_images": "Pseudo-images",
          "03_training": "Training", "04_fold_analysis": "Fold analysis"}


def report_run_dir(root: Path, dataset: str) -> Path:
    """Where a dataset's report keeps its runs: ``main`` and the comparison variants."""
    return root / "runs" / dataset / "report"


def execute_notebooks(params_file: str, dataset: str, overrides: list, root: Path) -> list[str]:
    """Run the four notebooks into reports/<dataset>/; returns the problems (empty if all ran)."""
    import papermill as pm
    os.environ.setdefault("PLOTLY_RENDERER", "plotly_mimetype+notebook")
    out_dir = root / "reports" / dataset
    out_dir.mkdir(parents=True, exist_ok=True)
    problems = []
    for name in NOTEBOOKS:
        t = time.perf_counter()
        try:
            pm.execute_notebook(str(root / "notebooks" / f"{name}.ipynb"), str(out_dir / f"{name}.ipynb"),
                                parameters={"params_file": params_file, "overrides": list(overrides),
                                            "run_dir": str(report_run_dir(Path(), dataset))},
                                kernel_name="python3", cwd=str(root), progress_bar=False)
            print(f"  executed {name} in {time.perf_counter() - t:.0f} s", flush=True)
        except Exception as exc:  # papermill's execution error names the failing cell
            problems.append(f"{dataset}/{name}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else exc}")
            print(f"  FAILED {name}: {problems[-1]}", flush=True)
    return problems


def dataset_cards(root: Path) -> list[dict]:
    cards = []
    for ds_dir in sorted((root / "reports").iterdir()):
        metrics_path = report_run_dir(root, ds_dir.name) / "main" / METRICS
        if not ds_dir.is_dir() or ds_dir.name.startswith("_") or not metrics_path.is_file():
            continue
        m = json.loads(metrics_path.read_text())
        comp = report_run_dir(root, ds_dir.name) / COMPARISONS
        cards.append({"dataset": ds_dir.name, "metrics": m, "date": time.strftime(
            "%Y-%m-%d", time.localtime(metrics_path.stat().st_mtime)),
            "comparison": pd.read_csv(comp) if comp.is_file() else None})
    return cards


def cards_markdown(cards: list[dict]) -> str:
    lines = ["# pseudoface results", "",
             "Depression screening (PHQ-8 ≥ 10) from 3-D facial landmark pseudo-images with a CNN-LSTM. "
             "Macro-F1 is mean ± SD across participant-grouped outer folds, always beside trivial baselines "
             "fitted in the same folds.", ""]
    if not cards:
        lines.append("No finished run yet: `make report` executes the suite.")
    for c in cards:
        m = c["metrics"]
        b = m["baselines"]
        kind = "synthetic corpus (not clinical data)" if m.get("synthetic") else "licensed corpus"
        lines += [f"## {c['dataset']} · {kind}", "",
                  f"**CNN-LSTM macro-F1 {m['macro_f1']['mean']:.3f} ± {m['macro_f1']['std']:.3f}** "
                  f"({m['protocol']}, {m['n_participants']} participants, {m['n_depressed']} depressed; "
                  f"predicted-positive rate {m['predicted_positive_rate']['mean']:.2f}; "
                  f"ROC-AUC {m['roc_auc']['mean']:.3f})  ", "",
                  "| baseline | macro-F1 (mean ± SD) |", "|---|---|"]
        lines += [f"| {k} | {v['macro_f1']['mean']:.3f} ± {v['macro_f1']['std']:.3f} |" for k, v in b.items()]
        lines += ["", f"Run {c['date']}, code version `{m['code_version']}`, config `{m['config_hash']}`, "
                      f"data fingerprint `{m['data_fingerprint']}`.", "",
                  " · ".join(f"[{TITLES[n]}]({c['dataset']}/{n}.html)" for n in NOTEBOOKS)
                  + f" · [Comparison](comparison.html#{c['dataset']})", ""]
    return "\n".join(lines)


def comparison_markdown(cards: list[dict]) -> str:
    lines = ["# Comparison: the seed preset against the default, alignment on against off", "",
             "Each variant is cross-validated in the same outer folds (same seed and participants). "
             "Rows: the default window layout with rigid alignment; the seed paper's network on its own frame "
             "layout (first 16 valid frames, one 68×3 matrix per frame); the window layout without alignment. "
             "The seed row feeds each frame's matrix at its native 68×3 size (`encode.frame_size: 0`); the "
             "paper's 224×224 resize interpolates the same values at ~2,000× the compute per second of video "
             "(benchmarks/bench_model.py).", ""]
    for c in cards:
        lines += [f'<h2 id="{c["dataset"]}">{c["dataset"]}</h2>', ""]
        if c["comparison"] is None:
            lines += ["Comparisons were not run for this dataset (report.comparisons: false).", ""]
            continue
        t = c["comparison"]
        lines += ["| variant | macro-F1 mean | SD | ROC-AUC | predicted-positive rate | parameters | input | seconds |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r.name} | {r.mean:.3f} | {r.std:.3f} | {r.roc_auc:.3f} | {r.ppr:.2f} | {r.parameters} | "
                  f"{r.input} | {r.seconds} |" for r in t.itertuples()]
        lines.append("")
    return "\n".join(lines)


def build_site(root: Path) -> str:
    """Build reports/_site; returns the renderer used."""
    gen = root / "reports" / "_generated"
    gen.mkdir(parents=True, exist_ok=True)
    cards = dataset_cards(root)
    (gen / "cards.md").write_text(cards_markdown(cards))
    (gen / "comparison.md").write_text(comparison_markdown(cards))
    if shutil.which("quarto"):
        subprocess.run(["quarto", "render", "--no-execute"], cwd=root, check=True)
        return "quarto"
    build_static_site(root, cards)
    return "nbconvert (static fallback: Quarto is not on PATH)"


def _page(title: str, body: str, depth: int = 0) -> str:
    up = "../" * depth
    nav = (f'<nav><a href="{up}index.html">Home</a> · <a href="{up}comparison.html">Comparison</a> · '
           f'<a href="{up}method.html">Method, protocol &amp; privacy</a></nav>')
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>"
            "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;line-height:1.5}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}nav{margin-bottom:1em}"
            f"</style></head><body>{nav}{body}</body></html>")


def build_static_site(root: Path, cards: list[dict]) -> None:
    import mistune
    from nbconvert import HTMLExporter
    site = root / "reports" / "_site"
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)
    md = mistune.create_markdown(escape=False, plugins=["table"])
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    for ds_dir in sorted((root / "reports").iterdir()):
        if not ds_dir.is_dir() or ds_dir.name.startswith("_"):
            continue
        (site / ds_dir.name).mkdir()
        for nb in sorted(ds_dir.glob("*.ipynb")):
            body, _ = exporter.from_filename(str(nb))
            nav = (f'<div style="padding:6px;background:#f4f4f4"><a href="../index.html">Home</a> · '
                   f'<a href="../comparison.html">Comparison</a> · <a href="../method.html">Method</a></div>')
            (site / ds_dir.name / f"{nb.stem}.html").write_text(body.replace("<main>", "<main>" + nav, 1))
    gen = root / "reports" / "_generated"
    (site / "index.html").write_text(_page("pseudoface", md((gen / "cards.md").read_text())))
    (site / "comparison.html").write_text(_page("Comparison", md((gen / "comparison.md").read_text())))
    method = (root / "method.qmd").read_text().split("---", 2)[-1]
    (site / "method.html").write_text(_page("Method", md(method)))


def report_targets(root: Path, params_file: str | None, every: bool) -> list[str]:
    """The params files to report on: ``params_file`` (default the synthetic one), or with ``every``
    each ``params/*.yaml`` whose corpus is present (saying which it skipped and why)."""
    if not every:
        return [params_file or "params/synthetic.yaml"]
    out = []
    for path in sorted((root / "params").glob("*.yaml")):
        try:
            params = load_params(path)
        except ParamsError as exc:
            print(f"skipped {path.name}: {exc}")
            continue
        if params.dataset != "synthetic" and not Path(params.data.root).is_dir():
            print(f"skipped {path.name}: corpus root {params.data.root} not found")
            continue
        out.append(str(path.relative_to(root)))
    return out


def run_report(root: Path, params_files: list[str], overrides: list[str], site_only: bool = False) -> int:
    """Execute the notebooks for each params file (unless ``site_only``), then build the site.
    Returns the exit status: 1 if any notebook failed (each failure is printed)."""
    problems = []
    if not site_only:
        for params_file in params_files:
            params = load_params(params_file, overrides)
            ensure_synthetic(params)
            load_corpus(params)  # a broken corpus is one clear error here, not four failed notebooks
            print(f"report for {params.dataset} ({params_file}):", flush=True)
            problems += execute_notebooks(params_file, params.dataset, overrides, root)
    renderer = build_site(root)
    print(f"site built with {renderer}: {root / 'reports' / '_site' / 'index.html'}")
    for p in problems:
        print(f"problem: {p}")
    return 1 if problems else 0
