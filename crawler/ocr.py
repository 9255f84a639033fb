"""OCR of PDF pages that have no text layer: each page rendered by pdfium, read by Tesseract.

This module owns the call to the `tesseract` command (Debian's tesseract-ocr with its English
and Welsh data, installed by the Makefile), the choice of language data, and the bounds OCR
reads within, so that a 500-page scan costs no more than the parse's own budget:

- at most `OcrOptions.max_pages` pages are read, in page order; later scanned pages are left
  unread and the document says how many (`OcrResult.note`);
- a page is rendered at 300 dpi but never above MAX_PIXELS (a poster is read at a lower
  resolution), in grayscale: about 9 MB for an A4 page;
- no page is started after the parse's deadline, and a page still being read at it is
  stopped: OCR ends inside `crawl.parse_timeout`, leaving the parser time to send its result;
- `tesseract` runs in one thread, under what is left of the parse's address-space limit, and
  is killed if the parse process is (so `crawler.extract.extract_isolated`'s time and memory
  bounds hold for it too).
"""

from __future__ import annotations

import ctypes
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pypdfium2 as pdfium

DPI = 300
# A4 at 300 dpi is 8.7 million pixels; larger pages are read at a lower resolution.
MAX_PIXELS = 12_000_000
# Tesseract refuses an image wider or taller than 32,767 pixels.
MAX_SIDE = 30_000
# Fewer dark pixels than this share of the page: a blank page (a scan's empty back), not read.
_INK_SHARE = 0.0001
# Least memory worth giving tesseract: with English and Welsh data it peaks near 100 MB.
_MIN_MEMORY = 160 * 1024 * 1024
# Tesseract's language data by our language code; the document's own language goes first.
_LANGUAGES = {"en": "eng", "cy": "cym"}
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_TIME_LIMIT = "the time limit (crawl.parse_timeout)"
_MEMORY_LIMIT = "the memory limit (crawl.parse_memory_mb)"


@dataclass(frozen=True)
class OcrOptions:
    """What the settings say about OCR (`crawl.ocr`, `crawl.ocr_max_pages`)."""

    enabled: bool = True
    max_pages: int = 50


@dataclass
class OcrResult:
    """Text read from each page index asked for (none for a page with nothing on it)."""

    texts: dict[int, str] = field(default_factory=dict)
    # Pages asked for, and how many of them were read (rendered, and OCR'd unless blank).
    asked: int = 0
    read: int = 0
    # Why OCR read none or only some of the pages asked for: one line, or None.
    note: str | None = None


def unavailable(options: OcrOptions) -> str | None:
    """Why OCR cannot run here (one line), or None when it can."""
    if not options.enabled:
        return "OCR is turned off (crawl.ocr = false)"
    if shutil.which("tesseract") is None:
        return "OCR unavailable: tesseract not installed"
    return None


def language_data(hint: str, deadline: float | None = None) -> str | None:
    """"eng+cym" or "cym+eng" (the hinted language first), as far as the data is installed."""
    timeout = 30.0 if deadline is None else min(30.0, max(deadline - time.monotonic(), 0.1))
    try:
        done = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True,
                              timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    listed = (done.stdout + done.stderr).split()  # Tesseract 4 listed them on stderr
    order = ["cy", "en"] if hint == "cy" else ["en", "cy"]
    found = [_LANGUAGES[code] for code in order if _LANGUAGES[code] in listed]
    return "+".join(found) or None


