"""The hub spider: fetch each source page, then the documents its main content links to.

Parsing is delegated to the pure extractors in crawler/extract*.py, run in a child process
under a time and memory bound; the spider only decides what to fetch next and turns every
outcome (document, 304, HTTP error, network error, unreadable body) into an item for the
store pipeline, so nothing fails silently.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from scrapy.linkextractors import IGNORED_EXTENSIONS
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from crawler.bounds import bound_document, trusted_canonical
from crawler.document import ExtractionError
from crawler.extract import extract_isolated
from crawler.failures import describe_failure
from crawler.items import DocumentItem, FailureItem, NotModifiedItem
from crawler.ocr import OcrOptions
from hubsearch.settings import Settings
from hubsearch.store import DocumentStore

# Guidance comes as HTML, PDF and Word; links to images, media and archives are not followed.
DOCUMENT_EXTENSIONS = {"pdf", "doc", "docx", "odt", "rtf"}
SKIPPED_EXTENSIONS = {f".{ext}" for ext in IGNORED_EXTENSIONS} - {
    f".{ext}" for ext in DOCUMENT_EXTENSIONS
}


def _redirect_chain(meta: dict[str, Any], final_url: str) -> list:
    """[[status, url], ...]: each hop followed, ending at the final URL."""
    urls = meta.get("redirect_urls") or []
    reasons = meta.get("redirect_reasons") or []
    return [[reason, url] for reason, url in zip(reasons, urls[1:] + [final_url], strict=False)]


def _followable(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return not any(path.endswith(ext) for ext in SKIPPED_EXTENSIONS)


class HubSpider(scrapy.Spider):
    name = "hub"
    # A 304 answers our conditional request: the stored copy is current.
    handle_httpstatus_list = [304]

    def __init__(
        self, hub_settings: Settings, sources: list[str] | None = None, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.hub = hub_settings
        self.requested: set[str] = set()
        self.sources = [s for s in hub_settings.sources if not sources or s.name in sources]
        self.ocr = OcrOptions(hub_settings.crawl.ocr, hub_settings.crawl.ocr_max_pages)

    async def start(self) -> AsyncIterator[scrapy.Request | FailureItem]:
        for source in self.sources:
            self.requested.add(source.url)
            try:
                request = scrapy.Request(
                    source.url,
                    callback=self.parse_document,
                    errback=self.on_error,
                    meta={"source": source.name, "language_hint": source.language,
                          "follow": source.follow_links, "is_source": True},
                )
            except ValueError as exc:
                # A source that cannot even be requested fails alone; the others still run.
                yield FailureItem(url=source.url, source=source.name, is_source=True,
                                  reason=f"cannot request this URL: {exc}", status=None,
                                  final_url=source.url, redirects=[])
                continue
            yield request

    async def parse_document(self, response: Response) -> AsyncIterator[Any]:
        meta = response.meta
        requested = (meta.get("redirect_urls") or [response.url])[0]
        if response.status == 304:
            yield NotModifiedItem(
                url=requested, source=meta["source"], final_url=response.url,
                redirects=_redirect_chain(meta, response.url),
            )
            for request in self._follow(meta, self._stored_links(requested)):
                yield request
            return
        redirects = _redirect_chain(meta, response.url)
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        try:
            document = await maybe_deferred_to_future(deferToThread(
                extract_isolated, response.body, response.url, content_type,
                language_hint=meta.get("language_hint", ""),
                timeout=self.hub.crawl.parse_timeout,
                memory_bytes=self.hub.crawl.parse_memory_mb * 1024 * 1024,
                ocr=self.ocr,
            ))
        except ExtractionError as exc:
            yield FailureItem(
                url=requested, source=meta["source"], reason=str(exc), status=response.status,
                final_url=response.url, redirects=redirects,
                is_source=meta.get("is_source", False),
            )
            return
        document = bound_document(trusted_canonical(document, response.url))
        if document.ignored_canonical_url:
            self.logger.warning("ignored canonical URL of %s: %s is on another host",
                                response.url, document.ignored_canonical_url)
        if document.ocr_note:
            # Stored and searchable, but some scanned pages were left unread.
            self.logger.warning("%s: %s", response.url, document.ocr_note)
        yield DocumentItem(
            url=requested,
            final_url=response.url,
            source=meta["source"],
            status=response.status,
            content_type=content_type,
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            sha256=hashlib.sha256(response.body).hexdigest(),
            bytes=len(response.body),
            redirects=redirects,
            document=document,
            is_source=meta.get("is_source", False),
        )
        for request in self._follow(meta, document.links):
            yield request

    def _follow(self, meta: dict[str, Any], links: list[str]) -> list[scrapy.Request]:
        # Only hub pages lead on; the documents they link to are leaves (DEPTH_LIMIT agrees).
        if not meta.get("follow") or not meta.get("is_source"):
            return []
        links = [link for link in links if _followable(link)][: self.hub.crawl.max_links_per_page]
        requests = []
        for link in links:
            if link in self.requested:
                continue
            self.requested.add(link)
            # We dedupe links ourselves: with Scrapy's duplicate filter, a redirect loop's
            # return to a URL already asked for would be dropped without a trace, and the
            # document would get no outcome at all.
            try:
                requests.append(scrapy.Request(
                    link,
                    callback=self.parse_document,
                    errback=self.on_error,
                    dont_filter=True,
                    meta={"source": meta["source"], "language_hint": "", "follow": False},
                ))
            except ValueError as exc:
                self.logger.warning("skipped link %s: %s", link[:200], exc)
        return requests

    def _stored_links(self, url: str) -> list[str]:
        with DocumentStore(Path(self.hub.storage.store_path)) as store:
            stored = store.get(url)
        return list(stored.document.links) if stored and stored.document else []

    def on_error(self, failure: Failure) -> Any:
        request = failure.request
        meta = request.meta
        response = failure.value.response if failure.check(HttpError) else None
        requested = (meta.get("redirect_urls") or [request.url])[0]
        final_url = response.url if response is not None else request.url
        yield FailureItem(
            url=requested,
            source=meta.get("source", ""),
            reason=describe_failure(failure),
            status=response.status if response is not None else None,
            final_url=final_url,
            redirects=_redirect_chain(meta, final_url),
            is_source=meta.get("is_source", False),
        )


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
