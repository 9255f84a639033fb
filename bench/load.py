"""Load: N concurrent clients against the search server on loopback for T seconds.

Without --url it crawls and indexes the bundled demo hub into a temporary directory and
starts `hubsearch serve` on a free loopback port in a process of its own (so the clients
here do not share its interpreter), then stops it at the end. Each client keeps one
connection open and sends staff-like queries in turn. Rows, measured in the same run:
/api/search (the thing measured), the HTML search page, and /healthz as the baseline cost
of the server and this client.

Run from the project root: .venv/bin/python bench/load.py [--clients 16] [--seconds 10]
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERIES = [
    "national referral mechanism", "duty to notify", "NRM referral for a child",
    "signs of trafficking in A&E", "county lines criminal exploitation", "consent adult victim",
    "what to do if a child is missing", "interpreter not a family member", "forced labour",
    "Single Competent Authority", "reasonable grounds decision", "safeguarding lead",
    "caethwasiaeth fodern", "cyfeirio at y mecanwaith", "child sexual exploitation signs",
    "traffiking", "report a child at risk Wales", "keeping learners safe", "duty to report",
    "modern slavery helpline",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp: Path) -> tuple[subprocess.Popen, str]:
    from crawler.run import run_crawl
    from hubsearch.demo_site import DEMO_ROOT, DemoSite, settings_for_site
    from hubsearch.settings import StorageSettings, load_settings
    from indexer.build import build_index

    with DemoSite() as site:
        settings = dataclasses.replace(
            settings_for_site(load_settings(DEMO_ROOT / "config.toml"), site.base_url),
            storage=StorageSettings(tmp / "hub.sqlite", tmp / "index"),
        )
        run_crawl(settings)
        build_index(settings)
    config = tmp / "config.toml"
    config.write_text("[storage]\nstore_path = 'hub.sqlite'\nindex_dir = 'index'\n")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubsearch.cli", "serve", "--config", str(config),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("error: the search server did not start")


def run_load(url: str, path_of, clients: int, seconds: float) -> dict:
    parts = urllib.parse.urlsplit(url)
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(n: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine, bad, i = [], 0, n
        while time.monotonic() < deadline:
            path = path_of(QUERIES[i % len(QUERIES)])
            i += 1
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                continue
            mine.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    ms = sorted(x * 1000 for x in latencies)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, int(p / 100 * len(ms)))] if ms else 0.0

    return {"requests": len(ms) + errors, "rps": len(ms) / elapsed, "errors": errors,
            "p50": statistics.median(ms) if ms else 0.0, "p95": pct(95), "p99": pct(99)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server to load instead of starting one")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    proc = None
    with tempfile.TemporaryDirectory(prefix="hubsearch-load-") as tmp:
        url = args.url
        if url is None:
            proc, url = start_server(Path(tmp))
        try:
            rows = {
                "/api/search": run_load(
                    url, lambda q: "/api/search?" + urllib.parse.urlencode({"q": q}),
                    args.clients, args.seconds),
                "/ (search page)": run_load(
                    url, lambda q: "/?" + urllib.parse.urlencode({"q": q}),
                    args.clients, args.seconds / 2),
                "/healthz (baseline)": run_load(
                    url, lambda q: "/healthz", args.clients, args.seconds / 2),
            }
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=20)
    print(f"{args.clients} clients, {args.seconds:g} s on /api/search ({len(QUERIES)} queries "
          f"in turn), half that on the others; server: one uvicorn process")
    print(f"{'endpoint':22} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'errors':>7}")
    for name, r in rows.items():
        print(f"{name:22} {r['requests']:>9} {r['rps']:>8.1f} {r['p50']:>8.1f} {r['p95']:>8.1f} "
              f"{r['p99']:>8.1f} {r['errors']:>7}")
    r = rows["/api/search"]
    print(f"RESULT clients={args.clients} seconds={args.seconds:g} requests={r['requests']} "
          f"rps={r['rps']:.1f} p50_ms={r['p50']:.2f} p95_ms={r['p95']:.2f} "
          f"p99_ms={r['p99']:.2f} errors={r['errors']} "
          f"page_rps={rows['/ (search page)']['rps']:.1f} "
          f"healthz_rps={rows['/healthz (baseline)']['rps']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
