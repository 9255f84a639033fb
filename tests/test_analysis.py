"""English and Welsh analysis (indexer/analysis.py): what terms text and queries become."""

from __future__ import annotations

import pytest
from whoosh import index
from whoosh.query import Term

from crawler.document import ExtractedDocument, Section
from indexer.analysis import english_analyzer, terms, welsh_analyzer, welsh_key
from indexer.build import add_document
from indexer.schema import FIELDS, build_schema, weighting

EN = english_analyzer()
CY = welsh_analyzer()


def en(text: str, mode: str = "index") -> list[str]:
    return terms(EN, text, mode)


def cy(text: str, mode: str = "index") -> list[str]:
    return terms(CY, text, mode)


def test_english_stems_and_drops_stop_words_and_question_words():
    assert en("What is the duty to notify children") == ["duti", "notifi", "children"]
    assert en("reporting reported reports") == ["report"] * 3
    # Modal verbs carry meaning in guidance and stay.
    assert en("must") == ["must"]


def test_nfkc_folds_ligatures_and_width_and_case_keeping_offsets_for_highlighting():
    text = "Professionals ﬁnd ＡＣＴ"
    assert en(text) == en("professionals find act")
    tokens = [(t.text, t.startchar, t.endchar) for t in EN(text, chars=True)]
    assert tokens[1] == ("find", 14, 17)  # the ligature is one character of the original


def test_accents_are_dropped():
    assert cy("Ŵyr ffatrïoedd") == cy("wyr ffatrioedd")


def test_possessive_apostrophe_is_dropped_and_others_join():
    assert en("child's") == en("child") == en("child’s")
    assert en("children's parents'") == en("children parents")
    assert en("don't") == ["dont"]


def test_hyphenated_words_match_their_joined_spelling_both_ways():
    assert en("co-ordinate") == ["co", "ordin", "coordin"]
    assert en("co-ordinate", mode="query") == en("coordinate", mode="query") == ["coordin"]
    # The parts keep positions of their own; the joined word shares the last part's.
    positions = [(t.text, t.pos) for t in EN("multi-agency working", positions=True)]
    assert positions == [("multi", 0), ("agenc", 1), ("multiag", 1), ("work", 2)]


def test_numbers_are_terms_whatever_their_length():
    assert en("section 47 of the 2014 Act") == ["section", "47", "2014", "act"]
    assert en("Section 5") == ["section", "5"]
    assert en("2,000 people") == en("2000 people")
    assert en("1.5 hours") == ["1.5", "hour"]


def test_dotted_acronyms_equal_plain_ones():
    assert en("N.R.M.") == en("NRM") == en("nrm") == ["nrm"]


@pytest.mark.parametrize("forms", [
    ("caethwasiaeth", "gaethwasiaeth", "nghaethwasiaeth", "chaethwasiaeth"),
    ("plant", "blant", "mhlant", "phlant"),
    ("tad", "dad", "nhad", "thad"),  # father: soft, nasal and aspirate
    ("bwrdd", "fwrdd", "mwrdd"),  # table: soft and nasal
    ("merch", "ferch"),  # girl: soft
    ("llys", "lys"),  # court: soft
    ("rhiant", "riant"),  # parent: soft
    ("diogelu", "ddiogelu", "niogelu"),  # safeguard: soft and nasal
    ("cymorth", "gymorth", "nghymorth", "chymorth"),  # help
])
def test_welsh_mutations_of_a_word_share_one_term(forms):
    keys = {welsh_key(f) for f in forms}
    assert len(keys) == 1
    assert {tuple(cy(f, mode="query")) for f in forms} == {(keys.pop(),)}


def test_welsh_keeps_ff_and_does_not_stem():
    assert welsh_key("ffrind") == "ffrind" != welsh_key("frind")
    # "plant" is Welsh for children: no English stemming turns it into anything else.
    assert cy("plant teuluoedd") == ["plant", "teuluoedd"]


def test_welsh_h_prothesis_is_folded():
    assert cy("ei hardal", mode="query") == cy("ardal", mode="query") == ["ardal"]


def test_welsh_dropped_g_is_found_by_the_radical():
    # Index time only: "ofal" (soft "gofal", care) also gets the key of "gofal".
    assert set(cy("ei ofal")) == {"ofal", welsh_key("gofal")}
    assert cy("gofal", mode="query") == [welsh_key("gofal")]
    # A query never gets the extra key, so "arian" (money) does not find "garian".
    assert cy("arian", mode="query") == ["arian"]


def test_welsh_stop_words_and_elided_forms_go():
    assert cy("Mae'r plant yn y ysgol a'i rhieni", mode="query") == ["plant", "ysgol", "rhieni"]
    assert cy("sy'n i'r o'r", mode="query") == []


def _index(tmp_path, documents):
    ix = index.create_in(str(tmp_path), build_schema())
    writer = ix.writer()
    for key, (lang, text) in documents.items():
        doc = ExtractedDocument(title="", doc_type="html", language=lang,
                                sections=[Section(heading_path=[], text=text)])
        add_document(writer, key, doc, source="test")
    writer.commit()
    return ix


@pytest.mark.parametrize("query", ["caethwasiaeth", "gaethwasiaeth", "nghaethwasiaeth",
                                   "chaethwasiaeth"])
def test_every_mutated_form_finds_every_other_in_the_index(tmp_path, query):
    ix = _index(tmp_path, {
        "radical": ("cy", "Mae caethwasiaeth fodern yn drosedd."),
        "soft": ("cy", "Beth yw gaethwasiaeth?"),
        "nasal": ("cy", "Dioddefwyr yng nghaethwasiaeth heddiw."),
        "aspirate": ("cy", "Ei chaethwasiaeth hi."),
        "english": ("en", "Modern slavery and the care of children."),
    })
    field = FIELDS["cy"]["text"]
    (key,) = terms(ix.schema[field].analyzer, query, mode="query")
    with ix.searcher(weighting=weighting()) as searcher:
        found = {hit["document_url"] for hit in searcher.search(Term(field, key))}
    assert found == {"radical", "soft", "nasal", "aspirate"}


def test_english_text_is_not_folded_like_welsh(tmp_path):
    ix = _index(tmp_path, {"a": ("en", "blant"), "b": ("en", "plant")})
    with ix.searcher(weighting=weighting()) as searcher:
        found = {h["document_url"] for h in searcher.search(Term("text", "plant"))}
    assert found == {"b"}
