"""Locks and process hygiene, tried as the attacks (and accidents) they are: two crawls at once,
two index builds at once, `kill -9` of a crawl, fifteen `sources add` at once.

Every crawl here is a real `hubsearch crawl` process crawling a loopback site with Scrapy into a
real SQLite store; a "slow site" is a page that answers only when the test releases it.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sitekit import Page, ScriptedSite, html_page

from hubsearch.settings import load_settings
from hubsearch.store import DocumentStore

TEXT = ("Staff who suspect modern slavery record what they saw and refer the person to the "
        "national referral mechanism the same day.")


def hubsearch(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hubsearch.cli", *args],
                          capture_output=True, text=True, timeout=timeout)


def start_hubsearch(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hubsearch.cli", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def write_config(tmp: Path, hub_url: str) -> Path:
    config = tmp / "config.toml"
    config.write_text(
        "[crawl]\nallow_private_networks = true  # the test site is on loopback\n"
        "download_delay = 0\nretry_times = 0\n"
        "[storage]\nstore_path = 'hub.sqlite'\nindex_dir = 'index'\n"
        f"[[sources]]\nname = 'hub'\nurl = '{hub_url}'\n"
    )
    return config


def wait_until(check: Callable[[], object], timeout: float = 30.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    return check()


class SlowPage:
    """A page that answers only once the test releases it: a crawl stuck on a slow site."""

    def __init__(self, body: str) -> None:
        self.body = body.encode()
        self.asked = threading.Event()
        self.release = threading.Event()

    def __call__(self, handler) -> None:
        self.asked.set()
        self.release.wait(60)
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.send_header("Content-Length", str(len(self.body)))
            handler.end_headers()
            handler.wfile.write(self.body)
        except OSError:
            pass  # the crawler that asked was killed


@pytest.fixture
def slow_hub(scripted_site: ScriptedSite, tmp_path: Path):
    """A hub linking to a 404 (answered at once) and to a page that hangs until released."""
    site = scripted_site
    slow = SlowPage(html_page("Slow guide", [TEXT]))
    site.routes["/hub"] = Page(html_page("Hub", [TEXT], ["/docs/missing.html", "/docs/slow.html"]))
    site.routes["/docs/slow.html"] = slow
    yield site, slow, write_config(tmp_path, f"{site.url}/hub")
    slow.release.set()


def proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None if there is no such process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    stat = proc_stat(pid)
    return stat is not None and stat[0] != "Z"  # a zombie is dead, just not yet reaped


def crawl_children(parent: int) -> list[int]:
    """Live `python -m crawler.child` processes whose parent is `parent`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        stat = proc_stat(int(entry.name))
        if b"crawler.child" in argv and stat and stat[1] == parent and stat[0] != "Z":
            found.append(int(entry.name))
    return found


def missing_url_failures(store_path: Path, url: str) -> int | None:
    with DocumentStore(store_path) as store:
        doc = store.get(url)
    return doc.consecutive_failures if doc else None


def test_a_second_crawl_while_one_runs_is_refused_naming_the_holder(slow_hub):
    site, slow, config = slow_hub
    first = start_hubsearch("crawl", "--config", str(config))
    try:
        assert slow.asked.wait(60), "the first crawl never reached the slow page"
        second = hubsearch("crawl", "--config", str(config))
    finally:
        slow.release.set()
        out, err = first.communicate(timeout=120)
    assert second.returncode == 1
    assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
    assert second.stderr.startswith("error: another crawl of ")
    assert f"pid {first.pid} (hubsearch crawl --config {config})" in second.stderr
    assert "since 20" in second.stderr and "--wait" in second.stderr
    assert first.returncode == 0, err
    # The 404 was asked for and counted once: a manual crawl on the night cannot make it two.
    assert len(site.requests_for("/docs/missing.html")) == 1
    store_path = config.parent / "hub.sqlite"
    assert missing_url_failures(store_path, f"{site.url}/docs/missing.html") == 1
    with DocumentStore(store_path) as store:
        assert [r.outcome for r in store.runs()] == ["finished"]


def test_a_second_crawl_with_wait_runs_after_the_first_has_finished(slow_hub):
    site, slow, config = slow_hub
    first = start_hubsearch("crawl", "--config", str(config))
    try:
        assert slow.asked.wait(60)
        second = start_hubsearch("crawl", "--wait", "--config", str(config))
        assert wait_until(lambda: second.poll() is not None, timeout=4) is False  # still waiting
    finally:
        slow.release.set()
    first.communicate(timeout=120)
    _, err = second.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, err
    assert f"crawl: waiting for pid {first.pid} (hubsearch crawl --config {config})" in err
    with DocumentStore(config.parent / "hub.sqlite") as store:
        later, earlier = store.runs()
    assert earlier.finished_at <= later.started_at  # one after the other, never overlapping
    assert len(site.requests_for("/docs/missing.html")) == 2


