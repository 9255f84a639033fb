"""When a document says it was last updated: what "sort by date updated" sorts on.

- HTML: the page's own metadata (article:modified_time, dcterms.modified, JSON-LD
  dateModified, <time> elements...), read by htmldate, the library trafilatura uses for
  this; its guesses from free text and URLs are left out (`extensive_search=False`).
- PDF: the document's ModDate ("D:20240305...").
- Word: the core properties' modified date.
- Otherwise the indexer falls back to the HTTP Last-Modified header (`from_http`).

A date is an ISO day (YYYY-MM-DD), or None. Pages are hostile: a page claiming to be updated
next year would sort first forever, so a date after now, or before EARLIEST, counts as none.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

EARLIEST = date(1990, 1, 1)
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?")


def _bounded(day: date | None) -> str | None:
    # A day's grace: a date written in a time zone ahead of UTC is not from the future.
    latest = datetime.now(UTC).date() + timedelta(days=1)
    if day is None or not EARLIEST <= day <= latest:
        return None
    return day.isoformat()


def from_html(body: bytes | str) -> str | None:
    from htmldate import find_date

    try:
        found = find_date(body, extensive_search=False, original_date=False,
                          min_date=EARLIEST.isoformat())
    except (ValueError, TypeError):  # htmldate on markup it cannot parse
        return None
    return _bounded(date.fromisoformat(found)) if found else None


def from_pdf(metadata: dict[str, Any]) -> str | None:
    match = _PDF_DATE.match(str(metadata.get("ModDate", "")).strip())
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    try:
        return _bounded(date(int(year), int(month), int(day)))
    except ValueError:  # "D:20241399"
        return None


def from_datetime(value: datetime | None) -> str | None:
    """A Word or OpenDocument file's modified time, as its library parsed it."""
    return _bounded(value.date()) if isinstance(value, datetime) else None


def from_http(last_modified: str | None) -> str | None:
    """The Last-Modified header (RFC 9110 date), if it parses."""
    if not last_modified:
        return None
    try:
        return _bounded(parsedate_to_datetime(last_modified).date())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
