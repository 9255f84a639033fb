"""Translate our validated Settings into Scrapy's settings: the one place crawl policy is set."""

from __future__ import annotations

from typing import Any

from hubsearch.settings import Settings


def scrapy_settings(
    settings: Settings, *, sources: list[str] | None = None, log_level: str = "WARNING"
) -> dict[str, Any]:
    crawl = settings.crawl
    return {
        "BOT_NAME": "hubsearch",
        "USER_AGENT": crawl.user_agent,
        # Scrapy's default is False outside its project template.
        "ROBOTSTXT_OBEY": crawl.obey_robots_txt,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": max(crawl.download_delay, 0.1),
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": crawl.autothrottle_target_concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_requests_per_domain,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        # The default is 1 GiB; a guidance document is never that big.
        "DOWNLOAD_MAXSIZE": crawl.max_document_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "DEPTH_LIMIT": crawl.depth_limit,
        "RETRY_TIMES": crawl.retry_times,
        # A real move is one or two hops; more is a loop or a trap.
        "REDIRECT_MAX_TIMES": 5,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19 starts an HTTP server that runs Python code sent to it; a crawler of
        # untrusted sites has no use for it.
        "REMOTE_CONTROL_ENABLED": False,
        "ITEM_PIPELINES": {"crawler.pipelines.StorePipeline": 300},
        # Progress on stderr: the log level keeps Scrapy's own LogStats quiet.
        "EXTENSIONS": {"crawler.progress.CrawlProgress": 500},
        "DOWNLOADER_MIDDLEWARES": {
            # First of all, so a refused host costs no robots.txt fetch and no connection.
            "crawler.middlewares.address_guard.AddressGuardMiddleware": 50,
            "crawler.middlewares.conditional.ConditionalRequestMiddleware": 560,
        },
        # Guidance is on the web: no page or redirect may make the crawler read a local file,
        # a data: URL, an S3 bucket with the machine's credentials, or FTP.
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "s3": None, "ftp": None},
        # Every connection's address comes from here, checked and pinned (crawler/resolver.py).
        "TWISTED_DNS_RESOLVER": "crawler.resolver.GuardedResolver",
        "HUBSEARCH_ALLOW_PRIVATE_NETWORKS": crawl.allow_private_networks,
        "HUBSEARCH_ALLOWED_NETWORKS": list(crawl.allowed_networks),
        "HUBSEARCH_STORE_PATH": str(settings.storage.store_path),
        "HUBSEARCH_GONE_AFTER_FAILURES": crawl.gone_after_failures,
        # The sources crawled in this run: only their unlinked documents may be dropped.
        "HUBSEARCH_SOURCES": sources if sources is not None else [s.name for s in settings.sources],
        "LOG_LEVEL": log_level,
    }
