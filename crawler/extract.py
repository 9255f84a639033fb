"""Bytes to `ExtractedDocument`: content sniffing, error wrapping and the bounded child run.

This module owns the dispatch to the HTML, PDF, DOCX or ODT extractor, the promise that
unreadable input only ever raises `ExtractionError` with a one-line reason, and
`extract_isolated`, which parses in a child process under a time and memory bound so a looping
PDF or a decompression bomb cannot hang or kill its caller. It also serves
`hubsearch extract PATH_OR_URL` through `extract_target`.
"""

from __future__ import annotations

import faulthandler
import io
import multiprocessing
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.document import ExtractedDocument, ExtractionError
from crawler.ocr import OcrOptions

USER_AGENT = "Hubsearch extract"
MAX_BYTES = 200 * 1024 * 1024  # guidance PDFs run to a few MB; anything this big is a mistake
# Address space a child parse may add to what it starts with. Guidance documents need tens of
# MB; real PDFs include decompression bombs, which this turns into a clear error.
CHILD_MEMORY_BYTES = 1024 * 1024 * 1024
# Office files are zips: their parts are read whole into memory, so refuse a zip that says it
# unpacks to more than this before any parser touches it.
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024
DEFAULT_TIMEOUT = 60.0
DEFAULT_OCR = OcrOptions()
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT_TYPE = "application/vnd.oasis.opendocument.text"
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_HTML_MARKS = (b"<!doctype html", b"<html", b"<head", b"<body")
_ZIP_MAGIC = b"PK\x03\x04"
# OLE2 compound file: legacy .doc/.xls/.ppt, and also password-protected .docx files.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_GENERIC_TYPES = ("", "application/octet-stream", "binary/octet-stream", "application/zip")
_MAX_REASON = 300


class _OutOfMemory(ExtractionError):
    """A parse that failed for lack of memory; the child reports it with its limit."""


