"""The crawl process: `python -m crawler.child` reads settings JSON on stdin and crawls once.

Each crawl gets a fresh process because Twisted's reactor cannot be restarted inside a
long-lived one (the scheduler), and a leak or crash in a parser stays in the child.
The run's counts are written to the store; the parent reads them from there. The child
also writes a JSON report to `--report-fd` (what it could not write, whether the run was
recorded), so the parent can report a crawl whose store refused writes even when the run row
itself could not be written. Exit status: 0 ok, 1 some outcome was not stored or the crawl
broke.

The child dies with its parent (`hubsearch crawl` or the scheduler): it must never go on
crawling, unlocked, after the process holding the crawl lock is gone.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import signal
import sys
from typing import Any

from scrapy import signals
from scrapy.crawler import CrawlerProcess

from crawler.pipelines import (
    STAT_COUNTS,
    STAT_FIRST_STORE_ERROR,
    STAT_RUN_RECORDED,
    STAT_STORE_ERRORS,
)
from crawler.scrapy_settings import scrapy_settings
from crawler.spiders.hub import HubSpider
from hubsearch.settings import settings_from_json

# robots.txt fetch failures and retries are recorded per URL by the store pipeline, which
# logs one line for each; these loggers would repeat it, robots.txt with a whole traceback.
# scrapy.core.scraper is NOT quieted: it is where an item or spider error would be logged.
_QUIET_LOGGERS = (
    "scrapy.downloadermiddlewares.robotstxt",
    "scrapy.downloadermiddlewares.retry",
)

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
PARENT_CHECK_SECONDS = 1.0


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel SIGKILL us when our parent dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            logging.getLogger(__name__).warning(
                "prctl(PR_SET_PDEATHSIG) failed: %s", os.strerror(ctypes.get_errno())
            )
    # The parent may have died before prctl: then we were re-parented already.
    if os.getppid() != parent_pid:
        os._exit(1)


def _watch_parent(parent_pid: int) -> None:
    """The belt to prctl's braces (and the only guard where prctl does not exist)."""
    from twisted.internet import task

    def check() -> None:
        if os.getppid() != parent_pid:
            # No clean shutdown: the parent held the crawl lock, and another crawl may
            # already have taken it. The unfinished run is marked killed by the next crawl.
            os._exit(1)

    task.LoopingCall(check).start(PARENT_CHECK_SECONDS, now=False)


def _preload_extractors() -> None:
    """Import the parsers once here: each document is parsed in a forked child, which then
    starts with them loaded instead of importing them again per document."""
    import crawler.extract_html  # noqa: F401
    import crawler.extract_pdf  # noqa: F401


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", action="append", help="only crawl these sources")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    parser.add_argument("--report-fd", type=int, help="write the JSON report to this fd")
    args = parser.parse_args()
    if args.parent_pid:
        die_with_parent(args.parent_pid)
    settings = settings_from_json(sys.stdin.read())
    _preload_extractors()
    sources = [s.name for s in settings.sources if not args.source or s.name in args.source]
    process = CrawlerProcess(
        scrapy_settings(settings, sources=sources, log_level=args.log_level)
    )
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    crawler = process.create_crawler(HubSpider)
    broken: list[str] = []

    def on_error(failure: Any = None, **_: Any) -> None:
        # Scrapy logs these itself (scrapy.core.scraper); here they only make the exit 1.
        broken.append(str(getattr(failure, "value", failure)))

    crawler.signals.connect(on_error, signal=signals.item_error)
    crawler.signals.connect(on_error, signal=signals.spider_error)
    process.crawl(crawler, hub_settings=settings, sources=sources)
    if args.parent_pid:
        _watch_parent(args.parent_pid)
    process.start()

    stats = crawler.stats
    report = {
        "run_recorded": stats.get_value(STAT_RUN_RECORDED) if stats else None,
        "store_write_errors": stats.get_value(STAT_STORE_ERRORS, 0) if stats else 0,
        "first_store_error": stats.get_value(STAT_FIRST_STORE_ERROR) if stats else None,
        "counts": stats.get_value(STAT_COUNTS, {}) if stats else {},
        "unexpected_errors": len(broken),
    }
    if args.report_fd is not None:
        with os.fdopen(args.report_fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(report))
    ok = report["run_recorded"] and not report["store_write_errors"] and not broken
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
