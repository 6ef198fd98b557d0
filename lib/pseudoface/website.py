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

from . import captions, results
from .captions import display_name
from .sweep_page import published_sweeps, sweeps_body
from .report import DOWNLOAD_NAMES, DOWNLOADS, NOTEBOOKS, PUBLICATION_TAG, STAMP, provenance_text

TITLES = {"01_landmarks": "Landmark exploration", "02_pseudo_images": "Pseudo-images",
          "03_training": "Training", "04_fold_analysis": "Fold analysis"}
SEED_PAPER = ("<em>Lightweight Depression Detection Using 3D Facial Landmark Pseudo-Images and CNN-LSTM</em>, "
              "the seed paper whose method this project implements and tests")
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
    return {ds: json.loads((root / "reports" / ds / f"{NOTEBOOKS[-1]}.ipynb").read_text())["metadata"][STAMP]
            for ds in datasets}


# ---------------------------------------------------------------- generated pages (both renderers)

def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def key_results_html(dataset: str, stamp: dict, prefix: str = "") -> str:
    """The index's box for one dataset: the findings up front, then the links."""
    m = stamp["metrics"]
    f1, auc, fm = m["macro_f1"], m["roc_auc"], m["baselines"]["feature_model"]["macro_f1"]
    paired = m["paired_vs_feature_model"]
    f = results._f
    net = results.network_name(m)
    fused = "fused_model" in m  # the headline when there (the best on the development seeds), else the network
    headline = f"{f(f1['mean'])} ± {f(f1['std'])}"
    rows = [
        (f"{net} macro-F1", f"{headline if fused else f'<strong>{headline}</strong>'} (mean ± SD over "
                            f"{results.folds_phrase(f1)}); pooled {f((f1.get('pooled') or {}).get('0'))}, 95% CI {f(f1['ci95'][0])} to {f(f1['ci95'][1])}"),
        ("Depressed: actual vs predicted", f"{_pct(results.prevalence(m))} of {m['n_participants']} participants are "
                                           f"depressed; the network calls {_pct(m['predicted_positive_rate']['mean'])} depressed"),
        ("ROC-AUC", f"{f(auc['mean'])} ± {f(auc['std'])}"),
        ("Motion-feature model macro-F1", f"{f(fm['mean'])} ± {f(fm['std'])}"),
        (f"{net} − feature model", f"{f(paired['difference'], sign=True)} (paired bootstrap 95% CI "
                                   f"{f(paired['ci95'][0], sign=True)} to {f(paired['ci95'][1], sign=True)})"),
    ]
    if fused:  # first, then the network and the feature model
        fu, fp = m["fused_model"], m["paired_fused_vs_feature_model"]
        rows = [("Fused model macro-F1 (headline)",
                 f"<strong>{f(fu['macro_f1']['mean'])} ± {f(fu['macro_f1']['std'])}</strong> (the network's and the "
                 f"feature model's logits, stacked); ROC-AUC {f(fu['roc_auc']['mean'])}; calls "
                 f"{_pct(fu['predicted_positive_rate']['mean'])} depressed"),
                ("Fused − feature model", f"{f(fp['difference'], sign=True)} (paired bootstrap 95% CI "
                                          f"{f(fp['ci95'][0], sign=True)} to {f(fp['ci95'][1], sign=True)})"),
                *rows]
    base = pd.DataFrame([{"name": results.BASELINE_NAMES.get(k, k), "mean": v["macro_f1"]["mean"],
                          "std": v["macro_f1"]["std"], "ppr": v["predicted_positive_rate"]["mean"]}
                         for k, v in m["baselines"].items()])
    kind = "synthetic corpus" if m.get("synthetic") else "licensed corpus"
    pages = " · ".join(f'<a href="{prefix}reports/{dataset}/{n}.html">{i} · {TITLES[n]}</a>' for i, n in enumerate(NOTEBOOKS, 1))
    downloads = " · ".join(f'<a href="{prefix}reports/{dataset}/{DOWNLOADS}/{n}">{DOWNLOAD_NAMES.get(n, n)}</a>'
                           for n in stamp.get("downloads", []))
    return "\n".join([
        f'<section class="pf-card" id="{dataset}">',
        f'<h2>{display_name(dataset)} <span class="pf-tag">{kind} · {m["protocol"]}</span></h2>',
        f'<p class="pf-conclusion">{html.escape(results.conclusion(m))}</p>',
        '<table class="pf-key">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>",
        f"<details><summary>All baselines (macro-F1, same folds)</summary>{captions.styled(base).to_html()}</details>",
        f'<p class="pf-links"><strong>Pages:</strong> {pages} · <a href="{prefix}comparison.html#{dataset}">Comparison</a></p>',
        f'<p class="pf-links"><strong>Downloads:</strong> {downloads}</p>' if downloads else "",
        f'<p class="pf-prov">{_code(provenance_text(stamp))}</p>',
        "</section>"])


