"""Posting arrays: each segment's postings of the matching fields as flat, memory-mapped arrays.

Whoosh keeps a posting list as pickled, zlib-compressed blocks, and each posting's positions
as a pickle of its own: reading the postings of one common word costs thousands of Python
calls, paid again on every query (most of a search's time at 50k passages). The indexer
therefore writes, once per segment and before the switch, the same postings as plain
arrays: as Whoosh writes the segment (`PostingsCapture`, in the indexer's codec), or by
reading back a segment written without it (`write_segment_postings`, called by
indexer/generations.py `warm`):

- `terms.bin` / `term_offsets.bin`: the segment's terms (field name, NUL, term bytes),
  sorted, so a lookup is a binary search (`SegmentPostings.find`);
- per term, `starts` / `counts` into the posting arrays and `pos_starts` into positions;
- per posting, `ids` (the segment's own passage numbers, ascending), `weights` (Whoosh's
  term frequency, float32 as Whoosh stores it) and `npos`;
- `positions`: every posting's word positions, in posting order (phrases need them).

Files are raw arrays (dtypes and lengths in `meta.json`), read with numpy.memmap: every
thread and every worker process reads them through the one OS page cache, and opening a
segment costs nothing until a term is read. They live in `postings/<segment id>/` inside
the generation: an incremental build copies the previous generation, so only segments new
to it are written, and those merged away are removed. Deleted passages stay in a
segment's arrays until Whoosh merges it, as they stay in its postings; the live mask
(indexer/matching.py) drops them.
"""

from __future__ import annotations

import itertools
import json
import os
import pickle
import shutil
from array import array
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np

DIRECTORY = "postings"
META = "meta.json"
FORMAT = 1
_EMPTY_IDS = np.zeros(0, dtype=np.int32)


class PostingsMissing(Exception):
    """A segment of the generation has no posting arrays (an index built before them)."""


def _key(fieldname: str, btext: bytes) -> bytes:
    return fieldname.encode() + b"\0" + btext


class _Writer:
    """Appends arrays to raw files in one directory, counting what each holds."""

    def __init__(self, path: Path, dtypes: dict[str, str]) -> None:
        self.path = path
        self.dtypes = dtypes
        self.lengths = dict.fromkeys(dtypes, 0)
        self.files = {name: open(path / f"{name}.bin", "wb") for name in dtypes}  # noqa: SIM115

    def add(self, name: str, values: Any) -> None:
        data = np.asarray(values, dtype=self.dtypes[name])
        self.files[name].write(data.tobytes())
        self.lengths[name] += len(data)

    def close(self) -> dict[str, Any]:
        for f in self.files.values():
            f.close()
        return {"format": FORMAT, "dtypes": self.dtypes, "lengths": self.lengths}


class _SegmentArrays:
    """One segment's posting arrays being written, term by term in key order, into a
    temporary directory that `finish` renames to the target: whole or absent."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        self.out = _Writer(self.tmp, {
            "terms": "u1", "term_offsets": "i8", "starts": "i8", "counts": "i4",
            "pos_starts": "i8", "ids": "i4", "weights": "f4", "npos": "i4", "positions": "i4",
        })
        # Buffered in arrays and written in chunks: one numpy call per chunk, not per term.
        self.terms, self.ids, self.weights = bytearray(), array("i"), array("f")
        self.npos, self.positions = array("i"), array("i")
        self.offsets, self.starts = array("q", [0]), array("q")
        self.counts, self.pos_starts = array("i"), array("q")
        self.posting_at = self.position_at = 0

    def add_term(self, key: bytes, ids: Any, weights: Any, values: list[bytes]) -> None:
        """A term's postings; keys must come in ascending order."""
        self.terms += key
        self.offsets.append(self.offsets[-1] + len(key))
        self.starts.append(self.posting_at)
        self.counts.append(len(ids))
        self.pos_starts.append(self.position_at)
        self.ids.extend(ids)
        self.weights.extend(weights)
        positions, npos = self.positions, self.npos
        before = len(positions)
        loads, accumulate = pickle.loads, itertools.accumulate
        for value in values:
            # Whoosh's Positions format: a 4-byte count, then a pickle of the deltas.
            deltas = loads(value[4:]) if value else ()
            npos.append(len(deltas))
            positions.extend(accumulate(deltas))
        self.posting_at += len(ids)
        self.position_at += len(positions) - before
        if len(positions) >= _CHUNK:
            _flush(self.out, self.terms, self.ids, self.weights, self.npos, self.positions)

    def finish(self) -> int:
        """Write what is buffered and put the arrays in place; the postings written."""
        out = self.out
        _flush(out, self.terms, self.ids, self.weights, self.npos, self.positions)
        out.add("term_offsets", self.offsets)
        out.add("starts", self.starts)
        out.add("counts", self.counts)
        out.add("pos_starts", self.pos_starts)
        meta = out.close()
        (self.tmp / META).write_text(json.dumps(meta), encoding="utf-8")
        shutil.rmtree(self.target, ignore_errors=True)
        os.replace(self.tmp, self.target)
        return self.posting_at

    def discard(self) -> None:
        self.out.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def write_segment_postings(target: Path, leaf: Any, fieldnames: list[str]) -> int:
    """Write the postings of `fieldnames` in the segment read by `leaf` into `target`
    (a segment written without `PostingsCapture`). Returns the number of postings written.
    """
    keys: list[tuple[bytes, str, bytes]] = []
    indexed = set(leaf.indexed_field_names())
    for fieldname in fieldnames:
        if fieldname in indexed:
            keys.extend((_key(fieldname, t), fieldname, t) for t in leaf.lexicon(fieldname))
    keys.sort()
    arrays = _SegmentArrays(target)
    for key, fieldname, btext in keys:
        arrays.add_term(key, *_decode(leaf.postings(fieldname, btext)))
    return arrays.finish()


