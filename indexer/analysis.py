"""Text analysis for the passage index: how English and Welsh text becomes index terms.

This module owns the tokenizer and filters behind `english_analyzer()` and
`welsh_analyzer()`; indexer/schema.py attaches them to fields. The same analyzer runs at
index time and on the query, so every rule below applies to both sides. Tokens keep the
character offsets of the original text, so highlighting still marks the right words.

Shared by both languages:
- Unicode NFKC and case folding, and accents dropped ("ﬁnd" -> "find", "Ŵyr" -> "wyr"):
  PDF text keeps ligatures, and people type Welsh without circumflexes.
- Dotted acronyms are one term ("N.R.M." == "NRM" == "nrm").
- Numbers are terms of their own, whatever their length ("section 47", "2014 Act");
  "2,000" == "2000" and "1.5" stays one term.

English (`english_analyzer`): possessives dropped ("child's" -> "child"), other
apostrophes joined ("don't" -> "dont"), English stop words (Lucene's and question words),
Porter stemming.
Hyphenated words are indexed as their parts and as the joined word, the joined word at the
position of the last part ("co-ordinate" -> co, ordinate|coordinate); a query word keeps
only the joined form, so "co-ordinate" and "coordinate" find each other and a phrase across
a hyphenated word still lines up.

Welsh (`welsh_analyzer`): no stemming. Apostrophes mark elision ("sy'n", "i'r"), so they
split words; a short Welsh stop list; then initial mutations are folded (`welsh_key`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from whoosh.analysis import Analyzer, CompositeAnalyzer, Filter, Token, Tokenizer
from whoosh.formats import Positions
from whoosh.lang.porter import stem as porter_stem

from indexer.stop_words import ENGLISH_STOP_WORDS, WELSH_STOP_WORDS  # noqa: F401 - re-exported

# An acronym with dots (N.R.M., e.g.), a number with separators (2,000 or 1.5), or a word
# whose parts are joined by apostrophes or hyphens. \w also matches ligatures like U+FB01.
TOKEN_PATTERN = re.compile(
    r"(?:[^\W\d_]\.){2,}"
    r"|\d+(?:[.,]\d+)+"
    r"|\w+(?:['’‘\-‐‑]\w+)*"
)
_APOSTROPHES = "'’‘"
_SPLIT_APOSTROPHE = re.compile(r"['’‘]")
_JOINERS = re.compile(r"[.,'’‘\-‐‑]")
_SPLIT_HYPHEN = re.compile(r"[\-‐‑]")

@lru_cache(maxsize=100_000)
def normalise(text: str) -> str:
    """NFKC, case folding and accents removed: the form every term is compared in."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFD", folded)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", stripped)


