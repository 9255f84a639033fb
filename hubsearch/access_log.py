"""Watching requests: one ASGI middleware that times each request and hands (method, path,
status, seconds) to observers, and the access log observer.

The access log records method, path, status and time, never the query string (uvicorn's own
access log is off because it prints it): staff queries can name the people they are
worried about, and `scope["path"]` never includes anything after the `?`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

logger = logging.getLogger("hubsearch.access")

Observer = Callable[[str, str, int, float], None]


def access_log(method: str, path: str, status: int, seconds: float) -> None:
    logger.info("%s %s %d %.1fms", method, path, status, seconds * 1000)


class ObservedRequests:
    def __init__(self, app: Any, observers: Sequence[Observer] = (access_log,)) -> None:
        self.app = app
        self.observers = observers

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_status(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - started
            for observe in self.observers:
                observe(scope["method"], scope["path"], status, seconds)
