"""Bulk matching (indexer/matching.py) ranks exactly as Whoosh's own matchers do.

The search path scores whole posting lists with numpy instead of Whoosh's per-passage
matcher calls; these compare the two on the demo index, query by query, so a faster path
can never quietly rank differently.
"""

from __future__ import annotations

import pytest

from indexer import generations
from indexer.matching import BulkMatcher, GenerationArrays, ranked
from indexer.query import parse_user_query
from indexer.query_plan import units as plan_units
from indexer.schema import weighting
from indexer.search import (
    MULTI_FACETS,
    SINGLE_FACETS,
    PassageSearcher,
    _Builder,
)

QUERIES = [
    "duty to notify",
    "national referral mechanism",
    "what should a nurse do if she suspects modern slavery in a patient",
    '"first responder"',
    "exploitation -labour",
    "caethwasiaeth modern",
    '"modern slavery" "first responder"',
    '"duty to notify"',
    "NRM",
    "child trafficking signs",
]


@pytest.fixture(scope="module", params=["posting arrays", "whoosh codec"])
def searched(demo_index, request):
    """Postings and facet codes read from the arrays the indexer wrote into the generation
    (indexer/postings.py, indexer/column_arrays.py), and through Whoosh's own codec and
    columns (an index built before the arrays existed)."""
    settings, _ = demo_index
    current = generations.current_generation(settings.storage.index_dir)
    searcher = generations.open_index(current).searcher(weighting=weighting())
    arrays = GenerationArrays(searcher, SINGLE_FACETS, MULTI_FACETS,
                              generation=current if request.param == "posting arrays" else None)
    assert (arrays.segments is not None) == (request.param == "posting arrays")
    yield searcher, arrays
    searcher.close()


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("mode", ["all", "any"])
def test_bulk_scores_equal_whoosh_scores(searched, demo_index, text, mode):
    searcher, arrays = searched
    settings, _ = demo_index
    builder = _Builder(searcher, arrays, {})
    parsed = parse_user_query(text)
    synonyms = PassageSearcher(settings.storage.index_dir)._synonyms.get()
    units = plan_units(parsed, synonyms, synonyms.expansions(parsed.words), {},
                       builder.function_word)
    query = builder.build(units, parsed.excluded, "en", mode)
    assert query is not None
    expected = searcher.search(query, limit=None).top_n
    if mode == "any":
        assert expected, "each query finds something on the demo hub"
    ids, scores = ranked(BulkMatcher(searcher, arrays).matches(query))
    assert [d for _, d in expected] == ids.tolist()
    assert [round(s, 9) for s, _ in expected] == [round(s, 9) for s in scores.tolist()]


def test_facet_arrays_hold_each_passages_stored_values(searched):
    searcher, arrays = searched
    codes, values = arrays.codes["source"]
    matrix, tags = arrays.tags["audience"]
    for docnum, stored in searcher.reader().iter_docs():
        assert values[codes[docnum]] == stored["source"]
        held = {t for t, on in zip(tags, matrix[docnum], strict=True) if on}
        assert held == {t.strip().lower() for t in stored["audience"].split(",") if t.strip()}
