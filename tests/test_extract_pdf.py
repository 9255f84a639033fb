"""PDF extraction: outline headings, page numbers, paragraph joining, and unreadable files."""

from __future__ import annotations

import pytest
from fpdf import FPDF
from scankit import TTF, new_pdf

from crawler.document import ExtractionError
from crawler.extract import extract_document
from crawler.extract_pdf import clean_pdf_text, extract_pdf
from crawler.ocr import OcrOptions

URL = "https://docs.example.org/files/referral-guide.pdf"


def _new_pdf(title: str | None = "Referral guide for practitioners") -> FPDF:
    pdf = new_pdf(11)
    if title:
        pdf.set_title(title)
    return pdf


def _para(pdf: FPDF, text: str) -> None:
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _heading(pdf: FPDF, text: str, level: int) -> None:
    pdf.start_section(text, level=level)
    _para(pdf, text)


@pytest.fixture(scope="module")
def outlined_pdf() -> bytes:
    pdf = _new_pdf()
    pdf.add_page()
    _para(pdf, "Referral guide for practitioners")
    _heading(pdf, "Part 1", 0)
    _heading(pdf, "Who this guide is for", 1)
    word = "\ufb01rst" if TTF.exists() else "first"
    _para(pdf, f"Read this guide before your {word} referral. It sets out the steps in order.")
    pdf.add_page()
    _para(pdf, "Further notes for readers carry on from the previous page here.")
    _heading(pdf, "Part 2", 0)
    _heading(pdf, "The National Referral Mechanism", 1)
    _para(pdf, "A first responder makes the referral with the consent of the adult concerned.")
    pdf.add_page()
    _para(pdf, "Decisions are usually made within a few weeks of the referral.")
    return bytes(pdf.output())


@pytest.fixture(scope="module")
def doc(outlined_pdf):
    return extract_pdf(outlined_pdf, URL)


def test_title_comes_from_pdf_metadata(doc):
    assert doc.title == "Referral guide for practitioners"
    assert doc.doc_type == "pdf"
    assert doc.language == "en"


def test_every_section_has_a_one_based_page(doc):
    assert {s.page for s in doc.sections} == {1, 2, 3}


def test_outline_gives_heading_paths_and_pages(doc):
    title = "Referral guide for practitioners"
    found = [(s.page, s.heading_path) for s in doc.sections]
    assert (1, [title, "Part 1", "Who this guide is for"]) in found
    assert (2, [title, "Part 2", "The National Referral Mechanism"]) in found


def test_text_before_a_pages_first_heading_continues_previous_heading(doc):
    carried = [s for s in doc.sections if s.text.startswith("Further notes")]
    assert len(carried) == 1
    assert carried[0].page == 2
    assert carried[0].heading_path[1:] == ["Part 1", "Who this guide is for"]
    last = doc.sections[-1]
    assert (last.page, last.heading_path[-1]) == (3, "The National Referral Mechanism")


def test_heading_lines_are_not_repeated_in_section_text(doc):
    nrm = next(s for s in doc.sections if s.heading_path[-1] == "The National Referral Mechanism")
    assert nrm.text.startswith("A first responder")


def test_ligatures_are_normalised(doc):
    intro = next(s for s in doc.sections if s.heading_path[-1] == "Who this guide is for")
    assert "your first referral" in intro.text
    assert "\ufb01" not in intro.text


def test_pdf_without_outline_gives_one_section_per_page():
    pdf = _new_pdf(title=None)
    for n in range(1, 3):
        pdf.add_page()
        _para(pdf, f"Page {n} of a leaflet about staying safe online.")
    doc = extract_pdf(bytes(pdf.output()), URL)
    assert [s.page for s in doc.sections] == [1, 2]
    assert doc.title == "Page 1 of a leaflet about staying safe online."
    assert all(s.heading_path == [doc.title] for s in doc.sections)


def test_a_line_repeated_alone_on_every_page_is_the_documents_text_not_a_running_header():
    pdf = _new_pdf(title=None)
    for _ in range(4):
        pdf.add_page()
        _para(pdf, "Notice of the annual meeting of the regional safeguarding board")
    doc = extract_pdf(bytes(pdf.output()), URL)
    assert [s.page for s in doc.sections] == [1, 2, 3, 4]
    assert {s.text for s in doc.sections} == {
        "Notice of the annual meeting of the regional safeguarding board"}


def test_a_running_header_leaves_pages_with_text_of_their_own_but_not_a_page_it_fills():
    pdf = _new_pdf(title=None)
    for body in ("Referrals go to the duty team on the same day.",
                 "The duty team records every referral it receives.",
                 "A manager reviews each record within a week.", None):
        pdf.add_page()
        _para(pdf, "Regional safeguarding board")
        if body:
            _para(pdf, body)
    doc = extract_pdf(bytes(pdf.output()), URL)
    texts = {s.page: s.text for s in doc.sections}
    assert texts[1] == "Referrals go to the duty team on the same day."
    assert texts[3] == "A manager reviews each record within a week."
    assert texts[4] == "Regional safeguarding board"


def test_normaliser_joins_hyphenated_breaks_and_keeps_paragraphs():
    raw = (
        "Victims of traffick-\r\ning may not see themselves\r\nas victims at \ufb01rst.\r\n"
        "\r\nA second paragraph starts after the blank line."
    )
    assert clean_pdf_text(raw) == (
        "Victims of trafficking may not see themselves as victims at first.\n\n"
        "A second paragraph starts after the blank line."
    )


def test_pdfium_line_end_hyphen_marker_is_joined():
    assert clean_pdf_text("exploit\ufffeation happens") == "exploitation happens"


def test_truncated_pdf_raises_extraction_error(outlined_pdf):
    with pytest.raises(ExtractionError, match="not a readable PDF"):
        extract_pdf(outlined_pdf[:300], URL)


def test_garbage_with_pdf_magic_raises_extraction_error():
    with pytest.raises(ExtractionError, match="not a readable PDF"):
        extract_document(b"%PDF-1.7\nthis is not really a pdf", URL)


def test_pdf_with_no_text_raises_extraction_error():
    pdf = _new_pdf()
    pdf.add_page()
    # With OCR (tests/test_extract_ocr.py) a blank page is "OCR found nothing".
    with pytest.raises(ExtractionError, match=r"^no text layer \(scanned\?\); OCR is turned off"):
        extract_pdf(bytes(pdf.output()), URL, ocr=OcrOptions(enabled=False))


def test_encrypted_pdf_raises_extraction_error():
    pdf = _new_pdf()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    _para(pdf, "Locked content.")
    with pytest.raises(ExtractionError, match="encrypted PDF"):
        extract_pdf(bytes(pdf.output()), URL)


def test_dispatch_sniffs_pdf_magic_and_uses_language_hint(outlined_pdf):
    doc = extract_document(
        outlined_pdf, "https://x.example/download?id=7", "text/plain", language_hint="cy"
    )
    assert (doc.doc_type, doc.language) == ("pdf", "cy")
