"""The crawl's name resolver: every connection goes only to an address the guard allowed.

Installed as Scrapy's TWISTED_DNS_RESOLVER, so Twisted asks it for the address of every
host the crawler connects to (sources, followed links, each redirect hop, robots.txt), IP
literals included: HostnameEndpoint resolves those through it too. It resolves a host once
per crawl, drops each address the policy refuses, and then serves that same checked list
for every later connection to the host. That pinning is what closes the DNS-rebinding gap:
the address checked is the address connected to, whatever the name's DNS says later.

The downloader middleware (crawler/middlewares/address_guard.py) asks `check` before a
request goes out, so a refusal reaches the store as a one-line reason; this resolver is the
backstop that holds even for a connection nothing asked about.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies

import attr
from scrapy.resolver import HostResolution
from scrapy.utils.datatypes import LocalCache
from twisted.internet import defer
from twisted.internet.interfaces import IAddress, IHostnameResolver, IResolutionReceiver
from zope.interface import implementer, provider

from hubsearch.network_policy import AddressPolicy

logger = logging.getLogger(__name__)

# Hosts remembered per crawl; a crawl of a hub touches a few hundred at most.
PINNED_HOSTS = 10_000


@dataclass(frozen=True)
class Checked:
    """What a host resolved to: the addresses allowed, and why the others were refused."""

    allowed: tuple[IAddress, ...]
    refusal: str | None  # the first refusal, when no address was allowed

    @property
    def refused(self) -> bool:
        return not self.allowed and self.refusal is not None


def _hostname(proxy_url: str) -> str | None:
    try:
        return urlsplit(proxy_url if "://" in proxy_url else f"http://{proxy_url}").hostname
    except ValueError:
        return None


@provider(IResolutionReceiver)
class _Collector:
    def __init__(self) -> None:
        self.addresses: list[IAddress] = []
        self.done: defer.Deferred[list[IAddress]] = defer.Deferred()

    def resolutionBegan(self, resolution: Any) -> None:
        pass

    def addressResolved(self, address: IAddress) -> None:
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        self.done.callback(self.addresses)


@implementer(IHostnameResolver)
class GuardedResolver:
    def __init__(
        self, reactor: Any, policy: AddressPolicy, proxy_hosts: frozenset[str] = frozenset()
    ) -> None:
        self.reactor = reactor
        self.policy = policy
        # The operator's own proxies (http_proxy, https_proxy) are often on the internal
        # network; connecting to them is allowed. The page's host is still checked by the
        # middleware before the request goes to the proxy.
        self.proxy_hosts = frozenset(h.lower() for h in proxy_hosts)
        # The reactor's own getaddrinfo resolver (IPv4 and IPv6), which we wrap.
        self.original: IHostnameResolver = reactor.nameResolver
        self.pins: LocalCache[str, Checked] = LocalCache(PINNED_HOSTS)

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        # Scrapy passes the CrawlerProcess here; only its settings are used.
        settings = crawler.settings
        proxies = getproxies() if settings.getbool("HTTPPROXY_ENABLED", True) else {}
        return cls(
            reactor,
            AddressPolicy.from_settings(
                settings.getbool("HUBSEARCH_ALLOW_PRIVATE_NETWORKS"),
                settings.getlist("HUBSEARCH_ALLOWED_NETWORKS"),
            ),
            # "no" is the no_proxy list, not a proxy: its hosts get no exemption.
            proxy_hosts=frozenset(
                host for scheme, url in proxies.items()
                if scheme != "no" and (host := _hostname(url))
            ),
        )

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def check(self, host: str) -> defer.Deferred[Checked]:
        """Resolve `host` once per crawl and keep only the addresses the policy allows."""
        key = host.lower()
        if key in self.pins:
            return defer.succeed(self.pins[key])
        collector = _Collector()
        self.original.resolveHostName(collector, host, 0)

        def judge(addresses: list[IAddress]) -> Checked:
            allowed, refusal = [], None
            for address in addresses:
                reason = self.policy.refusal(address.host)
                if reason is None:
                    allowed.append(address)
                elif refusal is None:
                    refusal = reason
            checked = Checked(tuple(allowed), refusal)
            # An empty answer is not pinned: the next try may be a transient DNS failure.
            if addresses:
                self.pins[key] = checked
            return checked

        return collector.done.addCallback(judge)

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> HostResolution:
        if hostName.lower() in self.proxy_hosts:
            return self.original.resolveHostName(
                resolutionReceiver, hostName, portNumber, addressTypes, transportSemantics
            )
        resolution = HostResolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)

        def deliver(checked: Checked) -> None:
            if checked.refused:
                logger.debug("address guard: %s", checked.refusal)
            for address in checked.allowed:
                if addressTypes and not any(isinstance(address, t) for t in addressTypes):
                    continue
                resolutionReceiver.addressResolved(attr.evolve(address, port=portNumber))
            resolutionReceiver.resolutionComplete()

        def failed(failure: Any) -> None:
            logger.debug("address guard: resolving %s failed: %s", hostName, failure.value)
            resolutionReceiver.resolutionComplete()

        self.check(hostName).addCallbacks(deliver, failed)
        return resolution
