"""Make the search backend a config names (`[backend] kind`, hubsearch/settings.py).

Like hubsearch/cli.py, this is a composition point, not a stage: it imports each engine only
when asked for it (Whoosh and numpy are not loaded by a config that names another), and only
the entry points that come after the indexer call it (the server, `hubsearch index` and
`search`, the nightly run, the demo). The interface itself is hubsearch/search_backend.py.
"""

from __future__ import annotations

from hubsearch.errors import HubsearchError
from hubsearch.search_backend import Backend
from hubsearch.settings import Settings


class BackendUnavailable(HubsearchError):
    """The config names a backend this installation cannot make; one line, a config error."""

    status = 2


def open_backend(settings: Settings) -> Backend:
    """The backend `settings.backend.kind` names, over `settings` (storage, search files)."""
    kind = settings.backend.kind
    if kind == "whoosh":
        from indexer.whoosh_backend import WhooshBackend

        return WhooshBackend(settings)
    if kind == "opensearch":
        from indexer.opensearch_backend import OpenSearchBackend

        return OpenSearchBackend(settings)
    # Settings refuse any other kind as they load; this guards settings made in code.
    raise BackendUnavailable(f"backend.kind: backend kind {kind!r} is not available yet")
