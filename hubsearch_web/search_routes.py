"""The staff's routes: the search page, /api/search, /api/suggest, one document's
passages, the API description, metrics and the health check.

Endpoints are sync functions, so Starlette runs them in its bounded thread pool (see
hubsearch_web/app.py); /healthz is async and answers on the event loop while every thread is
busy. Query text is never logged: staff queries can name the people they are worried about.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubsearch.search_results import (
    DOCUMENT_PASSAGES,
    LANGUAGES,
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    MAX_SUGGESTIONS,
    SORTS,
    IndexNotReady,
    query_problem,
)
from hubsearch.status_snapshot import document_status
from hubsearch_web import i18n
from hubsearch_web.admin_session import is_maintainer
from hubsearch_web.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from hubsearch_web.openapi import openapi_document
from hubsearch_web.page_context import page_links
from hubsearch_web.page_urls import PageUrls
from hubsearch_web.params import choice_param, error_response, filter_params, int_param

OPENAPI = openapi_document()
DOCUMENT_URL = re.compile(r"https?://[^\s/]+")


def run_query(request: Request) -> tuple[str, Any]:
    """The search a request asks for: (query, result page), or (query, None) for none."""
    state = request.app.state
    query = (request.query_params.get("q") or "").strip()
    limit = int_param(request, "limit", 10, 1, MAX_LIMIT)
    offset = int_param(request, "offset", 0, 0, 10_000)
    lang = choice_param(request, "lang", LANGUAGES)
    filters = filter_params(request)
    document = request.query_params.get("document") or None
    sort = choice_param(request, "sort", SORTS) or "relevance"
    # The same rule /openapi.json states: an http(s) URL's start; the rest is looked up.
    if document is not None and (len(document) > 2000 or not DOCUMENT_URL.match(document)):
        raise HTTPException(400, "document must be the http(s) URL of a document")
    if not query:
        return query, None
    problem = query_problem(query)
    if problem is not None:
        raise HTTPException(400, problem)
    page = state.searcher.search(query, limit=limit, offset=offset, lang=lang,
                                 filters=filters, document=document, sort=sort)
    if not page.total_passages:
        state.metrics.zero_results.inc()  # a count only: the words themselves are never kept
    return query, page


def api_suggest(request: Request) -> Response:
    """Completions of what is being typed in the search box (the backend's suggester)."""
    text = request.query_params.get("q") or ""
    if len(text) > MAX_QUERY_CHARS:
        raise HTTPException(400, f"q must be at most {MAX_QUERY_CHARS} characters")
    limit = int_param(request, "limit", 8, 1, MAX_SUGGESTIONS)
    suggestions = request.app.state.searcher.suggest(text, limit)
    response = JSONResponse({"query": text, "suggestions": suggestions})
    # Typed words are as private as searches: not kept by any cache on the way.
    response.headers["Cache-Control"] = "no-store"
    return response


def api_search(request: Request) -> Response:
    query, page = run_query(request)
    if page is None:
        return error_response(400, "missing query: add ?q=words")
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
    settings = request.app.state.settings
    return request.app.state.templates.TemplateResponse(
        request,
        "search.html",
        {"query": query, "page": page, "error": error, "lang": lang, "t": t,
         "facets": _offered_facets(page), "urls": PageUrls(query, lang, page, t.ui),
         "hub_pages": [(s.display_title(t.ui), s.url) for s in settings.sources],
         **page_links(request, t)},
        status_code=status_code,
    )


def _offered_facets(page: Any) -> dict[str, dict[str, int]]:
    # A filter with a single value narrows nothing: offered only while it is applied.
    if page is None:
        return {}
    return {name: counts for name, counts in page.facets.items()
            if len(counts) > 1 or page.filters.get(name)}


def document(request: Request) -> Response:
    state = request.app.state
    doc_id = request.path_params["doc_id"]
    offset = int_param(request, "offset", 0, 0, 1_000_000)
    limit = int_param(request, "limit", DOCUMENT_PASSAGES, 1, DOCUMENT_PASSAGES)
    found = state.searcher.document(doc_id, offset=offset, limit=limit) \
        if len(doc_id) <= 64 else None
    if found is None:
        return error_response(404, "no document with that id in the current index")
    if not is_maintainer(request):
        # Health and fetch history are the maintainers' (they name errors and hosts).
        return JSONResponse({**found, "health": None, "history": []})
    # Health and fetch history come from the status the indexer saved beside the index.
    row = document_status(state.settings.storage.index_dir, found["requested_url"])
    health = {k: v for k, v in (row or {}).items() if k != "history"} or None
    if health is not None:
        # One owner everywhere (hubsearch/ownership.py), not the source the crawl recorded.
        health["source"] = found["source"]
    return JSONResponse({**found, "health": health, "history": (row or {}).get("history", [])})



def openapi(request: Request) -> Response:
    return JSONResponse(OPENAPI)


def metrics_endpoint(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=METRICS_CONTENT_TYPE)


async def healthz(request: Request) -> Response:
    # A backend may ask a cluster (a network round trip): never on the event loop.
    generation = await run_in_threadpool(request.app.state.searcher.generation)
    if generation is None:
        return JSONResponse({"status": "no index", "generation": None}, status_code=503)
    return JSONResponse({"status": "ok", "generation": generation})


routes = [
    Route("/", search_page),
    Route("/api/search", api_search),
    Route("/api/suggest", api_suggest),
    Route("/api/documents/{doc_id}", document),
    Route("/openapi.json", openapi),
    Route("/metrics", metrics_endpoint),
    Route("/healthz", healthz),
]
