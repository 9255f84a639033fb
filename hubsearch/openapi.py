"""The OpenAPI 3.1 document of the search server's JSON API, served at /openapi.json.

Written by hand so it says exactly what the server promises; tests/test_openapi.py runs
schemathesis against it, which checks every response against these schemas.
"""

from __future__ import annotations

from typing import Any

from indexer.search import FACETS, MAX_LIMIT

MAX_QUERY_CHARS = 500

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "message"],
            "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
        }
    },
}

_HIT = {
    "type": "object",
    "required": ["title", "heading_path", "snippet_html", "deep_link", "document_url",
                 "document_id", "source", "doc_type", "language", "page", "score",
                 "fetched_at"],
    "properties": {
        "title": {"type": "string"},
        "heading_path": {"type": "array", "items": {"type": "string"}},
        "snippet_html": {"type": "string", "description": "HTML-escaped text with <mark>"},
        "deep_link": {"type": "string", "description": "url#anchor or url#page=N"},
        "document_url": {"type": "string"},
        "document_id": {"type": "string"},
        "source": {"type": "string"},
        "doc_type": {"type": "string"},
        "language": {"type": "string"},
        "page": {"type": ["integer", "null"]},
        "score": {"type": "number"},
        "fetched_at": {"type": "string"},
        "more_in_document": {"type": "integer"},
        "more_in_document_params": {"type": ["object", "null"]},
    },
}

_SEARCH = {
    "type": "object",
    "required": ["query", "total", "limit", "offset", "matched", "results"],
    "properties": {
        "query": {"type": "string"},
        "total": {"type": "integer"},
        "limit": {"type": "integer"},
        "offset": {"type": "integer"},
        "matched": {"enum": ["all", "any"]},
        "language": {"type": "string"},
        "suggestion": {"type": ["string", "null"]},
        "total_passages": {"type": "integer"},
        "filters": {"type": "object"},
        "document": {"type": ["string", "null"]},
        "facets": {"type": "object"},
        "results": {"type": "array", "items": _HIT},
    },
}

_DOCUMENT = {
    "type": "object",
    "required": ["id", "url", "title", "passages"],
    "properties": {
        "id": {"type": "string"},
        "url": {"type": "string"},
        "title": {"type": "string"},
        "history": {"type": "array", "items": {"type": "object"}},
        "health": {"type": ["object", "null"]},
        "passages": {"type": "array", "items": {"type": "object"}},
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "A bad parameter, named in the message", 404: "Not found",
            503: "No index yet"}
    return {str(c): _json(_ERROR, text[c]) for c in codes}


def openapi_document() -> dict[str, Any]:
    filters = [
        {"name": name, "in": "query", "required": False, "style": "form", "explode": True,
         "description": f"only passages with this {name} (repeatable)",
         "schema": {"type": "array", "maxItems": 20,
                    "items": {"type": "string", "maxLength": 200,
                              "pattern": "^[^\\x00-\\x1f\\x7f]*$"}}}
        for name in FACETS
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hubsearch",
            "version": "1",
            "description": "Passages of safeguarding guidance, ranked and highlighted, with "
                           "deep links to the exact section or PDF page.",
        },
        "paths": {
            "/api/search": {"get": {
                "summary": "Search passages",
                "parameters": [
                    {"name": "q", "in": "query", "required": True,
                     "description": "the words to look for; \"phrases\" and -excluded",
                     "schema": {"type": "string", "minLength": 1, "pattern": "\\S",
                                "maxLength": MAX_QUERY_CHARS}},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
                    {"name": "offset", "in": "query",
                     "schema": {"type": "integer", "minimum": 0, "maximum": 10000}},
                    {"name": "lang", "in": "query", "schema": {"enum": ["en", "cy"]}},
                    {"name": "document", "in": "query",
                     "description": "list every match in this one document",
                     "schema": {"type": "string", "pattern": "^https?://[^\\s/]+",
                                "maxLength": 2000}},
                    *filters,
                ],
                "responses": {"200": _json(_SEARCH, "Ranked passages"),
                              **_errors(400, 503)},
            }},
            "/api/documents/{id}": {"get": {
                "summary": "One document: metadata, fetch history and passages",
                "parameters": [{"name": "id", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": _json(_DOCUMENT, "The document"),
                              **_errors(404, 503)},
            }},
            "/api/status": {"get": {
                "summary": "Index generation and counts, last crawl, per-source health",
                "responses": {"200": _json({"type": "object"}, "Status"), **_errors(503)},
            }},
            "/healthz": {"get": {
                "summary": "200 while an index is loaded",
                "responses": {"200": _json({"type": "object"}, "Serving"),
                              "503": _json({"type": "object"}, "No index")},
            }},
            "/metrics": {"get": {
                "summary": "Prometheus metrics",
                "responses": {"200": {"description": "Prometheus text format",
                                      "content": {"text/plain": {"schema": {"type": "string"}}}}},
            }},
        },
    }
