"""Staying current cheaply: validators sent back, 304s cost nothing, and the index touches
only what changed."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from conftest import settings_for
from sitekit import Page, html_page

from crawler.run import run_crawl
from hubsearch.store import DocumentStore
from indexer.build import build_index
from indexer.search import PassageSearcher

WORDS = (
    "Practitioners should record what they saw and heard, in the words the person used, "
    "and share the record with the safeguarding lead the same day."
)


def _doc(title: str, extra: str = "") -> str:
    return html_page(title, [f"{title} explains one duty. {WORDS} {extra}"])


@pytest.fixture
def hub(scripted_site, tmp_path):
    site = scripted_site
    links = ["/docs/recording.html", "/docs/sharing.html", "/docs/escalation.html"]
    site.routes["/hub"] = Page(html_page("Hub", ["Guidance for professionals."], links))
    site.routes["/docs/recording.html"] = Page(_doc("Recording concerns"))
    site.routes["/docs/sharing.html"] = Page(_doc("Sharing information"))
    site.routes["/docs/escalation.html"] = Page(_doc("Escalating concerns"))
    return site, settings_for(tmp_path, f"{site.url}/hub")


def test_unchanged_recrawl_sends_validators_and_downloads_nothing(hub):
    site, settings = hub
    first = run_crawl(settings).run
    assert first.new == 4 and first.bytes > 0
    site.requests.clear()
    second = run_crawl(settings).run
    assert (second.fetched, second.unchanged, second.new, second.changed) == (4, 4, 0, 0)
    assert second.bytes == 0
    headers = site.requests_for("/docs/sharing.html")[0]
    assert headers.get("If-None-Match") and headers.get("If-Modified-Since")


def test_unchanged_recrawl_reindexes_nothing(hub):
    _, settings = hub
    run_crawl(settings)
    first = build_index(settings)
    run_crawl(settings)
    again = build_index(settings)
    assert again.mode == "unchanged" and again.passages_written == 0
    assert again.generation == first.generation


def test_same_body_without_validators_counts_as_unchanged(hub):
    site, settings = hub
    for page in site.routes.values():
        page.validators = False
    run_crawl(settings)
    build_index(settings)
    second = run_crawl(settings).run
    assert second.unchanged == 4 and second.bytes > 0
    assert build_index(settings).passages_written == 0


def test_changed_document_alone_is_reindexed(hub):
    site, settings = hub
    run_crawl(settings)
    build_index(settings)
    site.routes["/docs/sharing.html"] = Page(_doc("Sharing information", "Use secure email."))
    run = run_crawl(settings).run
    assert (run.changed, run.unchanged) == (1, 3)
    result = build_index(settings)
    assert result.mode == "incremental"
    assert result.changed == [f"{site.url}/docs/sharing.html"]
    assert not result.added and not result.removed
    hits = PassageSearcher(settings.storage.index_dir).search("secure email").results
    assert [h.document_url for h in hits] == [f"{site.url}/docs/sharing.html"]


def test_full_rebuild_matches_the_incremental_index(hub):
    site, settings = hub
    run_crawl(settings)
    build_index(settings)
    site.routes["/docs/sharing.html"] = Page(_doc("Sharing information", "Use secure email."))
    run_crawl(settings)
    incremental = build_index(settings)
    full = build_index(settings, full=True)
    assert full.mode == "full"
    assert (full.documents, full.passages) == (incremental.documents, incremental.passages)


def test_unchanged_hub_page_still_leads_to_its_documents(hub):
    site, settings = hub
    run_crawl(settings)
    site.requests.clear()
    run_crawl(settings)
    assert site.requests_for("/docs/escalation.html"), "a 304 hub page is followed from store"


def test_moved_document_is_indexed_once_under_its_final_url(hub):
    site, settings = hub
    site.routes["/hub"] = Page(html_page("Hub", ["Guidance."], [
        "/docs/recording.html", "/old/recording.html",
    ]))
    site.routes["/old/recording.html"] = Page(
        "", status=301, headers={"Location": "/docs/recording.html"}, validators=False
    )
    run_crawl(settings)
    result = build_index(settings)
    assert result.documents == 2  # the hub page and the one document
    hits = PassageSearcher(settings.storage.index_dir).search('"recording concerns"').results
    assert len({h.document_url for h in hits}) == 1


def test_canonical_link_is_honoured(hub):
    site, settings = hub
    canonical = f"{site.url}/docs/recording.html"
    page = _doc("Recording concerns").replace(
        "<head>", f'<head><link rel="canonical" href="{canonical}">'
    )
    site.routes["/hub"] = Page(html_page("Hub", ["Guidance."], [
        "/docs/recording.html", "/docs/recording.html?utm_source=newsletter",
    ]))
    site.routes["/docs/recording.html"] = Page(page)
    run_crawl(settings)
    build_index(settings)
    hits = PassageSearcher(settings.storage.index_dir).search('"recording concerns"').results
    assert {h.document_url for h in hits} == {canonical}
    assert len(hits) == 1


def test_crawl_runs_are_recorded_with_their_counts(hub):
    _, settings = hub
    run_crawl(settings)
    run_crawl(settings)
    with DocumentStore(settings.storage.store_path) as store:
        runs = store.runs()
    assert [r.new for r in runs] == [0, 4]
    assert all(r.finished_at and r.started_at <= r.finished_at for r in runs)


def test_report_runs_lists_the_history(hub):
    import subprocess
    import sys

    _, settings = hub
    run_crawl(settings)
    config = settings.storage.store_path.parent / "config.toml"
    config.write_text(
        "[crawl]\nallow_private_networks = true\n"
        "[storage]\nstore_path = 'hub.sqlite'\nindex_dir = 'index'\n"
        f"[[sources]]\nname = 'hub'\nurl = {json.dumps(settings.sources[0].url)}\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "hubsearch.cli", "report", "--runs", "--config", str(config)],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.strip().splitlines()) == 2  # header and one run
    assert urllib.parse.urlsplit(settings.sources[0].url).scheme == "http"
