"""Which network addresses the crawler may connect to: the address guard's policy.

Hubsearch fetches pages it does not control, and any of them can link or redirect to an
internal address (a cloud metadata endpoint, an admin port on loopback, a host on the office
network). This module decides, for one IP address, whether the crawler may connect to it,
and for one host as written in a URL, whether it is an internal address before any DNS
lookup (used when the config is validated). The crawler applies it to the addresses a host
actually resolves to (crawler/address_guard.py); settings.py applies it to source URLs.

By default only globally routable unicast addresses are allowed. `allow_private` (the
config's `crawl.allow_private_networks`) also allows loopback, RFC 1918, CGNAT and unique
local addresses, for an intranet hub; link-local (where cloud metadata lives), multicast,
unspecified and reserved addresses stay refused unless a network in `allowed_networks`
names them explicitly.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Python's own classification decides each range (ipaddress follows the IANA special-purpose
# registries); these only add names to the refusal and the CGNAT range, which
# `is_private` does not cover.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Private-use ranges an intranet hub may legitimately live in.
_PRIVATE_KINDS = ("loopback", "private", "shared (CGNAT)")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, 6to4, Teredo, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    # IPv4-compatible (::a.b.c.d, deprecated) still reaches the IPv4 host on some stacks.
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return None


def address_kind(address: IPAddress) -> str | None:
    """What kind of non-public address this is ("loopback", "link-local", ...), or None."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_kind(embedded)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "shared (CGNAT)"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "private"  # fec0::/10: deprecated, but still routed inside some networks
    if address.is_private:
        return "private"
    if not address.is_global:
        return "reserved"
    return None


def parse_host_address(host: str) -> IPAddress | None:
    """The IP address a URL host spells, in any form a resolver accepts, else None.

    Besides dotted quads and IPv6 literals this reads what inet_aton does: decimal
    (`2130706433`), octal (`0177.0.0.1`), hex (`0x7f.1`) and short (`127.1`) forms, which
    every C resolver turns into an address without asking DNS.
    """
    text = host.strip().strip("[]").rstrip(".")
    if "%" in text:  # an IPv6 zone index (fe80::1%eth0) names a local interface
        text = text.split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if not text or not all(part for part in text.split(".")):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class AddressPolicy:
    """The guard's rule for one crawl, built from the crawl settings."""

    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(
        cls, allow_private: bool, networks: tuple[str, ...] | list[str]
    ) -> AddressPolicy:
        return cls(
            allow_private=allow_private,
            allowed_networks=tuple(ipaddress.ip_network(n, strict=False) for n in networks),
        )

    def refusal(self, address: IPAddress | str) -> str | None:
        """None if the crawler may connect to `address`, else a one-line reason."""
        if isinstance(address, str):
            try:
                address = ipaddress.ip_address(address.split("%", 1)[0])
            except ValueError:
                return f"refused: {address!r} is not an IP address"
        if any(address in network for network in self.allowed_networks if
               network.version == address.version):
            return None
        kind = address_kind(address)
        if kind is None or (self.allow_private and kind in _PRIVATE_KINDS):
            return None
        article = "an" if kind[0] in "aeiou" else "a"
        embedded = (_embedded_ipv4(address)
                    if isinstance(address, ipaddress.IPv6Address) else None)
        shown = f"{embedded} as {address}" if embedded else str(address)
        return f"refused: resolves to {article} {kind} address ({shown})"

    def host_refusal(self, host: str) -> str | None:
        """A refusal for a host that is itself an internal address or a local name.

        No DNS lookup: the crawler checks what a name resolves to when it connects.
        """
        name = host.strip().rstrip(".").lower()
        if name == "localhost" or name.endswith(".localhost"):
            if self.allow_private:
                return None
            return "refused: 'localhost' is a loopback address"
        address = parse_host_address(name)
        return self.refusal(address) if address is not None else None
