"""Scale: Hubsearch at 5k, 50k and 200k passages (1M with --sizes 1000000) on Whoosh, on
OpenSearch, or on both in one run (--backend), beside an FTS5 reference of the same passages,
measured through the production path.

For each size, in a fresh temporary directory:
1. Corpus: real text from ../shared/data replicated under new URLs with light perturbation
   (bench/scalekit/corpus.py says how: sentences dropped at 5%, words replaced at 2%), recorded
   through `DocumentStore.record_fetch` as the crawler records a fetch, in one crawl run. Each
   backend gets its own copy of that store (so both index the same documents and take the
   same 1% change), and a config beside it: placeholder sources (https://example.org/...; no
   crawl runs), audience tags for the facets, the repository's synonyms.toml, and a
   `[backend]` naming the kind (for OpenSearch its urls and an index prefix of the size).
Then for each backend in turn (Whoosh first; OpenSearch on a 2-node cluster of its own, see
below, started once Whoosh's part is over):
2. `hubsearch index --full` in a child process: seconds, peak RSS (the child's own rusage,
   from wait4), disk (Whoosh: the current generation's files; OpenSearch: the store size of
   the prefix's indices in `_cat/indices`, primaries and replicas, and the primaries alone).
3. `hubsearch serve` on a free loopback port, answering one query on that generation.
4. A 1% change: 1% of the documents re-perturbed (another seed) and re-recorded; then
   `hubsearch index` (incremental) in a child process: seconds, peak RSS, and incr/full.
5. First query after the switch: the first /api/search on the server that was already
   running (the production case: nothing restarts at a switch), then a second one; also the
   first search of a fresh in-process searcher (`first_query_fresh_s`).
6. The FTS5 reference (bench/scalekit/fts5_reference.py), once per size, built from the first
   backend's store after its change, through the production passage splitter.
7. In process, query by query alternating Hubsearch (`open_backend(settings).searcher()
   .search`, one page of 10 with highlighting, as the server runs it) and FTS5: p50/p95 per
   query kind.
8. Under load: bench/load.py's client, 16 clients (each one keep-alive connection) for
   --seconds after --warmup seconds, on Hubsearch's server (`hubsearch serve --workers N`),
   then (once per size, after every backend) on the reference endpoint (uvicorn, as many
   worker processes: --workers, default one per core); rps, p50/p95, errors, and each
   server's RSS right after the load (VmRSS of its process and any children). A server over
   --rss-cap-mb is killed (the shared machine must survive) and reported as such.

A backend that fails at a size (a build refused, a server that does not start) is reported
(its config and logs copied out of the temporary directory), its keys are left out but
`<prefix>failed_S=1`, and the run goes on.

OpenSearch: without --os-urls, each size starts its own 2-node cluster on loopback
(tools/opensearch_cluster: real OpenSearch nodes, the backend's default 2 shards and 1
replica), with heaps of --os-heap-mb each (default by size: 512 MB up to 50k passages, 1 GB
up to 200k, 2 GB beyond), and stops it when the size is done. The cluster's memory (the
nodes' RSS summed) is reported beside the service's: its peak during the full build, and
after the load. With --os-urls the bench uses a running cluster (credentials from
HUBSEARCH_OPENSEARCH_USERNAME / _PASSWORD, as the service reads them), deletes the indices of
its prefix at the end, and reports no cluster memory.

Queries: at least 300 distinct, of four kinds (keywords, acronyms, 10-word natural
questions, quoted phrases; bench/scalekit/corpus.py), all kinds in turn in one shuffled
rotation under load, so a result cache could not stand in for search. The server has no
result cache today; if one is added, run this with it off (and on, as a second row).

The project is byte-compiled first, as an installed copy is (see `compile_project`).

Run from the project root: .venv/bin/python bench/scale.py [--sizes 5000,50000,200000]
[--backend whoosh|opensearch|both] [--seconds 10] [--clients 16]. Prints a table per size
and a summary; the RESULT line is last (keys per size S: build_s_S peak_rss_mb_S disk_mb_S
incr_ratio_S p95_ms_S ref_p95_ms_S rps_S ref_rps_S rss_mb_S ref_rss_mb_S errors_S
natural_p95_ms_S first_query_s_S, and more; OpenSearch's the same prefixed `os_`, plus
os_cluster_rss_mb_S, os_cluster_build_peak_rss_mb_S and os_pri_disk_mb_S; the FTS5
reference's `ref_` keys are the reference's alone, measured once per size).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import http.client
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import run_load  # noqa: E402
from bench.scalekit import corpus, os_cluster  # noqa: E402
from bench.scalekit import fts5_reference as fts5  # noqa: E402
from bench.scalekit.os_cluster import CLUSTER_NODES, Cluster, heap_mb_for  # noqa: E402
from hubsearch.backends import open_backend  # noqa: E402
from hubsearch.settings import load_settings  # noqa: E402
from hubsearch.store import DocumentStore, Fetch  # noqa: E402
from indexer.passages import deep_link, split_document  # noqa: E402

SYNONYMS = ROOT / "synonyms.toml"
# Placeholder sources: the corpus is recorded, not crawled. Audience tags feed the facets.
SOURCE_CONFIG = {
    "cranfield": ["education"],
    "articles": ["police"],
    "govuk": ["health", "social services"],
    "pdfs": ["health"],
}
CHANGE_SHARE = 0.01
HTTP_TIMEOUT = 300.0
BACKENDS = ("whoosh", "opensearch")
# RESULT key prefix and table name of each backend's figures.
PREFIX = {"whoosh": "", "opensearch": "os_"}
NAME = {"whoosh": "Whoosh", "opensearch": "OpenSearch"}


def label(size: int) -> str:
    """5000 -> 5k, 1000000 -> 1m: the RESULT key suffix of a size."""
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


def write_config(tmp: Path, kind: str = "whoosh", urls: list[str] | None = None,
                 index_prefix: str = "") -> Path:
    """The hub's config in `tmp` (store and index beside it), on backend `kind`."""
    lines = [
        "[search]", f"synonyms_path = {json.dumps(str(SYNONYMS))}", "",
        "[storage]", "store_path = 'hub.sqlite'", "index_dir = 'index'", "",
    ]
    lines += (os_cluster.config_lines(urls or [], index_prefix) if kind == "opensearch"
              else ["[backend]", f"kind = {json.dumps(kind)}", ""])
    for name, audience in SOURCE_CONFIG.items():
        lines += ["[[sources]]", f"name = '{name}'", f"url = 'https://example.org/{name}/'",
                  f"audience = {json.dumps(audience)}", ""]
    config = tmp / "config.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    return config


