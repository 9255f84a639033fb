"""The Whoosh schema of the passage index and its ranking parameters: fields are defined here.

Each passage is matched through the fields of its own language: English passages fill
`title`, `heading_path` and `text` (English analysis), Welsh passages fill `title_cy`,
`heading_path_cy` and `text_cy` (Welsh analysis, no English stemming; see
indexer/analysis.py). The passage itself is kept in the stored `body` field for display and
highlighting. Whoosh is unmaintained, so the rest of the code base reaches it only through
indexer/.

Ranking is BM25F as Whoosh does it (a BM25 score per field, summed), and its parameters
travel with the index: each field's weight, b, k1 and idf formula are kept on the field in
the schema Whoosh stores, where `weighting()` reads them. A searcher thus scores an index
exactly as it was built, and bench/relevance.py can build the untuned and the tuned index
side by side through the production code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from whoosh import scoring
from whoosh.analysis import Analyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from hubsearch.search_results import LANGUAGES
from indexer.analysis import CachedPositions, english_analyzer, welsh_analyzer

ROLES = ("title", "heading_path", "text")

# The matching fields of each language: role -> field name.
FIELDS = {
    "en": {"title": "title", "heading_path": "heading_path", "text": "text"},
    "cy": {"title": "title_cy", "heading_path": "heading_path_cy", "text": "text_cy"},
}


# The filters with one value per passage (a sortable column each) and with several (tags);
# with the document field, the index's per-passage arrays are read from these.
# The fields a query is matched against (posting arrays are kept for these).
MATCHING_FIELDS = [name for fields in FIELDS.values() for name in fields.values()]
SINGLE_FACETS = ("source", "doc_type", "language")
MULTI_FACETS = ("audience",)
DOCUMENT_FIELD = "document_url"
# A passage's kind, when it is not prose: "links" for a list of links (a hub's list of
# documents), ranked below prose about the same words (indexer/search.py).
KIND_FIELD = "kind"
LINK_LIST = "links"
# When the passage's document says it was last updated (YYYY-MM-DD), for sorting by date.
UPDATED_FIELD = "updated"
# Most of a section's text is link text: it lists documents rather than saying anything.
LINK_LIST_SHARE = 0.5


@dataclass(frozen=True)
class Ranking:
    """BM25F parameters of an index, by field role.

    `weights` multiply a field's BM25 score; `b` is per field, `k1` for all; `idf` is
    "whoosh" (log(N/(df+1)) + 1) or "bm25" (Robertson's log(1 + (N - df + 0.5)/(df + 0.5)),
    as Lucene), which gives common words less weight beside rare ones.
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict.fromkeys(ROLES, 1.0))
    b: Mapping[str, float] = field(default_factory=lambda: dict.fromkeys(ROLES, 0.75))
    k1: float = 1.2
    idf: str = "whoosh"


# Whoosh's defaults with every field weighted alike: the benchmark's "untuned" row.
UNTUNED = Ranking()
# The title weight and idf were chosen with bench/relevance.py on Cranfield (tuned on the
# odd-numbered queries, checked on the even ones; see the bench's docstring). The title is
# shared by every passage of a document and its words usually recur in the text, each field
# scored on its own: at full weight a title word counts twice over, so it gets half.
# Cranfield has no section headings, so the heading weight is not tuned there: a heading
# names what its passage is about and keeps the weight of the text (the demo-hub tests
# rely on a heading match ranking its passage).
RANKING = Ranking(
    weights={"title": 0.5, "heading_path": 1.0, "text": 1.0},
    b={"title": 0.75, "heading_path": 0.75, "text": 0.75},
    k1=1.2,
    idf="bm25",
)

# Field weights of the production ranking, by role; they are kept in the index and applied
# by weighting() (see the module docstring).
ROLE_BOOSTS = dict(RANKING.weights)
# Query-time boosts for the query builder. The weights already come with the index, so these
# are 1.0: a second weight here would count a field twice.
FIELD_BOOSTS = {FIELDS[lang][role]: 1.0 for lang in LANGUAGES for role in ROLES}


def analyzers() -> dict[str, Analyzer]:
    return {"en": english_analyzer(), "cy": welsh_analyzer()}


def build_schema(ranking: Ranking = RANKING) -> Schema:
    """The passage schema, its matching fields carrying `ranking` (production by default)."""
    by_lang = analyzers()
    fields: dict[str, Any] = {}
    for lang in LANGUAGES:
        for role, name in FIELDS[lang].items():
            text = TEXT(analyzer=by_lang[lang])
            text.format = CachedPositions(field_boost=text.format.field_boost)
            # Read back by weighting(); pickled with the schema into the index.
            text.bm25 = (ranking.b[role], ranking.k1, ranking.weights[role], ranking.idf)
            fields[name] = text
    return Schema(
        passage_id=ID(stored=True, unique=True),
        **fields,
        # Display copies: the passage, its document title and its heading path as a list.
        body=STORED(),
        title_display=STORED(),
        headings=STORED(),
        # sortable: these are the filters and facets.
        source=ID(stored=True, sortable=True),
        document_url=ID(stored=True, sortable=True),
        deep_link=STORED(),
        language=ID(stored=True, sortable=True),
        doc_type=ID(stored=True, sortable=True),
        audience=KEYWORD(stored=True, commas=True, lowercase=True),
        page=NUMERIC(stored=True),
        position=STORED(),
        fetched_at=STORED(),
        kind=ID(sortable=True),
        updated=ID(stored=True, sortable=True),
        # Set (True) on a passage read by OCR from a scanned page: its words may be misread.
        ocr=STORED(),
    )


class IndexBM25F(scoring.BM25F):
    """BM25F with each field's b and k1 read from the searched index's schema.

    A field without them (an index built before they were stored) gets the production
    values, which is what it was scored with then.
    """

    def __init__(self) -> None:
        super().__init__(B=RANKING.b["text"], K1=RANKING.k1)

    def scorer(
        self, searcher: Any, fieldname: str, text: bytes, qf: float = 1
    ) -> scoring.BaseScorer:
        fieldobj = searcher.schema[fieldname]
        if not fieldobj.scorable:
            return scoring.WeightScorer.for_(searcher, fieldname, text)
        b, k1, weight, idf = bm25_parameters(fieldobj)
        return _Scorer(searcher, fieldname, text, b, k1, qf, weight, idf)


def bm25_parameters(fieldobj: Any) -> tuple[float, float, float, str]:
    """A field's (b, k1, weight, idf formula), as stored with the index's schema."""
    return getattr(fieldobj, "bm25", (RANKING.b["text"], RANKING.k1, 1.0, "whoosh"))


class _Scorer(scoring.BM25FScorer):
    def __init__(self, searcher: Any, fieldname: str, text: bytes, b: float, k1: float,
                 qf: float, weight: float, idf: str) -> None:
        super().__init__(searcher, fieldname, text, b, k1, qf=qf)
        if idf == "bm25":
            parent = searcher.get_parent()
            n = parent.doc_frequency(fieldname, text)
            total = parent.doc_count_all()
            self.idf = math.log(1 + (total - n + 0.5) / (n + 0.5))
        # The field weight scales idf, so block-quality bounds stay correct.
        self.idf *= weight


def weighting() -> scoring.WeightingModel:
    """The ranking function every searcher uses: BM25F with the index's own parameters."""
    return IndexBM25F()


def language_of(lang: str) -> str:
    """The analysis language for a document language ("en" for anything not Welsh)."""
    return lang if lang in LANGUAGES else "en"
