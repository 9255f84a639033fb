"""Turn a failed request into a one-line reason a maintainer can act on."""

from __future__ import annotations

from http import HTTPStatus

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import defer, error
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived

# Checked in order; the first match names the failure.
_REASONS: list[tuple[tuple[type[BaseException], ...], str]] = [
    ((CannotResolveHostError, error.DNSLookupError), "DNS lookup failed"),
    ((DownloadTimeoutError, error.TimeoutError, defer.TimeoutError), "timed out"),
    ((DownloadConnectionRefusedError, error.ConnectionRefusedError), "connection refused"),
    ((ResponseDataLossError,), "connection closed before the whole body arrived"),
    ((ResponseNeverReceived, error.ConnectionLost, error.ConnectionDone), "connection lost"),
    ((UnsupportedURLSchemeError,), "unsupported URL scheme"),
]


def _first_line(text: str, limit: int = 200) -> str:
    line = (text.strip().splitlines() or [""])[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe_failure(failure: Failure) -> str:
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "error"
        return f"HTTP {status} {phrase}"
    if isinstance(exc, IgnoreRequest):
        # Robots, offsite and depth filters all say why in their message.
        return _first_line(str(exc)) or "request ignored"
    if isinstance(exc, (DownloadCancelledError, defer.CancelledError)):
        message = str(exc)
        if "max size" in message or not message:
            return "larger than max_document_bytes (download cancelled)"
        return _first_line(message)
    for classes, reason in _REASONS:
        if isinstance(exc, classes):
            detail = _first_line(str(exc))
            if not detail or detail.lower().startswith(reason.lower()):
                return detail or reason
            return f"{reason}: {detail}"
    if isinstance(exc, DownloadFailedError):
        return _first_line(f"download failed: {exc}")
    return _first_line(f"{type(exc).__name__}: {exc}")