def _fetch(url: str, source: str, doc: Any) -> Fetch:
    body = json.dumps(doc.to_dict(), ensure_ascii=False).encode()
    ctype = "application/pdf" if doc.doc_type == "pdf" else "text/html; charset=utf-8"
    return Fetch(url=url, final_url=url, source=source, status=200, content_type=ctype,
                 sha256=hashlib.sha256(body).hexdigest(), bytes=len(body), document=doc)


def fill_store(store_path: Path, pool: list, words: list[str],
               size: int) -> tuple[list, int, float]:
    """Record the corpus of `size` passages; (its documents, passages, seconds)."""
    started = time.perf_counter()
    docs, passages = [], 0
    with DocumentStore(store_path) as store:
        # The bench's own connection skips an fsync per document; the store is the same.
        store.db.execute("PRAGMA synchronous=NORMAL")
        run_id = store.start_run()
        for where, doc, count in corpus.plan(pool, size, words):
            store.record_fetch(_fetch(where.url, where.source, doc), run_id)
            docs.append(where)
            passages += count
        store.finish_run(run_id, {"fetched": len(docs), "new": len(docs)})
    return docs, passages, time.perf_counter() - started


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy of a closed store (SQLite's backup: the WAL included)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def change_share(store_path: Path, docs: list, pool: list, words: list[str],
                 share: float = CHANGE_SHARE) -> int:
    """Re-perturb and re-record `share` of the documents; how many were changed."""
    chosen = random.Random(2).sample(docs, max(1, round(len(docs) * share)))
    changed = 0
    with DocumentStore(store_path) as store:
        store.db.execute("PRAGMA synchronous=NORMAL")
        run_id = store.start_run()
        for where in chosen:
            doc = where.make(pool, words, edited=True)
            changed += store.record_fetch(_fetch(where.url, where.source, doc), run_id) == "changed"
        store.finish_run(run_id, {"fetched": len(chosen), "changed": changed,
                                  "unchanged": len(chosen) - changed})
    return changed


