"""Behaviour every ReportRenderer must share, and the report the tests lay out."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from uuid import uuid4

from PIL import Image, ImageDraw

from application.ports import ReportLesion, ReportRenderer, ReportView, StudyReport
from domain.bands import BandName, Likelihood
from domain.outcomes import BiRads
from domain.predictions import Review, Verdict
from domain.studies import ImagePosition, Laterality, View

REVIEWED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def overlay(colour: str, size: tuple[int, int] = (320, 240)) -> bytes:
    """A PNG standing in for an overlay: a grey field with a coloured ring."""
    image = Image.new("RGB", size, (40, 40, 40))
    ImageDraw.Draw(image).ellipse((100, 60, 220, 180), outline=colour, width=6)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def view(
    filename: str,
    p: float,
    *,
    band: BandName = BandName.INTERMEDIATE,
    borderline: bool = False,
    position: ImagePosition | None = None,
    review: Review | None = None,
    outline: bool = True,
) -> ReportView:
    return ReportView(
        filename=filename,
        position=position,
        p_malignant=p,
        threshold=0.204,
        model_version="2.0.0",
        likelihood=Likelihood(band, borderline),
        outline_png=overlay("lime") if outline else None,
        heatmap_png=overlay("orange"),
        review=review,
        reviewer="Dr Ana Müller" if review else None,
    )


def sample_report(language: str = "en", patient_ref: str = "MRN-0042-Ünal") -> StudyReport:
    """Two views of one lesion (one reviewed), a second lesion, an image without position."""
    radial = ImagePosition(Laterality.RIGHT, 1, View.RADIAL, 10.5, 3.0)
    review = Review(
        Verdict.AGREE, "Irregular margins; biopsy booked.", uuid4(), REVIEWED_AT, BiRads("4B")
    )
    first = view("right-radial.png", 0.734, band=BandName.HIGH, position=radial, review=review)
    second = view(
        "right-antiradial.png",
        0.41,
        position=ImagePosition(Laterality.RIGHT, 1, View.ANTIRADIAL, 10.5, 3.0),
    )
    other = view(
        "left.png",
        0.22,
        band=BandName.LOW,
        borderline=True,
        position=ImagePosition(Laterality.LEFT, 2, View.TRANSVERSE),
        outline=False,
    )
    return StudyReport(
        patient_ref=patient_ref,
        accession_number="ACC-7781",
        study_date=date(2026, 3, 1),
        generated_at=datetime(2026, 3, 2, 10, 15, tzinfo=UTC),
        generated_by="Dr Ana Müller",
        language=language,
        lesions=(
            ReportLesion(Laterality.RIGHT, 1, first, (first, second)),
            ReportLesion(Laterality.LEFT, 2, other, (other,)),
        ),
        unplaced=(view("loose.png", 0.05, band=BandName.VERY_LOW),),
    )


def empty_report() -> StudyReport:
    return StudyReport("MRN-1", None, date(2026, 3, 1), REVIEWED_AT, "a@example.org", "en", (), ())


class ReportRendererContract:
    """Needs a fixture ``report_renderer``."""

    def test_is_a_report_renderer(self, report_renderer: ReportRenderer) -> None:
        assert isinstance(report_renderer, ReportRenderer)

    async def test_renders_a_pdf_in_either_language(self, report_renderer: ReportRenderer) -> None:
        for language in ("en", "fr"):
            pdf = await report_renderer.render(sample_report(language))
            assert pdf.startswith(b"%PDF-")

    async def test_an_empty_study_still_has_a_report(self, report_renderer: ReportRenderer) -> None:
        assert (await report_renderer.render(empty_report())).startswith(b"%PDF-")
