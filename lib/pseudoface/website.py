"""The results website, built from published reports only (``reports/<dataset>/``, see :mod:`report`).

Only complete datasets are published: the four notebooks stamped by one report run; the builder says
which folders it skipped and why. Everything the site states comes from those notebooks and their
stamps (key results, comparison, provenance), so a checkout without ``runs/`` builds the same site.

Renderers: ``quarto render`` (``_quarto.yml``, execution off; this module writes the navigation it
reads from ``reports/_generated/_website.yml``) where Quarto is on PATH; otherwise a static site
from the same notebooks (nbconvert cells in one page shell: a navbar on every page with the current
page marked, previous/next links, code folded, the synthetic banner, downloads, a provenance footer;
its HTML and CSS are the templates in ``lib/pseudoface/templates/``).
Either way the pages then load plotly.js once from ``assets/`` instead of embedding 4.8 MB per page,
and reference nothing outside the site.
"""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from . import captions, results, severity
from .captions import display_name
from .sweep_page import published_sweeps, sweeps_body
from .downloads import DOWNLOAD_NAMES, DOWNLOADS
from .intervals import CORRECTED_T
from .report import NOTEBOOKS, PUBLICATION_TAG, STAMP, provenance_text
from .schema import check_stamp

TITLES = {"01_landmarks": "Landmark exploration", "02_pseudo_images": "Pseudo-images",
          "03_training": "Training", "04_fold_analysis": "Fold analysis"}
# a corpus of per-frame series (E-DAIC: pose, gaze, action units) explores those on its first page
SERIES_TITLES = TITLES | {"01_landmarks": "Pose, gaze and AU exploration"}
SEED_PAPER = ("Jallaglag et al. (2026), <em>Lightweight Depression Detection Using 3D Facial Landmark Pseudo-Images "
              "and CNN-LSTM on DAIC-WOZ and E-DAIC</em>, BioMedInformatics 6(1), the seed paper whose method this "
              "project implements and tests")
CORPUS_INPUTS = {
    "landmarks": "3-D facial landmarks (68 points per frame), normalised per session and encoded as pseudo-images",
    "series": "per-frame head pose, gaze and facial action-unit intensity series (the corpus ships no landmarks), "
              "encoded as pseudo-images of the same window layout"}


REPORTING = "reporting"  # the generated fifth page of a dataset: reports/<dataset>/reporting.html
REPORTING_TITLE = "Reporting (TRIPOD+AI)"


def titles(stamp: dict) -> dict:
    """The page titles of a dataset: its first page explores what the corpus has."""
    return SERIES_TITLES if stamp.get("layout") == "series" else TITLES


def dataset_pages(stamp: dict) -> list[tuple[str, str]]:
    """(page name, numbered title) of a dataset's pages: the four notebooks, then the reporting page."""
    names = titles(stamp)
    return [(n, f"{i} · {names[n]}") for i, n in enumerate(NOTEBOOKS, 1)] + [(REPORTING, f"5 · {REPORTING_TITLE}")]


def reporting_markdown(stamp: dict) -> str:
    """The reporting page of a dataset in Markdown (:func:`reporting.reporting_document`, the rendering
    ``reporting.md`` is): the TRIPOD+AI items its run answers (with their source) or leaves to the
    researcher (with what to write), and the shuffled-label sanity run beside the real run."""
    from .reporting import reporting_document
    return reporting_document(stamp.get("reporting"), stamp.get("sanity"))


def reporting_body(stamp: dict) -> str:
    """The reporting page for the fallback builder: the synthetic banner, then the Markdown converted once
    (in a ``pf-items`` block: full-width tables, cells aligned at the top)."""
    import mistune
    banner = captions.banner_html() + "\n" if stamp["metrics"].get("synthetic") else ""
    converted = mistune.create_markdown(escape=False, plugins=["table"])(reporting_markdown(stamp))
    return f'{banner}<div class="pf-items">\n{converted}</div>\n'


def reporting_qmd(stamp: dict, dataset: str) -> str:
    """The reporting page for Quarto: the same Markdown, the banner as a raw HTML block."""
    banner = f"```{{=html}}\n{captions.banner_html()}\n```\n\n" if stamp["metrics"].get("synthetic") else ""
    return f'---\ntitle: "{REPORTING_TITLE}: {display_name(dataset)}"\n---\n\n{banner}{reporting_markdown(stamp)}'


