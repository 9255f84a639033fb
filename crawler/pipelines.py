"""Item pipeline: write each crawl outcome to the document store and count the run.

An outcome the store refuses to write (disk full, I/O error) is not dropped: that document
is failed with the reason, logged as one line and counted as failed, and the crawler's stats
carry the count to crawler/child.py, which then exits non-zero. The run is recorded when the
spider closes, with how it ended (finished, store errors, interrupted).
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from crawler.items import DocumentItem, FailureItem, NotModifiedItem
from hubsearch.store import DocumentStore, Fetch

logger = logging.getLogger(__name__)

# Stats keys read by crawler/child.py after the crawl.
STAT_STORE_ERRORS = "hubsearch/store_write_errors"
STAT_FIRST_STORE_ERROR = "hubsearch/first_store_error"
STAT_RUN_RECORDED = "hubsearch/run_recorded"
STAT_COUNTS = "hubsearch/counts"

# What a refused write raises: SQLite's own errors ("database or disk is full", "disk I/O
# error", "database is locked" after the timeout) and the OS's.
WRITE_ERRORS = (sqlite3.Error, OSError)


def describe_write_error(exc: BaseException) -> str:
    """One line: 'store write failed: database or disk is full'."""
    if isinstance(exc, OSError) and exc.strerror:
        detail = exc.strerror
    else:
        detail = str(exc) or type(exc).__name__
    return "store write failed: " + " ".join(detail.split())


class StorePipeline:
    def __init__(
        self,
        store_path: str,
        gone_after: int,
        sources: list[str],
        stats: StatsCollector | None = None,
    ) -> None:
        self.store_path = store_path
        self.gone_after = gone_after
        self.sources = sources
        self.stats = stats
        self.counts: Counter[str] = Counter()
        self.write_errors = 0
        self.first_write_error: str | None = None
        self.store: DocumentStore | None = None
        self.run_id: int | None = None
        self.open_error: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        path = crawler.settings.get("HUBSEARCH_STORE_PATH")
        if not path:
            raise NotConfigured("HUBSEARCH_STORE_PATH is not set")
        pipeline = cls(
            path,
            crawler.settings.getint("HUBSEARCH_GONE_AFTER_FAILURES", 2),
            crawler.settings.getlist("HUBSEARCH_SOURCES"),
            crawler.stats,
        )
        # The run is finished from spider_closed, not close_spider: only the signal says why
        # the spider closed ("finished", or "shutdown" after a signal).
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        try:
            self.store = DocumentStore(Path(self.store_path))
            self.run_id = self.store.start_run()
        except WRITE_ERRORS as exc:
            # No run to record into: every outcome then fails with this reason (one line
            # each) and the child exits 1, instead of Scrapy's traceback and a silent exit.
            self.open_error = describe_write_error(exc)
            self._set_stat(STAT_FIRST_STORE_ERROR, self.open_error)
            logger.error("cannot start a crawl run in %s: %s", self.store_path, self.open_error)

    def close_spider(self, spider: Any = None) -> None:
        """Nothing: spider_closed records the run once the reason is known."""

    def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        self._set_stat(STAT_COUNTS, dict(self.counts))
        if self.run_id is None:  # the run never started (open_spider logged why)
            if self.store is not None:
                self.store.close()
            return
        if reason != "finished":
            outcome, error = "interrupted", f"stopped early ({reason}); counts are partial"
        elif self.write_errors:
            outcome = "store errors"
            error = f"{self.write_errors} not stored: {self.first_write_error}"
        else:
            outcome, error = "finished", None
        try:
            self.counts["gone"] += self.store.drop_unlinked(self.run_id, self.sources)
            self.store.finish_run(self.run_id, dict(self.counts), outcome, error)
        except WRITE_ERRORS as exc:
            # Without STAT_RUN_RECORDED the child exits 1 and says so; the next crawl marks
            # the run as one that never finished.
            logger.error("crawl run %s could not be recorded: %s", self.run_id,
                         describe_write_error(exc))
        else:
            self._set_stat(STAT_RUN_RECORDED, self.run_id)
        finally:
            self._set_stat(STAT_COUNTS, dict(self.counts))
            self.store.close()

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if self.open_error:
            self._write_failed(item, self.open_error)
        else:
            try:
                self._record(item)
            except WRITE_ERRORS as exc:
                self._write_failed(item, describe_write_error(exc))
        # The tallies so far, for the progress display (crawler/progress.py).
        self._set_stat(STAT_COUNTS, dict(self.counts))
        return item

    def _record(self, item: Any) -> None:
        assert self.store is not None
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

    def _write_failed(self, item: Any, reason: str) -> None:
        """The store refused this item: the document fails with that reason."""
        self._note_write_error(reason)
        self.counts["failed"] += 1
        if isinstance(item, FailureItem):
            logger.error("failed %s: %s; %s", item.url, item.reason, reason)
            return
        logger.error("failed %s: %s", item.url, reason)
        # Leave the reason where `report` looks, if the store takes a smaller write (it will
        # not when the disk is full; the log line and the run's counts still say it).
        if self.run_id is None or self.store is None:
            return
        try:
            self.store.record_failure(
                item.url, item.source, reason, final_url=item.final_url,
                redirects=item.redirects, run_id=self.run_id, gone_after=self.gone_after,
                is_source=getattr(item, "is_source", False),
            )
        except WRITE_ERRORS:
            pass

    def _note_write_error(self, reason: str) -> None:
        self.write_errors += 1
        self.first_write_error = self.first_write_error or reason
        if self.stats is not None:
            self.stats.inc_value(STAT_STORE_ERRORS)
            if self.stats.get_value(STAT_FIRST_STORE_ERROR) is None:
                self.stats.set_value(STAT_FIRST_STORE_ERROR, reason)

    def _set_stat(self, key: str, value: Any) -> None:
        if self.stats is not None:
            self.stats.set_value(key, value)
