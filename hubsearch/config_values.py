"""Checks of single config values that take more than a type and a range to validate.

Listen hosts, cron expressions, source names and URLs, and file paths: each check returns
None for a good value or a one-line reason, and settings.py puts the key and its line in
front. They run when the config loads, so a value that would only fail hours later (the
nightly run, the first request, the first write) is refused up front instead.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

MAX_SOURCE_NAME = 64
MAX_USER_AGENT = 512

_DEFAULT_PORTS = {"http": 80, "https": 443}

# RFC 1123 labels; a name whose last label is all digits is a mistyped address, not a host.
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def host_problem(host: str) -> str | None:
    """Why `host` cannot be a listen address, or None if it is an IP address or host name."""
    if not host.strip():
        # uvicorn (and the socket API) read "" as every interface; that must be said on purpose.
        return "empty; give an address such as 127.0.0.1 (0.0.0.0 listens on every interface)"
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    if (
        len(host) > 253
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        return f"not an IP address or host name: {host!r}"
    return None


def cron_problem(cron: str, timezone: str) -> str | None:
    """Why APScheduler would refuse `cron` (or never fire it), or None.

    The scheduler's own parser decides, so the config accepts exactly what `schedule` will run.
    """
    # Imported here: only this check needs APScheduler, and it is slow to import.
    from apscheduler.triggers.cron import CronTrigger

    tz = ZoneInfo(timezone)
    try:
        trigger = CronTrigger.from_crontab(cron, timezone=tz)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        return f"not a crontab expression {cron!r}: {exc}"
    if trigger.get_next_fire_time(None, datetime.now(tz)) is None:
        return f"{cron!r} never comes round (e.g. 31 February)"
    return None


def text_problem(value: str, *, max_length: int) -> str | None:
    """Why `value` is not a short, printable, non-empty single line, or None."""
    if not value.strip():
        return "empty"
    if not value.isprintable():
        return f"contains control or unprintable characters: {value!r}"
    if len(value) > max_length:
        return f"longer than {max_length} characters ({len(value)})"
    return None


def url_port_problem(url: str) -> str | None:
    """Why the port in `url` is unusable (`:99999`, `:abc`), or None."""
    try:
        port = urlsplit(url).port
    except ValueError:
        port = 0
    return f"not a valid port in {url!r} (1-65535)" if port == 0 else None


def source_identity(url: str) -> str:
    """`url` as one source: scheme and host case, a default port, credentials, the fragment,
    a trailing slash and the order of query arguments make no difference.

    Raises ValueError for a URL that cannot be read (e.g. a bad port).
    """
    from w3lib.url import canonicalize_url

    parts = urlsplit(canonicalize_url(url))  # lower-cases scheme and host, drops the fragment
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        netloc += f":{parts.port}"
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(parts._replace(netloc=netloc, path=path))


def path_problem(path: Path, *, want_dir: bool) -> str | None:
    """Why `path` cannot be used as the store file (want_dir False) or a directory, or None.

    A path that does not exist yet is fine: the stage creates it.
    """
    try:
        if want_dir:
            if path.exists() and not path.is_dir():
                return f"{path} exists and is not a directory"
        elif path.is_dir():
            return f"{path} is a directory; give a file path such as data/hub.sqlite"
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        return f"not a usable path {str(path)!r}: {exc}"
    return None


def existing_file_problem(path: Path) -> str | None:
    """Why `path` is not an existing regular file, or None."""
    try:
        if path.is_file():
            return None
        if path.exists():
            return f"{path} is not a regular file"
    except (OSError, ValueError) as exc:
        return f"not a usable path {str(path)!r}: {exc}"
    return f"no such file: {path}"
