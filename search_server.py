"""The search server's entry point: the JSON API, the staff search page, the maintainers'
pages and a health check, over one index. The application itself is the hubsearch_web
package; this module names what runs it:

- `hubsearch serve` (and `python search_server.py`) calls `serve`;
- an ASGI server run by hand imports the factory `search_server:app_from_env`;
- tests build the app with `create_app(settings)`.
"""

from __future__ import annotations

import sys

from hubsearch_web.app import app_from_env, create_app, serve

__all__ = ["app_from_env", "create_app", "serve"]

if __name__ == "__main__":
    from hubsearch.cli import main

    sys.exit(main(["serve", *sys.argv[1:]]))
