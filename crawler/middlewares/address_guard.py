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
from urllib.request import getproxies, proxy_bypass

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future

from crawler.resolver import GuardedResolver


class AddressGuardMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        # The same proxies Scrapy's HttpProxyMiddleware will use (from the environment).
        self.proxies = {k: v for k, v in getproxies().items() if k != "no"} if (
            crawler.settings.getbool("HTTPPROXY_ENABLED", True)) else {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        from twisted.internet import reactor

        resolver = getattr(reactor, "nameResolver", None)
        if not isinstance(resolver, GuardedResolver):
            # Fail closed: without the resolver nothing pins the checked address.
            raise IgnoreRequest("refused: the crawler's address guard is not installed")
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https"):
            raise IgnoreRequest(f"refused: only http and https URLs are fetched ({parts.scheme}:)")
        host = parts.hostname
        if not host:
            raise IgnoreRequest("refused: no host in the URL")
        checked = await maybe_deferred_to_future(resolver.check(host))
        if checked.refused:
            self.crawler.stats.inc_value("hubsearch/address_refused")
            raise IgnoreRequest(checked.refusal)
        if not checked.allowed and self._through_proxy(request, parts.scheme, host):
            # Without a proxy an unresolvable host simply fails to connect. Through one, the
            # proxy would resolve it on its own side (split-horizon DNS reaches inside), so
            # a host we cannot check is refused rather than trusted.
            self.crawler.stats.inc_value("hubsearch/address_refused")
            raise IgnoreRequest(
                "refused: the host does not resolve here, so its address cannot be checked "
                "before the proxy fetches it"
            )

    def _through_proxy(self, request: Request, scheme: str, host: str) -> bool:
        if "proxy" in request.meta:
            return bool(request.meta["proxy"])
        return scheme in self.proxies and not proxy_bypass(host)
