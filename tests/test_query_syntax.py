"""Query syntax that never fails: words, "phrases", -exclusions, everything else as words."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from indexer.query import parse_user_query, words_of
from search_server import create_app


@pytest.fixture(scope="module")
def client(demo_backend):
    return TestClient(create_app(demo_backend))


def test_words_phrases_and_exclusions_are_told_apart():
    parsed = parse_user_query('trafficking "duty to notify" -anonymous -"county lines"')
    assert parsed.words == ["trafficking"]
    assert parsed.phrases == [["duty", "to", "notify"]]
    assert parsed.excluded == [["anonymous"], ["county", "lines"]]


@pytest.mark.parametrize(("text", "words"), [
    ('"unclosed phrase', ["unclosed", "phrase"]),
    ("AND OR NOT", ["and", "or", "not"]),
    ("title:care^2 text:[a TO z] traf* ~1", ["title", "care", "2", "text", "a", "to", "z",
                                             "traf", "1"]),
    ("((grooming))", ["grooming"]),
    ("A&E child's e-learning", ["a&e", "child's", "e-learning"]),
])
def test_operators_and_stray_punctuation_are_read_as_plain_words(text, words):
    assert parse_user_query(text).words == words


def test_a_lone_minus_or_empty_quotes_are_ignored():
    parsed = parse_user_query('- "" care')
    assert parsed.words == ["care"] and not parsed.excluded and not parsed.phrases


def test_a_long_paste_is_cut_to_a_bounded_number_of_words():
    assert len(parse_user_query("word " * 400).words) <= 40


def test_words_are_folded_to_lower_case_with_one_apostrophe():
    assert words_of("Beth I\u2019w WNEUD") == ["beth", "i'w", "wneud"]


@pytest.mark.parametrize("q", [
    '"unclosed phrase', "AND OR NOT", "care^^^", "((", "title:", "*", "?", "~", "[a TO z]",
    '-"', "-", '""', "--child", "\u2603 \U0001f600", "a" * 500, "NOT -", "\\", "%00",
])
def test_odd_input_is_never_an_error(client, q):
    response = client.get("/api/search", params={"q": q})
    assert response.status_code == 200
    assert client.get("/", params={"q": q}).status_code == 200


def test_a_quoted_phrase_needs_its_words_together(client):
    data = client.get("/api/search", params={"q": '"duty to notify"'}).json()
    assert data["results"]
    assert data["results"][0]["heading_path"][-1] == "What the duty to notify means"
    loose = client.get("/api/search", params={"q": '"notify duty"'}).json()
    assert loose["total"] < data["total"] or not loose["results"]


def test_an_excluded_word_removes_passages_that_have_it(client):
    with_word = client.get("/api/search", params={"q": "notification", "limit": 50}).json()
    assert any("anonymous" in h["heading_path"][-1].lower() for h in with_word["results"])
    without = client.get("/api/search", params={"q": "notification -anonymous",
                                                "limit": 50}).json()
    assert without["results"]
    assert not any("anonymous" in h["snippet_html"].lower() for h in without["results"])


def test_all_words_are_preferred_and_the_fallback_to_any_word_is_said(client):
    data = client.get("/api/search", params={"q": "interpreter zzzqqq"}).json()
    assert data["matched"] == "any" and data["results"]
    assert client.get("/api/search", params={"q": "interpreter"}).json()["matched"] == "all"
    page = client.get("/", params={"q": "interpreter zzzqqq"}).text
    assert "showing results for any of your words" in page


def test_only_exclusions_or_stop_words_find_nothing_without_error(client):
    for q in ("-child", "the of and"):
        data = client.get("/api/search", params={"q": q}).json()
        assert data["total"] == 0 and data["results"] == []
