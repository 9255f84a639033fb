"""The search server: JSON API, the staff search page and a health check, over one index.

Endpoints are sync functions so Starlette runs them in its thread pool; each thread keeps
its own Whoosh searcher (see indexer/search.py). Query text is never logged: staff queries
can name the people they are worried about.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from hubsearch.settings import Settings
from indexer.build import read_status
from indexer.search import MAX_LIMIT, IndexNotReady, PassageSearcher

HERE = Path(__file__).resolve().parent / "hubsearch"
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


class SecurityHeaders:
    """Pure ASGI middleware: add the security headers to every response."""

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
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


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


def create_app(settings: Settings, searcher: PassageSearcher | None = None) -> Starlette:
    searcher = searcher or PassageSearcher(settings.storage.index_dir)
    templates = Jinja2Templates(directory=str(HERE / "templates"))

    def run_query(request: Request) -> tuple[str, Any]:
        query = (request.query_params.get("q") or "").strip()
        limit = _int_param(request, "limit", 10, 1, MAX_LIMIT)
        offset = _int_param(request, "offset", 0, 0, 10_000)
        if not query:
            return query, None
        if len(query) > 500:
            raise HTTPException(400, "q is too long (500 characters at most)")
        return query, searcher.search(query, limit=limit, offset=offset)

    def api_search(request: Request) -> Response:
        query, page = run_query(request)
        if page is None:
            return _error(400, "missing query: add ?q=words")
        return JSONResponse(page.to_dict())

    def search_page(request: Request) -> Response:
        error = None
        try:
            query, page = run_query(request)
        except IndexNotReady:
            query, page, error = request.query_params.get("q", ""), None, "not_ready"
        return templates.TemplateResponse(
            request,
            "search.html",
            {"query": query, "page": page, "error": error},
            status_code=503 if error else 200,
        )

    def status(request: Request) -> Response:
        # Written by the indexer beside the index: the server never reads the store.
        data = read_status(settings.storage.index_dir)
        if data is None:
            return _error(503, "no status yet: run `hubsearch crawl` then `hubsearch index`")
        return JSONResponse({**data, "serving": searcher.generation()})

    def healthz(request: Request) -> Response:
        generation = searcher.generation()
        if generation is None:
            return JSONResponse({"status": "no index", "generation": None}, status_code=503)
        return JSONResponse({"status": "ok", "generation": generation})

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _error(exc.status_code, exc.detail)

    async def not_ready(request: Request, exc: IndexNotReady) -> Response:
        return _error(503, str(exc))

    async def server_error(request: Request, exc: Exception) -> Response:
        # Log the type only: the message could quote the query.
        logger.error("internal error on %s: %s", request.url.path, type(exc).__name__)
        return _error(500, "internal error")

    return Starlette(
        routes=[
            Route("/", search_page),
            Route("/api/search", api_search),
            Route("/api/status", status),
            Route("/healthz", healthz),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ],
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={
            HTTPException: http_error,
            IndexNotReady: not_ready,
            Exception: server_error,
        },
    )


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Run the server until interrupted (uvicorn; access log off: it would log queries)."""
    import uvicorn

    uvicorn.run(
        create_app(settings),
        host=host or settings.server.host,
        port=port if port is not None else settings.server.port,
        access_log=False,
        log_level="info",
    )


if __name__ == "__main__":
    from hubsearch.cli import main

    sys.exit(main(["serve", *sys.argv[1:]]))
