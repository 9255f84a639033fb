"""The link-health snapshot the indexer saves beside the index (hubsearch/status_snapshot.py):
a build rewrites the lines of the documents that changed, not the whole report; readers get
the documents needing attention bounded, with the count of all; a damaged snapshot is
written again rather than failing the build."""

from __future__ import annotations

import pytest
from conftest import add_maintainer, guide_fetch, record_guides, settings_for, sign_in
from starlette.testclient import TestClient

import hubsearch.status_snapshot as snapshot
from hubsearch.status_snapshot import SNAPSHOT, document_status, read_status
from hubsearch.store import DocumentStore
from indexer.build import build_index
from search_server import create_app

HUB = "https://hub.example/hub"
URLS = [f"https://hub.example/docs/{n}" for n in range(12)]


@pytest.fixture
def built(tmp_path):
    settings = settings_for(tmp_path, HUB)
    assert record_guides(settings, len(URLS), HUB) == URLS
    build_index(settings, full=True)
    return settings


def _count_lines_made(monkeypatch) -> list[str]:
    made: list[str] = []
    original = snapshot.document_row

    def counting(store, doc):
        made.append(doc.url)
        return original(store, doc)

    monkeypatch.setattr(snapshot, "document_row", counting)
    return made


def test_a_build_rewrites_the_status_lines_of_the_changed_documents_only(built, monkeypatch):
    made = _count_lines_made(monkeypatch)
    with DocumentStore(built.storage.store_path) as store:
        store.record_fetch(guide_fetch(URLS[3], "A revised guide on the duty to notify."))
        store.record_failure(URLS[5], "hub", "HTTP 503 Service Unavailable", status=503)
    build_index(built)
    assert sorted(made) == sorted([URLS[3], URLS[5]])
    assert document_status(built.storage.index_dir, URLS[5])["state"] == "stale"
    assert [h["outcome"] for h in document_status(built.storage.index_dir, URLS[3])["history"]
            ] == ["changed", "new"]

    made.clear()
    build_index(built)  # nothing changed in the store: no line is made again
    assert made == []


def test_status_gives_the_first_documents_needing_attention_and_counts_them_all(built):
    with DocumentStore(built.storage.store_path) as store:
        for url in URLS[:5]:
            store.record_failure(url, "hub", "HTTP 410 Gone", status=410)
    build_index(built)
    status = read_status(built.storage.index_dir, limit=2)
    assert [d["url"] for d in status["documents"]] == sorted(URLS[:5])[:2]
    assert status["documents_needing_attention"] == 5
    assert status["documents_total"] == len(URLS) + 1
    (source,) = status["sources"]
    assert source["documents"] == {"ok": 7, "stale": 0, "gone": 5, "failed": 0}

    client = TestClient(create_app(built))
    add_maintainer(built)
    sign_in(client)
    page = client.get("/status")
    assert page.status_code == 200 and "5 documents need attention." in page.text


def test_a_damaged_status_snapshot_is_written_again_at_the_next_build(built):
    path = built.storage.index_dir / SNAPSHOT
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    assert read_status(built.storage.index_dir) is None
    client = TestClient(create_app(built))
    assert client.get("/api/status").status_code == 503

    with DocumentStore(built.storage.store_path) as store:
        store.record_fetch(guide_fetch(URLS[0], "A revised first guide."))
    assert build_index(built).mode == "incremental"
    status = client.get("/api/status").json()
    assert status["documents_total"] == len(URLS) + 1 and status["index"]["switched"]


def _count_stamps(monkeypatch) -> list[str]:
    stamped: list[str] = []
    original = snapshot._digest

    def counting(text):
        stamped.append(text)
        return original(text)

    monkeypatch.setattr(snapshot, "_digest", counting)
    return stamped


def test_a_build_reads_only_the_rows_the_store_changed_since_it_last_looked(built,
                                                                           monkeypatch):
    """Comparing every document's stamp took 0.65 s of a 200k-passage build: the store's
    revision numbers say which rows changed, whichever way they changed."""
    stamped = _count_stamps(monkeypatch)
    made = _count_lines_made(monkeypatch)
    with DocumentStore(built.storage.store_path) as store:
        store.record_not_modified(URLS[1])
        # Dropped for no longer being linked: a row change with no fetch logged.
        store.db.execute("UPDATE documents SET state = 'gone' WHERE url = ?", (URLS[7],))
        store.db.commit()
    build_index(built)
    assert sorted(made) == sorted([URLS[1], URLS[7]])
    assert len(stamped) == 2
    assert document_status(built.storage.index_dir, URLS[7])["state"] == "gone"


def test_a_store_restored_from_an_earlier_backup_is_compared_row_by_row(built, tmp_path,
                                                                         monkeypatch):
    from hubsearch.store_backup import backup_store

    backup = tmp_path / "backup.sqlite"
    backup_store(built.storage.store_path, backup)
    with DocumentStore(built.storage.store_path) as store:
        store.record_failure(URLS[2], "hub", "HTTP 503 Service Unavailable", status=503)
    build_index(built)
    assert document_status(built.storage.index_dir, URLS[2])["state"] == "stale"
    backup.replace(built.storage.store_path)  # the restore: its revision is behind the snapshot
    made = _count_lines_made(monkeypatch)
    build_index(built)
    assert made == [URLS[2]], "the one row that differs from the restored store"
    assert document_status(built.storage.index_dir, URLS[2])["state"] == "ok"


def test_another_store_put_in_place_is_compared_row_by_row_even_if_further_on(built,
                                                                             monkeypatch):
    # A new store, crawled afresh, can number past what the old one reached: its revision
    # numbers say nothing about the snapshot's rows.
    other = built.storage.store_path.with_name("other.sqlite")
    with DocumentStore(other) as store:
        # Its first change (revision 1 or so), then enough others to pass the old store.
        store.record_failure(URLS[4], "hub", "HTTP 404 Not Found", status=404)
        for n, url in enumerate(URLS):
            if url != URLS[4]:
                for _ in range(4):
                    store.record_fetch(guide_fetch(url, f"Guide {n} on the duty to notify."))
    with DocumentStore(built.storage.store_path) as old, DocumentStore(other) as new:
        seen = old.db.execute("SELECT n FROM revision").fetchone()[0]
        rows = new.db.execute("SELECT rev FROM documents WHERE url = ?", (URLS[4],))
        assert rows.fetchone()[0] < seen < new.db.execute("SELECT n FROM revision").fetchone()[0]
    other.replace(built.storage.store_path)
    made = _count_lines_made(monkeypatch)
    build_index(built)
    assert URLS[4] in made
    assert document_status(built.storage.index_dir, URLS[4])["error"]
