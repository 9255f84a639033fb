"""Scale: Hubsearch at 5k, 50k and 200k passages (1M with --sizes 1000000), beside an FTS5
reference of the same passages, measured in one run through the production path.

For each size, in a fresh temporary directory:
1. Corpus: real text from ../shared/data replicated under new URLs with light perturbation
   (bench/scalekit/corpus.py says how: sentences dropped at 5%, words replaced at 2%), recorded
   through `DocumentStore.record_fetch` as the crawler records a fetch, in one crawl run. The
   config written beside it has placeholder sources (https://example.org/...; no crawl runs),
   audience tags for the facets, and the repository's synonyms.toml.
2. `hubsearch index --full` in a child process: seconds, peak RSS (the child's own rusage,
   from wait4), disk (the current generation's files).
3. `hubsearch serve` on a free loopback port, answering one query on that generation.
4. A 1% change: 1% of the documents re-perturbed (another seed) and re-recorded; then
   `hubsearch index` (incremental) in a child process: seconds, peak RSS, and incr/full.
5. First query after the switch: the first /api/search on the server that was already
   running (the production case: nothing restarts at a switch), then a second one; also the
   first search of a fresh in-process `PassageSearcher` (`first_query_fresh_s`).
6. The FTS5 reference (bench/scalekit/fts5_reference.py) built from the same store's documents
   through the production passage splitter.
7. In process, query by query alternating Hubsearch (`PassageSearcher.search`, one page of
   10 with highlighting, as the server runs it) and FTS5: p50/p95 per query kind.
8. Under load: bench/load.py's client, 16 clients (each one keep-alive connection) for
   --seconds after --warmup seconds, on Hubsearch's server (`hubsearch serve --workers N`),
   then on the reference endpoint (uvicorn, as many worker processes: --workers, default
   one per core); rps, p50/p95, errors, and each server's RSS right after the load
   (VmRSS of its process and any children). A server over --rss-cap-mb is killed (the
   shared machine must survive) and reported as such.

Queries: at least 300 distinct, of four kinds (keywords, acronyms, 10-word natural
questions, quoted phrases; bench/scalekit/corpus.py), all kinds in turn in one shuffled
rotation under load, so a result cache could not stand in for search. The server has no
result cache today; if one is added, run this with it off (and on, as a second row).

The project is byte-compiled first, as an installed copy is (see `compile_project`).

Run from the project root: .venv/bin/python bench/scale.py [--sizes 5000,50000,200000]
[--seconds 10] [--clients 16]. Prints a table per size and a summary; the RESULT line is
last (keys per size S: build_s_S peak_rss_mb_S disk_mb_S incr_ratio_S p95_ms_S ref_p95_ms_S
rps_S ref_rps_S rss_mb_S ref_rss_mb_S errors_S natural_p95_ms_S first_query_s_S, and more).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import itertools
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import run_load  # noqa: E402
from bench.scalekit import corpus  # noqa: E402
from bench.scalekit import fts5_reference as fts5  # noqa: E402
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


def label(size: int) -> str:
    """5000 -> 5k, 1000000 -> 1m: the RESULT key suffix of a size."""
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


def write_config(tmp: Path) -> Path:
    lines = [
        "[search]", f"synonyms_path = {json.dumps(str(SYNONYMS))}", "",
        "[storage]", "store_path = 'hub.sqlite'", "index_dir = 'index'", "",
    ]
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


def in_process(index_dir: Path, db_path: Path, queries: dict[str, list[str]],
               count_limit: int = 0) -> tuple[dict[str, dict[str, list[float]]], float]:
    """ms per query, per kind, for Hubsearch and FTS5 (alternating); and the first
    search's seconds in this fresh process."""
    from indexer.search import PassageSearcher

    searcher = PassageSearcher(index_dir, synonyms_path=SYNONYMS)
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


def under_load(server: Server, rotation: list[str], clients: int, warmup: float,
               seconds: float, cap_mb: float) -> dict[str, Any]:
    """bench/load.py's client on `server`: its figures, the server's RSS after the load and
    the most it reached meanwhile."""
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
        result = run_load(server.url, path_of, clients, seconds)
        result["rss_mb"] = server.rss_mb()
        result["pss_mb"] = server.pss_mb()
    finally:
        done.set()
        watcher.join()
    result["rss_peak_mb"] = max(peak[0], result["rss_mb"])
    result["killed"] = server.killed_at_cap
    return result


