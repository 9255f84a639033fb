"""URL identity rules every stage shares: when two URLs belong to the same site.

The crawler uses it to decide whether a page's canonical link may be trusted, and the
store uses the same rule again for rows written before that check existed, so a page can
never be indexed under another site's URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def same_host(url: str, other: str) -> bool:
    """True if both are http(s) URLs of the same host (and the same port, if either names one).

    No port on either side means the default one: https://host/ as the canonical of
    http://host/ is the usual upgrade, while another port is another site.
    """
    try:
        a, b = urlsplit(url), urlsplit(other)
        a_port, b_port = a.port, b.port
    except ValueError:
        return False
    if a.scheme not in ("http", "https") or b.scheme not in ("http", "https"):
        return False
    # A user name can spell another site's address before the @ ("https://www.gov.wales%2F
    # ...@evil.example/"); no real canonical or page URL carries one.
    if "@" in a.netloc or "@" in b.netloc:
        return False
    if not a.hostname or a.hostname.lower() != (b.hostname or "").lower():
        return False
    return a_port == b_port
