"""What a proposed source would add, found without touching the document store.

Its hub page is fetched once by the real crawl (the address guard, robots.txt, the size,
time and memory bounds, the same extraction) into a throwaway store, and the links its main
content holds are sorted as the spider would sort them: the documents a crawl would fetch
(with the page's name for each, its type and host, and whether the store already has it,
under which source), and the links
it would skip, each with why. Each followed link's host is looked up once (bounded in time)
and judged by the address guard's rule, as the crawl would judge it when connecting.
"""

from __future__ import annotations

import dataclasses
import socket
import tempfile
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.run import run_crawl
from crawler.spiders.hub import _followable
from hubsearch.network_policy import AddressPolicy
from hubsearch.settings import Settings, Source, StorageSettings
from hubsearch.store import DocumentStore

LOOKUP_SECONDS = 10.0
TYPES = {".pdf": "PDF", ".docx": "Word", ".doc": "Word", ".odt": "OpenDocument"}


def _type(url: str) -> str:
    path = urlsplit(url).path.lower()
    return next((kind for ext, kind in TYPES.items() if path.endswith(ext)), "web page")


def _refusals(hosts: set[str], policy: AddressPolicy) -> dict[str, str | None]:
    """Each host's refusal by the guard's rule (None: allowed), looked up in parallel."""

    def judge(host: str) -> str | None:
        written = policy.host_refusal(host)
        if written:
            return written
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except OSError:
            return "refused: the host does not resolve"
        for info in infos:
            refusal = policy.refusal(str(info[4][0]))
            if refusal:
                return refusal
        return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {host: pool.submit(judge, host) for host in hosts}
        wait(futures.values(), timeout=LOOKUP_SECONDS)
        return {host: f.result() if f.done() else "not checked: the lookup took too long"
                for host, f in futures.items()}


def preview_source(settings: Settings, url: str, language: str = "") -> dict[str, Any]:
    """The preview of a hub page at `url` under `settings`' crawl rules (see the module
    docstring): {url, title, language, follow: [...], skip: [...]} or {url, error}."""
    with tempfile.TemporaryDirectory(prefix="hubsearch-preview-") as tmp:
        throwaway = dataclasses.replace(
            settings,
            storage=StorageSettings(store_path=Path(tmp) / "preview.sqlite",
                                    index_dir=Path(tmp) / "index"),
            sources=(Source(name="preview", url=url, follow_links=False, language=language),))
        run_crawl(throwaway)
        with DocumentStore(throwaway.storage.store_path) as store:
            page = store.get(url)
    if page is None or page.document is None:
        return {"url": url, "error": (page.error if page else None) or "nothing was fetched"}
    policy = AddressPolicy.from_settings(settings.crawl.allow_private_networks,
                                         settings.crawl.allowed_networks)
    limit = settings.crawl.max_links_per_page
    follow: list[dict[str, Any]] = []
    skip: list[dict[str, str]] = []
    seen: set[str] = set()
    for link in page.document.links:
        if link in seen:
            continue
        seen.add(link)
        if not _followable(link):
            skip.append({"url": link, "why": "not a document type the crawler fetches "
                                             "(image, media or archive)"})
        elif len(follow) >= limit:
            skip.append({"url": link, "why": f"past the limit of {limit} links a page "
                                             "(crawl.max_links_per_page)"})
        else:
            follow.append({"url": link, "title": page.document.link_texts.get(link, ""),
                           "type": _type(link),
                           "host": (urlsplit(link).hostname or "").lower()})
    refusals = _refusals({item["host"] for item in follow}, policy)
    kept = []
    for item in follow:
        if refusals.get(item["host"]):
            skip.append({"url": item["url"], "why": refusals[item["host"]]})
        else:
            kept.append(item)
    if settings.storage.store_path.exists():
        with DocumentStore(settings.storage.store_path) as store:
            for item in kept:
                stored = store.get(item["url"])
                item["already"] = stored.source if stored and stored.document else None
    return {"url": url, "title": page.document.title, "language": page.document.language,
            "follow": kept, "skip": skip}
