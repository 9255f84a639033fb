"""The search page in English and Welsh (`?ui=cy`): html lang, labels, and links keeping ui."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import string
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from crawler.document import ExtractedDocument, Section
from hubsearch.settings import PageSettings, StorageSettings, load_settings
from hubsearch.store import DocumentStore, Fetch
from hubsearch_web import i18n
from indexer.build import build_index
from search_server import create_app

REPO = Path(__file__).resolve().parent.parent

GUIDES = [
    ("http://guides.test/referrals", "en", "Making a referral", "Referral thresholds",
     "Make a safeguarding referral to children's services the same day when a child is at "
     "risk of exploitation, and record the referral in the child's notes."),
    ("http://guides.test/interpreters", "en", "Interpreters", "Using interpreters",
     "Use a professional interpreter for a safeguarding conversation, never a relative or "
     "the person who brought the child to the appointment."),
    ("http://guides.test/atgyfeirio", "cy", "Gwneud atgyfeiriad", "Trothwyon atgyfeirio",
     "Gwnewch atgyfeiriad diogelu i'r gwasanaethau plant ar yr un diwrnod pan fydd plentyn "
     "mewn perygl o gael ei gam-fanteisio."),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("i18n")
    settings = dataclasses.replace(
        load_settings(REPO / "config.toml"),
        storage=StorageSettings(tmp / "hub.sqlite", tmp / "index"),
    )
    with DocumentStore(settings.storage.store_path) as store:
        for url, language, title, heading, text in GUIDES:
            doc = ExtractedDocument(title=title, doc_type="html", language=language,
                                    sections=[Section([title, heading], text, anchor="s1")])
            body = text.encode()
            store.record_fetch(Fetch(
                url=url, final_url=url, source="test", status=200, content_type="text/html",
                sha256=hashlib.sha256(body).hexdigest(), bytes=len(body), document=doc))
    build_index(settings)
    return TestClient(create_app(settings))


class Links(HTMLParser):
    """Every href on a page, and the lang attribute of each element holding link text."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.langs: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.hrefs.append(found["href"])
            self.langs[found["href"]] = found.get("lang")


def links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def own_links(html: str) -> list[str]:
    """Links to this site's pages (not documents, not the stylesheet)."""
    return [h for h in links(html).hrefs if h.startswith(("?", "/"))]


def test_english_is_the_default(client):
    html = client.get("/", params={"q": "safeguarding referral"}).text
    assert '<html lang="en">' in html
    assert '<label for="q">Search the guidance</label>' in html
    assert re.search(r'<h2 id="results-heading">\d+ passages? found in \d+ documents?</h2>', html)
    switch = [h for h, lang in links(html).langs.items() if lang == "cy"]
    assert len(switch) == 1 and "ui=cy" in switch[0]
    assert not any("ui=" in href for href in own_links(html) if href not in switch)


def test_ui_cy_gives_a_welsh_page(client):
    response = client.get("/", params={"q": "safeguarding referral", "ui": "cy"})
    html = unescape(response.text)
    assert response.status_code == 200 and '<html lang="cy">' in html
    assert "<label for=\"q\">Chwilio'r canllawiau</label>" in html
    assert re.search(r'<h2 id="results-heading">Canfuwyd \d+ darn mewn \d+ d?dogfen</h2>', html)
    assert ">Chwilio</button>" in html
    # Filters are offered once they have a choice to make, or one is applied.
    filtered = unescape(client.get("/", params={"q": "safeguarding referral", "ui": "cy",
                                                "language": "en"}).text)
    assert ">Hidlo canlyniadau</h2>" in filtered
    assert "Hidlo canlyniadau (1 wedi'i ddewis)</summary>" in filtered
    assert "gwiriwyd ddiwethaf" in html and "y ddogfen gyfan" in html
    assert "Search the guidance" not in html


def test_every_link_of_the_welsh_page_keeps_ui_cy(client):
    html = client.get("/", params={"q": "safeguarding", "ui": "cy", "limit": "1",
                                   "doc_type": "html"}).text
    own = own_links(html)
    assert any("offset=1" in h for h in own), "a pager link"
    assert any(h.startswith("/status") for h in own), "the status link in the footer"
    switch = [h for h in own if links(html).langs.get(h) == "en"]
    assert len(switch) == 1 and "ui=" not in switch[0]
    for href in own:
        if href not in switch:
            assert "ui=cy" in href, href
    # Both forms carry ui on: the search box and the filters.
    assert html.count('<input type="hidden" name="ui" value="cy">') == 2
    assert 'Nesaf</a>' in html


