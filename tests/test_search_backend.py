"""One search interface (hubsearch/search_backend.py): the index is built by, and the server,
`hubsearch index` and `hubsearch search` read it through, the backend the settings name
(hubsearch/backends.py): Whoosh, or OpenSearch on the real test cluster. A cluster that
cannot be reached stops a build and the server's searches with one line."""

from __future__ import annotations

import base64
import dataclasses
import http.server
import json
import socket
import threading
from pathlib import Path

import pytest
from conftest import BACKENDS, serve_config
from starlette.testclient import TestClient

from hubsearch.backends import open_backend
from hubsearch.cli import main
from hubsearch.search_backend import Backend, Searcher
from hubsearch.settings import BackendSettings, Settings, StorageSettings
from hubsearch_web.app import create_app
from indexer.corpus import IndexBuildError


def own_index(settings: Settings, tmp: Path) -> Settings:
    """The demo crawl's store, indexed into a folder of this test's own, on Whoosh."""
    return dataclasses.replace(
        settings, backend=BackendSettings(kind="whoosh"),
        storage=StorageSettings(store_path=settings.storage.store_path, index_dir=tmp / "index"))


@pytest.fixture(params=BACKENDS)
def backend_settings(request, demo_crawl, tmp_path) -> Settings:
    """The demo crawl's store with an index of this test's own, on each backend in turn."""
    settings = own_index(demo_crawl[0], tmp_path)
    if request.param == "opensearch":
        settings = request.getfixturevalue("opensearch_settings")(settings)
    return settings


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_backend_the_settings_name_builds_the_index_the_server_then_serves(
        backend_settings):
    settings = backend_settings
    backend = open_backend(settings)
    assert isinstance(backend, Backend) and backend.kind == settings.backend.kind
    result = backend.build()
    assert result.mode == "full" and result.passages > 0

    app = create_app(settings)
    assert isinstance(app.state.searcher, Searcher)
    client = TestClient(app)
    assert client.get("/healthz").json() == {"status": "ok", "generation": result.generation}
    page = client.get("/api/search", params={"q": "duty to notify"}).json()
    assert "notify" in page["results"][0]["snippet_html"].lower()
    status = client.get("/api/status").json()
    assert status["serving"] == result.generation
    assert status["indexed_passages"] == result.passages


def test_hubsearch_index_then_search_go_through_the_configured_backend(backend_settings,
                                                                       tmp_path, capsys):
    config = serve_config(tmp_path, backend_settings)
    backend = backend_settings.backend
    config.write_text(config.read_text() + "\n[backend]\n" + "".join(
        f"{key} = {json.dumps(getattr(backend, key))}\n"
        for key in ("kind", "urls", "index_prefix", "shards", "replicas")))
    assert main(["index", "--config", str(config)]) == 0
    assert capsys.readouterr().out.startswith("index: full, ")
    assert main(["search", "duty to notify", "--config", str(config)]) == 0
    assert "notify" in capsys.readouterr().out.lower()


def test_a_cluster_that_cannot_be_reached_stops_a_build_in_one_line(demo_crawl, tmp_path,
                                                                     capsys):
    config = serve_config(tmp_path, own_index(demo_crawl[0], tmp_path))
    config.write_text(config.read_text() + "\n[backend]\nkind = \"opensearch\"\n"
                      f"urls = [\"http://127.0.0.1:{closed_port()}\"]\ntimeout_seconds = 2\n")
    assert main(["index", "--config", str(config)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == ("error: index build failed: no node of the cluster could be reached; "
                       "the previous index keeps serving")
    assert not any("Traceback" in line for line in err)


def test_the_server_says_not_ready_while_its_cluster_cannot_be_reached(demo_crawl, tmp_path):
    settings = dataclasses.replace(own_index(demo_crawl[0], tmp_path), backend=BackendSettings(
        kind="opensearch", urls=(f"http://127.0.0.1:{closed_port()}",), timeout_seconds=2))
    client = TestClient(create_app(settings))
    health = client.get("/healthz")
    assert health.status_code == 503
    answer = client.get("/api/search", params={"q": "duty to notify"})
    assert answer.status_code == 503 and "notify" not in answer.text


def test_credentials_come_from_the_environment_and_never_reach_an_error(demo_crawl, tmp_path,
                                                                       monkeypatch):
    # A stand-in for a secured cluster on loopback: it records what it is sent and refuses.
    seen: list[str | None] = []

    class Refusing(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            seen.append(self.headers.get("Authorization"))
            body = json.dumps({"error": {"type": "security_exception",
                                         "reason": "missing authentication credentials"},
                               "status": 401}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HUBSEARCH_OPENSEARCH_USERNAME", "hubsearch")
    monkeypatch.setenv("HUBSEARCH_OPENSEARCH_PASSWORD", "s3cret-Passw0rd")
    try:
        settings = dataclasses.replace(own_index(demo_crawl[0], tmp_path), backend=BackendSettings(
            kind="opensearch", urls=(f"http://127.0.0.1:{server.server_port}",)))
        with pytest.raises(IndexBuildError) as info:
            open_backend(settings).build()
    finally:
        server.shutdown()
    assert seen and seen[0] == "Basic " + base64.b64encode(b"hubsearch:s3cret-Passw0rd").decode()
    message = str(info.value)
    assert "401" in message and "missing authentication credentials" in message
    assert "s3cret" not in message and "\n" not in message