ASSETS = "assets"
# plotly.js as the notebook renderer embeds it (once per notebook); the site loads it once instead
EMBEDDED_PLOTLYJS = re.compile(r"<script[^>]*>\s*/\*\*\s*\n?\s*\* plotly\.js v[\d.]+.*?</script>", re.S)


def incomplete_reason(folder: Path) -> str | None:
    """Why ``folder`` is not a complete published report, or None when it is."""
    reports = []
    for name in NOTEBOOKS:
        path = folder / f"{name}.ipynb"
        if not path.is_file():
            return f"{name}.ipynb is missing (a report stopped midway?)"
        stamp = json.loads(path.read_text()).get("metadata", {}).get(STAMP)
        if not stamp:
            return f"{name}.ipynb was not published by `pseudoface report` (no publication stamp; run the report again)"
        reports.append(stamp["report"])
    if len(set(reports)) > 1:
        return "its notebooks come from different report runs"
    return None


def published_datasets(root: Path) -> tuple[list[str], dict[str, str]]:
    """(complete dataset folders under reports/, {skipped folder: reason})."""
    complete, skipped = [], {}
    reports = root / "reports"
    for folder in sorted(reports.iterdir()) if reports.is_dir() else []:
        if not folder.is_dir() or folder.name.startswith(("_", ".")):
            continue
        reason = incomplete_reason(folder)
        if reason:
            skipped[folder.name] = reason
        else:
            complete.append(folder.name)
    return complete, skipped


def stamps(root: Path, datasets: list[str]) -> dict[str, dict]:
    """Each published report's stamp, checked against :data:`schema.STAMP` (one line naming the
    notebook when a report was published by another version: publish it again)."""
    out = {}
    for ds in datasets:
        path = root / "reports" / ds / f"{NOTEBOOKS[-1]}.ipynb"
        out[ds] = check_stamp(json.loads(path.read_text())["metadata"][STAMP], str(path))
    return out


# ---------------------------------------------------------------- generated pages (both renderers)

def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _lead(text: str) -> str:
    """The first sentence in bold, the rest plain (escaped)."""
    first, sep, rest = text.partition(". ")
    return f"<strong>{html.escape(first + sep.strip())}</strong> {html.escape(rest)}".rstrip()


def _interval(d: dict) -> str:
    f = results._f
    return (f"{f(d['mean'], sign=True)} (95% CI {f(d['ci95'][0], sign=True)} to {f(d['ci95'][1], sign=True)}, "
            f"{CORRECTED_T})")


