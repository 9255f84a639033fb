"""The extraction benchmark's scorer: the benchmark's metric, and a smoke run on real pages."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import pytest

from crawler.document import ExtractedDocument, Section
from crawler.extract_html import extract_html

ROOT = Path(__file__).parent.parent
DATA = ROOT.parent / "shared" / "data" / "article-extraction-benchmark"
_spec = importlib.util.spec_from_file_location("bench_extraction", ROOT / "bench" / "extraction.py")
assert _spec and _spec.loader
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_shingles_are_word_4grams_and_a_short_text_is_one_shingle():
    assert list(bench.shingles("a b, c d e")) == [("a", "b", "c", "d"), ("b", "c", "d", "e")]
    assert list(bench.shingles("just two")) == [("just", "two")]


def test_match_is_normalised_multiset_overlap():
    tp, fp, fn = bench.match("a b c d e", "a b c d x y")
    # truth shingles: abcd, bcde; predicted: abcd, bcdx, cdxy
    assert (tp, fp, fn) == pytest.approx((1 / 4, 2 / 4, 1 / 4))


def test_scores_are_means_over_documents_and_f1_of_the_means():
    f1, precision, recall = bench.summarise([(1.0, 0.0, 0.0), (0.5, 0.5, 0.0)])
    assert (precision, recall) == (0.75, 1.0)
    assert f1 == pytest.approx(2 * 0.75 / 1.75)


def test_body_text_puts_each_new_heading_once_and_leaves_out_the_title():
    doc = ExtractedDocument(
        "Guide",
        "html",
        "en",
        [
            Section(["Guide"], "Intro."),
            Section(["Guide", "Part", "Step"], "One."),
            Section(["Guide", "Part", "Next"], "Two."),
        ],
    )
    assert bench.body_text(doc) == "Intro.\n\nPart\n\nStep\n\nOne.\n\nNext\n\nTwo."
    assert bench.body_text(doc, with_title=True).startswith("Guide\n\nIntro.")


@pytest.mark.skipif(not DATA.is_dir(), reason=f"benchmark data not present at {DATA}")
def test_real_pages_score_well():
    truth = json.loads((DATA / "ground-truth.json").read_text(encoding="utf-8"))
    for key in sorted(truth)[:3]:
        html = gzip.decompress((DATA / "html" / f"{key}.html.gz").read_bytes())
        doc = extract_html(html, truth[key]["url"])
        scores = bench.match(truth[key]["articleBody"], bench.body_text(doc))
        assert bench.document_f1(scores) > 0.8, key


def test_the_govuk_set_truth_is_the_body_block_by_block_with_its_headings():
    from bench.govuk_set import body_truth

    text, headings = body_truth(
        '<div class="govspeak"><h2 id="apply">How to apply</h2><p>Send the <abbr>form</abbr>'
        " to us.</p><ul><li>By post</li><li>Online</li></ul><h3>Fees</h3><p>None.</p></div>")
    assert text.splitlines() == ["How to apply", "Send the form to us.", "By post", "Online",
                                 "Fees", "None."]
    assert headings == ["How to apply", "Fees"]


GOVUK = ROOT.parent / "shared" / "data" / "govuk-content"


@pytest.mark.skipif(not GOVUK.is_dir(), reason=f"GOV.UK data not present at {GOVUK}")
def test_govuk_set_pages_carry_the_furniture_and_we_keep_only_the_body(tmp_path):
    from bench import govuk_set

    assert govuk_set.build(tmp_path) > 150
    truth = json.loads((tmp_path / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {key: gzip.decompress((tmp_path / "html" / f"{key}.html.gz").read_bytes()).decode()
             for key in sorted(truth)[:20]}
    key, page = next((k, p) for k, p in pages.items() if 'lang="en"' in p)
    for furniture in ("Cookies on GOV.UK", "Is this page useful?", "Related content",
                      "Open Government Licence"):
        assert furniture in page
    doc = extract_html(page, truth[key]["url"])
    text = bench.body_text(doc)
    assert "Is this page useful?" not in text and "Open Government Licence" not in text
    assert bench.document_f1(bench.match(truth[key]["articleBody"], text)) > 0.8