def run_cli(args: list[str], log: Path) -> tuple[float, float, str]:
    """`hubsearch ARGS` in a child process: (seconds, peak RSS in MB, its output).

    The peak is the most the process and its worker processes held at once (their VmRSS
    summed, sampled every 0.1 s), or the largest single process's own peak (wait4), if
    that is more: a full build runs Whoosh's writer in several processes.
    """
    started = time.perf_counter()
    with open(log, "w+") as out:
        proc = subprocess.Popen([sys.executable, "-m", "hubsearch.cli", *args], cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT)
        peak = [0.0]
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.1):
                peak[0] = max(peak[0], tree_rss_mb(proc.pid))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would mix every child's).
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise SystemExit(f"error: hubsearch {' '.join(args[:2])} failed: {text.strip()[-500:]}")
    return seconds, max(peak[0], usage.ru_maxrss / 1024), text.strip()


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_rss_mb(pid: int, field: str = "VmRSS", source: str = "status") -> float:
    """VmRSS of a process and its descendants (workers), in MB; 0 once it is gone.

    With field="Pss", source="smaps_rollup": their proportional set size, which counts a
    page shared by several workers (the index's files in the page cache) once in all.
    """
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            for line in Path(f"/proc/{p}/{source}").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


class Server:
    """A server in a child process on a free loopback port, stopped on exit."""

    def __init__(self, command: Callable[[int], list[str]], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(command(self.port), cwd=ROOT, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.killed_at_cap = False

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"error: server exited at start; see {self.log.name}")
            try:
                if get(self.url, "/healthz", timeout=2)[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        self.proc.kill()
        raise SystemExit("error: a server did not start within 120 s")

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def rss_mb(self) -> float:
        return tree_rss_mb(self.proc.pid) if self.proc.poll() is None else 0.0

    def pss_mb(self) -> float:
        if self.proc.poll() is not None:
            return 0.0
        return tree_rss_mb(self.proc.pid, "Pss", "smaps_rollup")


def get(url: str, path: str, timeout: float = HTTP_TIMEOUT) -> tuple[int, bytes]:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def search_path(query: str) -> str:
    return "/api/search?" + urllib.parse.urlencode({"q": query})


def timed_search(url: str, query: str) -> float:
    started = time.perf_counter()
    status, body = get(url, search_path(query))
    seconds = time.perf_counter() - started
    if status != 200 or "results" not in json.loads(body):
        raise SystemExit(f"error: /api/search answered {status}")
    return seconds


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


def build_reference(store_path: Path, db_path: Path) -> tuple[int, float]:
    """The FTS5 table of the store's documents, split as the indexer splits them."""
    started = time.perf_counter()

    def rows():
        with DocumentStore(store_path) as store:
            for stored in store.searchable():
                doc, key = stored.document, stored.index_key
                for passage in split_document(doc):
                    yield (doc.title, " ".join(passage.heading_path), passage.text, key,
                           deep_link(key, passage))

    count = fts5.build(db_path, rows())
    return count, time.perf_counter() - started


def in_process(config: Path, db_path: Path, queries: dict[str, list[str]],
               count_limit: int = 0) -> tuple[dict[str, dict[str, list[float]]], float]:
    """ms per query, per kind, for Hubsearch (the searcher of the config's backend, as the
    server makes it) and FTS5 (alternating); and the first search's seconds of that fresh
    searcher."""
    searcher = open_backend(load_settings(config)).searcher()
    started = time.perf_counter()
    searcher.search(queries["keywords"][0] if queries["keywords"] else "search")
    first = time.perf_counter() - started
    db = fts5.connect(db_path)
    fts5.search(db, "warm up", count_limit=count_limit)
    times: dict[str, dict[str, list[float]]] = {}
    for kind, texts in queries.items():
        ours, ref = [], []
        for text in texts:
            t0 = time.perf_counter()
            searcher.search(text)
            t1 = time.perf_counter()
            fts5.search(db, text, count_limit=count_limit)
            t2 = time.perf_counter()
            ours.append((t1 - t0) * 1000)
            ref.append((t2 - t1) * 1000)
        times[kind] = {"ours": ours, "fts5": ref}
    db.close()
    return times, first


class Sampler:
    """The largest value `measure()` returned, sampled every `every` seconds in a thread
    while the `with` block runs (and once at its end)."""

    def __init__(self, measure: Callable[[], float], every: float = 0.25) -> None:
        self.measure, self.every, self.peak = measure, every, 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._done.wait(self.every):
            self.peak = max(self.peak, self.measure())

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, self.measure())


def under_load(server: Server, rotation: list[str], clients: int, warmup: float,
               seconds: float, cap_mb: float,
               cluster: Cluster | None = None) -> dict[str, Any]:
    """bench/load.py's client on `server`: its figures, the server's RSS after the load and
    the most it reached meanwhile (and the cluster's, with `cluster`)."""
    counter = itertools.count()

    def path_of(_: str) -> str:
        # Every client takes the next query of one rotation (load.py's own list is 20 long).
        return search_path(rotation[next(counter) % len(rotation)])

    peak = [0.0]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.25):
            rss = server.rss_mb()
            peak[0] = max(peak[0], rss)
            if rss > cap_mb and server.proc.poll() is None:
                server.killed_at_cap = True
                server.proc.kill()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        if warmup > 0:
            run_load(server.url, path_of, clients, warmup)
        with Sampler(lambda: (cluster.rss_mb() or 0.0) if cluster else 0.0) as nodes:
            result = run_load(server.url, path_of, clients, seconds)
        result["rss_mb"] = server.rss_mb()
        result["pss_mb"] = server.pss_mb()
        if cluster is not None and cluster.rss_mb() is not None:
            result["cluster_rss_mb"] = cluster.rss_mb()
            result["cluster_rss_peak_mb"] = nodes.peak
    finally:
        done.set()
        watcher.join()
    result["rss_peak_mb"] = max(peak[0], result["rss_mb"])
    result["killed"] = server.killed_at_cap
    return result


