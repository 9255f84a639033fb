"""The whole path with real parts: the demo hub over HTTP -> Scrapy -> SQLite -> Whoosh ->
the search server over HTTP. Each test reads like what a user or maintainer checks."""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request

import pypdfium2 as pdfium
import pytest

from hubsearch.demo_site import DEMO_HUB


def api(server, path: str, **params) -> tuple[int, dict]:
    url = f"{server.url}{path}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def rows(settings, where: str = "1=1") -> list[sqlite3.Row]:
    db = sqlite3.connect(settings.storage.store_path)
    db.row_factory = sqlite3.Row
    try:
        return db.execute(f"SELECT * FROM documents WHERE {where}").fetchall()
    finally:
        db.close()


def pdf_page_with_heading(path, heading: str) -> int:
    """1-based page of a PDF whose text has `heading` as a line of its own."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        for i in range(len(pdf)):
            text = pdf[i].get_textpage().get_text_range()
            if any(line.strip() == heading for line in text.splitlines()):
                return i + 1
    finally:
        pdf.close()
    raise AssertionError(f"{heading!r} not found in {path}")


def test_crawl_prints_one_summary_line(demo_crawl):
    _, summary = demo_crawl
    line = summary.line()
    assert "\n" not in line
    assert re.match(r"crawl: fetched \d+, failed \d+, new \d+, changed \d+, unchanged \d+", line)
    assert summary.run.fetched >= 8 and summary.run.new == summary.run.fetched


def test_every_fetched_document_is_recorded_with_its_metadata(demo_crawl):
    settings, _ = demo_crawl
    good = rows(settings, "error IS NULL")
    assert {r["doc_type"] for r in good} >= {"html", "pdf"}
    assert {r["language"] for r in good} >= {"en", "cy"}
    for r in good:
        assert r["status"] == 200
        assert re.fullmatch(r"[0-9a-f]{64}", r["sha256"])
        assert r["fetched_at"] and r["content_type"] and r["source"].startswith("demo-")
        assert r["last_modified"], "the demo server sends Last-Modified"
        assert json.loads(r["document"])["sections"]


def test_missing_document_is_recorded_as_404_and_the_crawl_goes_on(demo_crawl):
    settings, summary = demo_crawl
    missing = rows(settings, "status = 404")
    assert len(missing) == 1
    assert missing[0]["error"] == "HTTP 404 Not Found"
    assert missing[0]["document"] is None
    assert summary.run.failed >= 1 and summary.run.fetched >= 8


def test_moved_document_is_recorded_with_its_permanent_redirect(demo_crawl):
    settings, _ = demo_crawl
    moved = [r for r in rows(settings) if json.loads(r["redirects"])]
    assert len(moved) == 1
    (status, target), = json.loads(moved[0]["redirects"])
    assert status == 301
    assert target == moved[0]["final_url"] != moved[0]["url"]
    assert moved[0]["status"] == 200 and moved[0]["document"]


def test_boilerplate_is_not_searchable(live_server):
    for words in ("cookies accept", "facebook instagram", "skip to content"):
        _, data = api(live_server, "/api/search", q=words)
        for hit in data["results"]:
            assert "cookie" not in hit["snippet_html"].lower()
            assert "facebook" not in hit["snippet_html"].lower()


def test_national_referral_mechanism_ranks_the_pdf_page_that_explains_it_first(live_server):
    status, data = api(live_server, "/api/search", q="national referral mechanism")
    assert status == 200 and data["total"] >= 1
    top = data["results"][0]
    assert top["doc_type"] == "pdf"
    assert "The National Referral Mechanism" in top["heading_path"]
    path = urllib.parse.urlsplit(top["document_url"]).path
    expected = pdf_page_with_heading(DEMO_HUB / "site" / path.lstrip("/"),
                                     "The National Referral Mechanism")
    assert expected >= 2
    assert top["page"] == expected
    assert top["deep_link"] == f"{top['document_url']}#page={expected}"


def test_duty_to_notify_returns_the_passage_that_explains_it(live_server):
    _, data = api(live_server, "/api/search", q="duty to notify")
    top = data["results"][0]
    assert top["doc_type"] == "html"
    assert any("duty to notify" in h.lower() for h in top["heading_path"][1:])
    assert re.search(r"#[\w-]+$", top["deep_link"]), "links to the section's anchor"
    assert "<mark>" in top["snippet_html"]


def test_welsh_hub_page_is_indexed_as_welsh(live_server):
    _, data = api(live_server, "/api/search", q="caethwasiaeth", limit=20)
    assert data["results"] and all(h["language"] == "cy" for h in data["results"])


def test_paging_returns_the_next_results(live_server):
    _, first = api(live_server, "/api/search", q="safeguarding", limit=3)
    _, second = api(live_server, "/api/search", q="safeguarding", limit=3, offset=3)
    assert first["total"] > 3
    assert [h["deep_link"] for h in first["results"]] != [h["deep_link"] for h in second["results"]]


def test_missing_query_is_a_400_json_message_over_http(live_server):
    status, data = api(live_server, "/api/search")
    assert status == 400 and data["error"]["message"]


def test_search_page_shows_highlighted_passages_with_deep_links(live_server):
    url = f"{live_server.url}/?q=national+referral+mechanism"
    with urllib.request.urlopen(url, timeout=10) as response:
        page = response.read().decode()
    assert '<label for="q">' in page
    assert "<mark>" in page
    assert re.search(r'href="[^"]+#page=\d+"', page)


def test_healthz_names_the_current_generation(live_server, demo_index):
    _, build = demo_index
    _, data = api(live_server, "/healthz")
    assert data == {"status": "ok", "generation": build.generation}


@pytest.mark.parametrize("command", [["crawl"], ["index"]])
def test_stage_commands_report_a_bad_config_in_one_line(tmp_path, command):
    import subprocess
    import sys

    bad = tmp_path / "config.toml"
    bad.write_text('[server]\nport = "eighty"\n')
    proc = subprocess.run([sys.executable, "-m", "hubsearch.cli", *command, "--config", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "server.port" in proc.stderr
