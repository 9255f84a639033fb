"""Search the current index generation: build the query, rank (BM25F), filter, facet,
collapse, highlight, page.

One `PassageSearcher` serves many threads: each thread keeps its own Whoosh searcher (they
are not thread-safe) and reopens it when `current` points at a new generation, so a new
index is picked up without a restart and a running query never sees a half-built one.
What is derived from a generation (each passage's filter values, the spelling vocabulary)
is computed once per generation and shared by all threads.

Queries are built here, not by Whoosh's parser (see indexer/query.py): each word is matched
in the fields of both languages, with each language's own analysis, so one query finds
English and Welsh passages; synonyms (indexer/synonyms.py) and spelling corrections
(indexer/spelling.py) are added as alternatives of the words they replace. A passage found
only through a synonym in the other language than the query's (a translation) ranks after
the passages that answer in the words typed (`_answers_first`).

What a response carries is bounded here, whatever the index holds (an index built from a
store row older than the crawler's limits can have a 1 MB title): titles, heading paths,
snippets and passage texts are cut to the limits below, and a document's passages are
paged. Spelling correction is tried for at most MAX_CORRECTED words of a query.
"""

from __future__ import annotations

import html
import threading
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.query import And, AndNot, Or, Phrase, Query, Term
from whoosh.searching import Searcher

from crawler.bounds import MAX_TITLE_CHARS
from crawler.language import detect_language
from hubsearch.search_results import (  # noqa: F401 - also importable from here
    DOCUMENT_PASSAGES,
    FACETS,
    MAX_LIMIT,
    SORTS,
    Hit,
    IndexNotReady,
    ResultPage,
)
from indexer import generations, manifest
from indexer.best_bets import BestBetsFile, choose_passage
from indexer.documents import DocumentIndex, document_id
from indexer.highlight import Highlighter
from indexer.hit_text import (  # noqa: F401 - also importable from here
    SNIPPET_CHARS,
    SNIPPET_HTML_CHARS,
    SNIPPET_WORDS,
)
from indexer.hit_text import clip as _clip
from indexer.hit_text import heading_path as _heading_path
from indexer.hit_text import plain_snippet as _plain_snippet
from indexer.matching import BulkMatcher, GenerationArrays, Matches
from indexer.passages import MAX_CHARS as MAX_PASSAGE_CHARS
from indexer.query import QueryRefused, UserQuery, parse_user_query, query_problem
from indexer.query_plan import Unit as _Unit
from indexer.query_plan import doubling as _doubling
from indexer.query_plan import outermost as _outermost
from indexer.query_plan import suggestion as _suggestion
from indexer.query_plan import units as _plan_units
from indexer.ranking_rules import (  # noqa: F401 - also importable from here
    ALL_WORDS_BONUS,
    LINK_LIST_WEIGHT,
    MAX_ALSO_SEARCHED,
    MAX_CORRECTED,
    OTHER_LANGUAGE_BOOST,
    PER_DOCUMENT,
    chosen_filters,
)
from indexer.schema import (
    FIELD_BOOSTS,
    FIELDS,
    KIND_FIELD,
    LANGUAGES,
    LINK_LIST,
    MULTI_FACETS,
    SINGLE_FACETS,
    UPDATED_FIELD,
    language_of,
    weighting,
)
from indexer.spelling import Vocabulary, vocabulary_from_reader
from indexer.suggest import Suggester
from indexer.synonyms import Synonyms, SynonymsFile

ANALYSIS_CACHE_SIZE = 50_000
DEFAULT_SYNONYMS = Path(__file__).resolve().parent.parent / "synonyms.toml"


class _Or(Or):
    # Whoosh preloads an Or of 3+ clauses into a fresh 2048-slot array on indexes under 5000
    # passages (0.1 ms each, hundreds per query here); the union tree is faster at any size.
    matcher_type = Or.DEFAULT_MATCHER


def _has_any(stored: dict[str, Any], name: str, values: list[str]) -> bool:
    """True if the stored passage has one of `values` for filter `name`."""
    raw = stored.get(name) or ""
    have = set(raw.split(",")) if name in MULTI_FACETS else {raw}
    return not have.isdisjoint(values)


