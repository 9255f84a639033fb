"""Parts of bench/scale.py that are not benchmarks themselves: the corpus it builds from
../shared/data (corpus.py) and the SQLite FTS5 reference it measures beside (fts5_reference.py).
"""
