"""The generated pages of the results website, the same for both renderers: the index's key-results
box per dataset, the Comparison page, each dataset's reporting page, the closing note of the method
page, and the list of a dataset's pages that both navigations follow. Everything they state comes
from the published stamps (:mod:`report`); Python computes the values, the markup is in templates
(``templates/key_results.html.j2``, ``index.html.j2``, ``comparison.html.j2``, ``reporting.html.j2``,
``macros.html.j2``), rendered by :func:`captions.render` with autoescape on.

Quarto reads these bodies as Markdown (``reports/_generated/*.md``, included by ``index.qmd``,
``comparison.qmd``, ``sweeps.qmd``), so each is written as one raw HTML block (:func:`raw_html`) that
pandoc passes through untouched (HTML lines indented by four spaces in Markdown would be code blocks);
the static fallback reads the same block back (:func:`html_of`): both show the same markup.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from . import captions, results, severity
from .captions import display_name
from .downloads import DOWNLOAD_NAMES, DOWNLOADS
from ..learning.intervals import CORRECTED_T, DIFFERENCE, beyond_note, number
from .report import NOTEBOOKS, provenance_text
from .sweep_page import sweeps_body

TITLES = {"01_landmarks": "Landmark exploration", "02_pseudo_images": "Pseudo-images",
          "03_training": "Training", "04_fold_analysis": "Fold analysis"}
# a corpus of per-frame series (E-DAIC: pose, gaze, action units) explores those on its first page
SERIES_TITLES = TITLES | {"01_landmarks": "Pose, gaze and AU exploration"}
CORPUS_INPUTS = {
    "landmarks": "3-D facial landmarks (68 points per frame), normalised per session and encoded as pseudo-images",
    "series": "per-frame head pose, gaze and facial action-unit intensity series (the corpus ships no landmarks), "
              "encoded as pseudo-images of the same window layout"}
REPORTING = "reporting"  # the generated fifth page of a dataset: reports/<dataset>/reporting.html
REPORTING_TITLE = "Reporting (TRIPOD+AI)"
RANKING_HEADERS = {"ci95_low": "95% CI low (corrected t)", "ci95_high": "95% CI high (corrected t)",
                   "difference": "minus the feature model", "diff_low": "its 95% CI low", "diff_high": "its 95% CI high"}
# Quarto (1.5 and later) leaves the tables of a raw block that carries this comment as they are, instead of
# re-parsing them into its own tables; every other reader ignores a comment
QUARTO_AS_IS = "<!--| quarto-html-table-processing: none -->"


def titles(stamp: dict) -> dict:
    """The page titles of a dataset: its first page explores what the corpus has."""
    return SERIES_TITLES if stamp.get("layout") == "series" else TITLES


def dataset_pages(stamp: dict) -> list[tuple[str, str]]:
    """(page name, numbered title) of a dataset's pages: the four notebooks, then the reporting page."""
    names = titles(stamp)
    return [(n, f"{i} · {names[n]}") for i, n in enumerate(NOTEBOOKS, 1)] + [(REPORTING, f"5 · {REPORTING_TITLE}")]


# front matter Quarto reads from a notebook's first raw cell: the <title> names the corpus (the page's
# H1 stays its visible title); the fallback drops the cell by its tag
FRONT_MATTER_TAG = "pseudoface-front-matter"


def front_matter_cell(stamp: dict, name: str, dataset: str):
    """The raw cell that gives a published notebook its page title: "3 · Training · DAIC-WOZ"."""
    import nbformat
    import yaml
    title = dict(dataset_pages(stamp))[name]
    text = yaml.safe_dump({"pagetitle": f"{title} · {display_name(dataset)}"}, allow_unicode=True)
    cell = nbformat.v4.new_raw_cell(f"---\n{text}---")
    cell.metadata["tags"] = [FRONT_MATTER_TAG]
    cell["id"] = "front-matter"
    return cell


# ---------------------------------------------------------------- HTML inside Markdown

