"""Build an OpenSearch index generation from the document store and switch it in by alias.

Each build writes a new pair of indices, `<prefix>-passages-<generation>` and
`<prefix>-documents-<generation>` (indexer/opensearch_client.py names them), and switches the
aliases `<prefix>-passages` and `<prefix>-documents` to them in one `_aliases` request, which
OpenSearch applies atomically: a searcher sees the old generation or the new one, never a
mix. Until that request the aliases are untouched, so a build refused by the quality gate,
failing half way or killed leaves the generation being served as it was; its half-written
indices carry no `complete` mark and are deleted by the next build. Old generations are
pruned to `backend.keep_generations`.

A nightly build is incremental, as with Whoosh: the current generation's indices are cloned
(a clone shares segment files, so it costs seconds, not a rebuild) and only new, changed and
removed documents are written into the clone. Passages are the same as Whoosh's
(indexer/corpus.py); one build at a time per store (the store's index lock).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from crawler.bounds import bound_document
from hubsearch.locks import stage_lock
from hubsearch.search_results import BuildResult
from hubsearch.settings import Settings
from hubsearch.store import DocumentRef, DocumentStore, utc_now
from indexer import opensearch_analysis
from indexer.corpus import (
    Attribution,
    IndexBuildError,
    attribute,
    documents,
    gate,
    passage_fields,
    passage_id,
    write_status,
)
from indexer.manifest import distinct_headings, document_id
from indexer.opensearch_client import ClusterUnavailable, Names, problem
from indexer.schema_fields import FIELDS

logger = logging.getLogger("indexer.build")

PROGRESS_SECONDS = 5.0
# Passages per bulk request: ~1-2 MB, well under a node's 100 MB request limit.
BULK_CHUNK = 500
BULK_BYTES = 8 * 1024 * 1024
# Headings of one document offered as completions, at most.
MAX_SUGGEST_INPUTS = 50
MAX_SUGGEST_CHARS = 120
# How long a build waits for a new generation's copies to be allocated (copying a large
# generation's files to the replicas' nodes takes minutes).
HEALTH_SECONDS = 900.0
# Actions handed from the thread that reads the store to the thread that sends them, per batch,
# and how many batches may wait: a bound on what is held while the cluster is busy.
HANDOFF_BATCH = 100
HANDOFF_DEPTH = 20
# While a generation is written, its translog is synced in the background, not on every bulk
# request: a build that dies is discarded whole (its indices carry no `complete` mark), so a
# write lost with it costs nothing. `_finish` restores per-request syncing before the switch.
BUILDING_SETTINGS = {"index.translog.durability": "async"}
SERVING_SETTINGS = {"index.translog.durability": "request"}
# What a passage holds in a matching field it has nothing for (see `_passage_source`): one
# term, which indexer/opensearch_search.py treats as a stop word.
EMPTY_FIELD = "hubsearchempty"


def _generation_name() -> str:
    # Time-ordered and lower case (index names must be): pruning keeps the newest.
    return time.strftime("g%Y%m%dt%H%M%S", time.gmtime()) + f"-{time.time_ns() % 10**9:09d}"


def current(client: Any, names: Names,
            meta: bool = True) -> tuple[str, dict[str, Any]] | None:
    """The generation the passages alias points at, and (unless `meta=False`, one request
    less) the `_meta` its build recorded."""
    # 404 (no alias yet, before the first build) answers {"error": ..., "status": 404}.
    found = client.indices.get_alias(name=names.passages, ignore=404)
    for index in found:
        generation = names.generation_of(index)
        if generation is not None:
            if not meta:
                return generation, {}
            mapping = client.indices.get_mapping(index=index)
            return generation, mapping[index]["mappings"].get("_meta", {})
    return None


def build(settings: Settings, client: Any, *, full: bool = False, wait: bool = False,
          progress_seconds: float | None = None) -> BuildResult:
    """Bring the hub's OpenSearch index up to date with the store (incrementally unless
    `full`) in a new generation, and switch the aliases to it."""
    if not settings.storage.store_path.exists():
        raise IndexBuildError(
            f"no document store at {settings.storage.store_path}; run `hubsearch crawl` first"
        )
    names = Names(settings.backend.index_prefix)
    with stage_lock(settings.storage.store_path, "index", wait=wait):
        try:
            return _build_locked(settings, client, names, full,
                                 PROGRESS_SECONDS if progress_seconds is None
                                 else progress_seconds)
        except sqlite3.Error as exc:
            raise IndexBuildError(
                f"document store {settings.storage.store_path}: {exc}") from None
        except IndexBuildError:
            raise
        except Exception as exc:  # noqa: BLE001 - any client or cluster failure: one line
            if not _is_client_error(exc):
                raise
            raise IndexBuildError(f"index build failed: {problem(exc)}; "
                                  "the previous index keeps serving") from None


def _is_client_error(exc: BaseException) -> bool:
    from opensearchpy import exceptions

    return isinstance(exc, (exceptions.OpenSearchException, ClusterUnavailable))


def _build_locked(settings: Settings, client: Any, names: Names, full: bool,
                  progress_seconds: float) -> BuildResult:
    started = time.monotonic()
    with DocumentStore(settings.storage.store_path) as store:
        serving = current(client, names)
        gate(settings, store, serving is not None)
        _delete_unfinished(client, names, keep=serving[0] if serving else None)
        docs = documents(store)
        if not docs:
            raise IndexBuildError(
                "the document store has no searchable documents; run `hubsearch crawl` first")
        attributions = attribute(settings, docs)
        version = {k: attributions[k].version(stored) for k, stored in docs.items()}
        old: dict[str, str] | None = None
        if not full and serving is not None:
            if serving[1].get("format") == opensearch_analysis.FORMAT:
                old = _versions(client, names.documents_of(serving[0]))
            else:
                logger.info("index: the current generation has an older layout; "
                            "building it anew")
        known = old or {}
        added = sorted(k for k in docs if k not in known)
        changed = sorted(k for k in docs if k in known and known[k][0] != version[k])
        removed = sorted(k for k in known if k not in docs)
        if old is not None and serving is not None and not (added or changed or removed):
            meta = serving[1]
            return BuildResult(serving[0], "unchanged", int(meta.get("documents", 0)),
                               int(meta.get("passages", 0)), time.monotonic() - started)
        generation = _generation_name()
        passages_index = names.passages_of(generation)
        documents_index = names.documents_of(generation)
        mode = "full" if old is None else "incremental"
        try:
            if old is None:
                _create(client, settings, passages_index, documents_index)
                todo = sorted(docs)
            else:
                assert serving is not None
                _clone(client, names, serving[0], generation)
                _delete_documents(client, passages_index, documents_index,
                                  {k: known[k][1] for k in changed + removed})
                todo = added + changed
            written = _write(client, passages_index, documents_index, todo, docs,
                             attributions, version, store, progress_seconds, started)
            client.indices.refresh(index=f"{passages_index},{documents_index}")
            # Written to segments before the replicas are added: a replica then copies
            # files, instead of replaying every passage from the translog (measured at 200k
            # passages on the test cluster: over 2 minutes, and not done).
            client.indices.flush(index=f"{passages_index},{documents_index}",
                                 request_timeout=HEALTH_SECONDS)
            total = client.count(index=passages_index)["count"]
            count = client.count(index=documents_index)["count"]
            meta = {"format": opensearch_analysis.FORMAT, "built_at": utc_now(),
                    "built_at_epoch": time.time(), "generation": generation,
                    "documents": count, "passages": total, "complete": True}
            _finish(client, settings, passages_index, documents_index, meta)
            _switch(client, names, passages_index, documents_index)
        except BaseException:
            # The aliases were not moved (or the switch itself failed, atomically): drop
            # what this build wrote; the next build would otherwise find it unfinished.
            _drop(client, passages_index, documents_index)
            raise
        _prune(client, names, settings.backend.keep_generations)
        result = BuildResult(generation, mode, count, total, 0.0,
                             *((sorted(docs), [], []) if mode == "full"
                               else (added, changed, removed)), written)
        result.seconds = time.monotonic() - started
        try:
            write_status(settings, store, switched=True, generation=generation, mode=mode,
                         reason=None)
        except OSError as exc:
            raise IndexBuildError(
                f"index generation {generation} is serving, but its status could not be "
                f"saved: {exc.strerror or exc}") from None
    return result


def _create(client: Any, settings: Settings, passages_index: str,
            documents_index: str) -> None:
    backend = settings.backend
    for index, body in (
            (passages_index, opensearch_analysis.passages_body(
                backend.shards, backend.replicas, {"complete": False})),
            (documents_index, opensearch_analysis.documents_body(backend.shards))):
        body["settings"].update(BUILDING_SETTINGS)
        client.indices.create(index=index, body=body)


def _clone(client: Any, names: Names, serving: str, generation: str) -> None:
    """Copies of the served generation's indices to write the changes into. A clone needs
    its source read-only; the served indices take no writes anyway."""
    for source, target in ((names.passages_of(serving), names.passages_of(generation)),
                           (names.documents_of(serving), names.documents_of(generation))):
        client.indices.put_settings(index=source, body={"index.blocks.write": True})
        client.indices.clone(index=source, target=target, body={"settings": {
            "index.blocks.write": False, "index.number_of_replicas": 0,
            "index.refresh_interval": "-1", **BUILDING_SETTINGS}},
            params={"wait_for_active_shards": "1"})
        _wait_health(client, target, "yellow")
    # Not complete until this build finishes: an interrupted one is recognised as such.
    client.indices.put_mapping(index=names.passages_of(generation),
                               body={"_meta": {"complete": False}})


def _delete_documents(client: Any, passages_index: str, documents_index: str,
                      counts: dict[str, int]) -> None:
    """Delete documents (key -> passages indexed) and their passages, by id: a passage's id
    is its document's key and position (indexer/corpus.py), so none is searched for."""
    def actions() -> Iterator[dict[str, Any]]:
        for key, count in counts.items():
            yield {"_op_type": "delete", "_index": documents_index, "_id": document_id(key)}
            for position in range(count):
                yield {"_op_type": "delete", "_index": passages_index,
                       "_id": passage_id(key, position)}

    _bulk(client, actions(), missing_ok=True)


