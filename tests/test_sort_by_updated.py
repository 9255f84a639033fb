"""Sort by date updated: each result says when its document was last updated (its own
metadata, else the server's Last-Modified), and staff can put the latest first.

A page's claim is an attack surface: one dated next year would sit first for ever."""

from __future__ import annotations

import dataclasses
import re
from email.utils import formatdate

import pytest
from conftest import BACKENDS
from sitekit import Page
from starlette.testclient import TestClient

from crawler.extract_html import extract_html
from crawler.run import run_crawl
from crawler.updated_date import from_http, from_pdf
from hubsearch.backends import open_backend
from hubsearch.settings import SearchSettings
from search_server import create_app

TEXT = ("The designated safeguarding person records the concern the same day and decides "
        "with the family support worker whether a referral is needed.")
# Last-Modified the loopback site sends unless a page says otherwise: 14 November 2023.
SITE_DATE = "2023-11-14"


def dated_page(title: str, modified: str | None) -> str:
    meta = (f'<meta property="article:modified_time" content="{modified}T09:30:00Z">'
            if modified else "")
    return (f"<!doctype html><html lang='en'><head><title>{title}</title>{meta}</head>"
            f"<body><main><h1>{title}</h1><p>{title} guidance. {TEXT}</p></main></body></html>")


@pytest.fixture(scope="module", params=BACKENDS)
def dated_hub(request, tmp_path_factory):
    """Five dated pages crawled and indexed once per backend (no synonyms); the tests only
    read them."""
    from conftest import settings_for
    from sitekit import ScriptedSite

    with ScriptedSite() as site:
        pages = {"/docs/older.html": ("Older", "2021-05-03"),
                 "/docs/newest.html": ("Newest", "2025-09-14"),
                 "/docs/middle.html": ("Middle", "2024-02-01"),
                 "/docs/claims-the-future.html": ("Future", "2099-01-01"),
                 "/docs/undated.html": ("Undated", None)}
        links = "".join(f'<li><a href="{path}">{t}</a></li>'
                        for path, (t, _) in pages.items())
        site.routes["/hub"] = Page(f"<html lang='en'><body><main><h1>Hub</h1><ul>{links}</ul>"
                                   "</main></body></html>")
        for path, (title, modified) in pages.items():
            site.routes[path] = Page(dated_page(title, modified))
        # No metadata and no Last-Modified either: nothing to sort it by.
        site.routes["/docs/undated.html"] = Page(dated_page("Undated", None), validators=False)
        settings = settings_for(tmp_path_factory.mktemp("dated"), f"{site.url}/hub")
        settings = dataclasses.replace(settings, search=SearchSettings(synonyms_path=None))
        if request.param == "opensearch":
            from opensearchkit import new_prefix, on_opensearch

            cluster = request.getfixturevalue("opensearch_cluster")
            settings = on_opensearch(settings, cluster.urls, new_prefix())
        run_crawl(settings)
        open_backend(settings).build()
        yield site, settings


def titles(hits) -> list[str]:
    return [h.title for h in hits]


def test_the_page_s_own_modified_date_is_read_and_the_future_refused():
    assert extract_html(dated_page("A", "2024-02-01"), "https://a.example/").updated_at \
        == "2024-02-01"
    assert extract_html(dated_page("A", "2099-01-01"), "https://a.example/").updated_at is None
    assert extract_html(dated_page("A", None), "https://a.example/").updated_at is None


def test_pdf_and_http_dates_are_read_and_nonsense_is_none():
    assert from_pdf({"ModDate": "D:20240305101500+01'00'"}) == "2024-03-05"
    assert from_pdf({"ModDate": "D:20241399"}) is None
    assert from_pdf({"ModDate": "D:99990101"}) is None
    assert from_pdf({}) is None
    assert from_http(formatdate(1_700_000_000, usegmt=True)) == SITE_DATE
    assert from_http("yesterday, probably") is None
    assert from_http("Sat, 01 Jan 2101 00:00:00 GMT") is None


def test_latest_updated_first_then_undated_last(dated_hub):
    _, settings = dated_hub
    searcher = open_backend(settings).searcher()
    page = searcher.search("designated safeguarding person", sort="updated", limit=20)
    # The page claiming 2099 falls back to the server's Last-Modified, like any other
    # page that gives no date of its own.
    assert titles(page.results) == ["Newest", "Middle", "Future", "Older", "Undated"]
    assert [h.updated for h in page.results] == [
        "2025-09-14", "2024-02-01", SITE_DATE, "2021-05-03", ""]
    assert page.sort == "updated" and page.to_dict()["sort"] == "updated"


def test_relevance_stays_the_default_and_counts_do_not_change(dated_hub):
    _, settings = dated_hub
    searcher = open_backend(settings).searcher()
    by_relevance = searcher.search("designated safeguarding person", limit=20)
    by_date = searcher.search("designated safeguarding person", sort="updated", limit=20)
    assert by_relevance.sort == "relevance"
    assert sorted(titles(by_relevance.results)) == sorted(titles(by_date.results))
    assert (by_relevance.total, by_relevance.total_passages) == \
        (by_date.total, by_date.total_passages)


def test_the_page_offers_both_orders_keeps_filters_and_shows_the_date(dated_hub):
    _, settings = dated_hub
    client = TestClient(create_app(settings))
    html = client.get("/", params={"q": "designated safeguarding person",
                                   "language": "en"}).text
    link = re.search(r'<a href="([^"]*sort=updated[^"]*)">date updated</a>', html)
    assert link and "language=en" in link.group(1)
    assert '<strong aria-current="true">relevance</strong>' in html
    by_date = client.get("/" + link.group(1).replace("&amp;", "&")).text
    assert '<strong aria-current="true">date updated</strong>' in by_date
    assert 'updated <time datetime="2025-09-14">14 September 2025</time>' in by_date
    assert by_date.index("Newest") < by_date.index("Older")
    assert 'name="sort" value="updated"' in by_date  # the filter form keeps the order
    welsh = client.get("/", params={"q": "designated safeguarding person", "ui": "cy",
                                    "sort": "updated"}).text
    assert "diweddarwyd <time" in welsh and "dyddiad diweddaru" in welsh


def test_an_unknown_order_is_a_one_line_400(dated_hub):
    _, settings = dated_hub
    client = TestClient(create_app(settings))
    response = client.get("/api/search", params={"q": "referral", "sort": "popularity"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == \
        "sort must be one of relevance, updated, or left out"