HOLD_INDEX_LOCK = """
import sys
from pathlib import Path
from hubsearch.locks import stage_lock
with stage_lock(Path(sys.argv[1]), "index"):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_second_index_build_is_refused_naming_the_holder_or_waits(slow_hub):
    site, slow, config = slow_hub
    slow.release.set()
    assert hubsearch("crawl", "--config", str(config)).returncode == 0
    store_path = config.parent / "hub.sqlite"
    # Another build holds the store's index lock (the same lock `hubsearch index` takes).
    holder = subprocess.Popen([sys.executable, "-c", HOLD_INDEX_LOCK, str(store_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        refused = hubsearch("index", "--config", str(config))
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1
        assert refused.stderr.startswith("error: another index build of ")
        assert f"pid {holder.pid} (" in refused.stderr
        assert not (config.parent / "index" / "current").exists()
        waiting = start_hubsearch("index", "--wait", "--config", str(config))
        # Its first line says whom it waits for; it must still be waiting after that (read
        # before releasing: on a loaded machine it may take seconds just to start).
        said = waiting.stderr.readline()
        assert f"waiting for pid {holder.pid}" in said
        assert wait_until(lambda: waiting.poll() is not None, timeout=1) is False
    finally:
        holder.communicate(input="", timeout=30)  # the other build finishes
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, said + err
    assert out.startswith("index: full")
    assert (config.parent / "index" / "current").exists()


def test_the_nightly_job_takes_the_same_crawl_lock(slow_hub, caplog):
    from schedules.nightly import nightly_job

    site, slow, config = slow_hub
    manual = start_hubsearch("crawl", "--config", str(config))
    try:
        assert slow.asked.wait(60)
        with caplog.at_level(logging.INFO, logger="schedules.nightly"):
            assert nightly_job(str(config)) is False
    finally:
        slow.release.set()
        manual.communicate(timeout=120)
    assert manual.returncode == 0
    assert len(site.requests_for("/hub")) == 1  # the nightly crawl fetched nothing
    refused = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(refused) == 1
    assert "nightly: run failed: crawl failed: another crawl of " in refused[0]
    assert f"pid {manual.pid} (hubsearch crawl" in refused[0]
    assert not any(r.exc_info for r in caplog.records)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; prctl is Linux's")
def test_kill_9_of_a_crawl_takes_its_crawl_child_with_it_and_the_run_is_marked_killed(slow_hub):
    site, slow, config = slow_hub
    store_path = config.parent / "hub.sqlite"
    missing = f"{site.url}/docs/missing.html"
    crawl = start_hubsearch("crawl", "--config", str(config))
    try:
        assert slow.asked.wait(60)
        children = wait_until(lambda: crawl_children(crawl.pid))
        assert len(children) == 1, children
        child = children[0]
        # The killed run had already counted the 404 once.
        assert wait_until(lambda: missing_url_failures(store_path, missing) == 1)
        crawl.kill()  # SIGKILL: no handler, no cleanup, no chance to stop the child itself
        crawl.wait(timeout=10)
        assert wait_until(lambda: not alive(child), timeout=5), "crawl child outlived its parent"
    finally:
        slow.release.set()
        if crawl.poll() is None:
            crawl.kill()
    runs = hubsearch("report", "--runs", "--config", str(config))
    assert runs.returncode == 0, runs.stderr
    assert runs.stdout.splitlines()[1].split()[0] == "1"
    assert "killed (never finished: its process was killed" in runs.stdout

    again = hubsearch("crawl", "--config", str(config))
    assert again.returncode == 0, again.stderr
    with DocumentStore(store_path) as store:
        assert [(r.id, r.outcome) for r in store.runs()] == [(2, "finished"), (1, "killed")]
        doc = store.get(missing)
    # One complete crawl has seen the 404: it is not gone after "two" crawls.
    assert doc.consecutive_failures == 1 and doc.state == "failed"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_run_is_not_what_the_quality_gate_judges(scripted_site, tmp_path):
    site = scripted_site
    docs = ["/docs/a.html", "/docs/b.html", "/docs/c.html"]
    site.routes["/hub"] = Page(html_page("Hub", [TEXT], docs))
    for path in docs:
        site.routes[path] = Page(html_page(f"Guide {path}", [TEXT]))
    config = write_config(tmp_path, f"{site.url}/hub")
    assert hubsearch("crawl", "--config", str(config)).returncode == 0
    assert hubsearch("index", "--config", str(config)).returncode == 0
    for path in docs:
        site.routes[path] = Page("down", status=503, content_type="text/plain")
    assert hubsearch("crawl", "--config", str(config)).returncode == 0  # run 2: 3 of 4 failed
    gated = hubsearch("index", "--config", str(config))
    assert gated.returncode == 1 and "quality gate: 75% of documents failed in crawl run 2" \
        in gated.stderr

    slow = SlowPage(html_page("Hub", [TEXT], docs))
    site.routes["/hub"] = slow
    crawl = start_hubsearch("crawl", "--config", str(config))  # run 3, killed with no counts
    try:
        assert slow.asked.wait(60)
        crawl.kill()
        crawl.wait(timeout=10)
    finally:
        slow.release.set()
    still = hubsearch("index", "--config", str(config))
    assert still.returncode == 1, still.stdout
    assert "quality gate: 75% of documents failed in crawl run 2" in still.stderr


def test_fifteen_sources_added_at_once_are_all_kept_and_removed_at_once_all_go(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("# hub sources\n[crawl]\ndownload_delay = 0\n", encoding="utf-8")
    names = [f"guide-{i:02}" for i in range(15)]

    def add(name: str) -> subprocess.CompletedProcess:
        return hubsearch("sources", "add", f"https://{name}.example.org/hub", "--name", name,
                         "--config", str(config))

    with ThreadPoolExecutor(max_workers=15) as pool:
        added = list(pool.map(add, names))
    assert [a.returncode for a in added] == [0] * 15, [a.stderr for a in added]
    assert sorted(s.name for s in load_settings(config).sources) == names
    assert config.read_text(encoding="utf-8").startswith("# hub sources\n")

    def remove(name: str) -> subprocess.CompletedProcess:
        return hubsearch("sources", "remove", name, "--config", str(config))

    with ThreadPoolExecutor(max_workers=15) as pool:
        removed = list(pool.map(remove, names))
    assert [r.returncode for r in removed] == [0] * 15, [r.stderr for r in removed]
    assert load_settings(config).sources == ()
