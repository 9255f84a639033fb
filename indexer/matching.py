"""Match and score a built query in bulk: every matching passage and its BM25F score as arrays.

Whoosh scores a query through a tree of pure-Python matchers, one call per passage per
clause; a 10-word question over both languages' fields is ~50 clauses, so its cost follows
the number of matches (hundreds of ms at 50k passages). Here the same query tree is
evaluated over whole posting lists with numpy: each term's postings are decoded by Whoosh's
own codec, block by block, scored with the searcher's own scorer (idf, average field length,
b, k1 and field weight as `indexer.schema` keeps them), and combined as Whoosh combines them
(an Or sums the scores of the clauses that match, an And sums all of them, an AndNot keeps
the left side's). Postings come from the generation's posting arrays (indexer/postings.py),
memory-mapped, so a term costs a binary search and a slice, not a decode; a phrase is the
intersection of its words' postings, kept where their positions line up as Whoosh's
ordered SpanNear requires, and scored as Whoosh scores it (the sum of its words' scores).
An index without posting arrays (built before them) is read through Whoosh's codec.

`GenerationArrays` holds what this needs once per generation: which passages are live, each
field's lengths, each facet's value per passage and each passage's document, all as arrays
counted in bulk (np.bincount) instead of walked passage by passage.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.matching.wrappers import FilterMatcher
from whoosh.query import And, AndNot, Or, Phrase, Query, Term
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from indexer.column_arrays import DIRECTORY as COLUMNS
from indexer.column_arrays import ColumnsMissing, read_segment_columns
from indexer.postings import DIRECTORY, PostingsMissing, SegmentPostings
from indexer.schema import bm25_parameters

# Sparse result of a query: sorted passage numbers and their scores.
Matches = tuple[np.ndarray, np.ndarray]
_EMPTY: Matches = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
# Whoosh stores a field's length in one byte; this decodes all 256 at once.
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


class GenerationArrays:
    """Per-generation arrays: live passages, field lengths, facet codes, document codes."""

    def __init__(self, searcher: Searcher, single: tuple[str, ...], multi: tuple[str, ...],
                 document_field: str = "document_url", generation: Path | None = None,
                 optional: tuple[str, ...] = ()) -> None:
        reader = searcher.reader()
        # (segment's posting arrays, its first passage number), or None: read via Whoosh.
        self.segments: list[tuple[SegmentPostings, int]] | None = None
        if generation is not None:
            try:
                self.segments = [
                    (SegmentPostings(generation / DIRECTORY / leaf.segment().segment_id()),
                     offset)
                    for leaf, offset in reader.leaf_readers()]
            except PostingsMissing:
                self.segments = None
        self._avgfl: dict[str, float] = {}
        self.size = reader.doc_count_all()
        self.live = np.ones(self.size, dtype=bool)
        for leaf, offset in reader.leaf_readers():
            for docnum in leaf.deleted_docs_set or ():
                self.live[offset + docnum] = False
        self.schema = searcher.schema
        # Read now, by the thread opening the generation: the searcher is that thread's, and
        # its files must not be read from another thread (a shared seek and read).
        self._lengths: dict[str, np.ndarray] = {}
        for name, fieldobj in searcher.schema.items():
            if fieldobj.scorable:
                self._lengths[name] = self._read_lengths(reader, name)
                self._avgfl[name] = searcher.avg_field_length(name) or 1
        # name -> (code per passage, the values the codes stand for); -1 is no value.
        self.codes: dict[str, tuple[np.ndarray, list[str]]] = {}
        # name -> (passages x values matrix, values), for fields holding several values.
        self.tags: dict[str, tuple[np.ndarray, list[str]]] = {}
        self.document_field = document_field
        # `optional` columns are single-valued ones segments written before them lack (no
        # value for any of their passages): an index is not read the slow way for them.
        if generation is not None and self._from_columns(generation, reader,
                                                         (*single, document_field), multi,
                                                         optional):
            return
        for name in (*single, document_field, *optional):
            self.codes[name] = self._column(reader, name)
        for name in multi:
            indexed = name in reader.indexed_field_names()
            values = list(reader.field_terms(name)) if indexed else []
            matrix = np.zeros((self.size, len(values)), dtype=bool)
            for i, value in enumerate(values):
                for leaf, offset in reader.leaf_readers():
                    if (name, value) in leaf:
                        ids = np.array(list(leaf.postings(name, value).all_ids()), dtype=np.int64)
                        matrix[ids + offset, i] = True
            self.tags[name] = (matrix, values)

    def _from_columns(self, generation: Path, reader: Any, single: tuple[str, ...],
                      multi: tuple[str, ...], optional: tuple[str, ...] = ()) -> bool:
        """Codes and tags from the facet arrays the indexer wrote (indexer/column_arrays.py),
        each segment's codes translated to the generation's; False if any is missing."""
        try:
            segments = [(read_segment_columns(generation / COLUMNS / leaf.segment().segment_id()),
                         offset, leaf.doc_count_all())
                        for leaf, offset in reader.leaf_readers()]
        except ColumnsMissing:
            return False
        if any(name not in columns[0] for columns, _, _ in segments for name in single) or \
                any(name not in columns[1] for columns, _, _ in segments for name in multi):
            return False
        for name in (*single, *optional):
            index: dict[str, int] = {}
            codes = np.full(self.size, -1, dtype=np.int64)
            for (columns, _), offset, count in segments:
                if name not in columns:  # an optional column this segment was written without
                    continue
                local, values = columns[name]
                # Index -1 (no value) reads the appended -1.
                to_global = np.array([index.setdefault(v, len(index)) for v in values] + [-1],
                                     dtype=np.int64)
                codes[offset : offset + count] = to_global[local]
            self.codes[name] = (codes, list(index))
        for name in multi:
            values = sorted({v for (_, tags), _, _ in segments for v in tags[name][1]})
            at = {v: i for i, v in enumerate(values)}
            matrix = np.zeros((self.size, len(values)), dtype=bool)
            for (_, tags), offset, count in segments:
                local, local_values = tags[name]
                matrix[offset : offset + count, [at[v] for v in local_values]] = local
            self.tags[name] = (matrix, values)
        return True

    def _column(self, reader: Any, name: str) -> tuple[np.ndarray, list[str]]:
        index: dict[str, int] = {}
        codes = np.full(self.size, -1, dtype=np.int64)
        if reader.has_column(name):
            for docnum, value in enumerate(reader.column_reader(name)):
                if value:
                    codes[docnum] = index.setdefault(value, len(index))
        values = list(index)
        return codes, values

    def has_term(self, searcher: Searcher, fieldname: str, text: str) -> bool:
        """True if some passage (deleted ones included, as Whoosh counts) has the term;
        `searcher` is the calling thread's own (read only without posting arrays)."""
        btext = self.schema[fieldname].to_bytes(text)
        if self.segments is None:
            return searcher.doc_frequency(fieldname, btext) > 0
        return any(segment.find(fieldname, btext) >= 0 for segment, _ in self.segments)

    def average_length(self, fieldname: str) -> float:
        return self._avgfl.get(fieldname, 1.0)

    def lengths(self, fieldname: str) -> np.ndarray:
        """Each passage's length in `fieldname`, as Whoosh's scorer reads it."""
        return self._lengths[fieldname]

    def _read_lengths(self, reader: Any, fieldname: str) -> np.ndarray:
        found = np.zeros(self.size, dtype=np.float64)
        for leaf, offset in reader.leaf_readers():
            perdoc = getattr(leaf, "_perdoc", None)
            column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN) \
                if perdoc is not None else None
            count = leaf.doc_count_all()
            if column is None:
                continue
            # One byte per passage; the column may stop before trailing empty ones.
            stored = min(count, column._count)
            raw = np.frombuffer(column._dbfile.get(column._basepos, stored), dtype=np.uint8)
            found[offset : offset + len(raw)] = _LENGTHS[raw]
        # Whoosh reads a missing length as 1.
        found[found == 0] = 1.0
        return found


