"""The one search interface the indexer's entry points and the server talk to, whichever
engine holds the index (issue 14: Whoosh, embedded and the default; OpenSearch later).

A `Backend` builds a generation of the index from the document store and switches it in;
its `Searcher` answers the server and `hubsearch search` from the generation being served.
Both speak only in the shapes and limits of hubsearch/search_results.py. The backend a
config names is made by hubsearch/backends.py.

This module sits at the first stage (it imports only hubsearch/search_results.py), so every
later stage can name these types without importing an engine.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from hubsearch.search_results import DOCUMENT_PASSAGES, BuildResult, ResultPage


@runtime_checkable
class Searcher(Protocol):
    """The reading side: one object per server process, shared by its threads. A generation
    switched in is picked up by the next request, without a restart; a running request never
    sees a half-built one."""

    def generation(self) -> str | None:
        """The name of the generation being served, or None while there is none: the
        readiness check (/healthz), so it must be cheap."""
        ...

    def built_at(self) -> float | None:
        """When the generation being served was switched in (seconds since the epoch)."""
        ...

    def build_info(self) -> dict[str, Any] | None:
        """What the build of the generation being served recorded (`built_at` as an ISO
        time, `format`), or None if there is none."""
        ...

    def counts(self) -> dict[str, int]:
        """`indexed_passages` and `indexed_documents` of the generation being served (both 0
        while there is none)."""
        ...

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        offset: int = 0,
        lang: str | None = None,
        filters: dict[str, list[str]] | None = None,
        document: str | None = None,
        collapse: bool = True,
        sort: str = "relevance",
    ) -> ResultPage:
        """One page of ranked passages for `query`: highlighted, faceted over FACETS,
        collapsed by document unless `document` or `collapse=False`, with best bets on the
        first page. Raises QueryRefused for a query past the limits, IndexNotReady while
        there is no generation."""
        ...

    def suggest(self, text: str, limit: int = 8) -> list[str]:
        """Completions of `text` as typed (at most MAX_SUGGESTIONS)."""
        ...

    def document(self, doc_id: str, *, offset: int = 0,
                 limit: int = DOCUMENT_PASSAGES) -> dict[str, Any] | None:
        """One document's metadata and passages `offset` to `offset + limit`, or None if the
        generation being served has no document with that id."""
        ...


@runtime_checkable
class Backend(Protocol):
    """A search engine behind the interface: the writing side and a way to read."""

    # The config's name for it ([backend] kind).
    kind: str

    def build(self, *, full: bool = False, wait: bool = False,
              progress_seconds: float | None = None) -> BuildResult:
        """Bring the index up to date with the document store (incrementally unless `full`)
        in a new generation, and switch it in: one step, because the quality gate judges
        between the two and a build that fails or is killed must leave the generation being
        served untouched. A refusal (the gate, an empty store, a write failure) is a
        HubsearchError of one line; another build of the same store raises LockBusy unless
        `wait`. Progress lines go to the "indexer.build" logger every `progress_seconds`."""
        ...

    def searcher(self) -> Searcher:
        """A new searcher of this backend's index (the server keeps one per process)."""
        ...
