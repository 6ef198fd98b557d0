"""The results website, built from published reports only (``reports/<dataset>/``, see :mod:`report`).

Only complete datasets are published: the four notebooks stamped by one report run; the builder says
which folders it skipped and why. Everything the site states comes from those notebooks and their
stamps (key results, comparison, provenance), so a checkout without ``runs/`` builds the same site.

The pages this module generates (the index's key results, the Comparison and Sweeps pages, each
dataset's reporting page) are :mod:`site_pages`' and :mod:`sweep_page`'s, written to
``reports/_generated/`` as raw HTML blocks that both renderers show as they are.

Renderers: ``quarto render`` (``_quarto.yml``, execution off; this module writes the navigation it
reads from ``reports/_generated/_website.yml``) where Quarto is on PATH; otherwise a static site
from the same notebooks (nbconvert cells in one page shell: a navbar on every page with the current
page marked, previous/next links, code folded, the synthetic banner, downloads, a provenance footer;
its HTML and CSS are the templates in ``lib/pseudoface/site/templates/``).
Either way the pages then load plotly.js once from ``assets/`` instead of embedding 4.8 MB per page,
and reference nothing outside the site.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

from markupsafe import Markup

from . import captions
from .captions import display_name
from .downloads import DOWNLOAD_NAMES, DOWNLOADS
from .report import NOTEBOOKS, PUBLICATION_TAG, STAMP, provenance_text
from ..learning.schema import check_stamp
from .site_pages import (FRONT_MATTER_TAG, REPORTING, REPORTING_TITLE, code_spans, dataset_pages, generated_markdown, html_of, method_body, method_title, raw_html,
                         front_matter_cell, reporting_body, reporting_qmd)
from .sweep_page import published_sweeps
from .transfer_page import PAGE as TRANSFER_PAGE, PAGE_TITLE as TRANSFER_TITLE, direction, published_transfers, transfer_body
from ..learning.transfer import TRANSFER_JSON

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
        if not folder.is_dir() or folder.name.startswith(("_", ".")) or (folder / TRANSFER_JSON).is_file():
            continue  # a cross-corpus transfer is published as one transfer.json (transfer_page)
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


STATIC_RENDERER = "nbconvert, with this project's page templates"

def transfer_qmd(name: str, summary: dict) -> str:
    """A transfer's page for Quarto: front matter and the body as one raw HTML block."""
    return f'---\ntitle: "{TRANSFER_TITLE}: {direction(summary)}"\n---\n\n' + raw_html(transfer_body(name, summary))


def transfer_menu(transfers: dict[str, dict]) -> list[tuple[str, str]]:
    """(href from the site's root, text) of each published transfer's page."""
    return [(f"reports/{name}/{TRANSFER_PAGE}.html", direction(s)) for name, s in transfers.items()]


def quarto_metadata(datasets: list[str], st: dict[str, dict], sweeps: bool = False,
                    transfers: dict[str, dict] | None = None) -> dict:
    """Navigation for Quarto (``metadata-files`` in _quarto.yml): a menu per dataset, a sidebar that
    gives previous/next links. No site-wide announcement: the synthetic banner belongs to the synthetic
    datasets' pages only (their notebooks show it, their reporting.qmd carries it), and the site's own
    pages include ``reports/_generated/banner.md``, which names the synthetic datasets."""
    def pages(ds):  # the notebooks, then the reporting page (a .qmd written by build_site)
        return [{"href": f"reports/{ds}/{n}.{'qmd' if n == REPORTING else 'ipynb'}", "text": text}
                for n, text in dataset_pages(st[ds])]
    website = {
        "navbar": {"left": [{"href": "index.qmd", "text": "Home"},
                            *({"text": display_name(ds), "menu": pages(ds)} for ds in datasets),
                            *([{"text": "Transfers", "menu": [{"href": h.replace(".html", ".qmd"), "text": t}
                                                              for h, t in transfer_menu(transfers)]}] if transfers else []),
                            {"href": "comparison.qmd", "text": "Comparison"},
                            *([{"href": "sweeps.qmd", "text": "Sweeps"}] if sweeps else []),
                            {"href": "method.qmd", "text": "Method"}]},
        "sidebar": [{"title": display_name(ds), "contents": pages(ds)} for ds in datasets],
        "page-footer": {"center": f"Built {time.strftime('%Y-%m-%d')} from the published reports of "
                                  + ", ".join(display_name(d) for d in datasets) if datasets else "No report yet"},
    }
    return {"website": website}


