"""Refuse, before it goes out, any request whose host resolves to a non-public address.

Runs first among the downloader middlewares, so a refused URL costs no robots.txt fetch
and no connection; a redirect's next hop passes through here again like any request. The
refusal is an IgnoreRequest whose message is the one-line reason the store records
("refused: resolves to a loopback address (127.0.0.1)"), and it names no port state, so a
hostile page learns nothing from /status about what listens inside.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future

from crawler.resolver import GuardedResolver


class AddressGuardMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        from twisted.internet import reactor

        resolver = getattr(reactor, "nameResolver", None)
        if not isinstance(resolver, GuardedResolver):
            # Fail closed: without the resolver nothing pins the checked address.
            raise IgnoreRequest("refused: the crawler's address guard is not installed")
        host = urlsplit(request.url).hostname
        if not host:
            raise IgnoreRequest("refused: no host in the URL")
        checked = await maybe_deferred_to_future(resolver.check(host))
        if checked.refused:
            self.crawler.stats.inc_value("hubsearch/address_refused")
            raise IgnoreRequest(checked.refusal)