def run_size(size: int, pool: list, words: list[str], questions: list[str],
             args: argparse.Namespace) -> dict[str, Any]:
    r: dict[str, Any] = {"size": size}
    with tempfile.TemporaryDirectory(prefix=f"hubsearch-scale-{label(size)}-") as tmp_name:
        tmp = Path(tmp_name)
        config = write_config(tmp)
        store_path, index_dir = tmp / "hub.sqlite", tmp / "index"
        docs, passages, r["store_s"] = fill_store(store_path, pool, words, size)
        r["documents"] = len(docs)
        log(f"{label(size)}: stored {len(docs)} documents, {passages} passages "
            f"in {r['store_s']:.1f} s")

        queries = corpus.make_queries(
            [d.make(pool, words) for d in docs if d.copy == 0], questions, SYNONYMS,
            per_kind=args.per_kind)
        rotation = [q for texts in queries.values() for q in texts]
        random.Random(3).shuffle(rotation)
        r["queries"] = len(rotation)

        r["build_s"], r["peak_rss_mb"], line = run_cli(
            ["index", "--full", "--config", str(config)], tmp / "index-full.log")
        r["build_line"] = line.splitlines()[-1] if line else ""
        found = re.search(r"(\d+) passages in generation", line)
        r["passages"] = int(found.group(1)) if found else passages
        current = Path(os.path.realpath(index_dir / "current"))
        r["disk_mb"] = dir_mb(current)
        log(f"{label(size)}: {r['build_line']} (peak RSS {r['peak_rss_mb']:.0f} MB)")

        serve = [sys.executable, "-m", "hubsearch.cli", "serve", "--config", str(config),
                 "--host", "127.0.0.1", "--workers", str(args.workers), "--port"]
        with Server(lambda port: [*serve, str(port)], tmp / "serve.log") as ours:
            r["start_first_query_s"] = timed_search(ours.url, rotation[0])

            r["changed_documents"] = change_share(store_path, docs, pool, words)
            r["incr_s"], r["incr_peak_rss_mb"], line = run_cli(
                ["index", "--config", str(config)], tmp / "index-incr.log")
            r["incr_line"] = line.splitlines()[-1] if line else ""
            r["incr_ratio"] = r["incr_s"] / r["build_s"]
            r["first_query_s"] = timed_search(ours.url, rotation[1 % len(rotation)])
            r["second_query_s"] = timed_search(ours.url, rotation[2 % len(rotation)])
            log(f"{label(size)}: {r['incr_line']} (peak RSS {r['incr_peak_rss_mb']:.0f} MB); "
                f"first query after the switch {r['first_query_s']:.2f} s")

            db_path = tmp / "fts5.sqlite"
            r["ref_passages"], r["ref_build_s"] = build_reference(store_path, db_path)
            r["ref_disk_mb"] = db_path.stat().st_size / 1e6
            times, r["first_query_fresh_s"] = in_process(index_dir, db_path, queries,
                                                         args.ref_count_limit)
            r["kinds"] = times
            log(f"{label(size)}: in process done; loading Hubsearch")
            r["load"] = under_load(ours, rotation, args.clients, args.warmup, args.seconds,
                                   args.rss_cap_mb)

        reference = [sys.executable, str(ROOT / "bench" / "scalekit" / "fts5_reference.py"),
                     "--db", str(db_path), "--count-limit", str(args.ref_count_limit),
                     "--workers", str(args.workers), "--port"]
        with Server(lambda port: [*reference, str(port)], tmp / "fts5.log") as ref:
            log(f"{label(size)}: loading the FTS5 reference")
            r["ref_load"] = under_load(ref, rotation, args.clients, args.warmup, args.seconds,
                                       args.rss_cap_mb)
    return r


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def print_size(r: dict[str, Any], args: argparse.Namespace) -> None:
    ours, ref = r["load"], r["ref_load"]
    print(f"\n{label(r['size'])}: {r['passages']} passages in {r['documents']} documents "
          f"(FTS5: {r['ref_passages']}); {r['queries']} distinct queries; "
          f"{args.clients} clients, {args.seconds:g} s after {args.warmup:g} s warm-up")
    print(f"{'':22} {'build s':>8} {'peak MB':>8} {'disk MB':>8} {'1% incr s':>10} "
          f"{'1st q s':>8} {'RSS MB':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
    killed = " (killed at the RSS cap)" if ours["killed"] else ""
    print(f"{'Hubsearch':22} {r['build_s']:>8.1f} {r['peak_rss_mb']:>8.0f} {r['disk_mb']:>8.1f} "
          f"{r['incr_s']:>10.2f} {r['first_query_s']:>8.2f} {ours['rss_mb']:>8.0f} "
          f"{ours['rps']:>7.1f} {ours['p50']:>8.1f} {ours['p95']:>8.1f} {ours['errors']:>7}"
          f"{killed}")
    print(f"{'FTS5 reference':22} {r['ref_build_s']:>8.1f} {'-':>8} {r['ref_disk_mb']:>8.1f} "
          f"{'-':>10} {'-':>8} {ref['rss_mb']:>8.0f} {ref['rps']:>7.1f} {ref['p50']:>8.1f} "
          f"{ref['p95']:>8.1f} {ref['errors']:>7}")
    print(f"  1% change: {r['changed_documents']} documents; incremental/full "
          f"{r['incr_ratio']:.3f}, its peak RSS {r['incr_peak_rss_mb']:.0f} MB; first query on "
          f"the running server after the switch {r['first_query_s']:.2f} s (next "
          f"{r['second_query_s']:.2f} s; at server start {r['start_first_query_s']:.2f} s; "
          f"fresh process {r['first_query_fresh_s']:.2f} s); server RSS peak under load "
          f"{ours['rss_peak_mb']:.0f} MB; PSS after load (shared pages counted once) "
          f"{ours['pss_mb']:.0f} MB, reference {ref['pss_mb']:.0f} MB")
    print(f"  in process, ms:  {'kind':10} {'n':>4} {'ours p50':>9} {'ours p95':>9} "
          f"{'FTS5 p50':>9} {'FTS5 p95':>9}")
    for kind, t in r["kinds"].items():
        print(f"  {'':16} {kind:10} {len(t['ours']):>4} {pct(t['ours'], 50):>9.1f} "
              f"{pct(t['ours'], 95):>9.1f} {pct(t['fts5'], 50):>9.1f} {pct(t['fts5'], 95):>9.1f}")
    sys.stdout.flush()


def result_keys(r: dict[str, Any]) -> dict[str, float | int]:
    ours, ref = r["load"], r["ref_load"]
    keys: dict[str, float | int] = {
        "passages": r["passages"], "documents": r["documents"],
        "build_s": r["build_s"], "peak_rss_mb": r["peak_rss_mb"], "disk_mb": r["disk_mb"],
        "incr_s": r["incr_s"], "incr_ratio": r["incr_ratio"],
        "incr_peak_rss_mb": r["incr_peak_rss_mb"],
        "p95_ms": ours["p95"], "ref_p95_ms": ref["p95"], "p50_ms": ours["p50"],
        "ref_p50_ms": ref["p50"], "rps": ours["rps"], "ref_rps": ref["rps"],
        "rss_mb": ours["rss_mb"], "ref_rss_mb": ref["rss_mb"],
        "pss_mb": ours["pss_mb"], "ref_pss_mb": ref["pss_mb"],
        "rss_peak_mb": ours["rss_peak_mb"], "errors": ours["errors"],
        "ref_errors": ref["errors"],
        "natural_p95_ms": pct(r["kinds"]["natural"]["ours"], 95),
        "first_query_s": r["first_query_s"], "second_query_s": r["second_query_s"],
        "first_query_fresh_s": r["first_query_fresh_s"], "ref_build_s": r["ref_build_s"],
        "queries": r["queries"],
    }
    for kind, t in r["kinds"].items():
        keys[f"{kind}_p50_ms"] = pct(t["ours"], 50)
        keys[f"{kind}_p95_ms"] = pct(t["ours"], 95)
        keys[f"ref_{kind}_p95_ms"] = pct(t["fts5"], 95)
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
    args = parser.parse_args(argv)
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

    print(f"\nsummary ({args.clients} clients, {args.seconds:g} s; ours / FTS5 reference):")
    print(f"{'passages':>9} {'build s':>8} {'peak MB':>8} {'incr ratio':>10} {'1st q s':>8} "
          f"{'RSS MB':>13} {'req/s':>13} {'p95 ms':>15} {'p95 x':>6} {'errors':>7} "
          f"{'natural p95':>11}")
    for r in results:
        ours, ref = r["load"], r["ref_load"]
        ratio = ours["p95"] / ref["p95"] if ref["p95"] else float("inf")
        print(f"{label(r['size']):>9} {r['build_s']:>8.1f} {r['peak_rss_mb']:>8.0f} "
              f"{r['incr_ratio']:>10.3f} {r['first_query_s']:>8.2f} "
              f"{ours['rss_mb']:>6.0f}/{ref['rss_mb']:<6.0f} "
              f"{ours['rps']:>6.1f}/{ref['rps']:<6.1f} "
              f"{ours['p95']:>7.1f}/{ref['p95']:<7.1f} {ratio:>6.1f} "
              f"{ours['errors']:>3}/{ref['errors']:<3} "
              f"{pct(r['kinds']['natural']['ours'], 95):>11.1f}")
    pairs = [f"{key}_{label(r['size'])}={_plain(value)}"
             for r in results for key, value in result_keys(r).items()]
    print(f"RESULT clients={args.clients} workers={args.workers} seconds={args.seconds:g} "
          f"{' '.join(pairs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
