"""A self-contained HTML page: inline style, figures as PNG data URIs, escaped text.

The page needs nothing but a browser: it can be mailed or archived with its CSV tables.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
p.explain { color: #444; max-width: 60em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.6em 0 1em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.55em; text-align: right; }
th { background: #f3f3f3; text-align: left; }
div.scroll { overflow-x: auto; }
ul.glance > li { margin-bottom: 0.6em; }
td:first-child, th:first-child { text-align: left; }
td.text { text-align: left; }
img { max-width: 100%; height: auto; border: 1px solid #eee; margin: 0.5em 0; }
code { background: #f5f5f5; padding: 0 0.25em; }
.note { color: #8a4b00; }
nav ul { columns: 2; }
"""


@dataclass
class Section:
    """One section of the page: a heading, a short explanation and its content."""

    anchor: str
    title: str
    explanation: str
    parts: list[str] = field(default_factory=list)
    images: list[bytes] = field(default_factory=list)

    def add_text(self, text: str, css: str = "") -> None:
        style = f' class="{css}"' if css else ""
        self.parts.append(f"<p{style}>{html.escape(text)}</p>")

    def add_heading(self, text: str) -> None:
        self.parts.append(f"<h3>{html.escape(text)}</h3>")

    def add_image(self, png: bytes, alt: str) -> None:
        self.images.append(png)
        data = base64.b64encode(png).decode("ascii")
        self.parts.append(f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">')

    def add_table(self, frame: pd.DataFrame) -> None:
        self.parts.append(table_html(frame))

    def add_list(self, items: Iterable[str]) -> None:
        rows = "".join(f"<li>{html.escape(item)}</li>" for item in items)
        self.parts.append(f"<ul>{rows}</ul>")

    def add_nested_list(self, items: Mapping[str, list[str]]) -> None:
        """A list of headings (in bold), each with its own list of points."""
        rows = "".join(
            f"<li><strong>{html.escape(head)}</strong><ul>"
            + "".join(f"<li>{html.escape(point)}</li>" for point in points)
            + "</ul></li>"
            for head, points in items.items()
        )
        self.parts.append(f'<ul class="glance">{rows}</ul>')

    def render(self) -> str:
        body = "\n".join(self.parts)
        return (
            f'<section id="{self.anchor}"><h2>{html.escape(self.title)}</h2>\n'
            f'<p class="explain">{html.escape(self.explanation)}</p>\n{body}</section>'
        )


def table_html(frame: pd.DataFrame) -> str:
    """An escaped HTML table; floats with 3 significant digits, booleans as yes or no."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for value in record:
            text, css = _cell(value)
            cells.append(f"<td{css}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def _cell(value: object) -> tuple[str, str]:
    """A value as text (3 significant digits for floats) and its cell's CSS class."""
    if isinstance(value, bool | np.bool_):
        return ("yes" if value else "no"), ""
    if isinstance(value, float | np.floating):
        return ("" if np.isnan(value) else f"{value:.3g}"), ""
    if isinstance(value, int | np.integer):
        return str(value), ""
    return str(value), ' class="text"'


def document(title: str, intro: list[str], sections: list[Section]) -> str:
    """The whole page with a table of contents."""
    toc = "".join(f'<li><a href="#{s.anchor}">{html.escape(s.title)}</a></li>' for s in sections)
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in intro)
    body = "\n".join(s.render() for s in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n{paragraphs}\n<nav><ul>{toc}</ul></nav>\n{body}\n"
        "</body></html>\n"
    )


def panel_title(kind: str, option: str) -> str:
    """A share's name for people: a record label as is, a dimension's option with it."""
    return option if kind == "label" else f"{kind}: {option}"


def leading_causes(margins: pd.DataFrame, most: int) -> np.ndarray:
    """Which rows of a margin-drivers table (``stats.margin_drivers_later``: each state's
    causes ranked by |change|) are among its state's first ``most`` non-zero causes: the
    causes the page names and the margins figure draws."""
    cause = (margins["role"] == "cause").to_numpy() & (margins["change"].to_numpy() != 0)
    so_far = pd.Series(cause).groupby(margins["state"].to_numpy(), sort=False).cumsum()
    return cause & (so_far.to_numpy() <= most)