def extract_document(
    body: bytes, url: str, content_type: str | None = None, *, language_hint: str = "",
    ocr: OcrOptions = DEFAULT_OCR, deadline: float | None = None,
) -> ExtractedDocument:
    """Extract one HTML page, PDF, DOCX or ODT; raise ExtractionError (one line) if unreadable.

    `ocr` says whether and how far a PDF's scanned pages are read by OCR, which stops at
    `deadline` (a `time.monotonic()` time). This parses in the calling process with no other
    bound: for untrusted bytes use `extract_isolated`.
    """
    kind = sniff(body, url, content_type)
    try:
        doc = _extract(kind, bytes(body), url, language_hint, ocr, deadline)
    except ExtractionError as exc:
        reason = str(exc)
        if reason == one_line_reason(reason):
            raise
        raise ExtractionError(one_line_reason(reason)) from None
    except MemoryError:
        raise _OutOfMemory(f"{kind} too large to parse (out of memory)") from None
    except RecursionError:
        raise ExtractionError(f"{kind} parse failed: structure nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - the promise is: only ExtractionError escapes
        raise ExtractionError(f"{kind} parse failed: {_one_line(exc)}") from exc
    if not doc.sections:
        # A page that yields nothing should be visible as a failure, not an empty record.
        if kind == "html":
            raise ExtractionError("no text found in the page's main content")
        raise ExtractionError(f"no text found in the {kind.upper()} beyond its headings")
    return doc


def _extract(kind: str, body: bytes, url: str, hint: str, ocr: OcrOptions,
             deadline: float | None) -> ExtractedDocument:
    # Imported on use: each extractor pulls in a parser library the others do not need.
    if kind == "pdf":
        from crawler.extract_pdf import extract_pdf

        return extract_pdf(body, url, hint, ocr, deadline)
    if kind == "docx":
        from crawler.extract_docx import extract_docx

        return extract_docx(body, url, hint)
    if kind == "odt":
        from crawler.extract_odt import extract_odt

        return extract_odt(body, url, hint)
    from crawler.extract_html import extract_html

    return extract_html(body, url, hint)


def sniff(body: bytes, url: str, content_type: str | None = None) -> str:
    """Return "pdf", "html", "docx" or "odt"; raise ExtractionError for anything else.

    The bytes decide first (a server's Content-Type is often generic or wrong), then the
    declared type, then the URL's suffix.
    """
    if not body:
        raise ExtractionError("empty body")
    # The PDF header may follow a little junk; readers accept it within the first 1 KiB.
    if b"%PDF-" in body[:1024]:
        return "pdf"
    ctype = (content_type or "").split(";")[0].strip().lower()
    suffix = Path(urlsplit(url).path).suffix.lower()
    if body.startswith(_ZIP_MAGIC):
        return _sniff_zip(body, ctype, suffix)
    if body.startswith(_OLE_MAGIC):
        raise ExtractionError(_ole_reason(body, ctype, suffix))
    if ctype == "application/pdf" or (ctype in _GENERIC_TYPES and suffix == ".pdf"):
        return "pdf"  # damaged, but the PDF reader gives the better reason
    office = _office_kind(ctype, suffix)
    if _looks_binary(body) and not office:
        # An image or archive served as text/html would otherwise reach the HTML parser.
        label = ctype or suffix or "unknown"
        raise ExtractionError(f"unsupported content type: binary data sent as {label}")
    if ctype in _HTML_TYPES:
        return "html"
    if ctype in _GENERIC_TYPES and suffix in (".html", ".htm", ".xhtml"):
        return "html"
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if any(mark in head for mark in _HTML_MARKS):
        return "html"  # an error page served under the document's URL is still a page
    if office:
        raise ExtractionError(f"not a readable {office} file (not a zip archive)")
    raise ExtractionError(f"unsupported content type: {ctype or suffix or 'unknown'}")


def _looks_binary(body: bytes) -> bool:
    """NUL bytes near the start: no text format we read has them (bar UTF-16, with its BOM)."""
    return b"\x00" in body[:1024] and not body.startswith((b"\xff\xfe", b"\xfe\xff"))


def _office_kind(ctype: str, suffix: str) -> str:
    """What the label (Content-Type or suffix) claims, among the office formats we read."""
    if ctype == DOCX_TYPE or (ctype in _GENERIC_TYPES and suffix == ".docx"):
        return "docx"
    if ctype == ODT_TYPE or (ctype in _GENERIC_TYPES and suffix == ".odt"):
        return "odt"
    return ""


def _sniff_zip(body: bytes, ctype: str, suffix: str) -> str:
    """docx or odt from the zip's own members; the label only breaks a tie."""
    claimed = _office_kind(ctype, suffix)
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            found = ""
            if "mimetype" in names:
                with archive.open("mimetype") as part:
                    mimetype = part.read(200).decode("ascii", "replace").strip()
                if mimetype == ODT_TYPE:
                    found = "odt"
                elif mimetype:
                    raise ExtractionError(f"unsupported content type: {mimetype}")
            elif "[Content_Types].xml" in names:
                with archive.open("[Content_Types].xml") as part:
                    types = part.read(256 * 1024)
                if b"wordprocessingml.document.main+xml" in types:
                    found = "docx"
            kind = found or claimed
            if not kind:
                raise ExtractionError(f"unsupported content type: {ctype or suffix or 'zip'}")
            # Declared sizes bound what zipfile will inflate, so this check cannot be lied past.
            unzipped = sum(m.file_size for m in members)
            if unzipped > MAX_UNZIPPED_BYTES:
                raise ExtractionError(
                    f"{kind} unpacks to {unzipped // (1024 * 1024)} MB "
                    f"(limit {MAX_UNZIPPED_BYTES // (1024 * 1024)} MB)"
                )
            return kind
    except ExtractionError:
        raise
    except Exception as exc:  # noqa: BLE001 - BadZipFile, zlib.error, EOFError from a damaged zip
        label = claimed or "zip"
        raise ExtractionError(f"not a readable {label} file: {_one_line(exc)}") from None


def _ole_reason(body: bytes, ctype: str, suffix: str) -> str:
    # Word wraps a password-protected .docx in an OLE container with this stream name.
    if "EncryptedPackage".encode("utf-16-le") in body:
        return "encrypted (password-protected) Office document"
    if suffix in (".xls", ".ppt") or "excel" in ctype or "powerpoint" in ctype:
        return "legacy binary Office format is not supported"
    return "legacy .doc Word format is not supported"


def one_line_reason(text: str) -> str:
    """The first non-empty line of `text`, at most 300 characters: a failure's stored reason."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:_MAX_REASON]
    return "unknown error"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    reason = f"{type(exc).__name__}: {one_line_reason(text)}" if text else type(exc).__name__
    return reason[:_MAX_REASON]


# --- The bounded child run -------------------------------------------------------------------

# How often the parent samples a waiting child's address space, to tell "killed by the memory
# limit" from any other crash when native code (pdfium) aborts instead of raising MemoryError.
_SAMPLE_S = 0.05
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_PRELOAD = [
    "crawler.extract",
    "crawler.extract_pdf",
    "crawler.ocr",
    "crawler.extract_html",
    "crawler.extract_docx",
    "crawler.extract_odt",
]
_context_lock = threading.Lock()


def default_start_method() -> str:
    """The multiprocessing start method `extract_isolated` uses when not told one.

    fork is the fastest, but it copies only the calling thread: a lock another thread holds at
    that moment (libxml2's while Scrapy parses a page, logging's) stays locked for ever in the
    child, which would then hang until its timeout. So fork only from a process with one
    thread (the CLI, the benchmarks); a crawler calling from its thread pool gets forkserver,
    whose server is a clean single-threaded process with the parsers already imported.
    """
    methods = multiprocessing.get_all_start_methods()
    if sys.platform == "linux" and "fork" in methods and threading.active_count() == 1:
        return "fork"
    if "forkserver" in methods:
        return "forkserver"
    return "spawn"


def _context(method: str) -> BaseContext:
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        with _context_lock:
            # Only takes effect before the server first starts; later calls change nothing.
            ctx.set_forkserver_preload(_forkserver_preload())
    return ctx


def _forkserver_preload() -> list[str]:
    """Modules the fork server imports once, so its children start with them loaded.

    Every forkserver child re-runs the parent's main module (multiprocessing's rule), so the
    main module and its imports are loaded in the server too: otherwise a crawl run as
    `python -m crawler.child` would import Scrapy again for every document.
    """
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None) or ""
    if name and not name.endswith("__main__"):
        # Run with -m: each child runs that module again by name, and runpy warns when it is
        # already imported, so preload its heavy imports rather than the module itself.
        heavy = [m for m in ("scrapy.crawler",) if m in sys.modules]
        return [*_PRELOAD, *heavy]
    return ["__main__", *_PRELOAD]  # a script: the server imports it once, by path


def _address_space(pid: int | str) -> int:
    """Virtual memory size of a process in bytes (0 when it is gone or not on Linux)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[0]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _child(
    conn: Connection,
    body: bytes,
    url: str,
    content_type: str | None,
    hint: str,
    limits: tuple[int, int, float],
    ocr: OcrOptions,
) -> None:
    memory_bytes, cpu_seconds, timeout = limits
    # OCR, the one slow step, stops here: the rest of the parse and the result's trip back
    # must fit in what is left before the parent's timeout.
    deadline = time.monotonic() + max(timeout * 0.9 - 1.0, timeout / 2)
    # A forked child inherits the crawler's handlers: Ctrl-C is the parent's to handle (it kills
    # us), and a signal here must not wake the parent's reactor through an inherited fd.
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
    except (ValueError, OSError):
        pass
    # A crash here is an expected outcome with a one-line reason, not a stack dump (of the
    # parent's threads, inherited) in the crawl log.
    faulthandler.disable()
    limit = _limit_resources(memory_bytes, cpu_seconds)
    try:
        conn.send(("start", limit))
        doc = extract_document(body, url, content_type, language_hint=hint, ocr=ocr,
                               deadline=deadline)
        conn.send(("ok", doc.to_dict()))
    except (_OutOfMemory, MemoryError):
        conn.send(("oom", ""))
    except ExtractionError as exc:
        conn.send(("error", one_line_reason(str(exc))))
    except BaseException as exc:  # noqa: BLE001 - report, never a traceback
        conn.send(("error", _one_line(exc)))
    finally:
        conn.close()