def key_results_html(dataset: str, stamp: dict, prefix: str = "") -> str:
    """The index's box for one dataset: what the corpus is and which label was scored, the conclusion
    against every baseline, warnings, the models side by side (macro-F1 by the fold estimator, the
    screening numbers pooled), the differences, every baseline, then the links."""
    m = stamp["metrics"]
    f = results._f
    screen = stamp.get("screening") or {}
    head = results.headline_key(m)
    table = results.headline_table(m, screen or None)
    rows = []
    for i, (key, r) in enumerate(zip(results.headline_keys(m), table.to_dict("records"))):
        sc = screen.get(key)
        macro = f"{f(r['macro-F1 (mean over folds)'])} ± {f(r['SD over folds'])}"
        cells = [html.escape(r["model"]) + (" <em>(headline)</em>" if i == 0 else "") +
                 (" <em>(best trivial baseline)</em>" if key in results.TRIVIAL else ""),
                 f"<strong>{macro}</strong>" if i == 0 else macro, html.escape(r["95% CI (corrected t)"]),
                 f(r["ROC-AUC (mean over folds)"]),
                 (f"{f(sc['sensitivity'], 2)} ({sc['tp']} of {sc['tp'] + sc['fn']})" if sc else "–"),
                 (f"{f(sc['specificity'], 2)} ({sc['tn']} of {sc['tn'] + sc['fp']})" if sc else "–"),
                 _pct(r["calls depressed"]), f(sc["brier"]) if sc else "–"]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = (f"<tr><th>model</th><th>macro-F1<br>mean ± SD over folds</th><th>95% CI of the mean<br>({CORRECTED_T})</th>"
              "<th>ROC-AUC<br>mean over folds</th><th>sensitivity<br>(pooled)</th><th>specificity<br>(pooled)</th>"
              "<th>calls depressed</th><th>Brier<br>(pooled)</th></tr>")
    trivial = results.best_trivial(m)
    differences = [(a, b) for a, b in ((head, "feature_model"), (head, trivial), ("network", "feature_model"),
                                       ("network", trivial)) if a in results.fold_scores(m)]
    differences = list(dict.fromkeys(differences))
    diff_rows = "".join(f"<tr><th>{html.escape(results.model_label(m, a))} − {html.escape(results.model_label(m, b))}</th>"
                        f"<td>{_interval(results.paired(m, a, b))}</td></tr>" for a, b in differences)
    notes = [results.label_sentence(m)]
    worse = [f"{results.model_label(m, k, prose=True)} ({f(v['brier'])})" for k, v in screen.items()
             if k != "prevalence_brier" and v["brier"] >= screen["prevalence_brier"]]
    if worse:
        notes.append(f"Brier score worse than the prevalence-only forecast ({f(screen['prevalence_brier'])}, everyone "
                     f"given the prevalence as probability): {', '.join(worse)}; these scores may rank participants but "
                     "are not usable as probabilities of depression.")
    warning = results.small_fold_warning(m) if "fold_details" in m else ""
    explained = stamp.get("explanations")
    if explained:
        def top(model, a):
            name = "network" if model == "network" else "motion-feature model"
            return (f"the {name}'s score moves most when {a['top']} is replaced by its neutral value (first in "
                    f"{a['top_share'] * a['folds']:.0f} of {a['folds']} folds; ranking {'stable' if a['stable'] else 'not stable'} "
                    f"across folds, Kendall's W {f(a['kendall_w'], 2)})")
        notes.append("What the models use (occlusion, fold analysis page): "
                     + "; ".join(top(k, a) for k, a in explained.items()) + ".")
    sanity = stamp.get("sanity")
    if sanity:
        from .sanity import sanity_brief
        notes.append(sanity_brief(sanity))
    base = results.baseline_table(m)
    kind = "synthetic corpus" if m.get("synthetic") else "licensed corpus"
    pages = " · ".join(f'<a href="{prefix}reports/{dataset}/{n}.html">{text}</a>' for n, text in dataset_pages(stamp))
    downloads = " · ".join(f'<a href="{prefix}reports/{dataset}/{DOWNLOADS}/{n}">{DOWNLOAD_NAMES.get(n, n)}</a>'
                           for n in stamp.get("downloads", []))
    corpus = (f"{m['n_participants']} participants, {m['n_depressed']} depressed ({_pct(results.prevalence(m))}); input: "
              f"{CORPUS_INPUTS.get(stamp.get('layout', 'landmarks'))}.")
    return "\n".join([
        f'<section class="pf-card" id="{dataset}">',
        f'<h2>{display_name(dataset)} <span class="pf-tag">{kind} · {m["protocol"]}</span></h2>',
        f'<p class="pf-corpus">{html.escape(corpus)}</p>',
        f'<p class="pf-conclusion">{_lead(results.conclusion(m))}</p>',
        f'<p class="pf-warn" role="note">{html.escape(warning)}</p>' if warning else "",
        f'<table class="pf-models">{header}{"".join(rows)}</table>',
        '<table class="pf-key">' + diff_rows + "</table>",
        *(f'<p class="pf-note">{html.escape(n)}</p>' for n in notes),
        f'<p class="pf-note">{html.escape(results.estimator_note(m))}</p>',
        _regression_html(stamp.get("regression")),
        f"<details><summary>Every baseline in the same folds (macro-F1 mean and SD over folds with the 95% CI of the "
        f"mean; difference to the motion-feature model; both by the {CORRECTED_T})</summary>{captions.styled(base, RANKING_HEADERS).to_html()}</details>",
        f'<p class="pf-links"><strong>Pages:</strong> {pages} · <a href="{prefix}comparison.html#{dataset}">Comparison</a></p>',
        f'<p class="pf-links"><strong>Downloads:</strong> {downloads}</p>' if downloads else "",
        f'<p class="pf-prov">{_code(provenance_text(stamp))}</p>',
        "</section>"])


