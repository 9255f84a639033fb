"""Preview before adding: the proposed hub page is fetched once by the real crawl (address
guard, robots.txt, bounds) into a throwaway store, and the maintainer sees what a crawl
would fetch and what it would skip, and why; nothing reaches the document store or the
config."""

from __future__ import annotations

import json

import pytest
from conftest import add_maintainer, page_csrf, sign_in
from sitekit import Page, ScriptedSite, html_page
from starlette.testclient import TestClient

from hubsearch.cli import main
from hubsearch.settings import load_settings
from hubsearch.store import DocumentStore
from search_server import create_app

LINKS = ["/docs/guide.html", "/docs/toolkit.pdf", "/images/poster.png",
         "http://10.1.2.3/intranet/policy.pdf", "/docs/guide.html"]


@pytest.fixture
def site():
    with ScriptedSite() as site:
        site.routes["/proposed"] = Page(html_page("Proposed hub", ["Guidance."], LINKS))
        site.routes["/docs/guide.html"] = Page(html_page("Guide", ["A guide."]))
        yield site


@pytest.fixture
def config(tmp_path, site):
    path = tmp_path / "config.toml"
    # Only this loopback address is let in (the test site): 10.1.2.3 stays refused.
    path.write_text(
        '[crawl]\nallowed_networks = ["127.0.0.1/32"]\ndownload_delay = 0\nretry_times = 0\n'
        '[storage]\nstore_path = "hub.sqlite"\nindex_dir = "index"\n'
        f'[[sources]]\nname = "existing"\nurl = "{site.url}/existing"\n')
    return path


def _stored(config) -> int:
    with DocumentStore(config.parent / "hub.sqlite") as store:
        return store.db.execute("SELECT count(*) FROM documents").fetchone()[0]


def test_the_command_lists_what_would_be_fetched_and_skipped(config, site, capsys):
    assert main(["preview", f"{site.url}/proposed", "--config", str(config), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)

    assert result["title"] == "Proposed hub"
    assert [(d["url"], d["type"]) for d in result["follow"]] == [
        (f"{site.url}/docs/guide.html", "web page"), (f"{site.url}/docs/toolkit.pdf", "PDF")]
    assert {d["host"] for d in result["follow"]} == {"127.0.0.1"}
    assert result["follow"][0]["title"] == "/docs/guide.html (External link)"  # its link text
    why = {d["url"]: d["why"] for d in result["skip"]}
    assert "not a document type" in why[f"{site.url}/images/poster.png"]
    assert why["http://10.1.2.3/intranet/policy.pdf"].startswith("refused: resolves to a private")
    assert not (config.parent / "hub.sqlite").exists() or _stored(config) == 0
    assert [p for p, _ in site.requests if p.startswith("/docs/")] == []  # only the page


def test_an_internal_page_is_refused_without_being_fetched(config, capsys):
    assert main(["preview", "http://10.1.2.3/hub", "--config", str(config), "--json"]) == 1
    assert "refused" in json.loads(capsys.readouterr().out)["error"]


@pytest.mark.slow
def test_a_maintainer_previews_a_page_in_the_browser_before_adding_it(config, site):
    settings = load_settings(config)
    add_maintainer(settings)
    client = TestClient(create_app(settings))
    sign_in(client)
    before = config.read_bytes()
    csrf = page_csrf(client.get("/admin/sources").text)

    page = client.post("/admin/sources/preview", data={
        "csrf": csrf, "url": f"{site.url}/proposed", "name": "", "title": "",
        "title_cy": "", "audience": "", "language": ""})

    assert page.status_code == 200
    assert "What " in page.text and "2 documents to fetch, 2 links skipped" in page.text
    assert f"{site.url}/docs/toolkit.pdf" in page.text and "refused: resolves to a private" \
        in page.text
    assert f'value="{site.url}/proposed"' in page.text  # ready to add
    assert config.read_bytes() == before and _stored(config) == 0
    inside = client.post("/admin/sources/preview", data={
        "csrf": csrf, "url": "http://169.254.169.254/latest/", "name": "", "title": "",
        "title_cy": "", "audience": "", "language": ""})
    assert inside.status_code == 400 and "link-local" in inside.text
