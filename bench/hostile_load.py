"""Hostile load: many clients at once sending absurd search words, while /healthz is timed.

Issue 8's attack: one 499-letter word cost 0.2-0.6 s and ~71 MB in the spelling corrector;
40 such requests at once took /healthz to 5.2 s and the server from 204 MB to 1.6 GB. Here
N clients (40 by default) send, in turn, a fresh 499-letter word and a query of 16 unknown
30-letter words (the longest the corrector looks up), while one more client asks /healthz
every 50 ms. Rows: the hostile queries, /healthz before the run (the baseline) and during
it; the server's resident memory before, at its peak (VmHWM) and after.

Without --url it builds the demo index and starts `hubsearch serve` in a process of its
own, as bench/load.py does. With --url, pass --pid for the memory figures.

Run from the project root: .venv/bin/python bench/hostile_load.py [--clients 40] [--seconds 10]
"""

from __future__ import annotations

import argparse
import http.client
import random
import statistics
import string
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import start_server  # noqa: E402


def _word(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


def hostile_query(rng: random.Random, i: int) -> str:
    if i % 2 == 0:
        return _word(rng, 499)
    return " ".join(_word(rng, 30) for _ in range(16))


def rss_mb(pid: int | None, field: str = "VmRSS") -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _pct(values: list[float], p: float) -> float:
    ms = sorted(values)
    return ms[min(len(ms) - 1, int(p / 100 * len(ms)))] if ms else 0.0


def _get(conn: http.client.HTTPConnection, path: str) -> int:
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response.status


def probe_healthz(url: str, stop: threading.Event, out: list[float], errors: list[int]) -> None:
    parts = urllib.parse.urlsplit(url)
    while not stop.is_set():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        started = time.perf_counter()
        try:
            status = _get(conn, "/healthz")
            out.append((time.perf_counter() - started) * 1000)
            if status != 200:
                errors.append(status)
        except (OSError, http.client.HTTPException):
            errors.append(0)
        finally:
            conn.close()
        stop.wait(0.05)


def run_hostile(url: str, clients: int, seconds: float) -> dict:
    parts = urllib.parse.urlsplit(url)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        mine: list[float] = []
        seen: dict[int, int] = {}
        i = n
        while time.monotonic() < deadline:
            path = "/api/search?" + urllib.parse.urlencode({"q": hostile_query(rng, i)})
            i += 1
            started = time.perf_counter()
            try:
                status = _get(conn, path)
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            mine.append((time.perf_counter() - started) * 1000)
            seen[status] = seen.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for status, count in seen.items():
                statuses[status] = statuses.get(status, 0) + count

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": latencies, "statuses": statuses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server to load instead of starting one")
    parser.add_argument("--pid", type=int, help="with --url: the server's process id (memory)")
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    proc = None
    with tempfile.TemporaryDirectory(prefix="hubsearch-hostile-") as tmp:
        url, pid = args.url, args.pid
        if url is None:
            proc, url = start_server(Path(tmp))
            pid = proc.pid
        try:
            baseline: list[float] = []
            stop, base_errors = threading.Event(), []
            probe = threading.Thread(target=probe_healthz, args=(url, stop, baseline,
                                                                 base_errors))
            probe.start()
            time.sleep(2)
            stop.set()
            probe.join()
            rss_before = rss_mb(pid)

            during: list[float] = []
            stop, health_errors = threading.Event(), []
            probe = threading.Thread(target=probe_healthz, args=(url, stop, during,
                                                                 health_errors))
            probe.start()
            result = run_hostile(url, args.clients, args.seconds)
            stop.set()
            probe.join()
            rss_peak = rss_mb(pid, "VmHWM")
            time.sleep(2)
            rss_after = rss_mb(pid)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=20)

    lat = result["latencies"]
    ok = result["statuses"].get(200, 0)
    errors = sum(c for s, c in result["statuses"].items() if s != 200)

    def mb(value: float | None) -> str:
        return f"{value:.0f}" if value is not None else "–"

    print(f"{args.clients} clients, {args.seconds:g} s of hostile queries (a 499-letter word "
          f"and 16 unknown 30-letter words, in turn); /healthz every 50 ms alongside")
    print(f"{'row':28} {'requests':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'errors':>7}")
    rows = [("hostile /api/search", lat, errors),
            ("/healthz before (baseline)", baseline, len(base_errors)),
            ("/healthz during the run", during, len(health_errors))]
    for name, values, bad in rows:
        p50 = statistics.median(values) if values else 0.0
        print(f"{name:28} {len(values):>9} {p50:>8.1f} {_pct(values, 95):>8.1f} "
              f"{_pct(values, 99):>8.1f} {max(values, default=0):>8.1f} {bad:>7}")
    print(f"server RSS MB: before {mb(rss_before)}, peak {mb(rss_peak)}, "
          f"after {mb(rss_after)}; statuses {dict(sorted(result['statuses'].items()))}")
    fields = {
        "clients": args.clients, "seconds": f"{args.seconds:g}", "requests": len(lat),
        "ok": ok, "errors": errors,
        "p50_ms": f"{statistics.median(lat) if lat else 0:.2f}",
        "p95_ms": f"{_pct(lat, 95):.2f}", "p99_ms": f"{_pct(lat, 99):.2f}",
        "healthz_base_p95_ms": f"{_pct(baseline, 95):.2f}",
        "healthz_p95_ms": f"{_pct(during, 95):.2f}",
        "healthz_max_ms": f"{max(during, default=0):.2f}",
        "healthz_errors": len(health_errors),
    }
    for key, value in (("rss_before_mb", rss_before), ("rss_peak_mb", rss_peak),
                       ("rss_after_mb", rss_after)):
        if value is not None:
            fields[key] = f"{value:.1f}"
    print("RESULT " + " ".join(f"{k}={v}" for k, v in fields.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
