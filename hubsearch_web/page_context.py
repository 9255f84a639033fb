"""What every page's template is given besides its own content: the header's links (each
keeping the interface language, under server.root_path), the urgent-help line and the
sources' display titles."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hubsearch_web import i18n


def page_links(request: Request, t: i18n.Translator) -> dict[str, Any]:
    # The header's language switch keeps every parameter; the rest keep only `ui`.
    # Behind a proxy under a sub-path (server.root_path) every link starts with it.
    state = request.app.state
    settings = state.settings
    here = request.query_params.multi_items()
    root = request.scope.get("root_path", "")
    return {
        "switch_url": i18n.with_ui(request.url.path, here, t.other),
        "home_url": i18n.with_ui(f"{root}/", [], t.ui),
        "search_action": f"{root}/",
        "suggest_url": f"{root}/api/suggest",
        # Not linked for a client the status page would answer 404.
        "status_url": i18n.with_ui(f"{root}/status", [], t.ui)
        if state.status_guard.allows(request.scope) else "",
        "urgent_help": settings.page.urgent_help(t.ui),
        "source_titles": {s.name: s.display_title(t.ui) for s in settings.sources},
    }
