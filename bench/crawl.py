"""The cost of staying current: crawl a loopback site three times and measure each run.

The site is the demo hub plus one page per real GOV.UK content item (and per part of a
multi-part guide) from ../shared/data/govuk-content, listed on an extra hub page. Runs:
  1. first crawl and index;
  2. the same again with nothing changed (validators should make it nearly free);
  3. after editing, removing (file deleted and unlinked from the hub) and moving (301) a few
     documents: exactly those should be re-indexed.

Run from the project root: .venv/bin/python bench/crawl.py
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.govuk_set import item_bodies  # noqa: E402
from crawler.run import run_crawl  # noqa: E402
from hubsearch.demo_site import DEMO_HUB, DEMO_ROOT, DemoSite, settings_for_site  # noqa: E402
from hubsearch.settings import Source, StorageSettings, load_settings  # noqa: E402
from indexer.build import build_index  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "govuk-content"
CHANGED, REMOVED, MOVED = 3, 2, 2


def _page(title: str, body: str, lang: str) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} - GOV.UK</title></head><body>"
        '<a class="skip-link" href="#main">Skip to main content</a>'
        '<header><nav><a href="/">Home</a> <a href="/browse">Browse</a></nav></header>'
        f'<main id="main"><h1>{html.escape(title)}</h1>{body}</main>'
        "<footer><p>All content is available under the Open Government Licence v3.0</p>"
        "</footer></body></html>"
    )


def govuk_pages() -> Iterator[tuple[str, str, str, str]]:
    """(name, base path, title, page HTML) of every body of every readable GOV.UK example."""
    files = sorted((DATA / "content_schemas" / "examples").rglob("*.json"))
    for n, file in enumerate(files):
        try:
            item = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        lang = "cy" if item.get("locale") == "cy" else "en"
        for m, (title, body) in enumerate(item_bodies(item)):
            yield f"{n:03d}-{m}", item.get("base_path") or "/", title, _page(title, body, lang)


def build_site(site_dir: Path) -> list[str]:
    """Copy the demo hub and add the GOV.UK pages; return the added pages' paths."""
    shutil.copytree(DEMO_HUB / "site", site_dir)
    paths = []
    for name, _, _, page in govuk_pages():
        path = f"/govuk/{name}.html"
        (site_dir / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (site_dir / path.lstrip("/")).write_text(page, encoding="utf-8")
        paths.append(path)
    write_hub(site_dir, paths)
    return paths


def write_hub(site_dir: Path, paths: list[str]) -> None:
    links = "".join(f'<li><a href="{p}">{p} (External link)</a></li>' for p in paths)
    hub = _page("GOV.UK guidance collection", f"<h2 id='docs'>Documents</h2><ul>{links}</ul>", "en")
    (site_dir / "govuk" / "index.html").write_text(hub, encoding="utf-8")
    # A fresh mtime: SimpleHTTPRequestHandler's Last-Modified comes from it.
    os.utime(site_dir / "govuk" / "index.html")


def measure(settings, label: str) -> dict:
    started = time.monotonic()
    crawl = run_crawl(settings).run
    built = build_index(settings)
    seconds = time.monotonic() - started
    return {"run": label, "bytes": crawl.bytes, "fetched": crawl.fetched, "new": crawl.new,
            "changed": crawl.changed, "unchanged": crawl.unchanged, "failed": crawl.failed,
            "gone": crawl.gone, "reindexed_docs": len(built.touched),
            "reindexed_passages": built.passages_written, "touched": built.touched,
            "seconds": seconds, "mode": built.mode}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    if not DATA.is_dir():
        print(f"error: {DATA} not found (see ../shared/data/README.md)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="hubsearch-bench-") as tmp:
        tmp_path = Path(tmp)
        site_dir = tmp_path / "site"
        paths = build_site(site_dir)
        with DemoSite(root=site_dir) as site:
            base = load_settings(DEMO_ROOT / "config.toml")
            settings = settings_for_site(base, site.base_url)
            settings = dataclasses.replace(
                settings,
                crawl=dataclasses.replace(settings.crawl, max_links_per_page=2000),
                storage=StorageSettings(tmp_path / "hub.sqlite", tmp_path / "index"),
                sources=(*settings.sources, Source("govuk", f"{site.base_url}/govuk/")),
            )
            first = measure(settings, "first crawl")
            unchanged = measure(settings, "no change")

            url = site.base_url
            expected: set[str] = set()
            for path in paths[:CHANGED]:
                file = site_dir / path.lstrip("/")
                file.write_text(file.read_text().replace("</main>", "<p>Revised.</p></main>"))
                expected.add(url + path)
            removed = paths[CHANGED:CHANGED + REMOVED]
            for path in removed:
                (site_dir / path.lstrip("/")).unlink()
                expected.add(url + path)
            moved = paths[CHANGED + REMOVED:CHANGED + REMOVED + MOVED]
            for path in moved:
                new = path.replace("/govuk/", "/govuk/moved/")
                (site_dir / new.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
                os.rename(site_dir / path.lstrip("/"), site_dir / new.lstrip("/"))
                # The running server reads this dict on every request.
                site.redirects[path] = new
                expected |= {url + path, url + new}
            write_hub(site_dir, [p for p in paths if p not in removed])
            expected.add(f"{url}/govuk/")  # the hub page itself changed
            edited = measure(settings, "after edits")

    rows = [first, unchanged, edited]
    print(f"site: {len(paths)} GOV.UK pages + the demo hub; edits: {CHANGED} changed, "
          f"{REMOVED} removed, {MOVED} moved (301)")
    print(f"{'run':12} {'bytes':>10} {'fetched':>8} {'new':>5} {'changed':>8} {'same':>6} "
          f"{'failed':>7} {'gone':>5} {'docs reindexed':>15} {'passages':>9} {'seconds':>8}")
    for r in rows:
        print(f"{r['run']:12} {r['bytes']:>10} {r['fetched']:>8} {r['new']:>5} {r['changed']:>8} "
              f"{r['unchanged']:>6} {r['failed']:>7} {r['gone']:>5} {r['reindexed_docs']:>15} "
              f"{r['reindexed_passages']:>9} {r['seconds']:>8.1f}")
    ratio = unchanged["bytes"] / first["bytes"] if first["bytes"] else 0.0
    touched = set(edited["touched"])
    exact = touched == expected
    print(f"\nunchanged re-crawl: {ratio:.2%} of the first crawl's bytes (target <= 5%), "
          f"{unchanged['reindexed_passages']} passages re-indexed (target 0)")
    print(f"after edits: {len(touched)} documents touched, {len(expected)} expected, "
          f"exactly those: {'yes' if exact else 'no'}")
    if not exact:
        print(f"  unexpected: {sorted(touched - expected)}\n  missed: {sorted(expected - touched)}")
    print(
        f"RESULT first_bytes={first['bytes']} unchanged_bytes={unchanged['bytes']} "
        f"unchanged_bytes_ratio={ratio:.4f} unchanged_reindexed={unchanged['reindexed_passages']} "
        f"changed_touched={len(touched)} changed_expected={len(expected)} "
        f"changed_exact={int(exact)} first_s={first['seconds']:.2f} "
        f"unchanged_s={unchanged['seconds']:.2f} changed_s={edited['seconds']:.2f} "
        f"documents={first['fetched']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
