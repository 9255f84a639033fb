"""Hostile and broken input: every file gives a document or a one-line reason, in bounded time.

Real files come from ../shared/data (skipped when it is absent); the decompression bomb, the
truncated file, the slow parse and the crashing parser are built here.
"""

from __future__ import annotations

import gzip
import multiprocessing
import os
import signal
import struct
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fpdf import FPDF

from crawler import extract
from crawler.document import ExtractedDocument, ExtractionError
from crawler.extract import default_start_method, extract_isolated

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PDFS = DATA / "pdfs"
HTML = DATA / "article-extraction-benchmark" / "html"
needs_data = pytest.mark.skipif(
    not PDFS.is_dir() or not HTML.is_dir(),
    reason=f"real test files not found under {DATA} (pdfs/, article-extraction-benchmark/html/)",
)
# A patched parser reaches only a forked child, so these tests ask for fork explicitly
# (the default depends on how many threads the test process happens to have).
fork_only = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(),
    reason="the patched parser only reaches a forked child; this platform cannot fork",
)
MB = 1024 * 1024

# Chosen by name: ordinary files, encrypted ones, and corrupt streams or broken xref tables.
SAMPLE_PDFS = {
    "py-pdf-sample-files/001-trivial/minimal-document.pdf": "ok",
    "py-pdf-sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf": "ok",
    "py-pdf-sample-files/006-pdflatex-outline/pdflatex-outline.pdf": "ok",
    "py-pdf-sample-files/026-latex-multicolumn/multicolumn.pdf": "ok",
    "pdfminer-samples/samples/simple1.pdf": "ok",
    "pypdf-resources/resources/crazyones.pdf": "ok",
    "pypdf-resources/resources/encryption/r2-empty-password.pdf": "ok",
    "pdfminer-samples/samples/encryption/aes-256.pdf": "encrypted PDF",
    "pdfminer-samples/samples/encryption/rc4-40.pdf": "encrypted PDF",
    "pypdf-resources/resources/encryption/r6-user-password.pdf": "encrypted PDF",
    "pdfminer-samples/samples/zen_of_python_corrupted.pdf": None,
    "pdfminer-samples/samples/contrib/issue-886-xref-stream-widths.pdf": None,
    "pdfminer-samples/samples/contrib/issue-1113-evil-xobjects.pdf": None,
    "pdfminer-samples/samples/nonfree/175.pdf": None,
    "pypdf-resources/resources/outlines-with-invalid-destinations.pdf": None,
    "py-pdf-sample-files/017-unreadable-meta-data/unreadablemetadata.pdf": None,
}
# What extract_isolated says when it had to stop the child instead of hearing from it.
STOPPED = ("parse timed out", "parser crashed", "parser exited")


def _outcome(body: bytes, url: str, content_type: str | None = None, **bounds) -> str:
    """ "ok", or the one-line reason; fails the test on anything else."""
    try:
        doc = extract_isolated(body, url, content_type, **bounds)
    except ExtractionError as exc:
        reason = str(exc)
        assert reason.strip() and "\n" not in reason and len(reason) < 300, repr(reason)
        return reason
    assert isinstance(doc, ExtractedDocument) and doc.sections
    return "ok"


@needs_data
@pytest.mark.parametrize("name", sorted(SAMPLE_PDFS))
def test_real_pdfs_give_a_document_or_a_clear_reason(name):
    path = PDFS / name
    result = _outcome(path.read_bytes(), path.as_uri(), "application/pdf", timeout=20)
    assert not result.startswith(STOPPED), f"{name}: {result}"
    expected = SAMPLE_PDFS[name]
    if expected is not None:
        assert result == expected, name


@needs_data
def test_real_html_pages_give_a_document_or_a_clear_reason():
    for path in sorted(HTML.glob("*.html.gz"))[:5]:
        body = gzip.decompress(path.read_bytes())
        result = _outcome(body, "https://news.example/" + path.name[:-3], "text/html", timeout=20)
        assert not result.startswith(STOPPED), f"{path.name}: {result}"


