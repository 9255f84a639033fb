"""Welsh on the query side: the query's language, and guidance found across languages."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from conftest import document_fetch
from starlette.testclient import TestClient

from crawler.document import ExtractedDocument, Section
from hubsearch.settings import Source, StorageSettings, load_settings
from hubsearch.store import DocumentStore
from indexer.build import build_index
from search_server import create_app

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def client(demo_backend):
    return TestClient(create_app(demo_backend))


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


# Guidance written for these tests, one guide in each language, as hubs hold them: the English
# guide names its subject in its title, its headings and most sentences; the Welsh guide says
# each thing once, inside a paragraph under a broader heading. The English passages match the
# Welsh questions below only through the English and Welsh pairs of synonyms.toml.
ENGLISH_GUIDE = ("Human trafficking and forced labour: practice guidance", [
    ("What human trafficking is", "Human trafficking is the recruitment, transport or "
     "harbouring of a person for exploitation. Trafficking can happen within one town: "
     "nobody has to cross a border to be trafficked."),
    ("Signs of trafficking", "A person who is trafficked may not have their passport, may "
     "be accompanied everywhere and may give an account that sounds rehearsed."),
    ("Forced labour", "Forced labour is work a person is made to do under threat, in car "
     "washes, nail bars, farms and factories. Labour exploitation often goes with debts."),
    ("Registering with a GP", "Help the person register with a GP. A general practitioner "
     "can see them without identity documents and can refer them on."),
    ("Child sexual exploitation", "Child sexual exploitation is a form of child abuse. "
     "Record what the child says in their own words and share it the same day."),
    ("Domestic servitude", "Domestic servitude is forced labour in a private home: "
     "cooking, cleaning and childcare for long hours, unpaid, often by a young woman "
     "brought from abroad."),
    ("Working with an interpreter", "Use a professional interpreter, never a family member "
     "or the person who came with them. Brief the interpreter before the appointment."),
    ("Female genital mutilation", "Female genital mutilation is a crime and a form of child "
     "abuse. A nurse who sees signs of it must report it to the police."),
])
WELSH_GUIDE = ("Diogelu oedolion a phlant: canllaw i weithwyr rheng flaen", [
    ("Beth yw camfanteisio?", "Camfanteisio yw defnyddio person er budd rhywun arall. "
     "Mae'n cynnwys masnachu pobl, sef recriwtio, cludo neu gartrefu person er mwyn ei "
     "gam-drin, a all ddigwydd o fewn un dref heb i neb groesi ffin; llafur gorfodol mewn "
     "golchfeydd ceir, salonau ewinedd, ffermydd neu ffatrïoedd, lle nad oes gan y person "
     "ei basbort ei hun ac mae arno ddyled i'r sawl a drefnodd ei waith; a chamfanteisio "
     "rhywiol ar blant, sy'n fath o gam-drin plant hyd yn oed pan fo'r plentyn yn "
     "ymddangos fel petai'n cytuno."),
    ("Iechyd", "Mae pobl sydd wedi dioddef camfanteisio yn aml heb weld meddyg ers "
     "misoedd. Helpwch yr unigolyn i gofrestru gyda meddyg teulu yn yr ardal lle mae'n "
     "byw. Nid oes angen dogfennau adnabod na chyfeiriad parhaol i gofrestru, a gall y "
     "feddygfa drefnu cyfieithydd ar gyfer yr apwyntiad cyntaf os oes angen un."),
    ("Yn y cartref", "Gall caethwasanaeth domestig fod y tu ôl i ddrws unrhyw dŷ: person "
     "sy'n coginio, glanhau a gofalu am blant y teulu am oriau hir heb dâl, heb ddiwrnod "
     "rhydd a heb gael mynd allan ar ei ben ei hun. Mae'n aml yn fenyw ifanc a ddaeth o "
     "dramor, a gall fod wedi cael ei masnachu i'r wlad."),
    ("Pan fydd gennych bryder", "Os ydych yn poeni am oedolyn, am blant neu am bobl ifanc, "
     "siaradwch â'ch arweinydd diogelu ar yr un diwrnod, hyd yn oed os nad ydych yn siŵr "
     "mai masnachu yw e. "
     "Cofnodwch yr hyn a welsoch ac a glywsoch yn eich geiriau eich hun, a pheidiwch â "
     "rhannu eich pryderon gyda'r sawl sy'n dod gyda'r person i'r apwyntiad."),
])


@pytest.fixture(scope="module")
def guides(tmp_path_factory):
    """A hub holding ENGLISH_GUIDE and WELSH_GUIDE, indexed and served with the repo's
    synonyms.toml."""
    tmp = tmp_path_factory.mktemp("welsh-first")
    settings = dataclasses.replace(load_settings(REPO / "config.toml"),
                                   storage=StorageSettings(tmp / "hub.sqlite", tmp / "index"),
                                   sources=(Source("wales", "https://guidance.test/"),))
    with DocumentStore(settings.storage.store_path) as store:
        for url, language, (title, sections) in [
            ("https://guidance.test/trafficking", "en", ENGLISH_GUIDE),
            ("https://guidance.test/diogelu", "cy", WELSH_GUIDE),
        ]:
            doc = ExtractedDocument(title=title, doc_type="html", language=language,
                                    sections=[Section([title, h], t) for h, t in sections])
            store.record_fetch(document_fetch(url, doc, source="wales"))
    build_index(settings)
    return TestClient(create_app(settings))


def place(results: list[dict], language: str, heading: str | None = None) -> int:
    """Where the first result in `language` (with last heading `heading`) is; past the end
    if there is none."""
    return next((n for n, h in enumerate(results) if h["language"] == language
                 and heading in (None, h["heading_path"][-1])), len(results))


@pytest.mark.parametrize(("q", "heading"), [
    # A social worker: "human trafficking", "what is human trafficking".
    ("masnachu pobl", "Beth yw camfanteisio?"),
    ("beth yw masnachu pobl", "Beth yw camfanteisio?"),
    # A support worker back from a farm visit: "forced labour", "signs of forced labour".
    ("llafur gorfodol", "Beth yw camfanteisio?"),
    ("arwyddion llafur gorfodol", "Beth yw camfanteisio?"),
    # A nurse: "interpreter", "GP", "register with a GP".
    ("cyfieithydd", "Iechyd"),
    ("meddyg teulu", "Iechyd"),
    ("cofrestru gyda meddyg teulu", "Iechyd"),
    # A teacher: "child sexual exploitation"; a health visitor: "domestic servitude".
    ("camfanteisio rhywiol ar blant", "Beth yw camfanteisio?"),
    ("caethwasanaeth domestig", "Yn y cartref"),
])
def test_a_welsh_question_ranks_the_welsh_answer_above_english_synonyms(guides, q, heading):
    data = get(guides, q=q)
    assert data["language"] == "cy"
    assert data["results"][0]["language"] == "cy"
    assert place(data["results"], "cy", heading) < place(data["results"], "en")
    assert place(data["results"], "en") < len(data["results"]), "the English is still there"


@pytest.mark.parametrize(("q", "heading"), [
    ("human trafficking", "What human trafficking is"),
    ("forced labour", "Forced labour"),
    ("interpreter", "Working with an interpreter"),
    ("GP", "Registering with a GP"),
    ("domestic servitude", "Domestic servitude"),
])
def test_an_english_question_still_ranks_the_english_answer_first(guides, q, heading):
    data = get(guides, q=q)
    assert data["language"] == "en"
    top = data["results"][0]
    assert (top["language"], top["heading_path"][-1]) == ("en", heading)
    assert place(data["results"], "cy") < len(data["results"]), "the Welsh is still there"


def test_a_welsh_question_without_a_welsh_answer_gets_the_english_one(guides):
    # A school nurse: "what is female genital mutilation"; no Welsh passage says it.
    data = get(guides, q="beth yw anffurfio organau cenhedlu benywod")
    assert data["language"] == "cy"
    top = data["results"][0]
    assert (top["language"], top["heading_path"][-1]) == ("en", "Female genital mutilation")
