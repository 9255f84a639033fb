"""An incremental build costs what changed: unchanged documents are never decoded.

A store filled the way the crawler fills it (DocumentStore.record_fetch), a real Whoosh
build, then one document edited: the second build must decode that one document only, and
still index the canonical/attribution rules the full build applied.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import sqlite3

from conftest import guide_fetch, record_guides, settings_for

from crawler.document import ExtractedDocument
from hubsearch.store import DocumentStore
from indexer import manifest
from indexer.build import INDEX_FORMAT, build_index
from indexer.search import PassageSearcher

HUB = "https://hub.example/hub"


def test_incremental_build_decodes_only_the_changed_document(tmp_path, monkeypatch):
    settings = settings_for(tmp_path, HUB)
    urls = record_guides(settings, 30)
    build_index(settings, full=True)
    with DocumentStore(settings.storage.store_path) as store:
        store.record_fetch(guide_fetch(urls[7], "Revised guide on the pangolin referral route."))

    decoded: list[str] = []
    original = ExtractedDocument.from_dict.__func__

    def counting(cls, data):
        decoded.append(data.get("title", ""))
        return original(cls, data)

    monkeypatch.setattr(ExtractedDocument, "from_dict", classmethod(counting))
    result = build_index(settings)
    assert result.mode == "incremental" and result.changed == [urls[7]]
    assert decoded == ["Guide 7"]
    hits = PassageSearcher(settings.storage.index_dir, synonyms_path=None).search("pangolin")
    assert [h.document_url for h in hits.results] == [urls[7]]
    assert dataclasses.asdict(hits.results[0]).get("source") in (None, "hub")


def test_an_incremental_build_links_unchanged_files_and_never_writes_into_the_old_one(
        tmp_path):
    from indexer import generations

    settings = settings_for(tmp_path, HUB)
    urls = record_guides(settings, 12)
    build_index(settings, full=True)
    old = generations.current_generation(settings.storage.index_dir)
    before = {p.relative_to(old): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in old.rglob("*") if p.is_file()}
    with DocumentStore(settings.storage.store_path) as store:
        store.record_fetch(guide_fetch(urls[2], "Revised guide on the wombat referral route."))
        store.record_failure(urls[5], "hub", "HTTP 410 Gone", status=410)

    assert build_index(settings).mode == "incremental"
    new = generations.current_generation(settings.storage.index_dir)
    after = {p.relative_to(old): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in old.rglob("*") if p.is_file()}
    assert after == before, "the generation being served was written into"
    segments = [p for p in old.glob("*.seg")]
    assert segments and all((new / p.name).stat().st_ino == p.stat().st_ino for p in segments)
    hits = PassageSearcher(settings.storage.index_dir, synonyms_path=None).search("wombat")
    assert [h.document_url for h in hits.results] == [urls[2]]


def test_a_generation_of_an_older_layout_is_built_anew_not_updated(tmp_path):
    # A generation written before passages carried their kind lacks that field: adding a
    # new passage to it would fail. The next build is a full one.
    settings = settings_for(tmp_path, HUB)
    urls = record_guides(settings, 5)
    build_index(settings, full=True)
    current = settings.storage.index_dir / "current"
    assert manifest.read_info(current)["format"] == INDEX_FORMAT
    with contextlib.closing(sqlite3.connect(current / manifest.MANIFEST)) as db, db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'format'", (str(INDEX_FORMAT - 1),))
    with DocumentStore(settings.storage.store_path) as store:
        store.record_fetch(guide_fetch(urls[1], "Revised guide on the pangolin referral route."))
    result = build_index(settings)
    assert result.mode == "full" and result.documents == 6  # the hub and its five guides
    assert build_index(settings).mode == "unchanged"


def test_a_generation_listed_in_the_old_json_manifest_is_built_anew(tmp_path):
    # Versions before manifest.sqlite listed documents in manifest.json: such a generation
    # is of an older layout, whatever it holds.
    settings = settings_for(tmp_path, HUB)
    record_guides(settings, 3)
    build_index(settings, full=True)
    current = settings.storage.index_dir / "current"
    (current / manifest.MANIFEST).unlink()
    (current / "manifest.json").write_text(json.dumps({"format": INDEX_FORMAT, "documents": {}}))
    assert build_index(settings).mode == "full"
    assert build_index(settings).mode == "unchanged"
