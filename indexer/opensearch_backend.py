"""The OpenSearch backend behind the search interface (hubsearch/search_backend.py): index
generations as indices behind the hub's aliases in a cluster (`[backend] urls`), built by
indexer/opensearch_build.py and read by indexer/opensearch_search.py. One client per
process, shared by its threads."""

from __future__ import annotations

from hubsearch.search_results import BuildResult
from hubsearch.settings import Settings
from indexer.opensearch_client import connect
from indexer.opensearch_search import OpenSearchSearcher


class OpenSearchBackend:
    kind = "opensearch"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = connect(settings.backend)

    def build(self, *, full: bool = False, wait: bool = False,
              progress_seconds: float | None = None) -> BuildResult:
        from indexer.opensearch_build import build

        return build(self.settings, self.client, full=full, wait=wait,
                     progress_seconds=progress_seconds)

    def searcher(self) -> OpenSearchSearcher:
        return OpenSearchSearcher(self.settings, self.client)
