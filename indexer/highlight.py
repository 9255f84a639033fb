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
        # word -> its terms in this field (the field analyzer's output for that word alone).
        self._analyse = word_terms
        self._cache: dict[str, frozenset[str]] = {}
        self.maxchars = maxchars
        self.surround = surround

    def terms_of(self, word: str) -> frozenset[str]:
        found = self._cache.get(word)
        if found is None:
            if len(self._cache) >= WORD_CACHE_SIZE:
                self._cache.clear()
            found = frozenset(self._analyse(word))
            self._cache[word] = found
        return found

    def snippet(self, text: str, wanted: frozenset[str] | set[str], top: int = 2) -> str:
        """HTML of the best `top` fragments of `text`, or "" if no word of it is wanted."""
        if not wanted:
            return ""
        # Words and the text between them, alternately; their running lengths give every
        # word's offsets without a Python call per word (most of a snippet's cost).
        parts = _SPLIT.split(text)
        words = parts[1::2]
        get, terms_of = self._cache.get, self.terms_of
        termsets = [t if (t := get(w)) is not None else terms_of(w) for w in words]
        matched = [i for i, terms in enumerate(termsets) if not terms.isdisjoint(wanted)]
        if not matched:
            return ""
        offsets = list(accumulate(map(len, parts)))
        tokens = list(zip(offsets[0::2], offsets[1::2], words, strict=False))
        fragments = self._fragments(tokens, matched,
                                    {i: min(termsets[i] & wanted) for i in matched})
        best = sorted(fragments, key=lambda f: (-f.score, f.start))[:top]
        best.sort(key=lambda f: f.start)
        return BETWEEN.join(self._format(text, f) for f in best)

    def _fragments(self, tokens: list[tuple[int, int, str]], matched: list[int],
                   term_at: dict[int, str]) -> list[_Fragment]:
        """Whoosh's ContextFragmenter, walked from match to match instead of token by token:
        a fragment starts up to `surround` characters before a matched word, goes on while
        another matched word comes within `surround` characters, and holds at most
        `maxchars` characters of words."""
        maxchars, surround = self.maxchars, self.surround
        fragments: list[_Fragment] = []
        done = -1  # the last token of the previous fragment
        for m in matched:
            if m <= done:
                continue
            start, end, _ = tokens[m]
            if end - start > maxchars:  # one word longer than a fragment: Whoosh drops it
                done = m
                continue
            countdown = surround
            first = start
            j = m - 1
            while j > done and tokens[m - 1][1] - tokens[j][0] <= surround:
                first = tokens[j][0]
                j -= 1
            if first == start:
                countdown += surround  # no context before it: the room goes after it
            length = end - start
            countdown -= length
            marks = [m]
            k = m
            while countdown > 0 and k + 1 < len(tokens):
                k += 1
                word_length = tokens[k][1] - tokens[k][0]
                if length + word_length > maxchars:
                    break
                if k in term_at:
                    countdown = surround
                    marks.append(k)
                length += word_length
                countdown -= word_length
            done = k
            distinct = len({term_at[i] for i in marks})
            fragments.append(_Fragment(first, tokens[k][1], [tokens[i][:2] for i in marks],
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
