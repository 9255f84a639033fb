"""The fields of the passage index and its ranking parameters, as plain data: which field
holds what in each language, the filters, and the BM25F weights. The Whoosh schema
(indexer/schema.py) and the OpenSearch mappings (indexer/opensearch_analysis.py) are both
made from these, so the two backends index and rank the same fields alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hubsearch.search_results import LANGUAGES

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

def language_of(lang: str) -> str:
    """The analysis language for a document language ("en" for anything not Welsh)."""
    return lang if lang in LANGUAGES else "en"
