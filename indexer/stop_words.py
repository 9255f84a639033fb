"""The stop words of each language's analysis: the words a query never needs to match.

Plain data, without an engine, so every backend analyses alike: indexer/analysis.py's Whoosh
analyzers and indexer/opensearch_analysis.py's index settings both read these lists.
"""

# Lucene's English stop set (EnglishAnalyzer, as in the published Cranfield figure), plus
# the question and auxiliary words people start a query with ("what is the duty to ..."):
# as terms they only add noise, and a query that needs every word must not need them.
# Modal verbs (must, may, should) stay: in guidance they carry the meaning.
ENGLISH_STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their "
    "then there these they this to was will with "
    "what which who whom whose when where why how do does did can could would has have had "
    "been being were am any anyone i we you your our my me us from than so some here also"
    .split()
)
# Articles, conjunctions, simple prepositions, possessive pronouns, forms of "bod", and the
# elided forms an apostrophe leaves behind ('n, 'r, 'i, 'w, 'u, 'm). Kept short: content
# words stay searchable.
WELSH_STOP_WORDS = frozenset(
    "a ac ag am ar at i o y yr r n w u m ei eu ein eich fy dy yn mae maen oedd sy sydd yw "
    "ydy ydi ond neu na nac nad ni nid hefyd hyn hynny gan gyda wrth dros drwy trwy heb "
    "mewn".split()
)
