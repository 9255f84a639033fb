"""The maintainers' sources page: add, change and remove hub pages in the browser, with
exactly the checks `hubsearch sources` makes (one code path: hubsearch/config_edit.py),
config.toml's comments kept, every change in the audit log, and nothing written for a
request without a session and its CSRF token, or for an address inside the network."""

from __future__ import annotations

import re
import tomllib
from html import unescape

import pytest
from conftest import add_maintainer, page_csrf, record_guides, sign_in
from starlette.testclient import TestClient

from hubsearch import config_edit
from hubsearch.settings import ConfigError, load_settings
from hubsearch.store import DocumentStore
from indexer.build import build_index
from search_server import create_app

CONFIG = """\
# Hubsearch for the test hub: keep this comment.
[storage]
store_path = "hub.sqlite"
index_dir = "index"

[[sources]]
name = "lff-en"  # the English page
url = "https://hub.example/en"
title = "Live Fear Free"
audience = ["health"]

# The Welsh page follows.
[[sources]]
name = "lff-cy"
url = "https://hub.example/cy"
language = "cy"
"""


@pytest.fixture
def admin(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    settings = load_settings(config)
    record_guides(settings, 2)  # an index, so a search that finds nothing lists hub pages
    build_index(settings)
    add_maintainer(settings)
    client = TestClient(create_app(settings))
    sign_in(client)
    return config, client


def _csrf(client: TestClient) -> str:
    return page_csrf(client.get("/admin/sources").text)


def _sources(config) -> dict[str, dict]:
    return {s["name"]: s for s in tomllib.loads(config.read_text())["sources"]}


def _audit(config) -> list[tuple[str, str, str]]:
    with DocumentStore(config.parent / "hub.sqlite") as store:
        return [tuple(r) for r in store.db.execute(
            "SELECT action, target, detail FROM audit WHERE action LIKE 'source %' "
            "ORDER BY id")]


def test_the_page_lists_each_source_with_its_links_to_change_it(admin):
    _, client = admin
    page = client.get("/admin/sources")
    assert page.status_code == 200
    assert "Live Fear Free" in page.text and "https://hub.example/cy" in page.text
    assert 'href="/admin/sources/lff-cy/edit"' in page.text
    assert page.text.count("never crawled") == 2  # as the status snapshot says


def test_a_maintainer_adds_a_source_and_the_file_keeps_its_comments(admin):
    config, client = admin
    response = client.post("/admin/sources", data={
        "csrf": _csrf(client), "url": "https://www.gov.wales/slavery-guidance",
        "name": "wg-slavery", "title": "Welsh Government: slavery", "title_cy": "",
        "audience": "social services, police", "language": "en", "follow_links": "on"},
        follow_redirects=False)

    assert response.status_code == 303
    text = config.read_text()
    assert text.startswith(CONFIG)  # every byte before, comments included, kept
    added = _sources(config)["wg-slavery"]
    assert added["title"] == "Welsh Government: slavery"
    assert added["audience"] == ["social services", "police"] and added["follow_links"]
    page = client.get(response.headers["location"])
    assert "Added wg-slavery." in page.text and "Welsh Government: slavery" in page.text
    assert _audit(config) == [("source added", "wg-slavery",
                               "https://www.gov.wales/slavery-guidance")]


@pytest.mark.parametrize("url, name, expected", [
    ("http://127.0.0.1:8080/admin", "inside", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "metadata", "link-local"),
    ("http://2130706433/", "decimal", "loopback"),
    ("file:///etc/passwd", "local-file", "not an http(s) URL"),
    ("https://hub.example/en", "again", "already has the URL"),
    ("https://HUB.example/en/", "again-normalised", "the same page as source 'lff-en'"),
    ("https://hub.example/new", "lff-en", "already exists"),
])
def test_the_form_refuses_what_the_command_refuses(admin, url, name, expected):
    config, client = admin
    before = config.read_bytes()
    with pytest.raises(ConfigError) as cli:
        config_edit.add_source(config, name=name, url=url)
    response = client.post("/admin/sources", data={
        "csrf": _csrf(client), "url": url, "name": name, "title": "", "title_cy": "",
        "audience": "", "language": ""})

    assert response.status_code == 400
    shown = unescape(re.search(r'role="alert">(.*?)</p>', response.text, re.S).group(1))
    assert shown == str(cli.value) and expected in shown
    assert config.read_bytes() == before and _audit(config) == []
    assert f'value="{url}"' in response.text  # what was typed is kept to correct


def test_a_maintainer_changes_titles_audience_and_language(admin):
    config, client = admin
    page = client.get("/admin/sources/lff-cy/edit")
    response = client.post("/admin/sources/lff-cy/edit", data={
        "csrf": page_csrf(page.text), "title": "Byw Heb Ofn (English title)",
        "title_cy": "Byw Heb Ofn", "audience": "education", "language": "cy"},
        follow_redirects=False)

    assert response.status_code == 303
    changed = _sources(config)["lff-cy"]
    assert changed["title_cy"] == "Byw Heb Ofn" and changed["audience"] == ["education"]
    assert changed["follow_links"] is False  # the box was left unticked
    assert "# The Welsh page follows." in config.read_text()
    assert _audit(config) == [("source changed", "lff-cy",
                               "changed audience, follow_links, title, title_cy")]
    # This server's pages show the new title at once (a search finding nothing lists them).
    assert "Byw Heb Ofn (English title)" in client.get("/", params={"q": "zzqx"}).text


def test_a_maintainer_removes_a_source_after_confirming(admin):
    config, client = admin
    confirm = client.get("/admin/sources/lff-en/remove")
    assert "Remove Live Fear Free?" in confirm.text
    response = client.post("/admin/sources/lff-en/remove",
                           data={"csrf": page_csrf(confirm.text)}, follow_redirects=False)
    assert response.status_code == 303
    assert set(_sources(config)) == {"lff-cy"}
    assert "# Hubsearch for the test hub: keep this comment." in config.read_text()
    assert _audit(config) == [("source removed", "lff-en", "https://hub.example/en")]


def test_markup_in_a_source_title_is_shown_as_text_everywhere(admin):
    config, client = admin
    attack = '<img src=x onerror="alert(1)">'
    client.post("/admin/sources/lff-en/edit", data={
        "csrf": _csrf(client), "title": attack, "title_cy": "", "audience": "health",
        "language": "", "follow_links": "on"})
    assert _sources(config)["lff-en"]["title"] == attack
    for path in ("/admin/sources", "/?q=zzqx", "/admin/sources/lff-en/edit"):
        html = client.get(path).text
        assert attack not in html and "&lt;img src=x onerror=" in html, path


def test_nothing_is_written_without_a_session_or_its_csrf_token(admin):
    config, client = admin
    before = config.read_bytes()
    data = {"url": "https://hub.example/new", "name": "new", "title": "", "title_cy": "",
            "audience": "", "language": ""}
    stranger = TestClient(client.app)
    stranger.cookies.set("hubsearch_signin", client.cookies.get("hubsearch_signin") or "")
    assert stranger.post("/admin/sources", data={**data, "csrf": "x"}).status_code == 403
    assert client.post("/admin/sources", data=data).status_code == 403
    assert client.post("/admin/sources", data={**data, "csrf": "forged"}).status_code == 403
    assert client.post("/admin/sources/lff-en/remove", data={"csrf": "x"}).status_code == 403
    assert stranger.get("/admin/sources", follow_redirects=False).status_code == 303
    assert config.read_bytes() == before and _audit(config) == []


def test_a_crafted_link_cannot_put_words_on_the_page(admin):
    _, client = admin
    page = client.get("/admin/sources", params={"done": "removed",
                                                "name": "Call 0800 000 000 now"})
    assert "Call 0800" not in page.text and "Removed the source" in page.text
    assert "Call" not in client.get("/admin/sources", params={"done": "Call 0800"}).text