class PostingsCapture:
    """The posting arrays of a segment, taken from the postings Whoosh writes for it.

    Whoosh hands a segment's field writer every posting once, sorted by field and term
    (codec/base.py FieldWriter.add_postings); the indexer's field writer
    (indexer/build_codec.py) passes each term of `fieldnames` here too, so no segment has
    to be read back after it is written (that reading was a fifth of a full build). Field
    names are ASCII without NUL, so Whoosh's (field, term) order is the order of `_key`.
    """

    def __init__(self, generation: Path, segment_id: str, fieldnames: list[str]) -> None:
        self.target = generation / DIRECTORY / segment_id
        self.fieldnames = frozenset(fieldnames)
        self.arrays: _SegmentArrays | None = None

    def add_term(self, fieldname: str, btext: bytes, ids: Any, weights: Any,
                 values: list[bytes]) -> None:
        if self.arrays is None:
            self.arrays = _SegmentArrays(self.target)
        self.arrays.add_term(_key(fieldname, btext), ids, weights, values)

    def finish(self) -> None:
        """Put the arrays in place (after every term was added)."""
        if self.arrays is None:
            self.arrays = _SegmentArrays(self.target)
        self.arrays.finish()
        self.arrays = None

    def discard(self) -> None:
        if self.arrays is not None:
            self.arrays.discard()
            self.arrays = None


_CHUNK = 1 << 20  # positions buffered before the per-posting arrays are written out


def _flush(out: _Writer, terms: bytearray, *arrays: array) -> None:
    """Append the buffered terms and per-posting arrays to their files, and empty them."""
    out.add("terms", np.frombuffer(bytes(terms), dtype=np.uint8))
    del terms[:]
    for name, values in zip(("ids", "weights", "npos", "positions"), arrays, strict=True):
        out.add(name, np.frombuffer(values, dtype=values.typecode) if values else [])
        del values[:]


def _decode(matcher: Any) -> tuple[Any, Any, list[bytes]]:
    """All ids, weights and raw values of one Whoosh leaf posting list."""
    matcher = getattr(matcher, "child", matcher)  # a deletion filter: we keep every posting
    if not hasattr(matcher, "_read_data"):
        # A short list Whoosh inlined into the term's info (a ListMatcher).
        values = list(matcher._values) if matcher._values is not None else []
        return list(matcher._ids), list(matcher._weights), values
    ids: list[int] = []
    weights: list[float] = []
    values: list[bytes] = []
    while matcher.is_active():
        matcher._read_ids()
        matcher._read_weights()
        matcher._read_values()
        ids.extend(matcher._ids)
        weights.extend(matcher._weights)
        values.extend(v or b"" for v in matcher._values)
        matcher._next_block()
    return ids, weights, values