def _limit_resources(memory_bytes: int, cpu_seconds: int) -> int:
    """Cap this (child) process; return the address-space limit set, or 0 if none."""
    try:
        import resource
    except ImportError:  # not on this platform
        return 0
    limit = 0
    baseline = _address_space("self")
    # RLIMIT_AS counts what a fork inherited too, so the budget is added to the baseline.
    if baseline and memory_bytes > 0:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (baseline + memory_bytes,) * 2)
            limit = baseline + memory_bytes
        except (ValueError, OSError):
            pass  # a lower hard limit is already set: that one holds
    try:
        # Backstop if the parent dies and nobody kills us: CPU time never outruns wall time,
        # so this cannot fire before the parent's own timeout.
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    except (ValueError, OSError):
        pass
    return limit


def extract_isolated(
    body: bytes,
    url: str,
    content_type: str | None = None,
    *,
    language_hint: str = "",
    timeout: float = DEFAULT_TIMEOUT,
    memory_bytes: int = CHILD_MEMORY_BYTES,
    start_method: str | None = None,
    ocr: OcrOptions = DEFAULT_OCR,
) -> ExtractedDocument:
    """`extract_document` in a child process bounded by `timeout` seconds and `memory_bytes`.

    Safe to call from several threads at once (one child each). Raises ExtractionError with a
    one-line reason for unreadable input and also when the child is stopped: "parse timed out
    after N s", "parse ran out of memory (limit N MB)" or "parser crashed (signal N)".
    `memory_bytes` is address space the parse may add to what the child starts with;
    0 means no limit. `start_method` overrides `default_start_method()`. OCR of a PDF's
    scanned pages (as `ocr` allows; crawler/ocr.py) runs inside the same two bounds.
    """
    ctx = _context(start_method or default_start_method())
    receiver, sender = ctx.Pipe(duplex=False)
    limits = (max(int(memory_bytes), 0), int(min(timeout, 86400)) + 2, max(timeout, 0.0))
    proc = ctx.Process(
        target=_child,
        args=(sender, bytes(body), url, content_type, language_hint, limits, ocr),
        daemon=True,
    )
    try:
        proc.start()
    except OSError as exc:  # fork failed: no memory or process slots left for a child
        receiver.close()
        sender.close()
        raise ExtractionError(f"cannot start a parser process: {_one_line(exc)}") from None
    sender.close()
    try:
        status, payload = _wait(proc, receiver, timeout, memory_bytes)
    finally:
        receiver.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        if proc.exitcode is not None:
            proc.close()  # frees the sentinel fd now rather than at garbage collection
    if status == "ok":
        return ExtractedDocument.from_dict(payload)
    raise ExtractionError(payload)


