"""The loopback web server for the bundled demo hub (hubsearch/demo_hub, shipped in the wheel).

This module owns serving the demo site: static files under DEMO_HUB/site, the Welsh hub
page for `?lang=cy`, the permanent redirects listed in DEMO_HUB/redirects.toml, 404 for
anything else, and rewriting the demo config's placeholder source URLs (PLACEHOLDER_BASE)
to the address the server actually got. DEMO_HUB/config.toml is the demo config an
installed `hubsearch demo` uses; examples/demo-hub (DEMO_ROOT) holds the source tree's
demo config (`make demo`, the tests) and the script that builds the demo PDFs.

    with DemoSite() as site:
        settings = settings_for_site(load_settings(DEMO_CONFIG), site.base_url)
        ...  # crawl settings.sources

Run `python -m hubsearch.demo_site` to browse the demo site by hand.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import tomllib
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    from hubsearch.settings import Settings

PLACEHOLDER_BASE = "http://demo-hub.invalid"
# Package data, so an installed wheel has it too. A wheel installs as files on disk, which
# the site's file server needs (it serves a directory, not a Traversable).
DEMO_HUB: Path = Path(str(resources.files("hubsearch").joinpath("demo_hub")))
DEMO_CONFIG: Path = DEMO_HUB / "config.toml"
# Only in a source checkout: the repository's demo config and build_pdfs.py.
DEMO_ROOT: Path = Path(__file__).resolve().parent.parent / "examples" / "demo-hub"


def load_redirects(path: Path) -> dict[str, str]:
    """Read `"/old/path" = "/new/path"` lines; both sides must be site paths."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    redirects: dict[str, str] = {}
    for old, new in raw.items():
        if not (isinstance(new, str) and old.startswith("/") and new.startswith("/")):
            raise ValueError(f"{path}: redirect {old!r} = {new!r}: both must be paths from /")
        redirects[old] = new
    return redirects


class DemoHandler(SimpleHTTPRequestHandler):
    """Static files, `?lang=cy` Welsh index pages, 301 redirects and 404 for the rest."""

    redirects: dict[str, str] = {}
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".htm": "text/html; charset=utf-8",
        ".pdf": "application/pdf",
        ".txt": "text/plain; charset=utf-8",
    }

    def send_head(self) -> Any:
        parts = urlsplit(self.path)
        target = self.redirects.get(unquote(parts.path))
        if target is not None:
            location = target + (f"?{parts.query}" if parts.query else "")
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return super().send_head()

    def translate_path(self, path: str) -> str:
        fs_path = super().translate_path(path)
        parts = urlsplit(path)
        if parts.path.endswith("/") and os.path.isdir(fs_path):
            lang = parse_qs(parts.query).get("lang", [""])[-1]
            welsh = os.path.join(fs_path, "index.cy.html")
            if lang == "cy" and os.path.isfile(welsh):
                return welsh
        return fs_path

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        # A directory without an index page is not a page of the site.
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None

    def log_message(self, format: str, *args: Any) -> None:
        pass


class DemoSite:
    """The demo hub served on a loopback port from a daemon thread (a context manager)."""

    def __init__(
        self,
        root: Path = DEMO_HUB / "site",
        redirects: Path | None = DEMO_HUB / "redirects.toml",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"demo site root not found: {self.root}")
        self.redirects = load_redirects(Path(redirects)) if redirects is not None else {}
        self.host = host
        self.port = port
        self.base_url = ""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> DemoSite:
        if self._server is not None:
            return self
        handler_class = type("BoundDemoHandler", (DemoHandler,), {"redirects": self.redirects})
        handler = partial(handler_class, directory=str(self.root))
        server = ThreadingHTTPServer((self.host, self.port), handler)
        host, port = server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="hubsearch-demo-site", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def settings_for_site(settings: Settings, base_url: str) -> Settings:
    """Return settings whose source URLs have PLACEHOLDER_BASE replaced by base_url."""
    base = base_url.rstrip("/")
    sources = tuple(
        dataclasses.replace(s, url=base + s.url[len(PLACEHOLDER_BASE) :])
        if s.url.startswith(PLACEHOLDER_BASE)
        else s
        for s in settings.sources
    )
    return dataclasses.replace(settings, sources=sources)


def main() -> None:
    """Serve the demo site until interrupted and print its address."""
    import argparse

    parser = argparse.ArgumentParser(description="Serve the Hubsearch demo hub locally.")
    parser.add_argument("--port", type=int, default=8001, help="port (0 picks a free one)")
    args = parser.parse_args()
    with DemoSite(port=args.port) as site:
        print(f"Demo hub: {site.base_url}/guidance-for-professionals/supporting-clients-slavery/")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
