"""The one error family the CLI reports as a single line (exit status in `status`)."""

from __future__ import annotations


class HubsearchError(Exception):
    """A failure to report as one line, never a traceback."""

    status = 1
