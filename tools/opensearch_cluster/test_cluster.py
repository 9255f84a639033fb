"""A real 2-node OpenSearch cluster on loopback: sharding, replication, analysis-common, failover.

Not part of `make test` yet (see README.md). Run:
    PYTHONPATH=$PWD /work/main/.venv/bin/python -m pytest tools/opensearch_cluster -q
"""

from __future__ import annotations

import threading
import time

from cluster import OpenSearchCluster, http_json

INDEX = "hub-passages"

SETTINGS = {
    "settings": {
        "number_of_shards": 2,
        "number_of_replicas": 1,
        "analysis": {
            "char_filter": {
                # analysis-common's `mapping` char filter
                "ampersand": {"type": "mapping", "mappings": ["& => and"]},
                # analysis-common's `pattern_replace` char filter: split hyphenated words
                "hyphens": {
                    "type": "pattern_replace",
                    "pattern": "(\\w)-(\\w)",
                    "replacement": "$1 $2",
                },
            },
            "filter": {
                # analysis-common's `stemmer` filter, twice: possessives, then Porter
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
                # analysis-common's own `porter_stem` filter, as a second proof it loaded
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

DOCS = [
    (
        "1",
        "Child protection procedures",
        "Practitioners must follow the safeguarding procedures when a child is at risk.",
        "en",
    ),
    (
        "2",
        "Adults at risk",
        "Safe-guarding adults & children: reporting a concern to the local authority.",
        "en",
    ),
    (
        "3",
        "Information sharing",
        "Sharing information early protects children; the Data Protection Act is not a barrier.",
        "en",
    ),
    (
        "4",
        "Case reviews",
        "Child practice reviews look at what agencies learned after serious harm.",
        "en",
    ),
    (
        "5",
        "Gweithdrefnau amddiffyn plant",
        "Rhaid dilyn y gweithdrefnau diogelu pan fo plentyn mewn perygl.",
        "cy",
    ),
    (
        "6",
        "Domestic abuse",
        "A child's exposure to domestic abuse is a safeguarding concern.",
        "en",
    ),
    ("7", "Missing children", "Procedures for children who go missing from home or care.", "en"),
    (
        "8",
        "Training",
        "Multi-agency training in protecting children and guarding their welfare.",
        "en",
    ),
]

TIMES: dict[str, float | str] = {}


def report(capsys, *lines: str) -> None:
    with capsys.disabled():
        print()
        for line in lines:
            print(f"  [opensearch_cluster] {line}")


def search(url: str, text: str, timeout: float = 10.0):
    return http_json(
        f"{url}/{INDEX}/_search",
        "POST",
        {"query": {"multi_match": {"query": text, "fields": ["title^2", "body"]}}, "size": 20},
        timeout=timeout,
    )


def ids(body: dict) -> set[str]:
    return {h["_id"] for h in body["hits"]["hits"]}


def test_two_nodes_shards_replicas_analysis_and_failover(tmp_path, capsys):
    t0 = time.monotonic()
    with OpenSearchCluster(nodes=2, workdir=tmp_path / "cluster") as cluster:
        first_total = time.monotonic() - t0
        TIMES["first"] = first_total
        report(
            capsys,
            f"first start: {first_total:.1f}s in all (Maven build {cluster.build_info['mode']} "
            f"{cluster.build_info['seconds']:.1f}s, "
            f"nodes launched -> green {cluster.start_seconds:.1f}s)",
        )
        url0, url1 = cluster.urls

        # -- an index with 2 shards, 1 replica and analysis-common's filters ----------------------
        # Spread the primaries too (not just the shard counts), so each node holds one primary and
        # killing either one promotes a replica.
        code, body = http_json(
            f"{url0}/_cluster/settings",
            "PUT",
            {"persistent": {"cluster.routing.allocation.balance.prefer_primary": True}},
        )
        assert code == 200, body
        code, body = http_json(f"{url0}/{INDEX}", "PUT", SETTINGS)
        assert code == 200, body
        code, body = http_json(
            f"{url1}/{INDEX}/_analyze",
            "POST",
            {"analyzer": "hub_english", "text": "Children's Safe-guarding & Procedures"},
        )
        assert code == 200, body
        tokens = [t["token"] for t in body["tokens"]]
        assert tokens == ["children", "safe", "guard", "and", "procedur"], tokens
        code, body = http_json(
            f"{url0}/{INDEX}/_analyze",
            "POST",
            {"analyzer": "porter_only", "text": "protecting reviews"},
        )
        assert [t["token"] for t in body["tokens"]] == ["protect", "review"], body

        bulk = []
        for doc_id, title, text, lang in DOCS:
            bulk += [
                {"index": {"_index": INDEX, "_id": doc_id}},
                {"title": title, "body": text, "lang": lang},
            ]
        code, body = http_json(f"{url1}/_bulk?refresh=true", "POST", bulk)
        assert code == 200 and not body["errors"], body
        cluster.wait_for(status="green", nodes=2, timeout=60)

        code, shards = http_json(f"{url0}/_cat/shards/{INDEX}?format=json")
        assert code == 200, shards
        assert len(shards) == 4 and all(s["state"] == "STARTED" for s in shards), shards
        for shard_no in ("0", "1"):  # each shard's primary and replica live on different nodes
            copies = [s for s in shards if s["shard"] == shard_no]
            assert {s["prirep"] for s in copies} == {"p", "r"}
            assert len({s["node"] for s in copies}) == 2, copies
        counts = {s["node"]: 0 for s in shards}
        for s in shards:
            counts[s["node"]] += 1

        # -- search, on both nodes: stems, the hyphen split and the possessive all match ---------
        # "safeguarding procedures" -> safeguard, procedur. Doc 2's "Safe-guarding" is split by the
        # pattern_replace char filter into "safe guard", so it does not match "safeguard".
        expected = {"1", "6", "7"}
        for url in cluster.urls:
            code, body = search(url, "safeguarding procedures")
            assert code == 200, body
            assert body["_shards"] == {"total": 2, "successful": 2, "skipped": 0, "failed": 0}
            assert ids(body) == expected, ids(body)
        code, body = search(url0, "guarded")  # "guarding" in doc 8, "Safe-guarding" split in doc 2
        assert ids(body) == {"2", "8"}, ids(body)
        code, body = search(url0, "protect")  # protection, protects, protecting
        assert ids(body) == {"1", "3", "8"}, ids(body)
        all_ids = {"1", "2", "3", "4", "6", "7", "8"}
        code, before = search(url0, "child children")
        before_ids = ids(before)

        # -- stop one node mid-search: the survivor answers from its copies ---------------------
        # With two cluster-manager-eligible nodes the voting configuration holds only one of them
        # (it must be odd), so we stop the node that is NOT the elected cluster-manager. Losing the
        # elected one needs a 3rd eligible node to re-elect (see README).
        code, mgr = http_json(f"{url0}/_cat/cluster_manager?format=json")
        manager = mgr[0]["node"]
        victim = 1 if manager == "node-0" else 0
        survivor_url = cluster.urls[1 - victim]

        results: list[tuple[float, int, object]] = []
        stop = threading.Event()

        def hammer():
            while not stop.is_set():
                try:
                    code, body = search(survivor_url, "child children", timeout=30)
                    results.append((time.monotonic(), code, body))
                except OSError as e:
                    results.append((time.monotonic(), -1, repr(e)))
                time.sleep(0.05)

        worker = threading.Thread(target=hammer, daemon=True)
        worker.start()
        time.sleep(1.0)
        t_kill = time.monotonic()
        cluster.stop_node(victim)  # SIGKILL: a crash, not a clean leave
        health = cluster.wait_for(status="yellow", nodes=1, timeout=90)
        t_yellow = time.monotonic() - t_kill
        time.sleep(1.0)
        stop.set()
        worker.join(timeout=60)

        assert not cluster.is_running(victim)
        assert health["number_of_nodes"] == 1 and health["status"] in ("yellow", "green"), health
        during = [r for r in results if r[0] >= t_kill]
        assert during, "no search ran after the node was stopped"
        non_200 = [r for r in during if r[1] != 200]
        partial = [r for r in during if r[1] == 200 and r[2]["_shards"]["failed"]]
        complete = [
            r
            for r in during
            if r[1] == 200 and not r[2]["_shards"]["failed"] and ids(r[2]) == before_ids
        ]
        assert not non_200, non_200[:3]  # every search answered
        assert complete, "no complete answer from the survivor after the kill"

        # After the cluster is yellow again, every shard is answered from the surviving copies.
        code, body = search(survivor_url, "child children")
        assert (
            code == 200 and body["_shards"]["failed"] == 0 and body["_shards"]["successful"] == 2
        ), body
        assert ids(body) == before_ids
        code, body = http_json(
            f"{survivor_url}/{INDEX}/_search?size=50", "POST", {"query": {"match_all": {}}}
        )
        assert {h["_id"] for h in body["hits"]["hits"]} == all_ids | {"5"}
        code, shards_after = http_json(f"{survivor_url}/_cat/shards/{INDEX}?format=json")
        primaries = [s for s in shards_after if s["prirep"] == "p"]
        assert len(primaries) == 2, shards_after
        assert all(s["state"] == "STARTED" for s in primaries), shards_after
        victim_name = f"node-{victim}"
        survivor_name = f"node-{1 - victim}"
        assert all(s["node"] == survivor_name for s in primaries), shards_after
        # the shards whose primary was on the killed node now answer from the promoted replica
        promoted = sorted(
            s["shard"] for s in shards if s["prirep"] == "p" and s["node"] == victim_name
        )
        assert promoted, "the killed node held no primary: nothing was promoted"

        report(
            capsys,
            f"shards per node before the kill: {counts}; cluster-manager {manager}; "
            f"killed node-{victim}; its primary shard(s) {promoted} were promoted from "
            f"the replica(s) on {survivor_name}",
            f"after SIGKILL of node-{victim}: yellow with 1 node in {t_yellow:.1f}s; "
            f"{len(during)} searches ran on the survivor since the kill: {len(complete)} complete, "
            f"{len(partial)} partial (a shard failed), {len(non_200)} errors",
            f"RSS per node (MiB, -Xmx512m): {cluster.rss_mb()}",
        )


def test_warm_start(tmp_path, capsys):
    t0 = time.monotonic()
    with OpenSearchCluster(nodes=2, workdir=tmp_path / "warm") as cluster:
        total = time.monotonic() - t0
        assert cluster.build_info["mode"] == "up-to-date"
        code, body = http_json(f"{cluster.urls[0]}/_cluster/health")
        assert code == 200 and body["number_of_nodes"] == 2 and body["status"] == "green", body
        rss = cluster.rss_mb()
    first = TIMES.get("first")
    report(
        capsys,
        (f"first start (this session): {first:.1f}s; " if first else "")
        + f"warm start (jar built, ~/.m2 cached): {total:.1f}s to green with 2 nodes; "
        f"RSS {rss} MiB",
    )
