"""The Whoosh schema and analyzers of the passage index: the one place fields are defined.

Whoosh is unmaintained, so the rest of the code base reaches it only through indexer/.
"""

from __future__ import annotations

from whoosh.analysis import Analyzer, StemmingAnalyzer
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema

# Field weights for BM25F: a word in a heading says more about a passage than one in the
# body; the document title is shared by all its passages, so it says less.
FIELD_BOOSTS = {"text": 1.0, "heading_path": 1.5, "title": 0.6}


def text_analyzer() -> Analyzer:
    # English stemming and stop words; Welsh analysis comes with its own analyzer later.
    return StemmingAnalyzer()


def build_schema() -> Schema:
    analyzer = text_analyzer()
    return Schema(
        passage_id=ID(stored=True, unique=True),
        title=TEXT(analyzer=analyzer, stored=True),
        heading_path=TEXT(analyzer=analyzer),
        # The path as a list, for display; the TEXT field above is for matching.
        headings=STORED(),
        text=TEXT(analyzer=analyzer, stored=True),
        source=ID(stored=True),
        document_url=ID(stored=True),
        deep_link=STORED(),
        language=ID(stored=True),
        doc_type=ID(stored=True),
        page=NUMERIC(stored=True),
        position=STORED(),
        fetched_at=STORED(),
    )
