"""Posting arrays: each segment's postings of the matching fields as flat, memory-mapped arrays.

Whoosh keeps a posting list as pickled, zlib-compressed blocks, and each posting's positions
as a pickle of its own: reading the postings of one common word costs thousands of Python
calls, paid again on every query (most of a search's time at 50k passages). The indexer
therefore writes, once per segment and before the switch (`write_segment_postings`, called
by indexer/generations.py `warm`), the same postings as plain arrays:

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

import json
import os
import pickle
import shutil
from array import array
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


def write_segment_postings(target: Path, leaf: Any, fieldnames: list[str]) -> int:
    """Write the postings of `fieldnames` in the segment read by `leaf` into `target`.

    Written in a temporary directory and renamed, so a segment's arrays are whole or
    absent. Returns the number of postings written.
    """
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    out = _Writer(tmp, {
        "terms": "u1", "term_offsets": "i8", "starts": "i8", "counts": "i4",
        "pos_starts": "i8", "ids": "i4", "weights": "f4", "npos": "i4", "positions": "i4",
    })
    keys: list[tuple[bytes, str, bytes]] = []
    indexed = set(leaf.indexed_field_names())
    for fieldname in fieldnames:
        if fieldname in indexed:
            keys.extend((_key(fieldname, t), fieldname, t) for t in leaf.lexicon(fieldname))
    keys.sort()
    term_at = posting_at = position_at = 0
    offsets, starts, counts, pos_starts = [0], [], [], []
    for key, fieldname, btext in keys:
        ids, weights, values = _decode(leaf.postings(fieldname, btext))
        npos = array("i")
        positions = array("i")
        for value in values:
            # Whoosh's Positions format: a 4-byte count, then a pickle of the deltas.
            deltas = pickle.loads(value[4:]) if value else []
            npos.append(len(deltas))
            at = 0
            for delta in deltas:
                at += delta
                positions.append(at)
        out.add("terms", np.frombuffer(key, dtype=np.uint8))
        term_at += len(key)
        offsets.append(term_at)
        starts.append(posting_at)
        counts.append(len(ids))
        pos_starts.append(position_at)
        out.add("ids", ids)
        out.add("weights", weights)
        out.add("npos", npos)
        out.add("positions", positions)
        posting_at += len(ids)
        position_at += len(positions)
    out.add("term_offsets", offsets)
    out.add("starts", starts)
    out.add("counts", counts)
    out.add("pos_starts", pos_starts)
    meta = out.close()
    (tmp / META).write_text(json.dumps(meta), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return posting_at


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


def write_generation_postings(generation: Path, reader: Any,
                              fieldnames: list[str]) -> dict[str, int]:
    """Posting arrays for every segment of `generation` that has none yet; remove those of
    segments merged away. Returns the work done."""
    root = generation / DIRECTORY
    root.mkdir(exist_ok=True)
    kept: set[str] = set()
    work = {"segments_written": 0, "postings_written": 0}
    for leaf, _ in reader.leaf_readers():
        segment_id = leaf.segment().segment_id()
        kept.add(segment_id)
        target = root / segment_id
        if (target / META).exists():
            continue
        work["postings_written"] += write_segment_postings(target, leaf, fieldnames)
        work["segments_written"] += 1
    for old in root.iterdir():
        if old.name not in kept:
            shutil.rmtree(old, ignore_errors=True)
    return work


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
