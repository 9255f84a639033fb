"""Filters, facet counts, collapsing per document, and parameter validation."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import Counter
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from crawler.document import ExtractedDocument, Section
from hubsearch.settings import Source, StorageSettings, load_settings
from hubsearch.store import DocumentStore, Fetch
from indexer.build import build_index
from indexer.search import PER_DOCUMENT, PassageSearcher
from search_server import create_app

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def client(demo_backend):
    return TestClient(create_app(demo_backend))


def get(client, **params) -> dict:
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_response_counts_each_facet(client):
    data = get(client, q="exploitation")
    assert set(data["facets"]) == {"source", "doc_type", "language", "audience"}
    assert set(data["facets"]["doc_type"]) == {"html", "pdf"}
    assert sum(data["facets"]["language"].values()) == data["total_passages"]


@pytest.mark.parametrize(("name", "value"), [("doc_type", "pdf"), ("language", "cy"),
                                             ("source", "demo-slavery-en")])
def test_a_filter_keeps_only_passages_with_that_value(client, name, value):
    data = get(client, q="exploitation", limit=50, **{name: value})
    assert data["results"] and data["filters"] == {name: [value]}
    assert all(h[name] == value for h in data["results"])


def test_a_repeated_filter_accepts_any_of_its_values(client):
    data = get(client, q="safeguarding", doc_type=["pdf", "html"])
    assert data["total_passages"] == get(client, q="safeguarding")["total_passages"]


def test_a_facet_still_counts_its_other_values_while_it_filters(client):
    data = get(client, q="exploitation", doc_type="pdf")
    assert data["facets"]["doc_type"]["html"] > 0
    assert sum(data["facets"]["language"].values()) == data["total_passages"]


def test_an_unknown_filter_value_is_no_results_not_an_error(client):
    data = get(client, q="exploitation", source="no-such-source")
    assert data["total"] == 0 and data["facets"]["source"]["no-such-source"] == 0


@pytest.mark.parametrize(("params", "name"), [
    ({"source": "x" * 300}, "source"),
    ({"audience": "health\x00"}, "audience"),
    ({"doc_type": ["pdf"] * 21}, "doc_type"),
    ({"lang": "fr"}, "lang"),
    ({"document": "not a url"}, "document"),
])
def test_a_malformed_parameter_is_a_400_naming_it(client, params, name):
    response = client.get("/api/search", params={"q": "care", **params})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(name)


def test_at_most_two_passages_per_document_with_the_rest_counted(client):
    data = get(client, q="safeguarding", limit=50)
    per_document = Counter(h["document_url"] for h in data["results"])
    assert max(per_document.values()) <= PER_DOCUMENT
    assert data["total_passages"] > data["total"]
    crowded = next(h for h in data["results"] if h["more_in_document"])
    assert crowded["more_in_document_params"]["document"] == crowded["document_url"]
    everything = get(client, limit=50, **crowded["more_in_document_params"])
    assert {h["document_url"] for h in everything["results"]} == {crowded["document_url"]}
    shown = per_document[crowded["document_url"]]
    assert everything["total"] == shown + crowded["more_in_document"]


def test_the_bench_can_ask_for_the_plain_passage_ranking(demo_index):
    settings, _ = demo_index
    searcher = PassageSearcher(settings.storage.index_dir)
    plain = searcher.search("safeguarding", limit=50, collapse=False)
    assert plain.total == plain.total_passages
    assert max(Counter(h.document_url for h in plain.results).values()) > PER_DOCUMENT
    assert searcher.search("safeguarding", limit=5).total < plain.total


def test_the_page_has_filter_checkboxes_and_more_in_document_links(client):
    page = client.get("/", params={"q": "safeguarding", "doc_type": "pdf"}).text
    box = re.search(r'<input type="checkbox" id="(f-doc_type-\d+)" name="doc_type" '
                    r'value="pdf" checked>', page)
    assert box and f'<label for="{box.group(1)}"' in page
    assert "more in this document" in page and "document=http" in page
    assert "Apply filters" in page


def test_the_page_shows_a_bad_parameter_as_a_message(client):
    response = client.get("/", params={"q": "care", "lang": "fr"})
    assert response.status_code == 400 and "lang must be one of" in response.text


@pytest.fixture(scope="module")
def audience_client(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("audience")
    base = load_settings(REPO / "config.toml")
    settings = dataclasses.replace(
        base,
        storage=StorageSettings(tmp / "hub.sqlite", tmp / "index"),
        sources=(Source("nhs", "https://nhs.test/", audience=("health",)),
                 Source("schools", "https://hwb.test/", audience=("education", "health"))),
    )
    with DocumentStore(settings.storage.store_path) as store:
        for source, url, text in [
            ("nhs", "https://nhs.test/ed", "Emergency department staff should look for "
             "signs of exploitation at triage."),
            ("schools", "https://hwb.test/dsp", "Teachers pass signs of exploitation to the "
             "designated safeguarding person."),
        ]:
            doc = ExtractedDocument(title=url, doc_type="html", language="en",
                                    sections=[Section([url], text)])
            store.record_fetch(Fetch(url=url, final_url=url, source=source, status=200,
                                     content_type="text/html",
                                     sha256=hashlib.sha256(text.encode()).hexdigest(),
                                     bytes=len(text), document=doc))
    build_index(settings)
    return TestClient(create_app(settings))


def test_audience_tags_from_the_config_filter_and_count(audience_client):
    data = get(audience_client, q="signs exploitation")
    assert data["facets"]["audience"] == {"health": 2, "education": 1}
    only = get(audience_client, q="signs exploitation", audience="Education")
    assert [h["source"] for h in only["results"]] == ["schools"]
    assert only["facets"]["audience"]["health"] == 2