def raw_html(markup: str) -> str:
    """``markup`` as one Markdown raw HTML block (```` ```{=html} ````): pandoc passes it through as it is,
    indented lines included; the fence is longer than any run of backticks inside."""
    fence = "`" * max(3, 1 + max(map(len, re.findall(r"`+", markup)), default=0))
    return f"{fence}{{=html}}\n{QUARTO_AS_IS}\n{markup.rstrip(chr(10))}\n{fence}\n"


RAW_BLOCK = re.compile(r"(`{3,})\{=html\}\n(.*)\n\1\n?", re.S)


def html_of(markdown: str, source: str = "the generated Markdown") -> str:
    """The HTML of a body :func:`raw_html` wrote (what the fallback puts in its page: Quarto's markup)."""
    match = RAW_BLOCK.fullmatch(markdown)
    if match is None:
        raise ValueError(f"{source}: expected one raw HTML block (```{{=html}} ... ```), the way the site builder "
                         "writes a page body")
    return match.group(2)


# ---------------------------------------------------------------- the reporting page

def reporting_markdown(stamp: dict) -> str:
    """The reporting page of a dataset in Markdown (:func:`reporting.reporting_document`, the rendering
    ``reporting.md`` is): the TRIPOD+AI items its run answers (with their source) or leaves to the
    researcher (with what to write), and the shuffled-label sanity run beside the real run."""
    from .reporting import reporting_document
    return reporting_document(stamp.get("reporting"), stamp.get("sanity"))


def reporting_body(stamp: dict) -> str:
    """The reporting page for the fallback builder: the synthetic banner, then the Markdown converted once."""
    import mistune
    items = mistune.create_markdown(escape=False, plugins=["table"])(reporting_markdown(stamp))
    banner = captions.banner_html() if stamp["metrics"].get("synthetic") else ""
    return captions.render("reporting.html.j2", banner=Markup(banner), items=Markup(items)) + "\n"


def reporting_qmd(stamp: dict, dataset: str) -> str:
    """The reporting page for Quarto: the same Markdown in a ``.pf-items`` div (as the fallback's body:
    tables that keep the Markdown's column widths, site.scss), the banner as a raw HTML block. The page
    takes the full width beside the sidebar, without the margin's table of contents (two entries): its
    five-column item tables had 800 px of a 1400 px window and made the page twice as tall as the fallback's."""
    banner = raw_html(captions.banner_html()) + "\n" if stamp["metrics"].get("synthetic") else ""
    return (f'---\ntitle: "{REPORTING_TITLE}: {display_name(dataset)}"\npage-layout: full\ntoc: false\n---\n\n'
            f'{banner}::: {{.pf-items}}\n\n{reporting_markdown(stamp)}\n\n:::\n')


# ---------------------------------------------------------------- the index

def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def code_spans(text: str) -> list[str]:
    """``text`` split at its `x` spans: every other part (the second, the fourth, ...) is code."""
    return re.split(r"`([^`]*)`", text)


def _interval(d: dict) -> str:
    f = number
    return (f"{f(d['mean'], sign=True)} (95% CI {f(d['ci95'][0], sign=True)} to {f(d['ci95'][1], sign=True)}, "
            f"{CORRECTED_T}){beyond_note(d['ci95'], DIFFERENCE)}")


def _model_rows(m: dict, screen: dict) -> list[dict]:
    """The models side by side: macro-F1 by the fold estimator, the screening numbers pooled."""
    f, rows = number, []
    table = results.headline_table(m, screen or None)
    for i, (key, r) in enumerate(zip(results.headline_keys(m), table.to_dict("records"))):
        sc = screen.get(key)
        rows.append({"model": r["model"], "headline": i == 0, "trivial": key in results.TRIVIAL,
                     "macro": f"{f(r['macro-F1 (mean over folds)'])} ± {f(r['SD over folds'])}",
                     "ci": r["95% CI (corrected t)"], "auc": f(r["ROC-AUC (mean over folds)"]),
                     "sensitivity": f"{f(sc['sensitivity'], 2)} ({sc['tp']} of {sc['tp'] + sc['fn']})" if sc else "–",
                     "specificity": f"{f(sc['specificity'], 2)} ({sc['tn']} of {sc['tn'] + sc['fp']})" if sc else "–",
                     "calls": _pct(r["calls depressed"]), "brier": f(sc["brier"]) if sc else "–"})
    return rows