def _code(text: str) -> str:
    """`x` spans of a provenance line as <code>."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(text))


def index_body(st: dict[str, dict]) -> str:
    intro = (f"<p>Depression screening (PHQ-8 ≥ 10) from 3-D facial landmark pseudo-images with a lightweight "
             f"CNN-LSTM, after {SEED_PAPER}. Every number is participant-level, from participant-grouped outer folds, "
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
             "velocity as channels; the 68 landmark rows are one option away (<code>encode.landmark_rows: true</code>). "
             f"<strong>seed preset</strong>: the network and input of {SEED_PAPER}: the 68 landmarks on the frame "
             "layout, each of the first 16 valid frames' aligned 68×3 coordinate matrix as one image (one instant, no "
             "movement), its 225k-parameter CNN-LSTM; here at the matrix's native 68×3 size "
             "(<code>encode.frame_size: 0</code>), since the paper's 224×224 resize "
             "interpolates the same values at ~2,000× the compute per second of video. "
             "<strong>no alignment</strong>: the default without the rigid alignment to the template face. "
             "<strong>CNN-LSTM on clips</strong>: the paper's reading of a session, an LSTM over clips of K windows "
             "and the mean clip logit per participant, instead of the default network's one pass over the whole "
             "session. Every row also gives the motion-feature model and the fused model in the same folds.</p>",
             "<p>The paired difference compares each variant with the default on the same participants (first repeat); "
             "a 95% interval that spans 0 means the difference is within noise.</p>"]
    for ds, stamp in st.items():
        kind = " (synthetic corpus)" if stamp["metrics"].get("synthetic") else ""
        parts.append(f'<h2 id="{ds}">{display_name(ds)}{kind}</h2>')
        if not stamp.get("comparison"):
            parts.append("<p>Comparisons were not run for this dataset (<code>report.comparisons: false</code>).</p>")
            continue
        table = pd.DataFrame(stamp["comparison"])
        fig = comparison_figure(table, f"{display_name(ds)}: variants on the same folds",
                                "Variant minus default (same participants)")
        parts += [fig.to_html(full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG),
                  f"<p>{html.escape(results.comparison_sentence(table))}</p>",
                  captions.styled(results.comparison_table(table), results.COMPARISON_COLUMNS).to_html()]
    return "\n".join(parts)


def method_body(root: Path) -> str:
    import mistune
    text = (root / "method.qmd").read_text().split("---", 2)[-1]
    return mistune.create_markdown(escape=False, plugins=["table"])(text)


def quarto_metadata(datasets: list[str], st: dict[str, dict], sweeps: bool = False) -> dict:
    """Navigation for Quarto (``metadata-files`` in _quarto.yml): a menu per dataset, a sidebar that
    gives previous/next links, the synthetic banner as the site announcement."""
    def page(ds, n):
        return {"href": f"reports/{ds}/{n}.ipynb", "text": f"{NOTEBOOKS.index(n) + 1} · {TITLES[n]}"}
    website = {
        "navbar": {"left": [{"href": "index.qmd", "text": "Home"},
                            *({"text": display_name(ds), "menu": [page(ds, n) for n in NOTEBOOKS]} for ds in datasets),
                            {"href": "comparison.qmd", "text": "Comparison"},
                            *([{"href": "sweeps.qmd", "text": "Sweeps"}] if sweeps else []),
                            {"href": "method.qmd", "text": "Method"}]},
        "sidebar": [{"title": display_name(ds), "contents": [page(ds, n) for n in NOTEBOOKS]} for ds in datasets],
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
        renderer = "nbconvert (static fallback: Quarto is not on PATH)"
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
    which = " and ".join(synthetic) + (" datasets are" if len(synthetic) > 1 else " dataset is")
    return captions.render("banner.html.j2", label="Synthetic corpus.", dataset="",
                           text=f"The {which} synthetic data with a planted effect: their numbers show the "
                                "pipeline works and say nothing about depression.")


def _page(template: str, current: str, datasets: list[str], sweeps: bool, **values) -> str:
    """A static page: ``template`` (page.html.j2 or notebook.html.j2) with the navbar for ``current``
    (the page's path from the site's root); HTML-valued ``values`` come as ``Markup``."""
    menus = [{"name": display_name(ds), "current": current.startswith(f"reports/{ds}/"),
              "pages": [(f"reports/{ds}/{n}.html", f"{i} · {TITLES[n]}") for i, n in enumerate(NOTEBOOKS, 1)]}
             for ds in datasets]
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
    built = f"Built {time.strftime('%Y-%m-%d %H:%M')} with nbconvert (static fallback: Quarto is not on PATH)."
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
        for i, name in enumerate(NOTEBOOKS):
            cells, resources = exporter.from_filename(str(folder / f"{name}.ipynb"))
            highlight_css = highlight_css or "\n".join(resources.get("inlining", {}).get("css", []))
            previous = {"href": f"{NOTEBOOKS[i - 1]}.html", "text": f"{i} · {TITLES[NOTEBOOKS[i - 1]]}"} if i else None
            following = ({"href": f"{NOTEBOOKS[i + 1]}.html", "text": f"{i + 2} · {TITLES[NOTEBOOKS[i + 1]]}"}
                         if i + 1 < len(NOTEBOOKS) else {"href": "../../comparison.html", "text": "Comparison"})
            (out / f"{name}.html").write_text(_page(
                "notebook.html.j2", f"reports/{ds}/{name}.html", datasets, sweeps,
                title=f"{TITLES[name]} · {display_name(ds)} · pseudoface", built=built,
                provenance=Markup(_code(provenance_text(stamp))),
                extra_head=Markup(f'<link rel="stylesheet" href="../../{ASSETS}/notebook.css">'),
                dataset=display_name(ds), number=i + 1, pages=len(NOTEBOOKS), video_note=Markup(video_note(stamp)),
                cells=Markup(cells), downloads=downloads, privacy=privacy, previous=previous, following=following))
    (site / ASSETS / "notebook.css").write_text((site / ASSETS / "notebook.css").read_text() + highlight_css)
    gen = root / "reports" / "_generated"
    sources = ", ".join(display_name(ds) for ds in datasets)
    pages = [("index.html", "Results · pseudoface", "pseudoface results", gen / "cards.md"),
             ("comparison.html", "Comparison · pseudoface",
              "Comparison: the seed preset, alignment and clips against the default", gen / "comparison.md"),
             *([("sweeps.html", "Sweeps · pseudoface", "Sweeps: macro-F1 per grid point, beside the baselines",
                 gen / "sweeps.md")] if sweeps else [])]
    for page, title, heading, body in pages:
        (site / page).write_text(_page("page.html.j2", page, datasets, sweeps, title=title, banner=Markup(banner),
                                       heading=heading, body=Markup(body.read_text()), sources=sources, built=built))
    (site / "method.html").write_text(_page("page.html.j2", "method.html", datasets, sweeps,
                                            title="Method, protocol and privacy · pseudoface", banner=Markup(banner),
                                            body=Markup(method_body(root)), sources=sources,
                                            built=built))
