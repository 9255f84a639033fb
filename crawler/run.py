"""Crawl entry point: run one crawl in a child process and report its counts.

This is what the CLI and the scheduler call; it never imports Twisted itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass

from hubsearch.errors import HubsearchError
from hubsearch.settings import Settings, settings_to_json
from hubsearch.store import CrawlRun, DocumentStore


class CrawlFailed(HubsearchError):
    """The crawl process itself failed (not a single document)."""


@dataclass
class CrawlSummary:
    run: CrawlRun
    seconds: float

    @property
    def ok(self) -> bool:
        """The crawl finished and fetched something (or had nothing to fail on)."""
        return self.run.finished_at is not None and (self.run.fetched > 0 or not self.run.failed)

    def line(self) -> str:
        r = self.run
        return (
            f"crawl: fetched {r.fetched}, failed {r.failed}, new {r.new}, changed {r.changed}, "
            f"unchanged {r.unchanged}, {r.bytes} bytes, {self.seconds:.1f} s"
        )


def run_crawl(
    settings: Settings, *, sources: list[str] | None = None, log_level: str = "WARNING"
) -> CrawlSummary:
    """Crawl the configured sources (or only `sources`) into the document store."""
    known = {s.name for s in settings.sources}
    unknown = sorted(set(sources or ()) - known)
    if unknown:
        raise CrawlFailed(f"unknown source {unknown[0]!r}; known: {', '.join(sorted(known))}")
    cmd = [sys.executable, "-m", "crawler.child", "--log-level", log_level]
    for name in sources or ():
        cmd += ["--source", name]
    started = time.monotonic()
    with DocumentStore(settings.storage.store_path) as store:
        before = store.last_run()
    proc = subprocess.run(
        cmd, input=settings_to_json(settings), text=True, env=os.environ.copy(), check=False
    )
    seconds = time.monotonic() - started
    with DocumentStore(settings.storage.store_path) as store:
        run = store.last_run()
    if proc.returncode != 0 or run is None or (before is not None and run.id == before.id):
        raise CrawlFailed(f"crawl process exited with status {proc.returncode}")
    return CrawlSummary(run=run, seconds=seconds)
