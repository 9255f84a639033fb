"""schemathesis against /openapi.json: generated requests, valid and invalid, never get a
server error, an undocumented status or content type, or a response that breaks the
documented schema.

Driven through hypothesis directly: schemathesis's own pytest plugin does not load under
the pytest version pinned here. The server is deliberately lenient in places the schema is
strict (an empty filter value is ignored), so "invalid data was accepted" is not checked.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from search_server import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def test_api_never_errors_and_matches_its_schema(demo_index):
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(demo_index[0]))
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()
        modes = [schemathesis.GenerationMode.POSITIVE]
        # The ones with parameters to get wrong.
        if operation.label in ("GET /api/search", "GET /api/suggest"):
            modes.append(schemathesis.GenerationMode.NEGATIVE)
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=40, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def check(case) -> None:
                case.call_and_validate(checks=CHECKS)

            check()
            checked.append((operation.label, mode.name))
    assert len(checked) == 8, checked


def test_the_schema_says_what_each_count_counts():
    from hubsearch_web.openapi import openapi_document

    search = next(node for node in _walk(openapi_document())
                  if "total_passages" in node.get("properties", {}))
    described = {name: search["properties"][name].get("description", "")
                 for name in ("total", "total_passages", "matched")}
    assert "documents" in described["total"] and "passages" in described["total_passages"]
    assert "any" in described["matched"]


def _walk(node):
    # Every dict in the document, wherever the search schema is placed.
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
