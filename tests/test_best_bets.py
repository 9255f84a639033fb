"""Best bets: maintainers pin the answer to a common question in best_bets.toml, beside
synonyms.toml; it is shown first and marked as recommended, in English and Welsh, and never
points at a document the index does not hold."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hubsearch.backends import open_backend
from hubsearch.settings import ConfigError, SearchSettings, load_settings
from indexer.best_bets import BestBetsError, BestBetsFile, load_best_bets
from search_server import create_app

ROOT = Path(__file__).resolve().parent.parent
NOTIFY = "/external/home-office/duty-to-notify.html"
WELSH = "/external/gov-wales/canllaw-caethwasiaeth-fodern.html"


def bets_file(folder: Path, demo_url: str, extra: str = "") -> Path:
    path = folder / "best_bets.toml"
    path.write_text(f'''
[[bet]]
queries = ["who must notify", "Duty to notify?"]
url = "{demo_url}{NOTIFY}"
heading = "Who must notify"

[[bet]]
queries = ["beth i wneud"]
url = "{demo_url}{WELSH}"
heading = "Beth i'w wneud os ydych yn pryderu"
{extra}''')
    return path


def with_bets(settings, path: Path):
    """`settings` with `path` as its best bets file."""
    return dataclasses.replace(settings, search=SearchSettings(
        synonyms_path=settings.search.synonyms_path, best_bets_path=path))


def bets_searcher(settings, path: Path):
    """A searcher of the backend `settings` name, pinning the bets in `path`."""
    return open_backend(with_bets(settings, path)).searcher()


@pytest.fixture
def pinned(demo_backend, demo_site, tmp_path):
    path = bets_file(tmp_path, demo_site.base_url)
    return bets_searcher(demo_backend, path), path


def test_a_pinned_passage_comes_first_marked_and_not_repeated(pinned, demo_site):
    searcher, _ = pinned
    page = searcher.search("duty to notify")
    assert [(h.document_url, h.recommended) for h in page.best_bets] == [
        (f"{demo_site.base_url}{NOTIFY}", True)]
    # The first passage of the section (here its first subsection, which holds its text).
    assert "Who must notify" in page.best_bets[0].heading_path
    assert page.best_bets[0].deep_link not in {h.deep_link for h in page.results}
    assert page.results and not any(h.recommended for h in page.results)
    assert page.to_dict()["best_bets"][0]["recommended"] is True


def test_case_and_punctuation_do_not_matter_but_other_words_do(pinned):
    searcher, _ = pinned
    assert searcher.search("WHO MUST NOTIFY").best_bets
    assert not searcher.search("who must notify police").best_bets
    assert not searcher.search("notify").best_bets


def test_a_welsh_question_pins_a_welsh_passage(pinned):
    searcher, _ = pinned
    page = searcher.search("Beth i wneud")
    assert [(h.language, h.heading_path[-1]) for h in page.best_bets] == [
        ("cy", "Beth i'w wneud os ydych yn pryderu")]


def test_only_the_first_page_shows_the_pin(pinned):
    searcher, _ = pinned
    assert not searcher.search("duty to notify", offset=10).best_bets


def test_a_bet_on_a_document_the_index_does_not_hold_is_skipped(demo_backend, demo_site,
                                                              tmp_path):
    settings = demo_backend
    path = bets_file(tmp_path, demo_site.base_url, f'''
[[bet]]
queries = ["duty to notify"]
url = "{demo_site.base_url}/external/removed-from-the-hub.html"
''')
    page = bets_searcher(settings, path).search("duty to notify")
    assert [h.document_url for h in page.best_bets] == [f"{demo_site.base_url}{NOTIFY}"]


def test_filters_that_leave_the_pinned_document_out_leave_out_its_pin(pinned):
    searcher, _ = pinned
    assert not searcher.search("duty to notify", filters={"language": ["cy"]}).best_bets
    assert searcher.search("duty to notify", filters={"language": ["en"]}).best_bets


def test_a_missing_heading_falls_back_to_the_documents_first_passage(demo_backend, demo_site,
                                                                     tmp_path):
    settings = demo_backend
    path = tmp_path / "best_bets.toml"
    path.write_text(f'[[bet]]\nqueries = ["notify"]\nurl = "{demo_site.base_url}{NOTIFY}"\n'
                    'heading = "A heading a revision removed"\n')
    searcher = bets_searcher(settings, path)
    hit, = searcher.search("notify").best_bets
    first = searcher.document(hit.document_id)["passages"][0]
    assert (hit.heading_path, hit.deep_link) == (first["heading_path"], first["deep_link"])


def test_an_edit_takes_effect_and_a_broken_edit_keeps_the_last_good(pinned):
    searcher, path = pinned
    text = path.read_text()
    path.write_text(text.replace('"who must notify", ', '"who notifies", '))
    os.utime(path, ns=(1, 2_000_000_000_000_000_000))
    assert searcher.search("who notifies").best_bets
    path.write_text("[[bet]]\nqueries = [\n")
    os.utime(path, ns=(1, 3_000_000_000_000_000_000))
    assert searcher.search("who notifies").best_bets


def test_the_page_shows_the_pin_first_with_its_label_in_both_languages(demo_backend,
                                                                       demo_site, tmp_path):
    path = bets_file(tmp_path, demo_site.base_url)
    client = TestClient(create_app(with_bets(demo_backend, path)))
    html = client.get("/", params={"q": "duty to notify"}).text
    recommended = html.index('class="result recommended"')
    assert recommended < html.index('class="results" start="1"')
    assert re.search(r'class="badge"[^>]*>Recommended<', html)
    welsh = client.get("/", params={"q": "duty to notify", "ui": "cy"}).text
    assert re.search(r'class="badge"[^>]*>Argymhellir<', welsh)
    api = client.get("/api/search", params={"q": "duty to notify"}).json()
    assert "Who must notify" in api["best_bets"][0]["heading_path"]


@pytest.mark.parametrize("text, message", [
    ('[[bet]]\nqueries = ["x"]\nurl = "javascript:alert(1)"\n', "url must be the http(s)"),
    ('[[bet]]\nqueries = ["x"]\nurl = "https://a.example/ b"\n', "url must be the http(s)"),
    ('[[bet]]\nqueries = []\nurl = "https://a.example/"\n', "queries must list"),
    ('[[bet]]\nqueries = ["!!!"]\nurl = "https://a.example/"\n', "queries must list"),
    ('[[bet]]\nqueries = ["x"]\nurl = "https://a.example/"\ntitle = "y"\n', "unknown key title"),
    ('[[bet]]\nqueries = ["x"]\nurl = "https://a.example/"\nheading = ""\n', "heading must be"),
    ('bet = "x"\n', "bet must be a list of tables"),
    ("[[bet]]\nqueries = [\n", "not valid TOML"),
])
def test_a_broken_file_is_refused_with_one_line_naming_the_bet(tmp_path, text, message):
    path = tmp_path / "best_bets.toml"
    path.write_text(text)
    with pytest.raises(BestBetsError, match=re.escape(message)) as caught:
        load_best_bets(path)
    assert "\n" not in str(caught.value)


def test_a_file_of_a_hundred_thousand_bets_is_refused_not_loaded(tmp_path):
    path = tmp_path / "best_bets.toml"
    path.write_text('[[bet]]\nqueries = ["x"]\nurl = "https://a.example/"\n' * 100_000)
    with pytest.raises(BestBetsError, match="at most 2000"):
        load_best_bets(path)


def test_a_query_list_past_the_limit_is_refused(tmp_path):
    path = tmp_path / "best_bets.toml"
    queries = ", ".join(f'"question {n}"' for n in range(51))
    path.write_text(f'[[bet]]\nqueries = [{queries}]\nurl = "https://a.example/"\n')
    with pytest.raises(BestBetsError, match="1 to 50 queries"):
        load_best_bets(path)


def test_no_file_means_no_pins(tmp_path):
    assert BestBetsFile(tmp_path / "none.toml").get().table == {}
    assert BestBetsFile(None).get().for_query("duty to notify") == []


def test_settings_name_the_file_beside_the_config_and_refuse_a_missing_one(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[[sources]]\nname = "hub"\nurl = "https://hub.example/"\n')
    assert load_settings(config).search.best_bets_path == tmp_path / "best_bets.toml"
    config.write_text('[search]\nbest_bets_path = "pins.toml"\n'
                      '[[sources]]\nname = "hub"\nurl = "https://hub.example/"\n')
    with pytest.raises(ConfigError, match=r"search.best_bets_path.*line 2"):
        load_settings(config)


def test_the_cli_prints_the_pin_first(demo_index, demo_site, tmp_path):
    settings, _ = demo_index
    bets_file(tmp_path, demo_site.base_url)
    config = tmp_path / "config.toml"
    config.write_text("[crawl]\nallow_private_networks = true\n"
                      f'[storage]\nindex_dir = "{settings.storage.index_dir}"\n'
                      f'store_path = "{settings.storage.store_path}"\n'
                      f'[[sources]]\nname = "hub"\nurl = "{demo_site.base_url}/"\n')
    out = subprocess.run([sys.executable, "-m", "hubsearch.cli", "search", "duty to notify",
                          "--config", str(config)], capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[1].startswith("recommended: The duty to notify") and "Who must notify" in lines[1]
