"""Index entry point: build a new generation from the document store and switch it in."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from whoosh import index

from hubsearch.errors import HubsearchError
from hubsearch.settings import Settings
from hubsearch.store import DocumentStore
from indexer import generations
from indexer.passages import deep_link, split_document
from indexer.schema import build_schema


class IndexBuildError(HubsearchError):
    """The build could not produce an index; the previous generation keeps serving."""


@dataclass
class BuildResult:
    generation: str
    documents: int
    passages: int
    seconds: float

    def line(self) -> str:
        return (
            f"index: {self.documents} documents, {self.passages} passages, "
            f"generation {self.generation}, {self.seconds:.1f} s"
        )


def build_index(settings: Settings) -> BuildResult:
    """Write every searchable stored document into a new generation and switch it in."""
    started = time.monotonic()
    index_dir = settings.storage.index_dir
    if not settings.storage.store_path.exists():
        raise IndexBuildError(
            f"no document store at {settings.storage.store_path}; run `hubsearch crawl` first"
        )
    generation = generations.new_generation_dir(index_dir)
    documents = passages = 0
    try:
        ix = index.create_in(str(generation), build_schema())
        writer = ix.writer(limitmb=128)
        seen_final: set[str] = set()
        with DocumentStore(settings.storage.store_path) as store:
            for stored in store.searchable():
                # Two requested URLs that redirect to one document are indexed once.
                if stored.final_url in seen_final or stored.document is None:
                    continue
                seen_final.add(stored.final_url)
                doc = stored.document
                documents += 1
                for passage in split_document(doc):
                    key = f"{stored.final_url}\x00{passage.position}"
                    writer.add_document(
                        passage_id=hashlib.sha1(key.encode()).hexdigest(),
                        title=doc.title,
                        heading_path=" ".join(passage.heading_path),
                        headings=list(passage.heading_path),
                        text=passage.text,
                        source=stored.source,
                        document_url=stored.final_url,
                        deep_link=deep_link(stored.final_url, passage),
                        language=doc.language,
                        doc_type=doc.doc_type,
                        page=passage.page if passage.page is not None else 0,
                        position=passage.position,
                        fetched_at=stored.last_success_at or stored.fetched_at or "",
                    )
                    passages += 1
        if documents == 0:
            writer.cancel()
            raise IndexBuildError("the document store has no searchable documents; "
                                  "run `hubsearch crawl` first")
        writer.commit()
    except BaseException:
        generations.discard(generation)
        raise
    generations.switch_to(index_dir, generation)
    generations.prune(index_dir)
    return BuildResult(generation.name, documents, passages, time.monotonic() - started)
