"""Search the hub's OpenSearch index: the `Searcher` of hubsearch/search_backend.py.

The same query as Whoosh's (indexer/search.py), written in OpenSearch's query DSL: the
query's units (indexer/query_plan.py: words, equivalents from synonyms.toml, spelling
corrections) matched in each language's fields with the BM25F field weights as boosts, the
other language's passages weighted OTHER_LANGUAGE_BOOST; passages with every word get
ALL_WORDS_BONUS and lists of links LINK_LIST_WEIGHT (a function_score); filters as a
post_filter, so each facet (an aggregation) counts with the other filters only, as Whoosh's
do; collapsing by document with field collapsing and PER_DOCUMENT inner hits; snippets
from OpenSearch's highlighter. Spelling corrections come from a term suggester on the words
as written, checked the way Whoosh's corrector checks them; completions from a completion
suggester over titles and headings; best bets from best_bets.toml.

Every request reads the aliases (indexer/opensearch_build.py), so a generation switched in
is searched by the next request; the generation's name and counts are read from its
`_meta`, at most once a second. A cluster that cannot answer is `IndexNotReady` (the page
and the API say "not ready", 503), in one line; query text is never logged.
"""

from __future__ import annotations

import html
import threading
import time
import unicodedata
from typing import Any

from crawler.bounds import MAX_TITLE_CHARS
from crawler.language import detect_language
from hubsearch.search_results import (
    DOCUMENT_PASSAGES,
    FACETS,
    LANGUAGES,
    MAX_LIMIT,
    MAX_SUGGESTIONS,
    SORTS,
    Hit,
    IndexNotReady,
    QueryRefused,
    ResultPage,
    query_problem,
)
from hubsearch.settings import Settings
from indexer.best_bets import BestBetsFile, choose_passage
from indexer.hit_text import SNIPPET_HTML_CHARS, clip, heading_path, plain_snippet
from indexer.opensearch_build import EMPTY_FIELD, current
from indexer.opensearch_client import Names, problem
from indexer.passages import MAX_CHARS as MAX_PASSAGE_CHARS
from indexer.query import UserQuery, parse_user_query, words_of
from indexer.query_plan import Unit, doubling, outermost, suggestion, units
from indexer.ranking_rules import (
    ALL_WORDS_BONUS,
    LINK_LIST_WEIGHT,
    MAX_ALSO_SEARCHED,
    MAX_CORRECTED,
    OTHER_LANGUAGE_BOOST,
    PER_DOCUMENT,
    chosen_filters,
)
from indexer.schema_fields import FIELDS, LINK_LIST, ROLE_BOOSTS, language_of
from indexer.stop_words import ENGLISH_STOP_WORDS, WELSH_STOP_WORDS
from indexer.synonyms import Synonyms, SynonymsFile

# Below this many passages a search uses the whole index's term statistics (a demo hub's
# handful of documents); above, each shard's are close enough to the whole's.
DFS_BELOW_PASSAGES = 10_000
# A search some shard failed to answer is asked again, this many times, this far apart.
PARTIAL_RETRIES = 2
PARTIAL_PAUSE = 0.25
# How long the served generation's name and counts are reused before the alias is read again.
SERVING_TTL = 1.0
# A collapsed list is made from this many times as many of the ranking's first passages as
# its page needs rows (at least 50): enough unless a few documents hold most matches.
COLLAPSE_READ = 4
# OpenSearch's index.max_result_window: a plain list is paged up to here.
MAX_RESULT_WINDOW = 10_000
# The spelling corrector's word sizes (indexer/spelling.py): shorter words are too easily
# "corrected" into another real word.
MIN_CORRECTED_LENGTH = 4
MAX_CORRECTED_LENGTH = 30
MAX_FACET_VALUES = 500
FRAGMENT_CHARS = 160
# Suggestions: what is typed is cut to this; nothing is suggested for fewer characters.
MAX_SUGGEST_INPUT = 100
MIN_SUGGEST_PREFIX = 2
# Documents whose titles and headings are read for the completions of one prefix.
SUGGEST_DOCUMENTS = 30
_STOP = ENGLISH_STOP_WORDS | WELSH_STOP_WORDS
# Words whose facts (in which language's passages, their correction) one searcher keeps.
MAX_WORD_FACTS = 50_000
# Passages of one document read to choose a best bet's passage.
MAX_BET_PASSAGES = 2000