def site_notes(datasets: list[str], st: dict[str, dict]) -> str:
    """The notes above the site's own pages (index, Comparison, Sweeps, Method), the same in both
    renderers: which datasets are synthetic (only when some are) and which come from video."""
    synthetic = [display_name(ds) for ds in datasets if st[ds]["metrics"].get("synthetic")]
    return (site_banner(synthetic, bool(datasets) and len(synthetic) == len(datasets))
            + "".join(video_note(st[ds], display_name(ds)) for ds in datasets))


def with_front_matter(path: Path, stamp: dict, dataset: str) -> None:
    """Give a published notebook its front matter cell (reports published before it existed), or
    update it; the file is rewritten only when the cell changes."""
    import nbformat
    nb = nbformat.read(path, as_version=4)
    cell = front_matter_cell(stamp, path.stem, dataset)
    first = nb.cells[0] if nb.cells else None
    if first is not None and FRONT_MATTER_TAG in first.metadata.get("tags", []):
        if first.source == cell.source:
            return
        nb.cells[0] = cell
    else:
        nb.cells.insert(0, cell)
    nbformat.write(nb, path)


def build_site(root: Path) -> str:
    """Build reports/_site from the complete datasets; returns the renderer used."""
    import yaml
    root = Path(root)
    datasets, skipped = published_datasets(root)
    for name, reason in skipped.items():
        print(f"site: skipped reports/{name}/: {reason}")
    st = stamps(root, datasets)
    transfers = published_transfers(root)
    gen = root / "reports" / "_generated"
    gen.mkdir(parents=True, exist_ok=True)
    sweeps = published_sweeps(root)
    # the page bodies both renderers read: Quarto includes them, the fallback takes their HTML back
    for name, text in generated_markdown(st, sweeps, "Quarto" if shutil.which("quarto") else STATIC_RENDERER,
                                         transfers).items():
        (gen / name).write_text(text)
    for name, summary in transfers.items():  # a transfer's page for Quarto
        (root / "reports" / name / f"{TRANSFER_PAGE}.qmd").write_text(transfer_qmd(name, summary))
    (gen / "_website.yml").write_text(yaml.safe_dump(quarto_metadata(datasets, st, bool(sweeps), transfers), sort_keys=False,
                                                     allow_unicode=True))
    site = root / "reports" / "_site"
    (gen / "banner.md").write_text(raw_html(notes) if (notes := site_notes(datasets, st)) else "")
    for ds in datasets:  # the reporting page for Quarto: the Markdown the fallback converts
        (root / "reports" / ds / f"{REPORTING}.qmd").write_text(reporting_qmd(st[ds], ds))
        for name in NOTEBOOKS:
            with_front_matter(root / "reports" / ds / f"{name}.ipynb", st[ds], ds)
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
        build_static_site(root, datasets, st, bool(sweeps), transfers)
        renderer = f"{STATIC_RENDERER} (Quarto is not on PATH)"
    share_plotlyjs(site)
    keep_offline(site)
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


# What Quarto writes into the head of every notebook page that has an HTML or JavaScript output
# (quarto-cli src/core/jupyter/widgets.ts, "jsWidgets"): require.js and jQuery from cdnjs and an AMD
# definition of jQuery. Nothing on these pages uses them (plotly is loaded from assets/ and draws without
# require.js; there are no Jupyter widgets), and a published report must open with no network.
CDN_LIBRARIES = re.compile(r"""[ \t]*<script[^>]*\bsrc=["']https?://[^"']*/(?:require\.js|jquery)/[^"']*["'][^>]*>\s*</script>[ \t]*\n?"""
                           r"""|[ \t]*<script[^>]*>\s*define\(\s*['"]jquery['"][^<]*</script>[ \t]*\n?""", re.I)
EXTERNAL_LOAD = re.compile(r"""<(?:script|img|iframe)[^>]*\bsrc=["']?(?:https?:)?//[^"'\s>]+|<link[^>]*\bhref=["']?(?:https?:)?//[^"'\s>]+""", re.I)


