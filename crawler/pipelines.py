"""Item pipeline: write each crawl outcome to the document store and count the run."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.items import DocumentItem, FailureItem, NotModifiedItem
from hubsearch.store import DocumentStore, Fetch

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, store_path: str, gone_after: int, sources: list[str]) -> None:
        self.store_path = store_path
        self.gone_after = gone_after
        self.sources = sources
        self.counts: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        path = crawler.settings.get("HUBSEARCH_STORE_PATH")
        if not path:
            raise NotConfigured("HUBSEARCH_STORE_PATH is not set")
        return cls(
            path,
            crawler.settings.getint("HUBSEARCH_GONE_AFTER_FAILURES", 2),
            crawler.settings.getlist("HUBSEARCH_SOURCES"),
        )

    def open_spider(self, spider: Any = None) -> None:
        self.store = DocumentStore(Path(self.store_path))
        self.run_id = self.store.start_run()

    def close_spider(self, spider: Any = None) -> None:
        self.counts["gone"] += self.store.drop_unlinked(self.run_id, self.sources)
        self.store.finish_run(self.run_id, dict(self.counts))
        self.store.close()

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, DocumentItem):
            outcome = self.store.record_fetch(
                Fetch(
                    url=item.url, final_url=item.final_url, source=item.source,
                    status=item.status, content_type=item.content_type, sha256=item.sha256,
                    bytes=item.bytes, document=item.document, etag=item.etag,
                    last_modified=item.last_modified, redirects=item.redirects,
                    is_source=item.is_source,
                ),
                run_id=self.run_id,
            )
            self.counts["fetched"] += 1
            self.counts[outcome] += 1
            self.counts["bytes"] += item.bytes
        elif isinstance(item, NotModifiedItem):
            self.store.record_not_modified(
                item.url, final_url=item.final_url, redirects=item.redirects, run_id=self.run_id
            )
            self.counts["fetched"] += 1
            self.counts["unchanged"] += 1
        elif isinstance(item, FailureItem):
            state = self.store.record_failure(
                item.url, item.source, item.reason, status=item.status,
                final_url=item.final_url, redirects=item.redirects, run_id=self.run_id,
                gone_after=self.gone_after, is_source=item.is_source,
            )
            self.counts["failed"] += 1
            if state == "gone":
                self.counts["gone"] += 1
            logger.warning("failed %s: %s (%s)", item.url, item.reason, state)
        return item
