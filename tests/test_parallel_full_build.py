"""A full build indexes in worker processes (indexer/build.py `_ParallelWriter`), one Whoosh
segment per worker: it must find and score every passage as a single-process build does,
and an incremental build must carry on from the segments it left."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from conftest import guide_fetch, settings_for

from hubsearch.settings import Settings, StorageSettings
from hubsearch.store import DocumentStore
from indexer import build, generations
from indexer.build import build_index
from indexer.search import PassageSearcher
from indexer.spelling import Vocabulary

QUERIES = [
    "duty to notify", "modern slavery", "safeguarding children", "child exploitation",
    "national referral mechanism", "NRM", "county lines", "forced labour", "trafficking",
    "report a concern", "multi-agency", "gofal plant", "caethwasiaeth fodern", "police",
]


def _segments(index_dir: Path) -> int:
    generation = generations.current_generation(index_dir)
    with generations.open_index(generation).reader() as reader:
        return len(list(reader.leaf_readers()))


def _build(settings: Settings, index_dir: Path, procs: int, monkeypatch) -> Settings:
    monkeypatch.setattr(build, "FULL_BUILD_PROCS", procs)
    monkeypatch.setattr(build, "BATCH", 5)  # the demo hub is small: give every worker jobs
    settings = dataclasses.replace(settings, storage=StorageSettings(
        store_path=settings.storage.store_path, index_dir=index_dir))
    build_index(settings, full=True)
    return settings


def _ranking(settings: Settings) -> list[tuple[int, list[tuple[float, str]]]]:
    """Every match of each query with its score, best first. Passages of exactly equal
    score are listed by link: Whoosh orders ties by passage number, which a parallel
    build assigns in the order its workers take their jobs."""
    searcher = PassageSearcher(settings.storage.index_dir)
    ranking = []
    for query in QUERIES:
        total = searcher.search(query, collapse=False).total
        hits = [h for offset in range(0, total, 50)  # pages of the largest size served
                for h in searcher.search(query, limit=50, offset=offset, collapse=False).results]
        assert len(hits) == total
        ranking.append((total, sorted((-h.score, h.deep_link) for h in hits)))
    return ranking


def test_a_parallel_full_build_ranks_exactly_as_a_single_process_one(
        demo_crawl, tmp_path, monkeypatch):
    demo, _ = demo_crawl
    single = _build(demo, tmp_path / "single", 1, monkeypatch)
    parallel = _build(demo, tmp_path / "parallel", 2, monkeypatch)

    assert _segments(single.storage.index_dir) == 1
    assert _segments(parallel.storage.index_dir) == 2
    expected = _ranking(single)
    assert sum(1 for total, _ in expected if total) >= len(QUERIES) // 2
    assert _ranking(parallel) == expected
    vocabularies = [Vocabulary.load(generations.current_generation(s.storage.index_dir))
                    for s in (single, parallel)]
    assert vocabularies[0].counts == vocabularies[1].counts != {}


def test_an_incremental_build_carries_on_from_a_parallel_full_build(tmp_path, monkeypatch):
    settings = settings_for(tmp_path, "https://hub.example/hub")
    urls = [f"https://hub.example/docs/{n}" for n in range(24)]
    with DocumentStore(settings.storage.store_path) as store:
        for n, url in enumerate(urls):
            store.record_fetch(guide_fetch(url, f"Guide number {n} on the duty to notify."))
    _build(settings, settings.storage.index_dir, 2, monkeypatch)
    assert _segments(settings.storage.index_dir) == 2
    assert PassageSearcher(settings.storage.index_dir).search("notify").total == 24

    with DocumentStore(settings.storage.store_path) as store:
        store.record_fetch(guide_fetch(urls[3], "Guide on forced labour instead."))
    result = build_index(settings)

    assert (result.mode, result.changed, result.passages) == ("incremental", [urls[3]], 24)
    searcher = PassageSearcher(settings.storage.index_dir)
    assert searcher.search("notify").total == 23
    assert [h.document_url for h in searcher.search("forced labour").results] == [urls[3]]
