"""Crawl entry point: run one crawl in a child process and report its counts.

This is what the CLI and the scheduler call; it never imports Twisted itself. It holds the
store's crawl lock (hubsearch/locks.py) for the whole crawl, so two crawls never fetch and
count the same URLs at once, and on taking it marks any run that never finished as killed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass

from hubsearch.errors import HubsearchError
from hubsearch.locks import stage_lock
from hubsearch.settings import Settings, settings_to_json
from hubsearch.store import CrawlRun, DocumentStore


class CrawlFailed(HubsearchError):
    """The crawl process itself failed (not a single document)."""


@dataclass
class CrawlSummary:
    run: CrawlRun
    seconds: float
    error: str | None = None  # what went wrong in the crawl process, beyond the run's counts

    @property
    def ok(self) -> bool:
        """The crawl finished, stored every outcome, and fetched something (or had nothing
        to fail on)."""
        return (
            self.error is None
            and self.run.finished_at is not None
            and self.run.outcome in (None, "finished")
            and (self.run.fetched > 0 or not self.run.failed)
        )

    def line(self) -> str:
        r = self.run
        line = (
            f"crawl: fetched {r.fetched}, failed {r.failed}, new {r.new}, changed {r.changed}, "
            f"unchanged {r.unchanged}, {r.bytes} bytes, {self.seconds:.1f} s"
        )
        if r.outcome not in (None, "finished"):
            line += f"; {r.outcome}: {r.error}"
        if self.error:
            line += f"; {self.error}"
        return line


def run_crawl(
    settings: Settings,
    *,
    sources: list[str] | None = None,
    log_level: str = "WARNING",
    wait: bool = False,
) -> CrawlSummary:
    """Crawl the configured sources (or only `sources`) into the document store.

    Refused with LockBusy (naming the holder) if another crawl of the same store is running,
    unless `wait`, which waits for it.
    """
    known = {s.name for s in settings.sources}
    unknown = sorted(set(sources or ()) - known)
    if unknown:
        raise CrawlFailed(f"unknown source {unknown[0]!r}; known: {', '.join(sorted(known))}")
    store_path = settings.storage.store_path
    with stage_lock(store_path, "crawl", wait=wait):
        return _crawl_locked(settings, sources, log_level)


def _crawl_locked(settings: Settings, sources: list[str] | None, log_level: str) -> CrawlSummary:
    store_path = settings.storage.store_path
    # The child must die with us: it is told our pid and has the kernel kill it (prctl) when
    # we go. The thread blocked in subprocess.run below is the "parent" prctl watches.
    cmd = [sys.executable, "-m", "crawler.child", "--log-level", log_level,
           "--parent-pid", str(os.getpid())]
    for name in sources or ():
        cmd += ["--source", name]
    started = time.monotonic()
    try:
        with DocumentStore(store_path) as store:
            # We hold the crawl lock: any run still open is one whose process died.
            store.mark_killed_runs()
            before = store.last_run()
    except sqlite3.Error as exc:
        raise CrawlFailed(f"document store {store_path}: {exc}") from None
    returncode, report = _run_child(cmd, settings_to_json(settings))
    seconds = time.monotonic() - started
    try:
        with DocumentStore(store_path) as store:
            run = store.last_run()
    except sqlite3.Error as exc:
        raise CrawlFailed(f"document store {store_path}: {exc}") from None
    recorded = run is not None and (before is None or run.id != before.id) and (
        report.get("run_recorded") in (None, run.id)
    )
    if recorded and run.finished_at is not None and returncode in (0, 1):
        # Exit 1 with a recorded run: some outcome was not stored (the run's outcome says so)
        # or the crawl logged an error of its own; either way the summary is not ok.
        error = None
        if returncode == 1 and run.outcome == "finished":
            error = f"{report.get('unexpected_errors', 0)} crawl errors; see the log above"
        return CrawlSummary(run=run, seconds=seconds, error=error)
    raise CrawlFailed(_failure_line(returncode, report))


def _run_child(cmd: list[str], settings_json: str) -> tuple[int, dict]:
    """Run the crawl child to its end; its exit status and the JSON report it left us.

    The report comes over a pipe of its own rather than stdout: the child's own children
    (the parser fork server) inherit stdout, and a pipe they hold open would make a reader
    wait for them. This pipe is read only once the child has exited, without waiting for EOF.
    """
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            [*cmd, "--report-fd", str(write_fd)], stdin=subprocess.PIPE, text=True,
            pass_fds=(write_fd,), env=os.environ.copy(),
        )
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    try:
        proc.communicate(settings_json)
    except BaseException:  # e.g. Ctrl-C: the child must not outlive us (nor crawl on)
        proc.kill()
        proc.wait()
        os.close(read_fd)
        raise
    os.set_blocking(read_fd, False)
    chunks = []
    try:
        while chunk := os.read(read_fd, 65536):
            chunks.append(chunk)
    except BlockingIOError:
        pass  # nothing more now; whoever still holds the pipe has nothing of ours
    finally:
        os.close(read_fd)
    try:
        report = json.loads(b"".join(chunks) or b"{}")
    except ValueError:
        report = {}
    return proc.returncode, report if isinstance(report, dict) else {}


def _failure_line(returncode: int, report: dict) -> str:
    reason = report.get("first_store_error")
    if reason:
        counts = report.get("counts") or {}
        return (
            f"crawl: {reason}; {report.get('store_write_errors', 0)} outcomes not stored "
            f"(fetched {counts.get('fetched', 0)}, failed {counts.get('failed', 0)})"
            f"{'' if report.get('run_recorded') else '; the run could not be recorded'}"
        )
    if returncode < 0:
        return f"crawl process was killed by signal {-returncode}"
    return f"crawl process exited with status {returncode}"
