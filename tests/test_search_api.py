"""The search API and page over a real store and a real index, in-process, on each backend:
Whoosh, and OpenSearch on the real test cluster."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from conftest import BACKENDS
from starlette.testclient import TestClient

from crawler.document import ExtractedDocument, Section
from hubsearch.backends import open_backend
from hubsearch.settings import StorageSettings, load_settings
from hubsearch.store import DocumentStore, Fetch
from indexer.corpus import IndexBuildError
from search_server import create_app

REPO = Path(__file__).resolve().parent.parent

HOSTILE = (
    "Staff sometimes paste markup into forms: <script>alert('x')</script> and "
    '<img src=x onerror="alert(1)"> must reach the reader as plain text, never as markup. '
    "The escaping rule applies to every passage that mentions grooming warning signs."
)

CARE_LEAVERS = (
    "Young people leaving care are at higher risk of being groomed by people who offer "
    "accommodation, money or affection and then demand work or favours in return. Personal "
    "advisers should check in often during the first year after a young person leaves care."
)


def _settings(tmp_path: Path):
    settings = load_settings(REPO / "config.toml")
    return dataclasses.replace(
        settings,
        storage=StorageSettings(tmp_path / "hub.sqlite", tmp_path / "index"),
    )


def _store_html(store: DocumentStore, url: str, title: str, sections: list[Section]) -> None:
    doc = ExtractedDocument(title=title, doc_type="html", language="en", sections=sections)
    body = repr(sections).encode()
    store.record_fetch(
        Fetch(url=url, final_url=url, source="test", status=200,
              content_type="text/html", sha256=hashlib.sha256(body).hexdigest(),
              bytes=len(body), document=doc)
    )


def on_backend(request, tmp_path: Path):
    """A store in `tmp_path` to be indexed on the backend `request.param` names."""
    settings = _settings(tmp_path)
    if request.param == "opensearch":
        from opensearchkit import new_prefix, on_opensearch

        cluster = request.getfixturevalue("opensearch_cluster")
        settings = on_opensearch(settings, cluster.urls, new_prefix())
    return settings


@pytest.fixture(params=BACKENDS)
def backend_settings(request, tmp_path: Path):
    """A store of this test's own, on each backend in turn (nothing built yet)."""
    return on_backend(request, tmp_path)


def build_index(settings):
    return open_backend(settings).build()


def fill_and_build(settings):
    with DocumentStore(settings.storage.store_path) as store:
        _store_html(store, "http://guides.test/markup", "Handling pasted markup", [
            Section(["Handling pasted markup", "Escaping"], HOSTILE, anchor="escaping"),
        ])
        _store_html(store, "http://guides.test/care-leavers", "Care leavers", [
            Section(["Care leavers", "Grooming risks"], CARE_LEAVERS, anchor="grooming"),
        ])
    build_index(settings)
    return settings


@pytest.fixture(scope="module", params=BACKENDS)
def built(request, tmp_path_factory):
    """The two guides indexed once per backend, for the tests that only read."""
    return fill_and_build(on_backend(request, tmp_path_factory.mktemp("api")))


@pytest.fixture
def app_settings(backend_settings):
    """The two guides indexed for this test alone (it changes the store or the index)."""
    return fill_and_build(backend_settings)


@pytest.fixture
def client(built):
    return TestClient(create_app(built))


def test_document_markup_is_shown_as_text_in_snippets(client):
    data = client.get("/api/search", params={"q": "markup plain text"}).json()
    snippet = data["results"][0]["snippet_html"]
    assert "<script>" not in snippet and "<img" not in snippet
    assert "&lt;script&gt;" in snippet or "&lt;img" in snippet
    page = client.get("/", params={"q": "markup plain text"}).text
    assert "<script>alert" not in page and "<img src=x" not in page


def test_results_carry_every_documented_field(client):
    data = client.get("/api/search", params={"q": "care leavers grooming"}).json()
    assert data["query"] == "care leavers grooming"
    assert data["total"] >= 1
    hit = data["results"][0]
    assert set(hit) >= {"title", "heading_path", "snippet_html", "deep_link", "document_url",
                        "source", "doc_type", "language", "page", "score", "fetched_at"}
    assert hit["deep_link"] == "http://guides.test/care-leavers#grooming"
    assert hit["heading_path"] == ["Care leavers", "Grooming risks"]
    assert hit["page"] is None
    assert "<mark>" in hit["snippet_html"]


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}])
def test_missing_or_empty_query_is_400_with_json_message(client, params):
    response = client.get("/api/search", params=params)
    assert response.status_code == 400
    assert "query" in response.json()["error"]["message"]


@pytest.mark.parametrize("params", [{"limit": "ten"}, {"limit": "0"}, {"offset": "-1"}])
def test_bad_paging_is_400_not_500(client, params):
    response = client.get("/api/search", params={"q": "care", **params})
    assert response.status_code == 400
    assert response.json()["error"]["status"] == 400


@pytest.mark.parametrize("q", ['"unclosed phrase', "AND OR NOT", "care^^^", "((", "title:"])
def test_odd_query_syntax_never_fails(client, q):
    assert client.get("/api/search", params={"q": q}).status_code == 200


def test_all_words_preferred_then_any_word(client):
    data = client.get("/api/search", params={"q": "grooming zzzunknownword"}).json()
    assert data["matched"] == "any"
    assert data["results"], "falls back to passages with some of the words"


def test_security_headers_on_every_response(client):
    for path in ("/", "/api/search?q=care", "/healthz", "/api/search"):
        headers = client.get(path).headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_new_generation_is_picked_up_without_restart(app_settings):
    client = TestClient(create_app(app_settings))
    assert client.get("/api/search", params={"q": "interpreter"}).json()["total"] == 0
    with DocumentStore(app_settings.storage.store_path) as store:
        _store_html(store, "http://guides.test/interpreters", "Interpreters", [
            Section(["Interpreters"], "Always use a professional interpreter, never a "
                    "family member or the person who brought the child to the appointment."),
        ])
    first = client.get("/healthz").json()["generation"]
    build_index(app_settings)
    assert client.get("/healthz").json()["generation"] != first
    assert client.get("/api/search", params={"q": "interpreter"}).json()["total"] == 1


def test_no_index_yet_is_503_with_reason(backend_settings):
    client = TestClient(create_app(backend_settings))
    response = client.get("/api/search", params={"q": "care"})
    assert response.status_code == 503
    assert "hubsearch index" in response.json()["error"]["message"]
    assert client.get("/healthz").status_code == 503
    assert client.get("/", params={"q": "care"}).status_code == 503


def test_empty_store_keeps_the_last_good_index(app_settings, tmp_path):
    client = TestClient(create_app(app_settings))
    before = client.get("/healthz").json()["generation"]
    empty = dataclasses.replace(
        app_settings,
        storage=StorageSettings(tmp_path / "empty.sqlite", app_settings.storage.index_dir),
    )
    DocumentStore(empty.storage.store_path).close()
    with pytest.raises(IndexBuildError, match="no searchable documents"):
        build_index(empty)
    assert client.get("/healthz").json()["generation"] == before
    assert client.get("/api/search", params={"q": "care leavers"}).json()["total"] == 1
