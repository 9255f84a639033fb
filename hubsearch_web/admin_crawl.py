"""Crawl now: a maintainer starts a crawl of one source or all, followed by the incremental
index, watches it, and may cancel it.

The run is `hubsearch refresh` (the nightly run's work, schedules/nightly.py) in a process of
its own, in a session of its own so a cancel reaches the crawler's child too. It takes the
store's crawl lock like any crawl, so it never overlaps the nightly run or a crawl from the
shell; a second request while one runs is refused, saying who started it and when. What the
run is doing is kept beside the store (`<store>.crawl-now.json`, and its output in
`<store>.crawl-now.log`), so every server process shows the same run; a run that ended is
judged by its last line. Starting and cancelling are in the audit log.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from filelock import FileLock
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from hubsearch import audit
from hubsearch.locks import describe_holder, probe_idle, read_holder
from hubsearch.settings import Settings
from hubsearch.store import DocumentStore, utc_now
from hubsearch_web.admin_routes import render
from hubsearch_web.admin_session import (
    Refused,
    SignedIn,
    client_address,
    maintainer_form,
    maintainers_only,
    open_store,
)

TAIL_LINES = 15
TAIL_BYTES = 16 * 1024
MAX_LINE = 300
CANCEL_SECONDS = 10.0  # after SIGTERM, before SIGKILL
KILL_SECONDS = 5.0  # after SIGKILL, for the kernel to tear the run down


def _job_file(settings: Settings) -> Path:
    store = settings.storage.store_path
    return store.with_name(store.name + ".crawl-now.json")


def _log_file(settings: Settings) -> Path:
    store = settings.storage.store_path
    return store.with_name(store.name + ".crawl-now.log")


def _alive(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie, ended but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


def _tail(path: Path) -> list[str]:
    try:
        with path.open("rb") as log:
            log.seek(max(0, path.stat().st_size - TAIL_BYTES))
            text = log.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    lines = [line[:MAX_LINE] for line in text.splitlines() if line.strip()]
    return lines[-TAIL_LINES:]


def _outcome(lines: list[str]) -> str:
    for line in reversed(lines):
        if "refresh: run succeeded" in line:
            return "succeeded"
        if "refresh: run failed" in line:
            return "failed"
    return "ended"  # killed, or stopped without its last line


def job(request: Request) -> dict[str, Any] | None:
    """The last crawl-now run, as every server process sees it; a run found ended is
    written back with its outcome."""
    settings = request.app.state.settings
    path = _job_file(settings)
    for child in list(getattr(request.app.state, "crawl_children", ())):
        if child.poll() is not None:  # reap our own children, so none stays a zombie
            request.app.state.crawl_children.remove(child)
    with FileLock(str(path) + ".lock", timeout=10):
        data = _read(path)
        if not data:
            return None
        if data.get("state") == "running" and not _alive(int(data.get("pid", 0))):
            data.update(state=_outcome(_tail(_log_file(settings))), finished_at=utc_now())
            _write(path, data)
    data["log"] = _tail(_log_file(settings))
    data["fetched"] = _fetched(request, data) if data.get("state") == "running" else None
    return data


def _fetched(request: Request, data: dict[str, Any]) -> int | None:
    """Documents the running crawl has requested so far (its run in the store)."""
    with open_store(request) as store:
        if store is None:
            return None
        row = store.db.execute(
            "SELECT id FROM crawl_runs WHERE started_at >= ? ORDER BY id DESC LIMIT 1",
            (data.get("started_at", ""),)).fetchone()
        if row is None:
            return 0
        return store.db.execute("SELECT count(*) FROM documents WHERE last_run = ?",
                                (row[0],)).fetchone()[0]


def _read(path: Path) -> dict[str, Any]:
    """The run recorded at `path`; empty if none (or not readable: as if none)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({k: v for k, v in data.items() if k not in ("log", "fetched")}),
                   encoding="utf-8")
    os.replace(tmp, path)


