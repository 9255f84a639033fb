"""The OpenSearch backend on the real test cluster: its analysis gives Whoosh's terms, each
build is a generation behind the hub's aliases (switched atomically, kept to
backend.keep_generations, incremental builds from a clone), and a bad night leaves the
aliases alone: the quality gate, a refused write, a build killed half way."""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import guide_fetch, record_guides, serve_config

from hubsearch.backends import open_backend
from hubsearch.settings import Settings, StorageSettings, load_settings
from hubsearch.store import DocumentStore
from indexer.analysis import english_analyzer, welsh_analyzer
from indexer.corpus import IndexBuildError
from indexer.opensearch_analysis import passages_body
from indexer.opensearch_client import connect

pytestmark = pytest.mark.opensearch

REPO = Path(__file__).resolve().parent.parent
HUB = "https://hub.example/hub"

TEXTS = [
    "Children's Safe-guarding & Procedures: don't wait. N.R.M. referrals for 2,000 people "
    "rose 1.5 times; co-ordinate with the ﬁrst responder (covid-19 rules).",
    "What is the duty to notify the National Referral Mechanism? Practitioners must report.",
    "Mae'r plant yn cael eu gaethwasiaeth, nghaethwasiaeth a chaethwasiaeth; ei ofal a'i "
    "hardal; fam a famau; blant a mhlant; i'r sy'n gorfod; lywodraeth a Llywodraeth Cymru.",
    "Ŵyr yr heddlu am hawl y plentyn i gael ei glywed? Rhaid i'r awdurdod lleol ymateb.",
]


@pytest.fixture
def hub(demo_crawl, opensearch_settings, tmp_path) -> Settings:
    """A store of this test's own with a hub page and 6 guides, its index on the cluster."""
    settings = load_settings(REPO / "config.toml")
    settings = dataclasses.replace(
        settings, sources=(), storage=StorageSettings(tmp_path / "hub.sqlite",
                                                      tmp_path / "index"))
    record_guides(settings, 6, hub=HUB)
    return opensearch_settings(settings)


def passages_indices(settings: Settings) -> dict[str, dict]:
    """The hub's passages indices on the cluster, by name, with their build's `_meta`."""
    client = connect(settings.backend)
    found = client.indices.get_mapping(index=f"{settings.backend.index_prefix}-passages-*")
    return {name: body["mappings"].get("_meta", {}) for name, body in found.items()}


def served(settings: Settings) -> list[str]:
    client = connect(settings.backend)
    return sorted(client.indices.get_alias(name=f"{settings.backend.index_prefix}-passages"))


def translog_syncs(settings: Settings) -> set[str]:
    """How the served indices sync their writes ("request": on every write)."""
    client = connect(settings.backend)
    found = client.indices.get_settings(index=f"{settings.backend.index_prefix}-*-g*",
                                        name="index.translog.durability", include_defaults=True)
    return {(body["settings"] or body["defaults"])["index"]["translog"]["durability"]
            for name, body in found.items()}


@pytest.mark.parametrize("text", TEXTS)
def test_the_index_analysis_gives_the_terms_of_the_whoosh_analyzers(opensearch_settings,
                                                                    demo_crawl, text):
    settings = opensearch_settings(demo_crawl[0])
    client = connect(settings.backend)
    index = f"{settings.backend.index_prefix}-analysis"
    client.indices.create(index=index, body=passages_body(1, 0, {}))
    for lang, whoosh in (("en", english_analyzer()), ("cy", welsh_analyzer())):
        for mode, analyzer in (("index", f"hub_{lang}"), ("query", f"hub_{lang}_query")):
            tokens = client.indices.analyze(index=index, body={"analyzer": analyzer,
                                                               "text": text})["tokens"]
            # The same terms; a joined hyphenated word may sit at its first part's position
            # rather than its last (docs/scale-out.md lists it).
            assert collections.Counter(t["token"] for t in tokens) == collections.Counter(
                t.text for t in whoosh(text, mode=mode)), (lang, mode)


