import logging, time
from hubsearch.backends import open_backend

def test_dev(demo_crawl, opensearch_settings, caplog):
    settings = opensearch_settings(demo_crawl[0])
    backend = open_backend(settings)
    import opensearchpy.connection.base as b
    orig = b.Connection.log_request_success
    def log(self, method, full_url, path, body, status_code, response, duration):
        print(f"{duration:.3f} {method} {path[:90]}")
        return orig(self, method, full_url, path, body, status_code, response, duration)
    b.Connection.log_request_success = log
    t = time.time(); r = backend.build(); print(r.line(), time.time() - t)
    s = backend.searcher()
    page = s.search("duty to notify")
    doc = s.document(page.results[0].document_id)
    print(doc["title"], doc["total_passages"], len(doc["passages"]))
    r2 = backend.build()
    print(r2.line())
    store = settings.storage.store_path
    import sqlite3
    t = time.time(); r3 = backend.build(full=True); print(r3.line(), time.time() - t)
