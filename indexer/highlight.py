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
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from indexer.analysis import TOKEN_PATTERN

BETWEEN = " … "
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
        tokens: list[tuple[int, int, str | None]] = []
        any_match = False
        for match in TOKEN_PATTERN.finditer(text):
            hit = self.terms_of(match.group()) & wanted
            term = min(hit) if hit else None
            any_match = any_match or term is not None
            tokens.append((match.start(), match.end(), term))
        if not any_match:
            return ""
        fragments = self._fragments(tokens)
        best = sorted(fragments, key=lambda f: (-f.score, f.start))[:top]
        best.sort(key=lambda f: f.start)
        return BETWEEN.join(self._format(text, f) for f in best)

    def _fragments(self, tokens: list[tuple[int, int, str | None]]) -> list[_Fragment]:
        # Whoosh's ContextFragmenter.fragment_tokens, over (start, end, term) tuples.
        maxchars, surround = self.maxchars, self.surround
        fragments: list[_Fragment] = []
        first: int | None = None
        firsts: deque[int] = deque()
        countdown = -1
        marks: list[tuple[int, int]] = []
        matched: list[str] = []
        currentlen = 0
        end = 0
        for start, end, term in tokens:
            length = end - start
            if countdown < 0 and term is None:
                firsts.append(start)
                while firsts and end - firsts[0] > surround:
                    firsts.popleft()
            elif currentlen + length > maxchars:
                countdown = 0
            elif term is not None:
                countdown = surround
                if first is None:
                    if firsts:
                        first = firsts[0]
                    else:
                        first = start
                        countdown += surround
                marks.append((start, end))
                matched.append(term)
            if countdown >= 0:
                currentlen += length
                countdown -= length
                if countdown <= 0:
                    # No marks: a single word longer than a fragment; Whoosh drops it too.
                    if marks:
                        fragments.append(self._fragment(first, end, marks, matched))
                    marks, matched, firsts, first, currentlen = [], [], deque(), None, 0
        if marks:
            fragments.append(self._fragment(first, end, marks, matched))
        return fragments

    @staticmethod
    def _fragment(first: int | None, end: int, marks: list[tuple[int, int]],
                  matched: list[str]) -> _Fragment:
        start = marks[0][0] if first is None else first
        # Whoosh's BasicFragmentScorer: matches, times 100 per distinct word matched.
        return _Fragment(start, end, marks, len(marks) * (len(set(matched)) * 100 or 1))

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
