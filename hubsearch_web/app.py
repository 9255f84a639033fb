"""The server application: one searcher of the configured backend (hubsearch/search_backend.py),
the routes of each part of the web side, the middleware every request passes through, and
the error handlers.

Endpoints are sync functions so Starlette runs them in its thread pool; with Whoosh each
thread keeps its own searcher (see indexer/search.py), so the pool is bounded (WORKER_THREADS):
more threads would not search faster on a few cores, only hold more searchers in memory.

No response is cached by a browser or proxy (hubsearch_web/security_headers.py). Page links
are root-relative, never built from the Host header. The limits on connections, headers and
bodies are in hubsearch_web/serving.py.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from hubsearch.backends import open_backend
from hubsearch.search_backend import Searcher
from hubsearch.search_results import IndexNotReady, QueryRefused
from hubsearch.settings import CONFIG_ENV, DEFAULT_CONFIG, Settings, load_settings
from hubsearch_web import (
    admin_crawl,
    admin_links,
    admin_routes,
    admin_sources,
    search_routes,
    status_routes,
)
from hubsearch_web.access_log import ObservedRequests, access_log, loggable
from hubsearch_web.admin_session import Refused
from hubsearch_web.metrics import Metrics
from hubsearch_web.params import error_response
from hubsearch_web.security_headers import SecurityHeaders
from hubsearch_web.serving import RequestLimits, StatusNetworks

HERE = Path(__file__).resolve().parent
logger = logging.getLogger("hubsearch.server")

# Requests at once in the thread pool (sync endpoints); the rest wait their turn. Search is
# CPU work under one GIL: at 50k passages, 16 clients, 2 processes of 2 threads answered
# 140-160 req/s, of 8 threads 123-129 req/s (threads queue on the GIL and each holds a
# searcher); scale with `serve --workers`, not threads.
WORKER_THREADS = 2


async def _http_error(request: Request, exc: HTTPException) -> Response:
    return error_response(exc.status_code, exc.detail)


async def _not_ready(request: Request, exc: IndexNotReady) -> Response:
    return error_response(503, str(exc))


async def _refused(request: Request, exc: QueryRefused) -> Response:
    return error_response(400, str(exc))


async def _server_error(request: Request, exc: Exception) -> Response:
    # Log the type only: the message could quote the query.
    logger.error("internal error on %s: %s", loggable(request.url.path), type(exc).__name__)
    return error_response(500, "internal error")


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    yield


def create_app(settings: Settings, searcher: Searcher | None = None) -> Starlette:
    """The whole web side over `settings` (and `searcher`, else one of the backend the
    settings name, hubsearch/backends.py)."""
    searcher = searcher or open_backend(settings).searcher()
    metrics = Metrics(searcher.built_at)
    app = Starlette(
        routes=[
            *search_routes.routes,
            *status_routes.routes,
            *admin_routes.routes,
            *admin_sources.routes,
            *admin_links.routes,
            *admin_crawl.routes,
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ],
        middleware=[
            Middleware(ObservedRequests, observers=(access_log, metrics.observe)),
            Middleware(SecurityHeaders),
            Middleware(RequestLimits),
            Middleware(StatusNetworks, networks=settings.server.status_networks),
        ],
        exception_handlers={
            HTTPException: _http_error,
            IndexNotReady: _not_ready,
            QueryRefused: _refused,
            Refused: admin_routes.refused_page,
            Exception: _server_error,
        },
        lifespan=_lifespan,
    )
    # What the routes share, read as request.app.state.
    app.state.settings = settings
    app.state.searcher = searcher
    app.state.metrics = metrics
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.state.status_guard = StatusNetworks(None, settings.server.status_networks)
    return app


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
    from hubsearch_web.serving import run, run_workers

    host = host or settings.server.host
    port = port if port is not None else settings.server.port
    if workers > 1:
        run_workers(settings.path, host, port, workers, server=settings.server)
    else:
        run(create_app(settings), host, port, server=settings.server)
