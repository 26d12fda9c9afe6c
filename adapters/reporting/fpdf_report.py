"""FpdfReportRenderer: a study's report as an A4 PDF with fpdf2.

Per lesion: its result (the most suspicious view's probability, band, threshold and model
version), then each view with the lesion outline and the heatmap side by side and the
reviewer's BI-RADS and note; images without a position follow. The "decision aid, not a
diagnosis" statement heads the first page and closes every page. The words come from the
product's catalogues (`words[language]`, keys `report.*`, `study.*`, `band.short.*`,
`birads.*`), so the report speaks the same vocabulary as the UI. DejaVu Sans is used when it
is installed (every character of a patient reference prints); otherwise the PDF core font,
with what Latin-1 cannot hold replaced.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image

from application.ports import ReportLesion, ReportView, StudyReport

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
IMAGE_WIDTH_MM = 86.0
IMAGE_MAX_HEIGHT_MM = 80.0
IMAGE_MAX_PIXELS = 900  # longest side embedded: ~260 dpi at IMAGE_WIDTH_MM, a small file
LINE_MM = 5.0
# typography the core font lacks, written the nearest way it has
_LATIN1_LOOKALIKES = str.maketrans(
    {"\u2014": "-", "\u2013": "-", "\u2019": "'", "≥": ">=", "≤": "<=", "\u202f": " "}
)


class FpdfReportRenderer:
    """ReportRenderer with fpdf2; at most `max_concurrency` reports laid out at once."""

    def __init__(
        self,
        words: Mapping[str, Mapping[str, str]],
        font_dir: Path | None = DEJAVU_DIR,
        max_concurrency: int = 2,
    ) -> None:
        self._words = words
        regular, bold = (
            (font_dir / "DejaVuSans.ttf", font_dir / "DejaVuSans-Bold.ttf")
            if font_dir
            else (None, None)
        )
        self._fonts = (
            (regular, bold) if regular and bold and regular.is_file() and bold.is_file() else None
        )
        self._limiter = anyio.CapacityLimiter(max_concurrency)

    async def render(self, report: StudyReport) -> bytes:
        return await anyio.to_thread.run_sync(self._render, report, limiter=self._limiter)

    def _render(self, report: StudyReport) -> bytes:
        words = self._words.get(report.language) or self._words["en"]
        return _Layout(report, words, self._words["en"], self._fonts).build()


class _Document(FPDF):
    """A4 pages whose footer repeats the statement and numbers the page."""

    footer_text = ""
    page_text = ""

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(size=7.5)
        self.set_text_color(90, 90, 90)
        self.multi_cell(0, 3.5, self.footer_text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.cell(0, 3.5, self.page_text.format(page=self.page_no(), pages="{nb}"), align="C")
        self.set_text_color(0, 0, 0)


class _Layout:
    def __init__(
        self,
        report: StudyReport,
        words: Mapping[str, str],
        fallback: Mapping[str, str],
        fonts: tuple[Path, Path] | None,
    ) -> None:
        self.report = report
        self.words = words
        self.fallback = fallback
        self.unicode = fonts is not None
        pdf = _Document(format="A4", unit="mm")
        pdf.set_auto_page_break(auto=True, margin=20)
        pdf.set_margins(16, 14, 16)
        if fonts is not None:
            pdf.add_font("DejaVu", "", str(fonts[0]))
            pdf.add_font("DejaVu", "B", str(fonts[1]))
        self.family = "DejaVu" if fonts is not None else "helvetica"
        pdf.set_font(self.family, size=10)
        pdf.set_creation_date(report.generated_at)
        pdf.set_title(self.t("report.title"))
        pdf.set_creator("Breastscan")
        pdf.footer_text = self.clean(self.t("report.statement"))
        pdf.page_text = self.clean(self.t("report.page"))
        self.pdf = pdf

    # --- words -------------------------------------------------------------------------

    def t(self, key: str, **values: Any) -> str:
        text = self.words.get(key) or self.fallback.get(key) or key
        return text.format(**values) if values else text

    def clean(self, text: str) -> str:
        if self.unicode:
            return text
        return text.translate(_LATIN1_LOOKALIKES).encode("latin-1", "replace").decode("latin-1")

    def percent(self, value: float) -> str:
        text = f"{value * 100:.1f} %"
        return text.replace(".", ",") if self.report.language == "fr" else text

    def where(self, view: ReportView) -> str:
        position = view.position
        if position is None:
            return self.t("study.unplaced")
        parts = [self.t(f"study.view.{position.view.value}")]
        if position.clock_label:
            parts.append(self.t("study.clock_at", clock=position.clock_label))
        if position.distance_from_nipple_cm is not None:
            cm = f"{position.distance_from_nipple_cm:g}"
            parts.append(
                self.t(
                    "study.distance_at",
                    cm=cm.replace(".", ",") if self.report.language == "fr" else cm,
                )
            )
        return ", ".join(parts)

    def result(self, view: ReportView) -> list[tuple[str, str]]:
        band = self.t(f"band.short.{view.likelihood.band.value}")
        if view.likelihood.borderline:
            band += f" ({self.t('report.borderline')})"
        return [
            (self.t("report.probability"), self.percent(view.p_malignant)),
            (self.t("report.band"), band),
            (self.t("report.threshold"), self.percent(view.threshold)),
            (self.t("report.model"), view.model_version),
        ]

    # --- drawing -------------------------------------------------------------------------

    def text(
        self, text: str, *, size: float = 10, bold: bool = False, height: float = LINE_MM
    ) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.multi_cell(0, height, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def pairs(self, rows: list[tuple[str, str]]) -> None:
        for label, value in rows:
            self.pdf.set_font(self.family, "B", 10)
            self.pdf.cell(58, LINE_MM, self.clean(label))
            self.pdf.set_font(self.family, "", 10)
            self.pdf.multi_cell(0, LINE_MM, self.clean(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def build(self) -> bytes:
        pdf, report = self.pdf, self.report
        pdf.add_page()
        self.text(self.t("report.title"), size=16, bold=True, height=8)
        pdf.ln(1)
        self.pairs(
            [
                (self.t("report.patient"), report.patient_ref),
                (self.t("report.accession"), report.accession_number or "—"),
                (self.t("report.study_date"), report.study_date.isoformat()),
                (
                    self.t("report.generated"),
                    self.t(
                        "report.generated_value",
                        at=report.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
                        user=report.generated_by,
                    ),
                ),
            ]
        )
        pdf.ln(2)
        pdf.set_fill_color(255, 243, 205)
        pdf.set_font(self.family, "B", 10)
        pdf.multi_cell(
            0,
            LINE_MM,
            self.clean(self.t("report.statement")),
            border=1,
            fill=True,
            padding=2,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.ln(3)
        if not report.lesions and not report.unplaced:
            self.text(self.t("report.no_images"))
        for lesion in report.lesions:
            self.lesion(lesion)
        if report.unplaced:
            self.heading(self.t("report.unplaced"))
            for view in report.unplaced:
                self.view(view)
        return bytes(pdf.output())

    def heading(self, title: str) -> None:
        if self.pdf.get_y() > self.pdf.page_break_trigger - 40:
            self.pdf.add_page()
        self.pdf.ln(2)
        self.text(title, size=13, bold=True, height=7)
        self.pdf.set_draw_color(120, 120, 120)
        self.pdf.line(
            self.pdf.l_margin, self.pdf.get_y(), self.pdf.w - self.pdf.r_margin, self.pdf.get_y()
        )
        self.pdf.ln(2)

    def lesion(self, lesion: ReportLesion) -> None:
        side = self.t(f"report.side.{lesion.laterality.value}")
        self.heading(self.t("report.lesion", side=side, number=lesion.lesion_number))
        self.pairs(self.result(lesion.driving))
        self.text(self.t("report.combined", count=len(lesion.views)), size=8.5)
        for view in lesion.views:
            self.view(view)

    def view(self, view: ReportView) -> None:
        pdf = self.pdf
        pictures = [
            (png, caption)
            for png, caption in (
                (view.outline_png, self.t("report.outline")),
                (view.heatmap_png, self.t("report.heatmap")),
            )
            if png is not None
        ]
        sized = [(_fitted(png), caption) for png, caption in pictures]
        tallest = max((height for (_, _, height), _ in sized), default=0.0)
        if pdf.get_y() + tallest + 4 * LINE_MM > pdf.page_break_trigger:
            pdf.add_page()
        pdf.ln(1)
        self.text(f"{view.filename} · {self.where(view)}", size=10, bold=True)
        top, x = pdf.get_y() + 1, pdf.l_margin
        for (png, width, height), caption in sized:
            pdf.image(io.BytesIO(png), x=x, y=top, w=width, h=height)
            pdf.set_xy(x, top + height + 0.5)
            pdf.set_font(self.family, "", 8)
            pdf.cell(width, 4, self.clean(caption), align="C")
            x += IMAGE_WIDTH_MM + 6
        pdf.set_xy(pdf.l_margin, top + tallest + (5 if sized else 0))
        if view.outline_png is None:
            self.text(self.t("report.no_outline"), size=8.5)
        self.pairs(self.result(view) + self.review(view))
        pdf.ln(2)

    def review(self, view: ReportView) -> list[tuple[str, str]]:
        review = view.review
        if review is None:
            return [(self.t("report.review"), self.t("report.not_reviewed"))]
        rows = [
            (
                self.t("report.birads"),
                self.t(f"birads.{review.birads.value}") if review.birads else "—",
            ),
            (self.t("report.verdict"), self.t(f"report.verdict.{review.verdict.value}")),
        ]
        if review.note:
            rows.append((self.t("report.note"), review.note))
        rows.append(
            (
                self.t("report.reviewer"),
                self.t(
                    "report.reviewed_value",
                    name=view.reviewer or "—",
                    date=review.reviewed_at.strftime("%Y-%m-%d"),
                ),
            )
        )
        return rows


def _fitted(png: bytes) -> tuple[bytes, float, float]:
    """The image scaled down for print (longest side IMAGE_MAX_PIXELS) and its size in mm:
    IMAGE_WIDTH_MM wide, or narrower when that would make it taller than IMAGE_MAX_HEIGHT_MM."""
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        width, height = image.size
        if max(width, height) > IMAGE_MAX_PIXELS:
            image.thumbnail((IMAGE_MAX_PIXELS, IMAGE_MAX_PIXELS))
            out = io.BytesIO()
            image.save(out, "PNG")
            png = out.getvalue()
    aspect = height / max(1, width)
    shown_height = min(IMAGE_MAX_HEIGHT_MM, IMAGE_WIDTH_MM * aspect)
    return png, shown_height / aspect, shown_height
