"""FpdfReportRenderer: the PDF read back with poppler (pdftotext, pdftoppm), as a reader would."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adapters.reporting.fpdf_report import FpdfReportRenderer
from entrypoints.web.i18n import CATALOGUES
from tests.ci import unavailable
from tests.contracts.report_renderer_contract import (
    ReportRendererContract,
    empty_report,
    sample_report,
)

pytestmark = pytest.mark.integration


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        unavailable(f"{tool} is missing: apt-get install poppler-utils")
    return path


def text_of(pdf: bytes, tmp_path: Path) -> str:
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(
        [poppler("pdftotext"), "-layout", str(source), "-"], capture_output=True, check=True
    )
    return " ".join(done.stdout.decode().split())


def first_page(pdf: bytes, tmp_path: Path) -> np.ndarray:
    source = tmp_path / "page.pdf"
    source.write_bytes(pdf)
    prefix = tmp_path / "page"
    subprocess.run(
        [poppler("pdftoppm"), "-png", "-r", "60", "-f", "1", "-l", "1", str(source), str(prefix)],
        check=True,
    )
    (png,) = tmp_path.glob("page*.png")
    with Image.open(png) as image:
        return np.asarray(image.convert("RGB"))


class TestFpdfReportRendererContract(ReportRendererContract):
    @pytest.fixture
    def report_renderer(self) -> FpdfReportRenderer:
        return FpdfReportRenderer(CATALOGUES)


@pytest.fixture
def renderer() -> FpdfReportRenderer:
    return FpdfReportRenderer(CATALOGUES)


async def test_the_report_says_every_fact_a_clinic_files(
    renderer: FpdfReportRenderer, tmp_path: Path
) -> None:
    text = text_of(await renderer.render(sample_report("en")), tmp_path)
    for fact in (
        "Breast ultrasound study report",
        "MRN-0042-Ünal",  # every character of the patient reference prints (DejaVu Sans)
        "ACC-7781",
        "2026-03-01",
        "Decision aid, not a diagnosis",
        "Right breast, lesion 1",
        "Left breast, lesion 2",
        "Combined from 2 view(s)",
        "73.4 %",  # the lesion takes its most suspicious view
        "41.0 %",
        "High",
        "Low (borderline: close to the threshold)",
        "20.4 %",
        "2.0.0",
        "4B — moderate suspicion",
        "The reviewer agrees with the model",
        "Irregular margins; biopsy booked.",
        "Dr Ana Müller, 2026-03-02",
        "Not reviewed yet",
        "Radial, 10:30 o'clock, 3 cm from the nipple",
        "Lesion outline",
        "Heatmap: where the model looked",
        "The model outlined no lesion on this image.",
        "Images without a position",
        "loose.png",
        "Page 1 of",
    ):
        assert fact in text, fact
    assert text.index("Right breast, lesion 1") < text.index("Left breast, lesion 2")


async def test_french_reports_speak_french(renderer: FpdfReportRenderer, tmp_path: Path) -> None:
    text = text_of(await renderer.render(sample_report("fr")), tmp_path)
    for fact in (
        "Compte rendu d'échographie mammaire",
        "Aide à la décision, pas un diagnostic",
        "Sein droit, lésion 1",
        "73,4 %",
        "Élevée",
        "4B — suspicion intermédiaire",
        "Le relecteur est d'accord avec le modèle",
        "Radiaire, 10:30 h, à 3 cm du mamelon",
        "Page 1 sur",
    ):
        assert fact in text, fact


async def test_the_first_page_shows_the_overlays(
    renderer: FpdfReportRenderer, tmp_path: Path
) -> None:
    page = first_page(await renderer.render(sample_report()), tmp_path)
    assert page.shape[0] > page.shape[1]  # A4 portrait
    dark = (page.max(axis=2) < 60).mean()  # the overlays' dark grey field
    green = ((page[..., 1] > 150) & (page[..., 0] < 100) & (page[..., 2] < 100)).mean()
    assert dark > 0.05
    assert green > 0.0005  # the outline ring (lime) is drawn


async def test_an_empty_study_says_so(renderer: FpdfReportRenderer, tmp_path: Path) -> None:
    text = text_of(await renderer.render(empty_report()), tmp_path)
    assert "This study has no analysed images yet." in text
    assert "Decision aid, not a diagnosis" in text


async def test_without_a_unicode_font_the_core_font_still_prints(tmp_path: Path) -> None:
    plain = FpdfReportRenderer(CATALOGUES, font_dir=tmp_path / "no-fonts")
    text = text_of(await plain.render(sample_report("fr", patient_ref="MRN-Łódź-7")), tmp_path)
    assert "Sein droit, lésion 1" in text  # Latin-1 holds French
    assert "MRN-?ód?-7" in text  # what Latin-1 cannot hold is marked, never dropped silently
