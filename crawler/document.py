"""The extracted-document shape shared by every extractor, the store and the indexer.

An extractor turns bytes into an `ExtractedDocument`: a title, a language and an ordered
list of sections, each with its heading path and, for PDFs, its page number and whether OCR
read it. The store keeps it as JSON; the indexer splits its sections into passages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class ExtractionError(Exception):
    """A document that cannot be read; the message is a one-line reason."""


@dataclass
class Section:
    heading_path: list[str]
    text: str
    # id of the heading element (HTML), so a passage can link to url#anchor.
    anchor: str | None = None
    # 1-based page number (PDF), so a passage can link to url#page=N.
    page: int | None = None
    # Share of the text in blocks that are mostly a link (HTML): near 1 for a hub's list of
    # documents, which the search ranks below prose about the same words.
    link_share: float = 0.0
    # Read by OCR from a page with no text layer (a scan): the words may be misread.
    ocr: bool = False


@dataclass
class ExtractedDocument:
    title: str
    doc_type: str  # "html", "pdf", "docx" or "odt"
    language: str  # "en" or "cy"
    sections: list[Section] = field(default_factory=list)
    # Absolute URLs linked from the main content, in document order (HTML only).
    links: list[str] = field(default_factory=list)
    # Each link's text where it has one (HTML): what the page calls the document it links.
    link_texts: dict[str, str] = field(default_factory=dict)
    canonical_url: str | None = None
    # A canonical URL on another host, which is not trusted (crawler/bounds.py).
    ignored_canonical_url: str | None = None
    # When the document says it was last updated, as YYYY-MM-DD (crawler/updated_date.py).
    updated_at: str | None = None
    # Scanned pages OCR left unread (a page or time limit, OCR off), and why: one line (PDF).
    ocr_note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExtractedDocument:
        sections = [Section(**s) for s in data.get("sections", [])]
        return cls(
            title=data.get("title", ""),
            doc_type=data.get("doc_type", ""),
            language=data.get("language", "en"),
            sections=sections,
            links=list(data.get("links", [])),
            link_texts=dict(data.get("link_texts") or {}),
            canonical_url=data.get("canonical_url"),
            ignored_canonical_url=data.get("ignored_canonical_url"),
            updated_at=data.get("updated_at"),
            ocr_note=data.get("ocr_note"),
        )