def _wait(
    proc: BaseProcess, receiver: Connection, timeout: float, memory_bytes: int
) -> tuple[str, Any]:
    """The child's ("ok", dict) or ("error", reason), whatever way it ended."""
    # The clock starts once the child exists: a forkserver's first start is not the parse's.
    deadline = time.monotonic() + max(timeout, 0.0)
    limit = peak = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "error", f"parse timed out after {timeout:g} s"
        # Read before join: a large result would otherwise block the child on a full pipe.
        # Sample often at first: a bomb can exhaust the limit within milliseconds.
        step = _SAMPLE_S if timeout - remaining > 0.5 else _SAMPLE_S / 5
        if receiver.poll(min(remaining, step)):
            try:
                status, payload = receiver.recv()
            except (EOFError, OSError):
                break  # the child died without finishing its message
            if status == "start":
                limit = payload
                continue
            if status == "oom":
                return "error", _oom_reason(memory_bytes)
            return status, payload
        peak = max(peak, _address_space(proc.pid))
    proc.join(1)
    code = proc.exitcode
    # Native code does not raise MemoryError when an allocation fails under RLIMIT_AS: pdfium
    # and C++'s uncaught bad_alloc abort(), as does CPython when it cannot recover. So under a
    # limit, SIGABRT, or any death after the child was seen using over half its budget, is
    # reported as running out of memory.
    used_half = limit and peak >= limit - memory_bytes // 2
    if code is not None and code < 0 and limit and (code == -signal.SIGABRT or used_half):
        return "error", _oom_reason(memory_bytes)
    if code is not None and code < 0:
        return "error", f"parser crashed (signal {-code})"
    return "error", f"parser exited without a result (exit code {code})"


def _oom_reason(memory_bytes: int) -> str:
    return f"parse ran out of memory (limit {memory_bytes // (1024 * 1024)} MB)"


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
