"""Facet arrays: each segment's filter values as integer codes, written once by the indexer.

The search path counts facets and collapses documents over arrays holding, for every
passage, a code for its source, type, language and document, and for its audience tags a
row of a matrix (indexer/matching.py `GenerationArrays`). Reading those from Whoosh's
columns is one Python call per passage per column (~2 s at 50k passages, ~40 s at 1M): a
server would pay it on the first query after every switch. So the indexer writes them per
segment (`write_generation_columns`, from indexer/generations.py `warm`), beside the
posting arrays, into `columns/<segment id>/`: `<name>.bin` (int32 codes, -1 for no value)
with the values they stand for in `meta.json`, and `<name>.tags.bin` (one uint8 row of
0/1 per passage, a column per tag). Opening a generation then reads small files and
translates each segment's codes into the generation's with one numpy lookup.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from indexer.postings import unwritten_segments

DIRECTORY = "columns"
META = "meta.json"
FORMAT = 1


class ColumnsMissing(Exception):
    """A segment has no facet arrays (an index built before them)."""


def _segment_columns(leaf: Any, single: tuple[str, ...],
                     multi: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    count = leaf.doc_count_all()
    meta: dict[str, Any] = {"format": FORMAT, "count": count, "single": {}, "multi": {}}
    arrays: dict[str, np.ndarray] = {}
    for name in single:
        index: dict[str, int] = {}
        codes = np.full(count, -1, dtype=np.int32)
        if leaf.has_column(name):
            for docnum, value in enumerate(leaf.column_reader(name)):
                if value:
                    codes[docnum] = index.setdefault(value, len(index))
        meta["single"][name] = list(index)
        arrays[f"{name}.bin"] = codes
    for name in multi:
        values = list(leaf.field_terms(name)) if name in leaf.indexed_field_names() else []
        matrix = np.zeros((count, len(values)), dtype=np.uint8)
        for i, value in enumerate(values):
            matcher = leaf.postings(name, value)
            matcher = getattr(matcher, "child", matcher)  # deleted ones are masked later
            matrix[np.fromiter(matcher.all_ids(), dtype=np.int64), i] = 1
        meta["multi"][name] = values
        arrays[f"{name}.tags.bin"] = matrix
    return meta, arrays


def write_generation_columns(generation: Path, reader: Any, single: tuple[str, ...],
                             multi: tuple[str, ...]) -> int:
    """Facet arrays for each segment of `generation` that has none; those of segments
    merged away are removed. Returns the number of segments written."""
    root = generation / DIRECTORY
    written = 0
    for leaf, segment_id, target in unwritten_segments(root, reader):
        meta, arrays = _segment_columns(leaf, single, multi)
        tmp = root / f"{segment_id}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for filename, data in arrays.items():
            (tmp / filename).write_bytes(data.tobytes())
        (tmp / META).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        written += 1
    return written


def read_segment_columns(path: Path) -> tuple[dict[str, tuple[np.ndarray, list[str]]],
                                              dict[str, tuple[np.ndarray, list[str]]]]:
    """One segment's (codes, values) per single-valued column and (matrix, values) per
    tag column. Raises ColumnsMissing if they were never written or cannot be read."""
    try:
        meta = json.loads((path / META).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError("another format")
        count = int(meta["count"])
        single = {
            name: (np.fromfile(path / f"{name}.bin", dtype=np.int32, count=count), values)
            for name, values in meta["single"].items()
        }
        multi = {
            name: (np.fromfile(path / f"{name}.tags.bin", dtype=np.uint8,
                               count=count * len(values)).reshape(count, len(values))
                   .astype(bool), values)
            for name, values in meta["multi"].items()
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ColumnsMissing(f"no facet arrays in {path}: {exc}") from None
    for codes, values in single.values():
        if len(codes) != count or (count and int(codes.max()) >= len(values)):
            raise ColumnsMissing(f"facet arrays in {path} do not match their values")
    return single, multi
