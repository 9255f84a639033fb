"""Word (.docx) and OpenDocument (.odt) extraction: headings, text, title, language, sniffing."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from odf import dc
from odf.opendocument import OpenDocumentText
from odf.style import Style
from odf.table import Table, TableCell, TableColumn, TableRow
from odf.text import H, List, ListItem, P

from crawler import extract
from crawler.document import ExtractionError
from crawler.extract import DOCX_TYPE, ODT_TYPE, extract_document, sniff

ROOT = Path(__file__).resolve().parents[1]
URL = "https://docs.example.org/files/referral-pathway"

INTRO = (
    "This note explains how a practitioner should respond when someone discloses that they "
    "are being forced to work for little or no pay and cannot leave."
)
STEPS = "Write down what was said, in the person's own words, and the time it was said."
CONSENT = "An adult must agree to a referral, and they can change their mind at any stage."
WELSH = (
    "Mae'r canllaw hwn yn esbonio beth ddylai ymarferwyr ei wneud pan fydd rhywun yn dweud "
    "wrthych eu bod yn cael eu gorfodi i weithio. Mae hefyd yn dweud sut i gael cymorth yn "
    "gyflym a ble mae'r gwasanaethau ar gael yn eich ardal chi."
)


def _docx_bytes(*, title: str | None = "Referral pathway for practitioners") -> bytes:
    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
    document.add_heading("Referral pathway", level=0)  # the Title style
    document.add_paragraph(INTRO)
    document.add_heading("Recognising the signs", level=1)
    document.add_paragraph("Nobody has sight of their own passport.", style="List Bullet")
    document.add_heading("What to record", level=2)
    document.add_paragraph(STEPS)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Service"
    table.cell(0, 1).text = "Telephone"
    table.cell(1, 0).text = "Modern slavery helpline"
    table.cell(1, 1).text = "0800 0121 700"
    document.add_heading("Consent", level=1)
    document.add_paragraph(CONSENT)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _odt_bytes(*, title: str | None = "Referral pathway for practitioners") -> bytes:
    document = OpenDocumentText()
    title_style = Style(name="Title", family="paragraph")
    document.styles.addElement(title_style)
    if title is not None:
        document.meta.addElement(dc.Title(text=title))
    # Writers style a formatted paragraph "P1", whose parent is the real style.
    automatic = Style(name="P1", family="paragraph", parentstylename=title_style)
    document.automaticstyles.addElement(automatic)
    document.text.addElement(P(stylename=automatic, text="Referral pathway"))
    document.text.addElement(P(text=INTRO))
    document.text.addElement(H(outlinelevel=1, text="Recognising the signs"))
    items = List()
    item = ListItem()
    item.addElement(P(text="Nobody has sight of their own passport."))
    items.addElement(item)
    document.text.addElement(items)
    document.text.addElement(H(outlinelevel=2, text="What to record"))
    document.text.addElement(P(text=STEPS))
    table = Table(name="Services")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    for left, right in (("Service", "Telephone"), ("Modern slavery helpline", "0800 0121 700")):
        row = TableRow()
        for value in (left, right):
            cell = TableCell()
            cell.addElement(P(text=value))
            row.addElement(cell)
        table.addElement(row)
    document.text.addElement(table)
    document.text.addElement(H(outlinelevel=1, text="Consent"))
    document.text.addElement(P(text=CONSENT))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


BUILDERS = {"docx": _docx_bytes, "odt": _odt_bytes}


@pytest.mark.parametrize("kind", ["docx", "odt"])
def test_headings_text_and_title(kind):
    doc = extract_document(BUILDERS[kind](), f"{URL}.{kind}")
    assert doc.doc_type == kind
    assert doc.title == "Referral pathway for practitioners"
    assert doc.language == "en"
    paths = [s.heading_path for s in doc.sections]
    # The title paragraph heads the document; "Heading 2" nests under "Heading 1".
    assert paths == [
        ["Referral pathway for practitioners", "Referral pathway"],
        ["Referral pathway for practitioners", "Referral pathway", "Recognising the signs"],
        [
            "Referral pathway for practitioners",
            "Referral pathway",
            "Recognising the signs",
            "What to record",
        ],
        ["Referral pathway for practitioners", "Referral pathway", "Consent"],
    ]
    texts = [s.text for s in doc.sections]
    assert texts[0] == INTRO
    assert texts[1] == "- Nobody has sight of their own passport."
    assert texts[2] == (
        f"{STEPS}\n\nService | Telephone\n\nModern slavery helpline | 0800 0121 700"
    )
    assert texts[3] == CONSENT
    assert all(s.page is None and s.anchor is None for s in doc.sections)


@pytest.mark.parametrize("kind", ["docx", "odt"])
def test_title_falls_back_to_the_title_paragraph_and_is_not_repeated(kind):
    doc = extract_document(BUILDERS[kind](title=None), f"{URL}.{kind}")
    assert doc.title == "Referral pathway"
    assert doc.sections[1].heading_path == ["Referral pathway", "Recognising the signs"]


def test_welsh_docx_is_detected_and_a_hint_wins():
    document = docx.Document()
    document.add_heading("Cymorth", level=1)
    document.add_paragraph(WELSH)
    out = io.BytesIO()
    document.save(out)
    assert extract_document(out.getvalue(), f"{URL}.docx").language == "cy"
    assert extract_document(out.getvalue(), f"{URL}.docx", language_hint="en").language == "en"


def test_welsh_odt_is_detected():
    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text="Cymorth"))
    document.text.addElement(P(text=WELSH))
    out = io.BytesIO()
    document.write(out)
    doc = extract_document(out.getvalue(), f"{URL}.odt")
    assert doc.language == "cy"
    assert doc.title == "Cymorth"  # no metadata title, no title paragraph: the first heading


def test_ligatures_are_normalised():
    document = docx.Document()
    document.add_paragraph("The \ufb01rst o\ufb03cer on scene")
    out = io.BytesIO()
    document.save(out)
    doc = extract_document(out.getvalue(), f"{URL}.docx")
    assert doc.sections[0].text == "The first officer on scene"
    assert doc.title == "referral-pathway"  # nothing better: the file name


@pytest.mark.parametrize("kind", ["docx", "odt"])
def test_the_zip_members_decide_the_type_whatever_the_label(kind):
    body = BUILDERS[kind]()
    assert sniff(body, "https://x.example/download?id=7") == kind
    assert sniff(body, "https://x.example/file.bin", "application/octet-stream") == kind
    assert sniff(body, "https://x.example/file", DOCX_TYPE if kind == "docx" else ODT_TYPE) == kind


@pytest.mark.parametrize("kind", ["docx", "odt"])
def test_a_corrupt_file_gives_one_line_error(kind):
    body = BUILDERS[kind]()
    broken = body[: len(body) // 2]  # the central directory is at the end: cut it off
    with pytest.raises(ExtractionError) as info:
        extract_document(broken, f"{URL}.{kind}")
    reason = str(info.value)
    assert reason.startswith(f"not a readable {kind} file") and "\n" not in reason


def test_a_damaged_part_gives_one_line_error():
    original = zipfile.ZipFile(io.BytesIO(_docx_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as damaged:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "word/document.xml":
                data = data[: len(data) // 2]  # unterminated XML
            damaged.writestr(info, data)
    with pytest.raises(ExtractionError, match=r"^docx parse failed: ") as info:
        extract_document(out.getvalue(), f"{URL}.docx")
    assert "\n" not in str(info.value)


def test_legacy_doc_and_other_zips_are_refused_clearly():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    with pytest.raises(ExtractionError, match="^legacy .doc Word format is not supported$"):
        extract_document(ole, "https://x.example/old.doc", "application/msword")
    encrypted = ole + "EncryptedPackage".encode("utf-16-le")
    with pytest.raises(ExtractionError, match="encrypted"):
        extract_document(encrypted, f"{URL}.docx")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "not an office document")
    with pytest.raises(ExtractionError, match="unsupported content type: .zip"):
        extract_document(out.getvalue(), "https://x.example/bundle.zip")
    with pytest.raises(ExtractionError, match=r"not a readable docx file \(not a zip archive\)"):
        extract_document(b"plain text, not a zip", "https://x.example/a.docx", DOCX_TYPE)


def test_a_zip_that_unpacks_too_far_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(extract, "MAX_UNZIPPED_BYTES", 1024)
    with pytest.raises(ExtractionError, match=r"^docx unpacks to \d+ MB \(limit 0 MB\)$"):
        extract_document(_docx_bytes(), f"{URL}.docx")


def test_hubsearch_extract_reads_a_docx(tmp_path):
    path = tmp_path / "pathway.docx"
    path.write_bytes(_docx_bytes())
    proc = subprocess.run(
        [sys.executable, "-m", "hubsearch.cli", "extract", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["doc_type"] == "docx"
    assert data["title"] == "Referral pathway for practitioners"
    assert data["sections"][-1]["text"] == CONSENT
