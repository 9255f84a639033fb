"""The maintainers' link health: every crawled URL's state, last success, failures in a row,
redirect target and the hub pages linking to it, filterable by state and source, as a page
and as CSV. Read from the status snapshot beside the index (hubsearch/status_snapshot.py).

"Source" here is the one answer the index gives: the first configured source whose hub
page links to the document (else the source that reached it), as the search facets show.

The CSV is made for spreadsheets, so a cell a page could have made start with = + - @ (a
title, an error) is prefixed with ' and never runs as a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from hubsearch.report import STATES
from hubsearch.status_snapshot import link_rows
from hubsearch.store import DocumentStore
from hubsearch_web.admin_routes import render
from hubsearch_web.admin_session import SignedIn, maintainers_only
from hubsearch_web.params import int_param

PAGE = 100
CSV_CHUNK = 1_000
MAX_CSV_ROWS = 500_000
CSV_COLUMNS = ("url", "title", "source", "state", "last_status", "last_checked",
               "last_success", "consecutive_failures", "redirect_target", "moved_permanently",
               "error", "linked_from")


def _filters(request: Request) -> dict[str, str]:
    state = request.query_params.get("state") or ""
    source = request.query_params.get("source") or ""
    names = {s.name for s in request.app.state.settings.sources}
    return {"state": state if state in STATES else "",
            "source": source if source in names else ""}


def _owned(rows: list[dict[str, Any]], order: dict[str, int]) -> list[dict[str, Any]]:
    """Each row with `source` as the index attributes it (see the module docstring)."""
    for row in rows:
        linking = sorted({name for _, name in row["linked_from"]},
                         key=lambda name: order.get(name, len(order)))
        row["source"] = linking[0] if linking else row["source"]
    return rows


def _matching(request: Request, filters: dict[str, str], limit: int, offset: int
              ) -> tuple[list[dict[str, Any]], int]:
    """Rows owned by the filter's source: read by state, then owner (the snapshot records
    the source that reached a document; ownership follows the hub pages linking to it)."""
    settings = request.app.state.settings
    order = {s.name: i for i, s in enumerate(settings.sources)}
    found = link_rows(settings.storage.index_dir, state=filters["state"] or None,
                      limit=MAX_CSV_ROWS, offset=0) if filters["source"] else \
        link_rows(settings.storage.index_dir, state=filters["state"] or None,
                  limit=limit, offset=offset)
    if found is None:
        return [], 0
    rows, total = found
    rows = _owned(rows, order)
    if filters["source"]:
        rows = [r for r in rows if r["source"] == filters["source"]]
        return rows[offset:offset + limit], len(rows)
    return rows, total


@maintainers_only
def links_page(request: Request, store: DocumentStore, who: SignedIn) -> Response:
    filters = _filters(request)
    offset = int_param(request, "offset", 0, 0, 10_000_000)
    rows, total = _matching(request, filters, PAGE, offset)
    base = {k: v for k, v in filters.items() if v}
    return render(request, "admin_links.html", {
        "who": who, "here": "links", "rows": rows, "total": total, "offset": offset,
        "filters": filters, "states": STATES, "sources": request.app.state.settings.sources,
        "csv_query": urlencode(base),
        "previous": urlencode({**base, "offset": max(0, offset - PAGE)}) if offset else "",
        "next": urlencode({**base, "offset": offset + PAGE}) if offset + PAGE < total else ""})


def _cell(value: Any) -> str:
    if isinstance(value, list):
        value = " ".join(hub for hub, _ in value)
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@maintainers_only
def links_csv(request: Request, store: DocumentStore, who: SignedIn) -> Response:
    filters = _filters(request)

    def chunks() -> Iterator[list[dict[str, Any]]]:
        if filters["source"]:  # owners are found reading every row once
            yield _matching(request, filters, MAX_CSV_ROWS, 0)[0]
            return
        for offset in range(0, MAX_CSV_ROWS, CSV_CHUNK):
            rows, _ = _matching(request, filters, CSV_CHUNK, offset)
            yield rows
            if len(rows) < CSV_CHUNK:
                return

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for rows in chunks():
            for row in rows:
                writer.writerow([_cell(row.get(column)) for column in CSV_COLUMNS])
            yield out.getvalue()
            out.seek(0)
            out.truncate()

    name = re.sub(r"[^\w.-]", "_", "-".join(
        ["link-health", *(v for v in filters.values() if v)])) + ".csv"
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


routes = [
    Route("/admin/links", links_page),
    Route("/admin/links.csv", links_csv),
]
