"""Welsh on the query side: the query's language, and guidance found across languages."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from search_server import create_app


@pytest.fixture(scope="module")
def client(demo_index):
    settings, _ = demo_index
    return TestClient(create_app(settings))


def get(client, **params) -> dict:
    return client.get("/api/search", params=params).json()


@pytest.mark.parametrize(("q", "language"), [
    ("caethwasiaeth fodern", "cy"),
    ("beth yw masnachu pobl", "cy"),
    ("arwyddion corfforol", "cy"),
    ("modern slavery", "en"),
    ("what is the duty to notify", "en"),
    ("NRM", "en"),
])
def test_the_query_language_is_detected(client, q, language):
    assert get(client, q=q)["language"] == language


def test_the_query_language_can_be_chosen(client):
    assert get(client, q="modern slavery", lang="cy")["language"] == "cy"
    assert get(client, q="caethwasiaeth fodern", lang="en")["language"] == "en"


def test_a_welsh_query_ranks_welsh_passages_first(client):
    data = get(client, q="caethwasiaeth fodern")
    assert data["results"][0]["language"] == "cy"


def test_an_english_query_finds_the_welsh_guidance_too(client):
    data = get(client, q="modern slavery", language="cy")
    assert data["results"], "found through the modern slavery / caethwasiaeth fodern pair"
    assert all(h["language"] == "cy" for h in data["results"])
    assert get(client, q="modern slavery")["facets"]["language"]["cy"] > 0


def test_a_welsh_query_finds_the_english_guidance_too(client):
    data = get(client, q="masnachu pobl", language="en", limit=20)
    assert any("trafficked" in h["title"].lower() for h in data["results"])
    data = get(client, q="Mecanwaith Atgyfeirio Cenedlaethol", language="en")
    assert data["results"][0]["heading_path"][-1] == "The National Referral Mechanism"


def test_a_misspelt_welsh_word_is_corrected_from_welsh_passages(client):
    data = get(client, q="caethwasieth")
    assert data["suggestion"] == "caethwasiaeth"
    assert data["results"] and data["results"][0]["language"] == "cy"


def test_welsh_results_are_marked_lang_cy_on_the_page(client):
    page = client.get("/", params={"q": "caethwasiaeth fodern"}).text
    assert re.search(r'<li class="result" lang="cy">', page)
    assert re.search(r'<li class="result">', client.get("/", params={"q": "NRM"}).text)
    page = client.get("/", params={"q": "caethwasiaeth", "lang": "cy"}).text
    assert '<option value="cy" lang="cy" selected>' in page