def test_each_build_is_a_generation_the_aliases_switch_to_and_old_ones_are_pruned(hub):
    backend = open_backend(hub)
    searcher = backend.searcher()
    first = backend.build()
    assert first.mode == "full" and first.documents == 7
    assert served(hub) == [f"{hub.backend.index_prefix}-passages-{first.generation}"]
    assert searcher.search("guide number 3").results[0].document_url.endswith("/docs/3")

    # One guide revised, one gone from the store: only those two are written, into a clone.
    with DocumentStore(hub.storage.store_path) as store:
        store.record_fetch(guide_fetch("https://hub.example/docs/2",
                                       "Guide number 2, revised: escalate to the lead."))
        store.db.execute("DELETE FROM documents WHERE url = ?", ("https://hub.example/docs/5",))
        store.db.commit()
    second = backend.build()
    assert (second.mode, second.changed, second.removed) == (
        "incremental", ["https://hub.example/docs/2"], ["https://hub.example/docs/5"])
    assert second.passages_written == 1 and second.documents == 6
    time.sleep(1.1)  # the searcher reads the alias again after a second
    assert searcher.generation() == second.generation
    assert searcher.counts() == {"indexed_passages": 6, "indexed_documents": 6}
    assert [h.document_url for h in searcher.search("escalate").results] == [
        "https://hub.example/docs/2"]
    assert not searcher.search("guide number 5").results or all(
        not h.document_url.endswith("/docs/5") for h in searcher.search("guide number 5").results)
    # The generation before stays, to go back to (keep_generations = 2).
    assert set(passages_indices(hub)) == {f"{hub.backend.index_prefix}-passages-{g}"
                                          for g in (first.generation, second.generation)}

    third = backend.build(full=True)
    assert third.mode == "full"
    assert set(passages_indices(hub)) == {f"{hub.backend.index_prefix}-passages-{g}"
                                          for g in (second.generation, third.generation)}
    assert backend.build().mode == "unchanged"
    # Written without a sync per request, served with one: a served write survives a crash.
    assert translog_syncs(hub) == {"request"}


def test_the_quality_gate_leaves_the_aliases_on_the_last_good_generation(hub):
    backend = open_backend(hub)
    good = backend.build()
    with DocumentStore(hub.storage.store_path) as store:
        run = store.start_run()
        store.finish_run(run, {"fetched": 2, "failed": 6})
        store.record_fetch(guide_fetch("https://hub.example/docs/1", "Guide number 1, thin."))
    with pytest.raises(IndexBuildError, match="quality gate: 75%.*previous index keeps serving"):
        backend.build()
    assert served(hub) == [f"{hub.backend.index_prefix}-passages-{good.generation}"]
    assert len(passages_indices(hub)) == 1


def test_a_build_the_cluster_refuses_fails_in_one_line_and_leaves_no_index_behind(hub):
    backend = open_backend(hub)
    good = backend.build()
    # An operator's index template the next generation's mappings break: the cluster
    # refuses to create it.
    client = connect(hub.backend)
    name = f"{hub.backend.index_prefix}-break"
    client.indices.put_index_template(name=name, body={
        "index_patterns": [f"{hub.backend.index_prefix}-passages-*"], "priority": 500,
        "template": {"settings": {"index.mapping.total_fields.limit": 1}}})
    try:
        with pytest.raises(IndexBuildError, match="previous index keeps serving") as info:
            backend.build(full=True)
    finally:
        client.indices.delete_index_template(name=name)
    assert "\n" not in str(info.value) and "total fields" in str(info.value)
    assert served(hub) == [f"{hub.backend.index_prefix}-passages-{good.generation}"]
    assert list(passages_indices(hub)) == served(hub)


@pytest.mark.slow
def test_a_build_killed_half_way_leaves_the_aliases_and_the_next_build_removes_it(hub,
                                                                                tmp_path):
    with DocumentStore(hub.storage.store_path) as store:
        for n in range(6, 400):
            store.record_fetch(guide_fetch(f"https://hub.example/docs/{n}",
                                           f"Guide number {n} on the duty to notify. " * 30))
    backend = open_backend(hub)
    good = backend.build()
    config = serve_config(tmp_path, hub)
    config.write_text(config.read_text() + "\n[backend]\n" + "".join(
        f"{key} = {json.dumps(getattr(hub.backend, key))}\n"
        for key in ("kind", "urls", "index_prefix", "shards", "replicas")))
    build = subprocess.Popen(
        [sys.executable, "-m", "hubsearch.cli", "index", "--full", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ},
        start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        # Killed once its new generation exists and passages are being written into it.
        while len(passages_indices(hub)) < 2 and time.monotonic() < deadline:
            assert build.poll() is None, build.stderr.read().decode()
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        os.killpg(build.pid, signal.SIGKILL)
        build.wait()
    unfinished = [name for name, meta in passages_indices(hub).items()
                  if not meta.get("complete")]
    assert len(unfinished) == 1
    assert served(hub) == [f"{hub.backend.index_prefix}-passages-{good.generation}"]
    searcher = backend.searcher()
    assert searcher.generation() == good.generation
    assert searcher.search("guide number 3").results

    after = backend.build(full=True)
    assert unfinished[0] not in passages_indices(hub)
    assert served(hub) == [f"{hub.backend.index_prefix}-passages-{after.generation}"]
