"""While `hubsearch index` switches in new generations, a client looping on /api/search
never sees an error or an empty page."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
import urllib.request

from conftest import LiveServer

from hubsearch.settings import StorageSettings
from indexer.build import build_index
from search_server import create_app


def test_searches_during_index_switches_never_fail_or_come_back_empty(demo_crawl, tmp_path):
    crawled, _ = demo_crawl
    store = tmp_path / "hub.sqlite"
    shutil.copy(crawled.storage.store_path, store)
    settings = dataclasses.replace(crawled, storage=StorageSettings(store, tmp_path / "index"))
    build_index(settings)
    outcomes: list[tuple[int, int]] = []
    stop = threading.Event()

    with LiveServer(create_app(settings)) as server:
        def client() -> None:
            url = f"{server.url}/api/search?q=national+referral+mechanism"
            while not stop.is_set():
                try:
                    with urllib.request.urlopen(url, timeout=10) as response:
                        outcomes.append((response.status, len(json.load(response)["results"])))
                except Exception:  # noqa: BLE001 - any failure is what the test counts
                    outcomes.append((0, 0))

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        generations = {build_index(settings, full=True).generation for _ in range(6)}
        stop.set()
        for t in threads:
            t.join(timeout=20)

    assert len(generations) == 6, "each build switched in a new generation"
    assert len(outcomes) > 20
    assert all(status == 200 and count > 0 for status, count in outcomes), [
        o for o in outcomes if o[0] != 200 or o[1] == 0
    ][:5]
