"""Sharing one real OpenSearch test cluster between tests: an index prefix per test, the clean-up
of everything under it, and Settings pointed at the cluster (fixtures in conftest.py)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence

from hubsearch.settings import BackendSettings, Settings
from opensearch_cluster import http_json


def new_prefix() -> str:
    """An index prefix no other test uses: "t-" and 12 hex digits (a valid index_prefix)."""
    return f"t-{uuid.uuid4().hex[:12]}"


def on_opensearch(settings: Settings, urls: Sequence[str], prefix: str) -> Settings:
    """`settings` with its backend on the cluster at `urls`, its names under `prefix`, and indices
    of 2 shards with 1 replica (so a 2-node cluster holds a copy of every shard on each node)."""
    return dataclasses.replace(settings, backend=BackendSettings(
        kind="opensearch", urls=tuple(urls), index_prefix=prefix, shards=2, replicas=1))


def delete_prefix(url: str, prefix: str) -> None:
    """Delete every alias and index named `<prefix>-*` (closed and hidden ones too)."""
    # No alias under the prefix answers 404: nothing to delete, not a failure.
    code, body = http_json(f"{url}/_all/_alias/{prefix}-*", "DELETE")
    if code not in (200, 404):
        raise RuntimeError(f"deleting aliases {prefix}-* failed: {code} {body}")
    code, body = http_json(f"{url}/{prefix}-*?expand_wildcards=all", "DELETE")
    if code != 200:
        raise RuntimeError(f"deleting indices {prefix}-* failed: {code} {body}")
