"""The search page's links: each keeps the query, the filters and the interface language."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from hubsearch_web import i18n


class PageUrls:
    """Query strings for the page's links, each keeping the query, filters and interface."""

    def __init__(self, query: str, lang: str, page: Any, ui: str = i18n.DEFAULT_UI) -> None:
        self.base: list[tuple[str, str]] = [("q", query)]
        if lang:
            self.base.append(("lang", lang))
        if ui != i18n.DEFAULT_UI:
            self.base.append(("ui", ui))
        self.sort = getattr(page, "sort", "relevance")
        if self.sort != "relevance":
            self.base.append(("sort", self.sort))
        self.filters: list[tuple[str, str]] = []
        self.document = getattr(page, "document", None)
        for name, values in (getattr(page, "filters", None) or {}).items():
            self.filters += [(name, v) for v in values]

    def _qs(self, pairs: list[tuple[str, str]]) -> str:
        return "?" + urlencode(pairs)

    def offset(self, offset: int) -> str:
        extra = [("document", self.document)] if self.document else []
        return self._qs(self.base + self.filters + extra + [("offset", str(offset))])

    def query(self, text: str) -> str:
        return self._qs([("q", text)] + self.base[1:] + self.filters)

    def document_of(self, url: str) -> str:
        return self._qs(self.base + [("document", url)])

    def all_documents(self) -> str:
        return self._qs(self.base + self.filters)

    def without_filters(self) -> str:
        return self._qs(self.base)

    def sorted_by(self, sort: str) -> str:
        """This search (its filters too, from the first page) in another order."""
        base = [pair for pair in self.base if pair[0] != "sort"]
        extra = [("document", self.document)] if self.document else []
        return self._qs(base + self.filters + extra + ([("sort", sort)] if sort != "relevance"
                                                        else []))
