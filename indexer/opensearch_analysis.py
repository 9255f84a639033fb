"""The OpenSearch index of passages, as index settings and mappings: the same fields, the same
English and Welsh analysis and the same BM25 parameters as the Whoosh index
(indexer/schema_fields.py, indexer/analysis.py), written in analysis-common's filters.

English: possessives dropped and other apostrophes joined (pattern_replace char filters),
dotted acronyms and "2,000" joined (pattern_replace), hyphenated words indexed as their parts
and the joined word (word_delimiter_graph; a query keeps only the joined word), accents and
ligatures folded (asciifolding), the English stop list, Porter stemming (porter_stem).
Welsh: apostrophes split words, the Welsh stop list, no stemming, and initial mutations
folded to one key per word (a chain of pattern_replace filters, one per class of radical,
marking the word so only one applies), with the soft-mutated dropped g restored as a second
term at index time (a multiplexer). tests/test_opensearch_analysis.py checks that OpenSearch
gives the Whoosh analyzers' terms for the same text.

What cannot be said the same way is listed in docs/scale-out.md.
"""

from __future__ import annotations

from typing import Any

from indexer.schema_fields import FIELDS, RANKING
from indexer.stop_words import ENGLISH_STOP_WORDS, WELSH_STOP_WORDS

# Version of these mappings: a generation of another format is rebuilt in full.
FORMAT = 1

# indexer/analysis.py's TOKEN_PATTERN in Java's syntax; (?U) makes \w Unicode as in Python.
TOKEN_PATTERN = (
    r"(?U)(?:[^\W\d_]\.){2,}"
    r"|\d+(?:[.,]\d+)+"
    r"|\w+(?:['\u2019\u2018\-]\w+)*"
)
# Marks a Welsh word whose initial has been folded, so no later class folds it again.
_MARK = "\u0001"
# Initial mutations, by the radical class they fold to (indexer/analysis.py `_MUTATIONS`,
# longest spelling first within a class); "ff" before the labials, as there.
_MUTATION_CLASSES = (
    ("velar", "ngh|ng|ch|c|g", "c"),
    ("ff", "ff", "ff"),
    ("labial", "mh|ph|f|b|m|p", "p"),
    ("dental", "nh|th|dd|d|n|t", "t"),
    ("ll", "ll|l", "ll"),
    ("rh", "rh|r", "rh"),
)


def _replace(pattern: str, replacement: str) -> dict[str, str]:
    return {"type": "pattern_replace", "pattern": pattern, "replacement": replacement}


def _analysis() -> dict[str, Any]:
    char_filter = {
        # U+2010 and U+2011 are hyphens too; the tokenizer then keeps hyphenated words whole.
        "hyphens": {"type": "mapping", "mappings": ["\u2010 => -", "\u2011 => -"]},
        # English: "child's" -> child, then "don't" -> dont.
        "en_possessive": _replace(r"(?U)(\w)['\u2019\u2018][sS](?!\w)", "$1"),
        "en_apostrophes": _replace(r"(?U)(\w)['\u2019\u2018](?=\w)", "$1"),
        # Welsh: an apostrophe marks elision ("sy'n", "i'r"): two words.
        "cy_apostrophes": _replace(r"['\u2019\u2018]", " "),
    }
    tokenizer = {"hub_words": {"type": "pattern", "pattern": TOKEN_PATTERN, "group": 0}}
    token_filter: dict[str, Any] = {
        "acronym_dots": _replace(r"(?<=\p{L})\.", ""),
        "number_commas": _replace(r"(?<=\d),(?=\d)", ""),
        # At index time a hyphenated word is its parts and the parts joined.
        "hyphen_parts": {
            "type": "word_delimiter_graph", "generate_word_parts": True,
            "generate_number_parts": True, "catenate_all": True, "preserve_original": False,
            "split_on_case_change": False, "split_on_numerics": False,
            "stem_english_possessive": False,
            # "1.5" stays one number; apostrophes were handled by the char filters.
            "type_table": [". => DIGIT"],
        },
        # A query word keeps only the joined form: "co-ordinate" finds "coordinate".
        "hyphen_join": _replace("-", ""),
        "en_stop": {"type": "stop", "stopwords": sorted(ENGLISH_STOP_WORDS)},
        "cy_stop": {"type": "stop", "stopwords": sorted(WELSH_STOP_WORDS)},
        # h-prothesis ("ei hardal" -> ardal): an h before a vowel is dropped.
        "cy_h": _replace(r"^h(?=[aeiouwy]\p{L}*$)", _MARK),
        "cy_unmark": _replace(f"^{_MARK}", ""),
        # The dropped g of a soft mutation ("ofal" for "gofal"): the word with the g restored,
        # folded ("c" + word), for a word that may have lost one; nothing for any other.
        "cy_soft_g_only": _replace(
            r"^(?!(?:[aeiouwy]\p{L}{2,}|[lr](?![lh])\p{L}{2,})$).*$", ""),
        "cy_soft_g_key": _replace("^(?=.)", "c"),
        "non_empty": {"type": "length", "min": 1},
    }
    fold = ["cy_h"]
    for name, initials, radical in _MUTATION_CLASSES:
        token_filter[f"cy_{name}"] = _replace(rf"^(?:{initials})(?=\p{{L}}+$)", _MARK + radical)
        fold.append(f"cy_{name}")
    fold.append("cy_unmark")
    token_filter["cy_mutations_index"] = {
        "type": "multiplexer",
        "filters": [", ".join(fold), "cy_soft_g_only, cy_soft_g_key, non_empty"],
        "preserve_original": False,
    }
    shared = ["lowercase", "asciifolding", "acronym_dots", "number_commas"]
    analyzer = {
        "hub_en": {"type": "custom", "char_filter": ["hyphens", "en_possessive",
                                                     "en_apostrophes"],
                   "tokenizer": "hub_words",
                   "filter": [*shared, "hyphen_parts", "flatten_graph", "en_stop",
                              "porter_stem"]},
        "hub_en_query": {"type": "custom", "char_filter": ["hyphens", "en_possessive",
                                                           "en_apostrophes"],
                         "tokenizer": "hub_words",
                         "filter": [*shared, "hyphen_join", "en_stop", "porter_stem"]},
        "hub_cy": {"type": "custom", "char_filter": ["hyphens", "cy_apostrophes"],
                   "tokenizer": "hub_words",
                   "filter": [*shared, "hyphen_parts", "flatten_graph", "cy_stop",
                              "cy_mutations_index"]},
        "hub_cy_query": {"type": "custom", "char_filter": ["hyphens", "cy_apostrophes"],
                         "tokenizer": "hub_words",
                         "filter": [*shared, "hyphen_join", "cy_stop", *fold]},
        # Words as written, for the did-you-mean suggester: no stemming, no stop words.
        "hub_plain": {"type": "custom", "tokenizer": "hub_words",
                      "filter": ["lowercase", "asciifolding"]},
        # Titles and headings as typed, for completions.
        "hub_complete": {"type": "custom", "tokenizer": "standard",
                         "filter": ["lowercase", "asciifolding"]},
    }
    return {"char_filter": char_filter, "tokenizer": tokenizer, "filter": token_filter,
            "analyzer": analyzer}