def run_size(size: int, pool: list, words: list[str], questions: list[str],
             args: argparse.Namespace) -> dict[str, Any]:
    r: dict[str, Any] = {"size": size, "backends": {}, "failed": {}}
    with tempfile.TemporaryDirectory(prefix=f"hubsearch-scale-{label(size)}-") as tmp_name:
        tmp = Path(tmp_name)
        corpus_store = tmp / "hub.sqlite"
        docs, passages, r["store_s"] = fill_store(corpus_store, pool, words, size)
        r["documents"], r["corpus_passages"] = len(docs), passages
        log(f"{label(size)}: stored {len(docs)} documents, {passages} passages "
            f"in {r['store_s']:.1f} s")

        queries = corpus.make_queries(
            [d.make(pool, words) for d in docs if d.copy == 0], questions, SYNONYMS,
            per_kind=args.per_kind)
        rotation = [q for texts in queries.values() for q in texts]
        random.Random(3).shuffle(rotation)
        r["queries"] = len(rotation)

        db_path = tmp / "fts5.sqlite"
        for n, kind in enumerate(args.backends):
            part = tmp / kind
            part.mkdir()
            # Each backend indexes its own copy of one corpus and takes the same change.
            copy_store(corpus_store, part / "hub.sqlite")
            if n == len(args.backends) - 1:
                corpus_store.unlink()
            try:
                if kind == "opensearch":
                    r["backends"][kind] = run_opensearch(size, part, docs, pool, words, queries,
                                                         rotation, db_path, args)
                else:
                    config = write_config(part, kind)
                    r["backends"][kind] = run_backend(size, kind, config, docs, pool, words,
                                                      queries, rotation, db_path, args)
            except (SystemExit, Exception) as exc:  # noqa: BLE001 - reported, as below
                # One backend's failure (a refused build, a cluster that did not start) must
                # not cost the other's figures of a long run: reported, and left out.
                if not isinstance(exc, SystemExit):
                    traceback.print_exc()
                r["failed"][kind] = str(exc) or type(exc).__name__
                kept = keep_logs(part, Path(tempfile.gettempdir()) / f"{tmp.name}-{kind}-logs")
                log(f"{label(size)} {NAME[kind]}: FAILED: {exc}; its logs are kept in {kept}")
            gc.collect()  # the in-process searcher's segments, before the next backend

        if not db_path.exists():
            return r  # no backend got as far as the reference: the size is left out
        for b in r["backends"].values():
            if "ref_build_s" in b:
                for key in ("ref_passages", "ref_build_s", "ref_disk_mb"):
                    r[key] = b.pop(key)
        reference = [sys.executable, str(ROOT / "bench" / "scalekit" / "fts5_reference.py"),
                     "--db", str(db_path), "--count-limit", str(args.ref_count_limit),
                     "--workers", str(args.workers), "--port"]
        with Server(lambda port: [*reference, str(port)], tmp / "fts5.log") as ref:
            log(f"{label(size)}: loading the FTS5 reference")
            r["ref_load"] = under_load(ref, rotation, args.clients, args.warmup, args.seconds,
                                       args.rss_cap_mb)
    return r


