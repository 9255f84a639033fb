"""Scanned PDFs: pages with no text layer are read by OCR (Tesseract), on their own page
numbers, marked as OCR; OCR stays inside the parse's page, time and memory bounds; and a PDF
that still gives no text says which of the reasons it was."""

from __future__ import annotations

import shutil
import time

import pytest
from PIL import ImageDraw
from scankit import page_image, scanned_pdf

from crawler.document import ExtractionError
from crawler.extract import extract_document, extract_isolated
from crawler.ocr import OcrOptions

pytestmark = pytest.mark.skipif(
    shutil.which("tesseract") is None,
    reason="tesseract is not installed (`make test` installs tesseract-ocr and its data)")

URL = "https://docs.example.org/files/board-minutes.pdf"
TYPED = "Referral steps for practitioners. Each one follows these steps when a concern is raised."
ENGLISH_SCAN = ["Minutes of the regional safeguarding board",
                "Practitioners record every disclosure in the quarterly ledger."]
WELSH_SCAN = ["Cofnodion y bwrdd diogelu rhanbarthol",
              "Mae ymarferwyr yn cwrdd ger y dŵr bob chwarter."]
# Page 1 typed (a text layer), pages 2 and 3 scanned.
MIXED = scanned_pdf([TYPED, ENGLISH_SCAN, WELSH_SCAN])
SCAN = scanned_pdf([ENGLISH_SCAN])


@pytest.fixture(scope="module")
def mixed():
    return extract_document(MIXED, URL)


def text_of(doc, page: int) -> str:
    return " ".join(s.text for s in doc.sections if s.page == page)


def test_scanned_pages_are_read_by_ocr_on_their_own_page_numbers(mixed):
    assert "quarterly ledger" in text_of(mixed, 2)
    assert "Minutes of the regional safeguarding board" in text_of(mixed, 2)
    assert "ymarferwyr yn cwrdd ger y dŵr" in text_of(mixed, 3)  # the Welsh data, ŵ and all
    assert "quarterly ledger" not in text_of(mixed, 1) + text_of(mixed, 3)


def test_only_text_read_by_ocr_is_marked_as_ocr(mixed):
    assert {s.page: s.ocr for s in mixed.sections} == {1: False, 2: True, 3: True}
    assert mixed.ocr_note is None  # every scanned page was read


def test_with_ocr_turned_off_a_scan_is_reported_as_having_no_text_layer():
    with pytest.raises(ExtractionError) as info:
        extract_document(SCAN, URL, ocr=OcrOptions(enabled=False))
    assert str(info.value) == "no text layer (scanned?); OCR is turned off (crawl.ocr = false)"
    typed_only = extract_document(MIXED, URL, ocr=OcrOptions(enabled=False))
    assert [s.page for s in typed_only.sections] == [1]
    assert typed_only.ocr_note == \
        "2 scanned pages not read: OCR is turned off (crawl.ocr = false)"


def test_without_tesseract_a_scan_fails_with_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine where tesseract is not installed
    with pytest.raises(ExtractionError) as info:
        extract_document(SCAN, URL)
    assert str(info.value) == \
        "no text layer (scanned?); OCR unavailable: tesseract not installed"


def test_a_scan_of_no_words_says_ocr_found_nothing_not_encrypted_or_headers():
    drawing = page_image([])
    ImageDraw.Draw(drawing).rectangle((300, 300, 1200, 900), outline=0, width=12)
    for pages in ([drawing], [page_image([])]):  # a box; a blank page
        with pytest.raises(ExtractionError) as info:
            extract_document(scanned_pdf(pages), URL)
        assert str(info.value) == "no text layer (scanned?) and OCR found nothing"


def test_pages_past_the_ocr_page_limit_are_left_unread_and_counted():
    doc = extract_document(scanned_pdf([ENGLISH_SCAN, WELSH_SCAN]), URL,
                           ocr=OcrOptions(max_pages=1))
    assert [(s.page, s.ocr) for s in doc.sections] == [(1, True)]
    assert doc.ocr_note == ("OCR stopped at the page limit (crawl.ocr_max_pages = 1) after "
                            "1 of 2 scanned pages; 1 not read")


def test_ocr_starts_no_page_after_the_parse_deadline():
    with pytest.raises(ExtractionError) as info:
        extract_document(SCAN, URL, deadline=time.monotonic())
    assert str(info.value) == ("no text layer (scanned?); OCR stopped at the time limit "
                               "(crawl.parse_timeout) after 0 of 1 scanned pages; 1 not read")


def test_a_long_scan_ends_inside_the_parse_timeout_with_what_it_read():
    long_scan = scanned_pdf([ENGLISH_SCAN] * 12)
    started = time.monotonic()
    try:
        doc = extract_isolated(long_scan, URL, timeout=3.0)
        said = doc.ocr_note or ""
    except ExtractionError as exc:
        said = str(exc)  # a slow machine may not finish even the first page
    assert time.monotonic() - started < 3.0 + 1.0
    assert "parse timed out" not in said
    assert "OCR stopped at the time limit (crawl.parse_timeout)" in said


def test_ocr_gets_only_what_is_left_of_the_parse_memory_limit():
    # 100 MB for the whole parse cannot also hold tesseract with its language data.
    with pytest.raises(ExtractionError) as info:
        extract_isolated(SCAN, URL, memory_bytes=100 * 1024 * 1024)
    assert "OCR stopped at the memory limit (crawl.parse_memory_mb)" in str(info.value)
