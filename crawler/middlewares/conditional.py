"""Send each stored document's validators back, so an unchanged document costs a 304.

Scrapy's HttpCacheMiddleware can do this too, but it keeps a second copy of every body on
disk and skips the request entirely while it thinks a page is fresh; the store already holds
ETag and Last-Modified, so asking the server each time is simpler and always current.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from hubsearch.store import DocumentStore


class ConditionalRequestMiddleware:
    def __init__(self, store_path: Path) -> None:
        with DocumentStore(store_path) as store:
            self.validators = store.validators()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        path = crawler.settings.get("HUBSEARCH_STORE_PATH")
        if not path:
            raise NotConfigured("HUBSEARCH_STORE_PATH is not set")
        return cls(Path(path))

    def process_request(self, request: Request, spider: Any = None) -> None:
        # A redirected request carries the URL first asked for, which is the store's key.
        key = (request.meta.get("redirect_urls") or [request.url])[0]
        etag, last_modified = self.validators.get(key, (None, None))
        if etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = etag
        if last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = last_modified
        return None
