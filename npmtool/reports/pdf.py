"""PDF output with WeasyPrint. Photos are not embedded in the HTML: each is
referenced by a ``report-photo:`` URL that the url_fetcher answers with an
open file of the publication copy, so only the photo being laid out is read.
Fonts are DejaVu (or Noto) found on this machine with fc-match, so Cyrillic
(Kazakh, Kyrgyz) and Uzbek Latin (oʻ, gʻ) render whatever the default font."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import BinaryIO

from npmtool.reports.document import Document
from npmtool.reports.html import render_html
from npmtool.services.evidence_store import FileSystemStore
from npmtool.weasy import weasyprint

PHOTO_SCHEME = "report-photo:"
FONT_FAMILIES = ("DejaVu Sans", "Noto Sans", "Liberation Sans")
PAGE_CSS = """
@page { size: A4; margin: 20mm 18mm 20mm 22mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-size: 9pt; } }
html { font-family: "ReportSans", "DejaVu Sans", "Noto Sans", sans-serif; font-size: 10.5pt; }
.report-doc { max-width: none; }
.report-section h2 { break-after: avoid; }
.report-section h3 { break-after: avoid; }
.report-table { font-size: 8.5pt; }
.report-table th, .report-table td { padding: 1.2mm 1.4mm; }
.report-table td { overflow-wrap: anywhere; }
.report-table th { font-size: 8pt; overflow-wrap: break-word; }
.report-table thead { display: table-header-group; }
.report-table tr { break-inside: avoid; }
.report-photos { display: block; }
.report-photos figure { display: inline-block; width: 47%; margin: 0 2% 4mm 0; vertical-align: top; }
.report-photos img { max-height: 90mm; }
"""


@functools.lru_cache(maxsize=1)
def font_faces() -> str:
    """@font-face rules for the first family fc-match finds (regular and bold)."""
    if shutil.which("fc-match") is None:
        return ""
    for family in FONT_FAMILIES:
        rules = []
        for weight, pattern in (("normal", family), ("bold", f"{family}:bold")):
            try:
                found = subprocess.run(["fc-match", "-f", "%{family}|%{file}", pattern], capture_output=True,
                                       text=True, timeout=10, check=True).stdout
            except (OSError, subprocess.SubprocessError):
                return ""
            name, _, path = found.partition("|")
            if family.lower() not in name.lower() or not Path(path).is_file():
                break
            rules.append(f'@font-face {{ font-family: "ReportSans"; font-weight: {weight}; '
                         f'src: url("{Path(path).as_uri()}"); }}')
        if len(rules) == 2:
            return "\n".join(rules)
    return ""


def photo_url(item: dict) -> str:
    return PHOTO_SCHEME + item["sha256"]


def _fetcher(store: FileSystemStore):
    weasyprint()  # first, through npmtool.weasy: it keeps Pillow's decoding strict
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ReportFetcher(URLFetcher):
        """Publication copies from the evidence store, fonts from this
        machine; nothing else: a report never reaches the network."""

        def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
            if url.startswith(PHOTO_SCHEME):
                stream: BinaryIO = store.open(url[len(PHOTO_SCHEME):], "publication")
                return URLFetcherResponse(url, stream, {"Content-Type": "image/jpeg"})
            if url.startswith("file:") and url.lower().endswith((".ttf", ".otf", ".woff", ".woff2")):
                return super().fetch(url, headers)
            raise ValueError(f"report resources are local: {url}")

    return ReportFetcher()


def render_pdf(doc: Document, store: FileSystemStore, target: BinaryIO) -> None:
    module = weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    CSS, HTML = module.CSS, module.HTML

    fonts = FontConfiguration()
    html = render_html(doc, photo_url)
    stylesheet = CSS(string=font_faces() + PAGE_CSS, font_config=fonts, url_fetcher=_fetcher(store))
    HTML(string=html, url_fetcher=_fetcher(store), base_url="report-photo:/").write_pdf(
        target, stylesheets=[stylesheet], font_config=fonts)
