"""What a crawl can yield for a URL: a document, a confirmation that the stored copy is
current (304), or a failure with its reason."""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.document import ExtractedDocument


@dataclass
class DocumentItem:
    url: str
    final_url: str
    source: str
    status: int
    content_type: str
    etag: str | None
    last_modified: str | None
    sha256: str
    bytes: int
    document: ExtractedDocument
    redirects: list = field(default_factory=list)
    is_source: bool = False


@dataclass
class NotModifiedItem:
    url: str
    source: str
    final_url: str
    redirects: list = field(default_factory=list)


@dataclass
class FailureItem:
    url: str
    source: str
    reason: str
    status: int | None = None
    final_url: str | None = None
    redirects: list = field(default_factory=list)
    is_source: bool = False
