"""One search interface (hubsearch/search_backend.py): the index is built by, and the server,
`hubsearch index` and `hubsearch search` read it through, the backend the settings name
(hubsearch/backends.py); one the installation cannot make stops them with one line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import serve_config
from starlette.testclient import TestClient

from hubsearch.backends import BackendUnavailable, open_backend
from hubsearch.cli import main
from hubsearch.search_backend import Backend, Searcher
from hubsearch.settings import BackendSettings, Settings, StorageSettings
from hubsearch_web.app import create_app


def own_index(settings: Settings, tmp: Path) -> Settings:
    """The demo crawl's store, indexed into a folder of this test's own, on Whoosh."""
    return dataclasses.replace(
        settings, backend=BackendSettings(kind="whoosh"),
        storage=StorageSettings(store_path=settings.storage.store_path, index_dir=tmp / "index"))


def test_the_backend_the_settings_name_builds_the_index_the_server_then_serves(demo_crawl,
                                                                              tmp_path):
    settings = own_index(demo_crawl[0], tmp_path)
    backend = open_backend(settings)
    assert isinstance(backend, Backend) and backend.kind == "whoosh"
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


def test_the_server_will_not_start_on_a_backend_it_cannot_make(demo_index):
    settings = dataclasses.replace(demo_index[0], backend=BackendSettings(kind="opensearch"))
    with pytest.raises(BackendUnavailable) as info:
        create_app(settings)
    assert str(info.value) == "backend.kind: backend kind 'opensearch' is not available yet"


def test_hubsearch_index_then_search_go_through_the_configured_backend(demo_crawl, tmp_path,
                                                                       capsys):
    config = serve_config(tmp_path, own_index(demo_crawl[0], tmp_path))
    config.write_text(config.read_text() + '\n[backend]\nkind = "whoosh"\n')
    assert main(["index", "--config", str(config)]) == 0
    assert capsys.readouterr().out.startswith("index: full, ")
    assert main(["search", "duty to notify", "--config", str(config)]) == 0
    assert "notify" in capsys.readouterr().out.lower()


def test_hubsearch_index_refuses_a_backend_not_available_yet_in_one_line(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text('[backend]\nkind = "opensearch"\n')
    assert main(["index", "--config", str(config)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: backend.kind (line 2): backend kind 'opensearch' is not available yet; "
        "use 'whoosh'"]
