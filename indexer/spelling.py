"""Spelling suggestions ("did you mean") from the words of the indexed passages.

The index's matching fields hold stems ("traffick"), which must never be shown to staff,
so the vocabulary is built from the stored passage text, titles and headings: real words
as written, with their frequencies. Candidates are found with symmetric deletes (every
vocabulary word with one letter removed, computed once per index generation), then checked
with a true edit distance: a lookup costs a few dozen dictionary probes, not a scan.

The work of a lookup grows with the square of the word's length (a 499-letter "word" once
made ~124,000 probes and 71 MB), so only words of at most MAX_LENGTH letters are corrected:
no real English or Welsh word in guidance is longer, and a longer one is left as typed at
no cost. Vocabulary words too long to be within two edits of such a word are not indexed.

The vocabulary of a generation is counted by the indexer (`write_vocabulary`) and saved in
the generation directory (VOCABULARY_FILE), so a server reads one small file when it opens a
generation instead of every stored passage. An incremental build costs what it changed, not
the size of the vocabulary's history: the file also names the segments its total includes,
and the build copies the previous generation's files, then
- adds each new segment's counts (counted by the build codec as it stored the passages,
  SEGMENT_FILE: written once, never rewritten),
- subtracts the words of passages newly deleted from a segment, read from its stored
  fields (kept per segment in DELETED_FILE, so a segment merged away later is subtracted
  as it last stood), and
- subtracts the segments merged away.
A generation saved without the file (an older layout, a bench index) is counted in full.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.reading import IndexReader

# Letters only (Welsh ones included): numbers and codes are never corrected.
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
MIN_LENGTH = 4
MAX_LENGTH = 30
MAX_EDITS = 2
# In a generation directory: the whole vocabulary ({"counts": {word: n}, "segments":
# {segment id: passages deleted from it so far}}), each segment's counts as written, and the
# words of its passages deleted since.
VOCABULARY_FILE = "spelling.json"
SEGMENT_FILE = "spelling-{}.json"
DELETED_FILE = "spelling-{}.deleted.json"


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal string alignment distance (transpositions count 1), capped at limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


class _DeleteIndex:
    """Every vocabulary word and each of its one-letter deletes, as sorted arrays of string
    hashes and word numbers: ~3 MB at 29k words where a dict of lists took ~39 MB, in every
    server process. A hash collision only adds a candidate; the edit distance checks all."""

    def __init__(self, words: list[str]) -> None:
        hashes: list[int] = []
        owners: list[int] = []
        for number, word in enumerate(words):
            for form in {word} | _deletes(word):
                hashes.append(hash(form))
                owners.append(number)
        keys = np.array(hashes, dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._owners = np.array(owners, dtype=np.int32)[order]
        self._words = words

    def lookup(self, forms: set[str]) -> set[str]:
        """Words with a delete (or themselves) among `forms`."""
        probes = np.fromiter((hash(f) for f in forms), dtype=np.int64, count=len(forms))
        starts = np.searchsorted(self._keys, probes, "left")
        ends = np.searchsorted(self._keys, probes, "right")
        found: set[str] = set()
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            found.update(self._words[i] for i in self._owners[start:end].tolist())
        return found


class Vocabulary:
    """Words seen in the index, with counts, and a corrector over them."""

    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts
        self._by_delete: _DeleteIndex | None = None
        # Server threads share a vocabulary: the index is built once, not once per thread.
        self._building = threading.Lock()
        # Words looked up the costly way (probes and candidates): the work done, observable.
        self.lookups = 0

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Vocabulary:
        return cls(count_words(texts))

    @classmethod
    def load(cls, generation: Path) -> Vocabulary | None:
        """The vocabulary the indexer saved in `generation`, or None if it saved none."""
        saved = _read_json(generation / VOCABULARY_FILE)
        return None if saved is None else cls(Counter(saved["counts"]))

    def __contains__(self, word: str) -> bool:
        return word in self.counts

    def _index(self) -> _DeleteIndex:
        # Built on the first suggestion, not with the generation: most queries need none.
        if self._by_delete is None:
            with self._building:
                if self._by_delete is None:
                    self._by_delete = _DeleteIndex(
                        [w for w in self.counts
                         if MIN_LENGTH - 1 <= len(w) <= MAX_LENGTH + MAX_EDITS])
        return self._by_delete

    @staticmethod
    def correctable(word: str) -> bool:
        """A word the corrector will look up: letters only, MIN_LENGTH to MAX_LENGTH long."""
        return MIN_LENGTH <= len(word) <= MAX_LENGTH and bool(_WORD.fullmatch(word))

    @staticmethod
    def _limit(word: str) -> int:
        return 1 if len(word) <= 5 else MAX_EDITS

    def candidates(self, word: str) -> set[str]:
        """Vocabulary words that may be within reach of `word`, before the distance check.

        Empty, at no cost, for a word the corrector does not look up.
        """
        if not self.correctable(word) or word in self.counts:
            return set()
        self.lookups += 1
        index = self._index()
        # Query deletes up to two against vocabulary deletes of one reach every word within
        # two edits of the usual kinds (a letter missing, extra, wrong or swapped).
        probes = {word} | _deletes(word)
        if self._limit(word) == 2:
            probes |= {d2 for d in _deletes(word) for d2 in _deletes(d)}
        return index.lookup(probes)

    def correct(self, word: str) -> str | None:
        """The closest, most frequent vocabulary word within 2 edits (1 for short words)."""
        limit = self._limit(word)
        best: tuple[int, int, str] | None = None
        for candidate in self.candidates(word):
            distance = edit_distance(word, candidate, limit)
            if distance > limit:
                continue
            key = (distance, -self.counts[candidate], candidate)
            if best is None or key < best:
                best = key
        return best[2] if best else None


def count_words(texts: Iterable[str], counts: Counter[str] | None = None) -> Counter[str]:
    """Words of the texts as the corrector knows them, with how often each occurs (added
    to `counts` if given)."""
    raw: Counter[str] = Counter()
    for text in texts:
        count_raw_words(text, raw)
    return known_words(raw, counts)


def count_raw_words(text: str, raw: Counter[str]) -> None:
    """Adds the words of `text` to `raw` as they are written (casefolded); `known_words`
    turns the counts into the corrector's. Counting the written forms first leaves the
    per-word work to C: a build counts every word of every passage."""
    raw.update(_WORD.findall(text.casefold()))


def known_words(raw: Counter[str], counts: Counter[str] | None = None) -> Counter[str]:
    """Counts of written words (`count_raw_words`) as the corrector's words: typographic
    apostrophes made plain, words too long to correct left out."""
    if counts is None:
        counts = Counter()
    longest = MAX_LENGTH + MAX_EDITS
    for word, n in raw.items():
        if len(word) <= longest:
            key = word.replace("\u2019", "'")
            counts[key] = counts.get(key, 0) + n
    return counts


def save_segment_counts(generation: Path, segment_id: str, counts: Counter[str]) -> None:
    """The word counts of a segment just written, counted as its passages were stored
    (so `write_vocabulary` need not read it back)."""
    _write_atomic(generation / SEGMENT_FILE.format(segment_id),
                  json.dumps({"counts": counts}, ensure_ascii=False))


def passage_texts(stored: dict[str, Any]) -> list[str]:
    """The text of one stored passage that spelling suggestions are drawn from: every word
    a search can match, so none of them is taken for a misspelling."""
    return [stored.get("body", ""), " ".join(stored.get("headings") or []),
            stored.get("title_display", "")]


def vocabulary_from_reader(reader: IndexReader) -> Vocabulary:
    """Every live passage's words, read from the stored fields (an index saved without a
    vocabulary file: old generations, bench indexes)."""
    return Vocabulary(count_words(
        t for _, stored in reader.iter_docs() for t in passage_texts(stored)))


def write_vocabulary(generation: Path, reader: IndexReader) -> dict[str, int]:
    """Bring the vocabulary of `generation` (open as `reader`) up to date and save it there.

    Returns the work done: passages read for segments with no saved counts, and passages
    read because they were deleted from a segment since it was last counted.
    """
    work = {"passages_read": 0, "deleted_read": 0}
    saved = _read_json(generation / VOCABULARY_FILE)
    included: dict[str, int] = saved["segments"] if saved else {}
    total: Counter[str] = Counter(saved["counts"] if saved else {})
    segments: dict[str, int] = {}
    for leaf, _ in reader.leaf_readers():
        segment_id = leaf.segment().segment_id()
        deleted = set(leaf.segment().deleted_docs())
        segments[segment_id] = len(deleted)
        if segment_id in included:
            # Deletions from a segment only grow, until it is merged into a new one.
            if included[segment_id] == len(deleted):
                continue
            gone = _deleted_words(generation, segment_id)
        else:
            written = _read_json(generation / SEGMENT_FILE.format(segment_id))
            if written is None:  # saved by no build: its live passages, read back
                counted = count_words(t for _, stored in leaf.iter_docs()
                                      for t in passage_texts(stored))
                work["passages_read"] += leaf.doc_count()
                _write_atomic(generation / SEGMENT_FILE.format(segment_id),
                              json.dumps({"counts": counted}, ensure_ascii=False))
                _write_deleted(generation, segment_id, sorted(deleted), Counter())
                total.update(counted)
                continue
            gone = _deleted_words(generation, segment_id)
            total.update(written["counts"])
            _take(total, gone["counts"])
        newly = sorted(deleted - set(gone["deleted"]))
        # Stored fields stay readable after a deletion until the segment is merged.
        words = count_words(t for d in newly for t in passage_texts(leaf.stored_fields(d)))
        work["deleted_read"] += len(newly)
        _take(total, words)
        words.update(gone["counts"])
        _write_deleted(generation, segment_id, sorted(deleted), words)
    for segment_id in included.keys() - segments.keys():  # merged away
        written = _read_json(generation / SEGMENT_FILE.format(segment_id))
        if written is None:  # the total cannot be trusted: count it again
            (generation / VOCABULARY_FILE).unlink()
            return write_vocabulary(generation, reader)
        live = Counter(written["counts"])
        live.subtract(_deleted_words(generation, segment_id)["counts"])
        _take(total, live)
    kept = {name.format(s) for s in segments for name in (SEGMENT_FILE, DELETED_FILE)}
    for path in generation.glob(SEGMENT_FILE.format("*")):
        if path.name not in kept:  # merged away, or a writer's segment never committed
            path.unlink()
    _write_atomic(generation / VOCABULARY_FILE, json.dumps(
        {"segments": segments, "counts": total}, ensure_ascii=False, sort_keys=True))
    return work


def _take(total: Counter[str], words: dict[str, int]) -> None:
    """Subtracts `words` from `total`, leaving out words no passage has any more (a pass
    over what changed, not over the vocabulary)."""
    for word, n in words.items():
        left = total.get(word, 0) - n
        if left > 0:
            total[word] = left
        else:
            total.pop(word, None)


def _deleted_words(generation: Path, segment_id: str) -> dict[str, Any]:
    return _read_json(generation / DELETED_FILE.format(segment_id)) or {
        "deleted": [], "counts": {}}


def _write_deleted(generation: Path, segment_id: str, deleted: list[int],
                   words: Counter[str]) -> None:
    _write_atomic(generation / DELETED_FILE.format(segment_id),
                  json.dumps({"deleted": deleted, "counts": words}, ensure_ascii=False))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
