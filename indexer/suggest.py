"""Suggestions as staff type: titles and headings of the indexed documents, then words.

Built once per generation, on its first suggestion request, from the generation's manifest
(titles and headings, indexer/manifest.py) and its spelling vocabulary (words as written):
a few hundred milliseconds at 200k passages, paid by the first keystroke after a switch,
never by a search. What is kept is bounded (MAX_PHRASES phrases, MAX_WORDS words, the most
frequent), so a lookup is one scan of a fixed-size list and a binary search, a few
milliseconds at any index size.

A suggestion completes what was typed: a title or heading in which every typed word starts
a word, in order; then the typed text with its last word completed from the vocabulary.
Input is cut to MAX_INPUT_CHARS; nothing typed is logged or kept.
"""

from __future__ import annotations

import bisect
from collections import Counter
from pathlib import Path

from hubsearch.search_results import MAX_SUGGESTIONS
from indexer import manifest
from indexer.analysis import ENGLISH_STOP_WORDS, WELSH_STOP_WORDS
from indexer.query import words_of
from indexer.spelling import Vocabulary

MAX_PHRASES = 20_000
MAX_WORDS = 50_000
MAX_PHRASE_CHARS = 120
MAX_INPUT_CHARS = 100
MIN_PREFIX = 2  # characters typed before anything is suggested
_STOP = ENGLISH_STOP_WORDS | WELSH_STOP_WORDS


class Suggester:
    """The suggestions of one generation."""

    def __init__(self, generation: Path, vocabulary: Vocabulary) -> None:
        counts: Counter[str] = Counter()
        shown: dict[str, str] = {}
        for title, headings in manifest.titles_and_headings(generation):
            for phrase in (title, *headings):
                phrase = " ".join(phrase.split())
                if 0 < len(phrase) <= MAX_PHRASE_CHARS:
                    key = " ".join(words_of(phrase))
                    if key:
                        counts[key] += 1
                        shown.setdefault(key, phrase)
        # Most used first: a heading many documents share ("Making a referral") is likelier
        # what was meant than one of a kind.
        self._phrases = [(" " + key, shown[key]) for key, _ in counts.most_common(MAX_PHRASES)]
        # Words worth completing to: not "the" or "ac", which search leaves out anyway.
        common = [w for w, _ in vocabulary.counts.most_common(MAX_WORDS + len(_STOP))
                  if len(w) > MIN_PREFIX and w not in _STOP][:MAX_WORDS]
        self._words = sorted(common)
        self._rank = {w: i for i, w in enumerate(common)}

    def suggest(self, text: str, limit: int = 8) -> list[str]:
        """Up to `limit` completions of `text`, titles and headings first."""
        typed = words_of(text[:MAX_INPUT_CHARS])
        if not typed or len(" ".join(typed)) < MIN_PREFIX:
            return []
        limit = max(1, min(limit, MAX_SUGGESTIONS))
        found: list[str] = []
        for key, phrase in self._phrases:
            if _starts_words(key, typed):
                found.append(phrase)
                if len(found) == limit:
                    return found
        last, head = typed[-1], " ".join(typed[:-1])
        start = bisect.bisect_left(self._words, last)
        completions: list[str] = []
        for word in self._words[start:]:
            if not word.startswith(last):
                break
            completions.append(word)
        completions.sort(key=self._rank.__getitem__)
        seen = {f.casefold() for f in found}
        for word in completions:
            candidate = f"{head} {word}".strip()
            if candidate not in seen and word != last:
                found.append(candidate)
                seen.add(candidate)
                if len(found) == limit:
                    break
        return found


def _starts_words(key: str, typed: list[str]) -> bool:
    """True if each typed word starts a word of `key` (" word word ..."), in order."""
    at = 0
    for word in typed:
        at = key.find(" " + word, at)
        if at < 0:
            return False
        at += len(word) + 1
    return True
