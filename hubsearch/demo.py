"""`hubsearch demo`: serve the bundled demo hub on loopback, crawl it, index it, serve search.

It drives the same stage entry points as the nightly schedule, only against a local site.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from pathlib import Path

import tomlkit

from hubsearch.demo_site import DemoSite, settings_for_site
from hubsearch.errors import HubsearchError
from hubsearch.settings import Settings, StorageSettings


def run_demo(settings: Settings, *, port: int | None = None, keep: Path | None = None) -> None:
    """Crawl, index and serve the demo hub; with `keep`, its store and index (and a config
    naming them) stay in that new or empty directory for `report`, `search` and `serve`."""
    from crawler.run import run_crawl
    from hubsearch.backends import open_backend
    from hubsearch_web.serving import bind
    from search_server import serve

    host = settings.server.host
    port = port if port is not None else settings.server.port
    if keep is not None and keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        # The demo site gets a new port each run, so its URLs change: a store kept from an
        # earlier run would show every document twice.
        raise DemoError(f"--keep {keep}: give a new or empty directory")
    if port:
        # A port in use is one line now, not after a crawl and an index build.
        bind(host, port).close()
    with contextlib.ExitStack() as stack:
        # Demo data is throwaway unless kept; never the config's storage, which may hold a
        # real store.
        if keep is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix="hubsearch-demo-")))
        else:
            folder = keep
            folder.mkdir(parents=True, exist_ok=True)
        site = stack.enter_context(DemoSite())
        demo = dataclasses.replace(
            settings_for_site(settings, site.base_url),
            storage=StorageSettings(folder / "hub.sqlite", folder / "index"),
        )
        backend = open_backend(demo)  # a backend that cannot be made fails before the crawl
        print(f"demo hub served at {site.base_url}", flush=True)
        print(run_crawl(demo).line(), flush=True)
        print(backend.build().line(), flush=True)
        if keep is not None:
            config = write_kept_config(demo, folder)
            print(f"kept in {folder}: try `hubsearch report --config {config}`", flush=True)
        print(f"search page: http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
        serve(demo, host=host, port=port)


class DemoError(HubsearchError):
    """A demo that cannot start as asked."""


def write_kept_config(settings: Settings, folder: Path) -> Path:
    """A config beside a kept demo store and index, naming them (paths relative to it) and
    the demo's sources and synonyms."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment("The store and index `hubsearch demo --keep` left here."))
    # The demo hub was served on loopback; its sources name 127.0.0.1.
    doc["crawl"] = {"allow_private_networks": True}
    doc["storage"] = {"store_path": "hub.sqlite", "index_dir": "index"}
    doc["search"] = {key: str(path.resolve()) if path and path.is_file() else ""
                     for key, path in (("synonyms_path", settings.search.synonyms_path),
                                       ("best_bets_path", settings.search.best_bets_path))}
    sources = tomlkit.aot()
    for source in settings.sources:
        # The titles too: the pages name hub pages by them, not by their config names.
        sources.append(tomlkit.item({
            "name": source.name, "title": source.title, "title_cy": source.title_cy,
            "url": source.url, "follow_links": source.follow_links,
            "language": source.language, "audience": list(source.audience)}))
    doc["sources"] = sources
    path = folder / "config.toml"
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path
