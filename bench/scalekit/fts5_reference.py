"""The SQLite FTS5 reference bench/scale.py measures Hubsearch beside.

An FTS5 table of the same passages (title, heading path, text; `porter unicode61
remove_diacritics 2`), ranked by FTS5's bm25. A query is every word (and every
"quoted phrase") ANDed; when that finds fewer than a page, the page is topped up from the
OR of the words that are not stop words (Whoosh's English stop list) and the phrases, and
`total` counts the OR's matches (the AND's when there is no OR): exactly by default, or up
to `count_limit` (`--count-limit N`, then a total of N means "N or more", as a page may
label "1,000+"). Every word is quoted, so no query can be read as FTS5 syntax.

`python bench/scalekit/fts5_reference.py --db PATH --port N` serves `GET /api/search?q=` (results
with title, snippet, document_url, deep_link; total: the shape of Hubsearch's /api/search
where it matters to a client) and `/healthz` under uvicorn on 127.0.0.1, one process, each
worker thread with its own read-only connection.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from whoosh.analysis import STOP_WORDS

PAGE = 10
SNIPPET_TOKENS = 40  # FTS5's snippet() allows at most 64
_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"\w+")

SCHEMA = (
    "CREATE VIRTUAL TABLE passages USING fts5(title, headings, body, document_url UNINDEXED,"
    " deep_link UNINDEXED, tokenize='porter unicode61 remove_diacritics 2')"
)


def build(db_path: Path, rows: Iterable[tuple[str, str, str, str, str]]) -> int:
    """Create the table at `db_path` from (title, headings, body, document_url, deep_link)
    rows; return how many passages it holds."""
    db = sqlite3.connect(db_path)
    try:
        db.execute(SCHEMA)
        with db:
            db.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?)", rows)
        db.execute("INSERT INTO passages(passages) VALUES ('optimize')")
        db.commit()
        return db.execute("SELECT count(*) FROM passages").fetchone()[0]
    finally:
        db.close()


def _quoted(words: list[str]) -> str:
    return '"' + " ".join(w.replace('"', '""') for w in words) + '"'


def expressions(query: str) -> tuple[str | None, str | None]:
    """(AND of every word and phrase, OR of the phrases and non-stop words) as FTS5 MATCH
    expressions; None where there is nothing to match."""
    phrases = [_WORD.findall(p.lower()) for p in _PHRASE.findall(query)]
    phrases = [p for p in phrases if p]
    words = list(dict.fromkeys(_WORD.findall(_PHRASE.sub(" ", query).lower())))
    terms = [_quoted(p) for p in phrases] + [_quoted([w]) for w in words]
    wide = [_quoted(p) for p in phrases] + [_quoted([w]) for w in words if w not in STOP_WORDS]
    return (" AND ".join(terms) or None, " OR ".join(wide) or None)


def search(db: sqlite3.Connection, query: str, limit: int = PAGE,
           count_limit: int = 0) -> dict[str, Any]:
    """One page of results for `query`, and the total (at most `count_limit` if set), as
    the endpoint returns them."""
    every, wide = expressions(query)
    if every is None:
        return {"query": query, "total": 0, "results": []}
    select = ("SELECT rowid, title, document_url, deep_link, snippet(passages, 2, '<mark>',"
              f" '</mark>', '…', {SNIPPET_TOKENS}) FROM passages WHERE passages MATCH ?"
              " ORDER BY rank LIMIT ?")
    rows = db.execute(select, (every, limit)).fetchall()
    counted = every
    if wide is not None and wide != every:
        counted = wide
        if len(rows) < limit:
            seen = {r[0] for r in rows}
            more = db.execute(select, (wide, limit + len(rows))).fetchall()
            rows += [r for r in more if r[0] not in seen][: limit - len(rows)]
    if count_limit > 0:
        total = db.execute("SELECT count(*) FROM (SELECT 1 FROM passages WHERE passages MATCH ?"
                           " LIMIT ?)", (counted, count_limit)).fetchone()[0]
    else:
        total = db.execute("SELECT count(*) FROM passages WHERE passages MATCH ?",
                           (counted,)).fetchone()[0]
    return {
        "query": query,
        "total": total,
        "matched": "all" if counted == every else "any",
        "results": [{"title": r[1], "document_url": r[2], "deep_link": r[3],
                     "snippet_html": r[4]} for r in rows],
    }


def connect(db_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False)


def create_app(db_path: Path, count_limit: int = 0):
    """The reference endpoint: /api/search and /healthz over the table at `db_path`."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    local = threading.local()

    def api_search(request: Request) -> JSONResponse:
        query = (request.query_params.get("q") or "").strip()
        if not query:
            return JSONResponse({"error": "missing query: add ?q=words"}, status_code=400)
        db = getattr(local, "db", None)
        if db is None:
            db = local.db = connect(db_path)
        return JSONResponse(search(db, query, count_limit=count_limit))

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/api/search", api_search), Route("/healthz", healthz)])


def app_from_env():
    """The app for each worker process of `--workers N` (they import it by name)."""
    return create_app(Path(os.environ["FTS5_REFERENCE_DB"]),
                      int(os.environ.get("FTS5_REFERENCE_COUNT_LIMIT", "0")))


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count-limit", type=int, default=0,
                        help="count matches up to N (default 0: exactly)")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args(argv)
    if args.workers > 1:
        os.environ["FTS5_REFERENCE_DB"] = str(args.db.resolve())
        os.environ["FTS5_REFERENCE_COUNT_LIMIT"] = str(args.count_limit)
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        uvicorn.run("fts5_reference:app_from_env", factory=True, host="127.0.0.1",
                    port=args.port, workers=args.workers, log_level="warning",
                    access_log=False)
    else:
        uvicorn.run(create_app(args.db, args.count_limit), host="127.0.0.1", port=args.port,
                    log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
