"""Link health for maintainers: what each source and document last did, and the crawl runs.

`build_report` reads the document store; the indexer saves it beside the index (so the
search server can show it without reading the store), and `hubsearch report` prints it.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import asdict
from typing import Any

from crawler.bounds import MAX_TITLE_CHARS, MAX_URL_CHARS
from hubsearch import ownership
from hubsearch.locks import probe_idle
from hubsearch.settings import Settings, Source
from hubsearch.store import CrawlRun, DocumentStore, StoredDocument, utc_now

PERMANENT_REDIRECTS = {301, 308}
STATES = ("ok", "stale", "gone", "failed")


def _document_row(doc: StoredDocument) -> dict[str, Any]:
    hops = doc.redirects or []
    permanent = any(int(status) in PERMANENT_REDIRECTS for status, _ in hops)
    return {
        "url": doc.url,
        "source": doc.source,
        "title": doc.title,
        "state": doc.state,  # ok | stale | gone | failed
        "last_status": doc.status,
        "last_checked": doc.fetched_at,
        "last_success": doc.last_success_at,
        "last_change": doc.changed_at,
        "consecutive_failures": doc.consecutive_failures,
        "error": doc.error,
        "redirect_target": hops[-1][1] if hops else None,
        "moved_permanently": permanent,
        "is_source": doc.is_source,
    }


def bounded(value: Any, key: str = "") -> Any:
    """The report with every string cut to size, once, when the indexer saves it: a store
    row older than the crawler's bounds can hold a 1 MB title, shown in every status row."""
    if isinstance(value, str):
        limit = MAX_TITLE_CHARS if key == "title" else MAX_URL_CHARS
        return value if len(value) <= limit else value[: limit - 1] + "…"
    if isinstance(value, dict):
        return {k: bounded(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [bounded(v, key) for v in value]
    return value


def reap_killed_runs(store: DocumentStore) -> None:
    """Mark runs left open by a crawl that died, if no crawl is running at this instant.

    The next crawl marks them too; this way `report` shows a killed run as killed at once.
    """
    lock = probe_idle(store.path, "crawl")
    if lock is None:
        return
    try:
        store.mark_killed_runs()
    except sqlite3.Error:
        pass  # a store we cannot write (read-only copy, full disk): shown as it is
    finally:
        lock.release()


def runs(store: DocumentStore, limit: int = 20) -> list[CrawlRun]:
    """The latest crawl runs, newest first, each with how it ended."""
    reap_killed_runs(store)
    return store.runs(limit)


def document_row(store: DocumentStore, doc: StoredDocument) -> dict[str, Any]:
    """A document's line of the report: its health and its latest fetches."""
    return {**_document_row(doc), "history": store.history(doc.url, 5)}


def source_row(source: Source, page: dict[str, Any] | None,
               counts: dict[str, int]) -> dict[str, Any]:
    """A source's line of the report, from its hub page's document line (None if never
    crawled) and how many of its documents are in each state."""
    return {
        "name": source.name,
        "url": source.url,
        "state": page["state"] if page else "never crawled",
        "last_status": page["last_status"] if page else None,
        "last_success": page["last_success"] if page else None,
        "last_change": page["last_change"] if page else None,
        "consecutive_failures": page["consecutive_failures"] if page else 0,
        "redirect_target": page["redirect_target"] if page else None,
        "moved_permanently": page["moved_permanently"] if page else False,
        "error": page["error"] if page else None,
        "documents": {state: counts.get(state, 0) for state in STATES},
    }


def build_report(settings: Settings, store: DocumentStore) -> dict[str, Any]:
    reap_killed_runs(store)
    documents = [document_row(store, d) for d in store.all(bodies=False)]
    by_url = {d["url"]: d for d in documents}
    # Who owns each document (hubsearch/ownership.py): the hub pages linking to it decide.
    order = ownership.source_order(settings.sources)
    linking: dict[str, set[str]] = {}
    for ref in store.searchable_refs():
        for link in ref.links:
            linking.setdefault(link, set()).add(ref.source)
    owned = Counter((ownership.owner(d["source"], linking.get(d["url"], ()), order), d["state"])
                    for d in documents if not d["is_source"])
    sources = []
    for source in settings.sources:
        own = Counter({state: n for (name, state), n in owned.items() if name == source.name})
        sources.append(source_row(source, by_url.get(source.url), own))
    last = store.last_run()
    return {
        "generated_at": utc_now(),
        "last_run": asdict(last) if last else None,
        "sources": sources,
        "documents": documents,
    }


def needs_attention(row: dict[str, Any]) -> bool:
    """Failing, stale, gone or moved: a document a maintainer should look at."""
    return row["state"] != "ok" or bool(row["moved_permanently"])


def attention(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Documents a maintainer should look at: failing, stale, gone or moved."""
    return [d for d in report["documents"] if needs_attention(d)]


def format_text(report: dict[str, Any], index_status: dict[str, Any] | None = None) -> str:
    lines: list[str] = []
    run = report.get("last_run")
    if run:
        lines.append(
            f"last crawl: run {run['id']} {run['started_at']} -> {run['finished_at'] or '?'}: "
            f"{run['new']} new, {run['changed']} changed, {run['unchanged']} unchanged, "
            f"{run['failed']} failed, {run['gone']} gone, {run['bytes']} bytes"
            + (f"; {run['outcome']}: {run['error']}"
               if run.get("outcome") not in (None, "finished") else "")
        )
    else:
        lines.append("last crawl: never")
    if index_status:
        if index_status.get("switched") is False and index_status.get("reason"):
            lines.append(f"index: NOT switched: {index_status['reason']}")
        else:
            lines.append(
                f"index: generation {index_status.get('generation')} "
                f"({index_status.get('mode')}, checked {index_status.get('checked_at')})"
            )
    lines.append("")
    lines.append("sources:")
    for s in report["sources"]:
        c = s["documents"]
        moved = f"; MOVED to {s['redirect_target']}" if s["moved_permanently"] else ""
        error = f"; {s['error']}" if s["error"] else ""
        lines.append(
            f"  {s['name']}: {s['state']} (HTTP {s['last_status'] or '-'}), last success "
            f"{s['last_success'] or 'never'}; documents ok {c['ok']}, stale {c['stale']}, "
            f"gone {c['gone']}, failed {c['failed']}{moved}{error}"
        )
    todo = attention(report)
    lines.append("")
    lines.append(f"needs attention: {len(todo)}" if todo else "needs attention: nothing")
    for d in todo:
        if d["moved_permanently"] and d["state"] == "ok":
            what = f"moved permanently -> {d['redirect_target']} (update the link or source)"
        else:
            what = f"{d['state']}: {d['error'] or 'HTTP ' + str(d['last_status'])}"
        lines.append(
            f"  {d['url']}\n    {what}; failures in a row {d['consecutive_failures']}, "
            f"last success {d['last_success'] or 'never'}"
        )
    return "\n".join(lines)


def format_runs(store: DocumentStore, limit: int = 20) -> str:
    header = f"{'run':>4}  {'started':25} {'finished':25} {'new':>5} {'chg':>5} {'same':>5} " \
             f"{'fail':>5} {'gone':>5} {'bytes':>10}  outcome"
    lines = [header]
    for r in runs(store, limit):
        outcome = r.outcome or ("running" if r.finished_at is None else "finished")
        lines.append(
            f"{r.id:>4}  {r.started_at:25} {r.finished_at or '-':25} {r.new:>5} {r.changed:>5} "
            f"{r.unchanged:>5} {r.failed:>5} {r.gone:>5} {r.bytes:>10}  {outcome}"
            + (f" ({r.error})" if r.error else "")
        )
    return "\n".join(lines)
