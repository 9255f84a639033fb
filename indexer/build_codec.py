"""The codec of the indexer's writers: Whoosh's W3 files, written with less work per posting,
and what servers derive from a segment taken as the segment is written.

Segments written with `BuildCodec` record a plain W3Codec, so an index never needs this
module to be read (the codec is pickled with each segment into the table of contents).
What it changes, each checked against Whoosh's own writer in tests/test_posting_arrays.py:

- `_FieldWriter.add_postings` writes a segment's postings term by term rather than posting by
  posting: Whoosh's loop (codec/base.py) makes ~6 Python calls and 4 type checks for every
  posting, most of a build worker's time once analysis is cached. Blocks, statistics and
  bytes are Whoosh's: the block buffers are filled a block at a time and Whoosh's writer
  writes them.
- The same pass hands each term of the matching fields to `PostingsCapture` (posting
  arrays, indexer/postings.py), and `_CountingPerDocWriter` counts the spelling vocabulary
  of the passages it stores (indexer/spelling.py): warming then reads nothing back.
- `_PerDocReader` decodes a field's length column once per segment, and remembers which
  columns a segment lacks (Whoosh looked for the file again, one stat() per posting).
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    W3Codec,
    W3FieldWriter,
    W3PerDocReader,
    W3PerDocWriter,
    _lenfield,
)
from whoosh.util.numeric import byte_to_length

from indexer.postings import PostingsCapture
from indexer.schema import MATCHING_FIELDS
from indexer.spelling import count_raw_words, known_words, passage_texts, save_segment_counts
from indexer.term_pool import TermGroup, TermGroups

_FIELD, _FIELD_TERM = itemgetter(0), itemgetter(0, 1)


class _PerDocReader(W3PerDocReader):
    """Whoosh's per-document reader with a segment's field lengths decoded once."""

    def __init__(self, storage: Any, segment: Any) -> None:
        super().__init__(storage, segment)
        self._has: dict[str, bool] = {}
        self._length_tables: dict[str, list[int | None] | None] = {}

    def lengths_of(self, fieldname: str) -> list[int | None] | None:
        """Every passage's length in `fieldname` (None where Whoosh reads none), or None
        if the field keeps no lengths."""
        if fieldname not in self._length_tables:
            reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            self._length_tables[fieldname] = None if reader is None else [
                byte_to_length(b) if b else None for b in reader]
        return self._length_tables[fieldname]

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        table = self.lengths_of(fieldname)
        if table is None or not 0 <= docnum < len(table):
            return super().doc_field_length(docnum, fieldname, default)
        return table[docnum]

    def has_column(self, fieldname: str) -> bool:
        has = self._has.get(fieldname)
        if has is None:
            has = self._has[fieldname] = super().has_column(fieldname)
        return has


class _FieldWriter(W3FieldWriter):
    """Whoosh's field writer, a term at a time, also writing the posting arrays."""

    def __init__(self, codec: W3Codec, storage: Any, segment: Any) -> None:
        super().__init__(codec, storage, segment)
        self.capture = PostingsCapture(Path(storage.folder), segment.segment_id(),
                                       MATCHING_FIELDS)

    def add_postings(self, schema: Any, lengths: Any, items: Any) -> None:
        try:
            self._add_postings(schema, lengths, items)
        except BaseException:
            self.capture.discard()
            raise
        self.capture.finish()

    def _add_postings(self, schema: Any, lengths: Any, items: Any) -> None:
        wanted = self.capture.fieldnames
        groups = items.groups() if isinstance(items, TermGroups) else _grouped(items)
        for fieldname, field_groups in groupby(groups, _FIELD):
            self.start_field(fieldname, schema[fieldname])
            table = _length_table(lengths, fieldname)
            for _, btext, ids, weights, values in field_groups:
                if -1 in ids:
                    # A word for Whoosh's spelling graph, which Whoosh's loop skips too.
                    keep = [i for i, d in enumerate(ids) if d != -1]
                    if not keep:
                        continue
                    ids = [ids[i] for i in keep]
                    weights = [weights[i] for i in keep]
                    values = [values[i] for i in keep]
                values = [v or b"" for v in values]
                if table is not None and ids[-1] < len(table):
                    found = [table[d] for d in ids]
                elif lengths:
                    found = [lengths.doc_field_length(d, fieldname) for d in ids]
                else:
                    found = [0] * len(ids)
                self.start_term(btext)
                self._write_term(ids, weights, values, found)
                self.finish_term()
                if fieldname in wanted:
                    self.capture.add_term(fieldname, btext, ids, weights, values)
            self.finish_field()

    def _write_term(self, ids: list[int], weights: list[float], values: list[bytes],
                    found: list[int | None]) -> None:
        """What W3PostingsWriter.add_posting does for each posting, a block at a time:
        a full block is written before the next posting is added, the last one is left for
        finish_postings."""
        writer = self._postwriter
        limit = writer._blocklimit
        for start in range(0, len(ids), limit):
            if start:
                writer._write_block()
            end = start + limit
            chunk = weights[start:end]
            writer._ids = array("I", ids[start:end])
            writer._weights = array("f", chunk)
            writer._values = [v for v in values[start:end] if v]
            writer._maxweight = max(0, max(chunk))
            known = [n for n in found[start:end] if n]
            writer._minlength = min(known) if known else None
            writer._maxlength = max(known) if known else 0


def _grouped(items: Any) -> Iterator[TermGroup]:
    """Whoosh's sorted (field, term, passage, weight, value) tuples as term groups."""
    for (fieldname, btext), postings in groupby(items, _FIELD_TERM):
        ids, weights, values = [], [], []
        for _, _, docnum, weight, value in postings:
            ids.append(docnum)
            weights.append(weight)
            values.append(value)
        yield fieldname, btext, ids, weights, values


def _length_table(lengths: Any, fieldname: str) -> list[int | None] | None:
    if isinstance(lengths, _PerDocReader):
        return lengths.lengths_of(fieldname)
    return None


class _CountingPerDocWriter(W3PerDocWriter):
    """Whoosh's per-document writer, also counting the spelling vocabulary of the passages
    it stores, saved with the segment."""

    def __init__(self, codec: W3Codec, storage: Any, segment: Any) -> None:
        super().__init__(codec, storage, segment)
        self._generation = Path(storage.folder)
        self._words: Counter[str] = Counter()

    def finish_doc(self) -> None:
        if self._storedfields:
            for text in passage_texts(self._storedfields):
                count_raw_words(text, self._words)
        super().finish_doc()

    def close(self) -> None:
        super().close()
        save_segment_counts(self._generation, self._segment.segment_id(), known_words(self._words))


class BuildCodec(W3Codec):
    """Whoosh's default codec with the writers and reader above, for the indexer's writers
    only."""

    def per_document_reader(self, storage: Any, segment: Any) -> W3PerDocReader:
        return _PerDocReader(storage, segment)

    def per_document_writer(self, storage: Any, segment: Any) -> W3PerDocWriter:
        return _CountingPerDocWriter(self, storage, segment)

    def field_writer(self, storage: Any, segment: Any) -> W3FieldWriter:
        return _FieldWriter(self, storage, segment)

    def new_segment(self, storage: Any, indexname: str) -> Any:
        plain = W3Codec(blocklimit=self._blocklimit, compression=self._compression,
                        inlinelimit=self._inlinelimit)
        return plain.new_segment(storage, indexname)

