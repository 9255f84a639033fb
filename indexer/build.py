"""Index entry point: bring the index up to date with the document store, then switch it in.

A nightly run is incremental: it compares the store's documents (by sha256) with the
manifest of the current generation and rewrites only new, changed and removed documents,
in a copy of the current generation, so the server keeps reading the old one until the
atomic switch. `full=True` rebuilds from scratch. A quality gate refuses to switch in an
index built after a crawl in which too many documents failed. One build at a time per store
(the store's index lock, hubsearch/locks.py); a build that cannot write (disk full) fails
with one line and leaves the current generation serving.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from whoosh import index
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.query import Or, Term
from whoosh.writing import IndexWriter, SegmentWriter

from crawler.bounds import bound_document
from crawler.document import ExtractedDocument
from hubsearch.locks import stage_lock
from hubsearch.search_results import BuildResult
from hubsearch.settings import Settings
from hubsearch.store import DocumentRef, DocumentStore, utc_now
from indexer import generations, manifest
from indexer.build_codec import BuildCodec
from indexer.corpus import (  # noqa: F401 - IndexBuildError is also importable from here
    LEGACY_STATUS,
    Attribution,
    IndexBuildError,
    attribute,
    documents,
    gate,
    passage_fields,
    write_status,
)
from indexer.schema import build_schema
from indexer.term_pool import BuildSegmentWriter

# The fields a generation's passages carry (indexer/schema.py); a generation of another
# format is rebuilt in full, not updated. 2: the passage kind (link lists); 3: the vocabulary
# kept as a running total (indexer/spelling.py), the manifest in SQLite, the updated date;
# 4: the OCR mark of passages read from scans.
INDEX_FORMAT = 4
# How often a build says how far it is (one log line; `hubsearch index` shows them on stderr,
# so a build under cron or systemd is not silent for minutes).
PROGRESS_SECONDS = 5.0

logger = logging.getLogger("indexer.build")


def add_document(
    writer: IndexWriter,
    key: str,
    document: ExtractedDocument,
    *,
    source: str,
    audience: tuple[str, ...] | list[str] = (),
    fetched_at: str = "",
    last_modified: str | None = None,
) -> int:
    """Index one document's passages under `key` (its URL); returns how many were written.

    The one way a document enters the index: the nightly build and bench/relevance.py both
    go through it, so the benchmark measures exactly what production indexes.
    """
    # Rows stored before the crawler bounded documents can still hold a 1 MB title.
    return _add_passages(writer, key, bound_document(document), source=source,
                         audience=audience, fetched_at=fetched_at, last_modified=last_modified)


def _add_passages(writer: IndexWriter, key: str, document: ExtractedDocument, *, source: str,
                  audience: tuple[str, ...] | list[str], fetched_at: str,
                  last_modified: str | None) -> int:
    """`add_document` for a document already bounded."""
    count = 0
    for fields in passage_fields(key, document, source=source, audience=audience,
                                 fetched_at=fetched_at, last_modified=last_modified):
        writer.add_document(**fields)
        count += 1
    return count


def _add(writer: IndexWriter, key: str, stored: DocumentRef, who: Attribution,
         store: DocumentStore) -> manifest.Entry:
    """Index one stored document; its manifest entry."""
    document = store.document(stored.url)
    count = 0
    if document is not None:  # else removed from the store since the list was read
        document = bound_document(document)  # once: the manifest keeps its title too
        count = _add_passages(
            writer, key, document, source=who.source, audience=who.audience,
            fetched_at=stored.last_success_at or stored.fetched_at or "",
            last_modified=stored.last_modified,
        )
    return manifest.Entry(
        url=stored.url, sha256=stored.sha256 or "", version=who.version(stored),
        passages=count, title=document.title if document else "",
        headings=manifest.distinct_headings(document.sections) if document else [])


def build_index(settings: Settings, *, full: bool = False, wait: bool = False,
                progress_seconds: float | None = None) -> BuildResult:
    """Bring the index up to date with the store (incrementally unless `full`).

    Refused with LockBusy (naming the holder) while another build of this store runs,
    unless `wait`, which waits for it. Logs a progress line at most every
    `progress_seconds` (default PROGRESS_SECONDS) while documents are written.
    """
    if progress_seconds is None:
        progress_seconds = PROGRESS_SECONDS
    if not settings.storage.store_path.exists():
        raise IndexBuildError(
            f"no document store at {settings.storage.store_path}; run `hubsearch crawl` first"
        )
    with stage_lock(settings.storage.store_path, "index", wait=wait):
        try:
            return _build_locked(settings, full, progress_seconds)
        except sqlite3.Error as exc:
            raise IndexBuildError(
                f"document store {settings.storage.store_path}: {exc}"
            ) from None
        except OSError as exc:
            # _update discarded the half-built generation; `current` was never touched.
            where = f" ({exc.filename})" if exc.filename else ""
            raise IndexBuildError(
                f"index build failed: {exc.strerror or exc}{where}; "
                "the previous index keeps serving"
            ) from None


def _build_locked(settings: Settings, full: bool,
                  progress_seconds: float = PROGRESS_SECONDS) -> BuildResult:
    started = time.monotonic()
    index_dir = settings.storage.index_dir
    with DocumentStore(settings.storage.store_path) as store:
        current = generations.current_generation(index_dir)
        gate(settings, store, current is not None)
        docs = documents(store)
        if not docs:
            raise IndexBuildError(
                "the document store has no searchable documents; run `hubsearch crawl` first"
            )
        info = None if full or current is None else manifest.read_info(current)
        if info is not None and info.get("format") != INDEX_FORMAT:
            # Built with other fields: its segments cannot take this version's passages.
            logger.info("index: the current generation has an older layout; building it anew")
            info = None
        old = manifest.versions(current) if info is not None and current else None
        result = _update(index_dir, current, old, docs, attribute(settings, docs), store,
                         _Progress(progress_seconds, started))
        result.seconds = time.monotonic() - started
        try:
            write_status(settings, store, switched=result.mode != "unchanged",
                          generation=result.generation, mode=result.mode, reason=None)
        except OSError as exc:
            raise IndexBuildError(
                f"index generation {result.generation} is serving, but its status could not "
                f"be saved: {exc.strerror or exc}"
            ) from None
    return result


# A full build indexes in this many worker processes (Whoosh's MpWriter), each writing a
# segment of its own: analysis, sorting and writing postings all run in parallel. Each has
# its own sort buffer of LIMIT_MB, so peak memory grows with the number.
FULL_BUILD_PROCS = max(1, min(2, os.cpu_count() or 1))
LIMIT_MB = 128
BATCH = 100  # passages per job file handed to a worker
# An incremental build of at least this many documents (~3 passages each, so a few jobs)
# runs in parallel too. Measured: 18 documents took 0.1 s longer in workers (starting them),
# 176 documents of a 50k index 0.3 s shorter, 700 of a 200k index 1.8 s shorter.
PARALLEL_DOCUMENTS = BATCH


class _Failed:
    """What a worker reports instead of its segment when it failed (see `_Task`)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Task(SubWriterTask):
    """Whoosh's worker, with the indexer's segment writer, failing the way a plain writer does.

    Whoosh's own worker prints a traceback and reports no segment: the build would switch
    in an index without its documents, or wait forever on a full job queue. This one keeps
    taking jobs (so the parent never blocks) and reports the error, raised by `_commit_toc`.
    Its segment is kept whole (the parallel writer is always `multisegment`).
    """

    def run(self) -> None:
        jobs = self.jobqueue = _Jobs(self.jobqueue)
        try:
            ix = self.storage.open_index(self.indexname)
            self.writer = BuildSegmentWriter(ix, _lk=False, **self.kwargs)
            while (job := jobs.get()) is not None:
                self._process_file(*job)
            segment = self.writer._finalize_segment()
        except BaseException as exc:  # noqa: BLE001 - handed to the parent, raised there
            # Take the jobs left, up to this worker's end-of-jobs marker.
            while not jobs.ended and jobs.get() is not None:
                pass
            self.resultqueue.put((None, None, _Failed(exc)))
            return
        self.resultqueue.put((None, None, segment), timeout=5)


