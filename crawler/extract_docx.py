"""Word (.docx) files to `ExtractedDocument`: sections cut at the document's heading styles.

This module owns reading DOCX with python-docx (body paragraphs and table cells, in document
order), turning the "Title" and "Heading 1..6" styles into `heading_path`s, and `OutlineSections`,
the heading-stack builder the ODT extractor shares. Word files have no pages or anchors a link can
point at, so every section has `page=None` and `anchor=None`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.styles.style import BaseStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from crawler.document import ExtractedDocument, ExtractionError, Section
from crawler.language import detect_language, normalise_text

_HEADING_STYLE = re.compile(r"^heading ([1-9])$", re.IGNORECASE)
# Built-in styles whose paragraphs repeat other text (a table of contents) or are not prose.
_SKIPPED_STYLE = re.compile(r"^(toc |table of contents|toc heading)", re.IGNORECASE)
# A custom heading style is usually based on a built-in one; a few hops find it.
_MAX_STYLE_HOPS = 5


def clean_text(text: str) -> str:
    """NFKC-normalise and collapse whitespace (tabs, soft line breaks) to single spaces."""
    return " ".join(normalise_text(text).split())


def file_title(url: str) -> str:
    """The file name without its suffix: the title of last resort for an untitled document."""
    name = unquote(PurePosixPath(urlsplit(url).path).name)
    return PurePosixPath(name).stem if name else ""


class OutlineSections:
    """Turns a stream of headings and paragraphs into sections with heading paths.

    Level 0 is the document's own title paragraph, 1-9 are outline levels. The title is only
    known at the end (metadata may be empty), so paths are built in `finish`, the way the PDF
    extractor does: `[title, *headings]`, without saying the title twice.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []
        self._blocks: list[str] = []
        self._raw: list[tuple[list[str], str]] = []
        self.first_heading = ""
        self.title_paragraph = ""

    def heading(self, level: int, text: str) -> None:
        text = clean_text(text)
        if not text:
            return
        self._end_section()
        if level == 0 and not self.title_paragraph:
            self.title_paragraph = text
        if level > 0 and not self.first_heading:
            self.first_heading = text
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, text))

    def paragraph(self, text: str) -> None:
        if text.strip():
            self._blocks.append(text)

    def _end_section(self) -> None:
        if self._blocks:
            self._raw.append(([t for _, t in self._stack], "\n\n".join(self._blocks)))
        self._blocks = []

    def finish(self, title: str) -> list[Section]:
        self._end_section()
        sections = []
        for headings, text in self._raw:
            if headings and _key(headings[0]) == _key(title):
                headings = headings[1:]
            sections.append(Section(heading_path=[title, *headings], text=text))
        return sections


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


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

    meta_title = clean_text(document.core_properties.title or "")
    title = (
        meta_title
        or builder.title_paragraph
        or builder.first_heading
        or file_title(url)
        or url
    )
    sections = builder.finish(title)
    if not sections:
        raise ExtractionError("no text found in the Word document")
    sample = " ".join(s.text for s in sections[:20])
    return ExtractedDocument(
        title=title,
        doc_type="docx",
        language=language_hint or detect_language(sample),
        sections=sections,
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