_SOURCE = ["passage_id", "document_url", "document_id", "deep_link", "source", "doc_type",
           "language", "audience", "page", "position", "fetched_at", "updated", "ocr", "headings",
           *(name for roles in FIELDS.values() for role, name in roles.items()
             if role != "heading_path")]
_HIGHLIGHT = {
    "fields": {FIELDS[lang]["text"]: {} for lang in LANGUAGES},
    "pre_tags": ["<mark>"], "post_tags": ["</mark>"], "encoder": "html",
    "number_of_fragments": 2, "fragment_size": FRAGMENT_CHARS, "type": "unified",
}


def _normalise(word: str) -> str:
    folded = unicodedata.normalize("NFKC", word).casefold()
    return "".join(c for c in unicodedata.normalize("NFD", folded)
                   if unicodedata.category(c) != "Mn")


def _stopped(word: str, lang: str) -> bool:
    """True if `lang`'s analysis leaves nothing of `word` (indexer/analysis.py): a stop
    word, or, in Welsh, parts joined by apostrophes that are all stop words ("i'r")."""
    word = _normalise(word)
    if word == EMPTY_FIELD:
        return True
    if lang == "en":
        for apostrophe in "'\u2019\u2018":
            if word.endswith(apostrophe + "s"):
                word = word[:-2]
            word = word.replace(apostrophe, "")
        return word in ENGLISH_STOP_WORDS or not word.strip(".,-")
    parts = [p for p in word.replace("\u2019", "'").replace("\u2018", "'").split("'") if p]
    return all(p in WELSH_STOP_WORDS for p in parts)


def _function_word(word: str) -> bool:
    """A word some language's analysis drops is never required (as in indexer/search.py)."""
    return any(_stopped(word, lang) for lang in LANGUAGES)


def _starts_words(typed: list[str], written: list[str]) -> bool:
    """True if each typed word starts a word of `written`, in the typed order."""
    at = 0
    for word in typed:
        while at < len(written) and not written[at].startswith(word):
            at += 1
        if at == len(written):
            return False
        at += 1
    return True


class _Query:
    """Turns the units of a query into OpenSearch's query DSL over both languages' fields."""

    @staticmethod
    def clause(lang: str, words: tuple[str, ...], boost: float = 1.0) -> dict | None:
        """Words as a term or phrase in each field of one language, the scores summed."""
        if all(_stopped(w, lang) for w in words):
            return None
        text = " ".join(words)
        return {"bool": {"should": [
            {"match_phrase": {name: {"query": text, "boost": ROLE_BOOSTS[role] * boost}}}
            for role, name in FIELDS[lang].items()]}}

    def unit(self, unit: Unit, lang: str, mode: str, boost: float) -> dict | None:
        options: list[dict] = []
        if unit.phrase or len(unit.words) == 1:
            main = self.clause(lang, unit.words, boost)
            if main is not None:
                options.append(main)
        else:
            # A run of words that has synonyms: the words themselves need not be adjacent.
            words = [w for w in unit.words if not _function_word(w)]
            subs = [q for w in words if (q := self.clause(lang, (w,), boost)) is not None]
            if subs and mode == "all":
                options.append({"bool": {"must": subs}} if len(subs) > 1 else subs[0])
            else:
                options.extend(subs)
        for alt, weight in unit.alternatives:
            q = self.clause(lang, alt, boost * weight)
            if q is not None:
                options.append(q)
        if not options:
            return None
        return options[0] if len(options) == 1 else {"bool": {"should": options}}

    def build(self, parts: list[Unit], excluded: list[list[str]], lang: str,
              mode: str) -> dict | None:
        per_language: list[dict] = []
        for language in LANGUAGES:
            boost = 1.0 if language == lang else OTHER_LANGUAGE_BOOST
            found = [q for u in parts if (q := self.unit(u, language, mode, boost))]
            if found:
                occur = "must" if mode == "all" else "should"
                per_language.append({"bool": {occur: found}} if len(found) > 1 else found[0])
        if not per_language:
            return None
        query: dict = {"bool": {"should": per_language}}
        left_out = [q for words in excluded for language in LANGUAGES
                    if (q := self.clause(language, tuple(words))) is not None]
        if left_out:
            query["bool"]["must_not"] = left_out
        return query