def _write(client: Any, passages_index: str, documents_index: str, todo: list[str],
           docs: dict[str, DocumentRef], attributions: dict[str, Attribution],
           version: dict[str, str], store: DocumentStore, progress_seconds: float,
           started: float) -> int:
    """Index the passages of `todo` and their documents' entries; how many passages."""
    written = 0
    entries: list[dict[str, Any]] = []
    last = time.monotonic()

    def actions() -> Iterator[dict[str, Any]]:
        nonlocal written, last
        for done, key in enumerate(todo, 1):
            stored = docs[key]
            document = store.document(stored.url)
            count = 0
            if document is not None:  # else removed from the store since the list was read
                document = bound_document(document)
                who = attributions[key]
                for fields in passage_fields(
                        key, document, source=who.source, audience=who.audience,
                        fetched_at=stored.last_success_at or stored.fetched_at or "",
                        last_modified=stored.last_modified):
                    count += 1
                    yield {"_index": passages_index, "_id": fields["passage_id"],
                           "_source": _passage_source(fields, key)}
            written += count
            entries.append({
                "_index": documents_index, "_id": document_id(key), "_source": {
                    "key": key, "url": stored.url, "sha256": stored.sha256 or "",
                    "version": version[key], "passages": count,
                    "title": document.title if document else "",
                    "phrases": _phrases(document),
                }})
            now = time.monotonic()
            if now - last >= progress_seconds:
                last = now
                logger.info("index: %d of %d documents, %d passages, %.0f s elapsed",
                            done, len(todo), written, now - started, extra={"progress": True})

    _bulk(client, actions())
    _bulk(client, entries)
    return written