def _regression_html(regression: dict | None) -> str:
    """The PHQ-8 regression's key results on the index (MAE, RMSE, CCC beside the mean predictor)."""
    if not regression:
        return ""
    table = severity.regression_table(regression)[["model", "MAE", "RMSE", "CCC", "MAE − mean predictor (95% CI, corrected t)"]]
    return (f'<p class="pf-note"><strong>PHQ-8 score (regression, same folds; mean ± SD over folds).</strong> '
            f"{html.escape(severity.regression_sentence(regression))}</p>{captions.styled(table).to_html()}")


RANKING_HEADERS = {"ci95_low": "95% CI low (corrected t)", "ci95_high": "95% CI high (corrected t)",
                   "difference": "minus the feature model", "diff_low": "its 95% CI low", "diff_high": "its 95% CI high"}


def _code(text: str) -> str:
    """`x` spans of a provenance line as <code>."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(text))


def index_body(st: dict[str, dict]) -> str:
    intro = (f"<p>Depression screening (PHQ-8 ≥ 10) from facial behaviour, read as pseudo-images by a lightweight "
             f"CNN-LSTM, after {SEED_PAPER}. Each corpus below says what it provides (3-D landmarks, or pose, gaze "
             "and action-unit series). Every number is participant-level, from participant-grouped outer folds, "
             "and stands beside trivial baselines and a motion-feature model fitted in the same folds. "
             'How it is done: <a href="method.html">Method, protocol and privacy</a>.</p>')
    cards = [key_results_html(ds, stamp) for ds, stamp in st.items()]
    return "\n".join([intro, *(cards or [
        "<p>No complete report is published yet: <code>make report</code> executes the suite.</p>"])])


def comparison_body(st: dict[str, dict]) -> str:
    from .plots import PLOTLY_CONFIG, comparison_figure
    parts = ["<p>Each variant is cross-validated in the same outer folds as the default (same seed, same participants). "
             "<strong>default</strong>: the compact window image with rigid alignment: 4 s per image, four rows (head "
             "rotation and translation; face geometry: mouth opening, width and corner drop, eye opening and brow "
             "height), each signal (head rotation from the template face, the others from the session median) and its "
             "velocity as channels; the 68 landmark rows are one option away. "
             f"<strong>seed preset</strong>: the network and input of {SEED_PAPER}: the 68 landmarks on the frame "
             "layout, each of the first 16 valid frames' aligned 68×3 coordinate matrix as one image (one instant, no "
             "movement), its 225k-parameter CNN-LSTM; here at the matrix's native 68×3 size, since the paper's "
             "224×224 resize "
             "interpolates the same values at ~2,000× the compute per second of video. "
             "<strong>no alignment</strong>: the default without the rigid alignment to the template face. "
             "<strong>CNN-LSTM on clips</strong>: the paper's reading of a session, an LSTM over clips of K windows "
             "and the mean clip logit per participant, instead of the default network's one pass over the whole "
             "session. Every row also gives the motion-feature model and the fused model in the same folds. A corpus "
             "without landmarks (E-DAIC) runs only the variants that need none.</p>",
             "<p>The difference compares each variant with the default over the same outer folds: the mean of the "
             "per-fold differences in macro-F1, which is exactly the difference of the two means drawn on the left, "
             f"with its 95% interval by the {CORRECTED_T} (Nadeau and Bengio, 2003); an interval that spans 0 "
             "means the difference is within noise.</p>"]
    for ds, stamp in st.items():
        kind = " (synthetic corpus)" if stamp["metrics"].get("synthetic") else ""
        parts.append(f'<h2 id="{ds}">{display_name(ds)}{kind}</h2>')
        if not stamp.get("comparison"):
            parts.append("<p>Comparisons were switched off for this dataset in its parameters.</p>")
            continue
        table = pd.DataFrame(stamp["comparison"])
        fig = comparison_figure(table, f"{display_name(ds)}: variants on the same folds",
                                "Variant minus default (same folds)")
        parts += [fig.to_html(full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG),
                  f"<p>{html.escape(results.comparison_sentence(table))}</p>",
                  captions.styled(results.comparison_table(table), results.COMPARISON_COLUMNS).to_html()]
    return "\n".join(parts)


STATIC_RENDERER = "nbconvert, with this project's page templates"
BUILT_WITH = ("This site was built by `pseudoface report` from the executed notebooks and their published runs, "
              "rendered with {renderer}. The notebooks were executed by papermill; the renderer only renders them.")


def built_markdown(renderer: str) -> str:
    return "## How this site was built\n" + BUILT_WITH.format(renderer=renderer) + "\n"


def method_body(root: Path, renderer: str) -> str:
    """The method page (method.qmd) and, at its end, what built the site."""
    import mistune
    text = (root / "method.qmd").read_text().split("---", 2)[-1]
    text = re.sub(r"^\{\{< include [^>]*>\}\}\s*$", "", text, flags=re.M)  # Quarto's include of built.md
    text += "\n\n" + built_markdown(renderer)
    return mistune.create_markdown(escape=False, plugins=["table"])(text)


def quarto_metadata(datasets: list[str], st: dict[str, dict], sweeps: bool = False) -> dict:
    """Navigation for Quarto (``metadata-files`` in _quarto.yml): a menu per dataset, a sidebar that
    gives previous/next links, the synthetic banner as the site announcement."""
    def pages(ds):  # the notebooks, then the reporting page (a .qmd written by build_site)
        return [{"href": f"reports/{ds}/{n}.{'qmd' if n == REPORTING else 'ipynb'}", "text": text}
                for n, text in dataset_pages(st[ds])]
    website = {
        "navbar": {"left": [{"href": "index.qmd", "text": "Home"},
                            *({"text": display_name(ds), "menu": pages(ds)} for ds in datasets),
                            {"href": "comparison.qmd", "text": "Comparison"},
                            *([{"href": "sweeps.qmd", "text": "Sweeps"}] if sweeps else []),
                            {"href": "method.qmd", "text": "Method"}]},
        "sidebar": [{"title": display_name(ds), "contents": pages(ds)} for ds in datasets],
        "page-footer": {"center": f"Built {time.strftime('%Y-%m-%d')} from the published reports of "
                                  + ", ".join(display_name(d) for d in datasets) if datasets else "No report yet"},
    }
    if any(s["metrics"].get("synthetic") for s in st.values()):
        website["announcement"] = {"content": "**Synthetic corpus on this site.** " + captions.BANNER,
                                   "type": "warning", "dismissable": False, "position": "below-navbar"}
    return {"website": website}


def build_site(root: Path) -> str:
    """Build reports/_site from the complete datasets; returns the renderer used."""
    import yaml
    root = Path(root)
    datasets, skipped = published_datasets(root)
    for name, reason in skipped.items():
        print(f"site: skipped reports/{name}/: {reason}")
    st = stamps(root, datasets)
    gen = root / "reports" / "_generated"
    gen.mkdir(parents=True, exist_ok=True)
    (gen / "cards.md").write_text(index_body(st) + "\n")
    (gen / "comparison.md").write_text(comparison_body(st) + "\n")
    sweeps = published_sweeps(root)
    (gen / "sweeps.md").write_text(sweeps_body(sweeps) + "\n")
    (gen / "_website.yml").write_text(yaml.safe_dump(quarto_metadata(datasets, st, bool(sweeps)), sort_keys=False,
                                                     allow_unicode=True))
    site = root / "reports" / "_site"
    (gen / "built.md").write_text(built_markdown("Quarto" if shutil.which("quarto") else STATIC_RENDERER))
    for ds in datasets:  # the reporting page for Quarto: the Markdown the fallback converts
        (root / "reports" / ds / f"{REPORTING}.qmd").write_text(reporting_qmd(st[ds], ds))
    if shutil.which("quarto"):
        # Quarto renders every reports/*/*.ipynb: an incomplete folder is moved where it does not look
        for name in skipped:
            aside = root / "reports" / "_incomplete" / name
            shutil.rmtree(aside, ignore_errors=True)
            aside.parent.mkdir(parents=True, exist_ok=True)
            (root / "reports" / name).rename(aside)
            print(f"site: moved reports/{name}/ to reports/_incomplete/{name}/ (Quarto would render it)")
        subprocess.run(["quarto", "render", "--no-execute"], cwd=root, check=True)
        renderer = "quarto"
    else:
        build_static_site(root, datasets, st, bool(sweeps))
        renderer = f"{STATIC_RENDERER} (Quarto is not on PATH)"
    share_plotlyjs(site)
    return renderer


def share_plotlyjs(site: Path) -> None:
    """Every page loads plotly.js once from assets/ instead of embedding its own copy."""
    import plotly.offline
    (site / ASSETS).mkdir(parents=True, exist_ok=True)
    (site / ASSETS / "plotly.min.js").write_text(plotly.offline.get_plotlyjs())
    for page in site.rglob("*.html"):
        text = page.read_text()
        if "plotly-graph-div" not in text and not EMBEDDED_PLOTLYJS.search(text):
            continue
        up = "../" * (len(page.relative_to(site).parts) - 1)
        tag = f'<script src="{up}{ASSETS}/plotly.min.js"></script>'
        text = EMBEDDED_PLOTLYJS.sub("", text)
        if tag not in text:
            text = text.replace("</head>", f"{tag}\n</head>", 1)
        page.write_text(text)


# ---------------------------------------------------------------- the static fallback
# The page shell, the navbar, banners, the downloads block and the stylesheet are templates
# (lib/pseudoface/templates/: page.html.j2, notebook.html.j2, banner.html.j2, site.css).


def video_note(stamp: dict, dataset: str = "") -> str:
    """The note on every page whose results come from landmarks extracted from video ('' otherwise);
    ``dataset`` names the dataset where a page shows several."""
    if not stamp.get("from_video"):
        return ""
    from .extract import NOT_OPENFACE
    return captions.render("banner.html.j2", label="From video.", dataset=dataset, text=NOT_OPENFACE)


def site_banner(synthetic: list[str], everything_synthetic: bool) -> str:
    """The synthetic-data banner of the site's own pages (naming the synthetic datasets when real ones
    are published beside them)."""
    if not synthetic:
        return ""
    if everything_synthetic:
        return captions.banner_html()
    which = (f"The {' and '.join(synthetic)} datasets are synthetic data" if len(synthetic) > 1
             else f"The {synthetic[0]} dataset is made of synthetic data")
    return captions.render("banner.html.j2", label="Synthetic corpus.", dataset="",
                           text=f"{which} with a planted effect: {'their' if len(synthetic) > 1 else 'its'} numbers "
                                "show the pipeline works and say nothing about depression.")


def _page(template: str, current: str, datasets: list[str], st: dict[str, dict], sweeps: bool, **values) -> str:
    """A static page: ``template`` (page.html.j2 or notebook.html.j2) with the navbar for ``current``
    (the page's path from the site's root); HTML-valued ``values`` come as ``Markup``."""
    menus = [{"name": display_name(ds), "current": current.startswith(f"reports/{ds}/"),
              "pages": [(f"reports/{ds}/{n}.html", text) for n, text in dataset_pages(st[ds])]} for ds in datasets]
    values = {"extra_head": "", "banner": "", "heading": "", "body": "", **values}
    return captions.render(template, current=current, up="../" * current.count("/"), assets=ASSETS, menus=menus,
                           sweeps=sweeps, **values)


def _exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    cells = captions.template_text("nbconvert_cells.html.j2")
    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"pf_cells.html.j2": cells})],
                            template_file="pf_cells.html.j2")
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"remove-cell", PUBLICATION_TAG}),
                                   enabled=True)
    return exporter


def _notebook_css(site: Path) -> None:
    """nbconvert's lab stylesheet, written once for every notebook page (scoped to the cells)."""
    from nbconvert.exporters.templateexporter import TemplateExporter
    base = None
    for path in TemplateExporter().template_paths:
        if (Path(path) / "lab" / "static" / "index.css").is_file():
            base = Path(path) / "lab" / "static"
            break
    css = "" if base is None else (base / "index.css").read_text() + (base / "theme-light.css").read_text()
    (site / ASSETS / "notebook.css").write_text(css + "\n.jp-Notebook{padding:0}.jp-Cell{padding:2px 0}"
                                                ".jp-OutputArea-output{overflow-x:auto}\n")


