"""Word (.docx) files to `ExtractedDocument`: sections cut at the document's heading styles.

This module owns reading DOCX with python-docx (body paragraphs and table cells, in document
order) and turning the "Title" and "Heading 1..6" styles into `heading_path`s, through the
heading-stack builder in crawler/outline.py that the ODT extractor shares. Word files have no
pages or anchors a link can point at, so every section has `page=None` and `anchor=None`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.styles.style import BaseStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from crawler import updated_date
from crawler.document import ExtractedDocument, ExtractionError
from crawler.outline import OutlineSections, clean_text

_HEADING_STYLE = re.compile(r"^heading ([1-9])$", re.IGNORECASE)
# Built-in styles whose paragraphs repeat other text (a table of contents) or are not prose.
_SKIPPED_STYLE = re.compile(r"^(toc |table of contents|toc heading)", re.IGNORECASE)
# A custom heading style is usually based on a built-in one; a few hops find it.
_MAX_STYLE_HOPS = 5


def extract_docx(body: bytes, url: str, language_hint: str = "") -> ExtractedDocument:
    """Extract title, language and heading-path sections from DOCX bytes."""
    try:
        document = docx.Document(io.BytesIO(body))
    except PackageNotFoundError:
        raise ExtractionError("not a readable docx file (not a Word package)") from None
    except ValueError as exc:
        # python-docx says "file '...' is not a Word file, content type is '...'" for .dotx/.docm.
        kind = str(exc).rsplit("content type is", 1)[-1].strip(" '\"")
        raise ExtractionError(f"not a Word document (content type {kind})") from None

    builder = OutlineSections()
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in _table_rows(block):
                builder.paragraph(row)
            continue
        style = _style_name(block)
        if _SKIPPED_STYLE.match(style):
            continue
        level = _heading_level(block)
        if level is not None:
            builder.heading(level, block.text)
            continue
        text = clean_text(block.text)
        if text and _is_list_item(block, style):
            text = "- " + text
        builder.paragraph(text)

    return builder.document(
        meta_title=clean_text(document.core_properties.title or ""), url=url,
        doc_type="docx", language_hint=language_hint, kind="Word document",
        updated_at=updated_date.from_datetime(document.core_properties.modified),
    )


def _style_name(paragraph: Paragraph) -> str:
    style = paragraph.style
    return str(style.name or "") if style is not None else ""


def _heading_level(paragraph: Paragraph) -> int | None:
    """0 for the Title style, N for "Heading N" (or a style based on it), else None."""
    style: BaseStyle | None = paragraph.style
    for _ in range(_MAX_STYLE_HOPS):
        if style is None:
            return None
        name = str(style.name or "")
        if name.lower() == "title":
            return 0
        match = _HEADING_STYLE.match(name)
        if match:
            return int(match.group(1))
        style = getattr(style, "base_style", None)
    return None


def _is_list_item(paragraph: Paragraph, style: str) -> bool:
    ppr = paragraph._p.pPr
    numbered = ppr is not None and ppr.numPr is not None
    return numbered or style.lower().startswith(("list bullet", "list number", "list paragraph"))


def _table_rows(table: Table) -> Iterator[str]:
    """Each row as "cell | cell"; a merged cell spans several grid columns but is said once."""
    for row in table.rows:
        seen: set[int] = set()
        cells = []
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            text = _cell_text(cell)
            if text:
                cells.append(text)
        if cells:
            yield " | ".join(cells)


def _cell_text(cell: _Cell) -> str:
    parts = []
    for block in cell.iter_inner_content():
        if isinstance(block, Table):
            parts.extend(_table_rows(block))
        else:
            parts.append(clean_text(block.text))
    return " ".join(p for p in parts if p)
