"""bench/relevance.py: its metrics on hand-made rankings, and how it reads the collections."""

from __future__ import annotations

import gzip
import importlib.util
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
CRANFIELD = ROOT.parent / "shared" / "data" / "cranfield" / "cran"
_spec = importlib.util.spec_from_file_location("bench_relevance", ROOT / "bench" / "relevance.py")
assert _spec and _spec.loader
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_relevance"] = bench  # its dataclasses look their module up by name
_spec.loader.exec_module(bench)

needs_cranfield = pytest.mark.skipif(
    not (CRANFIELD / "cran.all.1400").exists(),
    reason=f"Cranfield collection not found at {CRANFIELD} (../shared/data is not checked out)",
)


def test_average_precision_averages_precision_at_each_relevant_document_over_all_relevant():
    gains = {"a": 1, "b": 2, "c": 1, "n": 0}
    # a at rank 1 (1/1), b at rank 3 (2/3), c never retrieved (0); n judged not relevant.
    assert bench.average_precision(["a", "x", "b", "n"], gains) == pytest.approx((1 + 2 / 3) / 3)
    assert bench.average_precision([], gains) == 0.0
    assert bench.average_precision(["a"], {"a": 0}) == 0.0


def test_ndcg_uses_graded_gains_and_a_log2_discount():
    gains = {"a": 3, "b": 1}
    dcg = 1 / math.log2(2) + 3 / math.log2(3)
    ideal = 3 / math.log2(2) + 1 / math.log2(3)
    assert bench.ndcg_at(["b", "a"], gains) == pytest.approx(dcg / ideal)
    assert bench.ndcg_at(["a", "b"], gains) == pytest.approx(1.0)
    # Only the first k ranks count.
    assert bench.ndcg_at(["x", "a"], gains, k=1) == 0.0


def test_precision_at_10_and_recall_at_100():
    gains = {"a": 1, "b": 1, "c": 1}
    ranking = ["a", "x", "b"]
    assert bench.precision_at(ranking, gains) == pytest.approx(0.2)
    assert bench.recall_at(ranking, gains) == pytest.approx(2 / 3)
    assert bench.recall_at(["x"] * 100 + ["a"], gains) == 0.0


def test_evaluate_counts_an_unanswered_query_as_zero_and_a_repeated_document_once():
    qrels = {"1": {"a": 1}, "2": {"b": 1}, "3": {"c": 0}}  # query 3 has nothing relevant
    run = {"1": ["a", "a"]}
    scores = bench.evaluate(run, qrels)
    assert scores["map"] == pytest.approx(0.5)  # (1 + 0) / 2 judged queries
    assert scores["p10"] == pytest.approx(0.05)
    assert bench.evaluate(run, qrels, only=["1"])["map"] == pytest.approx(1.0)


@needs_cranfield
def test_cranfield_queries_are_numbered_by_position_as_cranqrel_refers_to_them():
    collection = bench.read_cranfield(CRANFIELD)
    assert len(collection.documents) == 1400
    assert len(collection.queries) == 225
    assert collection.queries["1"].startswith("what similarity laws must be obeyed")
    # The third query is ".I 004" in cran.qry.
    assert collection.queries["3"].startswith("what problems of heat conduction in composite")
    assert collection.ordinals["225"] == 225
    title, text = collection.documents["1"]
    assert title.startswith("experimental investigation of the aerodynamics of a wing")
    assert "slipstream" in text


@needs_cranfield
def test_cranfield_relevance_codes_map_to_graded_gains_and_all_pairs_are_relevant():
    collection = bench.read_cranfield(CRANFIELD)
    first = collection.qrels["1"]
    assert first["184"] == 3  # code 2: high degree of relevance
    assert first["13"] == 1  # code 4: minimum interest
    assert first["486"] == 4  # code -1: the query's source document
    assert all(g > 0 for gains in collection.qrels.values() for g in gains.values())
    assert len(collection.qrels) == 225


