"""Bytes to `ExtractedDocument`: content sniffing, error wrapping and the time-bounded run.

This module owns the dispatch to the HTML or PDF extractor, the promise that unreadable input
only ever raises `ExtractionError` with a one-line reason, and `extract_isolated`, which parses
in a child process so a looping or memory-hungry PDF cannot hang or kill its caller. It also
serves `hubsearch extract PATH_OR_URL` through `extract_target`.
"""

from __future__ import annotations

import multiprocessing
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.document import ExtractedDocument, ExtractionError

USER_AGENT = "Hubsearch extract"
MAX_BYTES = 200 * 1024 * 1024  # guidance PDFs run to a few MB; anything this big is a mistake
# Address-space cap for the child parse: real PDFs include decompression bombs.
CHILD_MEMORY_BYTES = 4 * 1024 * 1024 * 1024
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_HTML_MARKS = (b"<!doctype html", b"<html", b"<head", b"<body")


def extract_document(
    body: bytes, url: str, content_type: str | None = None, *, language_hint: str = ""
) -> ExtractedDocument:
    """Extract one HTML page or PDF; raise ExtractionError (one line) if it cannot be read."""
    kind = sniff(body, url, content_type)
    try:
        if kind == "pdf":
            from crawler.extract_pdf import extract_pdf

            return extract_pdf(bytes(body), url, language_hint)
        from crawler.extract_html import extract_html

        doc = extract_html(body, url, language_hint)
    except ExtractionError:
        raise
    except MemoryError:
        raise ExtractionError(f"{kind} too large to parse (out of memory)") from None
    except Exception as exc:  # noqa: BLE001 - the promise is: only ExtractionError escapes
        raise ExtractionError(f"{kind} parse failed: {_one_line(exc)}") from exc
    if not doc.sections:
        # A page that yields nothing should be visible as a failure, not an empty record.
        raise ExtractionError("no text found in the page's main content")
    return doc


def sniff(body: bytes, url: str, content_type: str | None = None) -> str:
    """Return "pdf" or "html"; raise ExtractionError for anything else."""
    if not body:
        raise ExtractionError("empty body")
    # The PDF header may follow a little junk; readers accept it within the first 1 KiB.
    if b"%PDF-" in body[:1024]:
        return "pdf"
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype == "application/pdf":
        return "pdf"
    if ctype in _HTML_TYPES:
        return "html"
    suffix = Path(urlsplit(url).path).suffix.lower()
    if not ctype or ctype in ("application/octet-stream", "binary/octet-stream"):
        if suffix == ".pdf":
            return "pdf"
        if suffix in (".html", ".htm", ".xhtml"):
            return "html"
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if any(mark in head for mark in _HTML_MARKS):
        return "html"
    raise ExtractionError(f"unsupported content type: {ctype or suffix or 'unknown'}")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    reason = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return reason[:300]


def _child(conn: Any, body: bytes, url: str, content_type: str | None, hint: str) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    except (ImportError, ValueError, OSError):
        pass  # not on this platform, or a lower limit is already set
    try:
        doc = extract_document(body, url, content_type, language_hint=hint)
        conn.send(("ok", doc.to_dict()))
    except ExtractionError as exc:
        conn.send(("error", str(exc)))
    except BaseException as exc:  # noqa: BLE001 - report, never a traceback
        conn.send(("error", _one_line(exc)))
    finally:
        conn.close()


def extract_isolated(
    body: bytes,
    url: str,
    content_type: str | None = None,
    *,
    language_hint: str = "",
    timeout: float = 60.0,
) -> ExtractedDocument:
    """`extract_document` in a child process, killed after `timeout` seconds."""
    # fork starts in milliseconds; spawn (Windows, macOS default) still works, just slower.
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child, args=(sender, body, url, content_type, language_hint), daemon=True
    )
    proc.start()
    sender.close()
    try:
        # Read before join: a large result would otherwise block the child on a full pipe.
        if not receiver.poll(max(timeout, 0.0)):
            raise ExtractionError(f"extraction timed out after {timeout:g} s")
        try:
            status, payload = receiver.recv()
        except EOFError:
            proc.join(5)
            raise ExtractionError(f"extraction process died (exit code {proc.exitcode})") from None
    finally:
        receiver.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)
    if status == "error":
        raise ExtractionError(payload)
    return ExtractedDocument.from_dict(payload)


def _fetch(url: str, timeout: float) -> tuple[bytes, str, str | None]:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_BYTES + 1)
            final_url = response.geturl()
            content_type = response.headers.get("Content-Type")
    except urllib.error.HTTPError as exc:
        raise ExtractionError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise ExtractionError(f"cannot fetch: {exc.reason}") from None
    except (TimeoutError, OSError) as exc:
        raise ExtractionError(f"cannot fetch: {_one_line(exc)}") from None
    if len(body) > MAX_BYTES:
        raise ExtractionError(f"larger than {MAX_BYTES // (1024 * 1024)} MB")
    return body, final_url, content_type


def extract_target(target: str, timeout: float = 60.0) -> dict[str, Any]:
    """Extract a local file or an http(s) URL for the CLI; errors come back as {"error": ...}."""
    deadline = time.monotonic() + timeout
    try:
        if urlsplit(target).scheme in ("http", "https"):
            body, url, content_type = _fetch(target, timeout)
        else:
            path = Path(target)
            if not path.is_file():
                raise ExtractionError(f"no such file: {target}")
            body, url, content_type = path.read_bytes(), path.resolve().as_uri(), None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ExtractionError(f"extraction timed out after {timeout:g} s")
        doc = extract_isolated(body, url, content_type, timeout=remaining)
    except ExtractionError as exc:
        return {"source": target, "error": str(exc)}
    except OSError as exc:
        return {"source": target, "error": _one_line(exc)}
    return {"source": target, **doc.to_dict()}
