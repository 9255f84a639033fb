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
from typing import Any

from whoosh import scoring
from whoosh.analysis import Analyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from hubsearch.search_results import LANGUAGES
from indexer.analysis import CachedPositions, english_analyzer, welsh_analyzer
from indexer.schema_fields import (  # noqa: F401 - the schema's fields, re-exported
    DOCUMENT_FIELD,
    FIELDS,
    KIND_FIELD,
    LINK_LIST,
    LINK_LIST_SHARE,
    MATCHING_FIELDS,
    MULTI_FACETS,
    RANKING,
    ROLE_BOOSTS,
    ROLES,
    SINGLE_FACETS,
    UNTUNED,
    UPDATED_FIELD,
    Ranking,
    language_of,
)

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
