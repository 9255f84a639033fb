"""Serving at size without multiplying memory or stalling at a switch.

- `counts()` counts live passages: an incremental build deletes a document's passages in
  place (Whoosh keeps them, marked deleted, until their segment merges).
- The build writes the spelling vocabulary into the generation, so a server opening it
  reads one file, not every stored passage; an incremental build re-reads only the change.
- Segments are read through the OS page cache, never copied into each searcher.
- `hubsearch serve --workers 2` runs two processes accepting on one port, and the app is
  importable for an ASGI server (`uvicorn --factory search_server:app_from_env`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import free_port, serve_config, settings_for
from sitekit import Page, html_page
from whoosh.filedb.structfile import BufferFile

import indexer.spelling
from crawler.run import run_crawl
from indexer import generations, manifest
from indexer.build import build_index
from indexer.search import PassageSearcher
from indexer.spelling import VOCABULARY_FILE, Vocabulary, vocabulary_from_reader

ROOT = Path(__file__).resolve().parent.parent
TEXT = (
    "When a young person goes missing from care more than once, the social worker arranges "
    "a return conversation within three days and shares what was learnt with the police."
)
DOCS = {"/docs/returns.html": "Zanzibarite", "/docs/missing.html": "Quokkawise",
        "/docs/police.html": "Marmalader"}


@pytest.fixture
def hub(scripted_site, tmp_path):
    """A hub linking three guides, each with one word no other passage has; indexed."""
    site = scripted_site
    site.routes["/hub"] = Page(html_page("Hub", ["Guidance for professionals."], list(DOCS)))
    for path, word in DOCS.items():
        site.routes[path] = Page(html_page(f"Guide {word}", [f"{word} guidance: {TEXT}"]))
    settings = settings_for(tmp_path, f"{site.url}/hub")
    run_crawl(settings)
    build_index(settings)
    return site, settings


class PassagesRead:
    """Counts stored passages read to count vocabulary words (indexer/spelling.py)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = indexer.spelling.passage_texts

        def counting(stored):
            self.calls += 1
            return original(stored)

        monkeypatch.setattr(indexer.spelling, "passage_texts", counting)


def _live_vocabulary(generation: Path) -> dict[str, int]:
    with generations.open_index(generation).reader() as reader:
        return dict(vocabulary_from_reader(reader).counts)


def _remove(site, path: str) -> None:
    site.routes[path] = Page("gone", status=410, content_type="text/plain")


def test_counts_leave_out_passages_an_incremental_build_deleted(hub):
    site, settings = hub
    index_dir = settings.storage.index_dir
    before = PassageSearcher(index_dir).counts()
    url = f"{site.url}/docs/returns.html"
    removed = manifest.entries(generations.current_generation(index_dir))[url]
    _remove(site, "/docs/returns.html")
    run_crawl(settings)
    assert build_index(settings).removed == [url]

    with generations.open_index(generations.current_generation(index_dir)).reader() as r:
        assert r.doc_count_all() > r.doc_count(), "the deleted passages are still in place"
    assert PassageSearcher(index_dir).counts() == {
        "indexed_passages": before["indexed_passages"] - removed.passages,
        "indexed_documents": before["indexed_documents"] - 1,
    }


def test_the_server_loads_the_vocabulary_the_build_saved_without_reading_passages(
        hub, monkeypatch):
    _, settings = hub
    current = generations.current_generation(settings.storage.index_dir)
    assert (current / VOCABULARY_FILE).is_file()
    read = PassagesRead(monkeypatch)

    vocabulary = PassageSearcher(settings.storage.index_dir).vocabulary()
    page = PassageSearcher(settings.storage.index_dir).search("zanzibrite guidance")

    assert read.calls == 0
    assert page.suggestion == "zanzibarite guidance"
    monkeypatch.undo()
    assert vocabulary.counts == _live_vocabulary(current)


def test_a_generation_without_a_vocabulary_file_still_gets_one_from_its_passages(hub):
    _, settings = hub
    current = generations.current_generation(settings.storage.index_dir)
    (current / VOCABULARY_FILE).unlink()
    assert PassageSearcher(settings.storage.index_dir).vocabulary().counts == \
        _live_vocabulary(current)


def test_an_incremental_build_recounts_only_the_passages_it_changed(hub, monkeypatch):
    site, settings = hub
    index_dir = settings.storage.index_dir
    old = manifest.entries(generations.current_generation(index_dir))
    removed = old[f"{site.url}/docs/returns.html"].passages
    _remove(site, "/docs/returns.html")
    site.routes["/docs/missing.html"] = Page(
        html_page("Guide Quokkawise", [f"Quokkawise guidance, revised: {TEXT}"]))
    run_crawl(settings)
    read = PassagesRead(monkeypatch)

    result = build_index(settings)

    assert result.mode == "incremental" and result.changed == [f"{site.url}/docs/missing.html"]
    changed_before = old[f"{site.url}/docs/missing.html"].passages
    # The deleted passages are read back (removed and the changed one's old ones); the new
    # ones were counted as the build wrote them.
    assert result.passages_written >= 1
    assert read.calls == removed + changed_before
    monkeypatch.undo()
    current = generations.current_generation(index_dir)
    vocabulary = Vocabulary.load(current)
    assert vocabulary.counts == _live_vocabulary(current)
    assert "zanzibarite" not in vocabulary and "revised" in vocabulary
    # Nothing is counted or written again: every segment already has its words and arrays.
    assert generations.warm(current) == {"passages_read": 0, "deleted_read": 0,
                                         "segments_written": 0, "postings_written": 0,
                                         "column_segments_written": 0}


