"""Documents disappear: 410 drops at once, 404 only after N crawls in a row, transient
failures never drop the last good copy, and a bad night does not switch in a thin index."""

from __future__ import annotations

import pytest
from conftest import settings_for
from sitekit import Page, html_page

from crawler.run import run_crawl
from hubsearch.report import build_report
from hubsearch.status_snapshot import read_status
from hubsearch.store import DocumentStore
from indexer.build import IndexBuildError, build_index
from indexer.search import PassageSearcher

TEXT = (
    "When a young person goes missing from care more than once, the social worker arranges "
    "a return conversation within three days and shares what was learnt with the police."
)
DOCS = [f"/docs/{n}.html" for n in ("returns", "missing", "police", "schools")]


@pytest.fixture
def hub(scripted_site, tmp_path):
    site = scripted_site
    site.routes["/hub"] = Page(html_page("Hub", ["Guidance for professionals."], DOCS))
    for path in DOCS:
        name = path.split("/")[-1].split(".")[0]
        site.routes[path] = Page(html_page(f"Guide to {name}", [f"{name.title()}: {TEXT}"]))
    settings = settings_for(tmp_path, f"{site.url}/hub", gone_after_failures=2)
    run_crawl(settings)
    build_index(settings)
    return site, settings


def _state(settings, url):
    with DocumentStore(settings.storage.store_path) as store:
        return store.get(url)


def _found(settings, url: str) -> bool:
    """Is the document at url searchable? (Every guide mentions a return conversation.)"""
    page = PassageSearcher(settings.storage.index_dir).search("return conversation", limit=50)
    return url in {h.document_url for h in page.results}


def test_410_removes_document_at_once(hub):
    site, settings = hub
    site.routes["/docs/returns.html"] = Page("gone", status=410, content_type="text/plain")
    run = run_crawl(settings).run
    assert run.gone == 1
    assert _state(settings, f"{site.url}/docs/returns.html").state == "gone"
    result = build_index(settings)
    assert result.removed == [f"{site.url}/docs/returns.html"]
    assert not _found(settings, f"{site.url}/docs/returns.html")


def test_404_removes_document_only_after_two_crawls_in_a_row(hub):
    site, settings = hub
    url = f"{site.url}/docs/missing.html"
    site.routes["/docs/missing.html"] = Page("no", status=404, content_type="text/plain")
    run_crawl(settings)
    doc = _state(settings, url)
    assert (doc.state, doc.consecutive_failures) == ("stale", 1)
    build_index(settings)
    assert _found(settings, url), "one 404 is not enough to drop a document"
    run_crawl(settings)
    assert _state(settings, url).state == "gone"
    build_index(settings)
    assert not _found(settings, url)


def test_a_404_then_a_recovery_resets_the_count(hub):
    site, settings = hub
    url = f"{site.url}/docs/missing.html"
    good = site.routes["/docs/missing.html"]
    site.routes["/docs/missing.html"] = Page("no", status=404, content_type="text/plain")
    run_crawl(settings)
    site.routes["/docs/missing.html"] = good
    run_crawl(settings)
    doc = _state(settings, url)
    assert (doc.state, doc.consecutive_failures, doc.error) == ("ok", 0, None)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_keep_the_last_good_copy_searchable_and_stale(hub, status):
    site, settings = hub
    url = f"{site.url}/docs/police.html"
    for _ in range(3):
        site.routes["/docs/police.html"] = Page("down", status=status, content_type="text/plain")
        run_crawl(settings)
    doc = _state(settings, url)
    assert doc.state == "stale" and doc.consecutive_failures == 3
    assert doc.document is not None and doc.error.startswith(f"HTTP {status}")
    build_index(settings)
    assert _found(settings, url)


def test_document_no_longer_linked_from_the_hub_is_dropped(hub):
    site, settings = hub
    site.routes["/hub"] = Page(html_page("Hub", ["Guidance for professionals."], DOCS[:-1]))
    run = run_crawl(settings).run
    assert run.gone == 1
    assert _state(settings, f"{site.url}/docs/schools.html").state == "gone"


def test_nothing_is_dropped_when_the_hub_page_itself_fails(hub):
    site, settings = hub
    site.routes["/hub"] = Page("down", status=503, content_type="text/plain")
    run_crawl(settings)
    with DocumentStore(settings.storage.store_path) as store:
        assert {d.state for d in store.all() if not d.is_source} == {"ok"}


def test_quality_gate_keeps_the_previous_index_when_too_many_failed(hub):
    site, settings = hub
    before = PassageSearcher(settings.storage.index_dir).generation()
    for path in DOCS[:2]:
        site.routes[path] = Page("down", status=500, content_type="text/plain")
    site.routes["/hub"] = Page(html_page("Hub v2", ["Guidance, revised."], DOCS))
    run_crawl(settings)  # 2 of 5 failed: 40% > 30%
    with pytest.raises(IndexBuildError, match="quality gate: 40%"):
        build_index(settings)
    assert PassageSearcher(settings.storage.index_dir).generation() == before
    status = read_status(settings.storage.index_dir)["index"]
    assert status["switched"] is False and "quality gate" in status["reason"]


def test_report_lists_sources_and_documents_needing_attention(hub):
    site, settings = hub
    site.routes["/docs/police.html"] = Page("down", status=503, content_type="text/plain")
    site.routes["/docs/returns.html"] = Page("gone", status=410, content_type="text/plain")
    run_crawl(settings)
    with DocumentStore(settings.storage.store_path) as store:
        report = build_report(settings, store)
    (source,) = report["sources"]
    assert source["name"] == "hub" and source["state"] == "ok"
    assert source["documents"] == {"ok": 2, "stale": 1, "gone": 1, "failed": 0}
    rows = {d["url"]: d for d in report["documents"]}
    police = rows[f"{site.url}/docs/police.html"]
    assert police["state"] == "stale" and police["last_status"] == 503
    assert police["last_success"] and police["consecutive_failures"] == 1
    assert rows[f"{site.url}/docs/returns.html"]["state"] == "gone"