def _differences(m: dict) -> list[dict]:
    """The headline model and the network against the feature model and the best trivial baseline."""
    head, trivial = results.headline_key(m), results.best_trivial(m)
    pairs = [(a, b) for a, b in ((head, "feature_model"), (head, trivial), ("network", "feature_model"),
                                 ("network", trivial)) if a in results.fold_scores(m)]
    return [{"a": results.model_label(m, a), "b": results.model_label(m, b), "interval": _interval(results.paired(m, a, b))}
            for a, b in dict.fromkeys(pairs)]


def _notes(stamp: dict) -> list[str]:
    """The label, a Brier score worse than the prevalence's, what the models use, the sanity run, and
    which estimator each number is."""
    m, f = stamp["metrics"], number
    screen = stamp.get("screening") or {}
    notes = [results.label_sentence(m)]
    worse = [f"{results.model_label(m, k, prose=True)} ({f(v['brier'])})" for k, v in screen.items()
             if k != "prevalence_brier" and v["brier"] >= screen["prevalence_brier"]]
    if worse:
        notes.append(f"Brier score worse than the prevalence-only forecast ({f(screen['prevalence_brier'])}, everyone "
                     f"given the prevalence as probability): {', '.join(worse)}; these scores may rank participants but "
                     "are not usable as probabilities of depression.")
    explained = stamp.get("explanations")
    if explained:
        def top(model, a):
            name = "network" if model == "network" else "motion-feature model"
            return (f"the {name}'s score moves most when {a['top']} is replaced by its neutral value (first in "
                    f"{a['top_share'] * a['folds']:.0f} of {a['folds']} folds; ranking {'stable' if a['stable'] else 'not stable'} "
                    f"across folds, Kendall's W {f(a['kendall_w'], 2)})")
        notes.append("What the models use (occlusion, fold analysis page): "
                     + "; ".join(top(k, a) for k, a in explained.items()) + ".")
    if stamp.get("sanity"):
        from ..learning.sanity import sanity_brief
        notes.append(sanity_brief(stamp["sanity"]))
    return notes + [results.estimator_note(m)]


def _regression(regression: dict | None) -> dict | None:
    """The PHQ-8 regression's key results on the index (MAE, RMSE, CCC beside the mean predictor)."""
    if not regression:
        return None
    table = severity.regression_table(regression)[["model", "MAE", "RMSE", "CCC", "MAE − mean predictor (95% CI, corrected t)"]]
    return {"sentence": severity.regression_sentence(regression), "table": Markup(captions.styled(table).to_html())}


def corpus_kind(name: str, synthetic: bool) -> str:
    """What kind of corpus a dataset is, beside its name (which may say "synthetic" already)."""
    if not synthetic:
        return "licensed corpus"
    return "corpus with a planted effect" if "synthetic" in name.lower() else "synthetic corpus"


