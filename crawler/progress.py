"""Crawl progress on stderr while a crawl runs: what it has fetched, failed and still has to do.

The crawl child runs Scrapy at WARNING, so without this a long crawl says nothing until its
result line. On a terminal one line is kept up to date in place; otherwise (cron, a systemd
journal, a file) a plain timestamped line is written every PROGRESS_SECONDS, like the index
build's. Counts are the store pipeline's tallies (what was recorded: fetched, failed, bytes)
and Scrapy's scheduler stats (requests still queued).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, TextIO

from scrapy import signals
from twisted.internet import task

from crawler.pipelines import STAT_COUNTS

PROGRESS_SECONDS = 5.0  # between log lines when stderr is not a terminal
LIVE_SECONDS = 0.5  # between redraws of the line on a terminal


class CrawlProgress:
    """A Scrapy extension writing the crawl's progress to `stream`."""

    def __init__(self, crawler: Any, stream: TextIO = sys.stderr,
                 interval: float | None = None) -> None:
        self.stats = crawler.stats
        self.stream = stream
        self.live = _is_terminal(stream)
        self.interval = interval or (LIVE_SECONDS if self.live else PROGRESS_SECONDS)
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None
        self.shown = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlProgress:
        progress = cls(crawler)
        crawler.signals.connect(progress.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(progress.spider_closed, signal=signals.spider_closed)
        return progress

    def spider_opened(self, spider: Any = None) -> None:
        self.started = time.monotonic()
        if self.live:
            # A log line (a failed document) clears the progress line first rather than
            # being written on the end of it; the next redraw comes below it.
            for handler in logging.getLogger().handlers:
                handler.addFilter(self._clear)
        self.loop = task.LoopingCall(self.report)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        for handler in logging.getLogger().handlers:
            handler.removeFilter(self._clear)
        if self.live and self.shown:
            self._write("\r\x1b[K")  # the result line takes its place
            self.shown = False

    def _clear(self, record: logging.LogRecord) -> bool:
        if self.shown:
            self._write("\r\x1b[K")
            self.shown = False
        return True

    def line(self) -> str:
        counts = self.stats.get_value(STAT_COUNTS) or {}
        queued = max(0, (self.stats.get_value("scheduler/enqueued") or 0)
                     - (self.stats.get_value("scheduler/dequeued") or 0))
        return (f"crawl: {counts.get('fetched', 0)} fetched, {counts.get('failed', 0)} failed, "
                f"{queued} queued, {counts.get('bytes', 0) / 1e6:.1f} MB, "
                f"{time.monotonic() - self.started:.0f} s elapsed")

    def report(self) -> None:
        if self.live:
            self._write(f"\r{self.line()}\x1b[K")
        else:
            self._write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {self.line()}\n")
        self.shown = True

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # stderr closed or gone: progress is not worth failing
            pass


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