class Generation:
    """What is derived once from one index generation: filter values per passage, words."""

    def __init__(self, searcher: Searcher, vocabulary: Vocabulary, path: Path) -> None:
        # Filter values, documents, live passages and field lengths as arrays, read from the
        # index's columns and postings (not its stored passages), counted in bulk per query;
        # postings from the arrays the indexer wrote into the generation.
        self.arrays = GenerationArrays(searcher, SINGLE_FACETS, MULTI_FACETS,
                                       generation=path,
                                       optional=(KIND_FIELD, UPDATED_FIELD))
        # Counted by the indexer (indexer/spelling.py), not from every stored passage here.
        self.vocabulary = vocabulary
        # (field, text) -> analysed terms and phrase slop, for query words (see _Builder).
        self.analysis: dict[tuple[str, str], tuple[list[str], int]] = {}
        # id -> document, built on the first /api/documents request of this generation.
        self.documents: DocumentIndex | None = None
        self._updated_rank: np.ndarray | None = None
        self.suggester: Suggester | None = None

    def by_updated(self, found: Matches) -> Matches:
        """`found` (in ranking order) with the latest updated first; a stable sort, so
        passages of one date keep their ranking order, and those with no date go last."""
        if self._updated_rank is None:
            codes, values = self.arrays.codes.get(UPDATED_FIELD, (None, []))
            if codes is None:
                rank = np.full(self.arrays.size, -1, dtype=np.int64)
            else:
                # ISO days sort as text: each value's rank, -1 (no date) last of all.
                order = np.empty(len(values) + 1, dtype=np.int64)
                order[np.argsort(values, kind="stable")] = np.arange(len(values))
                order[-1] = -1
                rank = order[codes]
            self._updated_rank = rank
        ids, scores = found
        newest = np.argsort(-self._updated_rank[ids], kind="stable")
        return ids[newest], scores[newest]