def _keyword(index: bool = True) -> dict[str, Any]:
    return {"type": "keyword"} if index else {"type": "keyword", "index": False,
                                               "doc_values": False}


def passages_body(shards: int, replicas: int, meta: dict[str, Any]) -> dict[str, Any]:
    """Settings and mappings of a passages index (one generation). Replicas are added once
    the index is built: writing one copy is half the work."""
    del replicas
    properties: dict[str, Any] = {
        "passage_id": _keyword(),
        "document_url": _keyword(),
        "document_id": _keyword(),
        "source": _keyword(),
        "doc_type": _keyword(),
        "language": _keyword(),
        "audience": _keyword(),
        "kind": _keyword(),
        "updated": _keyword(),
        "page": {"type": "integer"},
        "position": {"type": "integer"},
        "fetched_at": _keyword(index=False),
        "deep_link": _keyword(index=False),
        "headings": _keyword(index=False),
        "ocr": {"type": "boolean"},
        "words": {"type": "text", "analyzer": "hub_plain", "norms": False,
                  "index_options": "freqs"},
    }
    for lang, roles in FIELDS.items():
        for role, name in roles.items():
            properties[name] = {
                "type": "text",
                "analyzer": f"hub_{lang}",
                "search_analyzer": f"hub_{lang}_query",
                "similarity": f"bm25_{role}",
                "copy_to": "words",
            }
    similarity = {f"bm25_{role}": {"type": "BM25", "k1": RANKING.k1, "b": RANKING.b[role]}
                  for role in RANKING.b}
    return {
        "settings": {
            "index": {
                "number_of_shards": shards,
                "number_of_replicas": 0,
                "refresh_interval": "-1",
                "max_result_window": 10_000,
                "similarity": similarity,
            },
            "analysis": _analysis(),
        },
        "mappings": {"dynamic": "strict", "_meta": meta, "properties": properties},
    }


def documents_body(shards: int) -> dict[str, Any]:
    """Settings and mappings of a documents index: one entry per indexed document (its
    version for incremental builds, its title and headings for completions)."""
    return {
        "settings": {
            "index": {"number_of_shards": max(1, min(shards, 2)), "number_of_replicas": 0,
                      "refresh_interval": "-1"},
            "analysis": _analysis(),
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "key": _keyword(),
                "url": _keyword(),
                "sha256": _keyword(index=False),
                "version": _keyword(index=False),
                "passages": {"type": "integer"},
                "title": _keyword(index=False),
                # Titles and headings, searched word by word as typed (completions).
                "phrases": {"type": "text", "analyzer": "hub_complete", "norms": False},
            },
        },
    }
