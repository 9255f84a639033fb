"""The search server: JSON API, the staff search page and a health check, over one index.

Endpoints are sync functions so Starlette runs them in its thread pool; each thread keeps
its own Whoosh searcher (see indexer/search.py), so the pool is bounded (WORKER_THREADS):
more threads would not search faster on a few cores, only hold more searchers in memory.
/healthz runs on the event loop, so it answers while every thread is busy. Query text is
never logged: staff queries can name the people they are worried about.

No response is cached by a browser or proxy (`Cache-Control: no-store`, static files
aside): search pages echo the query. Page links are root-relative, never built from the
Host header. The limits on connections, headers and bodies are in hubsearch/serving.py.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from hubsearch import i18n
from hubsearch.access_log import ObservedRequests, access_log, loggable
from hubsearch.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from hubsearch.metrics import Metrics
from hubsearch.openapi import openapi_document
from hubsearch.serving import RequestLimits, StatusNetworks
from hubsearch.settings import CONFIG_ENV, DEFAULT_CONFIG, Settings, load_settings
from hubsearch.status_snapshot import document_status, read_status
from indexer import manifest
from indexer.query import MAX_QUERY_CHARS, QueryRefused, query_problem
from indexer.schema import LANGUAGES
from indexer.search import (
    DOCUMENT_PASSAGES,
    FACETS,
    MAX_LIMIT,
    SORTS,
    IndexNotReady,
    PassageSearcher,
)
from indexer.suggest import MAX_SUGGESTIONS

HERE = Path(__file__).resolve().parent / "hubsearch"
OPENAPI = openapi_document()
DOCUMENT_URL = re.compile(r"https?://[^\s/]+")
logger = logging.getLogger("hubsearch.server")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# Requests at once in the thread pool (sync endpoints); the rest wait their turn. Search is
# CPU work under one GIL: at 50k passages, 16 clients, 2 processes of 2 threads answered
# 140-160 req/s, of 8 threads 123-129 req/s (threads queue on the GIL and each holds a
# searcher); scale with `serve --workers`, not threads.
WORKER_THREADS = 2
# The config file app_from_env reads (set by `hubsearch serve --workers N` for its workers).


class SecurityHeaders:
    """Pure ASGI middleware: add the security headers to every response, and
    `Cache-Control: no-store` to every one but the static files'."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                if not scope["path"].startswith("/static/"):
                    headers = [(k, v) for k, v in headers if k != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _PageUrls:
    """Query strings for the page's links, each keeping the query, filters and interface."""

    def __init__(self, query: str, lang: str, page: Any, ui: str = i18n.DEFAULT_UI) -> None:
        self.base: list[tuple[str, str]] = [("q", query)]
        if lang:
            self.base.append(("lang", lang))
        if ui != i18n.DEFAULT_UI:
            self.base.append(("ui", ui))
        self.sort = getattr(page, "sort", "relevance")
        if self.sort != "relevance":
            self.base.append(("sort", self.sort))
        self.filters: list[tuple[str, str]] = []
        self.document = getattr(page, "document", None)
        for name, values in (getattr(page, "filters", None) or {}).items():
            self.filters += [(name, v) for v in values]

    def _qs(self, pairs: list[tuple[str, str]]) -> str:
        return "?" + urlencode(pairs)

    def offset(self, offset: int) -> str:
        extra = [("document", self.document)] if self.document else []
        return self._qs(self.base + self.filters + extra + [("offset", str(offset))])

    def query(self, text: str) -> str:
        return self._qs([("q", text)] + self.base[1:] + self.filters)

    def document_of(self, url: str) -> str:
        return self._qs(self.base + [("document", url)])

    def all_documents(self) -> str:
        return self._qs(self.base + self.filters)

    def without_filters(self) -> str:
        return self._qs(self.base)

    def sorted_by(self, sort: str) -> str:
        """This search (its filters too, from the first page) in another order."""
        base = [pair for pair in self.base if pair[0] != "sort"]
        extra = [("document", self.document)] if self.document else []
        return self._qs(base + self.filters + extra + ([("sort", sort)] if sort != "relevance"
                                                        else []))


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HTTPException(400, f"{name} must be a whole number, got {raw[:20]!r}") from None
    if not low <= value <= high:
        raise HTTPException(400, f"{name} must be between {low} and {high}")
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_FILTER_VALUES = 20


def _filter_params(request: Request) -> dict[str, list[str]]:
    """source=, doc_type=, language=, audience= (each repeatable; empty values ignored).

    A value nothing has is not an error (it just matches nothing); a value no index could
    hold (too long, control characters) or too many of them is a 400 naming the parameter.
    """
    filters: dict[str, list[str]] = {}
    for name in FACETS:
        values = [v for v in request.query_params.getlist(name) if v.strip()]
        if len(values) > MAX_FILTER_VALUES:
            raise HTTPException(400, f"{name}: at most {MAX_FILTER_VALUES} values")
        for value in values:
            if len(value) > 200 or _CONTROL.search(value):
                raise HTTPException(400, f"{name} must be a name of at most 200 characters")
        if values:
            filters[name] = values
    return filters


def _choice_param(request: Request, name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise HTTPException(400, f"{name} must be one of {', '.join(choices)}, or left out")
    return raw


def create_app(settings: Settings, searcher: PassageSearcher | None = None) -> Starlette:
    searcher = searcher or PassageSearcher(
        settings.storage.index_dir, synonyms_path=settings.search.synonyms_path,
        best_bets_path=settings.search.best_bets_path,
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    status_guard = StatusNetworks(None, settings.server.status_networks)
    metrics = Metrics(searcher.built_at)

    def run_query(request: Request) -> tuple[str, Any]:
        query = (request.query_params.get("q") or "").strip()
        limit = _int_param(request, "limit", 10, 1, MAX_LIMIT)
        offset = _int_param(request, "offset", 0, 0, 10_000)
        lang = _choice_param(request, "lang", LANGUAGES)
        filters = _filter_params(request)
        document = request.query_params.get("document") or None
        sort = _choice_param(request, "sort", SORTS) or "relevance"
        # The same rule /openapi.json states: an http(s) URL's start; the rest is looked up.
        if document is not None and (len(document) > 2000 or not DOCUMENT_URL.match(document)):
            raise HTTPException(400, "document must be the http(s) URL of a document")
        if not query:
            return query, None
        problem = query_problem(query)
        if problem is not None:
            raise HTTPException(400, problem)
        page = searcher.search(query, limit=limit, offset=offset, lang=lang, filters=filters,
                               document=document, sort=sort)
        if not page.total_passages:
            metrics.zero_results.inc()  # a count only: the words themselves are never kept
        return query, page

    def api_suggest(request: Request) -> Response:
        """Completions of what is being typed in the search box (indexer/suggest.py)."""
        text = request.query_params.get("q") or ""
        if len(text) > MAX_QUERY_CHARS:
            raise HTTPException(400, f"q must be at most {MAX_QUERY_CHARS} characters")
        limit = _int_param(request, "limit", 8, 1, MAX_SUGGESTIONS)
        response = JSONResponse({"query": text, "suggestions": searcher.suggest(text, limit)})
        # Typed words are as private as searches: not kept by any cache on the way.
        response.headers["Cache-Control"] = "no-store"
        return response

    def api_search(request: Request) -> Response:
        query, page = run_query(request)
        if page is None:
            return _error(400, "missing query: add ?q=words")
        return JSONResponse(page.to_dict())

    def search_page(request: Request) -> Response:
        error = None
        status_code = 200
        try:
            query, page = run_query(request)
        except IndexNotReady:
            query, page, error = request.query_params.get("q", ""), None, "not_ready"
            status_code = 503
        except HTTPException as exc:
            # The page shows a bad parameter as a message, not as a JSON error.
            query, page, error = request.query_params.get("q", ""), None, exc.detail
            status_code = exc.status_code
        lang = request.query_params.get("lang") or ""
        lang = lang if lang in LANGUAGES else ""
        t = i18n.translator(request.query_params.get("ui"))
        return templates.TemplateResponse(
            request,
            "search.html",
            {"query": query, "page": page, "error": error, "lang": lang, "t": t,
             "facets": _offered_facets(page), "urls": _PageUrls(query, lang, page, t.ui),
             "hub_pages": [(s.display_title(t.ui), s.url) for s in settings.sources],
             **_page_links(request, t)},
            status_code=status_code,
        )

    def _offered_facets(page: Any) -> dict[str, dict[str, int]]:
        # A filter with a single value narrows nothing: offered only while it is applied.
        if page is None:
            return {}
        return {name: counts for name, counts in page.facets.items()
                if len(counts) > 1 or page.filters.get(name)}

    def _page_links(request: Request, t: i18n.Translator) -> dict[str, Any]:
        # The header's language switch keeps every parameter; the rest keep only `ui`.
        # Behind a proxy under a sub-path (server.root_path) every link starts with it.
        here = request.query_params.multi_items()
        root = request.scope.get("root_path", "")
        return {
            "switch_url": i18n.with_ui(request.url.path, here, t.other),
            "home_url": i18n.with_ui(f"{root}/", [], t.ui),
            "search_action": f"{root}/",
            "suggest_url": f"{root}/api/suggest",
            # Not linked for a client the status page would answer 404.
            "status_url": i18n.with_ui(f"{root}/status", [], t.ui)
            if status_guard.allows(request.scope) else "",
            "urgent_help": settings.page.urgent_help(t.ui),
            "source_titles": {s.name: s.display_title(t.ui) for s in settings.sources},
        }

    def status_page(request: Request) -> Response:
        """The maintainers' view of /api/status: freshness, and sources needing attention."""
        t = i18n.translator(request.query_params.get("ui"))
        data = read_status(settings.storage.index_dir)
        context: dict[str, Any] = {"t": t, "status": data, **_page_links(request, t)}
        if data is None:
            return templates.TemplateResponse(request, "status.html", context, status_code=503)
        serving = searcher.generation()
        info = manifest.read_info(settings.storage.index_dir / serving) if serving else None
        context.update(serving=serving, built_at=(info or {}).get("built_at"),
                       attention=data["documents"])
        return templates.TemplateResponse(request, "status.html", context)

    def status(request: Request) -> Response:
        # Written by the indexer beside the index: the server never reads the store.
        data = read_status(settings.storage.index_dir)
        if data is None:
            return _error(503, "no status yet: run `hubsearch crawl` then `hubsearch index`")
        return JSONResponse({**data, "serving": searcher.generation(), **searcher.counts()})

    def document(request: Request) -> Response:
        doc_id = request.path_params["doc_id"]
        offset = _int_param(request, "offset", 0, 0, 1_000_000)
        limit = _int_param(request, "limit", DOCUMENT_PASSAGES, 1, DOCUMENT_PASSAGES)
        found = searcher.document(doc_id, offset=offset, limit=limit) if len(doc_id) <= 64 \
            else None
        if found is None:
            return _error(404, "no document with that id in the current index")
        # Health and fetch history come from the status the indexer saved beside the index.
        row = document_status(settings.storage.index_dir, found["requested_url"])
        health = {k: v for k, v in (row or {}).items() if k != "history"} or None
        return JSONResponse({**found, "health": health,
                             "history": (row or {}).get("history", [])})

    def openapi(request: Request) -> Response:
        return JSONResponse(OPENAPI)

    def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type=METRICS_CONTENT_TYPE)

    async def healthz(request: Request) -> Response:
        generation = searcher.generation()
        if generation is None:
            return JSONResponse({"status": "no index", "generation": None}, status_code=503)
        return JSONResponse({"status": "ok", "generation": generation})

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _error(exc.status_code, exc.detail)

    async def not_ready(request: Request, exc: IndexNotReady) -> Response:
        return _error(503, str(exc))

    async def refused(request: Request, exc: QueryRefused) -> Response:
        return _error(400, str(exc))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        yield

    async def server_error(request: Request, exc: Exception) -> Response:
        # Log the type only: the message could quote the query.
        logger.error("internal error on %s: %s", loggable(request.url.path),
                     type(exc).__name__)
        return _error(500, "internal error")

    return Starlette(
        routes=[
            Route("/", search_page),
            Route("/status", status_page),
            Route("/api/search", api_search),
            Route("/api/suggest", api_suggest),
            Route("/api/status", status),
            Route("/api/documents/{doc_id}", document),
            Route("/openapi.json", openapi),
            Route("/metrics", metrics_endpoint),
            Route("/healthz", healthz),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ],
        middleware=[
            Middleware(ObservedRequests, observers=(access_log, metrics.observe)),
            Middleware(SecurityHeaders),
            Middleware(RequestLimits),
            Middleware(StatusNetworks, networks=settings.server.status_networks),
        ],
        exception_handlers={
            HTTPException: http_error,
            IndexNotReady: not_ready,
            QueryRefused: refused,
            Exception: server_error,
        },
        lifespan=lifespan,
    )


def app_from_env() -> Starlette:
    """The app over the config file named by $HUBSEARCH_CONFIG (default ./config.toml).

    For an ASGI server run by hand, e.g.
    `HUBSEARCH_CONFIG=config.toml uvicorn --factory search_server:app_from_env`,
    and for each worker process of `hubsearch serve --workers N`.
    """
    return create_app(load_settings(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG))


def serve(settings: Settings, host: str | None = None, port: int | None = None,
          workers: int = 1) -> None:
    """Run the server until interrupted; BindError (one line) if it cannot listen there.

    With workers > 1, each worker process reads the config again from `settings.path`.
    """
    from hubsearch.serving import run, run_workers

    host = host or settings.server.host
    port = port if port is not None else settings.server.port
    if workers > 1:
        run_workers(settings.path, host, port, workers, server=settings.server)
    else:
        run(create_app(settings), host, port, server=settings.server)


if __name__ == "__main__":
    from hubsearch.cli import main

    sys.exit(main(["serve", *sys.argv[1:]]))
