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
        response = exc.response
        try:
            phrase = HTTPStatus(response.status).phrase
        except ValueError:
            phrase = "error"
        reason = f"HTTP {response.status} {phrase}"
        location = response.headers.get(b"Location")
        if 300 <= response.status < 400 and location:
            # Scrapy follows only http(s) redirects and hands back any other as an error.
            return _first_line(f"{reason}: redirect to an unsupported URL {location.decode()}")
        retry_after = response.headers.get(b"Retry-After")
        if retry_after:
            reason += f" (Retry-After: {retry_after.decode('latin-1')[:40]})"
        return reason
    if isinstance(exc, IgnoreRequest):
        message = str(exc)
        if "during decompression" in message:
            return "decompressed body larger than max_document_bytes (a compression bomb?)"
        # Robots and redirect limits say why in their message.
        return _first_line(message) or "request ignored"
    if isinstance(exc, (DownloadCancelledError, defer.CancelledError)):
        message = str(exc)
        if "max size" in message or not message:
            return "larger than max_document_bytes (download cancelled)"
        return _first_line(message)
    known = _classify(exc)
    if known:
        return known
    if isinstance(exc, DownloadFailedError):
        # Scrapy wraps Twisted's ResponseNeverReceived, whose `reasons` say what happened.
        inner = getattr(exc.__cause__, "reasons", None) or []
        for failure_ in inner:
            known = _classify(getattr(failure_, "value", failure_))
            if known:
                return known
        return _first_line(f"download failed: {exc}")
    return _first_line(f"{type(exc).__name__}: {exc}")


def _classify(exc: BaseException) -> str | None:
    for classes, reason in _REASONS:
        if isinstance(exc, classes):
            detail = _first_line(str(exc))
            if not detail or detail.lower().startswith(reason.lower()):
                return detail or reason
            return f"{reason}: {detail}"
    return None
