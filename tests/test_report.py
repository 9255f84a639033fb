"""Link health for maintainers: `hubsearch report` (text, JSON, runs) and GET /api/status."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import add_maintainer, sign_in
from sitekit import break_some, maintained_hub
from starlette.testclient import TestClient

from hubsearch.settings import load_settings
from indexer.build import build_index
from search_server import create_app

TEXT = ("Health visitors note any adult who seems to be controlled by another person "
        "and offer a private appointment with an interpreter who is not a relative.")


def hubsearch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hubsearch.cli", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    from sitekit import ScriptedSite

    tmp = tmp_path_factory.mktemp("report")
    with ScriptedSite() as site:
        maintained_hub(site, TEXT)
        config = tmp / "config.toml"
        config.write_text(
            "# test hub\n[crawl]\ndownload_delay = 0\nretry_times = 0\n"
            "allow_private_networks = true\n"
            "[storage]\nstore_path = 'hub.sqlite'\nindex_dir = 'index'\n"
            f"[[sources]]\nname = 'health'\nurl = '{site.url}/hub'\n"
        )
        assert hubsearch("crawl", "--config", str(config)).returncode == 0
        break_some(site)
        crawl = hubsearch("crawl", "--config", str(config))
        assert crawl.returncode == 0, crawl.stderr
        yield config, site.url


def test_report_text_names_what_needs_attention(crawled):
    config, url = crawled
    out = hubsearch("report", "--config", str(config))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "health: ok (HTTP 200)" in text
    assert f"{url}/docs/withdrawn.html\n    gone: HTTP 410 Gone" in text
    assert f"{url}/docs/flaky.html\n    stale: HTTP 503 Service Unavailable" in text
    assert f"moved permanently -> {url}/docs/new-name.html" in text
    assert "last crawl: run 2" in text


def test_report_json_lists_every_document_with_its_health(crawled):
    config, url = crawled
    data = json.loads(hubsearch("report", "--json", "--config", str(config)).stdout)
    docs = {d["url"]: d for d in data["documents"]}
    flaky = docs[f"{url}/docs/flaky.html"]
    assert flaky["state"] == "stale" and flaky["consecutive_failures"] == 1
    assert flaky["last_status"] == 503 and flaky["last_success"] and flaky["last_change"]
    moved = docs[f"{url}/docs/old-name.html"]
    assert moved["redirect_target"] == f"{url}/docs/new-name.html" and moved["moved_permanently"]
    assert data["sources"][0]["documents"] == {"ok": 2, "stale": 1, "gone": 1, "failed": 0}


def test_report_runs_shows_each_crawl(crawled):
    config, _ = crawled
    lines = hubsearch("report", "--runs", "--config", str(config)).stdout.strip().splitlines()
    assert len(lines) == 3 and lines[1].split()[0] == "2"


def test_api_status_serves_the_report_saved_with_the_index(crawled):
    config, url = crawled
    settings = load_settings(config)
    client = TestClient(create_app(settings))
    before = client.get("/api/status")
    assert before.status_code == 503 and before.json()["error"]["message"]
    build_index(settings)
    public = client.get("/api/status").json()
    assert public["documents"] == [] and public["documents_needing_attention"] >= 1
    add_maintainer(settings)
    sign_in(client)
    data = client.get("/api/status").json()
    assert data["index"]["switched"] is True and data["serving"] == data["index"]["generation"]
    assert {d["url"]: d["state"] for d in data["documents"]}[f"{url}/docs/flaky.html"] == "stale"
    assert data["last_run"]["gone"] == 1
    # The hub page and the three guides still searchable (the 410 one is gone).
    assert data["indexed_passages"] >= 4 and data["indexed_documents"] == 4


def test_report_without_a_store_is_one_line(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("")
    out = hubsearch("report", "--config", str(config))
    assert out.returncode == 1 and out.stderr.startswith("error: no document store")
    assert out.stderr.count("\n") == 1
