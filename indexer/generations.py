"""Index generations on disk: each build in its own directory, `current` switched atomically.

A reader resolves `current` once per searcher, so it sees either the old generation or the
new one, never a half-built index. Old generations are pruned after the switch; on Linux an
open searcher keeps its files readable until it closes.

What a server derives from a generation and would otherwise compute on every query or on
its first (posting arrays, the spelling vocabulary) is written into the generation by
`warm`, before the switch.
Readers open a generation with `open_index`: segment files are read through the OS page
cache, shared by every thread and worker process, not copied into each reader's memory.
"""

from __future__ import annotations

import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.index import Index

CURRENT = "current"
PREFIX = "ix-"
KEEP = 2
WRITE_LOCK = "MAIN_WRITELOCK"


def new_generation_dir(index_dir: Path) -> Path:
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    path = index_dir / f"{PREFIX}{stamp}-{os.getpid()}-{time.monotonic_ns() % 1_000_000}"
    path.mkdir()
    return path


def current_generation(index_dir: Path) -> Path | None:
    link = index_dir / CURRENT
    if not link.is_symlink() and not link.is_dir():
        return None
    target = Path(os.path.realpath(link))
    return target if target.is_dir() else None


def copy_generation(source: Path, target: Path) -> None:
    """`target` as a copy of generation `source`, for an incremental build to change.

    Files are hard links, not copies: nothing in a generation is written in place (Whoosh
    writes new segment files and a new table of contents; posting, facet and spelling
    files are written aside and renamed over; removals unlink the copy's own name), so
    the copy costs a directory walk instead of the index's size in disk writes and page
    cache (gigabytes at 1M passages). Whoosh's lock file is left for the writer to create.
    """

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:  # a file system without hard links
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link,
                    ignore=shutil.ignore_patterns(WRITE_LOCK, "*.tmp-*"))


def open_index(generation: Path, writable: bool = False) -> Index:
    """Open a generation for reading (or, `writable`, for an incremental build to write).

    Whoosh memory-maps a compound segment file by default, then copies each part it opens
    into a private BytesIO (filedb/compound.py, structfile.BufferFile): ~90 MB per searcher
    at 50k passages, once per thread and per process. Without mmap it reads the parts with
    seek and read from the file itself, so the only copy is the OS page cache, shared.
    """
    return FileStorage(str(generation), supports_mmap=False,
                       readonly=not writable).open_index()


def warm(generation: Path, procs: int = 1) -> dict[str, int]:
    """Write what servers derive from `generation` into it (call before `switch_to`), so
    the first query on it costs what the second does. Returns the work done.

    With `procs` > 1 and several segments, the work runs in that many processes."""
    from indexer.column_arrays import write_generation_columns
    from indexer.postings import write_generation_postings
    from indexer.schema import (
        DOCUMENT_FIELD,
        KIND_FIELD,
        MATCHING_FIELDS,
        MULTI_FACETS,
        SINGLE_FACETS,
        UPDATED_FIELD,
    )
    from indexer.spelling import write_vocabulary

    fieldnames = MATCHING_FIELDS
    with open_index(generation).reader() as reader:
        if procs > 1 and len(list(reader.leaf_readers())) > 1:
            # A full build leaves one segment per build process: their posting arrays and
            # the vocabulary are written side by side, each task reading the generation.
            with ProcessPoolExecutor(procs) as pool:
                vocabulary = pool.submit(_write_vocabulary, generation)
                postings = write_generation_postings(generation, reader, fieldnames, pool)
                work = vocabulary.result()
            work.update(postings)
        else:
            work = write_vocabulary(generation, reader)
            work.update(write_generation_postings(generation, reader, fieldnames))
        work["column_segments_written"] = write_generation_columns(
            generation, reader, (*SINGLE_FACETS, DOCUMENT_FIELD, KIND_FIELD, UPDATED_FIELD),
            MULTI_FACETS)
        return work


def _write_vocabulary(generation: Path) -> dict[str, int]:
    """`write_vocabulary` in a process of its own (see `warm`)."""
    from indexer.spelling import write_vocabulary

    with open_index(generation).reader() as reader:
        return write_vocabulary(generation, reader)


def switch_to(index_dir: Path, generation: Path) -> None:
    """Point `current` at generation in one rename, so readers never see a gap."""
    tmp = index_dir / f"{CURRENT}.tmp-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    # Relative target: the index directory can be moved or mounted elsewhere.
    os.symlink(generation.name, tmp)
    os.replace(tmp, index_dir / CURRENT)


def prune(index_dir: Path, keep: int = KEEP) -> None:
    """Remove all but the newest `keep` generations, never the current one."""
    current = current_generation(index_dir)
    gens = sorted(
        (p for p in index_dir.glob(f"{PREFIX}*") if p.is_dir()), key=lambda p: p.stat().st_mtime
    )
    for old in gens[:-keep]:
        if current is None or old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)


def discard(generation: Path) -> None:
    shutil.rmtree(generation, ignore_errors=True)
