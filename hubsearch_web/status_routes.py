"""The maintainers' view of freshness and link health: /status (a page, signed-in
maintainers only) and /api/status (a public summary; the per-URL rows and each source's
error only with a session), read from the status snapshot the indexer saved beside the
index: the search path never reads the store."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubsearch.status_snapshot import read_status
from hubsearch.store import DocumentStore
from hubsearch_web import i18n
from hubsearch_web.admin_session import SignedIn, is_maintainer, maintainers_only
from hubsearch_web.page_context import page_links
from hubsearch_web.params import error_response


@maintainers_only
def status_page(request: Request, store: DocumentStore, who: SignedIn) -> Response:
    state = request.app.state
    index_dir = state.settings.storage.index_dir
    t = i18n.translator(request.query_params.get("ui"))
    data = read_status(index_dir)
    context: dict[str, Any] = {"t": t, "status": data, **page_links(request, t), "who": who,
                               "here": "status", "root": request.scope.get("root_path", "")}
    if data is None:
        return state.templates.TemplateResponse(request, "status.html", context,
                                                status_code=503)
    serving = state.searcher.generation()
    info = state.searcher.build_info() if serving else None
    context.update(serving=serving, built_at=(info or {}).get("built_at"),
                   attention=data["documents"])
    return state.templates.TemplateResponse(request, "status.html", context)


def api_status(request: Request) -> Response:
    state = request.app.state
    data = read_status(state.settings.storage.index_dir)
    if data is None:
        return error_response(503, "no status yet: run `hubsearch crawl` then `hubsearch index`")
    if not is_maintainer(request):
        data = public_summary(data)
    return JSONResponse({**data, "serving": state.searcher.generation(),
                         **state.searcher.counts()})


# What anyone may see of a source: how it is doing, not what went wrong or where it went.
_PUBLIC_SOURCE = ("name", "url", "state", "last_status", "last_success", "documents")


def public_summary(data: dict[str, Any]) -> dict[str, Any]:
    """The status without per-URL rows or error text: freshness and counts only."""
    return {**data, "documents": [],
            "sources": [{k: s.get(k) for k in _PUBLIC_SOURCE} for s in data["sources"]]}



routes = [
    Route("/status", status_page),
    Route("/api/status", api_status),
]
