"""The web side of Hubsearch: routes, page templates, their translations, the API
description, metrics and the limits the server runs under. `search_server.py` is its entry
point. It reads only what the stages before it left: the index (through the search backend
interface, hubsearch/search_backend.py, never an engine directly) and the status snapshot
beside it (hubsearch/status_snapshot.py)."""
