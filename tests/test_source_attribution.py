"""A guide linked from two hub pages is shown under the first configured source, whichever
hub the crawl happened to reach it from, and carries both sources' audience tags."""

from __future__ import annotations

import dataclasses

from conftest import settings_for
from sitekit import Page, html_page

from crawler.run import run_crawl
from hubsearch.settings import Source
from indexer.build import build_index
from indexer.search import PassageSearcher

TEXT = ("Teachers who notice a pupil arriving with unexplained new phones and money should "
        "speak to the designated safeguarding lead the same day.")


def test_shared_guide_belongs_to_the_first_source_with_both_audiences(scripted_site, tmp_path):
    site = scripted_site
    site.routes["/police-hub"] = Page(html_page("Police hub", ["For officers."],
                                                ["/docs/shared.html"]))
    site.routes["/schools-hub"] = Page(html_page("Schools hub", ["For schools."],
                                                 ["/docs/shared.html", "/docs/own.html"]))
    site.routes["/docs/shared.html"] = Page(html_page("Shared guide", [TEXT]))
    site.routes["/docs/own.html"] = Page(html_page("Schools only", [TEXT]))
    settings = dataclasses.replace(
        settings_for(tmp_path, f"{site.url}/police-hub"),
        sources=(
            Source("schools", f"{site.url}/schools-hub", audience=("education",)),
            Source("police", f"{site.url}/police-hub", audience=("police",)),
        ),
    )
    run_crawl(settings)
    build_index(settings)
    page = PassageSearcher(settings.storage.index_dir).search(
        "unexplained phones", filters={"audience": ["police"]})
    assert [(h.document_url, h.source) for h in page.results] == [
        (f"{site.url}/docs/shared.html", "schools")
    ]
    assert page.facets["audience"] == {"education": 2, "police": 1}