class BulkMatcher:
    """Evaluates one request's queries; a term shared by several queries is read once."""

    def __init__(self, searcher: Searcher, arrays: GenerationArrays) -> None:
        self.searcher = searcher
        self.arrays = arrays
        self._terms: dict[tuple[str, str], Matches] = {}

    def matches(self, query: Query) -> Matches:
        """Sorted passage numbers matching `query` and their Whoosh scores."""
        if isinstance(query, Term):
            ids, scores = self._term(query.fieldname, query.text)
            return ids, scores * query.boost if query.boost != 1.0 else scores
        if isinstance(query, Phrase) and self.arrays.segments is not None:
            ids, scores = self._phrase(query)
            return ids, scores * query.boost if query.boost != 1.0 else scores
        if isinstance(query, AndNot):
            ids, scores = self.matches(query.a)
            out, _ = self.matches(query.b)
            keep = ~np.isin(ids, out, assume_unique=True)
            return ids[keep], scores[keep]
        if isinstance(query, (And, Or)) and (self.arrays.segments is not None
                                              or not _phrases_only(query)):
            parts = [self.matches(q) for q in query.subqueries]
            combined = _and(parts) if isinstance(query, And) else _or(parts)
            if query.boost != 1.0:
                combined = (combined[0], combined[1] * query.boost)
            return combined
        return self._whoosh(query)

    def _term(self, fieldname: str, text: str) -> Matches:
        key = (fieldname, text)
        found = self._terms.get(key)
        if found is None:
            btext = self.searcher.schema[fieldname].to_bytes(text)
            if self.arrays.segments is None:
                found = self._term_whoosh(fieldname, btext)
            else:
                found = self._term_arrays(fieldname, btext)
            self._terms[key] = found
        return found

    def _term_arrays(self, fieldname: str, btext: bytes) -> Matches:
        id_parts, weight_parts, df = [], [], 0
        for segment, offset in self.arrays.segments or ():
            term = segment.find(fieldname, btext)
            if term < 0:
                continue
            ids, weights = segment.postings(term)
            df += len(ids)
            id_parts.append(ids.astype(np.int64) + offset)
            weight_parts.append(weights)
        if not df:
            return _EMPTY
        return self._scored(fieldname, np.concatenate(id_parts),
                            np.concatenate(weight_parts).astype(np.float64), df)

    def _term_whoosh(self, fieldname: str, btext: bytes) -> Matches:
        reader = self.searcher.reader()
        if (fieldname, btext) not in reader:
            return _EMPTY
        id_parts, weight_parts = [], []
        for leaf, offset in reader.leaf_readers():
            if (fieldname, btext) not in leaf:
                continue
            matcher = leaf.postings(fieldname, btext)
            if isinstance(matcher, FilterMatcher):
                matcher = matcher.child  # deletions are masked below, all at once
            ids, weights = _postings(matcher)
            id_parts.append(ids + offset)
            weight_parts.append(weights)
        return self._scored(fieldname, np.concatenate(id_parts), np.concatenate(weight_parts),
                            reader.doc_frequency(fieldname, btext))

    def _scored(self, fieldname: str, ids: np.ndarray, tf: np.ndarray, df: int) -> Matches:
        """Live postings scored as Whoosh's BM25F scorer (indexer/schema.py) scores them;
        `df` counts deleted passages too, as Whoosh's doc_frequency does."""
        keep = self.arrays.live[ids]
        ids, tf = ids[keep], tf[keep]
        b, k1, weight, idf_kind = bm25_parameters(self.searcher.schema[fieldname])
        total = self.searcher.doc_count_all()
        if idf_kind == "bm25":
            idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
        else:
            idf = math.log(total / (df + 1)) + 1
        idf *= weight
        length = self.arrays.lengths(fieldname)[ids]
        avgfl = self.arrays.average_length(fieldname)
        scores = idf * (tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * length / avgfl))
        return ids, scores

    def _phrase(self, query: Phrase) -> Matches:
        """Passages holding the words in order, each within `slop` of the one before."""
        fieldname, slop = query.fieldname, query.slop
        if fieldname not in self.searcher.schema or not query.words:
            return _EMPTY
        words = [self._term(fieldname, w) for w in query.words]
        ids, scores = _and(words)
        if not len(ids) or len(words) == 1:
            return ids, scores
        field = self.searcher.schema[fieldname]
        keep = np.zeros(len(ids), dtype=bool)
        for segment, offset, size in segment_spans(self.arrays):
            inside = np.flatnonzero((ids >= offset) & (ids < offset + size))
            if not len(inside):
                continue
            local = ids[inside] - offset
            ends: np.ndarray | None = None
            for word in query.words:
                term = segment.find(fieldname, field.to_bytes(word))
                term_ids, _ = segment.postings(term)
                rows = np.searchsorted(term_ids, local)
                positions, owner = segment.positions(term, rows)
                keys = owner * _SPAN + positions
                if ends is None:
                    ends = np.unique(keys)
                    continue
                ok = np.zeros(len(keys), dtype=bool)
                for gap in range(1, max(1, slop) + 1):
                    ok |= np.isin(keys - gap, ends)
                ends = np.unique(keys[ok])
                if not len(ends):
                    break
            if ends is not None and len(ends):
                keep[inside[np.unique(ends // _SPAN)]] = True
        return ids[keep], scores[keep]

    def _whoosh(self, query: Query) -> Matches:
        # Anything else: Whoosh's own matcher, every match scored.
        results = self.searcher.search(query, limit=None)
        if not results.top_n:
            return _EMPTY
        scores, ids = zip(*results.top_n, strict=True)
        ids_array = np.array(ids, dtype=np.int64)
        order = np.argsort(ids_array, kind="stable")
        return ids_array[order], np.array(scores, dtype=np.float64)[order]


# Positions of one passage's field stay below this (passages are bounded far lower), so
# (row, position) pairs are compared as one int64 key.
_SPAN = 1 << 32


def segment_spans(arrays: GenerationArrays) -> list[tuple[Any, int, int]]:
    """(segment, offset, passages) of each segment, in order. Told apart by place, not by
    offset: an empty segment starts where the next one does."""
    segments = list(arrays.segments or ())
    ends = [offset for _, offset in segments[1:]] + [arrays.size]
    return [(segment, offset, end - offset)
            for (segment, offset), end in zip(segments, ends, strict=True)]


def _phrases_only(query: Query) -> bool:
    """True if no leaf of `query` is a term: Whoosh then matches it in one search."""
    return all(not isinstance(leaf, Term) for leaf in query.leaves())


def _postings(matcher: Any) -> tuple[np.ndarray, np.ndarray]:
    """All ids and weights of a Whoosh W3 leaf matcher, read a block at a time.

    Each block is read and unpickled by Whoosh's codec; only its delta-coded ids and its
    weights are decoded here, as arrays, instead of one Python call per posting.
    """
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    while matcher.is_active():
        matcher._read_data()
        block_ids, block_weights = matcher._data[0], matcher._data[1]
        count = matcher._blocklength
        block = np.asarray(block_ids, dtype=np.int64)
        ids.append(block if matcher._byteids else np.cumsum(block))
        if block_weights is None:
            weights.append(np.ones(count))
        elif isinstance(block_weights, float):
            weights.append(np.full(count, block_weights))
        else:
            weights.append(np.asarray(block_weights, dtype=np.float64))
        matcher._next_block()
    if not ids:
        return _EMPTY
    return np.concatenate(ids), np.concatenate(weights)


def _or(parts: list[Matches]) -> Matches:
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return _EMPTY
    if len(parts) == 1:
        return parts[0]
    ids = np.concatenate([p[0] for p in parts])
    scores = np.concatenate([p[1] for p in parts])
    size = int(ids.max()) + 1
    if len(ids) * 16 >= size:
        # Many matches: sum over a dense array of every passage (linear, no sort).
        present = np.flatnonzero(np.bincount(ids, minlength=size))
        return present, np.bincount(ids, weights=scores, minlength=size)[present]
    unique, inverse = np.unique(ids, return_inverse=True)
    return unique, np.bincount(inverse, weights=scores, minlength=len(unique))


def _and(parts: list[Matches]) -> Matches:
    if not parts or any(not len(p[0]) for p in parts):
        return _EMPTY
    ids, scores = parts[0]
    for other_ids, other_scores in parts[1:]:
        ids, left, right = np.intersect1d(ids, other_ids, assume_unique=True,
                                          return_indices=True)
        scores = scores[left] + other_scores[right]
    return ids, scores


def ranked(found: Matches) -> Matches:
    """The matches best first; equal scores in passage order, as Whoosh orders them."""
    ids, scores = found
    order = np.lexsort((ids, -scores))
    return ids[order], scores[order]
