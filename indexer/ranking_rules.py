"""How results are ranked and shown, whichever backend ranks them: the weights beside BM25F
(another language, lists of links, every word), how many passages of one document a list
shows, and how the filters of a request are read. indexer/search.py (Whoosh) and
indexer/opensearch_search.py apply these same numbers.
"""

from __future__ import annotations

from hubsearch.search_results import FACETS

# Words of one query looked up by the spelling corrector (each lookup is a few hundred
# dictionary probes): a query of many unknown words costs no more than this many.
MAX_CORRECTED = 5
# Passages of one document shown in a collapsed result list; the rest are counted.
PER_DOCUMENT = 2
# Passages in the language the query is not in still match, ranked a little lower.
OTHER_LANGUAGE_BOOST = 0.6
# A list of links (a hub's list of documents, indexer/schema.py) names the words its
# documents are about without saying anything about them: below prose with those words.
LINK_LIST_WEIGHT = 0.5
# A passage with every word of a query scores this much more (a quarter) than its BM25F
# score: all words are preferred, but a passage with the rare, decisive words and not a
# common one still ranks above one with every word and little of the rare ones. A bounded
# bonus, not a tier of every-word passages first: the tier cost MAP, most at depth 1,000
# (bench/relevance.py, chosen as its docstring says).
ALL_WORDS_BONUS = 0.25
# Equivalents named on a page ("Also searched: ..."), at most.
MAX_ALSO_SEARCHED = 10


def chosen_filters(filters: dict[str, list[str]] | None) -> dict[str, list[str]]:
    """The filters of a request that narrow it: known names, values trimmed (audience tags
    in lower case, as indexed), sorted, without empty ones."""
    chosen = {name: sorted({v.strip().lower() if name == "audience" else v.strip()
                            for v in values if v.strip()})
              for name, values in (filters or {}).items() if name in FACETS}
    return {name: values for name, values in chosen.items() if values}