def keep_logs(part: Path, kept: Path) -> Path:
    """Copy a backend's config and logs (its nodes' too) out of the folder about to go."""
    for path in [*part.glob("*.log"), *part.glob("config.toml"), *part.glob("cluster/*.log")]:
        target = kept / path.relative_to(part)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return kept


def run_opensearch(size: int, part: Path, docs: list, pool: list, words: list[str],
                   queries: dict[str, list[str]], rotation: list[str], db_path: Path,
                   args: argparse.Namespace) -> dict[str, Any]:
    """run_backend on OpenSearch, on a cluster of this size's own (or --os-urls')."""
    heap = args.os_heap_mb or heap_mb_for(size)
    with Cluster(part / "cluster", heap, args.os_urls) as cluster:
        prefix = (f"scale-{label(size)}" if not args.os_urls
                  else f"hubsearch-scale-{label(size)}-{os.getpid()}")
        if cluster.launched is not None:
            log(f"{label(size)}: OpenSearch cluster of {CLUSTER_NODES} nodes "
                f"({heap} MB heaps) up in {cluster.launched.start_seconds:.1f} s")
        try:
            config = write_config(part, "opensearch", cluster.urls, prefix)
            r = run_backend(size, "opensearch", config, docs, pool, words, queries, rotation,
                            db_path, args, cluster, prefix)
        finally:
            if args.os_urls:
                cluster.delete_prefix(prefix)
    r["heap_mb"] = heap if cluster.launched else None
    return r


def run_backend(size: int, kind: str, config: Path, docs: list, pool: list, words: list[str],
                queries: dict[str, list[str]], rotation: list[str], db_path: Path,
                args: argparse.Namespace, cluster: Cluster | None = None,
                prefix: str = "") -> dict[str, Any]:
    """Steps 2-8 on one backend, whose config (and store) is in config's folder; the FTS5
    reference is built here from this store if it is not built yet."""
    r: dict[str, Any] = {}
    part = config.parent
    store_path, index_dir = part / "hub.sqlite", part / "index"
    tag = f"{label(size)} {NAME[kind]}"

    with Sampler(lambda: (cluster.rss_mb() or 0.0) if cluster else 0.0) as nodes:
        r["build_s"], r["peak_rss_mb"], line = run_cli(
            ["index", "--full", "--config", str(config)], part / "index-full.log")
    r["build_line"] = line.splitlines()[-1] if line else ""
    found = re.search(r"(\d+) passages in generation", line)
    r["passages"] = int(found.group(1)) if found else None
    if cluster is not None:
        r["disk_mb"], r["pri_disk_mb"] = cluster.disk_mb(prefix)
        if cluster.rss_mb() is not None:
            r["cluster_build_peak_rss_mb"] = nodes.peak
    else:
        r["disk_mb"] = dir_mb(Path(os.path.realpath(index_dir / "current")))
    log(f"{tag}: {r['build_line']} (peak RSS {r['peak_rss_mb']:.0f} MB)")

    serve = [sys.executable, "-m", "hubsearch.cli", "serve", "--config", str(config),
             "--host", "127.0.0.1", "--workers", str(args.workers), "--port"]
    with Server(lambda port: [*serve, str(port)], part / "serve.log") as ours:
        r["start_first_query_s"] = timed_search(ours.url, rotation[0])

        r["changed_documents"] = change_share(store_path, docs, pool, words)
        r["incr_s"], r["incr_peak_rss_mb"], line = run_cli(
            ["index", "--config", str(config)], part / "index-incr.log")
        r["incr_line"] = line.splitlines()[-1] if line else ""
        r["incr_ratio"] = r["incr_s"] / r["build_s"]
        r["first_query_s"] = timed_search(ours.url, rotation[1 % len(rotation)])
        r["second_query_s"] = timed_search(ours.url, rotation[2 % len(rotation)])
        log(f"{tag}: {r['incr_line']} (peak RSS {r['incr_peak_rss_mb']:.0f} MB); "
            f"first query after the switch {r['first_query_s']:.2f} s")

        if not db_path.exists():
            r["ref_passages"], r["ref_build_s"] = build_reference(store_path, db_path)
            r["ref_disk_mb"] = db_path.stat().st_size / 1e6
        r["kinds"], r["first_query_fresh_s"] = in_process(config, db_path, queries,
                                                          args.ref_count_limit)
        log(f"{tag}: in process done; loading Hubsearch")
        r["load"] = under_load(ours, rotation, args.clients, args.warmup, args.seconds,
                               args.rss_cap_mb, cluster)
    return r


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def passages_of(r: dict[str, Any]) -> int:
    """Passages the first backend's full build reported (else the corpus's own count)."""
    for b in r["backends"].values():
        if b.get("passages"):
            return b["passages"]
    return r["corpus_passages"]


