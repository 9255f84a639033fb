"""One indexed document by its short id: its passages, in order, from the index generation.

A document's id is a short hash of the URL it is indexed under, so it is stable across
generations and safe in a URL path. The generation's manifest maps an id back to its URL,
one row at a time (indexer/manifest.py): no map of every document in each server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from whoosh.searching import Searcher

from indexer import manifest
from indexer.manifest import document_id

__all__ = ["DocumentIndex", "document_id"]


class DocumentIndex:
    """The documents of one generation, by id."""

    def __init__(self, generation: Path) -> None:
        self.generation = generation

    def get(self, searcher: Searcher, doc_id: str) -> dict[str, Any] | None:
        found = manifest.by_id(self.generation, doc_id)
        if found is None:
            return None
        url, entry = found
        passages = sorted(
            (dict(fields) for fields in searcher.documents(document_url=url)),
            key=lambda f: f.get("position", 0),
        )
        first = passages[0] if passages else {}
        return {
            "id": doc_id,
            "url": url,
            "requested_url": entry.url,
            "sha256": entry.sha256,
            "title": first.get("title_display", ""),
            "source": first.get("source", ""),
            "language": first.get("language", ""),
            "doc_type": first.get("doc_type", ""),
            "audience": [a for a in (first.get("audience") or "").split(",") if a],
            "fetched_at": first.get("fetched_at", ""),
            "passages": [
                {
                    "position": p.get("position", 0),
                    "heading_path": list(p.get("headings") or []),
                    "page": p.get("page") or None,
                    "deep_link": p.get("deep_link", ""),
                    "text": p.get("body", ""),
                    "ocr": bool(p.get("ocr")),
                }
                for p in passages
            ],
        }
