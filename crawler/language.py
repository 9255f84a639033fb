"""Text-level helpers shared by the HTML and PDF extractors: Unicode clean-up and the
English/Welsh guess.

`normalise_text` is the one place that decides what extracted characters look like (NFKC,
no soft hyphens or zero-width characters), so HTML and PDF passages index the same way.
`detect_language` is a deliberately small function-word counter: the hub only holds English
and Welsh, and the Welsh function words are frequent and distinctive enough to tell them apart.
"""

from __future__ import annotations

import re
import unicodedata

# Soft hyphen, zero-width space/non-joiner/joiner, word joiner, BOM: invisible in the source
# but they split words in the index ("traf\u00adficking" would never match "trafficking").
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")

_WELSH = frozenset(
    """y yr ac yn o ar gyda mae ei eu neu hefyd sydd ddim gan wedi bod fel ond hyn hynny ein
    eich chi ni nhw pan os dros rhwng drwy ydy yw oes bydd gall dylai neu ble sut pam beth
    mewn gael cael nad nid hwn hon rhai pob eraill""".split()
)
_ENGLISH = frozenset(
    """the and of to in is that for it with as was on be by this are or from at an which have
    not you your they their will can has been we our who what there should may must about any
    if do does he she his her would could these those when where how""".split()
)
# "a", "i" and "am" are common words in both languages, so they prove nothing either way.
_WELSH -= _ENGLISH
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?")


def normalise_text(text: str) -> str:
    """NFKC-normalise and drop invisible characters; ligatures like U+FB01 become "fi"."""
    return unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))


def detect_language(text: str) -> str:
    """Return "cy" when Welsh function words outnumber English ones, else "en"."""
    welsh = english = 0
    # The first few thousand words decide it; long PDFs need not be scanned to the end.
    for n, match in enumerate(_WORD.finditer(text.lower())):
        if n >= 5000:
            break
        word = match.group()
        if word in _WELSH:
            welsh += 1
        elif word in _ENGLISH:
            english += 1
    return "cy" if welsh > english else "en"
