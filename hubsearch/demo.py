"""`hubsearch demo`: serve the bundled demo hub on loopback, crawl it, index it, serve search.

It drives the same stage entry points as the nightly schedule, only against a local site.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from hubsearch.demo_site import DemoSite, settings_for_site
from hubsearch.settings import Settings, StorageSettings


def run_demo(settings: Settings, *, port: int | None = None) -> None:
    from crawler.run import run_crawl
    from hubsearch.serving import bind
    from indexer.build import build_index
    from search_server import serve

    host = settings.server.host
    port = port if port is not None else settings.server.port
    if port:
        # A port in use is one line now, not after a crawl and an index build.
        bind(host, port).close()
    # The demo site gets a new port each run, so its URLs change: a store kept from an
    # earlier run would show every document twice. Demo data is throwaway; keep it in a
    # temporary directory (never the config's storage, which may hold a real store).
    with tempfile.TemporaryDirectory(prefix="hubsearch-demo-") as tmp, DemoSite() as site:
        demo = dataclasses.replace(
            settings_for_site(settings, site.base_url),
            storage=StorageSettings(Path(tmp) / "hub.sqlite", Path(tmp) / "index"),
        )
        print(f"demo hub served at {site.base_url}", flush=True)
        print(run_crawl(demo).line(), flush=True)
        print(build_index(demo).line(), flush=True)
        print(f"search page: http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
        serve(demo, host=host, port=port)
