"""HTML extraction: main content only, heading paths with anchors, links, language, canonical."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.document import ExtractionError
from crawler.extract import extract_document
from crawler.extract_html import extract_html

FIXTURE = Path(__file__).parent / "fixtures" / "extract" / "guidance-page.html"
PAGE_URL = "https://hub.example.org/guidance/coercive-control"


@pytest.fixture(scope="module")
def doc():
    return extract_html(FIXTURE.read_bytes(), PAGE_URL)


def all_text(doc) -> str:
    return "\n".join(s.text for s in doc.sections)


def test_title_comes_from_the_first_h1(doc):
    assert doc.title == "Getting help after coercive control"


def test_title_falls_back_to_title_tag_without_site_suffix():
    html = "<html><head><title>Support lines | Example Hub</title></head><body><p>Hi</p></body>"
    assert extract_html(html, PAGE_URL).title == "Support lines"


@pytest.mark.parametrize(
    "boilerplate",
    [
        "window.analytics",  # script
        "remember your settings",  # cookie banner
        "Accept all",
        "Skip to main content",
        "Menu entry outside main",  # nav in header
        "Sidebar promotion",  # aside
        "Footer copyright",
        "Trail link inside main",  # breadcrumb
        "Hidden draft paragraph",
        "Share on Facebook",
        "Post on X",
    ],
)
def test_boilerplate_is_removed(doc, boilerplate):
    assert boilerplate not in all_text(doc)


def test_social_link_list_items_leave_no_empty_bullets(doc):
    assert not any(block.strip() == "-" for s in doc.sections for block in s.text.split("\n\n"))


def test_heading_paths_follow_h1_h2_h3_nesting(doc):
    paths = [s.heading_path for s in doc.sections]
    h1 = "Getting help after coercive control"
    assert paths == [
        [h1],
        [h1, "Recognising the pattern"],
        [h1, "Recognising the pattern", "Money and control"],
        [h1, "Recognising the pattern", "Talking to someone you trust"],
        [h1, "Contacts"],
    ]


def test_anchors_come_from_heading_inner_anchor_or_wrapping_section(doc):
    assert [s.anchor for s in doc.sections] == [
        "top",
        "recognise",
        "money-control",  # <a id> inside the heading
        "talking",  # <section id> wrapping the heading
        "contacts",
    ]


def test_text_keeps_blocks_apart_and_collapses_whitespace(doc):
    recognise = doc.sections[1].text
    assert "cutting off friends." in recognise
    assert "\n\n- Being watched or tracked\n\n- Being kept from family" in recognise
    assert "Service | Hours\n\nHelpline | Always open" in doc.sections[-1].text
    assert "  " not in all_text(doc)


def test_links_are_absolute_fragment_free_deduplicated_and_from_main_only(doc):
    assert doc.links == [
        "https://hub.example.org/signs.html",
        "https://example.org/leaflet.pdf",
    ]


def test_base_href_is_used_to_resolve_links():
    html = (
        '<html><head><base href="https://docs.example.net/a/"></head><body><main>'
        '<p>See <a href="b.pdf">this</a>.</p></main></body></html>'
    )
    assert extract_html(html, PAGE_URL).links == ["https://docs.example.net/a/b.pdf"]


def test_canonical_url_is_absolute(doc):
    assert doc.canonical_url == "https://hub.example.org/guidance/coercive-control"


def test_html_lang_region_is_reduced_to_language(doc):
    assert doc.language == "en"


def test_welsh_page_is_recorded_as_cy():
    html = """<html lang="cy"><body><main><h1 id="help">Cael help</h1>
    <p>Mae cymorth ar gael i chi bob amser.</p></main></body></html>"""
    doc = extract_html(html.encode(), "https://hub.example.org/cy/help")
    assert doc.language == "cy"
    assert doc.sections[0].anchor == "help"


def test_language_is_detected_when_html_has_no_lang():
    html = (
        "<html><body><p>Mae'r gwasanaeth yn cynnig cyngor i bobl sydd wedi dioddef "
        "camdriniaeth, ac mae ar agor drwy'r dydd.</p></body></html>"
    )
    assert extract_html(html, PAGE_URL).language == "cy"
    assert extract_html(html, PAGE_URL, language_hint="en").language == "en"


def test_text_is_nfkc_normalised_without_soft_hyphens_or_zero_width_chars():
    html = "<main><h1>Guide</h1><p>traf\u00adficking \ufb01nd zero\u200bwidth\u00a0gap</p></main>"
    assert extract_html(html, PAGE_URL).sections[0].text == "trafficking find zerowidth gap"


def test_text_before_first_heading_goes_under_the_title():
    html = (
        "<html><head><title>Intro page</title></head><body><p>Opening words.</p>"
        "<h2>Later</h2><p>More.</p></body></html>"
    )
    doc = extract_html(html, PAGE_URL)
    assert [(s.heading_path, s.text) for s in doc.sections] == [
        (["Intro page"], "Opening words."),
        (["Later"], "More."),
    ]


def test_dispatch_sniffs_html_markup_without_content_type():
    doc = extract_document(FIXTURE.read_bytes(), PAGE_URL)
    assert doc.doc_type == "html"


def test_dispatch_rejects_unsupported_content():
    with pytest.raises(ExtractionError, match="unsupported content type: image/png"):
        extract_document(b"\x89PNG\r\n", "https://x.example/a.png", "image/png")


def test_page_with_no_main_text_is_an_extraction_error():
    with pytest.raises(ExtractionError, match="no text"):
        extract_document(b"<html><body><nav>Only menu</nav></body></html>", PAGE_URL)
