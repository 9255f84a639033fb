"""Read what staff type into a small, forgiving query structure: words, phrases, exclusions.

The only syntax is "quoted phrases" and a leading `-` to exclude a word or phrase. Everything
else, including Whoosh or Lucene operators (AND, field:, wildcards, ^boosts, brackets), is
read as plain words, so no input can fail to parse. This module is pure: no Whoosh, no index.

It applies the bounds of a query, which every search backend shares and which are set in one
place (hubsearch/search_results.py): its length in characters (longer is refused with a
one-line reason, `query_problem`), the length of one word and the number of words used. A
word over MAX_WORD_CHARS and the words past MAX_WORDS are left out, and
`UserQuery.ignored` counts them so the response can say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hubsearch.search_results import (  # noqa: F401 - also importable from here
    MAX_QUERY_CHARS,
    MAX_WORD_CHARS,
    MAX_WORDS,
    QueryRefused,
    query_problem,
)

# Words as staff write them: letters and digits, joined by &, an apostrophe, a hyphen, a dot
# or a comma ("A&E", "child's", "i'w", "co-ordinate", "N.R.M", "2,000"), kept whole so the
# analyzer (indexer/analysis.py) can join them as it does at index time.
WORD = re.compile(r"[^\W_]+(?:[&'\u2019.,-][^\W_]+)*")
_PART = re.compile(r'(?P<neg>-?)"(?P<phrase>[^"]*)"|(?P<chunk>\S+)')


def words_of(text: str) -> list[str]:
    """The lower-cased words of `text` (the form synonyms and spelling work on)."""
    return [w.replace("\u2019", "'") for w in WORD.findall(text.casefold())]


@dataclass
class UserQuery:
    """A query as typed: plain words in order, quoted phrases, and what to leave out."""

    words: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    excluded: list[list[str]] = field(default_factory=list)
    # Words left out: longer than MAX_WORD_CHARS, or past the first MAX_WORDS.
    ignored: int = 0

    @property
    def empty(self) -> bool:
        return not (self.words or self.phrases)


def parse_user_query(text: str) -> UserQuery:
    """Split typed text into words, "phrases" and -exclusions; never raises.

    At most MAX_WORDS words are kept, in the order typed, each of at most MAX_WORD_CHARS
    characters; a phrase or exclusion that would pass the limit is cut short.
    """
    parsed = UserQuery()
    count = 0
    for match in _PART.finditer(text):
        if match.group("chunk") is not None:
            chunk = match.group("chunk")
            # A stray quote (an unclosed phrase) is just punctuation.
            negate = chunk.startswith("-") and len(chunk) > 1
            words = words_of(chunk.lstrip("-") if negate else chunk)
            # "-e-learning" excludes the whole hyphenated word, as one phrase.
            kind = "excluded" if negate else "words"
        else:
            words = words_of(match.group("phrase"))
            kind = "excluded" if match.group("neg") else "phrases"
        kept = [w for w in words if len(w) <= MAX_WORD_CHARS]
        room = MAX_WORDS - count
        parsed.ignored += len(words) - len(kept[:room])
        words = kept[:room]
        if not words:
            continue
        count += len(words)
        if kind == "words" or (kind == "phrases" and len(words) == 1):
            parsed.words.extend(words)
        elif kind == "phrases":
            parsed.phrases.append(words)
        else:
            parsed.excluded.append(words)
    return parsed
