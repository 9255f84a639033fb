"""The rest of the API: one document by id, Prometheus metrics, the OpenAPI document,
and error shapes for unknown routes."""

from __future__ import annotations

import pytest
from conftest import add_maintainer, own_store, sign_in
from starlette.testclient import TestClient

from search_server import create_app


@pytest.fixture(scope="module")
def client(demo_backend):
    return TestClient(create_app(demo_backend))


def test_a_result_links_to_its_document_with_passages_and_a_maintainer_sees_its_history(
        demo_index, tmp_path):
    settings = own_store(demo_index[0], tmp_path)
    add_maintainer(settings)
    client = TestClient(create_app(settings))
    sign_in(client)
    hit = client.get("/api/search", params={"q": "duty to notify"}).json()["results"][0]
    doc = client.get(f"/api/documents/{hit['document_id']}").json()
    assert doc["url"] == hit["document_url"] and doc["title"] == hit["title"]
    positions = [p["position"] for p in doc["passages"]]
    assert positions == sorted(positions)
    assert any(p["deep_link"] == hit["deep_link"] for p in doc["passages"])
    assert doc["health"]["state"] == "ok" and doc["health"]["last_status"] == 200
    assert doc["history"] and doc["history"][0]["outcome"] == "new"


def test_unknown_document_and_unknown_route_are_json_404s(client):
    for path in ("/api/documents/0000000000000000", "/no/such/page"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["status"] == 404


def test_metrics_count_requests_by_route_without_query_text(client):
    client.get("/api/search", params={"q": "zzqx unfindable"})
    client.get("/api/search", params={"q": "national referral mechanism"})
    text = client.get("/metrics").text
    assert 'hubsearch_http_requests_total{route="/api/search",status="200"}' in text
    assert "hubsearch_http_request_duration_seconds_bucket" in text
    assert "hubsearch_search_zero_results_total 1.0" in text
    assert "hubsearch_index_age_seconds" in text
    assert "zzqx" not in text and "referral" not in text


def test_openapi_document_describes_the_api(client):
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/search", "/api/documents/{id}", "/api/status", "/healthz", "/metrics"} <= set(
        spec["paths"]
    )


def test_access_log_records_the_path_but_never_the_query(client, caplog):
    with caplog.at_level("INFO", logger="hubsearch.access"):
        client.get("/api/search", params={"q": "Jane Doe bruises"})
    lines = [r.getMessage() for r in caplog.records if r.name == "hubsearch.access"]
    assert lines and lines[-1].startswith("GET /api/search 200 ")
    assert not any("Jane" in line or "bruises" in line for line in caplog.messages)