def _passage_source(fields: dict[str, Any], key: str) -> dict[str, Any]:
    """A passage as OpenSearch keeps it: the Whoosh fields less the display copies (the
    title and text are in their language's fields), filters as keywords."""
    source = {name: value for name, value in fields.items()
              if value not in (None, "") and name not in ("body", "title_display")}
    source["audience"] = [a.lower() for a in fields["audience"].split(",") if a]
    source["document_id"] = document_id(key)
    # Whoosh scores each field with the statistics of all passages (idf over every passage,
    # the average length over every passage); Lucene over the passages that have the field.
    # Giving every passage every matching field (EMPTY_FIELD where it has none, a word the
    # searcher never asks for) makes the two agree, so a Welsh word is weighed among all
    # passages, not only the Welsh ones, as on Whoosh.
    for roles in FIELDS.values():
        for name in roles.values():
            if not source.get(name):
                source[name] = EMPTY_FIELD
    return source


def _phrases(document: Any) -> list[str]:
    """A document's title and distinct headings, offered as completions."""
    if document is None:
        return []
    phrases = [document.title, *distinct_headings(document.sections)]
    phrases = [" ".join(text.split())[:MAX_SUGGEST_CHARS] for text in phrases if text.strip()]
    return list(dict.fromkeys(phrases))[:MAX_SUGGEST_INPUTS]