def write_generation_postings(generation: Path, reader: Any, fieldnames: list[str],
                              executor: Executor | None = None) -> dict[str, int]:
    """Posting arrays for every segment of `generation` that has none yet; remove those of
    segments merged away. Returns the work done.

    With an `executor` (a process pool), segments are written in parallel, each task
    opening the generation itself: a full build leaves one segment per build process.
    """
    work = {"segments_written": 0, "postings_written": 0}
    pending = []
    for leaf, segment_id, target in unwritten_segments(generation / DIRECTORY, reader):
        if executor is None:
            work["postings_written"] += write_segment_postings(target, leaf, fieldnames)
        else:
            pending.append(executor.submit(_write_segment_of, generation, segment_id,
                                           fieldnames))
        work["segments_written"] += 1
    for future in pending:
        work["postings_written"] += future.result()
    return work


def unwritten_segments(root: Path, reader: Any) -> list[tuple[Any, str, Path]]:
    """(leaf reader, segment id, directory) of each segment with nothing written under
    `root` yet (no META there); directories of segments merged away are removed."""
    root.mkdir(exist_ok=True)
    kept: set[str] = set()
    todo = []
    for leaf, _ in reader.leaf_readers():
        segment_id = leaf.segment().segment_id()
        kept.add(segment_id)
        if not (root / segment_id / META).exists():
            todo.append((leaf, segment_id, root / segment_id))
    for old in root.iterdir():
        if old.name not in kept:
            shutil.rmtree(old, ignore_errors=True)
    return todo


def _write_segment_of(generation: Path, segment_id: str, fieldnames: list[str]) -> int:
    """`write_segment_postings` for one segment, in a process of its own."""
    from indexer.generations import open_index

    with open_index(generation).reader() as reader:
        for leaf, _ in reader.leaf_readers():
            if leaf.segment().segment_id() == segment_id:
                return write_segment_postings(generation / DIRECTORY / segment_id, leaf,
                                              fieldnames)
    raise PostingsMissing(f"no segment {segment_id} in {generation}")


class SegmentPostings:
    """One segment's posting arrays, memory-mapped."""

    def __init__(self, path: Path) -> None:
        try:
            meta = json.loads((path / META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise PostingsMissing(f"no posting arrays in {path}") from None
        if meta.get("format") != FORMAT:
            raise PostingsMissing(f"posting arrays of another format in {path}")
        self.arrays: dict[str, np.ndarray] = {}
        for name, dtype in meta["dtypes"].items():
            length = meta["lengths"][name]
            if length == 0:
                self.arrays[name] = np.zeros(0, dtype=dtype)
            else:
                self.arrays[name] = np.memmap(path / f"{name}.bin", dtype=dtype, mode="r",
                                              shape=(length,))
        # The term list as one bytes object and plain offsets: a lookup slices bytes, which
        # is ~20x cheaper than slicing a memmap (a few bytes a term, read once).
        self._terms = self.arrays["terms"].tobytes()
        self._offsets = array("q", self.arrays["term_offsets"].tobytes())
        self.count = len(self.arrays["starts"])

    def find(self, fieldname: str, btext: bytes) -> int:
        """The term's number in this segment, or -1."""
        key = _key(fieldname, btext)
        terms, offsets = self._terms, self._offsets
        lo, hi = 0, self.count
        while lo < hi:
            mid = (lo + hi) // 2
            if terms[offsets[mid] : offsets[mid + 1]] < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < self.count and terms[offsets[lo] : offsets[lo + 1]] == key:
            return lo
        return -1

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, weights) of a term found by `find`."""
        a = self.arrays
        start, count = int(a["starts"][term]), int(a["counts"][term])
        return a["ids"][start : start + count], a["weights"][start : start + count]

    def positions(self, term: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For the term's postings at `rows` (indexes into its posting list): each position
        and the row it belongs to, as two flat arrays."""
        a = self.arrays
        start, count = int(a["starts"][term]), int(a["counts"][term])
        npos = a["npos"][start : start + count].astype(np.int64)
        first = int(a["pos_starts"][term]) + np.concatenate(([0], np.cumsum(npos)[:-1]))
        lengths = npos[rows]
        total = int(lengths.sum())
        if not total:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        owner = np.repeat(np.arange(len(rows)), lengths)
        within = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        where = np.repeat(first[rows], lengths) + within
        return a["positions"][where].astype(np.int64), owner