def print_size(r: dict[str, Any], args: argparse.Namespace) -> None:
    for kind, why in r["failed"].items():
        print(f"\n{label(r['size'])} {NAME[kind]}: FAILED: {why}")
    if "ref_load" not in r:
        return
    ref = r["ref_load"]
    print(f"\n{label(r['size'])}: {passages_of(r)} passages in {r['documents']} documents "
          f"(FTS5: {r['ref_passages']}); {r['queries']} distinct queries; "
          f"{args.clients} clients, {args.seconds:g} s after {args.warmup:g} s warm-up")
    print(f"{'':22} {'build s':>8} {'peak MB':>8} {'disk MB':>8} {'1% incr s':>10} "
          f"{'1st q s':>8} {'RSS MB':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
    for kind, b in r["backends"].items():
        ours = b["load"]
        killed = " (killed at the RSS cap)" if ours["killed"] else ""
        print(f"{'Hubsearch ' + NAME[kind]:22} {b['build_s']:>8.1f} {b['peak_rss_mb']:>8.0f} "
              f"{b['disk_mb']:>8.1f} {b['incr_s']:>10.2f} {b['first_query_s']:>8.2f} "
              f"{ours['rss_mb']:>8.0f} {ours['rps']:>7.1f} {ours['p50']:>8.1f} "
              f"{ours['p95']:>8.1f} {ours['errors']:>7}{killed}")
    print(f"{'FTS5 reference':22} {r['ref_build_s']:>8.1f} {'-':>8} {r['ref_disk_mb']:>8.1f} "
          f"{'-':>10} {'-':>8} {ref['rss_mb']:>8.0f} {ref['rps']:>7.1f} {ref['p50']:>8.1f} "
          f"{ref['p95']:>8.1f} {ref['errors']:>7}")
    for kind, b in r["backends"].items():
        ours = b["load"]
        print(f"  {NAME[kind]}: 1% change: {b['changed_documents']} documents; "
              f"incremental/full {b['incr_ratio']:.3f}, its peak RSS "
              f"{b['incr_peak_rss_mb']:.0f} MB; first query on the running server after the "
              f"switch {b['first_query_s']:.2f} s (next {b['second_query_s']:.2f} s; at server "
              f"start {b['start_first_query_s']:.2f} s; fresh searcher "
              f"{b['first_query_fresh_s']:.2f} s); server RSS peak under load "
              f"{ours['rss_peak_mb']:.0f} MB; PSS after load (shared pages counted once) "
              f"{ours['pss_mb']:.0f} MB, reference {ref['pss_mb']:.0f} MB")
        if "pri_disk_mb" in b:
            print(f"  {NAME[kind]}: disk {b['disk_mb']:.1f} MB with replicas, "
                  f"{b['pri_disk_mb']:.1f} MB of primaries")
        if "cluster_rss_mb" in ours:
            print(f"  {NAME[kind]}: cluster of {CLUSTER_NODES} nodes ({b['heap_mb']} MB heaps) "
                  f"RSS {ours['cluster_rss_mb']:.0f} MB after load (peak under load "
                  f"{ours['cluster_rss_peak_mb']:.0f} MB, during the full build "
                  f"{b['cluster_build_peak_rss_mb']:.0f} MB); service + cluster "
                  f"{ours['rss_mb'] + ours['cluster_rss_mb']:.0f} MB")
        print(f"  {NAME[kind]} in process, ms:  {'kind':10} {'n':>4} {'ours p50':>9} "
              f"{'ours p95':>9} {'FTS5 p50':>9} {'FTS5 p95':>9}")
        for query_kind, t in b["kinds"].items():
            print(f"  {'':16} {query_kind:10} {len(t['ours']):>4} {pct(t['ours'], 50):>9.1f} "
                  f"{pct(t['ours'], 95):>9.1f} {pct(t['fts5'], 50):>9.1f} "
                  f"{pct(t['fts5'], 95):>9.1f}")
    sys.stdout.flush()


def size_keys(r: dict[str, Any]) -> dict[str, float | int]:
    """The size's own keys and the FTS5 reference's (measured once per size)."""
    ref = r["ref_load"]
    return {
        "passages": passages_of(r), "documents": r["documents"], "queries": r["queries"],
        "ref_p95_ms": ref["p95"], "ref_p50_ms": ref["p50"], "ref_rps": ref["rps"],
        "ref_rss_mb": ref["rss_mb"], "ref_pss_mb": ref["pss_mb"], "ref_errors": ref["errors"],
        "ref_build_s": r["ref_build_s"],
    }


def backend_keys(b: dict[str, Any]) -> dict[str, float | int]:
    """One backend's keys, unprefixed; `ref_<kind>_p95_ms` is FTS5 in process, timed
    alternating with this backend."""
    ours = b["load"]
    keys: dict[str, float | int] = {
        "build_s": b["build_s"], "peak_rss_mb": b["peak_rss_mb"], "disk_mb": b["disk_mb"],
        "incr_s": b["incr_s"], "incr_ratio": b["incr_ratio"],
        "incr_peak_rss_mb": b["incr_peak_rss_mb"],
        "p95_ms": ours["p95"], "p50_ms": ours["p50"], "rps": ours["rps"],
        "rss_mb": ours["rss_mb"], "pss_mb": ours["pss_mb"],
        "rss_peak_mb": ours["rss_peak_mb"], "errors": ours["errors"],
        "natural_p95_ms": pct(b["kinds"]["natural"]["ours"], 95),
        "first_query_s": b["first_query_s"], "second_query_s": b["second_query_s"],
        "first_query_fresh_s": b["first_query_fresh_s"],
    }
    if "pri_disk_mb" in b:
        keys["pri_disk_mb"] = b["pri_disk_mb"]
    if "cluster_rss_mb" in ours:
        keys["cluster_rss_mb"] = ours["cluster_rss_mb"]
        keys["cluster_rss_peak_mb"] = ours["cluster_rss_peak_mb"]
        keys["cluster_build_peak_rss_mb"] = b["cluster_build_peak_rss_mb"]
    for kind, t in b["kinds"].items():
        keys[f"{kind}_p50_ms"] = pct(t["ours"], 50)
        keys[f"{kind}_p95_ms"] = pct(t["ours"], 95)
        keys[f"ref_{kind}_p95_ms"] = pct(t["fts5"], 95)
    return keys


def result_keys(r: dict[str, Any]) -> dict[str, float | int]:
    """The size's keys; a backend that failed gives only `<prefix>failed=1`."""
    keys = size_keys(r) if "ref_load" in r else {}
    for kind, b in r["backends"].items():
        keys.update({f"{PREFIX[kind]}{k}": v for k, v in backend_keys(b).items()})
    for kind in r["failed"]:
        keys[f"{PREFIX[kind]}failed"] = 1
    return keys


def _plain(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:.3f}".rstrip("0").rstrip(".")


def compile_project() -> None:
    """Byte-compile the project, as installing it does (pip compiles every module), so a
    child `hubsearch` pays for starting, not for compiling its source: with
    PYTHONDONTWRITEBYTECODE set, a source checkout would compile ~0.2 s of modules at
    every start, which a 5k incremental build then mostly measures."""
    import compileall

    for package in ("crawler", "hubsearch", "hubsearch_web", "indexer", "schedules"):
        compileall.compile_dir(ROOT / package, quiet=1)
    compileall.compile_file(ROOT / "search_server.py", quiet=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,50000,200000",
                        help="passage counts, comma-separated (default 5000,50000,200000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="load per server")
    parser.add_argument("--warmup", type=float, default=3.0, help="load before measuring")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="server processes, Hubsearch's and the reference's alike "
                             "(default: one per core)")
    parser.add_argument("--per-kind", type=int, default=100, help="queries of each kind")
    parser.add_argument("--sources", default=",".join(corpus.SOURCES),
                        help="base collections (default: all of "
                             f"{','.join(corpus.SOURCES)})")
    parser.add_argument("--rss-cap-mb", type=float, default=12_000,
                        help="kill a server past this RSS (default 12000)")
    parser.add_argument("--ref-count-limit", type=int, default=0,
                        help="the FTS5 reference counts matches up to N (default 0: exactly, "
                             "as Hubsearch does today)")
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="whoosh",
                        help="the search backend measured; both: each size on Whoosh, then "
                             "on OpenSearch (default whoosh)")
    parser.add_argument("--os-heap-mb", type=int, default=0,
                        help="heap of each OpenSearch node the bench starts (default by "
                             "size: 512 up to 50k passages, 1024 up to 200k, 2048 beyond)")
    parser.add_argument("--os-urls",
                        help="use this running OpenSearch cluster (comma-separated node "
                             "URLs) instead of starting one; its memory is not reported")
    args = parser.parse_args(argv)
    args.backends = BACKENDS if args.backend == "both" else (args.backend,)
    args.os_urls = [u.strip() for u in (args.os_urls or "").split(",") if u.strip()]
    if args.os_heap_mb and args.os_heap_mb < 256:
        parser.error("--os-heap-mb must be at least 256")
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    sources = tuple(s for s in args.sources.split(",") if s)
    if unknown := set(sources) - set(corpus.SOURCES):
        parser.error(f"unknown source(s): {', '.join(sorted(unknown))}")
    if not (corpus.DATA / "cranfield").is_dir():
        raise SystemExit(f"error: real text not found at {corpus.DATA}")

    compile_project()
    started = time.perf_counter()
    pool = corpus.load_pool(sources)
    words = corpus.vocabulary(pool)
    questions = corpus.cranfield_questions()
    log(f"pool: {len(pool)} base documents, {sum(b.passages for b in pool)} passages "
        f"from {', '.join(sources)} in {time.perf_counter() - started:.1f} s")

    results = []
    for size in sizes:
        results.append(run_size(size, pool, words, questions, args))
        print_size(results[-1], args)

    print(f"\nsummary ({args.clients} clients, {args.seconds:g} s; ours / FTS5 reference; "
          f"OpenSearch's RSS is the service's, its cluster's is apart):")
    print(f"{'passages':>9} {'backend':>10} {'build s':>8} {'peak MB':>8} {'incr ratio':>10} "
          f"{'1st q s':>8} {'RSS MB':>13} {'req/s':>13} {'p95 ms':>15} {'p95 x':>6} "
          f"{'errors':>7} {'natural p95':>11} {'cluster MB':>10}")
    for r in results:
        if "ref_load" not in r:
            continue
        ref = r["ref_load"]
        for kind, b in r["backends"].items():
            ours = b["load"]
            ratio = ours["p95"] / ref["p95"] if ref["p95"] else float("inf")
            cluster = ours.get("cluster_rss_mb")
            print(f"{label(r['size']):>9} {NAME[kind]:>10} {b['build_s']:>8.1f} "
                  f"{b['peak_rss_mb']:>8.0f} {b['incr_ratio']:>10.3f} "
                  f"{b['first_query_s']:>8.2f} {ours['rss_mb']:>6.0f}/{ref['rss_mb']:<6.0f} "
                  f"{ours['rps']:>6.1f}/{ref['rps']:<6.1f} "
                  f"{ours['p95']:>7.1f}/{ref['p95']:<7.1f} {ratio:>6.1f} "
                  f"{ours['errors']:>3}/{ref['errors']:<3} "
                  f"{pct(b['kinds']['natural']['ours'], 95):>11.1f} "
                  f"{'-' if cluster is None else f'{cluster:.0f}':>10}")
    pairs = [f"{key}_{label(r['size'])}={_plain(value)}"
             for r in results for key, value in result_keys(r).items()]
    print(f"RESULT clients={args.clients} workers={args.workers} seconds={args.seconds:g} "
          f"{' '.join(pairs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
