"""The crawl process: `python -m crawler.child` reads settings JSON on stdin and crawls once.

Each crawl gets a fresh process because Twisted's reactor cannot be restarted inside a
long-lived one (the scheduler), and a leak or crash in a parser stays in the child.
The run's counts are written to the store; the parent reads them from there.
"""

from __future__ import annotations

import argparse
import logging
import sys

from scrapy.crawler import CrawlerProcess

from crawler.scrapy_settings import scrapy_settings
from crawler.spiders.hub import HubSpider
from hubsearch.settings import settings_from_json

_QUIET_LOGGERS = (
    "scrapy.downloadermiddlewares.robotstxt",
    "scrapy.downloadermiddlewares.retry",
    "scrapy.core.scraper",
)


def _preload_extractors() -> None:
    """Import the parsers once here: each document is parsed in a forked child, which then
    starts with them loaded instead of importing them again per document."""
    import crawler.extract_html  # noqa: F401
    import crawler.extract_pdf  # noqa: F401


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", action="append", help="only crawl these sources")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()
    settings = settings_from_json(sys.stdin.read())
    _preload_extractors()
    sources = [s.name for s in settings.sources if not args.source or s.name in args.source]
    process = CrawlerProcess(
        scrapy_settings(settings, sources=sources, log_level=args.log_level)
    )
    # The store pipeline logs one line per failed URL; these loggers would repeat it, the
    # robots.txt one with a whole traceback for a host that cannot be reached.
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    process.crawl(HubSpider, hub_settings=settings, sources=sources)
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
