"""Access log without query strings: method, path, status and time of every request.

Uvicorn's own access log is off because it prints the query string, and staff queries can
name the people they are worried about; this one never sees anything after the `?`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

logger = logging.getLogger("hubsearch.access")


class AccessLog:
    def __init__(self, app: Any) -> None:
        self.app = app

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
            # scope["path"] never includes the query string.
            logger.info("%s %s %d %.1fms", scope["method"], scope["path"], status,
                        (time.perf_counter() - started) * 1000)