def test_searchers_read_segments_from_the_file_not_a_private_copy(hub):
    """Whoosh copies each part of a memory-mapped compound segment into a BytesIO
    (BufferFile) per searcher; opened without mmap, a searcher reads the file in place."""
    _, settings = hub
    current = generations.current_generation(settings.storage.index_dir)
    with generations.open_index(current).searcher() as searcher:
        searcher.stored_fields(0)  # opens the stored-fields column too
        files = [f for leaf, _ in searcher.reader().leaf_readers()
                 for f in [leaf._terms._postfile]
                 + [entry[0] for entry in leaf._perdoc._colfiles.values()]]
        assert len(files) >= 2
        assert not any(isinstance(f, BufferFile) for f in files)


def test_an_incremental_build_reads_the_copied_segments_in_place(hub, monkeypatch):
    """The incremental writer searches the copied generation for what to delete: through
    memory-mapped compound files Whoosh would copy every part it reads into a BufferFile
    (~3 KB a passage: 3.1 GB at 1M, over the full build's peak)."""
    site, settings = hub
    copies: list[object] = []
    original = BufferFile.__init__

    def counting(self, *args, **kwargs):
        copies.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(BufferFile, "__init__", counting)
    site.routes["/docs/missing.html"] = Page(
        html_page("Guide Numbatwise", [f"Numbatwise guidance, revised: {TEXT}"]))
    run_crawl(settings)
    result = build_index(settings)
    assert result.mode == "incremental" and result.changed
    assert copies == []


# --- Serving: several worker processes, and the importable app ------------------------


def _start(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines, deadline = [], time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        # Printed in either order, depending on whether uvicorn bound the socket itself.
        output = "".join(lines)
        match = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", output)
        if match and "Application startup complete" in output:
            return proc, match.group(1)
    proc.kill()
    raise AssertionError("server did not start:\n" + "".join(lines))


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _search(url: str, words: str) -> dict:
    query = urllib.parse.urlencode({"q": words})
    # A new connection each time: each is accepted by whichever worker gets to it first.
    with urllib.request.urlopen(f"{url}/api/search?{query}", timeout=30) as response:
        return json.loads(response.read())


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _holds(pid: int, path: Path) -> bool:
    """Has process `pid` a file of `path` open (a searcher on that generation)?"""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd).startswith(str(path)):
                return True
        except OSError:
            continue
    return False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
def test_serve_with_two_workers_searches_in_two_processes_on_one_port(hub, tmp_path):
    _, settings = hub
    current = generations.current_generation(settings.storage.index_dir)
    proc, url = _start([sys.executable, "-m", "hubsearch.cli", "serve", "--config",
                        str(serve_config(tmp_path, settings)), "--host", "127.0.0.1",
                        "--port", str(free_port()), "--workers", "2"], {})
    try:
        searching: set[int] = set()
        deadline = time.monotonic() + 60
        while len(searching) < 2 and time.monotonic() < deadline:
            with ThreadPoolExecutor(8) as pool:
                pages = list(pool.map(lambda _: _search(url, "return conversation"),
                                      range(16)))
            assert {p["results"][0]["title"].split()[0] for p in pages} == {"Guide"}
            searching = {c for c in _children(proc.pid) if _holds(c, current)}
        assert len(searching) == 2, "both workers opened the index to answer searches"
        assert not _holds(proc.pid, current), "the supervisor itself searches nothing"
    finally:
        _stop(proc)


def test_the_app_factory_serves_under_uvicorn(hub, tmp_path):
    _, settings = hub
    proc, url = _start(
        [sys.executable, "-m", "uvicorn", "--factory", "search_server:app_from_env",
         "--host", "127.0.0.1", "--port", str(free_port()), "--log-level", "info"],
        {"HUBSEARCH_CONFIG": str(serve_config(tmp_path, settings))})
    try:
        page = _search(url, "zanzibarite")
        assert [r["title"] for r in page["results"]] == ["Guide Zanzibarite"]
    finally:
        _stop(proc)


def _marker(round_: int) -> str:
    return f"revision{'abcdefgh'[round_]}marker"


def _segment_ids(generation: Path) -> set[str]:
    with generations.open_index(generation).reader() as reader:
        return {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}


def test_the_vocabulary_total_stays_exact_through_revisions_and_merges(hub):
    """Each build carries the previous total forward (new segments added, deleted passages
    and merged segments taken away): after many builds it must still equal a recount, and
    the generation it was copied from must keep its own."""
    site, settings = hub
    index_dir = settings.storage.index_dir
    seen: set[str] = set()
    merged = False
    for round_ in range(8):
        previous = generations.current_generation(index_dir)
        path = list(DOCS)[round_ % len(DOCS)]
        site.routes[path] = Page(html_page(
            f"Guide {path}", [f"{_marker(round_).title()} guidance: {TEXT}"]))
        run_crawl(settings)
        assert build_index(settings).mode == "incremental"
        current = generations.current_generation(index_dir)
        ids = _segment_ids(current)
        merged |= bool(seen - ids - _segment_ids(previous)) or bool(
            _segment_ids(previous) - ids)
        seen |= ids

        assert Vocabulary.load(current).counts == _live_vocabulary(current)
        assert Vocabulary.load(previous).counts == _live_vocabulary(previous)
        assert _marker(round_) in Vocabulary.load(current)
        if round_ >= 3:  # the page was revised again: its old word is gone
            assert _marker(round_ - 3) not in Vocabulary.load(current)
        leftovers = {p.name for p in current.glob("spelling-*.json")} - {
            f"spelling-{s}{end}" for s in ids for end in (".json", ".deleted.json")}
        assert not leftovers, "files of segments merged away are removed"
    assert merged, "Whoosh merged segments along the way (the case to prove)"
