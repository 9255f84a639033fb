"""The hub spider: fetch each source page, then the documents its main content links to.

Parsing is delegated to the pure extractors in crawler/extract*.py; the spider only decides
what to fetch next and turns every outcome (document, HTTP error, network error, unreadable
body) into an item for the store pipeline, so nothing fails silently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.document import ExtractionError
from crawler.extract import extract_document
from crawler.failures import describe_failure
from crawler.items import DocumentItem, FailureItem
from hubsearch.settings import Source


def _redirect_chain(response_or_request_meta: dict[str, Any], final_url: str) -> list:
    """[[status, url], ...]: each hop followed, ending at the final URL."""
    urls = response_or_request_meta.get("redirect_urls") or []
    reasons = response_or_request_meta.get("redirect_reasons") or []
    hops = [[reason, url] for reason, url in zip(reasons, urls[1:] + [final_url], strict=False)]
    return hops


class HubSpider(scrapy.Spider):
    name = "hub"

    def __init__(self, sources: list[Source], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sources = sources

    async def start(self):  # Scrapy >= 2.13 entry point
        for source in self.sources:
            yield scrapy.Request(
                source.url,
                callback=self.parse_document,
                errback=self.on_error,
                meta={"source": source.name, "language_hint": source.language,
                      "follow": source.follow_links},
            )

    def parse_document(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        requested = (meta.get("redirect_urls") or [response.url])[0]
        redirects = _redirect_chain(meta, response.url)
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        try:
            document = extract_document(
                response.body, response.url, content_type,
                language_hint=meta.get("language_hint", ""),
            )
        except ExtractionError as exc:
            yield FailureItem(
                url=requested, source=meta["source"], reason=str(exc),
                status=response.status, final_url=response.url, redirects=redirects,
            )
            return
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
        )
        # Only hub pages lead on; the documents they link to are leaves (DEPTH_LIMIT agrees).
        if meta.get("follow") and meta.get("depth", 0) == 0:
            for link in document.links:
                yield scrapy.Request(
                    link,
                    callback=self.parse_document,
                    errback=self.on_error,
                    meta={"source": meta["source"], "language_hint": "", "follow": False},
                )

    def on_error(self, failure: Failure) -> Iterator[FailureItem]:
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
        )


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
