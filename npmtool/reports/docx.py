"""DOCX output (python-docx): the file the offices edit and sign. Photos are
read from the store one at a time, as they are placed."""

from __future__ import annotations

import re
from typing import BinaryIO
from xml.sax.saxutils import escape

from docx import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt

from npmtool.reports.document import Document
from npmtool.reports.phrases import phrase
from npmtool.services.evidence_store import FileSystemStore

# Offices' documents are in Times New Roman, which has Cyrillic and the
# Uzbek Latin letters; Word substitutes a metric-compatible font if missing.
FONT = "Times New Roman"
PHOTO_WIDTH = Cm(12)


def _set_font(doc: DocxDocument) -> None:
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3"):
        style = doc.styles[name]
        style.font.name = FONT
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            fonts.set(qn(attr), FONT)
    doc.styles["Normal"].font.size = Pt(12)


# Text width of an A4 page with python-docx's default margins, in twentieths of a point.
TEXT_WIDTH = 9638
XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _run(text: str, bold: bool) -> str:
    text = escape(XML_BAD.sub("", text).replace("\n", " "))
    return f'<w:r>{"<w:rPr><w:b/></w:rPr>" if bold else ""}<w:t xml:space="preserve">{text}</w:t></w:r>'


def _table(doc: DocxDocument, headers: list[str] | None, rows: list[list[str]],
           percents: list[int] | None = None) -> None:
    """A bordered table written as one piece of WordprocessingML: cell by cell
    through python-docx's objects, an annual report's thousands of rows take
    most of a minute. The header row repeats on every page."""
    columns = len(headers) if headers else 2
    if percents:
        widths = [TEXT_WIDTH * p // 100 for p in percents]
    elif headers is None:
        widths = [TEXT_WIDTH * 35 // 100, TEXT_WIDTH * 65 // 100]
    else:
        widths = [TEXT_WIDTH // columns] * columns
    parts = [f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
             '<w:jc w:val="center"/><w:tblLook w:val="04A0"/></w:tblPr><w:tblGrid>',
             "".join(f'<w:gridCol w:w="{w}"/>' for w in widths), "</w:tblGrid>"]

    def row(cells: list[str], header: bool, bold_first: bool = False) -> None:
        parts.append("<w:tr>" + ("<w:trPr><w:tblHeader/></w:trPr>" if header else ""))
        for i, cell in enumerate(cells):
            parts.append(f'<w:tc><w:tcPr><w:tcW w:w="{widths[i]}" w:type="dxa"/></w:tcPr>'
                         f"<w:p>{_run(str(cell), header or (bold_first and i == 0))}</w:p></w:tc>")
        parts.append("</w:tr>")

    if headers:
        row(headers, header=True)
    for cells in rows:
        row(cells, header=False, bold_first=headers is None)
    parts.append("</w:tbl>")
    table = parse_xml("".join(parts))
    doc.element.body.find(qn("w:sectPr")).addprevious(table)
    doc.add_paragraph()


def render_docx(report: Document, store: FileSystemStore, target: BinaryIO) -> None:
    doc = DocxDocument()
    _set_font(doc)
    core = doc.core_properties
    # Only the title: no author, no comments, nothing about the people involved.
    core.title, core.author, core.last_modified_by, core.comments = report.title, "", "", ""
    body = doc.add_paragraph(report.npm_body)
    body.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_heading(report.title, level=0)
    subtitle = doc.add_paragraph(report.subtitle)
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    photo_label = phrase("photo", report.language)
    for number, section in enumerate(report.sections, start=1):
        doc.add_heading(f"{number}. {section['title']}", level=1)
        for block in section["blocks"]:
            kind = block["kind"]
            if kind == "p":
                doc.add_paragraph(block["text"])
            elif kind == "note":
                doc.add_paragraph().add_run(block["text"]).italic = True
            elif kind == "h":
                doc.add_heading(block["text"], level=2)
            elif kind == "list":
                for item in block["items"]:
                    doc.add_paragraph(item, style="List Bullet")
            elif kind == "facts":
                _table(doc, None, block["rows"])
            elif kind == "table":
                _table(doc, block["headers"], block["rows"], block.get("widths"))
            elif kind == "photos":
                for item in block["items"]:
                    with store.open(item["sha256"], "publication") as stream:
                        doc.add_picture(stream, width=PHOTO_WIDTH)
                    caption = f"{photo_label} {item['evidence_id']}" + (f". {item['caption']}" if item["caption"] else "")
                    doc.add_paragraph().add_run(caption).italic = True
    doc.save(target)
