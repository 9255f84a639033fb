"""The maintainers' status page (/status): index freshness, the quality gate's reason, the
last crawl, sources, and the documents that are stale, gone or moved; in both languages."""

from __future__ import annotations

import re
from html import unescape

import pytest
from conftest import add_maintainer, settings_for, sign_in
from sitekit import ScriptedSite, break_some, maintained_hub
from starlette.testclient import TestClient

from crawler.run import run_crawl
from indexer.build import IndexBuildError, build_index
from search_server import create_app

TEXT = ("School nurses record any disclosure in the child's own words and tell the "
        "designated safeguarding person before the end of the school day.")


@pytest.fixture(scope="module")
def site_status(tmp_path_factory):
    """Crawl a scripted site, index it, then break some of it and crawl again."""
    tmp = tmp_path_factory.mktemp("status")
    with ScriptedSite() as site:
        maintained_hub(site, TEXT)
        settings = settings_for(tmp, f"{site.url}/hub")
        client = TestClient(create_app(settings))
        add_maintainer(settings)
        sign_in(client)
        before = client.get("/status")
        run_crawl(settings)
        first = build_index(settings)
        break_some(site)
        run_crawl(settings)
        # Two of the six documents failed: over the 30% limit, so the gate keeps `first`.
        with pytest.raises(IndexBuildError):
            build_index(settings)
        yield client, site.url, first.generation, before


def attention_rows(html: str) -> dict[str, str]:
    """URL -> the row's text, from the table of documents needing attention."""
    table = html.split('id="attention-heading"', 1)[1]
    rows = {}
    for row in re.findall(r"<tr class=\"state-[\w -]+\">(.*?)</tr>", table, re.S):
        cells = [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", c))).strip()
                 for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows[cells[0].split()[0]] = " | ".join(cells)
    return rows


def test_status_page_is_503_with_a_clear_message_before_any_index(site_status):
    *_, before = site_status
    assert before.status_code == 503
    assert "No status yet" in before.text and "<code>hubsearch index</code>" in before.text


def test_status_page_lists_stale_gone_and_moved_documents(site_status):
    client, url, *_ = site_status
    response = client.get("/status")
    assert response.status_code == 200
    rows = attention_rows(response.text)
    assert set(rows) == {f"{url}/docs/flaky.html", f"{url}/docs/withdrawn.html",
                         f"{url}/docs/old-name.html"}
    # Address | state | last HTTP status | last success | failures in a row | redirects to
    flaky = rows[f"{url}/docs/flaky.html"].split(" | ")
    assert flaky[1:3] == ["Stale", "503"] and flaky[4] == "1" and "UTC" in flaky[3]
    gone = rows[f"{url}/docs/withdrawn.html"].split(" | ")
    assert gone[1:3] == ["Gone", "410"] and "HTTP 410 Gone" in gone[0]
    moved = rows[f"{url}/docs/old-name.html"].split(" | ")
    assert moved[1] == "OK, moved permanently" and moved[5] == f"{url}/docs/new-name.html"
    assert "3 documents need attention." in response.text


def test_status_page_says_the_last_build_was_not_switched_in_and_why(site_status):
    client, _, first_generation, _ = site_status
    html = unescape(client.get("/status").text)
    assert "NOT switched in: the previous index keeps serving" in html
    assert re.search(r"Reason: <span>quality gate: \d+% of documents failed in crawl run 2", html)
    assert f"<code>{first_generation}</code>" in html


def test_status_page_shows_the_last_crawl_and_each_source(site_status):
    client, url, *_ = site_status
    html = client.get("/status").text
    facts = dict(re.findall(r"<dt>([^<]+)</dt><dd>(.*?)</dd>", html))
    assert facts["Run"] == "2" and facts["Gone"] == "1" and facts["Failed"] == "2"
    assert f'<a href="{url}/hub">hub</a>' in html
    source = re.search(r'<a href="[^"]+/hub">hub</a>.*?</tr>', html, re.S).group(0)
    assert re.findall(r'<td class="num">(\d+)</td>', source) == ["2", "1", "1", "0"]


def test_status_page_in_welsh(site_status):
    client, url, *_ = site_status
    html = unescape(client.get("/status", params={"ui": "cy"}).text)
    assert '<html lang="cy">' in html and "<h1>Statws y mynegai a'r ffynonellau</h1>" in html
    assert "Mae angen sylw ar 3 dogfen." in html
    assert "| Hen | 503 |" in " | ".join(attention_rows(html).values())
    # The crawler's English error text is marked as English inside the Welsh page.
    assert '<span lang="en">HTTP 410 Gone</span>' in html
    assert '<a href="/?ui=cy">Yn ôl i\'r chwiliad</a>' in html
    assert client.get("/status", params={"ui": "cy", "x": "1"}).status_code == 200


def test_status_page_has_no_write_actions_but_signing_out(site_status):
    client, *_ = site_status
    html = client.get("/status").text
    assert re.findall(r'<form method="post" action="([^"]+)"', html) == ["/admin/logout"]
    assert html.count("<form") == html.count("<button") == 1
    assert client.post("/status").status_code == 405
