"""Snippets: the best one or two stretches of a passage, its query words wrapped in <mark>.

Whoosh's highlighter runs a passage's whole text through the field's analyzer chain, token
object by token object, for every hit of every query (~1.5 ms a hit, most of a search's
cost once matching is done in bulk). Analysis here is per word and context-free (see
indexer/analysis.py), so a word's terms are looked up once in a shared, bounded cache and
a passage costs one regex scan. Fragments are chosen as Whoosh's ContextFragmenter and
BasicFragmentScorer choose them (up to `maxchars` characters, `surround` characters of
context around the matched words, scored by matches times distinct words matched), the
best `top` are shown in text order, joined by " … ". Every character of passage text is
HTML-escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import accumulate

from indexer.analysis import TOKEN_PATTERN

BETWEEN = " … "
_SPLIT = re.compile(f"({TOKEN_PATTERN.pattern})", TOKEN_PATTERN.flags)
# Distinct words of one field remembered; the vocabulary of a large index is far smaller
# than this, and a flood of made-up words clears the cache rather than growing it.
WORD_CACHE_SIZE = 200_000


@dataclass
class _Fragment:
    start: int
    end: int
    marks: list[tuple[int, int]]
    score: int


class Highlighter:
    """Marks, in passages of one field, the words whose terms the query asked for."""

    def __init__(self, word_terms: Callable[[str], Iterable[str]], maxchars: int = 320,
                 surround: int = 90) -> None:
        # word -> its terms in this field (the field analyzer's output for that word alone),
        # and the reverse, term -> the words seen with it, so that a passage's matching
        # words are found by set operations rather than a Python step per word.
        self._analyse = word_terms
        self._cache: dict[str, frozenset[str]] = {}
        self._words_of: dict[str, set[str]] = {}
        self.maxchars = maxchars
        self.surround = surround

    def terms_of(self, word: str) -> frozenset[str]:
        found = self._cache.get(word)
        if found is None:
            if len(self._cache) >= WORD_CACHE_SIZE:
                self._cache.clear()
                self._words_of.clear()
            found = frozenset(self._analyse(word))
            self._cache[word] = found
            for term in found:
                self._words_of.setdefault(term, set()).add(word)
        return found

    def snippet(self, text: str, wanted: frozenset[str] | set[str], top: int = 2) -> str:
        """HTML of the best `top` fragments of `text`, or "" if no word of it is wanted."""
        if not wanted:
            return ""
        # Words and the text between them, alternately; their running lengths give every
        # word's offsets without a Python call per word (most of a snippet's cost).
        parts = _SPLIT.split(text)
        words = parts[1::2]
        distinct = set(words)
        missing = distinct.difference(self._cache)
        if len(self._cache) + len(missing) >= WORD_CACHE_SIZE:
            # Learning them all would clear the cache part-way: judge each word alone.
            hits = {w for w in distinct if not self.terms_of(w).isdisjoint(wanted)}
        else:
            for word in missing:
                self.terms_of(word)
            words_of = self._words_of
            hits = {w for t in wanted for w in words_of.get(t, ()) if w in distinct}
        if not hits:
            return ""
        matched = [i for i, w in enumerate(words) if w in hits]
        offsets = list(accumulate(map(len, parts)))
        terms_of = self.terms_of
        term_of = {w: min(terms_of(w) & wanted) for w in hits}
        fragments = self._fragments(offsets, matched, {i: term_of[words[i]] for i in matched})
        best = sorted(fragments, key=lambda f: (-f.score, f.start))[:top]
        best.sort(key=lambda f: f.start)
        return BETWEEN.join(self._format(text, f) for f in best)

    def _fragments(self, offsets: list[int], matched: list[int],
                   term_at: dict[int, str]) -> list[_Fragment]:
        """Whoosh's ContextFragmenter, walked from match to match instead of token by token:
        a fragment starts up to `surround` characters before a matched word, goes on while
        another matched word comes within `surround` characters, and holds at most
        `maxchars` characters of words. Word i spans offsets[2i] to offsets[2i + 1]."""
        maxchars, surround = self.maxchars, self.surround
        count = len(offsets) // 2
        fragments: list[_Fragment] = []
        done = -1  # the last token of the previous fragment
        for m in matched:
            if m <= done:
                continue
            start, end = offsets[2 * m], offsets[2 * m + 1]
            if end - start > maxchars:  # one word longer than a fragment: Whoosh drops it
                done = m
                continue
            countdown = surround
            first = start
            j = m - 1
            while j > done and offsets[2 * m - 1] - offsets[2 * j] <= surround:
                first = offsets[2 * j]
                j -= 1
            if first == start:
                countdown += surround  # no context before it: the room goes after it
            length = end - start
            countdown -= length
            marks = [m]
            k = m
            while countdown > 0 and k + 1 < count:
                k += 1
                word_length = offsets[2 * k + 1] - offsets[2 * k]
                if length + word_length > maxchars:
                    break
                if k in term_at:
                    countdown = surround
                    marks.append(k)
                length += word_length
                countdown -= word_length
            done = k
            distinct = len({term_at[i] for i in marks})
            fragments.append(_Fragment(first, offsets[2 * k + 1],
                                       [(offsets[2 * i], offsets[2 * i + 1]) for i in marks],
                                       len(marks) * distinct * 100))
        return fragments

    @staticmethod
    def _format(text: str, fragment: _Fragment) -> str:
        out: list[str] = []
        at = fragment.start
        for start, end in fragment.marks:
            if start < at:
                continue
            if start > at:
                out.append(html.escape(text[at:start], quote=True))
            out.append(f"<mark>{html.escape(text[start:end], quote=True)}</mark>")
            at = end
        if at < fragment.end:
            out.append(html.escape(text[at : fragment.end], quote=True))
        return "".join(out)