def keep_offline(site: Path) -> list[str]:
    """Take the CDN libraries Quarto adds out of every page; returns (and prints) what any page would
    still load from the network."""
    left = []
    for page in site.rglob("*.html"):
        text = page.read_text()
        offline = CDN_LIBRARIES.sub("", text)
        if offline != text:
            page.write_text(offline)
        left += [f"{page.relative_to(site)}: {m[:80]}" for m in EXTERNAL_LOAD.findall(offline)]
    for line in left:
        print(f"site: loads from the network: {line}")
    return left


# ---------------------------------------------------------------- the static fallback
# The page shell, the navbar, banners, the downloads block and the stylesheet are templates
# (lib/pseudoface/site/templates/: page.html.j2, notebook.html.j2, banner.html.j2, site.css).


def video_note(stamp: dict, dataset: str = "") -> str:
    """The note on every page whose results come from landmarks extracted from video ('' otherwise);
    ``dataset`` names the dataset where a page shows several."""
    if not stamp.get("from_video"):
        return ""
    from ..corpora.extract import NOT_OPENFACE
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


def _page(template: str, current: str, datasets: list[str], st: dict[str, dict], sweeps: bool,
          transfers: dict[str, dict] | None = None, **values) -> str:
    """A static page: ``template`` (page.html.j2 or notebook.html.j2) with the navbar for ``current``
    (the page's path from the site's root); HTML-valued ``values`` come as ``Markup``."""
    menus = [{"name": display_name(ds), "current": current.startswith(f"reports/{ds}/"),
              "pages": [(f"reports/{ds}/{n}.html", text) for n, text in dataset_pages(st[ds])]} for ds in datasets]
    if transfers:
        menus.append({"name": "Transfers", "current": any(current == h for h, _ in transfer_menu(transfers)),
                      "pages": transfer_menu(transfers)})
    values = {"banner": "", "heading": "", "body": "", **values}
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
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"remove-cell", PUBLICATION_TAG, FRONT_MATTER_TAG}),
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


def build_static_site(root: Path, datasets: list[str], st: dict[str, dict], sweeps: bool = False,
                      transfers: dict[str, dict] | None = None) -> None:
    site = root / "reports" / "_site"
    if site.exists():
        shutil.rmtree(site)
    (site / ASSETS).mkdir(parents=True)
    (site / ASSETS / "site.css").write_text(captions.template_text("site.css"))
    _notebook_css(site)
    built = f"Built {time.strftime('%Y-%m-%d %H:%M')}."  # what built it: once, on the method page
    banner = site_notes(datasets, st)
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
                "notebook.html.j2", f"reports/{ds}/{name}.html", datasets, st, sweeps, transfers,
                title=f"{text.split(' · ', 1)[1]} · {display_name(ds)} · pseudoface", built=built,
                provenance=code_spans(provenance_text(stamp)), heading=REPORTING_TITLE if name == REPORTING else "",
                dataset=display_name(ds), number=i + 1, pages=len(order), video_note=Markup(video_note(stamp)),
                cells=Markup(cells),
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
        (site / page).write_text(_page("page.html.j2", page, datasets, st, sweeps, transfers, title=title, banner=Markup(banner),
                                       heading=heading, body=Markup(html_of(body.read_text(), str(body))),
                                       sources=sources, built=built))
    heading = method_title(root)  # Quarto draws the front matter's title; the body has no heading of its own
    for name, summary in (transfers or {}).items():  # a transfer's one page
        current = f"reports/{name}/{TRANSFER_PAGE}.html"
        (site / "reports" / name).mkdir(parents=True, exist_ok=True)
        (site / current).write_text(_page("page.html.j2", current, datasets, st, sweeps, transfers,
                                          title=f"{TRANSFER_TITLE}: {direction(summary)} · pseudoface",
                                          heading=f"{TRANSFER_TITLE}: {direction(summary)}",
                                          body=Markup(transfer_body(name, summary)), sources=sources, built=built))
    (site / "method.html").write_text(_page("page.html.j2", "method.html", datasets, st, sweeps, transfers,
                                            title=f"{heading} · pseudoface", banner=Markup(banner), heading=heading,
                                            body=Markup(method_body(root, STATIC_RENDERER)), sources=sources,
                                            built=built))
