"""A full build, and an incremental build of many documents, index in worker processes
(indexer/build.py `_ParallelWriter`), one Whoosh segment per worker: they must find and
score every passage as a single-process build does, and an incremental build must carry on
from the segments they left."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

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
    '"modern slavery"', '"report a concern"',
]


def _segments(index_dir: Path) -> int:
    generation = generations.current_generation(index_dir)
    with generations.open_index(generation).reader() as reader:
        return len(list(reader.leaf_readers()))


class _Spied(build._ParallelWriter):
    """The parallel writer, noting each one made (to count the workers it started)."""

    made: list[build._ParallelWriter] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.made.append(self)


def _empty_segments(index_dir: Path) -> int:
    generation = generations.current_generation(index_dir)
    with generations.open_index(generation).reader() as reader:
        return sum(1 for leaf, _ in reader.leaf_readers() if not leaf.doc_count_all())


def _build(settings: Settings, index_dir: Path, procs: int, monkeypatch) -> Settings:
    monkeypatch.setattr(build, "FULL_BUILD_PROCS", procs)
    monkeypatch.setattr(build, "BATCH", 5)  # the demo hub is small: give every worker jobs
    monkeypatch.setattr(build, "_ParallelWriter", _Spied)
    _Spied.made.clear()
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
    assert [len(w.tasks) for w in _Spied.made] == [2]
    # A segment per worker, unless one took every job before the other started.
    assert _segments(parallel.storage.index_dir) in (1, 2)
    assert _empty_segments(parallel.storage.index_dir) == 0
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
    assert [len(w.tasks) for w in _Spied.made] == [2]
    assert _empty_segments(settings.storage.index_dir) == 0
    assert PassageSearcher(settings.storage.index_dir).search("notify").total == 24

    with DocumentStore(settings.storage.store_path) as store:
        store.record_fetch(guide_fetch(urls[3], "Guide on forced labour instead."))
    result = build_index(settings)

    assert (result.mode, result.changed, result.passages) == ("incremental", [urls[3]], 24)
    searcher = PassageSearcher(settings.storage.index_dir)
    assert searcher.search("notify").total == 23
    assert [h.document_url for h in searcher.search("forced labour").results] == [urls[3]]


_TOPICS = ["the duty to notify", "forced labour", "county lines", "modern slavery",
           "a multi-agency referral", "child exploitation"]


def _guides(count: int, revision: int) -> list[tuple[str, str]]:
    """Guides mentioning the topics unevenly, so their scores differ; `revision` rewrites
    every third one."""
    guides = []
    for n in range(count):
        topics = [_TOPICS[(n + k) % len(_TOPICS)] for k in range(1 + n % 3)]
        words = " and ".join(topics * (1 + n % 4))
        if revision and n % 3 == 0:
            words += f" revised ({revision}): report a concern to the police"
        guides.append((f"https://hub.example/docs/{n}", f"Guide {n} on {words}."))
    return guides


def _record(settings: Settings, guides: list[tuple[str, str]]) -> None:
    with DocumentStore(settings.storage.store_path) as store:
        for url, text in guides:
            store.record_fetch(guide_fetch(url, text))


def test_a_large_incremental_build_runs_in_workers_and_ranks_as_a_single_process_one(
        tmp_path, monkeypatch):
    monkeypatch.setattr(build, "PARALLEL_DOCUMENTS", 4)
    built = {}
    for procs in (1, 2):
        settings = settings_for(tmp_path / f"procs{procs}", "https://hub.example/hub")
        settings.storage.index_dir.parent.mkdir()
        _record(settings, _guides(30, 0))
        _build(settings, settings.storage.index_dir, 1, monkeypatch)
        before = _segments(settings.storage.index_dir)
        _record(settings, _guides(30, 1))
        monkeypatch.setattr(build, "FULL_BUILD_PROCS", procs)
        _Spied.made.clear()
        result = build_index(settings)
        assert (result.mode, len(result.changed), result.passages) == ("incremental", 10, 30)
        assert [len(w.tasks) for w in _Spied.made] == ([2] if procs == 2 else [])
        built[procs] = (settings, before, _segments(settings.storage.index_dir))

    (serial, _, serial_segments), (parallel, before, parallel_segments) = built[1], built[2]
    # A segment per worker that took a job (both, unless one took every job first).
    assert parallel_segments - before in (1, 2) and serial_segments - before == 1
    assert _empty_segments(parallel.storage.index_dir) == 0
    assert _ranking(parallel) == _ranking(serial)
    assert PassageSearcher(parallel.storage.index_dir).search("revised").total == 10
    vocabularies = [Vocabulary.load(generations.current_generation(s.storage.index_dir))
                    for s in (serial, parallel)]
    assert vocabularies[0].counts == vocabularies[1].counts != {}


def test_a_small_incremental_build_stays_in_one_process(tmp_path, monkeypatch):
    settings = settings_for(tmp_path, "https://hub.example/hub")
    _record(settings, _guides(12, 0))
    _build(settings, settings.storage.index_dir, 2, monkeypatch)
    before = _segments(settings.storage.index_dir)
    _record(settings, _guides(12, 1)[:1])
    _Spied.made.clear()

    result = build_index(settings)

    assert (result.mode, result.changed) == ("incremental", ["https://hub.example/docs/0"])
    assert _Spied.made == []
    assert _segments(settings.storage.index_dir) <= before + 1


def test_a_worker_left_without_a_job_leaves_no_empty_segment(tmp_path):
    """Two workers, one job: one of them writes nothing. Its empty segment would start
    where the next segment starts, which phrase search once took for that segment."""
    from whoosh import index

    from indexer.build_codec import BuildCodec
    from indexer.schema import build_schema

    ix = index.create_in(str(tmp_path), build_schema())
    writer = build._ParallelWriter(ix, procs=2, batchsize=100, multisegment=True,
                                   codec=BuildCodec())
    writer._new_task()
    writer._new_task()
    for n, (url, text) in enumerate(_guides(3, 0)):
        fetch = guide_fetch(url, text)
        build.add_document(writer, url, fetch.document, source=f"hub{n}")
    writer.commit()

    with index.open_dir(str(tmp_path)).reader() as reader:
        counts = [leaf.doc_count_all() for leaf, _ in reader.leaf_readers()]
    assert counts == [3]
    assert len(list(tmp_path.glob("*.seg"))) == 1  # the empty one's files are gone


def test_phrase_search_reads_each_segment_by_its_place_not_its_offset():
    from types import SimpleNamespace

    from indexer.matching import segment_spans

    arrays = SimpleNamespace(segments=[("first", 0), ("empty", 30), ("last", 30)], size=40)
    assert segment_spans(arrays) == [("first", 0, 30), ("empty", 30, 0), ("last", 30, 10)]
