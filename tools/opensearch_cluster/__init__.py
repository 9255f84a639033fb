"""A real multi-node OpenSearch cluster on loopback for tests (see README.md and cluster.py).

Importable as ``opensearch_cluster`` because pyproject's pytest settings put tools/ on sys.path.
"""

from .cluster import (
    ClusterError,
    OpenSearchCluster,
    build,
    http_json,
    is_built,
    unavailable_reason,
)

__all__ = [
    "ClusterError",
    "OpenSearchCluster",
    "build",
    "http_json",
    "is_built",
    "unavailable_reason",
]
