"""One PassageSearcher answers many server threads at once, each exactly as it would alone.

What a generation shares between threads (its arrays) is read when it is opened, by the
thread opening it: a Whoosh file read later from another thread would race the owner's own
seeks and reads (a stored passage then fails to decompress, or reads another's bytes).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from indexer.search import PassageSearcher

QUERIES = ["modern slavery", "national referral mechanism", '"duty to notify"', "NRM",
           "caethwasiaeth", "child trafficking signs", "exploitation -labour", "nurse"]


def test_threads_searching_at_once_get_what_one_thread_gets(demo_index):
    settings, _ = demo_index
    expected = {q: PassageSearcher(settings.storage.index_dir).search(q).to_dict()
                for q in QUERIES}
    shared = PassageSearcher(settings.storage.index_dir)
    work = [QUERIES[i % len(QUERIES)] for i in range(1000)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda q: (q, shared.search(q).to_dict()), work))
    assert all(answer == expected[q] for q, answer in answers)
