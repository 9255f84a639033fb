"""Backing up and upgrading the document store: `hubsearch backup` copies it consistently
while a crawl holds a write open, the copy restores to the same search results, a failed
backup leaves nothing that looks like one, and the store's schema version is migrated
forward and refused backward."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
import subprocess
import sys

import pytest
from conftest import guide_fetch, serve_config, settings_for

from hubsearch.store import SCHEMA_VERSION, DocumentStore

HUB = "https://hub.example/hub"


def hubsearch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hubsearch.cli", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def stored(tmp_path):
    live = tmp_path / "live"
    settings = settings_for(live, HUB)
    urls = [f"https://hub.example/docs/{n}" for n in range(6)]
    with DocumentStore(settings.storage.store_path) as store:
        store.record_fetch(guide_fetch(HUB, "Guidance for professionals.", links=tuple(urls),
                                  is_source=True))
        for n, url in enumerate(urls):
            store.record_fetch(guide_fetch(url, f"Guide {n}: the wombat referral route, step {n}."))
    live.mkdir(exist_ok=True)
    return settings, serve_config(live, settings)


def _search(config) -> list[str]:
    out = hubsearch("search", "wombat referral", "--json", "--config", str(config))
    assert out.returncode == 0, out.stderr
    return [hit["document_url"] for hit in json.loads(out.stdout)["results"]]


def test_a_backup_taken_while_a_crawl_writes_restores_to_the_same_results(stored, tmp_path):
    settings, config = stored
    assert hubsearch("index", "--config", str(config)).returncode == 0
    expected = _search(config)
    # A crawl in the middle of writing: its transaction is open for the whole backup.
    crawl = sqlite3.connect(settings.storage.store_path)
    crawl.execute("BEGIN IMMEDIATE")
    crawl.execute("UPDATE documents SET error = 'half-written' WHERE url = ?", (HUB,))
    try:
        out = hubsearch("backup", str(tmp_path / "copy.sqlite"), "--config", str(config))
    finally:
        crawl.rollback()
        crawl.close()
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("backup: 7 documents,") and out.stderr == ""

    # Restore as docs/deploy.md says: the copy in place of the store, then a full index.
    restored = settings_for(tmp_path / "restored", HUB)
    restored.storage.store_path.parent.mkdir(parents=True)
    shutil.copy(tmp_path / "copy.sqlite", restored.storage.store_path)
    config = serve_config(tmp_path / "restored", restored)
    assert hubsearch("index", "--full", "--config", str(config)).returncode == 0
    assert _search(config) == expected and expected
    with DocumentStore(restored.storage.store_path) as store:
        assert store.db.execute("SELECT count(*) FROM documents WHERE error = 'half-written'"
                                ).fetchone()[0] == 0


def test_a_backup_into_a_directory_is_dated_and_never_overwrites(stored, tmp_path):
    _, config = stored
    folder = tmp_path / "backups"
    folder.mkdir()
    first = hubsearch("backup", str(folder), "--config", str(config))
    assert first.returncode == 0, first.stderr
    (made,) = folder.iterdir()
    assert made.suffix == ".sqlite" and made.name.startswith("hub-")
    again = hubsearch("backup", str(made), "--config", str(config))
    assert again.returncode == 1 and again.stderr.count("\n") == 1
    assert "already exists" in again.stderr
    assert sorted(p.name for p in folder.iterdir()) == [made.name], "nothing partial is left"


def test_a_backup_of_a_missing_store_is_one_line(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f"[storage]\nstore_path = {json.dumps(str(tmp_path / 'none.sqlite'))}\n")
    out = hubsearch("backup", str(tmp_path / "copy.sqlite"), "--config", str(config))
    assert out.returncode == 1 and out.stderr.startswith("error: no document store at")
    assert not (tmp_path / "copy.sqlite").exists()


def test_a_store_made_before_schema_versions_is_migrated_forward(tmp_path):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE crawl_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL,
            finished_at TEXT, fetched INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0, new INTEGER NOT NULL DEFAULT 0,
            changed INTEGER NOT NULL DEFAULT 0, unchanged INTEGER NOT NULL DEFAULT 0,
            gone INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0);
        INSERT INTO crawl_runs (started_at, finished_at) VALUES ('2026-01-01', '2026-01-01');
    """)
    old.close()
    with DocumentStore(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.last_run().outcome == "finished"


def test_a_version_1_store_gets_its_documents_canonical_links_as_a_column(tmp_path):
    path = tmp_path / "v1.sqlite"
    fetch = guide_fetch("https://hub.example/docs/print?id=7", "Guide on the duty to notify.")
    fetch = dataclasses.replace(fetch, document=dataclasses.replace(
        fetch.document, canonical_url="https://hub.example/docs/duty"))
    with DocumentStore(path) as store:
        store.record_fetch(fetch)
        store.record_fetch(guide_fetch("https://hub.example/docs/plain", "A plain guide."))
    with sqlite3.connect(path) as db:  # as version 1 left it: no column
        db.execute("ALTER TABLE documents DROP COLUMN canonical_url")
        db.execute("PRAGMA user_version = 1")
    db.close()

    with DocumentStore(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        keys = {ref.url: ref.index_key for ref in store.searchable_refs()}
    assert keys == {"https://hub.example/docs/print?id=7": "https://hub.example/docs/duty",
                    "https://hub.example/docs/plain": "https://hub.example/docs/plain"}


def test_a_migrated_store_numbers_its_changes_from_then_on(tmp_path):
    path = tmp_path / "v2.sqlite"
    with DocumentStore(path) as store:
        store.record_fetch(guide_fetch("https://hub.example/docs/a", "A guide."))
    with sqlite3.connect(path) as db:  # as version 2 left it: no revisions
        for trigger in ("documents_inserted", "documents_updated", "fetch_logged"):
            db.execute(f"DROP TRIGGER {trigger}")
        db.execute("DROP INDEX documents_by_rev")
        db.execute("DROP TABLE revision")
        db.execute("ALTER TABLE documents DROP COLUMN rev")
        db.execute("PRAGMA user_version = 2")
    db.close()

    with DocumentStore(path) as store:
        assert store.db.execute("SELECT rev FROM documents").fetchone()[0] == 0
        store.record_not_modified("https://hub.example/docs/a")
        store.record_fetch(guide_fetch("https://hub.example/docs/b", "Another guide."))
        revs = dict(store.db.execute("SELECT url, rev FROM documents").fetchall())
        (latest,) = store.db.execute("SELECT n FROM revision").fetchone()
    assert 0 < revs["https://hub.example/docs/a"] < revs["https://hub.example/docs/b"] == latest


def test_a_store_from_a_later_version_is_refused_with_one_line(stored):
    settings, config = stored
    with sqlite3.connect(settings.storage.store_path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    out = hubsearch("index", "--config", str(config))
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert "newer than this hubsearch knows" in out.stderr
