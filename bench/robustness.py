"""Extraction robustness on real files: nothing may crash or hang, every failure says why.

Runs `crawler.extract.extract_isolated` (the child-process parse the crawler uses) over every
PDF under ../shared/data/pdfs and every page under
../shared/data/article-extraction-benchmark/html, reading them in place, and prints per corpus:
files, ok, clear errors (ExtractionError with a one-line reason), unclear errors, crashes (the
child died, or something other than ExtractionError escaped), hangs (timeouts) and the slowest
file. Beside the PDF row it shows the pypdf 7.1.1 probe shipped with the data (same files, its
own 10 s limit). Then the error reasons grouped by count, the per-call cost of the child
process by start method, and last the RESULT line.

    .venv/bin/python bench/robustness.py [--timeout 20] [--memory-mb 1024] [--start-method fork]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.document import ExtractionError  # noqa: E402
from crawler.extract import extract_document, extract_isolated  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
PDFS = DATA / "pdfs"
HTML = DATA / "article-extraction-benchmark" / "html"
# Reasons extract_isolated gives when it had to stop the child rather than hear back from it.
_HANG = "parse timed out"
_CRASH = ("parser crashed", "parser exited")


@dataclass
class Tally:
    files: int = 0
    ok: int = 0
    errors: int = 0
    unclear: int = 0
    crashes: int = 0
    hangs: int = 0
    slowest: tuple[float, str] = (0.0, "")
    reasons: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def corpus() -> list[tuple[str, str, Path]]:
    """(corpus name, content type, path) for every file, in a stable order."""
    files = [("pdfs", "application/pdf", p) for p in sorted(PDFS.rglob("*.pdf"))]
    files += [("html", "text/html", p) for p in sorted(HTML.glob("*.html.gz"))]
    return files


def read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def is_clear(reason: str) -> bool:
    return bool(reason.strip()) and "\n" not in reason and len(reason) < 300


def run_one(body: bytes, url: str, ctype: str, args: argparse.Namespace) -> tuple[str, str]:
    """("ok" | "error" | "unclear" | "crash" | "hang", reason)."""
    try:
        extract_isolated(
            body,
            url,
            ctype,
            timeout=args.timeout,
            memory_bytes=args.memory_mb * 1024 * 1024,
            start_method=args.start_method,
        )
    except ExtractionError as exc:
        reason = str(exc)
        if reason.startswith(_HANG):
            return "hang", reason
        if reason.startswith(_CRASH):
            return "crash", reason
        return ("error" if is_clear(reason) else "unclear"), reason
    except Exception as exc:  # noqa: BLE001 - anything else escaping is what we count
        return "crash", f"{type(exc).__name__}: {exc}"
    return "ok", ""


def pypdf_probe() -> Counter[str]:
    """Status counts of the pypdf probe that ships with the PDFs (ok / error / timeout)."""
    counts: Counter[str] = Counter()
    for probe in PDFS.glob("*/pypdf_probe.json"):
        for entry in json.loads(probe.read_text()).values():
            counts[entry.get("status", "?")] += 1
    return counts


def overhead(rounds: int = 21) -> dict[str, float]:
    """Median ms per call on a one-page PDF: in-process, then each start method, alternating."""
    sample = PDFS / "py-pdf-sample-files" / "001-trivial" / "minimal-document.pdf"
    if not sample.exists():
        return {}
    body = sample.read_bytes()
    url = sample.as_uri()
    times: dict[str, list[float]] = defaultdict(list)
    methods = ["fork", "forkserver"]
    extract_isolated(body, url, start_method="forkserver")  # start the server outside the clock
    for _ in range(rounds):
        started = time.perf_counter()
        extract_document(body, url)
        times["in_process"].append(time.perf_counter() - started)
        for method in methods:
            started = time.perf_counter()
            extract_isolated(body, url, start_method=method)
            times[method].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per file")
    parser.add_argument("--memory-mb", type=int, default=1024, help="memory budget per file")
    parser.add_argument("--start-method", default=None, help="fork, forkserver or spawn")
    args = parser.parse_args()
    if not PDFS.is_dir() or not HTML.is_dir():
        print(f"no test data under {DATA} (pdfs/ and article-extraction-benchmark/html/)")
        return 2

    tallies: dict[str, Tally] = {"pdfs": Tally(), "html": Tally()}
    started_all = time.perf_counter()
    for name, ctype, path in corpus():
        tally = tallies[name]
        rel = str(path.relative_to(DATA))
        started = time.perf_counter()
        outcome, reason = run_one(read(path), path.as_uri(), ctype, args)
        seconds = time.perf_counter() - started
        tally.files += 1
        tally.slowest = max(tally.slowest, (seconds, rel))
        if outcome == "ok":
            tally.ok += 1
        elif outcome == "error":
            tally.errors += 1
        elif outcome == "unclear":
            tally.unclear += 1
        elif outcome == "crash":
            tally.crashes += 1
        else:
            tally.hangs += 1
        if outcome != "ok":
            tally.reasons[f"[{outcome}] {reason}"].append(rel)
    wall = time.perf_counter() - started_all

    total = Tally()
    for tally in tallies.values():
        for key in ("files", "ok", "errors", "unclear", "crashes", "hangs"):
            setattr(total, key, getattr(total, key) + getattr(tally, key))
        total.slowest = max(total.slowest, tally.slowest)
        for reason, files in tally.reasons.items():
            total.reasons[reason].extend(files)

    header = f"{'corpus':<26}{'files':>6}{'ok':>6}{'errors':>7}{'unclear':>8}{'crashes':>8}"
    print(f"{header}{'hangs':>6}  slowest file (s)")
    for name, tally in [*tallies.items(), ("total", total)]:
        print(
            f"{name:<26}{tally.files:>6}{tally.ok:>6}{tally.errors:>7}{tally.unclear:>8}"
            f"{tally.crashes:>8}{tally.hangs:>6}  {tally.slowest[1]} ({tally.slowest[0]:.2f})"
        )
    probe = pypdf_probe()
    print(
        f"{'pdfs: pypdf 7.1.1 probe':<26}{sum(probe.values()):>6}{probe['ok']:>6}"
        f"{probe['error']:>7}{'-':>8}{'-':>8}{probe['timeout']:>6}  (shipped with the data; "
        "its ok = opened, not text found)"
    )
    print(f"\nwall time {wall:.1f} s, timeout {args.timeout:g} s, memory {args.memory_mb} MB")

    print("\nreasons (count, reason, first file):")
    for reason, files in sorted(total.reasons.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"{len(files):>4}  {reason}  ({files[0]})")

    costs = overhead()
    if costs:
        print("\nper-call cost, one-page PDF, median ms: " + ", ".join(
            f"{name} {ms:.1f}" for name, ms in costs.items()
        ))
    summary = (
        f"RESULT files={total.files} ok={total.ok} errors={total.errors} "
        f"crashes={total.crashes} hangs={total.hangs} "
        f"slowest_s={total.slowest[0]:.2f} unclear={total.unclear}"
    )
    for name, ms in costs.items():
        summary += f" {name}_ms={ms:.2f}"
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
