"""Search the current index generation: parse, rank (BM25F), highlight, page.

One `PassageSearcher` serves many threads: each thread keeps its own Whoosh searcher (they
are not thread-safe) and reopens it when `current` points at a new generation, so a new
index is picked up without a restart and a running query never sees a half-built one.
"""

from __future__ import annotations

import html
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index, qparser
from whoosh.highlight import ContextFragmenter, Formatter, get_text
from whoosh.query import NullQuery
from whoosh.searching import Searcher

from hubsearch.errors import HubsearchError
from indexer import generations
from indexer.schema import FIELD_BOOSTS, FIELDS, language_of, weighting

MAX_LIMIT = 50
SNIPPET_WORDS = 45


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
    snippet_text: str = field(repr=False, default="")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("snippet_text")
        return data


@dataclass
class ResultPage:
    query: str
    total: int
    limit: int
    offset: int
    results: list[Hit]
    # "all" when every word matched, "any" when we fell back to any word.
    matched: str = "all"

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            "matched": self.matched,
            "results": [h.to_dict() for h in self.results],
        }


def _plain_snippet(text: str) -> str:
    words = text.split()
    cut = " ".join(words[:SNIPPET_WORDS])
    return cut + (" …" if len(words) > SNIPPET_WORDS else "")


class MarkFormatter(Formatter):
    """Wrap matched words in <mark>, HTML-escaping every character of document text.

    Whoosh's HtmlFormatter keeps a per-term class map that grows across searches and is
    shared between threads; this one keeps no state.
    """

    between = " … "

    def _text(self, text: str) -> str:
        return html.escape(text, quote=True)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f"<mark>{html.escape(get_text(text, token, replace), quote=True)}</mark>"


class PassageSearcher:
    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self._local = threading.local()
        self._formatter = MarkFormatter()
        self._fragmenter = ContextFragmenter(maxchars=320, surround=90)

    def generation(self) -> str | None:
        current = generations.current_generation(self.index_dir)
        return current.name if current else None

    def _searcher(self) -> tuple[Searcher, Any]:
        current = generations.current_generation(self.index_dir)
        if current is None:
            raise IndexNotReady(
                f"no index in {self.index_dir}; run `hubsearch crawl` then `hubsearch index`"
            )
        local = self._local
        if getattr(local, "generation", None) != current:
            old = getattr(local, "searcher", None)
            ix = index.open_dir(str(current))
            local.searcher = ix.searcher(weighting=weighting())
            local.parsers = {
                group: qparser.MultifieldParser(
                    list(FIELD_BOOSTS), ix.schema, fieldboosts=FIELD_BOOSTS, group=group
                )
                for group in (qparser.AndGroup, qparser.OrGroup)
            }
            local.generation = current
            if old is not None:
                old.close()
        return local.searcher, local.parsers

    def search(self, query: str, *, limit: int = 10, offset: int = 0) -> ResultPage:
        limit = max(1, min(int(limit), MAX_LIMIT))
        offset = max(0, int(offset))
        searcher, parsers = self._searcher()
        matched = "all"
        results = self._run(searcher, parsers[qparser.AndGroup], query, limit + offset)
        if results is None or results.scored_length() == 0:
            matched = "any"
            results = self._run(searcher, parsers[qparser.OrGroup], query, limit + offset)
        if results is None:
            return ResultPage(query, 0, limit, offset, [], matched)
        results.formatter = self._formatter
        results.fragmenter = self._fragmenter
        hits = [self._hit(h) for h in results[offset : offset + limit]]
        return ResultPage(query, results.estimated_length(), limit, offset, hits, matched)

    @staticmethod
    def _run(searcher: Searcher, parser: qparser.QueryParser, query: str, top: int):
        try:
            parsed = parser.parse(query)
        except Exception:
            # Whoosh's parser is forgiving, but a query must never become a server error.
            parsed = parser.parse(re.sub(r"[^\w\s]", " ", query))
        if parsed is None or parsed is NullQuery:
            return None
        return searcher.search(parsed, limit=max(top, 1), terms=True)

    def _hit(self, hit: Any) -> Hit:
        stored = hit.fields()
        text = stored.get("body", "")
        field = FIELDS[language_of(stored.get("language", ""))]["text"]
        snippet = hit.highlights(field, text=text, top=2)
        if not snippet:
            snippet = html.escape(_plain_snippet(text), quote=False)
        page = stored.get("page") or None
        return Hit(
            title=stored.get("title_display", ""),
            heading_path=list(stored.get("headings") or []),
            snippet_html=snippet,
            deep_link=stored.get("deep_link", ""),
            document_url=stored.get("document_url", ""),
            source=stored.get("source", ""),
            doc_type=stored.get("doc_type", ""),
            language=stored.get("language", ""),
            page=int(page) if page else None,
            score=round(float(hit.score), 4),
            fetched_at=stored.get("fetched_at", ""),
            snippet_text=_plain_snippet(text),
        )
