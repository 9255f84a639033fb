"""The disk fills during a crawl, or during an index build: nothing may vanish silently.

Each attack runs twice: on a real, small tmpfs (needs root to mount; skipped with the reason
otherwise) and under RLIMIT_FSIZE, where the kernel refuses to grow any file past a size, so
SQLite and Whoosh meet a real write error without root. The crawl is a real `hubsearch crawl`
of a loopback site; the store is real SQLite, the index real Whoosh.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sitekit import Page, ScriptedSite, html_page

from hubsearch.settings import load_settings
from hubsearch.store import DocumentStore
from indexer import generations
from indexer.search import PassageSearcher

DOCS = [f"/docs/guide-{i:02}.html" for i in range(12)]
FAILED_LINE = re.compile(r"failed (\S+): store write failed: (.+)$")

# Run the CLI under a file-size limit. Python ignores SIGXFSZ, so a write past the limit
# fails with EFBIG instead of killing the process; the crawl child inherits the limit.
UNDER_FSIZE_LIMIT = (
    "import os, resource, sys\n"
    "limit = int(sys.argv[1])\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'hubsearch.cli', *sys.argv[2:]])\n"
)


def guide(i: int) -> str:
    # Distinct words, so each document is a few kilobytes of its own in the store.
    words = " ".join(f"duty{i}x{j} referral{j} safeguarding{i}" for j in range(300))
    return html_page(f"Guide {i}", [f"Guide {i} sets out what staff must do. {words}"])


@pytest.fixture
def hub(scripted_site: ScriptedSite) -> ScriptedSite:
    scripted_site.routes["/hub"] = Page(html_page("Hub", ["Guidance for professionals."], DOCS))
    for i, path in enumerate(DOCS):
        scripted_site.routes[path] = Page(guide(i))
    return scripted_site


def write_config(tmp: Path, hub_url: str, store_path: Path, index_dir: Path) -> Path:
    config = tmp / "config.toml"
    config.write_text(
        "[crawl]\nallow_private_networks = true  # the test site is on loopback\n"
        "download_delay = 0\nretry_times = 0\n"
        f"[storage]\nstore_path = '{store_path}'\nindex_dir = '{index_dir}'\n"
        f"[[sources]]\nname = 'hub'\nurl = '{hub_url}'\n"
    )
    return config


def hubsearch(*args: str, fsize_limit: int | None = None) -> subprocess.CompletedProcess:
    prefix = [sys.executable, "-m", "hubsearch.cli"]
    if fsize_limit is not None:
        prefix = [sys.executable, "-c", UNDER_FSIZE_LIMIT, str(fsize_limit)]
    return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MB tmpfs mounted for the test."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the RLIMIT_FSIZE variant runs instead")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"mount is not permitted here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def fill(disk: Path, leave: int) -> Path:
    """Fill the file system at `disk` until only `leave` bytes are free."""
    st = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * max(st.f_bavail * st.f_frsize - leave, 0))
    return filler


def assert_nothing_vanished(out: subprocess.CompletedProcess, site: ScriptedSite,
                            store_path: Path, reason: str) -> None:
    """Every document fetched is stored, or was failed with `reason` in one log line; the
    crawl exits non-zero and its counts include the failures."""
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    failed = {m.group(1): m.group(2) for line in out.stderr.splitlines()
              if (m := FAILED_LINE.search(line))}
    assert failed, out.stderr
    assert set(failed.values()) == {reason}
    with DocumentStore(store_path) as store:
        stored = {d.url for d in store.searchable()}
    fetched = {f"{site.url}{path}" for path, _ in site.requests if path in ["/hub", *DOCS]}
    assert fetched <= stored | set(failed), fetched - stored - set(failed)
    assert not stored & set(failed)
    # The run's counts (in the summary line, or the error line when even the run row could
    # not be written) include every document that was not stored.
    counts = re.search(r"failed (\d+)", out.stdout + out.stderr.splitlines()[-1])
    assert counts and int(counts.group(1)) >= len(failed)
    assert reason in out.stdout + out.stderr.splitlines()[-1]


def test_disk_full_during_a_crawl_fails_each_unstored_document_and_the_crawl(
        hub, small_disk, tmp_path):
    store_path = small_disk / "hub.sqlite"
    config = write_config(tmp_path, f"{hub.url}/hub", store_path, tmp_path / "index")
    DocumentStore(store_path).close()
    filler = fill(small_disk, leave=96 * 1024)  # room for the hub page and a few guides

    out = hubsearch("crawl", "--config", str(config))
    assert_nothing_vanished(out, hub, store_path, "database or disk is full")

    # Space freed, the next crawl stores everything: the store survived the full disk.
    filler.unlink()
    again = hubsearch("crawl", "--config", str(config))
    assert again.returncode == 0, again.stderr
    with DocumentStore(store_path) as store:
        assert len(list(store.searchable())) == len(DOCS) + 1


def test_a_file_size_limit_during_a_crawl_fails_each_unstored_document_and_the_crawl(
        hub, tmp_path):
    store_path = tmp_path / "hub.sqlite"
    config = write_config(tmp_path, f"{hub.url}/hub", store_path, tmp_path / "index")
    DocumentStore(store_path).close()

    out = hubsearch("crawl", "--config", str(config), fsize_limit=96 * 1024)
    assert_nothing_vanished(out, hub, store_path, "disk I/O error")


def crawl_and_index(hub: ScriptedSite, config: Path) -> None:
    assert hubsearch("crawl", "--config", str(config)).returncode == 0
    built = hubsearch("index", "--config", str(config))
    assert built.returncode == 0, built.stderr


def assert_previous_index_serves(out: subprocess.CompletedProcess, index_dir: Path,
                                 before: Path, reason: str) -> None:
    assert out.returncode == 1, out.stdout
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith("error: index build failed: ") and reason in out.stderr
    assert out.stderr.rstrip().endswith("the previous index keeps serving")
    assert generations.current_generation(index_dir) == before
    assert sorted(p.name for p in index_dir.iterdir() if p.is_dir() and not p.is_symlink()) \
        == [before.name]  # the half-built generation was removed
    hits = PassageSearcher(index_dir).search("duty3x7").results
    assert hits and hits[0].document_url.endswith("/docs/guide-03.html")


def test_disk_full_while_indexing_is_one_line_and_the_previous_index_keeps_serving(
        hub, small_disk, tmp_path):
    index_dir = small_disk / "index"
    config = write_config(tmp_path, f"{hub.url}/hub", tmp_path / "hub.sqlite", index_dir)
    crawl_and_index(hub, config)
    before = generations.current_generation(index_dir)
    fill(small_disk, leave=8 * 1024)

    out = hubsearch("index", "--full", "--config", str(config))
    assert_previous_index_serves(out, index_dir, before, "No space left on device")


def test_a_file_size_limit_while_indexing_is_one_line_and_the_previous_index_keeps_serving(
        hub, tmp_path):
    index_dir = tmp_path / "index"
    config = write_config(tmp_path, f"{hub.url}/hub", tmp_path / "hub.sqlite", index_dir)
    crawl_and_index(hub, config)
    before = generations.current_generation(index_dir)

    # 400 KB: the store (~180 KB) can still be read, the index segment (~850 KB) not written.
    out = hubsearch("index", "--full", "--config", str(config), fsize_limit=400 * 1024)
    assert_previous_index_serves(out, index_dir, before, "File too large")
    assert load_settings(config).storage.index_dir == index_dir
