"""The answer on the first screen: after a search the first passage's text is visible
without scrolling on a phone (390x844) and a laptop (1366x768); the filters fold behind one
line on a phone and sit beside the results on a laptop; no page is wider than a 320 px
screen; the notice of where to get help at once is on every page, in both languages.
Checked in Chromium on the demo hub's index (tests/browserkit.py)."""

from __future__ import annotations

import json
import urllib.request

import pytest
from browserkit import LAPTOP, NARROWEST, PHONE, axe_violations, needs_browser

pytestmark = needs_browser

QUESTION = "duty to notify"
FACET_NAMES = {"source": "Source", "doc_type": "Document type", "language": "Language",
               "audience": "Audience"}


def _results(page, base: str, words: str = QUESTION) -> None:
    page.goto(base + "/?q=" + words.replace(" ", "+"))
    page.wait_for_selector("ol.results > li")


def _first_passage_visible_lines(page, viewport: dict[str, int]) -> float:
    """How many lines of the first result's passage text show above the fold."""
    box = page.locator("ol.results > li .snippet").first.bounding_box()
    line = float(page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.snippet')).lineHeight)"))
    return (viewport["height"] - box["y"]) / line


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_the_first_passage_is_read_without_scrolling(open_page, live_server, viewport):
    page = open_page(viewport)
    _results(page, live_server.url)
    assert page.evaluate("window.scrollY") == 0
    assert _first_passage_visible_lines(page, viewport) >= 3, "three lines of the answer show"
    assert axe_violations(page) == []


def test_on_a_phone_the_filters_fold_behind_one_line_that_opens_them(open_page, live_server):
    page = open_page(PHONE)
    _results(page, live_server.url)
    panel = page.locator("details.filter-panel")
    assert panel.get_attribute("open") is None
    assert not page.get_by_role("group", name="Document type").is_visible()
    summary = panel.locator("summary")
    assert summary.bounding_box()["height"] < 60
    summary.click()
    assert page.get_by_role("group", name="Document type").is_visible()


def test_on_a_laptop_the_filters_sit_open_beside_the_results(open_page, live_server):
    page = open_page(LAPTOP)
    _results(page, live_server.url)
    group = page.get_by_role("group", name="Document type")
    assert group.is_visible()
    results = page.locator("ol.results").bounding_box()
    filters = page.locator("details.filter-panel").bounding_box()
    assert filters["x"] >= results["x"] + results["width"], "beside, not above"
    assert filters["y"] < LAPTOP["height"]


def test_without_scripts_the_folded_filters_still_open_and_apply(open_page, live_server):
    page = open_page(LAPTOP, javascript=False)
    _results(page, live_server.url, "safeguarding")
    page.locator("details.filter-panel summary").click()
    group = page.get_by_role("group", name="Document type")
    group.get_by_label("PDF", exact=False).check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_selector("ol.results")
    assert "doc_type=pdf" in page.url
    # Applied filters come back open, with their count in the summary.
    assert page.locator("details.filter-panel").get_attribute("open") is not None
    assert "1 applied" in page.locator("details.filter-panel summary").inner_text()


def test_a_filter_with_one_value_is_not_offered(open_page, live_server):
    with urllib.request.urlopen(f"{live_server.url}/api/search?q=safeguarding", timeout=10) as r:
        facets = json.loads(r.read())["facets"]
    single = [name for name, counts in facets.items() if len(counts) == 1]
    several = [name for name, counts in facets.items() if len(counts) > 1]
    assert single and several, "the question has facets of both kinds"
    page = open_page(LAPTOP)
    _results(page, live_server.url, "safeguarding")
    for name in several:
        assert page.get_by_role("group", name=FACET_NAMES[name]).is_visible()
    for name in single:
        assert page.get_by_role("group", name=FACET_NAMES[name]).count() == 0


@pytest.mark.parametrize("path", ["/", f"/?q={QUESTION}", "/?q=zzqx+wibble", "/status",
                                  "/status?ui=cy"])
def test_no_page_is_wider_than_a_320_pixel_screen(open_page, live_server, path):
    page = open_page(NARROWEST)
    page.goto(live_server.url + path)
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROWEST["width"]
    assert axe_violations(page) == []


def test_every_page_says_where_to_get_help_at_once_in_both_languages(open_page, live_server):
    page = open_page(PHONE)
    for path in ("/", f"/?q={QUESTION}", "/status"):
        page.goto(live_server.url + path)
        notice = page.locator(".urgent-help")
        assert "999" in notice.inner_text() and "0808 80 10 800" in notice.inner_text()
        assert notice.bounding_box()["y"] < 150, "at the top, not below the results"
    page.goto(live_server.url + "/?ui=cy")
    assert "ffoniwch 999" in page.locator(".urgent-help").inner_text()


def test_results_name_their_source_by_its_title_not_its_config_name(open_page, live_server):
    page = open_page(LAPTOP)
    _results(page, live_server.url)
    meta = page.locator("ol.results .meta").first.inner_text()
    assert "Demo hub: supporting people at risk of slavery" in meta
    assert "demo-slavery-en" not in page.locator("main").inner_text()


def test_a_search_that_finds_nothing_says_what_was_tried_and_where_to_go(open_page,
                                                                        live_server):
    page = open_page(PHONE)
    page.goto(live_server.url + "/?q=zzqx+wibblewobble")
    assert page.locator("#results-heading").inner_text() == "No passages found"
    help_text = page.locator(".no-results").inner_text()
    assert "all of your words, then for passages with any of them" in help_text
    assert "fewer words" in help_text and "spelling" in help_text
    hubs = page.locator(".hub-pages a")
    assert hubs.count() == 2
    assert hubs.first.inner_text() == "Demo hub: supporting people at risk of slavery"
    assert "999" in page.locator(".urgent-help").inner_text()
    assert axe_violations(page) == []
    page.goto(live_server.url + "/?q=zzqx+wibblewobble&ui=cy")
    assert "Chwiliwyd am ddarnau" in page.locator(".no-results").inner_text()


def test_when_filters_hide_every_result_one_link_searches_without_them(open_page,
                                                                      live_server):
    page = open_page(PHONE)
    page.goto(live_server.url + f"/?q={QUESTION}&doc_type=docx")
    assert page.locator("#results-heading").inner_text() == "No passages found"
    page.get_by_role("link", name="Search again without filters").click()
    page.wait_for_selector("ol.results > li")
    assert "doc_type" not in page.url and "duty+to+notify" in page.url


def test_clear_filters_clears_them(open_page, live_server):
    page = open_page(LAPTOP)
    page.goto(live_server.url + f"/?q={QUESTION}&doc_type=pdf")
    page.wait_for_selector("ol.results > li")
    page.get_by_role("link", name="Clear filters").click()
    page.wait_for_selector("ol.results > li")
    assert "doc_type" not in page.url
    assert page.locator("ol.results > li").count() > 1


def test_each_result_offers_its_citation_for_a_case_note(open_page, live_server):
    page = open_page(LAPTOP)
    _results(page, live_server.url)
    first = page.locator("ol.results > li").first
    cite = first.locator("details.cite")
    assert not cite.locator(".citation").is_visible(), "folded to one line"
    cite.locator("summary").click()
    text = cite.locator(".citation").inner_text()
    title = first.locator(".where").inner_text().split(" › ")[0].strip()
    link = first.locator("h3 a").get_attribute("href")
    assert text.startswith(title) and link in text and "checked" in text
    assert axe_violations(page) == []


def test_the_copy_button_puts_the_citation_on_the_clipboard(browser, live_server):
    context = browser.new_context(viewport=LAPTOP,
                                  permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        _results(page, live_server.url)
        cite = page.locator("ol.results > li details.cite").first
        cite.locator("summary").click()
        cite.get_by_role("button", name="Copy citation").click()
        page.wait_for_function("document.querySelector('.copied').textContent === 'Copied'")
        assert page.evaluate("navigator.clipboard.readText()") == \
            cite.locator(".citation").text_content()
    finally:
        context.close()


def test_without_scripts_the_citation_is_there_to_select(open_page, live_server):
    page = open_page(PHONE, javascript=False)
    _results(page, live_server.url)
    cite = page.locator("ol.results > li details.cite").first
    cite.locator("summary").click()
    assert "checked" in cite.locator(".citation").inner_text()
    assert cite.get_by_role("button").count() == 0
