"""HTML extraction: main content only, heading paths with anchors, links, language, canonical."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crawler.document import ExtractionError
from crawler.extract import extract_document
from crawler.extract_html import extract_html
from crawler.main_content import MainText

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


# A council-style page: the guidance sits in a plain <div>, not <main>, beside a sidebar of
# related links and reader comments, so only the main-content judge (trafilatura) can drop them.
NO_MAIN_PAGE = """<!DOCTYPE html>
<html lang="en"><head><title>Honour-based abuse | Example Council</title></head>
<body>
<div class="top"><a href="/">Example Council</a> <a href="/login">Sign in</a></div>
<div id="wrapper">
  <div class="content-area">
    <h1 id="hba">Honour-based abuse: a guide for practitioners</h1>
    <p>Honour-based abuse is a crime or incident committed to protect or defend the perceived
       honour of a family or community. It can include forced marriage, female genital
       mutilation and violence, and it often involves several perpetrators.</p>
    <p>Practitioners in health, education and social care are often the first to notice that
       something is wrong. This guide explains the warning signs and what to do next.</p>
    <h2 id="signs">Warning signs</h2>
    <p>A young person may be withdrawn from school, have their movements controlled by family
       members, or talk about a sudden trip abroad that they do not want to take.</p>
    <h3><a id="school"></a>Signs at school</h3>
    <p>Falling attendance, a sudden drop in performance and being escorted to and from school
       by relatives can all be signs. Read the <a href="/docs/school-signs.pdf">school
       checklist</a> before you speak to the pupil.</p>
    <h2 id="act">What to do</h2>
    <p>Never contact the family or attempt mediation: it can put the person at greater risk.
       Speak to the person alone and refer them to the specialist service straight away.</p>
  </div>
  <div class="sidebar">
    <h2 id="related">Related articles</h2>
    <ul>
      <li><a href="/news/1">Council wins award for bin collection</a></li>
      <li><a href="/news/2">New car park opens in the town centre</a></li>
      <li><a href="/news/3">Library opening hours change this winter</a></li>
    </ul>
  </div>
  <div id="comments" class="comments">
    <h3>Comments</h3>
    <div class="comment"><p>Great article, thanks so much for sharing this with everyone!</p></div>
    <div class="comment"><p>I have bookmarked this and will share it with my colleagues.</p></div>
  </div>
