"""Scanned PDFs: pages with no text layer are read by OCR (Tesseract), on their own page
numbers, marked as OCR; OCR stays inside the parse's page, time and memory bounds; and a PDF
that still gives no text says which of the reasons it was."""

from __future__ import annotations

import re
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
    try:
        doc = extract_isolated(long_scan, URL, timeout=3.0)
        said = doc.ocr_note or ""
    except ExtractionError as exc:
        said = str(exc)  # a slow machine may not finish even the first page
    # Not "parse timed out": the parser answered before its timeout, with a reason.
    assert "parse timed out" not in said
    assert "OCR stopped at the time limit (crawl.parse_timeout)" in said


def test_ocr_gets_only_what_is_left_of_the_parse_memory_limit():
    # 100 MB for the whole parse cannot also hold tesseract with its language data.
    with pytest.raises(ExtractionError) as info:
        extract_isolated(SCAN, URL, memory_bytes=100 * 1024 * 1024)
    assert "OCR stopped at the memory limit (crawl.parse_memory_mb)" in str(info.value)


# --- The whole path: a hub links a part-scanned PDF and a scan; crawl, index, search. -------


@pytest.fixture(scope="module")
def scanned_hub(tmp_path_factory):
    from conftest import settings_for
    from sitekit import Page, ScriptedSite

    def hub(*paths: str) -> Page:
        links = "".join(f"<li><a href='{path}'>{path}</a></li>" for path in paths)
        return Page(f"<html lang='en'><body><main><h1>Board papers</h1><ul>{links}</ul>"
                    "</main></body></html>")

    def crawled(name: str, **crawl: object):
        from crawler.run import run_crawl

        settings = settings_for(tmp_path_factory.mktemp(name), f"{site.url}/hub", **crawl)
        run_crawl(settings)
        return settings

    with ScriptedSite() as site:
        site.routes["/files/minutes.pdf"] = Page(MIXED, content_type="application/pdf")
        site.routes["/files/scan.pdf"] = Page(SCAN, content_type="application/pdf")
        site.routes["/hub"] = hub("/files/minutes.pdf")
        with_ocr = crawled("ocr")
        site.routes["/hub"] = hub("/files/minutes.pdf", "/files/scan.pdf")
        yield site, with_ocr, crawled("no-ocr", ocr=False)


def stored(settings, path: str):
    from hubsearch.store import DocumentStore

    with DocumentStore(settings.storage.store_path) as store:
        return next(d for d in store.all() if d.url.endswith(path))


@pytest.mark.slow
def test_scanned_words_are_found_on_their_page_and_marked_as_ocr(scanned_hub):
    from starlette.testclient import TestClient

    from indexer.build import build_index
    from search_server import create_app

    site, settings, _ = scanned_hub
    build_index(settings)
    client = TestClient(create_app(settings))
    hits = client.get("/api/search", params={"q": "quarterly ledger"}).json()["results"]
    minutes = next(h for h in hits if h["document_url"].endswith("/files/minutes.pdf"))
    assert (minutes["page"], minutes["ocr"]) == (2, True)
    assert minutes["deep_link"] == f"{site.url}/files/minutes.pdf#page=2"
    typed = client.get("/api/search", params={"q": "referral steps"}).json()["results"][0]
    assert (typed["page"], typed["ocr"]) == (1, False)

    # A result read by OCR says so, before its words; the typed page's result does not.
    marker = ('<p class="ocr">Text read by OCR from a scan: it may contain errors.</p>\n'
              '          <p class="snippet">')
    html = client.get("/", params={"q": "concern raised"}).text
    results = html.split('<li class="result')[1:]
    pages = [re.search(r'minutes\.pdf#page=(\d)"', r).group(1) for r in results]
    assert pages[0] == "1" and "2" in pages
    assert [marker in r for r in results] == [page != "1" for page in pages]
    welsh = client.get("/", params={"q": "quarterly ledger", "ui": "cy"}).text
    assert "Testun a ddarllenwyd gan OCR o sgan" in welsh


@pytest.mark.slow
def test_with_ocr_off_the_crawl_records_the_scan_as_having_no_text_layer(scanned_hub):
    _, _, without = scanned_hub
    scan = stored(without, "/files/scan.pdf")
    assert scan.error == "no text layer (scanned?); OCR is turned off (crawl.ocr = false)"
    minutes = stored(without, "/files/minutes.pdf")
    assert minutes.error is None
    assert [s.page for s in minutes.document.sections] == [1]
    assert minutes.document.ocr_note == \
        "2 scanned pages not read: OCR is turned off (crawl.ocr = false)"