def build_static_site(root: Path, datasets: list[str], st: dict[str, dict], sweeps: bool = False) -> None:
    site = root / "reports" / "_site"
    if site.exists():
        shutil.rmtree(site)
    (site / ASSETS).mkdir(parents=True)
    (site / ASSETS / "site.css").write_text(captions.template_text("site.css"))
    _notebook_css(site)
    built = f"Built {time.strftime('%Y-%m-%d %H:%M')}."  # what built it: once, on the method page
    synthetic = [display_name(ds) for ds in datasets if st[ds]["metrics"].get("synthetic")]
    banner = site_banner(synthetic, len(synthetic) == len(datasets))
    banner += "".join(video_note(st[ds], display_name(ds)) for ds in datasets)
    exporter = _exporter()
    highlight_css = ""
    for ds in datasets:
        folder, stamp, out = root / "reports" / ds, st[ds], site / "reports" / ds
        out.mkdir(parents=True)
        if (folder / DOWNLOADS).is_dir():
            shutil.copytree(folder / DOWNLOADS, out / DOWNLOADS)
        downloads = [(f"{DOWNLOADS}/{n}", DOWNLOAD_NAMES.get(n, n)) for n in stamp.get("downloads", [])
                     if (out / DOWNLOADS / n).is_file()]
        privacy = ("" if stamp["participant_data"] else "Predictions are published without participant identifiers "
                   "or PHQ-8 scores (a random key per participant, rows shuffled).")
        order = dataset_pages(stamp)
        for i, (name, text) in enumerate(order):
            if name == REPORTING:
                cells = reporting_body(stamp)
            else:
                cells, resources = exporter.from_filename(str(folder / f"{name}.ipynb"))
                highlight_css = highlight_css or "\n".join(resources.get("inlining", {}).get("css", []))
            previous = {"href": f"{order[i - 1][0]}.html", "text": order[i - 1][1]} if i else None
            following = ({"href": f"{order[i + 1][0]}.html", "text": order[i + 1][1]} if i + 1 < len(order)
                         else {"href": "../../comparison.html", "text": "Comparison"})
            (out / f"{name}.html").write_text(_page(
                "notebook.html.j2", f"reports/{ds}/{name}.html", datasets, st, sweeps,
                title=f"{text.split(' · ', 1)[1]} · {display_name(ds)} · pseudoface", built=built,
                provenance=Markup(_code(provenance_text(stamp))),
                extra_head=Markup(f'<link rel="stylesheet" href="../../{ASSETS}/notebook.css">'),
                dataset=display_name(ds), number=i + 1, pages=len(order), video_note=Markup(video_note(stamp)),
                cells=Markup(cells if name != REPORTING else f"<h1>{REPORTING_TITLE}</h1>" + cells),
                downloads=downloads, privacy=privacy, previous=previous, following=following))
    (site / ASSETS / "notebook.css").write_text((site / ASSETS / "notebook.css").read_text() + highlight_css)
    gen = root / "reports" / "_generated"
    sources = ", ".join(display_name(ds) for ds in datasets)
    pages = [("index.html", "Results · pseudoface", "pseudoface results", gen / "cards.md"),
             ("comparison.html", "Comparison · pseudoface",
              "Comparison: the seed preset, alignment and clips against the default", gen / "comparison.md"),
             *([("sweeps.html", "Sweeps · pseudoface", "Sweeps: macro-F1 per grid point, beside the baselines",
                 gen / "sweeps.md")] if sweeps else [])]
    for page, title, heading, body in pages:
        (site / page).write_text(_page("page.html.j2", page, datasets, st, sweeps, title=title, banner=Markup(banner),
                                       heading=heading, body=Markup(body.read_text()), sources=sources, built=built))
    (site / "method.html").write_text(_page("page.html.j2", "method.html", datasets, st, sweeps,
                                            title="Method, protocol and privacy · pseudoface", banner=Markup(banner),
                                            body=Markup(method_body(root, STATIC_RENDERER)), sources=sources,
                                            built=built))