def key_results_html(dataset: str, stamp: dict) -> str:
    """The index's box for one dataset: what the corpus is and which label was scored, the conclusion
    against every baseline, warnings, the models side by side (macro-F1 by the fold estimator, the
    screening numbers pooled), the differences, every baseline, then the links."""
    m = stamp["metrics"]
    first, sep, rest = results.conclusion(m).partition(". ")
    corpus = (f"{m['n_participants']} participants, {m['n_depressed']} depressed ({_pct(results.prevalence(m))}); input: "
              f"{CORPUS_INPUTS.get(stamp.get('layout', 'landmarks'))}.")
    return captions.render(
        "key_results.html.j2", dataset=dataset, name=display_name(dataset), protocol=m["protocol"],
        kind=corpus_kind(display_name(dataset), m.get("synthetic")), corpus=corpus,
        lead=(first + sep.strip(), rest.rstrip()), corrected_t=CORRECTED_T,
        warning=results.small_fold_warning(m) if "fold_details" in m else "",
        rows=_model_rows(m, stamp.get("screening") or {}), differences=_differences(m), notes=_notes(stamp),
        regression=_regression(stamp.get("regression")),
        baselines=Markup(captions.styled(results.baseline_table(m), RANKING_HEADERS).to_html()),
        pages=[(f"reports/{dataset}/{n}.html", text) for n, text in dataset_pages(stamp)],
        downloads=[(f"reports/{dataset}/{DOWNLOADS}/{n}", DOWNLOAD_NAMES.get(n, n)) for n in stamp.get("downloads", [])],
        provenance=code_spans(provenance_text(stamp)))


def index_body(st: dict[str, dict], transfers: dict[str, dict] | None = None) -> str:
    """What the project is, then a key-results box per published dataset and per cross-corpus transfer."""
    from .transfer_page import transfer_card
    cards = [Markup(key_results_html(ds, stamp)) for ds, stamp in st.items()]
    cards += [Markup(transfer_card(name, s)) for name, s in (transfers or {}).items()]
    return captions.render("index.html.j2", cards=cards)


# ---------------------------------------------------------------- the other pages

def comparison_body(st: dict[str, dict]) -> str:
    """The comparison variants against the default, per dataset: the figure, the sentence, the table."""
    from .plots import PLOTLY_CONFIG
    from .result_plots import comparison_figure
    sections = []
    for ds, stamp in st.items():
        section = {"dataset": ds, "name": display_name(ds), "synthetic": stamp["metrics"].get("synthetic"), "figure": None}
        if stamp.get("comparison"):
            table = pd.DataFrame(stamp["comparison"])
            fig = comparison_figure(table, f"{display_name(ds)}: variants on the same folds",
                                    "Variant minus default (same folds)")
            section |= {"figure": Markup(fig.to_html(full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG)),
                        "sentence": results.comparison_sentence(table),
                        "table": Markup(captions.styled(results.comparison_table(table),
                                                        results.COMPARISON_COLUMNS).to_html())}
        sections.append(section)
    return captions.render("comparison.html.j2", sections=sections, corrected_t=CORRECTED_T)


BUILT_WITH = ("This site was built by `pseudoface report` from the executed notebooks and their published runs, "
              "rendered with {renderer}. The notebooks were executed by papermill; the renderer only renders them.")


def built_markdown(renderer: str) -> str:
    return "## How this site was built\n" + BUILT_WITH.format(renderer=renderer) + "\n"


def method_title(root: Path) -> str:
    """The method page's title, from method.qmd's front matter (Quarto draws it as the page's heading)."""
    import yaml
    return yaml.safe_load((root / "method.qmd").read_text().split("---", 2)[1])["title"]


def method_body(root: Path, renderer: str) -> str:
    """The method page (method.qmd) and, at its end, what built the site."""
    import mistune
    text = (root / "method.qmd").read_text().split("---", 2)[-1]
    text = re.sub(r"^\{\{< include [^>]*>\}\}\s*$", "", text, flags=re.M)  # Quarto's include of built.md
    text += "\n\n" + built_markdown(renderer)
    return mistune.create_markdown(escape=False, plugins=["table"])(text)


def generated_markdown(st: dict[str, dict], sweeps: dict, renderer: str,
                       transfers: dict[str, dict] | None = None) -> dict[str, str]:
    """{file name: text} of what ``reports/_generated/`` holds for both renderers: the bodies of the index
    (cards.md), the Comparison and the Sweeps pages as raw HTML blocks, and how the site was built (built.md)."""
    return {"cards.md": raw_html(index_body(st, transfers)), "comparison.md": raw_html(comparison_body(st)),
            "sweeps.md": raw_html(sweeps_body(sweeps)), "built.md": built_markdown(renderer)}
