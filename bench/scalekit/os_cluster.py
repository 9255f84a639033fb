"""The OpenSearch cluster a benchmark runs Hubsearch's OpenSearch backend on: one it starts
(tools/opensearch_cluster: real OpenSearch nodes on loopback, the backend's default 2 shards
and 1 replica spread over them) or a running one named by URL; its memory, the store size of
a hub's indices, and the deletion of a hub's indices from a cluster that is not ours.

bench/scale.py and bench/relevance.py use it (`--backend opensearch|both`).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import sys
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"
CLUSTER_NODES = 2
HTTP_TIMEOUT = 300.0


def heap_mb_for(passages: int) -> int:
    """Each node's heap, by passages: a test-sized heap at 50k, more as the corpus grows."""
    return 512 if passages <= 50_000 else 1024 if passages <= 200_000 else 2048


def config_lines(urls: list[str], index_prefix: str) -> list[str]:
    """The `[backend]` table of a hub config on this cluster."""
    return ["[backend]", "kind = 'opensearch'", f"urls = {json.dumps(urls)}",
            f"index_prefix = {json.dumps(index_prefix)}", ""]


class Cluster:
    """A benchmark's OpenSearch cluster, for the `with` block: started here (CLUSTER_NODES
    nodes of tools/opensearch_cluster, each with `heap_mb` of heap, in `workdir`) unless
    `urls` name a running one."""

    def __init__(self, workdir: Path, heap_mb: int, urls: list[str] | None) -> None:
        self.workdir, self.heap_mb, self.given = workdir, heap_mb, urls
        self.launched: Any = None

    def __enter__(self) -> Cluster:
        if self.given:
            return self
        # tools/ on the path, as the tests have it (pyproject's pytest settings).
        sys.path.insert(0, str(TOOLS))
        import opensearch_cluster.cluster as launcher

        if why := launcher.unavailable_reason():
            raise SystemExit(f"error: no OpenSearch cluster can start here: it {why}")
        # The launcher's options, with a heap sized for the corpus (Xms = Xmx, as OpenSearch
        # recommends: no heap resizing while measured).
        opts = tuple(o for o in launcher.DEFAULT_JVM_OPTS if not o.startswith(("-Xms", "-Xmx")))
        self.launched = launcher.OpenSearchCluster(
            nodes=CLUSTER_NODES, workdir=self.workdir, cluster_name="hubsearch-bench",
            jvm_opts=(f"-Xms{self.heap_mb}m", f"-Xmx{self.heap_mb}m", *opts))
        try:
            self.launched.start()
        except launcher.ClusterError as exc:
            self.launched.stop()
            raise SystemExit(f"error: the OpenSearch cluster did not start: {exc}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.launched is not None:
            self.launched.stop()

    @property
    def urls(self) -> list[str]:
        return list(self.given) if self.given else self.launched.urls

    def rss_mb(self) -> float | None:
        """The nodes' RSS summed (MB), or None for a cluster this bench did not start."""
        if self.launched is None:
            return None
        # kB / 1024, as tree_rss_mb counts the service's.
        return sum(mb or 0.0 for mb in self.launched.rss_mb())

    def request(self, method: str, path: str) -> Any:
        """One JSON request to the first node (a given cluster's credentials from the
        environment, as the service takes them)."""
        parts = urllib.parse.urlsplit(self.urls[0])
        connection = (http.client.HTTPSConnection if parts.scheme == "https"
                      else http.client.HTTPConnection)
        conn = connection(parts.hostname, parts.port, timeout=HTTP_TIMEOUT)
        headers = {}
        user = os.environ.get("HUBSEARCH_OPENSEARCH_USERNAME")
        if user:
            secret = f"{user}:{os.environ.get('HUBSEARCH_OPENSEARCH_PASSWORD', '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode()
        try:
            conn.request(method, path, headers=headers)
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.status >= 300:
            raise SystemExit(f"error: OpenSearch answered {response.status} to {method} "
                             f"{path}: {body[:300]!r}")
        return json.loads(body or b"null")

    def disk_mb(self, prefix: str) -> tuple[float, float]:
        """Store size of the prefix's indices: (primaries and replicas, primaries), MB."""
        rows = self.request("GET", f"/_cat/indices/{prefix}-*?format=json&bytes=b")
        return (sum(int(r.get("store.size") or 0) for r in rows) / 1e6,
                sum(int(r.get("pri.store.size") or 0) for r in rows) / 1e6)

    def delete_prefix(self, prefix: str) -> None:
        with contextlib.suppress(SystemExit):
            self.request("DELETE", f"/{prefix}-*?expand_wildcards=all")
