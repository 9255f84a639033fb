"""The staff search page in a real browser: Debian's Chromium driven by Playwright, with an
axe-core accessibility check (tests/browserkit.py)."""

from __future__ import annotations

import re

import pytest
from browserkit import axe_violations, needs_browser, search

pytestmark = needs_browser


@pytest.fixture
def page(browser):
    # bypass_csp lets the test inject axe-core; the served page keeps its strict CSP.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def test_search_shows_the_nrm_passage_first_and_a_screenshot_is_saved(page, live_server,
                                                                       tmp_path):
    search(page, live_server.url, "national referral mechanism")
    first = page.locator("ol.results > li").first
    assert "The National Referral Mechanism" in first.locator("h3").inner_text()
    assert "page 3" in first.inner_text()
    assert first.locator("mark").count() > 0
    assert first.locator("h3 a").get_attribute("href").endswith("#page=3")
    shot = tmp_path / "results.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_search_works_from_the_keyboard_alone(page, live_server):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")  # skip the header's links
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("duty to notify")
    page.keyboard.press("Enter")
    page.wait_for_selector("ol.results")
    assert "duty to notify" in page.locator("ol.results > li h3").first.inner_text().lower()


def test_paging_moves_to_the_next_results(page, live_server):
    search(page, live_server.url, "safeguarding")
    first_page = page.locator("ol.results > li h3").all_inner_texts()
    page.get_by_role("link", name="Next").click()
    page.wait_for_selector("ol.results")
    assert page.locator("ol.results").get_attribute("start") == "11"
    assert page.locator("ol.results > li h3").all_inner_texts() != first_page


def test_following_a_result_opens_the_exact_section(page, live_server):
    search(page, live_server.url, "duty to notify")
    link = page.locator("ol.results > li h3 a").first
    href = link.get_attribute("href")
    link.click()
    page.wait_for_load_state()
    assert page.url == href
    anchor = href.split("#", 1)[1]
    assert page.locator(f"[id='{anchor}']").is_visible()


def test_search_and_results_pages_have_no_serious_accessibility_violations(page, live_server):
    page.goto(live_server.url + "/")
    assert axe_violations(page) == []
    search(page, live_server.url, "national referral mechanism")
    assert axe_violations(page) == []


def test_filtering_by_document_type_keeps_only_pdfs(page, live_server):
    search(page, live_server.url, "safeguarding")
    types = page.locator("ol.results .meta").all_inner_texts()
    assert any(not t.startswith("PDF") for t in types), "the unfiltered list mixes types"
    page.get_by_role("group", name="Document type").get_by_label(re.compile(r"^PDF")).check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_selector("ol.results")
    assert "doc_type=pdf" in page.url
    types = page.locator("ol.results .meta").all_inner_texts()
    assert types and all(t.startswith("PDF ·") for t in types)
    assert page.get_by_role("group", name="Document type").get_by_label(
        re.compile(r"^PDF")).is_checked()


def test_the_welsh_interface_searches_pages_and_switches_back(page, live_server):
    page.goto(live_server.url + "/?ui=cy")
    assert page.locator("html").get_attribute("lang") == "cy"
    page.get_by_label("Chwilio'r canllawiau").fill("caethwasiaeth fodern")
    page.get_by_role("button", name="Chwilio", exact=True).click()
    page.wait_for_selector("ol.results")
    assert page.locator("#results-heading").inner_text().startswith("Canfuwyd")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Nesaf").click()
    page.wait_for_selector("ol.results")
    assert "ui=cy" in page.url and page.locator("ol.results").get_attribute("start") == "11"
    page.get_by_role("link", name="English").click()
    page.wait_for_selector("ol.results")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_label("Search the guidance").input_value() == "caethwasiaeth fodern"
    assert page.locator("ol.results").get_attribute("start") == "11"


def test_status_page_shows_what_needs_attention_without_accessibility_violations(
        page, live_server, live_maintainer):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name=re.compile("Index and source status")).click()
    # Maintainers only: the link leads through the sign-in form and back.
    page.get_by_label("Name").fill(live_maintainer[0])
    page.get_by_label("Password").fill(live_maintainer[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#attention-heading")
    # The demo hub links one missing PDF and one permanently moved one.
    rows = page.locator("table.attention tbody tr").all_inner_texts()
    assert any("Failed" in r and "404" in r for r in rows)
    assert any("moved permanently" in r for r in rows)
    assert axe_violations(page) == []
    page.get_by_role("link", name="Cymraeg").click()
    page.wait_for_selector("#attention-heading")
    assert page.locator("h1").inner_text() == "Statws y mynegai a'r ffynonellau"
    assert axe_violations(page) == []
    page.get_by_role("link", name="Yn ôl i'r chwiliad").click()
    assert page.get_by_label("Chwilio'r canllawiau").is_visible()