</div>
<footer><p>Example Council, Town Hall, High Street. All rights reserved.</p></footer>
</body></html>"""


@pytest.fixture(scope="module")
def no_main_doc():
    return extract_html(NO_MAIN_PAGE, "https://council.example.org/hba")


@pytest.mark.parametrize(
    "boilerplate", ["Sign in", "Related articles", "bin collection", "Great article", "bookmarked"]
)
def test_content_outside_main_drops_sidebar_and_comments(no_main_doc, boilerplate):
    text = all_text(no_main_doc) + " ".join(p for s in no_main_doc.sections for p in s.heading_path)
    assert boilerplate not in text


def test_content_outside_main_keeps_headings_with_their_anchors(no_main_doc):
    h1 = "Honour-based abuse: a guide for practitioners"
    assert no_main_doc.title == h1
    assert [(s.heading_path, s.anchor) for s in no_main_doc.sections] == [
        ([h1], "hba"),
        ([h1, "Warning signs"], "signs"),
        ([h1, "Warning signs", "Signs at school"], "school"),
        ([h1, "What to do"], "act"),
    ]
    assert "Never contact the family" in no_main_doc.sections[-1].text


def test_content_outside_main_links_come_from_the_guidance_only(no_main_doc):
    assert no_main_doc.links == ["https://council.example.org/docs/school-signs.pdf"]


def test_links_in_declared_main_are_kept_even_from_a_dropped_link_list(monkeypatch):
    # trafilatura drops link-dense lists as boilerplate (GOV.UK attachment lists, say), but a
    # hub's list of documents is exactly what the crawler must follow.
    intro = "These reports describe how the partnership kept adults at risk safe this year."
    verdict = MainText(["Reports", intro])
    monkeypatch.setattr("crawler.extract_html.main_text", lambda body: verdict)
    items = "".join(
        f'<li><a href="/docs/report-{n}.pdf">Annual report {n}</a> (PDF, 1MB)</li>'
        for n in range(3)
    )
    html = f"""<html><body><div class="promo"><a href="/offer">Offer</a></div><main>
    <h1>Reports</h1><p>{intro}</p><ul>{items}</ul></main></body></html>"""
    doc = extract_html(html, PAGE_URL)
    assert all_text(doc) == intro
    assert doc.links == [f"https://hub.example.org/docs/report-{n}.pdf" for n in range(3)]


def test_trafilatura_verdict_leaves_the_demo_style_page_exactly_as_the_main_element_does(
    doc, monkeypatch
):
    monkeypatch.setattr("crawler.extract_html.main_text", lambda body: None)
    assert extract_html(FIXTURE.read_bytes(), PAGE_URL).to_dict() == doc.to_dict()


def test_page_trafilatura_cannot_read_falls_back_to_the_main_element(monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr("crawler.main_content.bare_extraction", broken)
    html = "<html><body><nav>Menu</nav><main><h1 id='t'>Title</h1><p>Short.</p></main></body>"
    doc = extract_html(html, PAGE_URL)
    assert [(s.heading_path, s.anchor, s.text) for s in doc.sections] == [
        (["Title"], "t", "Short.")
    ]


def test_tiny_page_trafilatura_rejects_still_yields_its_text():
    doc = extract_document(b"<html><body><p>Call 999.</p></body></html>", PAGE_URL)
    assert all_text(doc) == "Call 999."


def test_long_container_whose_class_mentions_breadcrumb_is_content():
    para = "<p>" + "Guidance on keeping people safe from harm and abuse. " * 40 + "</p>"
    html = f'<html><body><article class="story url-breadcrumb"><h1>Safe</h1>{para}</article>'
    assert "keeping people safe" in all_text(extract_html(html, PAGE_URL))


def test_page_wrapped_in_a_form_keeps_its_content_and_drops_a_search_form():
    # ASP.NET pages put the whole page in one <form>; HTML cannot nest a second one in it.
    para = "<p>" + "Professionals should record concerns and share them promptly. " * 30 + "</p>"
    wrapped = f"<html><body><form action='/postback'><div id=page><h1>Record</h1>{para}</div>"
    assert "record concerns" in all_text(extract_html(wrapped + "</form>", PAGE_URL))
    search = f"<html><body><form action='/search'><label>Search this site</label></form>{para}"
    assert "Search this site" not in all_text(extract_html(search, PAGE_URL))


def test_main_text_matches_short_blocks_only_whole():
    kept = MainText(["Share", "Trafficking victims can be referred through the NRM."])
    assert kept.keeps("Share")
    assert kept.keeps("victims can be referred through")  # a long part of a kept block
    assert not kept.keeps("can be")  # too short to trust inside a longer block
    assert not kept.keeps("Related articles")


def test_extraction_makes_no_network_access():
    # Sockets are refused before anything is imported, so trafilatura's import and run are
    # both covered: it must only ever read the markup it is given.
    code = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise OSError('network access attempted')\n"
        "socket.socket.connect = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "socket.create_connection = refuse\n"
        "from crawler.extract_html import extract_html\n"
        f"doc = extract_html(open({str(FIXTURE)!r}, 'rb').read(), {PAGE_URL!r})\n"
        "assert doc.sections, doc\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
        cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_a_section_that_is_a_list_of_links_says_how_much_of_it_is_link_text():
    page = """<html><body><main>
      <h1>Supporting people at risk</h1>
      <h2>What to do</h2>
      <p>Talk to your safeguarding lead the same day, and write down what you saw and
         heard, in the person's own words where you can. See the
         <a href="/notify">duty to notify</a> for public authorities.</p>
      <h2>Guidance documents</h2>
      <p>The documents below are published by other organisations.</p>
      <ul>
        <li><a href="/a.pdf">The duty to notify: guidance for public authorities</a>
            (External link)</li>
        <li><a href="/b.pdf">Safeguarding children who may have been trafficked</a>
            (PDF, External link)</li>
        <li><a href="/c.pdf">Practice guidance for health staff</a> (External link)</li>
      </ul>
    </main></body></html>"""
    prose, links = extract_html(page, "https://hub.example.org/slavery").sections
    # A link in a sentence leaves it prose; a list of links with their labels is links.
    assert prose.heading_path[-1] == "What to do" and prose.link_share == 0
    assert links.heading_path[-1] == "Guidance documents" and links.link_share > 0.7
