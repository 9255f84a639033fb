"""Hostile and broken servers: every case ends the crawl normally, records a one-line reason
for its URL, and leaves the previously stored copy of the document intact.

One hub links to one document per case. The first crawl sees them all healthy; then each
path turns hostile and a second crawl runs against all of them at once.
"""

from __future__ import annotations

import functools
import gzip
import re
import socket
import struct
import time
from http.server import BaseHTTPRequestHandler

import pytest
from conftest import settings_for
from sitekit import Page, html_page

from crawler.run import run_crawl
from hubsearch.store import DocumentStore

MAX_BYTES = 200_000


def _text(name: str) -> str:
    return (f"The {name} guide tells a school nurse how to record a disclosure, who to tell "
            "on the same day, and how to keep the child informed about what happens next.")


def read_timeout(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", "5000")
    handler.end_headers()
    handler.wfile.write(b"<html><body><main><p>Start of a page that never")
    handler.wfile.flush()
    time.sleep(4)  # beyond the crawl's download_timeout of 1 s


def connection_reset(handler: BaseHTTPRequestHandler) -> None:
    # SO_LINGER with a zero timeout makes close() send a TCP reset.
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


def truncated_body(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", "10000")
    handler.end_headers()
    handler.wfile.write(b"<html><body><main><h1>Cut short</h1><p>Only the start")
    handler.wfile.flush()
    handler.connection.shutdown(socket.SHUT_RDWR)
    handler.close_connection = True


@functools.cache
def _bomb() -> bytes:
    # 50 MB of zeros compresses to ~50 KB: small on the wire, huge once decoded. Made once:
    # compressing it takes long enough on a loaded machine to hit the 1 s download timeout.
    return gzip.compress(b"\0" * 50_000_000, compresslevel=9)


def gzip_bomb(handler: BaseHTTPRequestHandler) -> None:
    body = _bomb()
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


# path -> (hostile route, pattern the recorded reason must match)
CASES = {
    "/docs/server-error.html": (
        Page("oops", status=500, content_type="text/plain"), r"^HTTP 500 Internal Server Error$"),
    "/docs/unavailable.html": (
        Page("busy", status=503, content_type="text/plain", headers={"Retry-After": "120"}),
        r"^HTTP 503 Service Unavailable \(Retry-After: 120\)$"),
    "/docs/slow.html": (read_timeout, r"timed out|took longer"),
    "/docs/reset.html": (connection_reset, r"connection (lost|reset|closed)"),
    "/docs/loop.html": (
        Page("", status=302, headers={"Location": "/docs/loop-b.html"}, validators=False),
        r"^max redirections reached$"),
    "/docs/scheme.html": (
        Page("", status=301, headers={"Location": "ftp://files.example/doc.pdf"},
             validators=False),
        r"^HTTP 301 Moved Permanently: redirect to an unsupported URL ftp://"),
    "/docs/not-found.html": (
        Page("no", status=404, content_type="text/plain"), r"^HTTP 404 Not Found$"),
    "/docs/gone.html": (Page("gone", status=410, content_type="text/plain"), r"^HTTP 410 Gone$"),
    "/docs/truncated.html": (truncated_body, r"connection closed before the whole body|lost"),
    "/docs/wrong-type.html": (
        Page(b"\x89PNG\r\n\x1a\n" + b"\0" * 300, content_type="text/html"),
        r"unsupported content type|no text found|parse failed"),
    "/docs/bomb.html": (gzip_bomb, r"compression bomb"),
    "/docs/huge.html": (
        Page("<html><body><main><p>" + "word " * 60_000 + "</p></main></body></html>"),
        r"larger than max_document_bytes"),
}
KEPT = {"/docs/gone.html"}  # a 410 drops the document on purpose; every other copy stays


@pytest.fixture(scope="module")
def hostile_crawl(tmp_path_factory):
    from sitekit import ScriptedSite

    tmp = tmp_path_factory.mktemp("hostile")
    with ScriptedSite() as site:
        links = [*CASES, "/private/secret.html", "/trap/0"]
        site.routes["/hub"] = Page(html_page("Hub", ["Guidance for school nurses."], links))
        for path in CASES:
            site.routes[path] = Page(html_page(f"Guide {path}", [_text(path)]))
        site.routes["/docs/loop-b.html"] = Page(
            "", status=302, headers={"Location": "/docs/loop.html"}, validators=False)
        site.routes["/private/secret.html"] = Page(html_page("Private", [_text("private")]))

        def trap(handler: BaseHTTPRequestHandler) -> None:
            n = int(handler.path.rsplit("/", 1)[-1] or 0)
            page = html_page(f"Trap {n}", [_text("trap")], [f"/trap/{n + i}" for i in (1, 2)])
            data = page.encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)

        # Every trap page links to two more, without end.
        for n in range(100):
            site.routes[f"/trap/{n}"] = trap
        settings = settings_for(tmp, f"{site.url}/hub", download_timeout=1,
                                max_document_bytes=MAX_BYTES)
        first = run_crawl(settings).run
        with DocumentStore(settings.storage.store_path) as store:
            before = {p: store.get(site.url + p) for p in CASES}
        for path, (route, _) in CASES.items():
            site.routes[path] = route
        _bomb()  # made before the crawl that asks for it, not inside its 1 s timeout
        started = time.monotonic()
        second = run_crawl(settings).run
        seconds = time.monotonic() - started
        with DocumentStore(settings.storage.store_path) as store:
            after = {d.url.removeprefix(site.url): d for d in store.all()}
        yield {"first": first, "second": second, "seconds": seconds, "before": before,
               "after": after, "requests": [p for p, _ in site.requests]}


def test_first_crawl_of_healthy_pages_stored_them_all(hostile_crawl):
    before = hostile_crawl["before"]
    assert all(doc is not None and doc.document is not None for doc in before.values()), [
        p for p, d in before.items() if d is None or d.document is None
    ]


def test_second_crawl_finishes_in_bounded_time(hostile_crawl):
    assert hostile_crawl["second"].finished_at
    assert hostile_crawl["seconds"] < 60


@pytest.mark.parametrize("path", sorted(CASES))
def test_each_hostile_answer_is_recorded_with_a_one_line_reason(hostile_crawl, path):
    doc = hostile_crawl["after"][path]
    _, pattern = CASES[path]
    assert doc.error and "\n" not in doc.error and len(doc.error) < 300
    assert re.search(pattern, doc.error), doc.error


@pytest.mark.parametrize("path", sorted(set(CASES) - KEPT))
def test_previously_stored_content_is_intact(hostile_crawl, path):
    before, after = hostile_crawl["before"][path], hostile_crawl["after"][path]
    assert after.document == before.document
    assert after.sha256 == before.sha256
    assert after.state == "stale"


def test_robots_txt_disallow_is_obeyed_and_recorded(hostile_crawl):
    assert "/private/secret.html" not in hostile_crawl["requests"]
    doc = hostile_crawl["after"]["/private/secret.html"]
    assert doc.error == "Forbidden by robots.txt" and doc.document is None


def test_spider_trap_is_not_followed_past_the_first_hop(hostile_crawl):
    trap_hits = {p for p in hostile_crawl["requests"] if p.startswith("/trap/")}
    assert trap_hits == {"/trap/0"}
