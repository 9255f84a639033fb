"""Pages that lie about who they are or try to grow without bound, crawled for real.

A loopback hub links to a page claiming a gov.wales canonical URL (with a fake helpline),
a page claiming the URL of another page on the same host, and a page whose heading is a
megabyte long over forty sections. The store and the index must keep each page under the
URL it was fetched from, and at a size no real guidance needs.
"""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest
from conftest import settings_for
from sitekit import Page, ScriptedSite, html_page

from crawler.bounds import bound_document
from crawler.document import ExtractedDocument, Section
from crawler.run import run_crawl
from hubsearch.settings import Source
from hubsearch.store import DocumentStore
from indexer.build import build_index
from indexer.search import PassageSearcher

OFFICIAL = "https://www.gov.wales/modern-slavery-guidance-professionals"
FAKE = "Ring the zanzibar helpline on 0800 000 0000 to report slavery concerns at once."
TRUSTED = "Refer a potential victim through the national referral mechanism quokka route."
USERINFO = "Call the wombat line on 0800 111 1111, open day and night, for any concern."
IMPOSTOR = "Never refer anyone through the quokka route; tell nobody about your concerns."


def _with_canonical(title: str, text: str, canonical: str) -> str:
    page = html_page(title, [text])
    return page.replace("</head>", f'<link rel="canonical" href="{canonical}"></head>')


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("content")
    with ScriptedSite() as site:
        heading = "Safeguarding " * 80_000  # ~1 MB
        sections = "".join(f"<h2>{heading} {n}</h2><p>Section {n} about duty to notify.</p>"
                           for n in range(40))
        site.routes["/huge"] = Page(
            f"<html><head><title>{heading}</title></head><body><main><h1>{heading}</h1>"
            f"{sections}</main></body></html>")
        site.routes["/canon"] = Page(_with_canonical("Helpline", FAKE, OFFICIAL))
        site.routes["/trusted"] = Page(html_page("Referral guide", [TRUSTED]))
        site.routes["/canon2"] = Page(
            _with_canonical("Referral guide", IMPOSTOR, f"{site.url}/trusted"))
        # A user name that spells the official address, on the page's own host.
        spoof = f"https://www.gov.wales%2Fmodern-slavery-guidance@127.0.0.1:{site.port}/"
        site.routes["/userinfo"] = Page(_with_canonical("Wombat support", USERINFO, spoof))
        site.routes["/hub"] = Page(html_page(
            "Hub", ["Guidance for professionals."],
            ["/canon", "/trusted", "/canon2", "/huge", "/userinfo"]))
        settings = settings_for(tmp, f"{site.url}/hub")
        run_crawl(settings)
        build_index(settings)
        yield {"settings": settings, "url": site.url,
               "searcher": PassageSearcher(settings.storage.index_dir)}


def test_page_claiming_an_official_url_is_served_under_its_own_url(hostile):
    page = hostile["searcher"].search("zanzibar helpline")
    assert page.results, "the page's own text is still searchable"
    for hit in page.results:
        assert hit.document_url == f"{hostile['url']}/canon"
        assert "gov.wales" not in hit.deep_link and "gov.wales" not in hit.document_url


def test_canonical_whose_user_name_spells_an_official_url_is_ignored(hostile):
    page = hostile["searcher"].search("wombat line")
    assert page.results
    assert all(hit.document_url == f"{hostile['url']}/userinfo" for hit in page.results)


def test_foreign_canonical_is_recorded_as_ignored(hostile):
    with DocumentStore(hostile["settings"].storage.store_path) as store:
        doc = store.get(f"{hostile['url']}/canon").document
    assert doc.canonical_url is None and doc.ignored_canonical_url == OFFICIAL


def test_page_claiming_another_pages_url_on_the_same_host_does_not_replace_it(hostile):
    page = hostile["searcher"].search("quokka route")
    trusted = [hit for hit in page.results if hit.document_url == f"{hostile['url']}/trusted"]
    assert trusted and all("national referral mechanism" in hit.snippet_text.lower()
                           or "quokka" in hit.snippet_text.lower() for hit in trusted)
    assert not any("never refer anyone" in hit.snippet_text.lower() for hit in page.results)


def test_megabyte_heading_makes_a_small_store_row(hostile):
    db = sqlite3.connect(hostile["settings"].storage.store_path)
    try:
        size, title = db.execute("SELECT length(document), title FROM documents WHERE url = ?",
                                 (f"{hostile['url']}/huge",)).fetchone()
    finally:
        db.close()
    assert size < 150_000, size  # it was 41 MB before the bounds
    assert len(title) <= 300


def test_megabyte_heading_gives_a_small_search_response(hostile):
    page = hostile["searcher"].search("duty to notify", limit=50)
    assert page.results
    body = str(page.to_dict())
    assert len(body) < 200_000, len(body)


def test_a_source_that_cannot_be_requested_fails_alone(tmp_path):
    with ScriptedSite() as site:
        site.routes["/hub"] = Page(html_page("Hub", ["Guidance that must still be crawled."]))
        base = settings_for(tmp_path, f"{site.url}/hub")
        settings = dataclasses.replace(base, sources=(
            Source(name="bad-port", url="http://127.0.0.1:99999/"),
            Source(name="bad-port-text", url="http://127.0.0.1:abc/"),
            Source(name="good", url=f"{site.url}/hub"),
        ))
        summary = run_crawl(settings)
    assert summary.run.failed == 2 and summary.run.fetched == 1
    with DocumentStore(settings.storage.store_path) as store:
        bad = store.get("http://127.0.0.1:99999/")
        good = store.get(f"{site.url}/hub")
    assert bad.error.startswith("cannot request this URL: Port out of range")
    assert good.document is not None


@pytest.mark.parametrize("stored", ["0.9", -1, 7, True, None, float("nan")])
def test_a_stored_link_share_that_is_not_a_share_is_read_as_prose(stored):
    # The store is read back from JSON: a tampered or garbled value must not rank a passage
    # down (or raise) at indexing time.
    doc = ExtractedDocument(title="t", doc_type="html", language="en",
                            sections=[Section(["t"], "Some prose.", link_share=stored)])
    assert bound_document(doc).sections[0].link_share == 0.0