def _bulk(client: Any, actions: Iterable[dict[str, Any]], missing_ok: bool = False) -> None:
    """Send `actions` in bulk requests from a second thread, so the next passages are read
    from the store and cut while the cluster indexes the last ones (the store's connection
    stays on this thread). The first refused action or failed request ends the build."""
    handoff: queue.Queue[list[dict[str, Any]] | None] = queue.Queue(HANDOFF_DEPTH)
    failure: list[BaseException] = []
    ended = threading.Event()

    def batches() -> Iterator[dict[str, Any]]:
        while (batch := handoff.get()) is not None:
            yield from batch
        ended.set()

    def send() -> None:
        try:
            _send(client, batches(), missing_ok)
        except BaseException as exc:  # handed to the reading thread, which raises it
            failure.append(exc)
            # Unblock the reader until it sees the failure and ends the hand-off.
            while not ended.is_set() and handoff.get() is not None:
                pass

    sender = threading.Thread(target=send, name="opensearch-bulk", daemon=True)
    sender.start()
    try:
        batch: list[dict[str, Any]] = []
        for action in actions:
            if failure:
                break
            batch.append(action)
            if len(batch) >= HANDOFF_BATCH:
                handoff.put(batch)
                batch = []
        if batch and not failure:
            handoff.put(batch)
    finally:
        handoff.put(None)
        sender.join()
    if failure:
        raise failure[0]


def _send(client: Any, actions: Iterable[dict[str, Any]], missing_ok: bool) -> None:
    from opensearchpy import helpers

    for ok, item in helpers.streaming_bulk(
            client, actions, chunk_size=BULK_CHUNK, max_chunk_bytes=BULK_BYTES,
            raise_on_error=False, raise_on_exception=True, max_retries=3,
            initial_backoff=1):
        if not ok:
            (op, info), = item.items()
            if missing_ok and op == "delete" and info.get("status") == 404:
                continue
            error = info.get("error")
            reason = error.get("reason") if isinstance(error, dict) else error
            raise IndexBuildError(
                f"index build failed: the cluster refused a passage ({info.get('status')}: "
                f"{str(reason)[:200]}); the previous index keeps serving")


def _finish(client: Any, settings: Settings, passages_index: str, documents_index: str,
            meta: dict[str, Any]) -> None:
    """Replicas on, writes synced as a served index's are, and the build's record: the
    index is complete."""
    replicas = settings.backend.replicas
    for index in (passages_index, documents_index):
        client.indices.put_settings(index=index, body={
            "index.number_of_replicas": replicas, **SERVING_SETTINGS})
    nodes = int(client.cluster.health()["number_of_data_nodes"])
    # Green needs a node for every copy; with fewer nodes the extra replicas wait unassigned.
    status = "green" if replicas < nodes else "yellow"
    _wait_health(client, f"{passages_index},{documents_index}", status)
    client.indices.put_mapping(index=passages_index, body={"_meta": meta})