def test_trec_layout_reads_gzipped_documents_unclosed_topics_and_qrels(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    with gzip.open(docs / "part1.gz", "wt") as f:
        f.write("<DOC>\n<DOCNO> D1 </DOCNO>\n<HEAD>Wing flutter</HEAD>\n<TEXT>Panel &amp; "
                "wing <b>flutter</b> tests.</TEXT>\n</DOC>\n")
    (docs / "part2").write_text("<DOC><DOCNO>D2</DOCNO><TEXT>Heat transfer.</TEXT></DOC>")
    topics = tmp_path / "topics"
    topics.write_text("<top>\n<num> Number: 401\n<title> wing flutter\n\n<desc> Description:\n"
                      "Tests.\n</top>\n<top><num>402</num><title>heat</title></top>\n")
    qrels = tmp_path / "qrels"
    qrels.write_text("401 0 D1 2\n401 0 D2 0\n402 0 D2 1\n")

    collection = bench.read_trec([docs], topics, qrels)
    assert collection.documents == {
        "D1": ("Wing flutter", "Panel & wing flutter tests."),
        "D2": ("", "Heat transfer."),
    }
    assert collection.queries == {"401": "wing flutter", "402": "heat"}
    assert collection.qrels == {"401": {"D1": 2, "D2": 0}, "402": {"D2": 1}}


def test_map_is_cut_at_depth_100_and_map1000_at_depth_1000():
    gains = {"a": 1, "b": 1}
    # a at rank 1; b at rank 500: past the depth of MAP, within trec_eval's 1,000.
    ranking = ["a"] + [f"x{i}" for i in range(498)] + ["b"]
    scores = bench.evaluate({"1": ranking}, {"1": gains})
    assert scores["map"] == pytest.approx(1 / 2)
    assert scores["map1000"] == pytest.approx((1 + 2 / 500) / 2)


def _tiny_collection(queries: dict[str, str]):
    words = ["wing", "flutter", "heat", "panel", "shock", "boundary", "layer", "nozzle"]
    documents = {
        str(n): (f"{words[n % 8]} study {n}",
                 " ".join(words[(n * k) % 8] for k in range(1, 4 + n % 5)) + " tests")
        for n in range(1, 121)
    }
    return bench.Collection("tiny", documents, queries, {})


def test_the_deep_run_ranks_documents_as_the_paged_production_search_does(tmp_path):
    collection = _tiny_collection({"1": "wing flutter heat"})
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    bench.build_ours(collection, bench.RANKING, index_dir)
    served = bench.rank_ours(bench.PassageSearcher(index_dir), "wing flutter heat", 120)
    deep = bench.rank_ours(bench.RankingOnly(index_dir), "wing flutter heat", 120)
    assert len(served) > bench.MAX_LIMIT  # more than one page
    assert deep == served


def _best_scores(searcher, query: str) -> dict[str, float]:
    """Each matching document's best passage score, paging through search()."""
    scores: dict[str, float] = {}
    offset = 0
    while True:
        page = searcher.search(query, limit=bench.MAX_LIMIT, offset=offset, collapse=False)
        for hit in page.results:
            scores.setdefault(hit.document_url, round(hit.score, 6))
        offset += len(page.results)
        if len(page.results) < bench.MAX_LIMIT:
            return scores


def test_through_the_store_and_the_backend_a_collection_ranks_as_built_directly(tmp_path):
    # The path the OpenSearch row takes (--backend), here on the Whoosh backend: recorded in
    # a store, built by open_backend(settings).build, ranked by its searcher uncollapsed.
    collection = _tiny_collection({"1": "wing flutter heat", "2": "shock nozzle"})
    direct_dir = tmp_path / "direct"
    direct_dir.mkdir()
    bench.build_ours(collection, bench.RANKING, direct_dir)
    direct = bench.PassageSearcher(direct_dir)
    (tmp_path / "hub").mkdir()
    settings = bench.backend_config(tmp_path / "hub", collection, "whoosh")

    measured = bench.run_backend(collection, settings)

    for qid, query in collection.queries.items():
        best = _best_scores(direct, query)
        assert len(best) > bench.MAX_LIMIT  # more than one page of documents
        # The same documents, by the same scores (documents of equal score in either order).
        assert sorted(measured.run[qid]) == sorted(best)
        scores = [best[doc_id] for doc_id in measured.run[qid]]
        assert scores == sorted(scores, reverse=True)
    assert measured.build_s > 0 and len(measured.query_ms) == 2


def test_terse_keeps_a_questions_first_content_words():
    question = "what similarity laws must be obeyed when constructing aeroelastic models"
    assert bench.terse(question, 3) == "similarity laws must"
    assert bench.terse("what is the", 2) == ""
