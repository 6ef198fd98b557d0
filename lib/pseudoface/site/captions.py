"""How a notebook page presents its results: numbered captions, readable tables, the synthetic banner.

``page = captions.start(synthetic)`` shows the banner on a synthetic corpus and returns a
:class:`Page`; ``page.figure(fig, caption, note)`` shows a figure, then "Figure n." with its
caption and the note (one to three sentences the notebook computed); ``page.table(frame, caption,
note)`` shows "Table n." above a table with readable headers, integers as integers, scores to three
decimals and no index column. Everything is a display output, so papermill records it and both
renderers (nbconvert, Quarto) show it.

HTML lives in jinja2 templates (``lib/pseudoface/site/templates/``), rendered by :func:`render` with
autoescape on: values are escaped unless they are ``markupsafe.Markup`` (HTML rendered before).
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ..learning.intervals import number

BANNER = ("Synthetic data with a planted effect: these numbers show the pipeline works and say nothing "
          "about depression.")
PLANTED = ("On this synthetic corpus the difference between the classes is the planted effect (the cue the "
           "corpus was written with), not a finding.")
HEADERS = {  # column name -> what a reader sees
    "macro_f1": "macro-F1", "f1_depressed": "F1 (depressed)", "f1_not_depressed": "F1 (not depressed)",
    "balanced_accuracy": "balanced accuracy", "roc_auc": "ROC-AUC", "ppr": "predicted-positive rate",
    "predicted_positive_rate": "predicted-positive rate", "n": "participants", "n_depressed": "depressed",
    "best_epoch": "chosen epoch", "threshold": "threshold", "repeat": "repeat", "fold": "fold",
    "mean": "macro-F1 mean", "std": "macro-F1 SD", "seconds": "seconds", "name": "model",
    "duration_min": "duration (min)", "valid_percent": "valid frames (%)", "participant_id": "participant",
    "phq_score": "PHQ-8 score", "file_binary": "label in the file", "label": "label", "split": "split", "gender": "gender", "quirk": "documented quirk",
}
LABELS = {0: "not depressed", 1: "depressed"}


@functools.cache
def _templates():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
    return Environment(loader=PackageLoader("pseudoface.site", "templates"), undefined=StrictUndefined,
                       autoescape=select_autoescape(("html", "html.j2")))


def render(template: str, **values) -> str:
    """``lib/pseudoface/site/templates/<template>`` filled with ``values`` (HTML templates escape them)."""
    return _templates().get_template(template).render(**values)


def template_text(name: str) -> str:
    """A file of ``lib/pseudoface/site/templates/`` as it is (the stylesheet, nbconvert's cell template)."""
    return _templates().loader.get_source(_templates(), name)[0]


def banner_html() -> str:
    return render("banner.html.j2", label="Synthetic corpus.", dataset="", text=BANNER)


def readable(frame: pd.DataFrame, headers: dict | None = None) -> pd.DataFrame:
    """Columns renamed for readers, 0/1 labels as words, whole-number floats as integers."""
    t = frame.reset_index(drop=True).copy()
    for col in t.columns:
        if col in ("label", "file_binary", "prediction") and t[col].isin([0, 1]).all():
            t[col] = t[col].map(LABELS)
        elif pd.api.types.is_float_dtype(t[col]) and t[col].notna().all() and np.all(np.mod(t[col], 1) == 0):
            t[col] = t[col].astype(int)
    names = {**HEADERS, **(headers or {})}
    return t.rename(columns={c: names.get(c, str(c).replace("_", " ")) for c in t.columns})


def styled(frame: pd.DataFrame, headers: dict | None = None, decimals: int = 3):
    """A pandas Styler: readable headers, no index column, floats to ``decimals``, text columns
    aligned left and numbers right, each column's header and cells alike (a theme that aligns the cells
    differently from the header, as Quarto's does, would put numbers under the wrong header), and
    padding between cells."""
    t = readable(frame, headers)
    text = [c for c in t.columns if not pd.api.types.is_numeric_dtype(t[c])]
    pad = [("padding", "0.25em 0.6em")]
    styles = [{"selector": "th", "props": pad}, {"selector": "td", "props": pad}]
    styles += [{"selector": f"{cell}.col{i}", "props": [("text-align", "left" if c in text else "right")]}
               for i, c in enumerate(t.columns) for cell in ("th", "td")]
    # numbers as the sentences print them (intervals.number: a typographic minus, a hyphen before a
    # number reads as a dash), integers whole; text columns as they are
    def number_cell(value) -> str:
        return number(value, decimals) if isinstance(value, (float, np.floating)) else str(value).replace("-", "−")
    numbers = {c: number_cell for c in t.columns if c not in text}
    return (t.style.hide(axis="index").format(numbers, precision=decimals, na_rep="–")
            .set_table_styles(styles))


class Page:
    """Numbers the figures and tables of one notebook page."""

    def __init__(self, synthetic: bool):
        self.synthetic = bool(synthetic)
        self.figures = 0
        self.tables = 0

    def _markdown(self, text: str) -> None:
        from IPython.display import Markdown, display
        display(Markdown(text))

    def figure(self, fig, caption: str, note: str = "", planted: bool = False) -> None:
        """Show ``fig``, then its numbered caption (+ the planted-effect remark on a synthetic corpus)
        and ``note``."""
        from IPython.display import display
        self.figures += 1
        display(fig)
        extra = f" *{PLANTED}*" if planted and self.synthetic else ""
        self._markdown(f"**Figure {self.figures}.** {caption}{extra}" + (f"\n\n{note}" if note else ""))

    def table(self, frame: pd.DataFrame, caption: str, note: str = "", headers: dict | None = None,
              decimals: int = 3, empty: str = "") -> None:
        """Numbered caption, the table (or ``empty`` when it has no rows), then ``note``."""
        from IPython.display import display
        self.tables += 1
        self._markdown(f"**Table {self.tables}.** {caption}")
        if len(frame) or not empty:
            display(styled(frame, headers, decimals))
        else:
            self._markdown(empty)
        if note:
            self._markdown(note)

    def note(self, text: str) -> None:
        """A sentence about a result shown without a figure or table."""
        self._markdown(text)


def start(synthetic: bool) -> Page:
    """The page's caption counter; shows the synthetic-data banner first on a synthetic corpus."""
    if synthetic:
        from IPython.display import HTML, display
        display(HTML(banner_html()))
    return Page(synthetic)


DATASET_NAMES = {"synthetic": "Synthetic", "daic_woz": "DAIC-WOZ", "e_daic": "E-DAIC", "openface": "OpenFace"}


def display_name(dataset: str) -> str:
    return DATASET_NAMES.get(dataset, dataset)