class _Jobs:
    """A worker's view of the job queue, noting when it took its end-of-jobs marker."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue
        self.ended = False

    def get(self) -> Any:
        job = self.queue.get()
        self.ended = job is None
        return job


class _ParallelWriter(MpWriter):
    """MpWriter with `_Task` workers, which also end with the build if it fails."""

    def _new_task(self) -> _Task:
        task = _Task(self.storage, self.indexname, self.jobqueue, self.resultqueue,
                     self.subargs, self.multisegment)
        task.daemon = True  # never outlives the build process
        self.tasks.append(task)
        task.start()
        return task

    def _commit_toc(self, segments: list[Any]) -> None:
        for segment in segments:
            if isinstance(segment, _Failed):
                raise segment.error
        if len(segments) < len(self.tasks):
            raise OSError(f"{len(self.tasks) - len(segments)} index worker(s) gave no segment")
        # A worker started for a job another worker took first wrote an empty segment:
        # keeping it would only add a segment to every search (Whoosh deletes its files).
        super()._commit_toc([s for s in segments if s.doc_count_all()])

    def cancel(self) -> None:
        for task in self.tasks:
            task.terminate()
        for task in self.tasks:
            task.join()  # before the caller removes the generation they write into
        SegmentWriter.cancel(self)


def _parallel(mode: str, documents: int) -> bool:
    return FULL_BUILD_PROCS > 1 and (mode == "full" or documents >= PARALLEL_DOCUMENTS)


def _writer(ix: index.Index, *, parallel: bool) -> IndexWriter:
    """The writer of a build: in parallel for a full build or a large incremental one, else
    a plain one (a few documents, merged by Whoosh's policy into the copied generation)."""
    if parallel:
        # multisegment: each worker's segment is kept as it is (several segments search
        # alike: posting arrays and scoring are per segment; BM25 statistics are totals).
        # Without it Whoosh merges the workers' runs in this process, serially.
        return _ParallelWriter(ix, procs=FULL_BUILD_PROCS, batchsize=BATCH, multisegment=True,
                               limitmb=LIMIT_MB, codec=BuildCodec())
    return BuildSegmentWriter(ix, limitmb=LIMIT_MB, codec=BuildCodec())


class _Progress:
    """Logs "index: N of M documents, P passages, S s" at most every `seconds`; a build
    short enough to say nothing before its result line stays quiet."""

    def __init__(self, seconds: float, started: float) -> None:
        self.seconds, self.started = seconds, started
        self.last = time.monotonic()
        self.said = False

    def update(self, done: int, total: int, passages: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.seconds:
            self.last, self.said = now, True
            # `progress` marks the line for a terminal's handler, which redraws it in place.
            logger.info("index: %d of %d documents, %d passages, %.0f s elapsed",
                        done, total, passages, now - self.started, extra={"progress": True})


def _update(
    index_dir: Path,
    current: Path | None,
    old: dict[str, str] | None,
    docs: dict[str, DocumentRef],
    attributions: dict[str, Attribution],
    store: DocumentStore,
    progress: _Progress | None = None,
) -> BuildResult:
    """Builds the next generation: in full if `old` (the current generation's document
    versions) is None, else from a copy of `current` and the documents whose version
    changed."""
    version = {k: attributions[k].version(stored) for k, stored in docs.items()}
    known = old or {}
    added = sorted(k for k in docs if k not in known)
    changed = sorted(k for k in docs if k in known and known[k] != version[k])
    removed = sorted(k for k in known if k not in docs)
    if old is not None and current is not None and not (added or changed or removed):
        documents, total = manifest.totals(current)
        return BuildResult(current.name, "unchanged", documents, total, 0.0)

    generation = generations.new_generation_dir(index_dir)
    writer: IndexWriter | None = None
    listed: manifest.ManifestWriter | None = None
    try:
        if old is None:
            mode = "full"
            ix = index.create_in(str(generation), build_schema())
            todo = sorted(docs)
        else:
            mode = "incremental"
            # A copy, so the server keeps reading the untouched current generation.
            shutil.rmtree(generation)
            generations.copy_generation(current, generation)
            # Without mmap, as servers open it: the writer's searcher (finding what to
            # delete) otherwise copies each compound segment's parts into memory, ~3 KB a
            # passage (3.1 GB at 1M, more than the full build's peak).
            ix = generations.open_index(generation, writable=True)
            todo = added + changed
        listed = manifest.ManifestWriter(generation, carry_over=mode == "incremental")
        parallel = _parallel(mode, len(todo))
        writer = _writer(ix, parallel=parallel)
        if changed or removed:
            # One query for all of them: each delete_by_term searched every segment again.
            writer.delete_by_query(Or([Term("document_url", key)
                                       for key in changed + removed]))
            listed.remove(changed + removed)
        written = 0
        for done, key in enumerate(todo, 1):
            entry = _add(writer, key, docs[key], attributions[key], store)
            listed.put(key, entry)
            written += entry.passages
            if progress is not None:
                progress.update(done, len(todo), written)
        if progress is not None and progress.said:
            # Merging and writing the segments can take as long again on a large build.
            logger.info("index: %d documents read, writing the new generation", len(todo))
        writer.commit()
        writer = None
        documents, total = listed.finish(format=INDEX_FORMAT, built_at=utc_now())
    except BaseException:
        if listed is not None:
            listed.close()
        if writer is not None:
            # Stops a full build's workers; the first error is the one reported.
            with contextlib.suppress(Exception):
                writer.cancel()
        generations.discard(generation)
        raise
    # A parallel build's new segments (one per worker) are warmed side by side.
    generations.warm(generation, procs=FULL_BUILD_PROCS if parallel else 1)
    generations.switch_to(index_dir, generation)
    generations.prune(index_dir)
    if mode == "full":
        added, changed, removed = sorted(docs), [], []
    return BuildResult(generation.name, mode, documents, total, 0.0, added, changed,
                       removed, written)
