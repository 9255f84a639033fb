"""The Whoosh backend behind the search interface (hubsearch/search_backend.py): index
generations in `storage.index_dir`, built by indexer/build.py and read by
indexer/search.py's PassageSearcher, which is itself a `Searcher`."""

from __future__ import annotations

from hubsearch.search_results import BuildResult
from hubsearch.settings import Settings
from indexer.search import PassageSearcher


class WhooshBackend:
    kind = "whoosh"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def build(self, *, full: bool = False, wait: bool = False,
              progress_seconds: float | None = None) -> BuildResult:
        # Imported when building: a server process never needs the writing side.
        from indexer.build import build_index

        return build_index(self.settings, full=full, wait=wait,
                           progress_seconds=progress_seconds)

    def searcher(self) -> PassageSearcher:
        return PassageSearcher(
            self.settings.storage.index_dir,
            synonyms_path=self.settings.search.synonyms_path,
            best_bets_path=self.settings.search.best_bets_path,
        )
