"""OpenDocument text (.odt) files to `ExtractedDocument`: sections cut at outline headings.

This module owns walking an ODT body with odfpy: `text:h` with its `outline-level` gives the
heading path, `text:p` (in lists, sections and table cells too) gives the text, the meta
`dc:title` the title. The heading stack itself is `crawler.extract_docx.OutlineSections`, so
Word and ODT files produce the same shape. Sections have `page=None` and `anchor=None`.
"""

from __future__ import annotations

import io

from odf import dc
from odf.element import Element, Node
from odf.namespaces import STYLENS, TABLENS, TEXTNS
from odf.opendocument import OpenDocument, load

from crawler.document import ExtractedDocument, ExtractionError
from crawler.outline import OutlineSections, clean_text

# Containers whose text repeats the body (tables of contents, indexes) or is not prose.
_SKIPPED = {
    (TEXTNS, name)
    for name in (
        "table-of-content",
        "alphabetical-index",
        "illustration-index",
        "table-index",
        "object-index",
        "user-index",
        "bibliography",
        "tracked-changes",
        "sequence-decls",
        "variable-decls",
        "user-field-decls",
        "note-citation",
    )
}
_TABLE = (TABLENS, "table")
_ROW = (TABLENS, "table-row")
_CELL = (TABLENS, "table-cell")


def extract_odt(body: bytes, url: str, language_hint: str = "") -> ExtractedDocument:
    """Extract title, language and heading-path sections from ODT bytes."""
    document = load(io.BytesIO(body))
    if not document.mimetype.startswith("application/vnd.oasis.opendocument.text"):
        raise ExtractionError(f"not an OpenDocument text file (mimetype {document.mimetype})")
    builder = OutlineSections()
    title_styles = _title_styles(document)
    _walk(_elements(document.text), builder, title_styles)

    meta_title = ""
    for node in document.meta.getElementsByType(dc.Title):
        meta_title = clean_text(_inline_text(node))
        break
    return builder.document(
        meta_title=meta_title, url=url, doc_type="odt", language_hint=language_hint,
        kind="OpenDocument file",
    )


def _title_styles(document: OpenDocument) -> set[str]:
    """Names of paragraph styles that are, or derive from, the built-in "Title" style.

    Writers wrap every directly formatted paragraph in an automatic style ("P1") whose parent
    is the real style, so a title paragraph is rarely styled "Title" itself.
    """
    names = {"Title"}
    for container in (document.styles, document.automaticstyles):
        for style in _elements(container):
            if _attr(style, STYLENS, "parent-style-name") in names:
                names.add(_attr(style, STYLENS, "name"))
    return names


def _elements(node: Element) -> list[Element]:
    return [c for c in node.childNodes if c.nodeType == Node.ELEMENT_NODE]


def _attr(element: Element, namespace: str, name: str) -> str:
    # Read the attribute map directly: odfpy's getAttribute raises for attributes its schema
    # table does not list, and real files carry plenty of those.
    return str(element.attributes.get((namespace, name)) or "")


def _walk(nodes: list[Element], builder: OutlineSections, title_styles: set[str]) -> None:
    for child in nodes:
        if child.qname in _SKIPPED:
            continue
        if child.qname == (TEXTNS, "h"):
            level = _attr(child, TEXTNS, "outline-level")
            builder.heading(int(level) if level.isdigit() else 1, _inline_text(child))
        elif child.qname == (TEXTNS, "p"):
            if _attr(child, TEXTNS, "style-name") in title_styles:
                builder.heading(0, _inline_text(child))
            else:
                builder.paragraph(clean_text(_inline_text(child)))
        elif child.qname == (TEXTNS, "list-item"):
            _walk_list_item(child, builder, title_styles)
        elif child.qname == _TABLE:
            for row in _table_rows(child):
                builder.paragraph(row)
        else:
            # text:list, text:section, table:table-header-rows, draw frames...: look inside.
            _walk(_elements(child), builder, title_styles)


def _walk_list_item(item: Element, builder: OutlineSections, title_styles: set[str]) -> None:
    children = _elements(item)
    if children and children[0].qname == (TEXTNS, "p"):
        # Only the item's first paragraph gets the bullet, as in HTML extraction.
        text = clean_text(_inline_text(children[0]))
        builder.paragraph(f"- {text}" if text else "")
        children = children[1:]
    _walk(children, builder, title_styles)


def _table_rows(table: Element) -> list[str]:
    """Each row as "cell | cell", the shape HTML tables get."""
    rows = []
    for row in _rows(table):
        cells = [clean_text(_inline_text(c)) for c in _elements(row) if c.qname == _CELL]
        line = " | ".join(c for c in cells if c)
        if line:
            rows.append(line)
    return rows


def _rows(node: Element) -> list[Element]:
    found = []
    for child in _elements(node):
        if child.qname == _ROW:
            found.append(child)
        elif child.qname != _TABLE:  # a nested table's rows belong to its own cell's text
            found.extend(_rows(child))
    return found


def _inline_text(node: Element) -> str:
    """Text of a paragraph or heading, with ODF's encoded spaces, tabs and breaks expanded."""
    parts: list[str] = []
    for child in node.childNodes:
        if child.nodeType == Node.TEXT_NODE:
            parts.append(child.data)
            continue
        if child.nodeType != Node.ELEMENT_NODE or child.qname in _SKIPPED:
            continue
        if child.qname == (TEXTNS, "s"):
            count = _attr(child, TEXTNS, "c")
            parts.append(" " * (int(count) if count.isdigit() else 1))
        elif child.qname in ((TEXTNS, "tab"), (TEXTNS, "line-break")):
            parts.append(" ")
        elif child.qname == (TEXTNS, "note"):
            continue  # footnote bodies would land mid-sentence
        else:
            parts.append(_inline_text(child))
    return "".join(parts)
