"""The OpenAPI 3.1 document of the search server's JSON API, served at /openapi.json.

Written by hand so it says exactly what the server promises; tests/test_openapi.py runs
schemathesis against it, which checks every response against these schemas.
"""

from __future__ import annotations

from typing import Any

from hubsearch.search_results import (
    DOCUMENT_PASSAGES,
    FACETS,
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    MAX_SUGGESTIONS,
    MAX_WORD_CHARS,
    MAX_WORDS,
    SORTS,
)

__all__ = ["MAX_QUERY_CHARS", "openapi_document"]

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
        "recommended": {"type": "boolean",
                        "description": "pinned for this query by the maintainers (best bets)"},
        "ocr": {"type": "boolean",
                "description": "the passage was read by OCR from a scanned PDF page: its "
                               "words may be misread"},
        "updated": {"type": "string",
                    "description": "when the document says it was last updated (YYYY-MM-DD; "
                                   "its own metadata, else the server's Last-Modified), or "
                                   "empty"},
    },
}

_SEARCH = {
    "type": "object",
    "required": ["query", "total", "limit", "offset", "matched", "results"],
    "properties": {
        "query": {"type": "string"},
        "total": {"type": "integer",
                  "description": "documents with a matching passage: results show one passage "
                                 "per document (offset and limit page through these); with "
                                 "`document`, that document's matching passages"},
        "limit": {"type": "integer"},
        "offset": {"type": "integer"},
        "matched": {"enum": ["all", "any"],
                    "description": "all: the first results have every word; any: no "
                                   "passage has them all, so passages with any are shown"},
        "language": {"type": "string"},
        "suggestion": {"type": ["string", "null"]},
        "total_passages": {"type": "integer",
                           "description": "matching passages, after filters: the page says "
                                          "\"N passages found in M documents\" (M is total)"},
        "words_ignored": {"type": "integer", "minimum": 0,
                          "description": f"words of q left out: longer than {MAX_WORD_CHARS} "
                                         f"characters, or past the first {MAX_WORDS}"},
        "filters": {"type": "object"},
        "document": {"type": ["string", "null"]},
        "facets": {"type": "object"},
        "sort": {"enum": list(SORTS)},
        "also_searched": {"type": "array", "items": {"type": "string"},
                          "description": "equivalents searched too (acronyms, English-Welsh "
                                         "pairs from synonyms.toml), as staff would write them"},
        "best_bets": {"type": "array", "items": _HIT,
                      "description": "passages the maintainers pinned for this query, shown "
                                     "before results on the first page (not counted in "
                                     "total)"},
        "results": {"type": "array", "items": _HIT},
    },
}

_DOCUMENT = {
    "type": "object",
    "required": ["id", "url", "title", "passages", "total_passages", "offset", "limit"],
    "properties": {
        "id": {"type": "string"},
        "url": {"type": "string"},
        "title": {"type": "string"},
        "history": {"type": "array", "items": {"type": "object"}},
        "health": {"type": ["object", "null"]},
        "total_passages": {"type": "integer", "description": "passages in the document"},
        "offset": {"type": "integer"},
        "limit": {"type": "integer"},
        "passages": {"type": "array", "maxItems": DOCUMENT_PASSAGES,
                     "items": {"type": "object"},
                     "description": "passages offset to offset + limit, in document order"},
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
                     "description": "the words to look for; \"phrases\" and -excluded. "
                                    f"At most {MAX_WORDS} words are used, each of at most "
                                    f"{MAX_WORD_CHARS} characters; words_ignored counts the "
                                    "rest",
                     "schema": {"type": "string", "minLength": 1, "pattern": "\\S",
                                "maxLength": MAX_QUERY_CHARS}},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
                    {"name": "offset", "in": "query",
                     "schema": {"type": "integer", "minimum": 0, "maximum": 10000}},
                    {"name": "lang", "in": "query", "schema": {"enum": ["en", "cy"]}},
                    {"name": "sort", "in": "query",
                     "description": "relevance (the default), or updated: the passages of the "
                                    "most recently updated documents first, those that give "
                                    "no date last",
                     "schema": {"enum": list(SORTS)}},
                    {"name": "document", "in": "query",
                     "description": "list every match in this one document",
                     "schema": {"type": "string", "pattern": "^https?://[^\\s/]+",
                                "maxLength": 2000}},
                    *filters,
                ],
                "responses": {"200": _json(_SEARCH, "Ranked passages"),
                              **_errors(400, 503)},
            }},
            "/api/suggest": {"get": {
                "summary": "Completions of what is being typed: titles and headings, then "
                           "words of the index (nothing typed is kept or logged)",
                "parameters": [
                    {"name": "q", "in": "query", "description": "the text typed so far",
                     "schema": {"type": "string", "maxLength": MAX_QUERY_CHARS}},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1,
                                "maximum": MAX_SUGGESTIONS}},
                ],
                "responses": {"200": _json({
                    "type": "object", "required": ["query", "suggestions"],
                    "properties": {"query": {"type": "string"},
                                   "suggestions": {"type": "array",
                                                   "items": {"type": "string"},
                                                   "maxItems": MAX_SUGGESTIONS}}},
                    "Suggestions, best first"), **_errors(400, 503)},
            }},
            "/api/documents/{id}": {"get": {
                "summary": "One document: metadata, fetch history and passages",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "offset", "in": "query", "description": "first passage to list",
                     "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000}},
                    {"name": "limit", "in": "query",
                     "description": f"passages to list (at most {DOCUMENT_PASSAGES})",
                     "schema": {"type": "integer", "minimum": 1,
                                "maximum": DOCUMENT_PASSAGES}},
                ],
                "responses": {"200": _json(_DOCUMENT, "The document"),
                              **_errors(400, 404, 503)},
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
