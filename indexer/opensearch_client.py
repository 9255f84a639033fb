"""The connection to an OpenSearch cluster, made once from `[backend]` settings, and the
names a hub's indices and aliases take in it.

Any node named in `backend.urls` may answer; one that fails is marked dead and the request
retried on another (opensearch-py's connection pool), so a node down costs one retry, not an
error. Credentials come from the environment only (hubsearch/settings.py names the
variables). Errors reach callers as one line (`unreachable`, `refused`), never with the
credentials or a traceback.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from hubsearch.errors import HubsearchError
from hubsearch.settings import OPENSEARCH_PASSWORD_ENV, OPENSEARCH_USER_ENV, BackendSettings

logger = logging.getLogger("hubsearch.opensearch")

# Retries of one request on other nodes before it fails (a node down, a timeout).
MAX_RETRIES = 3


class ClusterUnavailable(HubsearchError):
    """The cluster could not be reached or refused the request; one line."""


def connect(backend: BackendSettings) -> Any:
    """An OpenSearch client over every node in `backend.urls` (thread-safe: one per process)."""
    from opensearchpy import OpenSearch


    user = os.environ.get(OPENSEARCH_USER_ENV)
    password = os.environ.get(OPENSEARCH_PASSWORD_ENV)
    options: dict[str, Any] = {}
    if user and password is not None:
        options["http_auth"] = (user, password)
    if any(url.startswith("https:") for url in backend.urls):
        options["verify_certs"] = backend.verify_certs
        if backend.ca_file:
            options["ca_certs"] = backend.ca_file
        if not backend.verify_certs:
            options["ssl_show_warn"] = False
    return OpenSearch(
        list(backend.urls),
        connection_class=_private_connection(),
        timeout=backend.timeout_seconds,
        max_retries=MAX_RETRIES,
        retry_on_timeout=True,
        # The pool tries another node on these; 503 is a node still starting or leaving.
        retry_on_status=(502, 503, 504),
        http_compress=False,
        **options,
    )


def _private_connection() -> type:
    """The client's HTTP connection, logging no request or response body.

    The stock one logs bodies at DEBUG ("opensearch") and as curl lines ("opensearch.trace"):
    a search body holds what staff typed, which is never logged, whatever the log level.
    A failed request is one line (method, path, status), without the traceback the stock
    one attaches to every retry on another node."""
    from opensearchpy import Urllib3HttpConnection

    class PrivateConnection(Urllib3HttpConnection):
        def log_request_success(self, *args: Any, **kwargs: Any) -> None:
            pass

        def log_request_fail(self, method: str, full_url: str, path: str, body: Any,
                             duration: float, status_code: int | None = None,
                             response: str | None = None,
                             exception: Exception | None = None) -> None:
            if method == "HEAD" and status_code == 404:
                return
            reason = status_code or type(exception).__name__
            logger.warning("opensearch: %s %s failed (%s) on %s", method, path, reason,
                           self.host)

    return PrivateConnection


def problem(exc: BaseException) -> str:
    """One line saying what went wrong with a request, without a traceback or a secret."""
    from opensearchpy import exceptions

    if isinstance(exc, exceptions.ConnectionTimeout):
        return "the cluster did not answer in time"
    if isinstance(exc, exceptions.ConnectionError):
        return "no node of the cluster could be reached"
    if isinstance(exc, exceptions.TransportError):
        info = exc.info if isinstance(exc.info, dict) else {}
        error = info.get("error")
        if isinstance(error, dict):
            # "all shards failed" says nothing; the first root cause says why.
            causes = error.get("root_cause") or [error]
            error = causes[0].get("reason") if isinstance(causes[0], dict) else error
        reason = error or exc.error
        return f"the cluster refused the request ({exc.status_code}: {str(reason)[:200]})"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


class Names:
    """Index and alias names of one hub (`backend.index_prefix`) in a shared cluster."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        # The aliases the searchers read: they point at the generation being served.
        self.passages = f"{prefix}-passages"
        self.documents = f"{prefix}-documents"

    def passages_of(self, generation: str) -> str:
        return f"{self.passages}-{generation}"

    def documents_of(self, generation: str) -> str:
        return f"{self.documents}-{generation}"

    def generation_of(self, index: str) -> str | None:
        """The generation a passages or documents index of this hub holds, else None."""
        for alias in (self.passages, self.documents):
            if index.startswith(alias + "-"):
                return index[len(alias) + 1:]
        return None
