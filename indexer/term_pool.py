"""The postings of a segment being written, gathered term by term: the indexer's writers'
replacement for Whoosh's PostingPool.

Whoosh's pool keeps one tuple per posting, sorts them all, writes sorted runs to temporary
files whenever its memory limit is reached and merges the runs posting by posting with a
heap: together most of a build worker's time at flush (profiled at 50k passages), and more
at 1M passages where every worker writes dozens of runs. Postings reach a writer already in
passage order (each passage is written whole, and merged segments are added one after the
other), so grouping them under their term as they arrive leaves nothing to sort but the
terms. When the pool outgrows its limit the terms gathered so far are written out as one
run, in term order; the runs are merged term by term, a term's postings from each run simply
following those of the run before. A posting added out of passage order (never by the
indexer, but allowed by Whoosh's interface) makes the pool sort each term's postings.

`BuildSegmentWriter` is Whoosh's SegmentWriter with this pool; `indexer/build_codec.py`'s
field writer takes the terms as they come out of it.
"""

from __future__ import annotations

import heapq
import marshal
import os
import struct
import tempfile
from collections.abc import Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any

from whoosh.writing import SegmentWriter

# Per posting: a slot in each of three lists plus its encoded positions; per term: its
# key, three lists and dict entries. Estimates only (like Whoosh's own), for the limit.
_POSTING_BYTES = 56
_TERM_BYTES = 320

TermGroup = tuple[str, bytes, list[int], list[float], list[bytes | None]]
_KEY = itemgetter(0, 1)
_LENGTH = struct.Struct("<I")


class TermPool:
    """Postings grouped by (field, term), spilled to sorted runs past `limitmb`."""

    def __init__(self, tempdir: str, limitmb: float = 128) -> None:
        self.tempdir = tempdir
        self.limit = int(limitmb * 1024 * 1024)
        self.fieldnames: set[str] = set()
        self._fields: dict[str, dict[bytes, tuple[list, list, list]]] = {}
        self._size = 0
        self._last_doc = -1
        self._ordered = True
        self._runs: list[str] = []

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        """Whoosh's interface: one (field, term, passage, weight, value) posting."""
        fieldname, btext, docnum, weight, value = item
        self.add_field(fieldname, docnum, ((btext, 0, weight, value),), scorable=False)

    def add_field(self, fieldname: str, docnum: int, items: Any, scorable: bool) -> int:
        """All of one passage's postings in one field, from `FieldType.index`: what Whoosh's
        add_document adds one tuple at a time. Returns the field's length (the sum of the
        frequencies) if `scorable`, else 0."""
        if docnum < self._last_doc:
            self._ordered = False
        self._last_doc = docnum
        terms = self._fields.get(fieldname)
        if terms is None:
            terms = self._fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        get = terms.get
        length = size = 0
        for btext, freq, weight, value in items:
            entry = get(btext)
            if entry is None:
                entry = terms[btext] = ([], [], [])
                size += _TERM_BYTES
            entry[0].append(docnum)
            entry[1].append(weight)
            entry[2].append(value)
            length += freq
            size += _POSTING_BYTES + (len(value) if value else 0)
        self._size += size
        if self._size > self.limit:
            self._spill()
        return length if scorable else 0

    def _memory_terms(self) -> Iterator[TermGroup]:
        for fieldname in sorted(self._fields):
            terms = self._fields[fieldname]
            for btext in sorted(terms):
                ids, weights, values = terms[btext]
                yield fieldname, btext, ids, weights, values

    def _spill(self) -> None:
        fd, path = tempfile.mkstemp(suffix=".terms", dir=self.tempdir)
        self._runs.append(path)
        with os.fdopen(fd, "wb") as f:
            for group in self._memory_terms():
                # Length-prefixed: marshal.load on a file reads it one value at a time.
                data = marshal.dumps(group)
                f.write(_LENGTH.pack(len(data)))
                f.write(data)
        self._fields = {}
        self._size = 0

    @staticmethod
    def _read_run(path: str) -> Iterator[TermGroup]:
        with open(path, "rb") as f:
            while header := f.read(_LENGTH.size):
                (length,) = _LENGTH.unpack(header)
                yield marshal.loads(f.read(length))

    def iter_terms(self) -> Iterator[TermGroup]:
        """Every term's postings, sorted by field then term, each term once."""
        sources = [self._read_run(path) for path in self._runs]
        sources.append(self._memory_terms())
        if len(sources) == 1:
            merged: Iterator[TermGroup] = sources[0]
        else:
            # heapq.merge keeps equal keys in the order of the sources: oldest run first.
            groups = groupby(heapq.merge(*sources, key=_KEY), _KEY)
            merged = (_joined(fieldname, btext, list(parts))
                      for (fieldname, btext), parts in groups)
        if self._ordered:
            return merged
        return (_sorted_group(group) for group in merged)

    def iter_postings(self) -> TermGroups:
        # What Whoosh's SegmentWriter hands the field writer at flush.
        return TermGroups(self)

    def cleanup(self) -> None:
        for path in self._runs:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
        self._runs = []
        self._fields = {}


class TermGroups:
    """A pool's postings as the field writer takes them: by term (`groups`), or as Whoosh's
    (field, term, passage, weight, value) tuples for any other consumer."""

    def __init__(self, pool: TermPool) -> None:
        self.pool = pool

    def groups(self) -> Iterator[TermGroup]:
        return self.pool.iter_terms()

    def __iter__(self) -> Iterator[tuple[str, bytes, int, float, bytes | None]]:
        for fieldname, btext, ids, weights, values in self.groups():
            for posting in zip(ids, weights, values, strict=True):
                yield (fieldname, btext, *posting)


def _joined(fieldname: str, btext: bytes, parts: list[TermGroup]) -> TermGroup:
    if len(parts) == 1:
        return parts[0]
    ids: list[int] = []
    weights: list[float] = []
    values: list[bytes | None] = []
    for part in parts:
        ids += part[2]
        weights += part[3]
        values += part[4]
    return fieldname, btext, ids, weights, values


def _sorted_group(group: TermGroup) -> TermGroup:
    fieldname, btext, ids, weights, values = group
    order = sorted(range(len(ids)), key=ids.__getitem__)
    return (fieldname, btext, [ids[i] for i in order], [weights[i] for i in order],
            [values[i] for i in order])


class BuildSegmentWriter(SegmentWriter):
    """Whoosh's SegmentWriter with a `TermPool`, adding each field's postings in one call."""

    def __init__(self, ix: Any, limitmb: float = 128, **kwargs: Any) -> None:
        super().__init__(ix, limitmb=limitmb, **kwargs)
        # Runs go where Whoosh's would: the writer's temporary folder, removed at commit.
        self.pool = TermPool(self._tempstorage.folder, limitmb)

    def add_document(self, **fields: Any) -> None:
        """Whoosh's add_document for the indexer's schema (no vectors, no separate spelling
        fields, no per-field or per-document boosts), a field's postings at a time."""
        if any(name.startswith("_") for name in fields) or any(
                (field := self.schema[name]).vector or field.separate_spelling()
                for name in fields if name in self.schema):
            return super().add_document(**fields)
        self._check_state()
        names = sorted(fields)
        self._check_fields(self.schema, names)
        perdoc, docnum, add_field = self.perdocwriter, self.docnum, self.pool.add_field
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field = self.schema[name]
                length = 0
                if field.indexed:
                    length = add_field(name, docnum, field.index(value), field.scorable)
                perdoc.add_field(name, field, value if field.stored else None, length)
                if field.column_type:
                    perdoc.add_column_value(name, field.column_type,
                                            field.to_column_value(value))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1
