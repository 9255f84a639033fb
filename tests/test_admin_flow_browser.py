"""The whole maintainers' flow in a real browser, by keyboard alone, each page checked with
axe-core: sign in, preview a new hub page, add it, crawl it now to completion, find its
guidance in the staff search, remove it. A server of its own, over a config file in a
temporary directory (the forms edit that file)."""

from __future__ import annotations

import pytest
from browserkit import LAPTOP, axe_violations, needs_browser, tab_to
from conftest import MAINTAINER, LiveServer, add_maintainer
from sitekit import Page, ScriptedSite, html_page

from hubsearch.settings import load_settings
from search_server import create_app

pytestmark = [needs_browser, pytest.mark.slow]

TEXT = ("Pharmacists who notice a customer collecting for several unrelated adults record "
        "it and call the safeguarding lead before the end of the day.")


@pytest.fixture
def flow(tmp_path):
    with ScriptedSite() as site:
        site.routes["/pharmacy-hub"] = Page(html_page(
            "Pharmacy safeguarding", ["Guidance for community pharmacy teams."],
            ["/docs/collecting.html", "/images/logo.png"]))
        site.routes["/docs/collecting.html"] = Page(html_page("Collecting for others", [TEXT]))
        config = tmp_path / "config.toml"
        config.write_text(
            "# The test hub's config: the browser's forms edit this file.\n"
            "[crawl]\nallow_private_networks = true\ndownload_delay = 0\nretry_times = 0\n"
            '[storage]\nstore_path = "hub.sqlite"\nindex_dir = "index"\n')
        settings = load_settings(config)
        add_maintainer(settings)
        with LiveServer(create_app(settings)) as live:
            yield live, site, config


def test_sign_in_preview_add_crawl_search_and_remove_by_keyboard(open_page, flow):
    live, site, config = flow
    page = open_page(LAPTOP)
    page.goto(live.url + "/admin/sources")

    tab_to(page, "Name", prefix=True)
    page.keyboard.type(MAINTAINER[0])
    tab_to(page, "Password", prefix=True)
    page.keyboard.type(MAINTAINER[1])
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text('Sources')")
    assert axe_violations(page) == []

    tab_to(page, "Address of the hub page", prefix=True)
    page.keyboard.type(f"{site.url}/pharmacy-hub")
    tab_to(page, "Preview what it would add", prefix=True)
    page.keyboard.press("Enter")
    page.wait_for_selector("#preview-heading")
    preview = page.locator(".preview").inner_text()
    assert "1 document to fetch, 1 link skipped" in preview
    assert "collecting.html" in preview and "not a document type" in preview
    assert axe_violations(page) == []

    tab_to(page, "Short name", prefix=True)
    page.keyboard.type("pharmacy")
    tab_to(page, "Title staff read (English)", prefix=True)
    page.keyboard.type("Pharmacy safeguarding")
    tab_to(page, "Add the source", prefix=True)
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Added pharmacy.")
    assert 'name = "pharmacy"' in config.read_text()
    assert config.read_text().startswith("# The test hub's config")

    tab_to(page, "Crawl now", prefix=True)
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text('Crawl now')")
    tab_to(page, "Which sources", prefix=True)
    page.keyboard.press("End")  # the last option: the new source
    tab_to(page, "Crawl now", prefix=True)  # the button
    page.keyboard.press("Enter")
    # Scripts poll while it runs and reload the page when it ends.
    page.wait_for_selector("[data-crawl-field=state]:text('succeeded')", timeout=120_000)
    assert axe_violations(page) == []

    page.goto(live.url + "/")
    page.get_by_label("Search the guidance").focus()
    page.keyboard.type("collecting for several adults")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results-heading")
    first = page.locator("ol.results > li").first.inner_text()
    assert "Collecting for others" in first and "Pharmacy safeguarding" in first

    page.goto(live.url + "/admin/sources")
    tab_to(page, "Remove", prefix=True)
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text('Remove Pharmacy safeguarding?')")
    assert axe_violations(page) == []
    tab_to(page, "Remove the source", prefix=True)
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Removed pharmacy")
    assert "pharmacy" not in config.read_text()

    page.goto(live.url + "/admin/audit")
    log = page.locator("table").inner_text()
    for action in ("signed in", "source added", "crawl started", "source removed"):
        assert action in log