class _Builder:
    """Turns a UserQuery into a Whoosh query over both languages' fields."""

    def __init__(self, searcher: Searcher, arrays: GenerationArrays,
                 cache: dict[tuple[str, str], tuple[list[str], int]]) -> None:
        self.schema = searcher.schema
        self.searcher = searcher
        self.arrays = arrays
        # Shared by the queries on one generation: the same words come back all day.
        if len(cache) > ANALYSIS_CACHE_SIZE:
            cache.clear()
        self._tokens = cache

    def analysed(self, fieldname: str, text: str) -> tuple[list[str], int]:
        """The field's terms for `text`, and the phrase slop that keeps them in order.

        A stop word dropped inside a phrase may leave a gap in the positions the index
        holds ("duty to notify" -> duti@0, notifi@2); the slop allows exactly that gap.
        """
        key = (fieldname, text)
        if key not in self._tokens:
            analyzer = self.schema[fieldname].analyzer
            # Tokens are reused by Whoosh's analyzers: copy the values out at once.
            pairs = [(t.text, t.pos) for t in analyzer(text, mode="query", positions=True)]
            gaps = [b[1] - a[1] for a, b in zip(pairs, pairs[1:], strict=False)]
            self._tokens[key] = ([t for t, _ in pairs], max([1, *gaps]))
        return self._tokens[key]

    def tokens(self, fieldname: str, text: str) -> list[str]:
        return self.analysed(fieldname, text)[0]

    def clause(self, lang: str, words: tuple[str, ...], boost: float = 1.0) -> Query | None:
        """Words as a term (one token) or phrase (several), in each field of one language."""
        text = " ".join(words)
        parts: list[Query] = []
        for name in FIELDS[lang].values():
            tokens, slop = self.analysed(name, text)
            weight = FIELD_BOOSTS.get(name, 1.0) * boost
            if len(tokens) == 1:
                parts.append(Term(name, tokens[0], boost=weight))
            elif tokens:
                parts.append(Phrase(name, tokens, slop=slop, boost=weight))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else _Or(parts)

    def function_word(self, word: str) -> bool:
        """A word some language's analysis drops (a stop word there) is never required."""
        return any(not self.tokens(FIELDS[lang]["text"], word) for lang in LANGUAGES)

    def known(self, word: str) -> bool:
        """True if the word, as each language analyses it, is in some field of the index."""
        for lang in LANGUAGES:
            for name in FIELDS[lang].values():
                tokens = self.tokens(name, word)
                if tokens and all(self.arrays.has_term(self.searcher, name, t) for t in tokens):
                    return True
        return False

    def same_word(self, a: str, b: str) -> bool:
        """True if some language analyses `a` and `b` to the same terms (two forms of one
        word: "referral" and "referrals", "caethwasiaeth" and "gaethwasiaeth")."""
        return any(self.tokens(FIELDS[lang]["text"], a) == self.tokens(FIELDS[lang]["text"], b)
                   for lang in LANGUAGES)

    def in_language(self, word: str, lang: str) -> bool:
        name = FIELDS[lang]["text"]
        tokens = self.tokens(name, word)
        return bool(tokens) and all(self.arrays.has_term(self.searcher, name, t) for t in tokens)

    def unit_query(self, unit: _Unit, lang: str, mode: str, boost: float) -> Query | None:
        options: list[Query] = []
        if unit.phrase or len(unit.words) == 1:
            main = self.clause(lang, unit.words, boost)
            if main is not None:
                options.append(main)
        else:
            # A run of words that has synonyms: the words themselves need not be adjacent.
            words = [w for w in unit.words if not self.function_word(w)]
            subs = [q for w in words if (q := self.clause(lang, (w,), boost)) is not None]
            if subs and mode == "all":
                options.append(And(subs) if len(subs) > 1 else subs[0])
            else:
                options.extend(subs)
        for alt, weight in unit.alternatives:
            q = self.clause(lang, alt, boost * weight)
            if q is not None:
                options.append(q)
        if not options:
            return None
        return options[0] if len(options) == 1 else _Or(options)

    def build(self, units: list[_Unit], excluded: list[list[str]], lang: str,
              mode: str) -> Query | None:
        per_language: list[Query] = []
        for language in LANGUAGES:
            boost = 1.0 if language == lang else OTHER_LANGUAGE_BOOST
            parts = [q for u in units if (q := self.unit_query(u, language, mode, boost))]
            if parts:
                group = And(parts) if mode == "all" else _Or(parts)
                per_language.append(group if len(parts) > 1 else parts[0])
        if not per_language:
            return None
        query: Query = per_language[0] if len(per_language) == 1 else _Or(per_language)
        left_out = [
            q for words in excluded for language in LANGUAGES
            if (q := self.clause(language, tuple(words))) is not None
        ]
        if left_out:
            query = AndNot(query, _Or(left_out))
        return query


