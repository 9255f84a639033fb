"""The real OpenSearch test cluster (tools/opensearch_cluster): 2 nodes on loopback hold each
shard's primary and replica apart, run analysis-common's filters, answer alike, clean up after a
test, and keep answering from the replicas when a node dies mid-search."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import DEMO_CONFIG
from opensearchkit import delete_prefix

from hubsearch.settings import INDEX_PREFIX, load_settings
from opensearch_cluster import OpenSearchCluster, http_json, unavailable_reason

INDEX_BODY = {
    "settings": {
        "number_of_shards": 2,
        "number_of_replicas": 1,
        "analysis": {
            "char_filter": {
                "ampersand": {"type": "mapping", "mappings": ["& => and"]},
                # split hyphenated words, so "Safe-guarding" is "safe" and "guarding"
                "hyphens": {
                    "type": "pattern_replace",
                    "pattern": "(\\w)-(\\w)",
                    "replacement": "$1 $2",
                },
            },
            "filter": {
                "possessive": {"type": "stemmer", "language": "possessive_english"},
                "english_porter": {"type": "stemmer", "language": "english"},
            },
            "analyzer": {
                "hub_english": {
                    "type": "custom",
                    "char_filter": ["ampersand", "hyphens"],
                    "tokenizer": "standard",
                    "filter": ["lowercase", "possessive", "asciifolding", "english_porter"],
                },
                "porter_only": {
                    "type": "custom",
                    "tokenizer": "standard",
                    "filter": ["lowercase", "porter_stem"],
                },
            },
        },
    },
    "mappings": {
        "properties": {
            "title": {"type": "text", "analyzer": "hub_english"},
            "body": {"type": "text", "analyzer": "hub_english"},
            "lang": {"type": "keyword"},
        }
    },
}

PASSAGES = {
    "1": ("Child protection procedures",
          "Practitioners must follow the safeguarding procedures when a child is at risk."),
    "2": ("Adults at risk",
          "Safe-guarding adults & children: reporting a concern to the local authority."),
    "3": ("Information sharing",
          "Sharing information early protects children; the Data Protection Act is no barrier."),
    "4": ("Case reviews",
          "Child practice reviews look at what agencies learned after serious harm."),
    "5": ("Gweithdrefnau amddiffyn plant",
          "Rhaid dilyn y gweithdrefnau diogelu pan fo plentyn mewn perygl."),
    "6": ("Domestic abuse", "A child's exposure to domestic abuse is a safeguarding concern."),
    "7": ("Missing children", "Procedures for children who go missing from home or care."),
    "8": ("Training", "Multi-agency training in protecting children and guarding their welfare."),
}


def make_index(url: str, index: str) -> None:
    """`index` with 2 shards, 1 replica and the passages, refreshed."""
    code, body = http_json(f"{url}/{index}", "PUT", INDEX_BODY)
    assert code == 200, body
    bulk: list[dict] = []
    for doc_id, (title, text) in PASSAGES.items():
        bulk += [{"index": {"_index": index, "_id": doc_id}},
                 {"title": title, "body": text, "lang": "cy" if doc_id == "5" else "en"}]
    code, body = http_json(f"{url}/_bulk?refresh=true", "POST", bulk)
    assert code == 200 and not body["errors"], body
    code, body = http_json(
        f"{url}/_cluster/health/{index}?wait_for_status=green&timeout=60s", timeout=70)
    assert code == 200 and body["status"] == "green", body


def search(url: str, index: str, text: str, timeout: float = 10.0) -> tuple[int, dict]:
    return http_json(
        f"{url}/{index}/_search",
        "POST",
        {"query": {"multi_match": {"query": text, "fields": ["title^2", "body"]}}, "size": 20},
        timeout=timeout,
    )


def ids(body: dict) -> set[str]:
    return {hit["_id"] for hit in body["hits"]["hits"]}


def shard_copies(url: str, index: str) -> list[dict]:
    code, shards = http_json(f"{url}/_cat/shards/{index}?format=json")
    assert code == 200, shards
    return shards


def test_an_index_of_two_shards_and_one_replica_keeps_each_shards_copies_on_both_nodes(
        opensearch_cluster, opensearch_prefix):
    index = f"{opensearch_prefix}-passages"
    make_index(opensearch_cluster.urls[0], index)

    shards = shard_copies(opensearch_cluster.urls[1], index)
    assert len(shards) == 4 and all(s["state"] == "STARTED" for s in shards), shards
    for shard in ("0", "1"):
        copies = [s for s in shards if s["shard"] == shard]
        assert sorted(s["prirep"] for s in copies) == ["p", "r"], copies
        assert {s["node"] for s in copies} == {"node-0", "node-1"}, copies


def test_analysis_common_splits_hyphens_maps_ampersands_drops_possessives_and_stems(
        opensearch_cluster, opensearch_prefix):
    index = f"{opensearch_prefix}-analysis"
    url0, url1 = opensearch_cluster.urls
    code, body = http_json(f"{url0}/{index}", "PUT", INDEX_BODY)
    assert code == 200, body

    code, body = http_json(f"{url1}/{index}/_analyze", "POST", {
        "analyzer": "hub_english", "text": "Children's Safe-guarding & Procedures"})
    assert code == 200, body
    assert [t["token"] for t in body["tokens"]] == ["children", "safe", "guard", "and", "procedur"]
    code, body = http_json(f"{url0}/{index}/_analyze", "POST", {
        "analyzer": "porter_only", "text": "protecting reviews"})
    assert code == 200, body
    assert [t["token"] for t in body["tokens"]] == ["protect", "review"]


def test_either_node_finds_the_same_passages_by_stem_hyphen_split_and_possessive(
        opensearch_cluster, opensearch_prefix):
    index = f"{opensearch_prefix}-passages"
    make_index(opensearch_cluster.urls[1], index)

    for url in opensearch_cluster.urls:
        code, body = search(url, index, "safeguarding procedures")
        assert code == 200, body
        assert body["_shards"] == {"total": 2, "successful": 2, "skipped": 0, "failed": 0}
        # "Safe-guarding" (2) is split in two, so it is not the word "safeguarding"
        assert ids(body) == {"1", "6", "7"}
        assert ids(search(url, index, "guarded")[1]) == {"2", "8"}
        assert ids(search(url, index, "protect")[1]) == {"1", "3", "8"}
        assert ids(search(url, index, "child's")[1]) == {"1", "4", "6"}


def test_a_tests_prefix_clean_up_deletes_its_indices_and_aliases_and_nothing_else(
        opensearch_cluster, opensearch_settings):
    settings = opensearch_settings(load_settings(DEMO_CONFIG))
    backend = settings.backend
    assert backend.kind == "opensearch" and list(backend.urls) == opensearch_cluster.urls
    assert (backend.shards, backend.replicas) == (2, 1)
    assert INDEX_PREFIX.fullmatch(backend.index_prefix)
    url = backend.urls[0]
    mine, other = f"{backend.index_prefix}-a", f"{backend.index_prefix}-ab"
    for index in (f"{mine}-passages-1", f"{other}-passages-1"):
        code, body = http_json(f"{url}/{index}", "PUT",
                               {"settings": {"number_of_shards": 1, "number_of_replicas": 0}})
        assert code == 200, body
    code, body = http_json(f"{url}/_aliases", "POST", {"actions": [
        {"add": {"index": f"{mine}-passages-1", "alias": f"{mine}-passages"}},
        {"add": {"index": f"{other}-passages-1", "alias": f"{mine}-elsewhere"}},
    ]})
    assert code == 200, body

    delete_prefix(url, mine)

    code, left = http_json(f"{url}/_cat/indices/{backend.index_prefix}-*?format=json&h=index")
    assert code == 200 and [i["index"] for i in left] == [f"{other}-passages-1"], left
    code, aliases = http_json(f"{url}/_cat/aliases?format=json")
    assert code == 200 and not [a for a in aliases if a["alias"].startswith(f"{mine}-")], aliases


@pytest.mark.slow
def test_a_node_killed_mid_search_leaves_the_survivor_answering_from_the_replicas(tmp_path):
    # A cluster of its own: the session cluster is shared, so no test may kill its nodes.
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    index = "hub-passages"
    with OpenSearchCluster(nodes=2, workdir=tmp_path / "cluster",
                           cluster_name="hubsearch-failover") as cluster:
        url0 = cluster.urls[0]
        # Each node holds one primary, so killing either promotes a replica.
        code, body = http_json(f"{url0}/_cluster/settings", "PUT", {
            "persistent": {"cluster.routing.allocation.balance.prefer_primary": True}})
        assert code == 200, body
        make_index(url0, index)
        shards = shard_copies(url0, index)
        # With two cluster-manager-eligible nodes the voting configuration holds one (it is
        # kept odd): kill the other, so the survivor stays a cluster and promotes replicas.
        code, managers = http_json(f"{url0}/_cat/cluster_manager?format=json")
        assert code == 200, managers
        victim = 1 if managers[0]["node"] == "node-0" else 0
        victim_name, survivor_name = f"node-{victim}", f"node-{1 - victim}"
        survivor = cluster.urls[1 - victim]
        code, before = search(survivor, index, "child children")
        assert code == 200 and before["_shards"]["failed"] == 0, before

        answers: list[tuple[float, int, object]] = []
        stop = threading.Event()

        def keep_searching() -> None:
            while not stop.is_set():
                try:
                    code, body = search(survivor, index, "child children", timeout=30)
                except OSError as e:
                    code, body = -1, repr(e)
                answers.append((time.monotonic(), code, body))
                time.sleep(0.05)

        searcher = threading.Thread(target=keep_searching, daemon=True)
        searcher.start()
        time.sleep(1.0)
        killed_at = time.monotonic()
        cluster.stop_node(victim)  # SIGKILL: a crash, not a clean leave
        health = cluster.wait_for(status="yellow", nodes=1, timeout=90)
        time.sleep(1.0)
        stop.set()
        searcher.join(timeout=60)

        assert not cluster.is_running(victim)
        assert health["number_of_nodes"] == 1
        after_kill = [a for a in answers if a[0] >= killed_at]
        assert after_kill, "no search ran after the node was killed"
        assert [a for a in after_kill if a[1] != 200] == []
        assert [a for a in after_kill if not a[2]["_shards"]["failed"]
                and ids(a[2]) == ids(before)], "no complete answer after the kill"

        code, body = search(survivor, index, "child children")
        assert code == 200 and body["_shards"]["successful"] == 2, body
        assert ids(body) == ids(before)
        promoted = [s["shard"] for s in shards if s["prirep"] == "p" and s["node"] == victim_name]
        assert promoted, f"{victim_name} held no primary, so nothing was promoted: {shards}"
        primaries = [s for s in shard_copies(survivor, index) if s["prirep"] == "p"]
        assert [(s["node"], s["state"]) for s in primaries] == [(survivor_name, "STARTED")] * 2
