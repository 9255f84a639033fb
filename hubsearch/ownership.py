"""Which source a document belongs to: one answer for the index (results, facets, the
document API), the status page, `hubsearch report` and link health alike.

A document belongs to the first configured source, in config order, whose hub page links to
it. One no hub page links to (a hub page itself, or a document linked no more) belongs to
the source the crawl recorded. The crawl records whichever hub page happened to reach a
shared document first, which varies from night to night; this answer does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SEPARATOR = "\x1f"  # between source names packed into one SQL value (see `owner_of_packed`)


def source_order(sources: Sequence[Any]) -> dict[str, int]:
    """Each configured source's place in the config (what `owner` ranks by)."""
    return {source.name: i for i, source in enumerate(sources)}


def owner(recorded: str, linking: Iterable[str], order: Mapping[str, int]) -> str:
    """The owner of a document the crawl recorded under `recorded`, linked to by hub pages
    of the sources `linking`. Sources no longer configured rank after every configured one."""
    names = sorted(set(linking), key=lambda name: (order.get(name, len(order)), name))
    return names[0] if names else recorded


def owner_of_packed(order: Mapping[str, int]) -> Any:
    """`owner` as an SQLite function of (recorded source, linking sources joined by
    SEPARATOR or NULL), for counting owners inside a query."""

    def owner_of(recorded: str, packed: str | None) -> str:
        return owner(recorded, packed.split(SEPARATOR) if packed else (), order)

    return owner_of