def read_pages(body: bytes, pages: list[int], options: OcrOptions, *, hint: str = "",
               deadline: float | None = None) -> OcrResult:
    """OCR the given 0-based page indices of a PDF, within the bounds in the module docstring.

    `deadline` is a `time.monotonic()` time after which no OCR may run (None: no time bound).
    """
    result = OcrResult(asked=len(pages))
    if not pages:
        return result
    result.note = unavailable(options)
    if result.note:
        return result
    languages = language_data(hint, deadline)
    if languages is None:
        result.note = "OCR unavailable: no English or Welsh language data for tesseract"
        return result
    try:
        pdf = pdfium.PdfDocument(body)
    except pdfium.PdfiumError:
        result.note = "OCR unavailable: pdfium cannot render this PDF"
        return result
    try:
        for index in pages[: options.max_pages]:
            if deadline is not None and time.monotonic() >= deadline:
                result.note = _stopped(result, _TIME_LIMIT)
                return result
            try:
                text = _read_page(pdf, index, languages, deadline)
            except _OcrStopped as stop:
                result.note = _stopped(result, stop.why)
                return result
            result.read += 1
            if text.strip():
                result.texts[index] = text
    finally:
        pdf.close()
    if len(pages) > options.max_pages:
        limit = f"the page limit (crawl.ocr_max_pages = {options.max_pages})"
        result.note = _stopped(result, limit)
    return result


class _OcrStopped(Exception):
    """OCR cannot go on for this document; the message says why."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _stopped(result: OcrResult, why: str) -> str:
    unread = result.asked - result.read
    return (f"OCR stopped at {why} after {result.read} of {result.asked} scanned pages; "
            f"{unread} not read")


def _read_page(pdf: pdfium.PdfDocument, index: int, languages: str,
               deadline: float | None) -> str:
    page = pdf[index]
    try:
        rendered = _render(page)
    except pdfium.PdfiumError:
        return ""  # one page pdfium cannot draw loses that page only
    finally:
        page.close()
    if rendered is None:
        return ""
    return _tesseract(*rendered, languages, deadline)


def _render(page: pdfium.PdfPage) -> tuple[np.ndarray, int] | None:
    """The page as 8-bit grayscale pixels and their dots per inch; None for a blank page."""
    width, height = page.get_size()
    if not (width > 0 and height > 0):
        return None
    scale = min(DPI / 72, math.sqrt(MAX_PIXELS / (width * height)), MAX_SIDE / max(width, height))
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        pixels = bitmap.to_numpy().copy()
    finally:
        bitmap.close()
    if pixels.ndim != 2 or np.count_nonzero(pixels < 128) < _INK_SHARE * pixels.size:
        return None
    return pixels, max(round(scale * 72), 1)


def _tesseract(pixels: np.ndarray, dpi: int, languages: str, deadline: float | None) -> str:
    timeout = None if deadline is None else deadline - time.monotonic()
    if timeout is not None and timeout <= 0:
        raise _OcrStopped(_TIME_LIMIT)
    height, width = pixels.shape
    image = f"P5\n{width} {height}\n255\n".encode("ascii") + pixels.tobytes()
    try:
        done = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", languages, "--dpi", str(dpi)],
            input=image, capture_output=True, timeout=timeout, check=False,
            # One thread: a parse has one core's worth of time, and the machine is shared.
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            preexec_fn=_bound_child(),  # safe: the parse process runs a single thread
        )
    except subprocess.TimeoutExpired:
        raise _OcrStopped(_TIME_LIMIT) from None
    except OSError as exc:
        raise _OcrStopped(f"an error starting tesseract ({exc.strerror or exc})") from None
    if done.returncode != 0:
        # Killed, or out of memory under the limit below: the pages after it would fare no
        # better. Any other failure (an image leptonica could not take) costs this page only.
        if done.returncode < 0 or b"alloc" in done.stderr.lower():
            raise _OcrStopped(_MEMORY_LIMIT)
        return ""
    return done.stdout.decode("utf-8", "replace").replace("\f", "")


def _bound_child() -> Callable[[], None]:
    """What tesseract's process does before it starts: take what is left of the parse's
    address-space limit as its own, and die with the parse process (killed at its timeout)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    limit = None
    if soft != resource.RLIM_INFINITY:
        # The parse's limit counts what it has mapped already: tesseract may have the rest.
        limit = soft - _address_space()
        if limit < _MIN_MEMORY:
            raise _OcrStopped(_MEMORY_LIMIT)
    prctl = ctypes.CDLL(None).prctl if sys.platform.startswith("linux") else None

    def before_exec() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return before_exec


def _address_space() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
