"""Interface text of the staff pages in English and Welsh, each string declared once.

Only the pages' own words come from here: document titles and passages keep the language
they were written in (the templates mark Welsh documents with lang="cy"). `?ui=cy` chooses
Welsh; anything else falls back to English, because a page should still show something.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

UI_LANGUAGES = ("en", "cy")
DEFAULT_UI = "en"

# key -> (English, Welsh). Placeholders are str.format fields and must match in both.
MESSAGES: dict[str, tuple[str, str]] = {
    # Every page
    "service_name": ("Safeguarding guidance search", "Chwilio canllawiau diogelu"),
    "skip_to_content": ("Skip to main content", "Neidio i'r prif gynnwys"),
    "other_language": ("Cymraeg", "English"),
    # Search form
    "search_heading": ("Find the guidance you need", "Dod o hyd i'r canllawiau sydd eu hangen"),
    "search_label": ("Search the guidance", "Chwilio'r canllawiau"),
    "hint_examples": ("For example:", "Er enghraifft:"),
    "hint_syntax": (
        'Put "quotes" round an exact phrase and a minus before a word to leave it out.',
        'Rhowch union ymadrodd rhwng "dyfynodau", a minws o flaen gair i\'w adael allan.',
    ),
    "search_button": ("Search", "Chwilio"),
    "query_language": ("Language of your words", "Iaith eich geiriau"),
    "detect": ("Detect", "Canfod yn awtomatig"),
    # Results
    "not_ready_heading": ("The index is not ready", "Nid yw'r mynegai yn barod"),
    "not_ready_text": (
        "No documents have been indexed yet. Please try again later.",
        "Nid oes dogfennau wedi'u mynegeio eto. Rhowch gynnig arall arni yn nes ymlaen.",
    ),
    "error_heading": ("That search could not be run", "Nid oedd modd cynnal y chwiliad hwnnw"),
    "did_you_mean": ("Did you mean", "Oeddech chi'n golygu"),
    "matched_any": (
        "No passage has all of your words; showing results for any of your words.",
        "Does dim darn yn cynnwys eich holl eiriau; dyma ganlyniadau ar gyfer unrhyw un "
        "o'ch geiriau.",
    ),
    "no_results_tried": (
        "We looked for passages with all of your words, then for passages with any of them.",
        "Chwiliwyd am ddarnau gyda'ch holl eiriau, yna am ddarnau gydag unrhyw un ohonynt.",
    ),
    "no_results_filtered": (
        "Your filters may be hiding results.",
        "Efallai fod eich hidlwyr yn cuddio canlyniadau.",
    ),
    "remove_filters": ("Search again without filters", "Chwilio eto heb hidlwyr"),
    "tips_heading": ("You could:", "Gallech chi:"),
    "tip_fewer_words": (
        "use fewer words, or more general ones (\u201creferral\u201d rather than "
        "\u201curgent referral form\u201d)",
        "ddefnyddio llai o eiriau, neu eiriau mwy cyffredinol (\u201catgyfeirio\u201d "
        "yn lle \u201cffurflen atgyfeirio frys\u201d)",
    ),
    "tip_spelling": ("check the spelling", "wirio'r sillafu"),
    "tip_language": (
        "search in Welsh or in English: some guidance is in one language only",
        "chwilio yn Gymraeg neu yn Saesneg: mae rhai canllawiau mewn un iaith yn unig",
    ),
    "hub_pages": (
        "Or start from the guidance pages this service searches:",
        "Neu dechreuwch o'r tudalennau canllawiau y mae'r gwasanaeth hwn yn chwilio ynddynt:",
    ),
    "showing_document": ("Showing every matching passage in", "Pob darn perthnasol yn"),
    "all_documents": ("Back to results from all documents", "Yn ôl i ganlyniadau o bob dogfen"),
    "filter_results": ("Filter results", "Hidlo canlyniadau"),
    "facet_source": ("Source", "Ffynhonnell"),
    "facet_doc_type": ("Document type", "Math o ddogfen"),
    "facet_language": ("Language", "Iaith"),
    "facet_audience": ("Audience", "Cynulleidfa"),
    "doc_type_html": ("Web page", "Tudalen we"),
    "doc_type_pdf": ("PDF", "PDF"),
    "doc_type_docx": ("Word", "Word"),
    "doc_type_odt": ("OpenDocument", "OpenDocument"),
    "apply_filters": ("Apply filters", "Rhoi'r hidlwyr ar waith"),
    "clear_filters": ("Clear filters", "Clirio'r hidlwyr"),
    "page_number": ("page {n}", "tudalen {n}"),
    "ocr_text": ("Text read by OCR from a scan: it may contain errors.",
                 "Testun a ddarllenwyd gan OCR o sgan: gall gynnwys gwallau."),
    "last_checked": ("last checked", "gwiriwyd ddiwethaf"),
    "whole_document": ("whole document", "y ddogfen gyfan"),
    "recommended": ("Recommended", "Argymhellir"),
    "also_searched": ("Also searched:", "Wedi chwilio hefyd am:"),
    "suggestions": ("Suggestions", "Awgrymiadau"),
    "suggestions_count": ("{n} suggestions: use the up and down arrows to choose one",
                          "{n} awgrym: defnyddiwch y saethau i fyny ac i lawr i ddewis un"),
    "sort_by": ("Sort by:", "Trefnu yn ôl:"),
    "sort_relevance": ("relevance", "perthnasedd"),
    "sort_updated": ("date updated", "dyddiad diweddaru"),
    "updated": ("updated", "diweddarwyd"),
    "recommended_heading": ("Recommended for this search", "Argymhellir ar gyfer y chwiliad hwn"),
    "cite": ("Cite this passage", "Dyfynnu'r darn hwn"),
    "cite_checked": ("checked {date}", "gwiriwyd {date}"),
    "copy_citation": ("Copy citation", "Copïo'r dyfyniad"),
    "copied": ("Copied", "Wedi'i gopïo"),
    "result_pages": ("Result pages", "Tudalennau canlyniadau"),
    "previous": ("Previous", "Blaenorol"),
    "next": ("Next", "Nesaf"),
    "status_link": ("Index and source status (for maintainers)",
                    "Statws y mynegai a'r ffynonellau (i gynhalwyr)"),
    # Status page
    "status_heading": ("Index and source status", "Statws y mynegai a'r ffynonellau"),
    "back_to_search": ("Back to search", "Yn ôl i'r chwiliad"),
    "no_status_heading": ("No status yet", "Dim statws eto"),
    "no_status_text": (
        "The indexer has not written a status yet. Run these two commands on the server:",
        "Nid yw'r mynegeiwr wedi ysgrifennu statws eto. Rhedwch y ddau orchymyn hyn ar y "
        "gweinydd:",
    ),
    "index_heading": ("Search index", "Mynegai chwilio"),
    "serving": ("Generation serving now", "Cenhedlaeth sy'n gwasanaethu nawr"),
    "built_at": ("Built", "Adeiladwyd"),
    "checked_at": ("Last index run", "Rhediad mynegeio diwethaf"),
    "last_build": ("Last build", "Adeiladu diwethaf"),
    "mode_full": ("full rebuild, switched in", "ailadeiladu llawn, wedi'i roi ar waith"),
    "mode_incremental": ("incremental update, switched in",
                         "diweddariad cynyddol, wedi'i roi ar waith"),
    "mode_unchanged": ("nothing had changed; the current index keeps serving",
                       "dim byd wedi newid; mae'r mynegai presennol yn parhau i wasanaethu"),
    "not_switched": ("NOT switched in: the previous index keeps serving",
                     "HEB ei roi ar waith: mae'r mynegai blaenorol yn parhau i wasanaethu"),
    "reason": ("Reason", "Rheswm"),
    "crawl_heading": ("Last crawl", "Cropian diwethaf"),
    "no_crawl": ("No crawl has run yet.", "Nid oes cropian wedi rhedeg eto."),
    "run": ("Run", "Rhediad"),
    "started": ("Started", "Dechreuwyd"),
    "finished": ("Finished", "Gorffennwyd"),
    "fetched": ("Fetched", "Wedi'u nôl"),
    "count_new": ("New", "Newydd"),
    "count_changed": ("Changed", "Wedi newid"),
    "count_unchanged": ("Unchanged", "Heb newid"),
    "bytes": ("Bytes downloaded", "Beitiau wedi'u llwytho i lawr"),
    "sources_heading": ("Sources", "Ffynonellau"),
    "source": ("Source", "Ffynhonnell"),
    "state": ("State", "Cyflwr"),
    "last_status": ("Last HTTP status", "Statws HTTP diwethaf"),
    "last_success": ("Last success", "Llwyddiant diwethaf"),
    "documents_by_state": ("Documents by state", "Dogfennau yn ôl cyflwr"),
    "attention_heading": ("Documents needing attention", "Dogfennau sydd angen sylw"),
    "address": ("Address", "Cyfeiriad"),
    "failures": ("Failures in a row", "Methiannau yn olynol"),
    "redirect_target": ("Redirects to", "Yn ailgyfeirio i"),
    "error": ("Error", "Gwall"),
    "never": ("never", "byth"),
    "moved_permanently": ("moved permanently", "wedi symud yn barhaol"),
    "state_ok": ("OK", "Iawn"),
    "state_stale": ("Stale", "Hen"),
    "state_gone": ("Gone", "Wedi mynd"),
    "state_failed": ("Failed", "Wedi methu"),
    "state_never crawled": ("Never crawled", "Heb ei gropian erioed"),
}

# key -> (English forms, Welsh forms) by plural category; "zero" is used for 0 when given.
# Welsh keeps the noun singular after a numeral ("25 darn"), so "other" covers most counts.
PLURALS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "passages_found": (
        {"zero": "No passages found", "one": "1 passage found", "other": "{n} passages found"},
        {"zero": "Dim darnau wedi'u canfod", "one": "Canfuwyd 1 darn",
         "other": "Canfuwyd {n} darn"},
    ),
    "in_documents": (
        {"one": "in 1 document", "other": "in {n} documents"},
        {"one": "mewn 1 ddogfen", "other": "mewn {n} dogfen"},
    ),
    "filters_applied": (
        {"one": "1 applied", "other": "{n} applied"},
        {"one": "1 wedi'i ddewis", "other": "{n} wedi'u dewis"},
    ),
    "more_in_document": (
        {"one": "1 more in this document", "other": "{n} more in this document"},
        {"one": "1 arall yn y ddogfen hon", "other": "{n} arall yn y ddogfen hon"},
    ),
    "words_ignored": (
        {"one": "1 word was left out of your search (too long, or past the first 32 words).",
         "other": "{n} words were left out of your search (too long, or past the first 32 "
                  "words)."},
        {"other": "Gadawyd {n} gair allan o'ch chwiliad (rhy hir, neu ar ôl y 32 gair "
                  "cyntaf)."},
    ),
    "need_attention": (
        {"zero": "Nothing needs attention.", "one": "1 document needs attention.",
         "other": "{n} documents need attention."},
        {"zero": "Does dim angen sylw ar unrhyw ddogfen.", "one": "Mae angen sylw ar 1 ddogfen.",
         "other": "Mae angen sylw ar {n} dogfen."},
    ),
    "attention_first": (
        {"one": "The first is listed here.", "other": "The first {n} are listed here."},
        {"one": "Rhestrir y gyntaf yma.", "other": "Rhestrir y {n} cyntaf yma."},
    ),
}

MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "cy": ("Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst",
           "Medi", "Hydref", "Tachwedd", "Rhagfyr"),
}


def choose(raw: str | None) -> str:
    """The interface language for a `ui` parameter: "cy", else English."""
    return raw if raw in UI_LANGUAGES else DEFAULT_UI


def plural_category(ui: str, n: int) -> str:
    """CLDR plural category of n (Welsh has six; English two)."""
    if ui == "cy":
        return {0: "zero", 1: "one", 2: "two", 3: "few", 6: "many"}.get(n, "other")
    return "one" if n == 1 else "other"


def with_ui(path: str, params: Iterable[tuple[str, str]], ui: str) -> str:
    """`path` with the same query parameters but interface language `ui` (left out for en)."""
    pairs = [(k, v) for k, v in params if k != "ui"]
    if ui != DEFAULT_UI:
        pairs.append(("ui", ui))
    return path + ("?" + urlencode(pairs) if pairs else "")


class Translator:
    """Interface text in one language; templates call it as `t("key")`."""

    def __init__(self, ui: str) -> None:
        self.ui = choose(ui)
        self.other = "cy" if self.ui == "en" else "en"
        self._column = UI_LANGUAGES.index(self.ui)

    def __call__(self, key: str, **values: object) -> str:
        text = MESSAGES[key][self._column]
        return text.format(**values) if values else text

    def n(self, key: str, count: int) -> str:
        forms = PLURALS[key][self._column]
        if count == 0 and "zero" in forms:
            return forms["zero"].format(n=count)
        return forms.get(plural_category(self.ui, count), forms["other"]).format(n=count)

    def label(self, prefix: str, value: str | None) -> str:
        """A translated value label (doc_type_pdf, state_gone), or the value itself."""
        key = f"{prefix}_{value}"
        return self(key) if key in MESSAGES else (value or "–")

    def date(self, iso: str | None) -> str:
        """"27 November 2026" / "27 Tachwedd 2026" from an ISO timestamp; "" if unreadable."""
        try:
            year, month, day = (int(part) for part in (iso or "")[:10].split("-"))
            return f"{day} {MONTHS[self.ui][month - 1]} {year}"
        except (ValueError, IndexError):
            return ""

    def datetime(self, iso: str | None) -> str:
        """The date and the UTC time to the minute, e.g. "27 November 2026, 04:46 UTC"."""
        day = self.date(iso)
        if not day or iso is None or len(iso) < 16:
            return day or (iso or "")
        return f"{day}, {iso[11:16]} UTC"


def translator(ui: str | None) -> Translator:
    return Translator(choose(ui))
