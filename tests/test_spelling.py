"""Did you mean: suggestions are real words of the indexed passages, never stems."""

from __future__ import annotations

from collections import Counter

import pytest
from starlette.testclient import TestClient

from indexer.search import PassageSearcher
from indexer.spelling import Vocabulary, edit_distance
from search_server import create_app


@pytest.fixture(scope="module")
def client(demo_backend):
    return TestClient(create_app(demo_backend))


@pytest.mark.parametrize(("a", "b", "distance"), [
    ("trafficking", "trafficking", 0), ("traffiking", "trafficking", 1),
    ("trafifcking", "trafficking", 1), ("trafking", "trafficking", 3),
    ("notifcation", "notification", 1),
])
def test_edit_distance_counts_a_swap_as_one_and_stops_past_the_limit(a, b, distance):
    assert edit_distance(a, b, limit=2) == min(distance, 3)


def test_the_corrector_prefers_the_nearest_then_the_most_frequent_word():
    vocabulary = Vocabulary(Counter({"trafficking": 5, "trafficked": 9, "grooming": 2}))
    assert vocabulary.correct("traffiking") == "trafficking"
    assert vocabulary.correct("groming") == "grooming"
    assert vocabulary.correct("trafficking") is None
    assert vocabulary.correct("abc") is None, "short words are left alone"
    assert vocabulary.correct("zzzzzzzz") is None
    assert vocabulary.correct("999") is None


def test_vocabulary_keeps_words_as_written_not_stems():
    vocabulary = Vocabulary.from_texts(["Trafficking and notifications; caethwasiaeth fodern"])
    assert {"trafficking", "notifications", "caethwasiaeth", "fodern"} <= set(vocabulary.counts)


def test_a_misspelt_word_gets_a_suggestion_and_results(client):
    data = client.get("/api/search", params={"q": "traffiking"}).json()
    assert data["suggestion"] == "trafficking"
    assert data["results"] and data["matched"] == "all"


def test_the_suggestion_keeps_the_rest_of_the_query(client):
    data = client.get("/api/search", params={"q": 'Notifcation "duty to notify" -child'}).json()
    assert data["suggestion"] == 'notification "duty to notify" -child'


@pytest.mark.parametrize("q", ["trafficking", "trafficker", "NRM", "DtN", "caethwasiaeth",
                               "2014"])
def test_words_in_the_index_or_the_synonyms_get_no_suggestion(client, q):
    assert client.get("/api/search", params={"q": q}).json()["suggestion"] is None


def test_the_page_offers_the_suggestion_as_a_link(client):
    page = client.get("/", params={"q": "safegarding lead"}).text
    assert "Did you mean" in page
    assert 'href="?q=safeguarding+lead"' in page


def test_the_vocabulary_is_built_once_per_index_generation(demo_index):
    # Its cost is paid once per generation, not per query (timings live in bench/, not here).
    settings, _ = demo_index
    searcher = PassageSearcher(settings.storage.index_dir)
    searcher.search("traffiking")
    built = searcher._derived(*_current(searcher)).vocabulary
    for _ in range(3):
        assert searcher.search("traffiking").suggestion == "trafficking"
    assert searcher._derived(*_current(searcher)).vocabulary is built


def _current(searcher: PassageSearcher):
    from indexer import generations

    searcher_obj, _ = searcher._searcher()
    return generations.current_generation(searcher.index_dir), searcher_obj


@pytest.mark.parametrize(("q", "suggestion"), [
    # "referal" stems to "refer", an indexed term: it is corrected all the same.
    ("referal", "referral"), ("nationl referal", "national referral"),
    ("traffiking", "trafficking"), ("exploitaion", "exploitation"),
    ("caethwasiath", "caethwasiaeth"), ("diogleu", "diogelu"), ("atgyfeiro", "atgyfeirio"),
])
def test_misspellings_of_real_words_are_corrected_in_english_and_welsh(client, q, suggestion):
    data = client.get("/api/search", params={"q": q}).json()
    assert data["suggestion"] == suggestion
    assert data["total_passages"] > 0


@pytest.mark.parametrize("q", [
    # Forms of indexed words that no passage is written with: plurals, other endings, and
    # Welsh mutations. None is a misspelling.
    "notifying", "hospitals", "nurses", "cared", "carers", "gaethwasiaeth", "phlant",
    "ddiogelu",
])
def test_a_correct_word_is_never_corrected(client, q):
    assert client.get("/api/search", params={"q": q}).json()["suggestion"] is None