class PassageSearcher:
    def __init__(self, index_dir: Path, synonyms_path: Path | None = DEFAULT_SYNONYMS,
                 best_bets_path: Path | None = None) -> None:
        """Search `index_dir`'s current generation; `synonyms_path=None` for no synonyms,
        `best_bets_path` for pinned answers (indexer/best_bets.py)."""
        self.index_dir = Path(index_dir)
        self._local = threading.local()
        # One per matching text field: a word's terms there are looked up once.
        self._highlighters: dict[str, Highlighter] = {}
        self._synonyms = SynonymsFile(synonyms_path)
        self._best_bets = BestBetsFile(best_bets_path)
        self._generations: dict[Path, Generation] = {}
        self._generations_lock = threading.Lock()
        # Passages and documents of the generation being served, counted once.
        self._counts: dict[Path, dict[str, int]] = {}

    def generation(self) -> str | None:
        current = generations.current_generation(self.index_dir)
        return current.name if current else None

    def _searcher(self) -> tuple[Searcher, Generation]:
        current = generations.current_generation(self.index_dir)
        if current is None:
            raise IndexNotReady(
                f"no index in {self.index_dir}; run `hubsearch crawl` then `hubsearch index`"
            )
        local = self._local
        if getattr(local, "generation", None) != current:
            old = getattr(local, "searcher", None)
            # One searcher per thread (they are not thread-safe), each reading segments
            # through the shared page cache rather than a private copy (generations.py).
            local.searcher = generations.open_index(current).searcher(weighting=weighting())
            local.generation = current
            if old is not None:
                old.close()
        return local.searcher, self._derived(current, local.searcher)

    def _derived(self, current: Path, searcher: Searcher) -> Generation:
        derived = self._generations.get(current)
        if derived is None:
            with self._generations_lock:
                derived = self._generations.get(current)
                if derived is None:
                    vocabulary = Vocabulary.load(current) or vocabulary_from_reader(
                        searcher.reader())
                    derived = Generation(searcher, vocabulary, current)
                    # Only the generation being served is worth keeping.
                    self._generations = {current: derived}
                    self._counts = {}
        return derived

    def suggest(self, text: str, limit: int = 8) -> list[str]:
        """Completions of `text` as typed (indexer/suggest.py)."""
        _, derived = self._searcher()
        if derived.suggester is None:
            with self._generations_lock:  # built once per generation, not once per thread
                if derived.suggester is None:
                    derived.suggester = Suggester(self._local.generation, derived.vocabulary)
        return derived.suggester.suggest(text, limit)

    def document(self, doc_id: str, *, offset: int = 0,
                 limit: int = DOCUMENT_PASSAGES) -> dict[str, Any] | None:
        """One document's metadata and passages `offset` to `offset + limit` (at most
        DOCUMENT_PASSAGES), or None if the index has no such id."""
        searcher, derived = self._searcher()
        if derived.documents is None:
            derived.documents = DocumentIndex(self._local.generation)
        found = derived.documents.get(searcher, doc_id)
        if found is None:
            return None
        offset = max(0, int(offset))
        limit = max(1, min(int(limit), DOCUMENT_PASSAGES))
        passages = found["passages"]
        return {
            **found,
            "title": _clip(found["title"], MAX_TITLE_CHARS),
            "total_passages": len(passages),
            "offset": offset,
            "limit": limit,
            "passages": [
                {**p, "heading_path": _heading_path(p["heading_path"]),
                 "text": _clip(p["text"], MAX_PASSAGE_CHARS)}
                for p in passages[offset : offset + limit]
            ],
        }

    def vocabulary(self) -> Vocabulary:
        """The spelling vocabulary of the generation being served."""
        return self._searcher()[1].vocabulary

    def counts(self) -> dict[str, int]:
        """Passages and documents in the generation being served."""
        try:
            searcher, _ = self._searcher()
        except IndexNotReady:
            return {"indexed_passages": 0, "indexed_documents": 0}
        current = self._local.generation
        counts = self._counts.get(current)
        if counts is None:
            # Live passages only: a deleted one keeps its number until its segment merges.
            reader = searcher.reader()
            urls = reader.column_reader("document_url")
            counts = {"indexed_passages": reader.doc_count(),
                      "indexed_documents": len({urls[d] for d in reader.all_doc_ids()})}
            self._counts = {current: counts}
        return counts

    def built_at(self) -> float | None:
        """When the generation being served was switched in (its directory's mtime)."""
        current = generations.current_generation(self.index_dir)
        return current.stat().st_mtime if current else None

    def build_info(self) -> dict[str, Any] | None:
        """The manifest's record of the generation being served (`format`, `built_at`)."""
        current = generations.current_generation(self.index_dir)
        return manifest.read_info(current) if current else None

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        offset: int = 0,
        lang: str | None = None,
        filters: dict[str, list[str]] | None = None,
        document: str | None = None,
        collapse: bool = True,
        sort: str = "relevance",
    ) -> ResultPage:
        """Rank passages for `query`.

        `lang` is the query's language ("en" or "cy"; detected when None). `filters` maps
        source, doc_type, language and audience to accepted values (any of them). `document`
        keeps only that document's passages and turns collapsing off; `collapse=False` gives
        the plain passage ranking (at most PER_DOCUMENT passages per document otherwise).
        `sort="updated"` puts the passages of the most recently updated documents first
        (those that give no date last), by relevance within a date.
        Raises QueryRefused for a query over MAX_QUERY_CHARS (indexer/query.py).
        """
        problem = query_problem(query)
        if problem is not None:
            raise QueryRefused(problem)
        limit = max(1, min(int(limit), MAX_LIMIT))
        offset = max(0, int(offset))
        chosen = chosen_filters(filters)
        searcher, derived = self._searcher()
        builder = _Builder(searcher, derived.arrays, derived.analysis)
        parsed = parse_user_query(query)
        synonyms = self._synonyms.get()
        language, known = ((lang, True) if lang in LANGUAGES
                           else self._detect(query, parsed, builder))
        page = ResultPage(query, 0, limit, offset, [], "all", language,
                          filters=chosen, document=document, words_ignored=parsed.ignored,
                          sort=sort if sort in SORTS else "relevance")
        if parsed.empty:
            return page

        corrections = self._corrections(parsed, synonyms, builder, derived.vocabulary)
        page.suggestion = _suggestion(query, corrections)

        expansions = synonyms.expansions(parsed.words)
        units = _plan_units(parsed, synonyms, expansions, corrections, builder.function_word)
        page.also_searched = list(dict.fromkeys(
            synonyms.shown(alternative) for expansion in expansions
            for alternative in _outermost(expansion.alternatives)))[:MAX_ALSO_SEARCHED]
        arrays = derived.arrays
        bulk = BulkMatcher(searcher, arrays)
        query_all = builder.build(units, parsed.excluded, language, "all")
        if query_all is None:
            return page
        # One bulk pass per mode over whole posting lists (indexer/matching.py), each term
        # read once for both; only the page shown goes through Whoosh (highlighting).
        found = every = self._matches(arrays, bulk.matches(query_all), document)
        highlight = query_all
        if len(units) > 1 or any(len(u.words) > 1 for u in units):
            # Passages with some of the words match too, so a long question still finds what
            # a strict AND would leave out; all rank together by score (ALL_WORDS_BONUS).
            query_any = builder.build(units, parsed.excluded, language, "any")
            if query_any is not None:
                found = self._matches(arrays, bulk.matches(query_any), document)
                # Its terms include every word, so it highlights both kinds of passage.
                highlight = query_any
        every_word = np.isin(found[0], every[0], assume_unique=True)
        lists = self._link_lists(arrays, found[0])
        # A list of links with every word (a hub naming its documents) is no answer: no
        # bonus, and lowered like any list of links.
        weight = np.where(lists, LINK_LIST_WEIGHT,
                          np.where(every_word, 1 + ALL_WORDS_BONUS, 1.0))
        ids, scores = found[0], found[1] * weight
        order = np.lexsort((ids, -scores))
        if known and any(u.synonyms for u in units):
            order = order[self._answers_first(arrays, bulk, builder, units, language,
                                              ids[order], lists[order])]
        ids, scores, every_word = ids[order], scores[order], every_word[order]
        passes = self._passes(arrays, ids, chosen)
        if not (passes & every_word).any() and passes.any():
            page.matched = "any"
        page.facets = self._facets(arrays, ids, chosen)
        kept = (ids[passes], scores[passes])
        if page.sort == "updated":
            kept = derived.by_updated(kept)
        page.total_passages = len(kept[0])
        rows, total, more = self._collapse(arrays, kept, collapse and document is None,
                                           offset + limit)
        page.total = total
        wanted: dict[str, set[str]] = {}
        for fieldname, text in highlight.all_terms(phrases=True):
            wanted.setdefault(fieldname, set()).add(text)
        page.results = self._hits(searcher, wanted, arrays, rows[offset : offset + limit],
                                  more, query, lang)
        if offset == 0 and document is None:
            page.best_bets = self._pinned(searcher, query, chosen, wanted)
            # Shown once: a pinned passage is not repeated among the ranked ones.
            pinned = {hit.deep_link for hit in page.best_bets}
            page.results = [hit for hit in page.results if hit.deep_link not in pinned]
        return page

    def _pinned(self, searcher: Searcher, query: str, chosen: dict[str, list[str]],
                wanted: dict[str, set[str]]) -> list[Hit]:
        """The passages best_bets.toml pins for `query` that the index holds and the
        chosen filters let through."""
        hits = []
        for bet in self._best_bets.get().for_query(query):
            key = manifest.key_for_url(self._local.generation, bet.url)
            passages = [dict(p) for p in searcher.documents(document_url=key)] if key else []
            if not passages:
                continue  # not indexed (any more): a bet never points at nothing
            stored = choose_passage(passages, bet.heading)
            if all(_has_any(stored, name, values) for name, values in chosen.items()):
                hit = self._hit(searcher, stored, 0.0, wanted)
                hit.recommended = True
                hits.append(hit)
        return hits

    @staticmethod
    def _corrections(parsed: UserQuery, synonyms: Synonyms, builder: _Builder,
                     vocabulary: Vocabulary) -> dict[str, str]:
        """Misspelt word -> the vocabulary word to search for too (MAX_CORRECTED at most)."""
        corrections: dict[str, str] = {}
        tried = 0
        for word in dict.fromkeys(parsed.words + [w for p in parsed.phrases for w in p]):
            if tried == MAX_CORRECTED:
                break
            # Checked first: the corrector's cheap refusal (too short, too long, not letters).
            if not vocabulary.correctable(word):
                continue
            # A stop word analyses to nothing, so it is never "known": it is not misspelt.
            # A word some passage is written with is not misspelt either.
            if word in vocabulary or synonyms.knows(word) or builder.function_word(word):
                continue
            tried += 1
            correction = vocabulary.correct(word)
            if correction is None or builder.same_word(word, correction):
                # Another form of an indexed word: an unseen plural, a Welsh mutation.
                continue
            # A word whose stem is indexed is mostly a real word no passage happens to use
            # as written ("discover" beside "discovered", "kink" beside "kinked"): only a
            # doubled or undoubled letter, the commonest misspelling of real words, is
            # corrected there ("referal" stems to "refer", yet means "referral").
            if builder.known(word) and not _doubling(word, correction):
                continue
            corrections[word] = correction
        return corrections

    @staticmethod
    def _detect(query: str, parsed: UserQuery, builder: _Builder) -> tuple[str, bool]:
        """The query's language, and whether anything in the query says so (not a default)."""
        if detect_language(query) == "cy":
            return "cy", True
        # Short queries have no function words: count which language's passages use them.
        words = [w for w in parsed.words + [w for p in parsed.phrases for w in p]
                 if not builder.function_word(w)]
        welsh = sum(builder.in_language(w, "cy") for w in words)
        english = sum(builder.in_language(w, "en") for w in words)
        return ("cy" if welsh > english else "en"), welsh != english

    @staticmethod
    def _answers_first(arrays: GenerationArrays, bulk: BulkMatcher, builder: _Builder,
                       units: list[_Unit], language: str, ids: np.ndarray,
                       lists: np.ndarray) -> np.ndarray:
        """The order of `ids` (in ranking order; `lists` marks the lists of links among
        them) with each translation moved after the passages that answer in the words typed
        every part of the query it matches.

        A translation is a passage in the other language than the query's that matches
        none of the typed words, only their equivalents from synonyms.toml. It finds
        guidance the query's language lacks; but a passage that has as typed each part of
        the query the translation has through an equivalent answers in the staff member's
        own words and language, and ranks first however often the translation repeats its
        equivalent (title, heading and text each score it). A list of links is no answer
        (LINK_LIST_WEIGHT). Other passages keep their places by score.
        """
        unchanged = np.arange(len(ids))
        codes, values = arrays.codes["language"]
        # Code -1 (no language stored) reads the last entry: analysed as English.
        other = np.array([language_of(v) != language for v in values]
                         + [language_of("") != language])
        typed = builder.build([u.typed() for u in units], [], language, "any")
        if typed is None:
            return unchanged  # no typed word can match: nothing answers as typed
        translated = other[codes[ids]] & ~np.isin(ids, bulk.matches(typed)[0])
        if not translated.any():
            return unchanged
        # Of each passage, as bits: the parts of the query it matches, and those it matches
        # as typed (a part of several words needs them all, as when every word is required).
        matched = np.zeros(len(ids), dtype=np.int64)
        as_typed = np.zeros(len(ids), dtype=np.int64)
        for bit, unit in enumerate(units):  # at most MAX_WORDS (32) parts
            parts = ((matched, unit), (as_typed, unit.typed())) if unit.synonyms else (
                (matched, unit),)  # without synonyms, as typed is the same match
            for bits, part in parts:
                query = builder.build([part], [], language, "all")
                if query is not None:
                    bits |= np.isin(ids, bulk.matches(query)[0]).astype(np.int64) << bit
            if not unit.synonyms:
                as_typed |= matched & (1 << bit)
        place = np.arange(len(ids), dtype=np.float64)
        answers = np.flatnonzero(~translated & ~lists)
        for wanted in np.unique(matched[translated]):
            if not wanted:
                continue  # not matched part by part (cannot happen): left as scored
            better = answers[(wanted & ~as_typed[answers]) == 0]
            if len(better):
                moved = translated & (matched == wanted)
                place[moved] = np.maximum(place[moved], better[-1] + 0.5)
        return np.lexsort((unchanged, place))

    @staticmethod
    def _link_lists(arrays: GenerationArrays, ids: np.ndarray) -> np.ndarray:
        """Which of the passages `ids` are lists of links (indexer/schema.py)."""
        codes, values = arrays.codes.get(KIND_FIELD, (None, []))
        if codes is None or LINK_LIST not in values:
            return np.zeros(len(ids), dtype=bool)
        return codes[ids] == values.index(LINK_LIST)

    @staticmethod
    def _matches(arrays: GenerationArrays, found: Matches, document: str | None) -> Matches:
        """The matches, only those of `document` when one is asked for."""
        if document is None:
            return found
        codes, values = arrays.codes[arrays.document_field]
        try:
            code = values.index(document)
        except ValueError:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        keep = codes[found[0]] == code
        return found[0][keep], found[1][keep]

    @staticmethod
    def _passes(arrays: GenerationArrays, ids: np.ndarray, chosen: dict[str, list[str]],
                skip: str | None = None) -> np.ndarray:
        """Which of the passages `ids` every chosen filter (but `skip`) accepts."""
        passes = np.ones(len(ids), dtype=bool)
        for name, accepted in chosen.items():
            if name == skip:
                continue
            if name in arrays.tags:
                matrix, values = arrays.tags[name]
                columns = [i for i, v in enumerate(values) if v in accepted]
                passes &= matrix[ids][:, columns].any(axis=1)
            else:
                codes, values = arrays.codes[name]
                wanted = [i for i, v in enumerate(values) if v in accepted]
                passes &= np.isin(codes[ids], wanted)
        return passes

    def _facets(self, arrays: GenerationArrays, ids: np.ndarray,
                chosen: dict[str, list[str]]) -> dict[str, dict[str, int]]:
        """Exact counts of every matching passage, by value, per filter (np.bincount)."""
        facets: dict[str, dict[str, int]] = {}
        for name in FACETS:
            # Each facet counts with the other filters applied but not its own, so the
            # page can offer the other values of a filter already in use.
            counted = ids[self._passes(arrays, ids, chosen, skip=name)]
            if name in arrays.tags:
                matrix, values = arrays.tags[name]
                totals = matrix[counted].sum(axis=0) if len(values) else np.zeros(0)
            else:
                codes, values = arrays.codes[name]
                present = codes[counted]
                totals = np.bincount(present[present >= 0], minlength=len(values))
            counts = {v: int(n) for v, n in zip(values, totals, strict=True) if n}
            for value in chosen.get(name, ()):
                counts.setdefault(value, 0)
            facets[name] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return facets

    @staticmethod
    def _collapse(arrays: GenerationArrays, kept: Matches, collapse: bool,
                  needed: int) -> tuple[list[tuple[float, int]], int, dict[str, int]]:
        """The first `needed` rows of the (collapsed) ranking, how many rows there are in
        all, and for each document on those rows how many of its passages are left out."""
        ids, scores = kept
        if not collapse or not len(ids):
            rows = list(zip(scores[:needed].tolist(), ids[:needed].tolist(), strict=True))
            return rows, len(ids), {}
        codes, values = arrays.codes[arrays.document_field]
        documents = codes[ids]
        # Each passage's rank within its document, in ranking order, all at once.
        order = np.argsort(documents, kind="stable")
        grouped = documents[order]
        starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
        sizes = np.diff(np.r_[starts, len(grouped)])
        within = np.empty(len(ids), dtype=np.int64)
        within[order] = np.arange(len(ids)) - np.repeat(starts, sizes)
        shown = within < PER_DOCUMENT
        total = int(shown.sum())
        first = np.flatnonzero(shown)[:needed]
        rows = list(zip(scores[first].tolist(), ids[first].tolist(), strict=True))
        per_document = dict(zip(grouped[starts].tolist(), sizes.tolist(), strict=True))
        more: dict[str, int] = {}
        for code in set(documents[first].tolist()):
            count = per_document[code]
            more[values[code]] = count - min(count, PER_DOCUMENT)
        return rows, total, more

    def _hits(self, searcher: Searcher, wanted: dict[str, set[str]],
              arrays: GenerationArrays, rows: list[tuple[float, int]],
              more: dict[str, int], query: str, lang: str | None) -> list[Hit]:
        hits = []
        for score, docnum in rows:
            hit = self._hit(searcher, searcher.stored_fields(docnum), score, wanted)
            hit.more_in_document = more.get(hit.document_url, 0)
            if hit.more_in_document:
                params = {"q": query, "document": hit.document_url}
                if lang:
                    params["lang"] = lang
                hit.more_in_document_params = params
            hits.append(hit)
        codes, _ = arrays.codes[arrays.document_field]
        urls = [int(codes[d]) for _, d in rows]
        for i, hit in enumerate(hits):
            hit.last_of_document = urls[i] not in urls[i + 1 :]
        return hits

    def _highlighter(self, searcher: Searcher, fieldname: str) -> Highlighter:
        found = self._highlighters.get(fieldname)
        if found is None:
            analyzer = searcher.schema[fieldname].analyzer

            def word_terms(word: str) -> list[str]:
                return [t.text for t in analyzer(word, mode="index")]

            found = self._highlighters[fieldname] = Highlighter(word_terms)
        return found

    def _hit(self, searcher: Searcher, stored: dict[str, Any], score: float,
             wanted: dict[str, set[str]]) -> Hit:
        text = stored.get("body", "")
        field = FIELDS[language_of(stored.get("language", ""))]["text"]
        text = _clip(text, MAX_PASSAGE_CHARS)
        snippet = self._highlighter(searcher, field).snippet(
            text, frozenset(wanted.get(field, ())), top=2)
        if not snippet or len(snippet) > SNIPPET_HTML_CHARS:
            snippet = html.escape(_plain_snippet(text), quote=False)
        page = stored.get("page") or None
        return Hit(
            title=_clip(stored.get("title_display", ""), MAX_TITLE_CHARS),
            heading_path=_heading_path(list(stored.get("headings") or [])),
            snippet_html=snippet,
            deep_link=stored.get("deep_link", ""),
            document_url=stored.get("document_url", ""),
            document_id=document_id(stored.get("document_url", "")),
            source=stored.get("source", ""),
            doc_type=stored.get("doc_type", ""),
            language=stored.get("language", ""),
            page=int(page) if page else None,
            score=round(float(score), 4),
            fetched_at=stored.get("fetched_at", ""),
            updated=stored.get(UPDATED_FIELD) or "",
            ocr=bool(stored.get("ocr")),
            snippet_text=_plain_snippet(text),
        )
