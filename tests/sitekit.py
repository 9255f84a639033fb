"""A scripted web site on a loopback port, for crawl tests: each path answers what the test
says, and the test can change the answers between crawls (edit, move, remove, break).

Like Scrapy's own mock server: a real HTTP server on 127.0.0.1, port chosen by the OS.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Page:
    body: bytes | str = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    # Validators: an ETag derived from the body, and a fixed Last-Modified, unless disabled.
    validators: bool = True
    last_modified: float = 1_700_000_000.0

    def data(self) -> bytes:
        return self.body.encode() if isinstance(self.body, str) else self.body

    def etag(self) -> str:
        return '"' + hashlib.sha256(self.data()).hexdigest()[:16] + '"'


# A route is a Page, or a function that writes the whole response itself (for resets,
# truncated bodies, stalls).
Route = Page | Callable[[BaseHTTPRequestHandler], None]


def html_page(title: str, paragraphs: list[str], links: list[str] = (), lang: str = "en") -> str:
    """A small guidance page with boilerplate around its main content."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    items = "".join(f'<li><a href="{href}">{href} (External link)</a></li>' for href in links)
    return (
        f'<!doctype html><html lang="{lang}"><head><title>{title}</title></head><body>'
        '<header><nav><a href="/">Home</a> <a href="/about">About us</a></nav></header>'
        f'<main id="main"><h1>{title}</h1>{body}'
        + (f'<h2 id="documents">Documents</h2><ul>{items}</ul>' if links else "")
        + "</main><footer><p>Footer text for every page of the site</p></footer></body></html>"
    )


class ScriptedSite:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.robots = "User-agent: *\nDisallow: /private/\n"
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                site.requests.append((self.path, dict(self.headers)))
                path = urlsplit(self.path).path
                if path == "/robots.txt":
                    route: Route = Page(site.robots, content_type="text/plain")
                else:
                    route = site.routes.get(self.path) or site.routes.get(path) or Page(
                        "not here", status=404, content_type="text/plain"
                    )
                if callable(route):
                    route(self)
                    return
                self._send_page(route)

            def _send_page(self, page: Page) -> None:
                data = page.data()
                headers = dict(page.headers)
                if page.validators and page.status == 200:
                    etag = page.etag()
                    modified = formatdate(page.last_modified, usegmt=True)
                    headers.setdefault("ETag", etag)
                    headers.setdefault("Last-Modified", modified)
                    if self.headers.get("If-None-Match") == etag:
                        self.send_response(304)
                        for k, v in headers.items():
                            self.send_header(k, v)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def requests_for(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]


# A hub as maintainers meet it: three guides and one that has moved (301). `break_some`
# then withdraws one (410) and takes another down (503).
MAINTAINED_DOCS = ["/docs/first.html", "/docs/old-name.html", "/docs/withdrawn.html",
                   "/docs/flaky.html"]


def maintained_hub(site: ScriptedSite, text: str) -> None:
    site.routes["/hub"] = Page(html_page("Hub", ["Guidance for professionals."],
                                         MAINTAINED_DOCS))
    for path in ("/docs/first.html", "/docs/new-name.html", "/docs/withdrawn.html",
                 "/docs/flaky.html"):
        site.routes[path] = Page(html_page(f"Guide {path}", [text]))
    site.routes["/docs/old-name.html"] = Page(
        "", status=301, headers={"Location": "/docs/new-name.html"}, validators=False)


def break_some(site: ScriptedSite) -> None:
    site.routes["/docs/withdrawn.html"] = Page("gone", status=410, content_type="text/plain")
    site.routes["/docs/flaky.html"] = Page("busy", status=503, content_type="text/plain")