def _start(request: Request, store: DocumentStore, who: SignedIn, sources: list[str]) -> None:
    settings = request.app.state.settings
    if settings.path is None:
        raise Refused(409, "this server was started without a config file to crawl with")
    path = _job_file(settings)
    with FileLock(str(path) + ".lock", timeout=10):
        last = _read(path)
        if last.get("state") == "running" and _alive(int(last.get("pid", 0))):
            raise Refused(409, f"a crawl is already running: started by {last.get('by')} at "
                               f"{last.get('started_at')}")
        idle = probe_idle(settings.storage.store_path, "crawl")
        if idle is None:
            holder = describe_holder(read_holder(settings.storage.store_path, "crawl"))
            raise Refused(409, f"a crawl is already running: {holder}")
        idle.release()
        command = [sys.executable, "-m", "hubsearch.cli", "refresh",
                   "--config", str(settings.path)]
        for name in sources:
            command += ["--source", name]
        with _log_file(settings).open("wb") as log:
            child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     cwd=str(settings.path.parent))
        if not hasattr(request.app.state, "crawl_children"):
            request.app.state.crawl_children = []
        request.app.state.crawl_children.append(child)
        _write(path, {"id": secrets.token_hex(4), "pid": child.pid, "state": "running",
                      "by": who.name, "started_at": utc_now(), "sources": sources})
    with store.db:
        audit.record(store, who.name, "crawl started", ", ".join(sources) or "all sources",
                     client=client_address(request))


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass  # already gone


def _wait_stopped(request: Request, pid: int, seconds: float) -> bool:
    """Wait up to `seconds` for the run to be over: its process gone and the crawl lock
    free. The lock is the proof: a process whose main thread has ended shows as a zombie
    while its other threads (numpy's, say) still exit and still hold the lock's file."""
    store_path = request.app.state.settings.storage.store_path
    deadline = time.monotonic() + seconds
    while True:
        for child in getattr(request.app.state, "crawl_children", ()):
            child.poll()  # reap ours: the kernel reports a process only once all of it ended
        if not _alive(pid):
            idle = probe_idle(store_path, "crawl")
            if idle is not None or not store_path.exists():
                if idle is not None:
                    idle.release()
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def _cancel(request: Request, store: DocumentStore, who: SignedIn) -> None:
    settings = request.app.state.settings
    path = _job_file(settings)
    with FileLock(str(path) + ".lock", timeout=30):
        data = _read(path)
        pid = int(data.get("pid", 0))
        if data.get("state") != "running" or not _alive(pid):
            raise Refused(409, "no crawl is running")
        _signal_group(pid, signal.SIGTERM)  # the run's own session: the crawler's child too
        if not _wait_stopped(request, pid, CANCEL_SECONDS) and _alive(pid):
            _signal_group(pid, signal.SIGKILL)
            _wait_stopped(request, pid, KILL_SECONDS)
        data.update(state="cancelled", finished_at=utc_now(), cancelled_by=who.name)
        _write(path, data)
    with store.db:
        audit.record(store, who.name, "crawl cancelled", ", ".join(data.get("sources") or [])
                     or "all sources", client=client_address(request))


@maintainers_only
def crawl_page(request: Request, store: DocumentStore, who: SignedIn) -> Response:
    return render(request, "admin_crawl.html", {
        "who": who, "here": "crawl", "job": job(request),
        "sources": request.app.state.settings.sources})


@maintainers_only
def crawl_status(request: Request, store: DocumentStore, who: SignedIn) -> Response:
    return JSONResponse(job(request) or {"state": None})


def _back(request: Request) -> Response:
    return RedirectResponse(f"{request.scope.get('root_path', '')}/admin/crawl",
                            status_code=303)


def _start_posted(request: Request, form: FormData, store: DocumentStore,
                  who: SignedIn) -> Response:
    chosen = form.get("source")
    names = {s.name for s in request.app.state.settings.sources}
    if chosen and chosen not in names:
        raise Refused(400, "no source of that name")
    _start(request, store, who, [chosen] if isinstance(chosen, str) and chosen else [])
    return _back(request)


def _cancel_posted(request: Request, form: FormData, store: DocumentStore,
                   who: SignedIn) -> Response:
    _cancel(request, store, who)
    return _back(request)


routes = [
    Route("/admin/crawl", crawl_page, methods=["GET"]),
    Route("/admin/crawl", maintainer_form(_start_posted), methods=["POST"]),
    Route("/admin/crawl/cancel", maintainer_form(_cancel_posted), methods=["POST"]),
    Route("/admin/crawl/status.json", crawl_status),
]