def _pdf_with_content(stream: bytes) -> bytes:
    """A one-page PDF whose page content is `stream`, already FlateDecode-compressed."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _deflated_zeros(size: int) -> bytes:
    """A zlib stream of `size` zero bytes, built without compressing them all.

    After a full flush the deflate state is reset, so the compressed form of one chunk can be
    repeated; the Adler-32 of n zeros is ((n mod 65521) << 16) | 1.
    """
    chunk = MB
    compressor = zlib.compressobj(9)
    first = compressor.compress(b"\0" * chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(b"\0" * chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    adler = ((size % 65521) << 16) | 1
    return first + again * (size // chunk - 1) + b"\x03\x00" + struct.pack(">I", adler)


def test_deflated_zeros_is_a_valid_stream():
    assert zlib.decompress(_deflated_zeros(4 * MB)) == b"\0" * (4 * MB)


def test_a_decompression_bomb_hits_the_memory_limit():
    bomb = _pdf_with_content(_deflated_zeros(1024 * MB))  # 1 GB of zeros in about 1 MB
    assert len(bomb) < 2 * MB
    started = time.monotonic()
    result = _outcome(bomb, "https://x.example/bomb.pdf", memory_bytes=64 * MB, timeout=20)
    assert result == "parse ran out of memory (limit 64 MB)"
    assert time.monotonic() - started < 10


def test_a_slow_parse_is_stopped_at_the_timeout():
    # 256 MB of content to decompress and scan takes pdfium seconds: far past 0.3 s.
    slow = _pdf_with_content(_deflated_zeros(256 * MB))
    started = time.monotonic()
    result = _outcome(slow, "https://x.example/slow.pdf", memory_bytes=1024 * MB, timeout=0.3)
    assert result == "parse timed out after 0.3 s"
    assert time.monotonic() - started < 5


def test_a_truncated_pdf_gives_a_clear_reason():
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for _ in range(3):
        pdf.add_page()
        pdf.multi_cell(0, 6, "Record what the person told you, in their own words. " * 30)
    body = bytes(pdf.output())
    for cut in (0.2, 0.5, 0.9):
        result = _outcome(body[: int(len(body) * cut)], "https://x.example/cut.pdf", timeout=20)
        assert result.startswith("not a readable PDF"), result


def _segfault(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGSEGV)


def _allocate(*args, **kwargs):
    return bytearray(512 * MB)


@fork_only
def test_a_crashing_parser_is_reported_with_its_signal(monkeypatch):
    monkeypatch.setattr(extract, "extract_document", _segfault)
    result = _outcome(b"<html></html>", "https://x.example/", timeout=20, start_method="fork")
    assert result == f"parser crashed (signal {int(signal.SIGSEGV)})"


@fork_only
def test_python_memory_exhaustion_names_the_limit(monkeypatch):
    monkeypatch.setattr(extract, "extract_document", _allocate)
    result = _outcome(
        b"<html></html>", "https://x.example/", memory_bytes=64 * MB, timeout=20,
        start_method="fork",
    )
    assert result == "parse ran out of memory (limit 64 MB)"


def test_calls_from_many_threads_at_once():
    # The crawler calls from Twisted's thread pool: there the default is forkserver.
    page = (
        b"<html><head><title>Help</title></head><body><main><h1>Getting help</h1>"
        b"<p>Call the helpline at any time of day; the call is free and confidential, and "
        b"an adviser can arrange an interpreter if you need one.</p></main></body></html>"
    )
    methods: list[str] = []

    def one(n: int) -> str:
        methods.append(default_start_method())
        return extract_isolated(page, f"https://x.example/{n}", timeout=30).title

    with ThreadPoolExecutor(4) as pool:
        titles = list(pool.map(one, range(8)))
    assert titles == ["Getting help"] * 8
    assert threading.active_count() >= 1
    if "forkserver" in methods:
        assert set(methods) == {"forkserver"}