def _rows(hits: list[dict[str, Any]]) -> int:
    """Rows a collapsed list makes of `hits` (read with their document's URL)."""
    seen: dict[str, int] = {}
    for hit in hits:
        url = hit["fields"]["document_url"][0]
        seen[url] = seen.get(url, 0) + 1
    return sum(min(n, PER_DOCUMENT) for n in seen.values())


def _filter_clauses(chosen: dict[str, list[str]], skip: str | None = None) -> list[dict]:
    return [{"terms": {name: values}} for name, values in chosen.items() if name != skip]


class OpenSearchSearcher:
    """Answers searches from the generation the hub's aliases point at; thread-safe."""

    def __init__(self, settings: Settings, client: Any) -> None:
        self.client = client
        self.names = Names(settings.backend.index_prefix)
        self._synonyms = SynonymsFile(settings.search.synonyms_path)
        self._best_bets = BestBetsFile(settings.search.best_bets_path)
        self._lock = threading.Lock()
        self._serving: tuple[float, tuple[str, dict[str, Any]] | None] = (0.0, None)
        self._meta: dict[str, dict[str, Any]] = {}
        # What the generation `_facts_of` says of words queries use (see `_word_facts`).
        self._facts_of: str | None = None
        self._facts: dict[tuple[str, str, str], Any] = {}
        self._query = _Query()

    # -- the generation being served --------------------------------------------------

    def _current(self) -> tuple[str, dict[str, Any]] | None:
        checked, serving = self._serving
        if time.monotonic() - checked < SERVING_TTL:
            return serving
        with self._lock:
            checked, serving = self._serving
            if time.monotonic() - checked >= SERVING_TTL:
                try:
                    serving = current(self.client, self.names)
                except Exception as exc:  # noqa: BLE001 - not ready, said in one line
                    raise IndexNotReady(f"search cluster: {problem(exc)}") from None
                self._serving = (time.monotonic(), serving)
        return serving

    def _require(self) -> tuple[str, dict[str, Any]]:
        serving = self._current()
        if serving is None:
            raise IndexNotReady(f"no index behind the alias {self.names.passages}; run "
                                "`hubsearch crawl` then `hubsearch index`")
        return serving

    def generation(self) -> str | None:
        """Read from the alias on each call (one small request): the readiness check sees a
        switch at once."""
        try:
            serving = current(self.client, self.names, meta=False)
        except Exception:  # noqa: BLE001 - no cluster, not ready
            return None
        return serving[0] if serving else None

    def built_at(self) -> float | None:
        info = self.build_info()
        return float(info["built_at_epoch"]) if info and "built_at_epoch" in info else None

    def build_info(self) -> dict[str, Any] | None:
        """What the build of the generation being served recorded (its `_meta`)."""
        generation = self.generation()
        if generation is None:
            return None
        with self._lock:
            known = self._meta.get(generation)
        if known is None:
            try:
                serving = current(self.client, self.names)
            except Exception:  # noqa: BLE001
                return None
            if serving is None:
                return None
            generation, known = serving
            with self._lock:
                self._meta = {generation: known}  # only the one served is worth keeping
        return dict(known)

    def counts(self) -> dict[str, int]:
        info = self.build_info() or {}
        return {"indexed_passages": int(info.get("passages", 0)),
                "indexed_documents": int(info.get("documents", 0))}

    def _search(self, body: dict[str, Any], index: str | None = None,
                search_type: str | None = None) -> dict[str, Any]:
        params = {"search_type": search_type} if search_type else {}
        for attempt in range(PARTIAL_RETRIES + 1):
            try:
                found = self.client.search(index=index or self.names.passages, body=body,
                                           params=params)
            except Exception as exc:  # noqa: BLE001 - the cluster's trouble, in one line
                raise IndexNotReady(f"search cluster: {problem(exc)}") from None
            # A shard whose node died mid-search fails alone; its replica is promoted in
            # moments, and a whole answer beats a silently partial one.
            if not found.get("_shards", {}).get("failed") or attempt == PARTIAL_RETRIES:
                return found
            time.sleep(PARTIAL_PAUSE)
        raise AssertionError("unreachable")

    # -- search -------------------------------------------------------------------------

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
        """Rank passages for `query`; the arguments mean what indexer/search.py's do."""
        reason = query_problem(query)
        if reason is not None:
            raise QueryRefused(reason)
        limit = max(1, min(int(limit), MAX_LIMIT))
        offset = max(0, int(offset))
        chosen = chosen_filters(filters)
        generation, serving_meta = self._require()
        parsed = parse_user_query(query)
        synonyms = self._synonyms.get()
        page = ResultPage(query, 0, limit, offset, [], "all", lang or "en", filters=chosen,
                          document=document, words_ignored=parsed.ignored,
                          sort=sort if sort in SORTS else "relevance")
        if parsed.empty:
            return page
        language, corrections = self._prepare(query, parsed, synonyms, lang, generation)
        page.language = language
        page.suggestion = suggestion(query, corrections)
        expansions = synonyms.expansions(parsed.words)
        parts = units(parsed, synonyms, expansions, corrections, _function_word)
        page.also_searched = list(dict.fromkeys(
            synonyms.shown(alternative) for expansion in expansions
            for alternative in outermost(expansion.alternatives)))[:MAX_ALSO_SEARCHED]
        query_all = self._query.build(parts, parsed.excluded, language, "all")
        if query_all is None:
            return page
        query_any = query_all
        if len(parts) > 1 or any(len(u.words) > 1 for u in parts):
            query_any = self._query.build(parts, parsed.excluded, language, "any") or query_all
        scored: dict[str, Any] = {"function_score": {
            "query": query_any,
            # A list of links with every word is no answer: no bonus, lowered like any list.
            "functions": [{"filter": {"term": {"kind": LINK_LIST}}, "weight": LINK_LIST_WEIGHT},
                          {"filter": query_all, "weight": 1 + ALL_WORDS_BONUS}],
            "score_mode": "first", "boost_mode": "multiply"}}
        narrowed = _filter_clauses(chosen)
        if document is not None:
            scored = {"bool": {"must": [scored],
                               "filter": [{"term": {"document_url": document}}]}}
        collapsed = collapse and document is None
        # Term statistics of the whole index, as Whoosh scores, where a shard's own would
        # differ: on a small index a rare word ranks differently on each shard. On a large
        # one the shards' statistics agree, and the extra round trip is not worth it.
        small = int(serving_meta.get("passages", 0)) < DFS_BELOW_PASSAGES
        body = self._body(scored, chosen, page, collapsed)
        while True:
            found = self._search(body, search_type="dfs_query_then_fetch" if small else None)
            hits = found["hits"]["hits"]
            # A few documents holding most of the first passages leave too few rows: read on.
            if (not collapsed or _rows(hits) >= offset + limit
                    or len(hits) >= found["hits"]["total"]["value"]
                    or body["size"] >= MAX_RESULT_WINDOW):
                break
            body["size"] = min(body["size"] * COLLAPSE_READ, MAX_RESULT_WINDOW)
        self._read(found, page, chosen, collapsed)
        rows = self._page_rows(found, page, collapsed)
        every_word = {"bool": {"filter": [query_all, *narrowed, *(
            [{"term": {"document_url": document}}] if document is not None else [])]}}
        self._fill(page, rows, scored, narrowed, every_word, collapsed, lang)
        if offset == 0 and document is None:
            page.best_bets = self._pinned(query, chosen, scored)
            pinned = {hit.deep_link for hit in page.best_bets}
            page.results = [hit for hit in page.results if hit.deep_link not in pinned]
        return page

    def _prepare(self, query: str, parsed: UserQuery, synonyms: Synonyms,
                 lang: str | None, generation: str) -> tuple[str, dict[str, str]]:
        """The query's language and its spelling corrections: which words each language's
        passages use, and the suggester's nearest written words, asked of the cluster in one
        multi-search for the words this generation has not been asked about yet."""
        words = [w for w in dict.fromkeys(parsed.words + [w for p in parsed.phrases for w in p])
                 if not _function_word(w)]
        candidates = [w for w in words
                      if MIN_CORRECTED_LENGTH <= len(w) <= MAX_CORRECTED_LENGTH and w.isalpha()
                      and not synonyms.knows(w)][:MAX_CORRECTED]
        detected = lang if lang in LANGUAGES else (
            "cy" if detect_language(query) == "cy" else None)
        # Which words each language's passages use: as prose (their text) to tell the
        # query's language, as in indexer/search.py; anywhere, to tell a known word.
        wanted = [(word, "text", g) for word in (words if detected is None else [])
                  for g in LANGUAGES]
        wanted += [(word, "any", g) for word in candidates for g in LANGUAGES]
        wanted += [(word, "fix", "") for word in candidates]
        known = self._word_facts(generation, wanted)
        if detected is None:
            welsh = sum(bool(known[w, "text", "cy"]) for w in words)
            english = sum(bool(known[w, "text", "en"]) for w in words)
            detected = "cy" if welsh > english else "en"
        corrections: dict[str, str] = {}
        for word in candidates:
            correction = known[word, "fix", ""]
            if isinstance(correction, str):
                corrections[word] = correction
        return detected, corrections

    def _word_facts(self, generation: str,
                    wanted: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], Any]:
        """Facts of words in the generation being served, each worked out once per
        generation (the same words come back all day): ("w", "text"|"any", lang) -> whether
        that language's passages have the word (in their text, or anywhere), ("w", "fix",
        "") -> the correction of a misspelt word, or None."""
        with self._lock:
            if self._facts_of != generation or len(self._facts) > MAX_WORD_FACTS:
                self._facts_of, self._facts = generation, {}
            facts = {key: self._facts[key] for key in wanted if key in self._facts}
        asked = [key for key in dict.fromkeys(wanted) if key not in facts and key[1] != "fix"]
        # A correction needs the word's "any" facts: ask for those with it.
        fixes = [key for key in dict.fromkeys(wanted) if key not in facts and key[1] == "fix"]
        for word, _, _ in fixes:
            asked += [(word, "any", g) for g in LANGUAGES
                      if (word, "any", g) not in facts and (word, "any", g) not in asked]
        if not asked and not fixes:
            return facts
        requests: list[dict[str, Any]] = []
        for word, where, language in asked:
            fields = ([FIELDS[language]["text"]] if where == "text"
                      else list(FIELDS[language].values()))
            requests += [{"index": self.names.passages}, {
                "size": 0, "terminate_after": 1, "track_total_hits": True,
                "query": {"multi_match": {"query": word, "operator": "and", "fields": fields}}}]
        if fixes:
            requests += [{"index": self.names.passages}, {"size": 0, "suggest": {
                f"w{i}": {"text": word, "term": {
                    "field": "words", "suggest_mode": "missing", "size": 1,
                    "max_edits": 1 if len(word) <= 5 else 2, "prefix_length": 1,
                    "min_word_length": MIN_CORRECTED_LENGTH, "sort": "score"}}
                for i, (word, _, _) in enumerate(fixes)}}]
        try:
            answers = self.client.msearch(body=requests)["responses"]
        except Exception as exc:  # noqa: BLE001
            raise IndexNotReady(f"search cluster: {problem(exc)}") from None
        found: dict[tuple[str, str, str], Any] = {}
        for answer, key in zip(answers, asked, strict=False):
            found[key] = bool(answer.get("hits", {}).get("total", {}).get("value", 0))
        known = {**facts, **found}
        if fixes:
            suggested = answers[-1].get("suggest", {})
            for i, key in enumerate(fixes):
                word = key[0]
                options = [o for entry in suggested.get(f"w{i}", []) for o in entry["options"]]
                found[key] = None
                if not options:
                    continue  # written as typed in some passage, or nothing near it
                correction = options[0]["text"]
                # A word whose stem some passage has is mostly a real word written another
                # way there: only a doubled or undoubled letter is corrected (as Whoosh's).
                stem_known = any(known.get((word, "any", g)) for g in LANGUAGES)
                if correction == word or (stem_known and not doubling(word, correction)):
                    continue
                # Another form of a word some passage has (a plural, a Welsh mutation).
                if not self._same_word(word, correction):
                    found[key] = correction
        with self._lock:
            if self._facts_of == generation:
                self._facts.update(found)
        return {**facts, **found}

    def _same_word(self, a: str, b: str) -> bool:
        """True if some language's analysis gives `a` and `b` the same terms."""
        for language in LANGUAGES:
            terms = []
            for word in (a, b):
                try:
                    answer = self.client.indices.analyze(index=self.names.passages, body={
                        "analyzer": f"hub_{language}_query", "text": word})
                except Exception as exc:  # noqa: BLE001
                    raise IndexNotReady(f"search cluster: {problem(exc)}") from None
                terms.append([t["token"] for t in answer.get("tokens", [])])
            if terms[0] == terms[1]:
                return True
        return False

    def _body(self, scored: dict[str, Any], chosen: dict[str, list[str]], page: ResultPage,
              collapsed: bool) -> dict[str, Any]:
        """The main request: the ranking's first passages (their ids and documents only),
        the count, and the facets."""
        sort: list[Any] = [{"_score": "desc"}, {"passage_id": "asc"}]
        if page.sort == "updated":
            sort.insert(0, {"updated": {"order": "desc", "missing": "_last"}})
        aggs: dict[str, Any] = {
            f"facet_{name}": {
                "filter": {"bool": {"filter": _filter_clauses(chosen, skip=name)}},
                "aggs": {"values": {"terms": {"field": name, "size": MAX_FACET_VALUES}}}}
            for name in FACETS}
        body: dict[str, Any] = {
            "query": scored, "sort": sort, "track_total_hits": True, "aggs": aggs,
            # Only the page's rows are fetched whole and highlighted, afterwards (`_fill`).
            "_source": False, "docvalue_fields": ["document_url"],
        }
        if chosen:
            body["post_filter"] = {"bool": {"filter": _filter_clauses(chosen)}}
        end = page.offset + page.limit
        if collapsed:
            aggs["documents"] = {"filter": {"bool": {"filter": _filter_clauses(chosen)}},
                                 "aggs": {"n": {"cardinality": {
                                     "field": "document_url", "precision_threshold": 40000}}}}
            # Grouped by document here (`_page_rows`), from the ranking's first passages.
            body.update({"from": 0, "size": min(max(COLLAPSE_READ * end, 50),
                                                MAX_RESULT_WINDOW)})
        else:
            body.update({"from": min(page.offset, MAX_RESULT_WINDOW - page.limit),
                         "size": page.limit if end <= MAX_RESULT_WINDOW else 0})
        return body

    def _read(self, found: dict[str, Any], page: ResultPage, chosen: dict[str, list[str]],
              collapsed: bool) -> None:
        """The facets and counts of the main request."""
        aggs = found.get("aggregations", {})
        for name in FACETS:
            counts = {b["key"]: b["doc_count"]
                      for b in aggs[f"facet_{name}"]["values"]["buckets"]}
            for value in chosen.get(name, ()):
                counts.setdefault(value, 0)
            page.facets[name] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        page.total_passages = found["hits"]["total"]["value"]
        page.total = page.total_passages
        if not collapsed:
            return
        hits = found["hits"]["hits"]
        seen: dict[str, int] = {}
        for hit in hits:
            url = hit["fields"]["document_url"][0]
            seen[url] = seen.get(url, 0) + 1
        if len(hits) >= page.total_passages:
            # Every match was read: each document's rows up to PER_DOCUMENT, exactly.
            page.total = sum(min(n, PER_DOCUMENT) for n in seen.values())
        else:
            # Estimated from the documents read: how many have a second row.
            documents = aggs["documents"]["n"]["value"]
            twice = sum(n >= PER_DOCUMENT for n in seen.values())
            page.total = min(page.total_passages,
                             documents + round(documents * twice / max(1, len(seen))))

    @staticmethod
    def _page_rows(found: dict[str, Any], page: ResultPage,
                   collapsed: bool) -> list[tuple[str, str, Any]]:
        """The page's rows (passage id, document, score) in ranking order: a document's
        first PER_DOCUMENT passages when collapsed."""
        rows: list[tuple[str, str, Any]] = []
        seen: dict[str, int] = {}
        for hit in found["hits"]["hits"]:
            url = hit["fields"]["document_url"][0]
            seen[url] = seen.get(url, 0) + 1
            if not collapsed or seen[url] <= PER_DOCUMENT:
                rows.append((hit["_id"], url, hit.get("_score")))
        return rows[page.offset:page.offset + page.limit] if collapsed else rows

    def _fill(self, page: ResultPage, rows: list[tuple[str, str, Any]],
              scored: dict[str, Any], narrowed: list[dict], every_word: dict[str, Any],
              collapsed: bool, lang: str | None) -> None:
        """One multi-search for the page: its rows whole and highlighted, how many passages
        of each of their documents match, and whether any passage has every word."""
        urls = sorted({url for _, url, _ in rows})
        requests: list[dict[str, Any]] = [
            {"index": self.names.passages},
            {"size": 0, "terminate_after": 1, "track_total_hits": True, "query": every_word}]
        if rows:
            requests += [{"index": self.names.passages}, {
                "size": len(rows), "_source": _SOURCE, "highlight": _HIGHLIGHT,
                "query": {"bool": {"must": [scored], "filter": [
                    {"ids": {"values": [passage for passage, _, _ in rows]}}]}}}]
        if rows and collapsed:
            # Counted without scoring, over these documents' passages only.
            requests += [{"index": self.names.passages}, {
                "size": 0, "query": {"bool": {"filter": [
                    scored, *narrowed, {"terms": {"document_url": urls}}]}},
                "aggs": {"per_document": {"terms": {"field": "document_url",
                                                    "size": len(urls)}}}}]
        try:
            answers = self.client.msearch(body=requests)["responses"]
        except Exception as exc:  # noqa: BLE001
            raise IndexNotReady(f"search cluster: {problem(exc)}") from None
        for answer in answers:
            if "error" in answer:
                raise IndexNotReady(f"search cluster: {str(answer['error'])[:200]}")
        if page.total_passages and not answers[0]["hits"]["total"]["value"]:
            page.matched = "any"
        if not rows:
            return
        whole = {hit["_id"]: hit for hit in answers[1]["hits"]["hits"]}
        counts = ({b["key"]: b["doc_count"]
                   for b in answers[2]["aggregations"]["per_document"]["buckets"]}
                  if collapsed else {})
        for passage, _, score in rows:
            if passage not in whole:
                continue  # gone between the two requests (a switch): left out, not invented
            hit = self._hit({**whole[passage], "_score": score})
            matching = counts.get(hit.document_url, 0)
            hit.more_in_document = matching - min(matching, PER_DOCUMENT)
            if hit.more_in_document:
                params = {"q": page.query, "document": hit.document_url}
                if lang:
                    params["lang"] = lang
                hit.more_in_document_params = params
            page.results.append(hit)
        self._mark_last(page.results)

    @staticmethod
    def _mark_last(hits: list[Hit]) -> None:
        urls = [h.document_url for h in hits]
        for i, hit in enumerate(hits):
            hit.last_of_document = urls[i] not in urls[i + 1:]

    @staticmethod
    def _hit(found: dict[str, Any]) -> Hit:
        stored = found["_source"]
        fields = FIELDS[language_of(stored.get("language", ""))]
        text = clip(stored.get(fields["text"], ""), MAX_PASSAGE_CHARS)
        fragments = (found.get("highlight") or {}).get(fields["text"], [])
        snippet = " … ".join(fragments)
        if not snippet or len(snippet) > SNIPPET_HTML_CHARS:
            snippet = html.escape(plain_snippet(text), quote=False)
        page = stored.get("page") or None
        url = stored.get("document_url", "")
        return Hit(
            title=clip(stored.get(fields["title"], ""), MAX_TITLE_CHARS),
            heading_path=heading_path(list(stored.get("headings") or [])),
            snippet_html=snippet,
            deep_link=stored.get("deep_link", ""),
            document_url=url,
            document_id=stored.get("document_id", ""),
            source=stored.get("source", ""),
            doc_type=stored.get("doc_type", ""),
            language=stored.get("language", ""),
            page=int(page) if page else None,
            score=round(float(found.get("_score") or 0.0), 4),
            fetched_at=stored.get("fetched_at", ""),
            updated=stored.get("updated") or "",
            ocr=bool(stored.get("ocr")),
            snippet_text=plain_snippet(text),
        )

    def _pinned(self, query: str, chosen: dict[str, list[str]],
                scored: dict[str, Any]) -> list[Hit]:
        """The passages best_bets.toml pins for `query` that the index holds and the chosen
        filters let through, highlighted for the query."""
        hits = []
        for bet in self._best_bets.get().for_query(query):
            key = self._key_for_url(bet.url)
            if key is None:
                continue  # not indexed (any more): a bet never points at nothing
            passages = self._search({
                "size": MAX_BET_PASSAGES, "_source": ["passage_id", "headings", "position"],
                "query": {"term": {"document_url": key}}, "sort": [{"position": "asc"}]})
            listed = [h["_source"] for h in passages["hits"]["hits"]]
            if not listed:
                continue
            chosen_id = choose_passage(listed, bet.heading)["passage_id"]
            found = self._search({
                "size": 1, "_source": _SOURCE, "highlight": _HIGHLIGHT,
                "query": {"bool": {"filter": [{"term": {"passage_id": chosen_id}},
                                              *_filter_clauses(chosen)],
                                   "should": [scored]}}})["hits"]["hits"]
            if found:
                hit = self._hit(found[0])
                hit.score, hit.recommended = 0.0, True
                hits.append(hit)
        return hits

    def _key_for_url(self, url: str) -> str | None:
        found = self._search({"size": 1, "_source": ["key"], "query": {"bool": {"should": [
            {"term": {"key": url}}, {"term": {"url": url}}]}}}, index=self.names.documents)
        hits = found["hits"]["hits"]
        return hits[0]["_source"]["key"] if hits else None

    # -- completions and documents ------------------------------------------------------

    def suggest(self, text: str, limit: int = 8) -> list[str]:
        """Titles and headings in which every typed word starts a word, in order; then the
        typed text with its last word completed from those titles' and headings' words
        (Whoosh's suggester, indexer/suggest.py, completes words from all passage text)."""
        text = " ".join(text[:MAX_SUGGEST_INPUT].split())
        limit = max(1, min(int(limit), MAX_SUGGESTIONS))
        typed = words_of(text)
        if len("".join(typed)) < MIN_SUGGEST_PREFIX:
            return []
        self._require()
        found = self._search({
            "size": SUGGEST_DOCUMENTS, "_source": ["phrases"],
            # The typed words, the last as a prefix (words still being typed).
            "query": {"match_bool_prefix": {"phrases": {
                "query": " ".join(typed), "operator": "and"}}}},
            index=self.names.documents)
        phrases: list[str] = []
        words: dict[str, str] = {}
        for hit in found["hits"]["hits"]:
            for phrase in hit["_source"].get("phrases") or []:
                written = words_of(phrase)
                if _starts_words(typed, written):
                    phrases.append(phrase)
                for shown, word in zip(phrase.split(), written, strict=False):
                    if word.startswith(typed[-1]) and word != typed[-1] and word not in _STOP:
                        words.setdefault(word, shown.strip(".,:;()"))
        completed = [" ".join([*text.split()[:-1], word]) for word in sorted(words)]
        return list(dict.fromkeys(phrases + completed))[:limit]

    def document(self, doc_id: str, *, offset: int = 0,
                 limit: int = DOCUMENT_PASSAGES) -> dict[str, Any] | None:
        """One document's metadata and passages `offset` to `offset + limit`."""
        self._require()
        entry = self._search({"size": 1, "query": {"ids": {"values": [doc_id]}}},
                             index=self.names.documents)["hits"]["hits"]
        if not entry:
            return None
        meta = entry[0]["_source"]
        offset = max(0, int(offset))
        limit = max(1, min(int(limit), DOCUMENT_PASSAGES))
        first = self._search({"size": 1, "_source": _SOURCE, "sort": [{"position": "asc"}],
                              "query": {"term": {"document_id": doc_id}}})["hits"]["hits"]
        found = self._search({
            "from": min(offset, MAX_RESULT_WINDOW - limit), "size": limit,
            "_source": _SOURCE, "sort": [{"position": "asc"}], "track_total_hits": True,
            "query": {"term": {"document_id": doc_id}}})["hits"]
        head = first[0]["_source"] if first else {}
        fields = FIELDS[language_of(head.get("language", ""))]
        passages = found["hits"] if offset + limit <= MAX_RESULT_WINDOW else []
        return {
            "id": doc_id,
            "url": meta["key"],
            "requested_url": meta.get("url", ""),
            "sha256": meta.get("sha256", ""),
            "title": clip(head.get(fields["title"], meta.get("title", "")), MAX_TITLE_CHARS),
            "source": head.get("source", ""),
            "language": head.get("language", ""),
            "doc_type": head.get("doc_type", ""),
            "audience": list(head.get("audience") or []),
            "fetched_at": head.get("fetched_at", ""),
            "total_passages": found["total"]["value"],
            "offset": offset,
            "limit": limit,
            "passages": [
                {
                    "position": p["_source"].get("position", 0),
                    "heading_path": heading_path(list(p["_source"].get("headings") or [])),
                    "page": p["_source"].get("page") or None,
                    "deep_link": p["_source"].get("deep_link", ""),
                    "text": clip(p["_source"].get(
                        FIELDS[language_of(p["_source"].get("language", ""))]["text"], ""),
                        MAX_PASSAGE_CHARS),
                    "ocr": bool(p["_source"].get("ocr")),
                }
                for p in passages
            ],
        }
