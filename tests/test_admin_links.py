"""Link health for maintainers (/admin/links and its CSV): every crawled URL's state, last
success, failures in a row, redirect target and the hub pages linking to it, filterable by
state and source; the source is the one the search facets give; a hostile title cannot
become a spreadsheet formula."""

from __future__ import annotations

import csv
import dataclasses
import io

import pytest
from conftest import add_maintainer, guide_fetch, own_store, settings_for, sign_in
from starlette.testclient import TestClient

from hubsearch.report import STATES, build_report
from hubsearch.settings import Source
from hubsearch.store import DocumentStore
from indexer.build import build_index
from search_server import create_app


@pytest.fixture
def demo_admin(demo_index, tmp_path):
    settings = own_store(demo_index[0], tmp_path)
    add_maintainer(settings)
    client = TestClient(create_app(settings))
    sign_in(client)
    return settings, client


def _csv(client: TestClient, **params: str) -> list[dict[str, str]]:
    response = client.get("/admin/links.csv", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


def test_link_health_needs_a_session(demo_index):
    client = TestClient(create_app(demo_index[0]))
    for path in ("/admin/links", "/admin/links.csv", "/admin/links?state=failed"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and "/admin/login" in response.headers["location"]


def test_every_document_is_listed_with_the_hub_pages_linking_to_it(demo_admin):
    settings, client = demo_admin
    rows = _csv(client)
    assert len(rows) > 5 and all(r["linked_from"] for r in rows)
    missing = [r for r in rows if r["state"] == "failed"]
    assert missing and all(r["last_status"] == "404" for r in missing)
    hubs = {s.url for s in settings.sources}
    assert all(set(r["linked_from"].split()) <= hubs for r in rows)
    page = client.get("/admin/links", params={"state": "failed"})
    assert page.status_code == 200 and missing[0]["url"] in page.text
    assert f"{len(missing)} documents" in page.text


def test_a_documents_source_is_the_one_the_search_gives(demo_admin):
    """One answer to "which source owns this document": link health, the CSV and the
    search facets agree (the first configured source whose hub page links to it)."""
    settings, client = demo_admin
    owners = {r["url"]: r["source"] for r in _csv(client)}
    checked = 0
    for query in ("modern slavery", "duty to notify", "caethwasiaeth", "national referral"):
        for hit in client.get("/api/search", params={"q": query, "limit": 50}).json()["results"]:
            if hit["document_url"] in owners:
                assert owners[hit["document_url"]] == hit["source"], hit["document_url"]
                checked += 1
    assert checked >= 5
    report = {s["name"]: s["documents"] for s in client.get("/api/status").json()["sources"]}
    with DocumentStore(settings.storage.store_path) as store:
        cli = {s["name"]: s["documents"] for s in build_report(settings, store)["sources"]}
    for source in settings.sources:
        only = _csv(client, source=source.name)
        assert all(r["source"] == source.name for r in only)
        by_state = {state: sum(r["state"] == state for r in only) for state in STATES}
        assert report[source.name] == cli[source.name] == by_state, source.name
    assert sum(len(_csv(client, source=s.name)) for s in settings.sources) == len(owners)
    hit = client.get("/api/search", params={"q": "modern slavery"}).json()["results"][0]
    document = client.get(f"/api/documents/{hit['document_id']}").json()
    assert document["health"]["source"] == document["source"] == hit["source"]


def test_a_hostile_title_cannot_become_a_spreadsheet_formula(tmp_path):
    settings = settings_for(tmp_path, "https://hub.example/hub")
    settings = dataclasses.replace(settings, sources=(
        Source(name="hub", url="https://hub.example/hub", follow_links=True),))
    hostile = '=HYPERLINK("https://attacker.example","Open")'
    with DocumentStore(settings.storage.store_path) as store:
        store.record_fetch(guide_fetch("https://hub.example/hub", "Guidance for staff.",
                                       links=("https://hub.example/docs/1",),
                                       is_source=True))
        fetch = guide_fetch("https://hub.example/docs/1", "Duty to notify guidance.")
        fetch.document.title = hostile
        store.record_fetch(fetch)
    build_index(settings)
    add_maintainer(settings)
    client = TestClient(create_app(settings))
    sign_in(client)

    (row,) = _csv(client)
    assert row["title"] == "'" + hostile
    assert not any(value.startswith(("=", "+", "-", "@")) for value in row.values())
