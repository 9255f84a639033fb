"""Suggestions as staff type: /api/suggest completes what was typed from the index's titles,
headings and words, bounded and fast, nothing kept; the search box offers them as an ARIA
1.2 combobox a keyboard alone can use, under the page's strict CSP; without scripts the box
is a plain search box."""

from __future__ import annotations

import logging
import time

import pytest
from browserkit import LAPTOP, PHONE, axe_violations, needs_browser
from starlette.testclient import TestClient

from indexer.search import PassageSearcher
from indexer.suggest import MAX_SUGGESTIONS
from search_server import create_app


@pytest.fixture(scope="module")
def client(demo_backend):
    return TestClient(create_app(demo_backend))


def test_titles_and_headings_come_first_then_completed_words(client):
    data = client.get("/api/suggest", params={"q": "duty to not"}).json()
    assert data["query"] == "duty to not"
    assert any(s.startswith("The duty to notify") for s in data["suggestions"])
    # The index's phrases come before the typed words with the last one completed.
    kinds = [s.lower().startswith("duty to not") for s in data["suggestions"]]
    assert kinds == sorted(kinds) and not kinds[0]
    assert "the" not in client.get("/api/suggest", params={"q": "th"}).json()["suggestions"]
    words = client.get("/api/suggest", params={"q": "exploi"}).json()["suggestions"]
    assert words and all("exploi" in s.lower() for s in words)


def test_every_typed_word_must_start_a_word_of_the_suggestion(client):
    for text in ("who must", "notif", "caethwas"):
        suggestions = client.get("/api/suggest", params={"q": text}).json()["suggestions"]
        assert suggestions, text
        for suggestion in suggestions:
            words = suggestion.lower().replace("'", " ").split()
            assert all(any(w.startswith(t) for w in words) for t in text.split()), suggestion


def test_a_welsh_prefix_gets_welsh_suggestions(client):
    suggestions = client.get("/api/suggest", params={"q": "arwydd"}).json()["suggestions"]
    assert any(s.startswith("Arwyddion") for s in suggestions)


def test_one_letter_or_nothing_suggests_nothing(client):
    for text in ("", "a", "  ", "!!"):
        assert client.get("/api/suggest", params={"q": text}).json()["suggestions"] == []


def test_answers_are_bounded_private_and_refuse_a_flood(client):
    response = client.get("/api/suggest", params={"q": "th", "limit": MAX_SUGGESTIONS})
    assert len(response.json()["suggestions"]) <= MAX_SUGGESTIONS
    assert response.headers["cache-control"] == "no-store"
    assert client.get("/api/suggest", params={"q": "th", "limit": 1000}).status_code == 400
    assert client.get("/api/suggest", params={"q": "x" * 5000}).status_code == 400


def test_typing_is_never_logged(client, caplog):
    with caplog.at_level(logging.DEBUG):
        client.get("/api/suggest", params={"q": "jane doe at flat 3"})
    # The test's own HTTP client (httpx) logs the URL it asks for; the server must not.
    served = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]
    assert any("/api/suggest" in line for line in served)
    assert not any("jane" in line or "flat" in line for line in served)


def test_a_suggestion_takes_milliseconds_once_built(demo_index):
    settings, _ = demo_index
    searcher = PassageSearcher(settings.storage.index_dir)
    searcher.suggest("duty")  # builds the generation's lists
    started = time.perf_counter()
    for text in ("du", "duty to", "referral", "nationa", "zzzz", "caeth", "who must n"):
        searcher.suggest(text)
    assert (time.perf_counter() - started) / 7 < 0.02


@needs_browser
def test_the_box_offers_suggestions_a_keyboard_can_choose(open_page, live_server):
    page = open_page(PHONE)
    page.goto(live_server.url + "/")
    box = page.get_by_role("combobox", name="Search the guidance")
    box.press_sequentially("duty to not", delay=30)
    listbox = page.get_by_role("listbox")
    listbox.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    options = page.get_by_role("option")
    assert options.count() >= 1
    status = page.locator("[role=status]").filter(has_text="suggestions")
    assert "use the up and down arrows" in status.inner_text()
    box.press("ArrowDown")
    first = options.first
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert first.get_attribute("aria-selected") == "true"
    chosen = first.inner_text()
    box.press("Enter")
    page.wait_for_selector("#results-heading")
    assert page.get_by_label("Search the guidance").input_value() == chosen
    assert axe_violations(page) == []


@needs_browser
def test_escape_closes_the_list_and_enter_still_searches_what_was_typed(open_page,
                                                                        live_server):
    page = open_page(LAPTOP)
    page.goto(live_server.url + "/")
    box = page.get_by_role("combobox", name="Search the guidance")
    box.press_sequentially("referral", delay=30)
    page.get_by_role("listbox").wait_for()
    assert axe_violations(page) == []
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    box.press("Enter")
    page.wait_for_selector("#results-heading")
    assert page.get_by_label("Search the guidance").input_value() == "referral"


@needs_browser
def test_without_scripts_the_box_is_a_plain_search_box(open_page, live_server):
    page = open_page(PHONE, javascript=False)
    page.goto(live_server.url + "/")
    box = page.get_by_label("Search the guidance")
    assert box.get_attribute("role") is None and box.get_attribute("aria-expanded") is None
    assert page.get_by_role("listbox").count() == 0
    box.fill("duty to notify")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results-heading")
