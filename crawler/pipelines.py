"""Item pipeline: write each crawl outcome to the document store and count the run."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.items import DocumentItem, FailureItem
from hubsearch.store import DocumentStore, Fetch

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, store_path: str) -> None:
        self.store_path = store_path
        self.counts: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        path = crawler.settings.get("HUBSEARCH_STORE_PATH")
        if not path:
            raise NotConfigured("HUBSEARCH_STORE_PATH is not set")
        return cls(path)

    def open_spider(self, spider: Any = None) -> None:
        from pathlib import Path

        self.store = DocumentStore(Path(self.store_path))
        self.run_id = self.store.start_run()

    def close_spider(self, spider: Any = None) -> None:
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
                )
            )
            self.counts["fetched"] += 1
            self.counts[outcome] += 1
            self.counts["bytes"] += item.bytes
        elif isinstance(item, FailureItem):
            self.store.record_failure(
                item.url, item.source, item.reason, status=item.status,
                final_url=item.final_url, redirects=item.redirects,
            )
            self.counts["failed"] += 1
            logger.warning("failed %s: %s", item.url, item.reason)
        return item
