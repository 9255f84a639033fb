"""PDFs whose pages are pictures of text, as a scanner makes them: text the test writes,
drawn into an image (Pillow) and placed on a page with no text layer (fpdf2)."""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

TTF = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DPI = 200


def _font(points: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    size = round(points * DPI / 72)
    return ImageFont.truetype(str(TTF), size) if TTF.exists() else ImageFont.load_default(size)


def page_image(lines: list[str], width_mm: float = 210, height_mm: float = 297) -> Image.Image:
    """An A4 page scanned at 200 dpi, the lines written on it in 14 pt type."""
    width, height = round(width_mm / 25.4 * DPI), round(height_mm / 25.4 * DPI)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font = _font(14)
    y = DPI  # an inch down, an inch in
    for line in lines:
        draw.text((DPI, y), line, fill=0, font=font)
        y += round(DPI * 24 / 72)
    return image


def new_pdf(points: int) -> FPDF:
    """An empty PDF writing in DejaVu Sans (Unicode: ligatures, Welsh ŵ and ŷ) at `points`,
    or in Helvetica where the font is not installed."""
    pdf = FPDF()
    if TTF.exists():
        pdf.add_font("Body", fname=str(TTF))
        pdf.set_font("Body", size=points)
    else:
        pdf.set_font("Helvetica", size=points)
    return pdf


def scanned_pdf(pages: list[list[str] | str | Image.Image]) -> bytes:
    """A PDF with a page for each item: a list of lines is a scanned page (an image, no
    text layer), a string is a page of real text, an image is placed as it is."""
    pdf = new_pdf(12)
    for page in pages:
        pdf.add_page()
        if isinstance(page, str):
            pdf.multi_cell(0, 6, page)
            continue
        image = page if isinstance(page, Image.Image) else page_image(page)
        data = io.BytesIO()
        image.save(data, "PNG")
        pdf.image(data, x=0, y=0, w=pdf.w, h=pdf.h)
    return bytes(pdf.output())