def test_the_language_switch_keeps_the_query_and_filters(client):
    html = client.get("/", params={"q": "referral", "doc_type": "html", "lang": "en"}).text
    switch = [h for h, lang in links(html).langs.items() if lang == "cy"]
    assert len(switch) == 1
    assert re.search(r'<a href="[^"]+" hreflang="cy" lang="cy">Cymraeg</a>', html)
    href = switch[0].replace("&amp;", "&")
    assert "q=referral" in href and "doc_type=html" in href and "lang=en" in href
    assert "ui=cy" in href
    welsh = client.get(href).text
    assert '<html lang="cy">' in welsh and 'value="html" checked' in welsh


def test_did_you_mean_keeps_ui(client):
    html = client.get("/", params={"q": "interpretor", "ui": "cy"}).text
    match = re.search(r"Oeddech chi'n golygu <a href=\"([^\"]+)\">", unescape(html))
    assert match and "ui=cy" in match.group(1)


def test_an_unknown_ui_falls_back_to_english(client):
    response = client.get("/", params={"q": "referral", "ui": "fr"})
    assert response.status_code == 200 and '<html lang="en">' in response.text
    assert "Search the guidance" in response.text


def test_results_keep_their_own_language(client):
    welsh_ui = client.get("/", params={"q": "referral atgyfeiriad", "ui": "cy"}).text
    english_ui = client.get("/", params={"q": "referral atgyfeiriad"}).text
    # Welsh documents are marked in the English page, English documents in the Welsh page.
    assert '<li class="result" lang="cy">' in english_ui
    assert '<li class="result" lang="en">' in welsh_ui
    # The interface words inside a result are marked with the interface language.
    assert '<p class="meta" lang="cy">' in welsh_ui


def test_a_bad_parameter_is_explained_in_welsh_around_the_english_detail(client):
    response = client.get("/", params={"q": "care", "lang": "fr", "ui": "cy"})
    assert response.status_code == 400
    assert "Nid oedd modd cynnal y chwiliad hwnnw" in response.text
    assert '<p class="error" lang="en">lang must be one of' in response.text


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(i18n.MESSAGES))
def test_every_message_has_both_languages_with_the_same_placeholders(key):
    english, welsh = i18n.MESSAGES[key]
    assert english.strip() and welsh.strip()
    assert _fields(english) == _fields(welsh)


def test_counts_use_plural_forms():
    en, cy = i18n.translator("en"), i18n.translator("cy")
    assert [en.n("passages_found", n) for n in (0, 1, 2)] == [
        "No passages found", "1 passage found", "2 passages found"]
    assert [cy.n("passages_found", n) for n in (0, 1, 25)] == [
        "Dim darnau wedi'u canfod", "Canfuwyd 1 darn", "Canfuwyd 25 darn"]
    assert cy.n("more_in_document", 3) == "3 arall yn y ddogfen hon"
    assert [en.n("in_documents", n) for n in (1, 7)] == ["in 1 document", "in 7 documents"]
    assert [cy.n("in_documents", n) for n in (1, 7)] == ["mewn 1 ddogfen", "mewn 7 dogfen"]
    assert cy.date("2026-03-05T10:00:00+00:00") == "5 Mawrth 2026"
    assert en.datetime("2026-03-05T10:07:00+00:00") == "5 March 2026, 10:07 UTC"
    assert en.date("not a date") == ""
    assert i18n.translator("xx").ui == "en" and i18n.translator(None).ui == "en"


def test_the_page_counts_as_the_api_does(client):
    params = {"q": "safeguarding referral"}
    data = client.get("/api/search", params=params).json()
    html = client.get("/", params=params).text
    found = re.search(r'results-heading">(\d+) passages? found in (\d+) documents?<', html)
    assert (int(found[1]), int(found[2])) == (data["total_passages"], data["total"])


def test_markup_in_a_configured_notice_is_shown_as_text_never_run(tmp_path):
    # config.toml is edited by people; a notice pasted with markup must not become script.
    settings = dataclasses.replace(
        load_settings(REPO / "config.toml"),
        storage=StorageSettings(tmp_path / "hub.sqlite", tmp_path / "index"),
        page=PageSettings(urgent_help_en='<script>alert("x")</script> Call 999.'),
    )
    html = TestClient(create_app(settings)).get("/").text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Call 999." in html