class WordTokenizer(Tokenizer):
    """Words, dotted acronyms and numbers, with their offsets in the original text."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        pos = start_pos
        for match in TOKEN_PATTERN.finditer(value):
            t.text = match.group()
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = t.text
            if positions:
                t.pos = pos
                pos += 1
            if chars:
                t.startchar = start_char + match.start()
                t.endchar = start_char + match.end()
            yield t


def _copy(token: Token, text: str) -> Token:
    new = token.copy()
    new.text = text
    return new


class SplitFilter(Filter):
    """Split joined words: English drops possessives and joins apostrophes; Welsh splits them.

    A hyphenated word becomes its parts, each at a position of its own, plus (at index time)
    the joined word at the last part's position; a query keeps only the joined word.
    """

    def __init__(self, welsh: bool = False) -> None:
        self.welsh = welsh

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        shift = 0  # positions taken by the extra parts of earlier split words
        for t in tokens:
            if _JOINERS.search(t.text) is None:  # the common case: a plain word
                if shift and hasattr(t, "pos"):
                    t.pos += shift
                yield t
                continue
            positions = hasattr(t, "pos")
            if positions:
                t.pos += shift
            pieces = self._pieces(t.text, query=t.mode == "query")
            if len(pieces) == 1:
                t.text = pieces[0][0]
                yield t
                continue
            base = t.pos if positions else 0
            for text, offset in pieces:
                new = _copy(t, text)
                if positions:
                    new.pos = base + offset
                yield new
            shift += pieces[-1][1]

    def _pieces(self, text: str, query: bool) -> list[tuple[str, int]]:
        """(text, position offset) of each term a written word stands for."""
        if "." in text and not text[0].isdigit():
            return [(text.replace(".", ""), 0)]  # N.R.M. -> NRM
        if text[0].isdigit() and "," in text:
            return [(text.replace(",", ""), 0)]  # 2,000 -> 2000
        pieces: list[tuple[str, int]] = []
        for word in self._apostrophes(text):
            offset = len(pieces) and pieces[-1][1] + 1
            parts = [p for p in _SPLIT_HYPHEN.split(word) if p]
            if len(parts) > 1 and query:
                pieces.append(("".join(parts), offset))
                continue
            pieces.extend((part, offset + i) for i, part in enumerate(parts))
            if len(parts) > 1:
                pieces.append(("".join(parts), offset + len(parts) - 1))
        return pieces or [(text, 0)]

    def _apostrophes(self, text: str) -> list[str]:
        if not any(a in text for a in _APOSTROPHES):
            return [text]
        if self.welsh:
            return [p for p in _SPLIT_APOSTROPHE.split(text) if p]
        # English: "child's" -> child; "don't" -> dont.
        text = re.sub(r"['’‘][sS]$", "", text)
        return [_SPLIT_APOSTROPHE.sub("", text)]


class NormaliseFilter(Filter):
    """NFKC, case folding and accent removal (see `normalise`)."""

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = normalise(t.text)
            yield t


class StopFilter(Filter):
    """Drop stop words (or only mark them, when the caller asks to keep them)."""

    def __init__(self, stoplist: frozenset[str]) -> None:
        self.stoplist = stoplist

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for t in tokens:
            if t.text in self.stoplist:
                t.stopped = True
                if t.removestops:
                    continue
            yield t


@lru_cache(maxsize=50_000)
def english_stem(word: str) -> str:
    if not word.isalpha():
        return word
    return porter_stem(word)


class EnglishStemFilter(Filter):
    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for t in tokens:
            if not t.stopped:
                t.text = english_stem(t.text)
            yield t


# Mutated initial -> the class key of its radical, longest spelling first. Every radical and
# each of its mutations share one key, so the classes merge where mutations overlap:
#   labial  p, b (soft p), mh (nasal p), ph (aspirate p), f (soft b/m), m (nasal b) -> "p"
#   dental  t, d (soft t), nh (nasal t), th (aspirate t), dd (soft d), n (nasal d)  -> "t"
#   velar   c, g (soft c), ngh (nasal c), ch (aspirate c), ng (nasal g)             -> "c"
#   ll, l (soft ll) -> "ll";  rh, r (soft rh) -> "rh"
# ff never mutates and keeps its own key.
_MUTATIONS = (
    ("ngh", "c"), ("ng", "c"), ("ch", "c"), ("c", "c"), ("g", "c"),
    ("mh", "p"), ("ph", "p"), ("ff", "ff"), ("f", "p"), ("b", "p"), ("m", "p"), ("p", "p"),
    ("nh", "t"), ("th", "t"), ("dd", "t"), ("d", "t"), ("n", "t"), ("t", "t"),
    ("ll", "ll"), ("l", "ll"), ("rh", "rh"), ("r", "rh"),
)
_VOWELS = frozenset("aeiouwy")


def welsh_key(word: str) -> str:
    """The mutation-folded key of a normalised Welsh word (see WelshMutationFilter)."""
    if len(word) < 2 or not word.isalpha():
        return word
    if word[0] == "h" and word[1] in _VOWELS:
        return word[1:]  # h-prothesis: "ei hardal" -> ardal
    for initial, radical in _MUTATIONS:
        if word.startswith(initial) and len(word) > len(initial):
            return radical + word[len(initial) :]
    return word


def welsh_soft_g(word: str) -> str | None:
    """The key of the word this could be with a soft-mutated (dropped) g, if any.

    Soft mutation drops a radical g ("gofal" -> "ofal", "gwaith" -> "waith", "glas" ->
    "las"), so a word starting with a vowel, w, l or r (not ll or rh) may have lost one. An
    initial h is never a dropped g, so an h-word gets no such key.
    """
    if len(word) < 3 or not word.isalpha() or word[0] == "h":
        return None
    if word[0] in _VOWELS or (word[0] in "lr" and word[1] not in "lh"):
        return welsh_key("g" + word)
    return None


class WelshMutationFilter(Filter):
    """Fold Welsh initial mutations so every form of a word meets its radical.

    Each word is replaced by a key in which its initial consonant is folded to its class
    (see `_MUTATIONS`): caethwasiaeth, gaethwasiaeth, nghaethwasiaeth and chaethwasiaeth
    all become "caethwasiaeth"; plant, blant, mhlant and phlant all become "plant". Folding
    both the index and the query to one key per word keeps the matching symmetric and keeps
    phrases lined up. The cost is that radicals of one class meet too (mam/pam, nos/dos):
    rare pairs in guidance text, and the only way to match "fam" to "mam" and "famau" to
    "mamau" without a dictionary.

    The dropped g of a soft mutation ("ofal" for "gofal") cannot be folded the same way
    without merging every vowel-initial word with c and g: instead, at index time only, a
    word that may have lost a g also gets the key with the g restored, at the same position.
    A query for the radical ("gofal") then finds the mutated text ("ei ofal"), while a query
    for a vowel word ("arian") does not pick up unrelated g-words. h-prothesis ("ei hawl")
    is folded by dropping an h before a vowel; radical h-words (hawl, heddlu) lose their h
    on both sides alike.
    """

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for t in tokens:
            if t.stopped:
                yield t
                continue
            word = t.text
            t.text = welsh_key(word)
            soft_g = None if t.mode == "query" else welsh_soft_g(word)
            yield t
            if soft_g is not None and soft_g != t.text:
                yield _copy(t, soft_g)


class WordCachedAnalyzer(CompositeAnalyzer):
    """The tokenizer and filters above, with each written word's terms worked out once.

    Every filter here handles one word at a time; the only state carried from word to word
    is SplitFilter's position shift, which is the highest position offset among a word's
    own terms. So when indexing (mode "index", positions, no character offsets) the filter
    chain's output for a word is run once on that word alone, cached as (term, position
    offset, stopped) with the shift it adds, and replayed for every later occurrence: the
    same tokens, positions and boosts as the chain gives, without five generators and a
    stem lookup per word (most of the analysis time of a full build). Other calls (queries,
    highlighting with character offsets) run the chain itself.
    """

    CACHE_LIMIT = 200_000  # distinct words; cleared when full, so memory stays bounded

    def __init__(self, *composables: Any) -> None:
        super().__init__(*composables)
        self._cache: dict[str, tuple[tuple[tuple[str, int, bool], ...], int]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # The analyzer is pickled with the schema into every index: never its cache.
        state = dict(self.__dict__)
        state.pop("_cache", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._cache = {}

    def _terms_of(self, word: str) -> tuple[tuple[tuple[str, int, bool], ...], int]:
        token = Token(positions=True, chars=False, removestops=False, mode="index")
        token.text, token.pos, token.boost, token.stopped = word, 0, 1.0, False
        gen: Iterable[Token] = iter((token,))
        for item in self.items[1:]:
            gen = item(gen)
        out = tuple((t.text, t.pos, t.stopped) for t in gen)
        entry = out, max((pos for _, pos, _ in out), default=0)
        if len(self._cache) >= self.CACHE_LIMIT:
            self._cache.clear()
        self._cache[word] = entry
        return entry

    def __call__(self, value: Any, no_morph: bool = False, **kwargs: Any) -> Iterator[Token]:
        if (no_morph or kwargs.get("mode") != "index" or not kwargs.get("positions")
                or kwargs.get("chars") or kwargs.get("keeporiginal")
                or not kwargs.get("tokenize", True) or not isinstance(value, str)):
            return super().__call__(value, no_morph=no_morph, **kwargs)
        return self._index_tokens(value, **kwargs)

    def term_positions(self, value: str) -> dict[str, list[int]]:
        """Each term of `value` with its positions, as indexing analysis gives them (stop
        words removed), in order of first occurrence: what Whoosh's Positions format
        collects from `_index_tokens`, without a token object per word."""
        poses: dict[str, list[int]] = {}
        cache = self._cache
        terms_of = self._terms_of
        pos = 0
        for word in TOKEN_PATTERN.findall(value):
            entry = cache.get(word)
            if entry is None:
                entry = terms_of(word)
            out, shift = entry
            for text, offset, stopped in out:
                if not stopped:
                    found = poses.get(text)
                    if found is None:
                        poses[text] = [pos + offset]
                    else:
                        found.append(pos + offset)
            pos += shift + 1
        return poses

    def _index_tokens(self, value: str, removestops: bool = True, start_pos: int = 0,
                      **kwargs: Any) -> Iterator[Token]:
        kwargs.pop("start_char", None)
        t = Token(removestops=removestops, **kwargs)
        t.boost = 1.0
        cache = self._cache
        terms_of = self._terms_of
        pos = start_pos
        for word in TOKEN_PATTERN.findall(value):
            entry = cache.get(word)
            if entry is None:
                entry = terms_of(word)
            out, shift = entry
            for text, offset, stopped in out:
                if stopped and removestops:
                    continue
                t.text, t.pos, t.stopped = text, pos + offset, stopped
                yield t
            pos += shift + 1


def english_analyzer() -> Analyzer:
    """English: normalise, split, stop words, Porter stemming (see the module docstring)."""
    return WordCachedAnalyzer(
        WordTokenizer(),
        SplitFilter(welsh=False),
        NormaliseFilter(),
        StopFilter(ENGLISH_STOP_WORDS),
        EnglishStemFilter(),
    )


def welsh_analyzer() -> Analyzer:
    """Welsh: normalise, split on apostrophes, Welsh stop words, fold mutations; no stemming."""
    return WordCachedAnalyzer(
        WordTokenizer(),
        SplitFilter(welsh=True),
        NormaliseFilter(),
        StopFilter(WELSH_STOP_WORDS),
        WelshMutationFilter(),
    )


def terms(analyzer: Analyzer, text: str, mode: str = "index") -> list[str]:
    """The terms `analyzer` makes of `text` (for tests and the benchmark's diagnostics)."""
    return [t.text for t in analyzer(text, mode=mode)]


class CachedPositions(Positions):
    """Whoosh's Positions format, reading a WordCachedAnalyzer's terms directly.

    Whoosh collects a field's postings token by token through generators
    (formats.Positions.word_values via analysis.tokens and unstopped): a third of a build
    worker's time. For plain text indexed with a WordCachedAnalyzer this asks the analyzer
    for each term's positions at once; the postings, weights and encoded values are the
    ones Whoosh's own format gives (every token's boost is 1.0 there). Anything else goes
    through Whoosh's format unchanged.
    """

    def word_values(self, value: Any, analyzer: Any, **kwargs: Any) -> Iterator[Any]:
        if (not isinstance(analyzer, WordCachedAnalyzer) or not isinstance(value, str)
                or kwargs.get("mode", "index") != "index" or set(kwargs) - {"mode"}):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        boost, encode = self.field_boost, self.encode
        for term, positions in analyzer.term_positions(value).items():
            yield (term, len(positions), len(positions) * boost, encode(positions))
