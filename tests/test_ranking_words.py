"""How passages with every word of a query rank beside passages with some of them.

Every word is preferred, but not at any price: a passage about the rare, decisive words of a
query ranks above one that has every word only because it mentions each in passing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import document_fetch

from crawler.document import ExtractedDocument, Section
from hubsearch.settings import StorageSettings, load_settings
from hubsearch.store import DocumentStore
from indexer.build import build_index
from indexer.search import PassageSearcher

REPO = Path(__file__).resolve().parent.parent

FOCUSED = ("Book a professional interpreter before you talk to a child who may have been "
           "trafficked. Never use an interpreter the child arrived with: trafficking networks "
           "send their own people to act as interpreters.")
# Every word of the query, each once, in a long passage about something else.
IN_PASSING = ("This guidance sets out how the council's family support team plans its home "
              "visits across the county. Visits are booked a week ahead and confirmed by "
              "telephone the day before. Staff record each visit the same day, note who was "
              "present and agree the next steps with the family. Where a parent asks for an "
              "interpreter, the team arranges one through the usual booking line. Managers "
              "review the visit records every month, look at how long families waited for a "
              "first visit, and report on the themes they see, from housing and school "
              "attendance to debt, to the partnership board, which also receives the annual "
              "report on trafficking and exploitation from the police.")
# Other guidance, so that "guidance" is a common word and the other two are rare.
OTHER = [
    "This guidance explains how to register with a GP and a dentist.",
    "This guidance covers school transport for learners with additional needs.",
    "This guidance describes how housing officers handle a report of damp.",
    "This guidance sets out how to apply for a blue badge.",
    "This guidance explains the council tax reduction scheme.",
    "This guidance covers how foster carers claim their allowances.",
]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory) -> PassageSearcher:
    tmp = tmp_path_factory.mktemp("ranking-words")
    base = load_settings(REPO / "config.toml")
    settings = dataclasses.replace(
        base, storage=StorageSettings(tmp / "hub.sqlite", tmp / "index"))
    source = base.sources[0].name
    pages = [("focused", "Interpreters", FOCUSED), ("in-passing", "Home visits", IN_PASSING)]
    pages += [(f"other-{n}", f"Other guidance {n}", text) for n, text in enumerate(OTHER)]
    with DocumentStore(settings.storage.store_path) as store:
        for name, heading, text in pages:
            url = f"https://guides.test/{name}"
            doc = ExtractedDocument(title=heading, doc_type="html", language="en",
                                    sections=[Section([heading], text)])
            store.record_fetch(document_fetch(url, doc, source=source))
    build_index(settings)
    return PassageSearcher(settings.storage.index_dir)


def test_a_passage_about_the_rare_words_ranks_above_one_with_every_word_in_passing(searcher):
    page = searcher.search("interpreter trafficking guidance")
    urls = [hit.document_url for hit in page.results]
    assert page.matched == "all"  # one passage has every word
    assert urls.index("https://guides.test/focused") < urls.index("https://guides.test/in-passing")

