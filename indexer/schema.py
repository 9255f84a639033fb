"""The Whoosh schema and analyzers of the passage index: the one place fields are defined.

Each passage is matched through the fields of its own language: English passages fill
`title`, `heading_path` and `text` (English analysis), Welsh passages fill `title_cy`,
`heading_path_cy` and `text_cy` (Welsh analysis, no English stemming). The passage itself is
kept in the stored `body` field for display and highlighting. Whoosh is unmaintained, so
the rest of the code base reaches it only through indexer/.
"""

from __future__ import annotations

from whoosh import scoring
from whoosh.analysis import Analyzer, LowercaseFilter, RegexTokenizer, StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

LANGUAGES = ("en", "cy")

# The matching fields of each language: role -> field name.
FIELDS = {
    "en": {"title": "title", "heading_path": "heading_path", "text": "text"},
    "cy": {"title": "title_cy", "heading_path": "heading_path_cy", "text": "text_cy"},
}

# Field weights for BM25F: a word in a heading says more about a passage than one in the
# body; the document title is shared by all its passages, so it says less.
ROLE_BOOSTS = {"text": 1.0, "heading_path": 1.5, "title": 0.6}
FIELD_BOOSTS = {FIELDS[lang][role]: boost for lang in LANGUAGES
                for role, boost in ROLE_BOOSTS.items()}


def english_analyzer() -> Analyzer:
    return StemmingAnalyzer()


def welsh_analyzer() -> Analyzer:
    # No English stemming or stop words for Welsh text.
    return RegexTokenizer() | LowercaseFilter()


def analyzers() -> dict[str, Analyzer]:
    return {"en": english_analyzer(), "cy": welsh_analyzer()}


def build_schema() -> Schema:
    by_lang = analyzers()
    fields = {
        name: TEXT(analyzer=by_lang[lang])
        for lang in LANGUAGES
        for name in FIELDS[lang].values()
    }
    return Schema(
        passage_id=ID(stored=True, unique=True),
        **fields,
        # Display copies: the passage, its document title and its heading path as a list.
        body=STORED(),
        title_display=STORED(),
        headings=STORED(),
        # sortable: these are the filters and facets.
        source=ID(stored=True, sortable=True),
        document_url=ID(stored=True, sortable=True),
        deep_link=STORED(),
        language=ID(stored=True, sortable=True),
        doc_type=ID(stored=True, sortable=True),
        audience=KEYWORD(stored=True, commas=True, lowercase=True),
        page=NUMERIC(stored=True),
        position=STORED(),
        fetched_at=STORED(),
    )


def weighting() -> scoring.WeightingModel:
    """The ranking function every searcher uses (BM25F with Whoosh's defaults for now)."""
    return scoring.BM25F(B=0.75, K1=1.2)


def language_of(lang: str) -> str:
    """The analysis language for a document language ("en" for anything not Welsh)."""
    return lang if lang in LANGUAGES else "en"
