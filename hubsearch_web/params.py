"""Reading query parameters: each bad one is a 400 naming it, never a 500; and the JSON
shape every error takes."""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from hubsearch.search_results import FACETS


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
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


def filter_params(request: Request) -> dict[str, list[str]]:
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


def choice_param(request: Request, name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise HTTPException(400, f"{name} must be one of {', '.join(choices)}, or left out")
    return raw
