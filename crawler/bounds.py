"""Limits on what one extracted document may bring into the store, and its canonical URL.

A hostile page can make any part of its structure huge: a 1 MB `<h1>` repeated in the
heading path of every section, ten thousand empty sections, a million links. Each part is
cut to a size no real guidance document needs, before the store ever sees it, so one page
cannot make a 40 MB store row, an 80 MB search response or an index that exhausts memory.
The limits are generous: the longest real titles and headings are under 200 characters,
and a 300-page PDF has a few thousand sections.

The canonical rule lives here too: a page may name a canonical URL on its own host only;
one naming another host is recorded as ignored, so no page can speak with another's URL.
"""

from __future__ import annotations

import re
from dataclasses import replace

from crawler.document import ExtractedDocument, Section
from hubsearch.urls import same_host

MAX_TITLE_CHARS = 300
MAX_HEADING_CHARS = 300
MAX_HEADING_DEPTH = 8
MAX_SECTIONS = 5_000
MAX_SECTION_CHARS = 200_000
MAX_DOCUMENT_CHARS = 10_000_000
MAX_LINKS = 1_000
MAX_URL_CHARS = 2_000
MAX_NOTE_CHARS = 300
# The only form of an updated date a document keeps (crawler/updated_date.py).
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def trusted_canonical(document: ExtractedDocument, fetched_url: str) -> ExtractedDocument:
    """The document with an off-host canonical URL moved to `ignored_canonical_url`."""
    canonical = document.canonical_url
    if not canonical or same_host(canonical, fetched_url):
        return document
    return replace(document, canonical_url=None, ignored_canonical_url=canonical[:MAX_URL_CHARS])


def _shallow(path: list[str]) -> list[str]:
    # Keep the top of the outline and the section's own heading, the parts a reader uses.
    return path if len(path) <= MAX_HEADING_DEPTH else path[: MAX_HEADING_DEPTH - 1] + path[-1:]


def _share(value: object) -> float:
    # A stored document is read back from JSON: anything but a number from 0 to 1 is 0.
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    return 0.0


def bound_document(document: ExtractedDocument) -> ExtractedDocument:
    """The document cut to the limits above; an ordinary document comes back unchanged."""
    sections: list[Section] = []
    total = 0
    for section in document.sections[:MAX_SECTIONS]:
        text = _cut(section.text, MAX_SECTION_CHARS)
        if total + len(text) > MAX_DOCUMENT_CHARS:
            break
        total += len(text)
        sections.append(Section(
            heading_path=[_cut(h, MAX_HEADING_CHARS) for h in _shallow(section.heading_path)],
            text=text,
            anchor=_cut(section.anchor, MAX_HEADING_CHARS) if section.anchor else section.anchor,
            page=section.page,
            link_share=_share(section.link_share),
            ocr=section.ocr is True,
        ))
    links = [link for link in document.links if len(link) <= MAX_URL_CHARS][:MAX_LINKS]
    return replace(
        document,
        title=_cut(document.title, MAX_TITLE_CHARS),
        sections=sections,
        links=links,
        link_texts={link: _cut(str(document.link_texts[link]), MAX_TITLE_CHARS)
                    for link in links if document.link_texts.get(link)},
        canonical_url=document.canonical_url
        if not document.canonical_url or len(document.canonical_url) <= MAX_URL_CHARS else None,
        updated_at=document.updated_at
        if isinstance(document.updated_at, str) and _DAY.fullmatch(document.updated_at) else None,
        ocr_note=_cut(str(document.ocr_note), MAX_NOTE_CHARS) if document.ocr_note else None,
    )
