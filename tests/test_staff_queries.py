"""Questions staff actually type, over the crawled demo hub, and the passage that must answer.

Each row: the query, the document it must come from (URL path suffix), the last heading of
the passage, and how high it must rank (1 = first; 3 = in the top three, where two passages
answer about equally well). Plain, acronym, misspelt and Welsh questions are all here.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest
from conftest import LiveServer

from search_server import create_app

TRAFFICKED = "safeguarding-children-trafficked-practice-guidance.pdf"
NOTIFY = "duty-to-notify.html"
REPORT = "duty-to-report.html"
ED = "emergency-department-exploitation-guide.pdf"
HANDBOOK = "modern-slavery-support-workers-handbook.pdf"
SCHOOLS = "keeping-learners-safe.html"
EXPLOITATION = "child-exploitation-practice-guide.html"
CANLLAW = "canllaw-caethwasiaeth-fodern.html"

CASES = [
    # Plain language
    ("national referral mechanism", TRAFFICKED, "The National Referral Mechanism", 1),
    ("what is the duty to notify", NOTIFY, "What the duty to notify means", 1),
    ("adults who do not agree", NOTIFY, "Adults who do not agree", 1),
    ("how do I report a child at risk", REPORT, "Reporting a child at risk", 3),
    ("what happens after a report", REPORT, "What happens next", 1),
    ("signs of trafficking in a child", TRAFFICKED,
     "Recognising a child who may have been trafficked", 1),
    ("patient companion answers every question", ED, "Signs at triage and during assessment", 1),
    ("nurse emergency department", ED, "Why the emergency department matters", 1),
    ("interpreter family member", HANDBOOK, "Working with interpreters", 3),
    ("young person age disputed", TRAFFICKED, "When age is disputed", 1),
    ("reasonable grounds decision", TRAFFICKED,
     "Reasonable grounds and conclusive grounds decisions", 1),
    ("independent child trafficking guardian", TRAFFICKED,
     "Independent Child Trafficking Guardians", 1),
    ("learner missing education abroad", SCHOOLS, "Learners arriving from abroad", 3),
    ("county lines drugs", EXPLOITATION, "Child criminal exploitation and county lines", 1),
    ("teaching about grooming online", SCHOOLS, "Teaching about exploitation", 1),
    ("who must notify police local authorities", NOTIFY, "Specified public authorities", 3),
    ("anonymous notification", NOTIFY, "Keeping the notification anonymous", 1),
    ("re-trafficking risk", HANDBOOK, "Risk of re-trafficking", 1),
    ("bank account debts", HANDBOOK, "Money and identity documents", 1),
    ("discharge planning", ED, "Discharge planning", 1),
    ("data protection sharing information", TRAFFICKED, "Information sharing and records", 3),
    ("GP dentist register", HANDBOOK, "Health", 1),
    # Acronyms (synonyms.toml)
    ("NRM", TRAFFICKED, "The National Referral Mechanism", 1),
    ("who can make an NRM referral", TRAFFICKED, "The National Referral Mechanism", 1),
    ("DtN", NOTIFY, "What the duty to notify means", 1),
    ("A&E exploitation signs", ED, "Signs at triage and during assessment", 1),
    ("CSE online images", EXPLOITATION, "Child sexual exploitation", 1),
    ("DSP concern same day", SCHOOLS, "When a member of staff has a concern", 1),
    # Misspelt
    ("traffiking guardian", TRAFFICKED, "Independent Child Trafficking Guardians", 1),
    ("notifcation anonymous", NOTIFY, "Keeping the notification anonymous", 1),
    ("strategy discusion police", EXPLOITATION, "Strategy discussions", 1),
    ("caethwasieth fodern", CANLLAW, "Beth yw caethwasiaeth fodern?", 3),
    # A misspelling whose stem is indexed ("referal" stems to "refer") is corrected too.
    ("nationl referal mechanism", TRAFFICKED, "The National Referral Mechanism", 1),
    ("exploitaion county lines", EXPLOITATION, "Child criminal exploitation and county lines", 1),
    ("arwyddion corforol", CANLLAW, "Arwyddion corfforol ac ymddygiadol", 1),
    # Welsh
    ("beth yw caethwasiaeth fodern", CANLLAW, "Beth yw caethwasiaeth fodern?", 1),
    ("arwyddion corfforol", CANLLAW, "Arwyddion corfforol ac ymddygiadol", 1),
    ("beth i'w wneud os ydych yn pryderu", CANLLAW, "Beth i'w wneud os ydych yn pryderu", 1),
    ("Mecanwaith Atgyfeirio Cenedlaethol", CANLLAW, "Beth i'w wneud os ydych yn pryderu", 3),
    ("arweinydd diogelu", "supporting-clients-slavery/", "Os ydych yn poeni am rywun", 1),
    # Found through the trafficking / masnachu pobl pair too, but in Welsh first.
    ("masnachu pobl", CANLLAW, "Beth yw caethwasiaeth fodern?", 1),
]


@pytest.fixture(scope="module")
def server(demo_backend):
    """The search server over the demo crawl, on each backend in turn."""
    with LiveServer(create_app(demo_backend)) as live:
        yield live


def search(server, **params) -> dict:
    url = f"{server.url}/api/search?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_the_table_has_enough_questions_of_each_kind():
    assert len(CASES) >= 25
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("query", "document", "heading", "within"), CASES,
                         ids=[c[0] for c in CASES])
def test_staff_question_finds_its_passage(server, query, document, heading, within):
    data = search(server, q=query, limit=10)
    found = [
        (urllib.parse.urlsplit(h["document_url"]).path, h["heading_path"][-1])
        for h in data["results"]
    ]
    rank = next(
        (n for n, (path, last) in enumerate(found, 1)
         if path.endswith(document) and last == heading),
        None,
    )
    assert rank is not None and rank <= within, (
        f"{query!r}: expected {heading!r} in {document} within the top {within}, got {found[:5]}"
    )


def test_a_hubs_list_of_links_ranks_below_prose_with_the_same_words(server):
    # The hub page lists "The duty to notify: guidance for public authorities" among its
    # documents: the list has every word and says nothing about the duty. Prose about it
    # comes first, even prose with only some of the words.
    data = search(server, q="duty to notify", limit=20)
    headings = [h["heading_path"][-1] for h in data["results"]]
    listing = headings.index("Guidance documents")
    assert headings[0] == "What the duty to notify means"
    assert listing > headings.index("Who has the duty")
    assert listing > headings.index("How to report")
