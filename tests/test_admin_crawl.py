"""Crawl now, from the maintainers' pages: a real crawl of a loopback site in a process of
its own, then the incremental index; its progress while it runs, one run at a time, a
cancel that stops it and frees the crawl lock, and nothing started without a session and
its CSRF token."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from conftest import add_maintainer, page_csrf, sign_in
from sitekit import Page, ScriptedSite, html_page, maintained_hub
from starlette.testclient import TestClient

from hubsearch.locks import probe_idle
from hubsearch.settings import load_settings
from hubsearch.store import DocumentStore
from search_server import create_app

TEXT = ("Ward staff who suspect a patient is being exploited speak to them alone and "
        "contact the named safeguarding nurse the same shift.")


def _config(tmp_path, site_url: str):
    config = tmp_path / "config.toml"
    config.write_text(
        "[crawl]\nallow_private_networks = true\ndownload_delay = 0\nretry_times = 0\n"
        "download_timeout = 60\n"
        '[storage]\nstore_path = "hub.sqlite"\nindex_dir = "index"\n'
        f'[[sources]]\nname = "hub"\nurl = "{site_url}/hub"\n')
    return config


@pytest.fixture
def site():
    with ScriptedSite() as site:
        maintained_hub(site, TEXT)
        yield site


@pytest.fixture
def admin(tmp_path, site):
    settings = load_settings(_config(tmp_path, site.url))
    add_maintainer(settings)
    client = TestClient(create_app(settings))
    sign_in(client)
    return settings, client


def _start(client: TestClient, source: str = "hub"):
    csrf = page_csrf(client.get("/admin/crawl").text)
    return client.post("/admin/crawl", data={"csrf": csrf, "source": source},
                       follow_redirects=False)


def _wait(client: TestClient, until, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get("/admin/crawl/status.json").json()
        if until(job):
            return job
        time.sleep(0.3)
    raise AssertionError(f"gave up waiting: {job}")


def _audit(settings) -> list[tuple[str, str]]:
    with DocumentStore(settings.storage.store_path) as store:
        return [tuple(r) for r in store.db.execute(
            "SELECT action, target FROM audit WHERE action LIKE 'crawl %' ORDER BY id")]


@pytest.mark.slow
def test_a_maintainer_crawls_a_source_now_and_its_documents_become_searchable(admin):
    settings, client = admin
    assert client.get("/api/search", params={"q": "safeguarding nurse"}).status_code == 503

    assert _start(client).status_code == 303
    job = _wait(client, lambda job: job["state"] != "running")

    assert job["state"] == "succeeded", job["log"]
    assert any("refresh: index: index: " in line for line in job["log"])
    hits = client.get("/api/search", params={"q": "safeguarding nurse"}).json()["results"]
    assert hits and hits[0]["document_url"].endswith((".html", "/hub"))
    assert "safeguarding" in hits[0]["snippet_html"].lower()
    page = client.get("/admin/crawl").text
    assert "succeeded" in page and "Crawl now</button>" in page
    assert _audit(settings) == [("crawl started", "hub")]


@pytest.mark.slow
def test_one_run_at_a_time_and_a_cancel_stops_it_and_frees_the_lock(admin, site):
    settings, client = admin

    def stall(handler) -> None:
        time.sleep(60)  # a document that never arrives while the test runs

    site.routes["/hub"] = Page(html_page("Hub", ["Guidance."],
                                         ["/docs/first.html", "/slow.pdf"]))
    site.routes["/slow.pdf"] = stall
    assert _start(client).status_code == 303
    _wait(client, lambda job: job["state"] == "running" and job["fetched"], 60)

    again = _start(client, source="")
    assert again.status_code == 409 and "already running" in again.text
    running = client.get("/admin/crawl").text
    assert "Cancel the crawl" in running and "Refresh this page" in running

    csrf = page_csrf(running)
    assert client.post("/admin/crawl/cancel", data={"csrf": csrf},
                       follow_redirects=False).status_code == 303
    job = client.get("/admin/crawl/status.json").json()
    assert job["state"] == "cancelled" and job["cancelled_by"] == "morgan"
    lock = probe_idle(settings.storage.store_path, "crawl")
    assert lock is not None, "the cancelled crawl still holds the crawl lock"
    lock.release()
    assert _audit(settings) == [("crawl started", "hub"), ("crawl cancelled", "hub")]


def test_nothing_starts_without_a_session_and_its_token(admin, tmp_path):
    settings, client = admin
    stranger = TestClient(client.app)
    assert stranger.get("/admin/crawl", follow_redirects=False).status_code == 303
    assert stranger.get("/admin/crawl/status.json",
                        follow_redirects=False).status_code == 303
    assert client.post("/admin/crawl", data={"source": "hub"}).status_code == 403
    assert client.post("/admin/crawl", data={"csrf": "forged"}).status_code == 403
    csrf = page_csrf(client.get("/admin/crawl").text)
    unknown = client.post("/admin/crawl", data={"csrf": csrf, "source": "../../etc"})
    assert unknown.status_code == 400
    assert not list(tmp_path.glob("*.crawl-now.json")) and _audit(settings) == []


# A run whose main thread ends first: it shows as a zombie while another thread still holds
# the crawl lock for a while (as numpy's threads did while the process was torn down).
_LINGERING_RUN = """
import ctypes, sys, threading, time
from filelock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("holding", flush=True)
def let_go_later():
    time.sleep(1.5)
    lock.release()
def on_term(*_):
    threading.Thread(target=let_go_later).start()
    ctypes.CDLL(None).pthread_exit(None)  # the main thread ends; the other one goes on
import signal
signal.signal(signal.SIGTERM, on_term)
time.sleep(60)
"""


def test_a_cancel_waits_until_the_run_has_let_go_of_the_crawl_lock(admin, tmp_path):
    settings, client = admin
    store_path = settings.storage.store_path
    DocumentStore(store_path).close()
    run = subprocess.Popen([sys.executable, "-c", _LINGERING_RUN,
                            str(store_path) + ".crawl.lock"],
                           stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert run.stdout.readline().strip() == "holding"
        # The run as another server process started it: only its record says it runs.
        (tmp_path / "hub.sqlite.crawl-now.json").write_text(json.dumps(
            {"id": "1", "pid": run.pid, "state": "running", "by": "morgan",
             "started_at": "2026-01-01T00:00:00Z", "sources": []}))
        csrf = page_csrf(client.get("/admin/crawl").text)
        assert client.post("/admin/crawl/cancel", data={"csrf": csrf},
                           follow_redirects=False).status_code == 303
        lock = probe_idle(store_path, "crawl")
        assert lock is not None, "the cancel answered while the run still held the lock"
        lock.release()
    finally:
        run.kill()
        run.wait()
