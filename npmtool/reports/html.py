"""HTML output: the standalone file a report can be downloaded as, and the
body the web preview embeds."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from flask import render_template

from npmtool.reports.document import Document
from npmtool.reports.phrases import phrase

CSS_PATH = Path(__file__).resolve().parent.parent / "static" / "reports.css"


def render_html(doc: Document, photo_url: Callable[[dict], str], *, extra_css: str = "") -> str:
    """A self-contained document (styles inline: it is opened as a file, not
    served under the app's content security policy)."""
    css = CSS_PATH.read_text(encoding="utf-8") + extra_css
    return render_template("reports/standalone.html", doc=doc, photo_url=photo_url, inline_css=css,
                           photo_label=phrase("photo", doc.language))
