"""Prometheus metrics of the search server: requests, latencies, errors, index age.

Labels are route templates, never raw paths or query strings: staff queries can name people,
so nothing a user typed becomes a label. Each app gets its own registry (tests build many).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

ROUTES = ("/", "/api/search", "/api/status", "/api/documents/{id}", "/status", "/healthz",
          "/metrics", "/openapi.json", "/static")
CONTENT_TYPE = CONTENT_TYPE_LATEST


def route_of(path: str) -> str:
    if path.startswith("/api/documents/"):
        return "/api/documents/{id}"
    if path.startswith("/static/"):
        return "/static"
    return path if path in ROUTES else "other"


class Metrics:
    def __init__(self, index_built_at: Callable[[], float | None]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "hubsearch_http_requests", "HTTP requests answered", ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "hubsearch_http_request_duration_seconds", "Time to answer a request", ["route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.errors = Counter(
            "hubsearch_http_errors", "Responses with a 5xx status", ["route"],
            registry=self.registry,
        )
        self.zero_results = Counter(
            "hubsearch_search_zero_results", "Searches that found nothing (a count only)",
            registry=self.registry,
        )
        age = Gauge("hubsearch_index_age_seconds", "Seconds since the index being served was "
                    "built", registry=self.registry)
        age.set_function(lambda: _age(index_built_at()))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        """An ObservedRequests observer (hubsearch/access_log.py)."""
        route = route_of(path)
        self.latency.labels(route).observe(seconds)
        self.requests.labels(route, str(status)).inc()
        if status >= 500:
            self.errors.labels(route).inc()


def _age(built_at: float | None) -> float:
    return max(0.0, time.time() - built_at) if built_at else float("nan")
