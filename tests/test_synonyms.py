"""synonyms.toml: acronyms and equivalents applied at query time, below the typed words."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hubsearch.settings import load_settings
from indexer.search import DEFAULT_SYNONYMS, PassageSearcher
from indexer.synonyms import Synonyms, SynonymsError, SynonymsFile, load_synonyms
from search_server import create_app

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def client(demo_backend):
    return TestClient(create_app(demo_backend))


def test_the_repo_file_loads_and_has_the_required_pairs():
    synonyms = load_synonyms(REPO / "synonyms.toml")
    assert DEFAULT_SYNONYMS == REPO / "synonyms.toml"
    assert 0 < synonyms.weight < 1
    pairs = [
        ("nrm", "national referral mechanism"), ("cse", "child sexual exploitation"),
        ("msht", "modern slavery and human trafficking"), ("dtn", "duty to notify"),
        ("vawdasv", "violence against women domestic abuse and sexual violence"),
        ("fgm", "female genital mutilation"), ("county lines", "criminal exploitation"),
        ("a&e", "emergency department"), ("modern slavery", "caethwasiaeth fodern"),
        ("trafficking", "masnachu pobl"),
    ]
    for short, long in pairs:
        assert tuple(long.split()) in synonyms.table[tuple(short.split())]
        assert tuple(short.split()) in synonyms.table[tuple(long.split())]


def test_runs_of_words_are_matched_longest_first_without_overlap():
    synonyms = Synonyms.from_groups([["NRM", "National Referral Mechanism"],
                                     ["referral", "atgyfeirio"]])
    found = synonyms.expansions(["the", "national", "referral", "mechanism", "referral"])
    assert [(e.start, e.end) for e in found] == [(1, 4), (4, 5)]
    assert found[0].alternatives == (("nrm",),)
    assert synonyms.knows("nrm") and not synonyms.knows("national")


@pytest.mark.parametrize(("text", "message"), [
    ("weight = 2\n", "weight"),
    ("groups = [[\"only one\"]]\n", "groups[0]"),
    ("groups = \"NRM\"\n", "groups"),
    ("wieght = 0.5\n", "unknown key"),
    ("groups = [[\"a\", \n", "not valid TOML"),
])
def test_a_broken_file_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "synonyms.toml"
    path.write_text(text)
    with pytest.raises(SynonymsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_synonyms(path)


def test_the_file_is_reread_on_change_and_a_bad_edit_keeps_the_last_good(tmp_path):
    path = tmp_path / "synonyms.toml"
    path.write_text('groups = [["NRM", "national referral mechanism"]]\n')
    live = SynonymsFile(path)
    assert live.get().knows("nrm")
    path.write_text('groups = [["DtN", "duty to notify"]]\n')
    os.utime(path, ns=(1, 2_000_000_000_000_000_000))
    assert live.get().knows("dtn") and not live.get().knows("nrm")
    path.write_text("groups = [[\n")
    os.utime(path, ns=(1, 3_000_000_000_000_000_000))
    assert live.get().knows("dtn")


def test_a_missing_file_means_no_synonyms(tmp_path):
    assert SynonymsFile(tmp_path / "nothing.toml").get().table == {}
    assert SynonymsFile(None).get().table == {}


def test_settings_resolve_the_path_next_to_the_config(tmp_path):
    config = tmp_path / "config.toml"
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "syn.toml").write_text("groups = []\n")
    config.write_text('[search]\nsynonyms_path = "etc/syn.toml"\n')
    assert load_settings(config).search.synonyms_path == tmp_path.resolve() / "etc" / "syn.toml"
    config.write_text('[search]\nsynonyms_path = ""\n')
    assert load_settings(config).search.synonyms_path is None
    assert load_settings(REPO / "config.toml").search.synonyms_path == REPO / "synonyms.toml"


@pytest.mark.parametrize(("acronym", "heading"), [
    ("NRM", "The National Referral Mechanism"),
    ("DtN", "What the duty to notify means"),
    ("CSE", "Child sexual exploitation"),
])
def test_an_acronym_finds_the_passage_that_spells_it_out(client, acronym, heading):
    data = client.get("/api/search", params={"q": acronym}).json()
    assert data["results"][0]["heading_path"][-1] == heading


def test_an_equivalent_scores_below_the_words_typed(client):
    data = client.get("/api/search", params={"q": "national referral mechanism",
                                             "limit": 20}).json()
    top = data["results"][0]
    assert top["heading_path"][-1] == "The National Referral Mechanism"
    # "NRM referral" only: found through the synonym, ranked below the spelled-out passage.
    nrm_only = [h for h in data["results"]
                if h["heading_path"][-1] == "Adults who agree to a referral"]
    assert nrm_only and nrm_only[0]["score"] < top["score"]


def test_without_a_synonyms_file_an_unknown_acronym_finds_nothing(demo_index):
    settings, _ = demo_index
    plain = PassageSearcher(settings.storage.index_dir, synonyms_path=None)
    assert plain.search("DtN").total == 0
    with_file = PassageSearcher(settings.storage.index_dir)
    assert with_file.search("DtN").total > 0


def test_a_server_uses_the_configured_file(demo_index, tmp_path):
    settings, _ = demo_index
    path = tmp_path / "syn.toml"
    path.write_text('groups = [["zzsecret", "designated safeguarding person"]]\n')
    custom = dataclasses.replace(settings, search=dataclasses.replace(
        settings.search, synonyms_path=path))
    data = TestClient(create_app(custom)).get("/api/search", params={"q": "zzsecret"}).json()
    assert data["results"][0]["heading_path"][-1] == "The designated safeguarding person"


def test_results_say_in_plain_words_which_equivalents_were_searched(client):
    data = client.get("/api/search", params={"q": "NRM"}).json()
    assert "National Referral Mechanism" in data["also_searched"]
    assert "Mecanwaith Atgyfeirio Cenedlaethol" in data["also_searched"]
    html = client.get("/", params={"q": "NRM"}).text
    assert re.search(r"Also searched:[^<]*National Referral Mechanism", html)
    welsh = client.get("/", params={"q": "NRM", "ui": "cy"}).text
    assert "Wedi chwilio hefyd am:" in welsh
    # Nothing to say when no equivalent was used.
    assert client.get("/api/search", params={"q": "notify"}).json()["also_searched"] == []