def _wait_health(client: Any, index: str, status: str) -> None:
    """Wait until `index` is `status`; each request waits up to the cluster's 30 s default
    (the client's own `timeout` argument would be taken as the connection's)."""
    deadline = time.monotonic() + HEALTH_SECONDS
    while True:
        # A wait that times out on the cluster's side answers 408 with the health as body.
        health = client.cluster.health(index=index, wait_for_status=status,
                                       request_timeout=45, ignore=408)
        if not health.get("timed_out"):
            return
        if time.monotonic() > deadline:
            raise IndexBuildError(
                f"index build failed: the new generation's copies were not {status} within "
                f"{HEALTH_SECONDS:.0f} s; the previous index keeps serving")


def _switch(client: Any, names: Names, passages_index: str, documents_index: str) -> None:
    """Both aliases to the new generation in one request (applied atomically)."""
    actions: list[dict[str, Any]] = []
    for alias, index in ((names.passages, passages_index), (names.documents, documents_index)):
        # 404 (no alias yet, the first build) answers {"error": ..., "status": 404}.
        holders = [name for name in client.indices.get_alias(name=alias, ignore=404)
                   if names.generation_of(name) is not None]
        actions += [{"remove": {"index": old, "alias": alias}} for old in holders]
        actions.append({"add": {"index": index, "alias": alias}})
    client.indices.update_aliases(body={"actions": actions})


def _generations(client: Any, names: Names) -> dict[str, dict[str, Any]]:
    """Every generation of this hub's passages indices, with its `_meta`."""
    found = client.indices.get_mapping(index=f"{names.passages}-*",
                                       params={"ignore_unavailable": "true",
                                               "allow_no_indices": "true"})
    generations = {}
    for index, body in found.items():
        generation = names.generation_of(index)
        if generation is not None and index == names.passages_of(generation):
            generations[generation] = body.get("mappings", {}).get("_meta", {})
    return generations


def _delete_unfinished(client: Any, names: Names, keep: str | None) -> None:
    """Indices of a build that never finished (killed, or its cluster went away)."""
    for generation, meta in _generations(client, names).items():
        if generation != keep and not meta.get("complete"):
            logger.info("index: removing generation %s, left unfinished by an earlier build",
                        generation)
            _drop(client, names.passages_of(generation), names.documents_of(generation))


def _prune(client: Any, names: Names, keep: int) -> None:
    """Keep the newest `keep` finished generations (the one served among them)."""
    finished = sorted(g for g, meta in _generations(client, names).items()
                      if meta.get("complete"))
    for generation in finished[:-keep]:
        _drop(client, names.passages_of(generation), names.documents_of(generation))


def _drop(client: Any, *indices: str) -> None:
    try:
        client.indices.delete(index=",".join(indices), params={"ignore_unavailable": "true"})
    except Exception as exc:  # noqa: BLE001 - best effort: the next build tries again
        logger.warning("index: could not delete %s: %s", ", ".join(indices), problem(exc))


def _versions(client: Any, documents_index: str) -> dict[str, tuple[str, int]]:
    """Each indexed document's version and passage count, read from the served generation's
    documents index."""
    versions: dict[str, tuple[str, int]] = {}
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {"size": 5000, "_source": ["key", "version", "passages"],
                                "sort": [{"key": "asc"}], "query": {"match_all": {}}}
        if after is not None:
            body["search_after"] = after
        hits = client.search(index=documents_index, body=body)["hits"]["hits"]
        for hit in hits:
            source = hit["_source"]
            versions[source["key"]] = (source["version"], int(source.get("passages", 0)))
        if len(hits) < 5000:
            return versions
        after = hits[-1]["sort"]

