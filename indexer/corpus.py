"""What an index is built from, whichever engine holds it: the store's searchable documents
(each once, under the URL it is indexed by), the source and audience each is shown under,
and each passage's fields. indexer/build.py (Whoosh) and indexer/opensearch_build.py both
read the store through here, so the two backends index the same passages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from crawler import updated_date
from crawler.document import ExtractedDocument
from hubsearch import ownership
from hubsearch.errors import HubsearchError
from hubsearch.settings import Settings
from hubsearch.status_snapshot import save_status
from hubsearch.store import DocumentRef, DocumentStore
from indexer.passages import deep_link, split_document
from indexer.schema_fields import FIELDS, LINK_LIST, LINK_LIST_SHARE, language_of

# The whole report as one JSON file, written by builds before the status snapshot.
LEGACY_STATUS = "status.json"


def _claim(stored: DocumentRef, key: str) -> tuple[bool, str]:
    return stored.final_url.split("#", 1)[0] == key, stored.last_success_at or ""


def documents(store: DocumentStore) -> dict[str, DocumentRef]:
    """Searchable documents by the key they are indexed under, each key once (no bodies:
    only the documents that changed are decoded, when they are indexed)."""
    docs: dict[str, DocumentRef] = {}
    for stored in store.searchable_refs():
        # Two requested URLs that end at one document (a redirect, a canonical link) are
        # indexed once: the page actually at that URL wins over one that only claims it by
        # a canonical link, then the most recently confirmed copy.
        key = stored.index_key
        if key not in docs or _claim(stored, key) > _claim(docs[key], key):
            docs[key] = stored
    return docs


def passage_fields(key: str, document: ExtractedDocument, *, source: str,
                   audience: tuple[str, ...] | list[str], fetched_at: str,
                   last_modified: str | None) -> Iterator[dict[str, Any]]:
    """The fields of each passage of a document already bounded (crawler/bounds.py), as
    the Whoosh schema names them (indexer/schema.py); OpenSearch indexes the same values."""
    fields = FIELDS[language_of(document.language)]
    updated = document.updated_at or updated_date.from_http(last_modified)
    for passage in split_document(document):
        yield {
            "passage_id": hashlib.sha1(f"{key}\x00{passage.position}".encode()).hexdigest(),
            fields["title"]: document.title,
            fields["heading_path"]: " ".join(passage.heading_path),
            fields["text"]: passage.text,
            "body": passage.text,
            "title_display": document.title,
            "headings": list(passage.heading_path),
            "source": source,
            "audience": ",".join(audience),
            "document_url": key,
            "deep_link": deep_link(key, passage),
            "language": document.language,
            "doc_type": document.doc_type,
            "page": passage.page if passage.page is not None else 0,
            "position": passage.position,
            "fetched_at": fetched_at,
            "kind": LINK_LIST if passage.link_share >= LINK_LIST_SHARE else None,
            "updated": updated,
            "ocr": True if passage.ocr else None,
        }


@dataclass(frozen=True)
class Attribution:
    """The source a document is shown under, and the audience tags it is filtered by."""

    source: str
    audience: tuple[str, ...]

    def version(self, stored: DocumentRef) -> str:
        # A document is re-indexed when its body or its attribution changes.
        return f"{stored.sha256}|{self.source}|{','.join(self.audience)}"


def attribute(settings: Settings, docs: dict[str, DocumentRef]) -> dict[str, Attribution]:
    """Each document's source (hubsearch/ownership.py: the first configured source whose
    hub page links to it) and audience (every linking source's tags)."""
    order = ownership.source_order(settings.sources)
    audience_of = {s.name: s.audience for s in settings.sources}
    linked_from: dict[str, list[str]] = {}
    hubs = sorted((d for d in docs.values() if d.is_source),
                  key=lambda d: order.get(d.source, len(order)))
    for hub in hubs:
        for link in hub.links:
            names = linked_from.setdefault(link, [])
            if hub.source not in names:
                names.append(hub.source)
    attributions = {}
    # Documents share a few combinations of linking sources: one Attribution each.
    made: dict[tuple[str, ...], Attribution] = {}
    for key, stored in docs.items():
        names = tuple(linked_from.get(stored.url) or ()) if not stored.is_source else ()
        names = names or (stored.source,)
        who = made.get(names)
        if who is None:
            audience = tuple(sorted({tag for name in names
                                     for tag in audience_of.get(name, ())}))
            who = made[names] = Attribution(ownership.owner(stored.source, names, order),
                                            audience)
        attributions[key] = who
    return attributions


class IndexBuildError(HubsearchError):
    """The build could not produce an index; the previous generation keeps serving."""


def write_status(settings: Settings, store: DocumentStore, **outcome: Any) -> None:
    save_status(settings, store, **outcome)
    # The whole report as one JSON file, written by builds before the snapshot.
    (settings.storage.index_dir / LEGACY_STATUS).unlink(missing_ok=True)


def gate(settings: Settings, store: DocumentStore, has_current: bool) -> None:
    # A killed or interrupted run's counts are partial (or never written): judge the last
    # run that went through all its URLs.
    run = store.last_complete_run()
    limit = settings.index.max_failed_share
    if not has_current or run is None or run.failed_share <= limit:
        return
    reason = (
        f"quality gate: {run.failed_share:.0%} of documents failed in crawl run {run.id} "
        f"(limit {limit:.0%}); the previous index keeps serving"
    )
    write_status(settings, store, switched=False, reason=reason, run_id=run.id)
    raise IndexBuildError(reason)
