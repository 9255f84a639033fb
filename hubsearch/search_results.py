"""What every search backend answers with and honours, whichever engine is behind it.

The server, the CLI and the benchmarks read these shapes and limits; each backend
(hubsearch/search_backend.py) fills them: a result page of hits, a document's passages, the
outcome of an index build, and the bounds of a query and of a response. They live here, at
the first stage, so the web side reads them without importing an engine (Whoosh, numpy, an
OpenSearch client).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from hubsearch.errors import HubsearchError

# A long paste must not become a query of hundreds of clauses.
MAX_WORDS = 32
MAX_QUERY_CHARS = 500
# Longer than any word of English or Welsh guidance, hyphenated compounds included; a longer
# run of letters is a paste or an attack, and it would only cost work and match nothing.
MAX_WORD_CHARS = 64
# Results in one page at most.
MAX_LIMIT = 50
# Passages of one document in one /api/documents response; the rest are paged.
DOCUMENT_PASSAGES = 100
# Suggestions for what is being typed, at most.
MAX_SUGGESTIONS = 10
# The filters, each also counted as a facet, in the order the page shows them.
FACETS = ("source", "doc_type", "language", "audience")
# How a result list can be ordered: by relevance, or most recently updated first.
SORTS = ("relevance", "updated")
# The languages passages are analysed in (and a query can be read as).
LANGUAGES = ("en", "cy")


class QueryRefused(HubsearchError, ValueError):
    """Text that is not a query we run; the message says why in one line."""


def query_problem(text: str) -> str | None:
    """Why `text` is refused as a query, or None."""
    if len(text) > MAX_QUERY_CHARS:
        return f"q is too long ({MAX_QUERY_CHARS} characters at most)"
    return None


class IndexNotReady(HubsearchError):
    """There is no index generation to search yet."""


@dataclass
class Hit:
    title: str
    heading_path: list[str]
    snippet_html: str
    deep_link: str
    document_url: str
    source: str
    doc_type: str
    language: str
    page: int | None
    score: float
    fetched_at: str
    # Further matching passages of this document left out of a collapsed list, and the
    # query parameters that list them all (None when there are none).
    # Short stable id of the document: GET /api/documents/{document_id}.
    document_id: str = ""
    more_in_document: int = 0
    more_in_document_params: dict[str, str] | None = None
    # Pinned for this query by the maintainers (indexer/best_bets.py), not ranked.
    recommended: bool = False
    # When the document says it was last updated (YYYY-MM-DD), or "" if it does not say.
    updated: str = ""
    # Read by OCR from a scanned page (crawler/ocr.py): the words may be misread.
    ocr: bool = False
    snippet_text: str = field(repr=False, default="")
    # The page puts "N more in this document" under the last hit of a document.
    last_of_document: bool = field(repr=False, default=True)

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies every value, a tenth of a request's time.
        data = {f.name: getattr(self, f.name) for f in _HIT_FIELDS}
        data["heading_path"] = list(self.heading_path)
        if self.more_in_document_params is not None:
            data["more_in_document_params"] = dict(self.more_in_document_params)
        return data


_HIT_FIELDS = [f for f in fields(Hit) if f.name not in ("snippet_text", "last_of_document")]


@dataclass
class ResultPage:
    query: str
    total: int
    limit: int
    offset: int
    results: list[Hit]
    # "all" when every word matched, "any" when we fell back to any word.
    matched: str = "all"
    # The language the query was read as ("en" or "cy"), chosen or detected.
    language: str = "en"
    # The query with misspelt words replaced by the nearest indexed words, if any.
    suggestion: str | None = None
    # value -> count of matching passages, per filter, ignoring that filter's own choice.
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    filters: dict[str, list[str]] = field(default_factory=dict)
    document: str | None = None
    # Matching passages before collapsing (`total` counts the collapsed list being paged).
    total_passages: int = 0
    # Words of the query left out: too long to be words, or past the most a query uses.
    words_ignored: int = 0
    # Passages maintainers pinned for this query, shown before `results` (first page only).
    best_bets: list[Hit] = field(default_factory=list)
    # "relevance", or "updated": most recently updated documents first (SORTS).
    sort: str = "relevance"
    # Equivalents searched too, from synonyms.toml, as the file writes them.
    also_searched: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            "matched": self.matched,
            "language": self.language,
            "suggestion": self.suggestion,
            "total_passages": self.total_passages,
            "words_ignored": self.words_ignored,
            "sort": self.sort,
            "also_searched": self.also_searched,
            "filters": self.filters,
            "document": self.document,
            "facets": self.facets,
            "best_bets": [h.to_dict() for h in self.best_bets],
            "results": [h.to_dict() for h in self.results],
        }



@dataclass
class BuildResult:
    generation: str
    mode: str  # "full", "incremental" or "unchanged"
    documents: int
    passages: int
    seconds: float
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    passages_written: int = 0

    @property
    def touched(self) -> list[str]:
        return sorted(self.added + self.changed + self.removed)

    def line(self) -> str:
        return (
            f"index: {self.mode}, {len(self.added)} new, {len(self.changed)} changed, "
            f"{len(self.removed)} removed, {self.passages_written} passages written; "
            f"{self.documents} documents, {self.passages} passages in generation "
            f"{self.generation}, {self.seconds:.1f} s"
        )
