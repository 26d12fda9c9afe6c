"""GetStudyReport on fakes: what the report is given, who may have it, and its audit entry."""

from __future__ import annotations

from uuid import uuid4

import pytest

from application.commands import (
    AddImagesToStudy,
    CreateStudy,
    GetStudyReport,
    ReviewPrediction,
    Upload,
)
from application.use_cases import (
    AddImagesToStudyUseCase,
    CreateStudyUseCase,
    GetStudyReportUseCase,
)
from domain.errors import ErrorCode, NotFound
from domain.outcomes import BiRads
from domain.predictions import Verdict
from domain.studies import ImagePosition, Laterality, View
from tests.contracts.report_renderer_contract import ReportRendererContract
from tests.fakes import FakeReportRenderer, fake_image
from tests.unit.conftest import App

pytestmark = pytest.mark.unit


class TestFakeReportRenderer(ReportRendererContract):
    @pytest.fixture
    def report_renderer(self) -> FakeReportRenderer:
        return FakeReportRenderer()


class Reports:
    def __init__(self, app: App) -> None:
        self.app = app
        self.renderer = FakeReportRenderer()
        self.create = CreateStudyUseCase(app.uow, app.clock)
        self.add = AddImagesToStudyUseCase(app.uow, app.predict_and_store, app.clock)
        self.report = GetStudyReportUseCase(
            app.uow, app.images, app.renderer, app.lesion_renderer, self.renderer, app.clock
        )


@pytest.fixture
def reports(app: App) -> Reports:
    return Reports(app)


def right(view: View) -> ImagePosition:
    return ImagePosition(Laterality.RIGHT, 1, view, clock_position=10.5)


async def test_the_report_holds_each_lesion_its_views_and_the_review(
    app: App, reports: Reports
) -> None:
    owner = await app.user("owner@example.org")
    study = await reports.create(
        CreateStudy(actor=owner, patient_ref="MRN-42", accession_number="ACC-1")
    )
    uploads = tuple(
        Upload(f"{name}.png", fake_image(name, level))
        for name, level in (("radial", 200), ("antiradial", 60), ("loose", 30))
    )
    outcomes = await reports.add(
        AddImagesToStudy(
            actor=owner,
            study_id=study.id,
            uploads=uploads,
            positions=(right(View.RADIAL), right(View.ANTIRADIAL), None),
        )
    )
    radial, antiradial, loose = (o.prediction for o in outcomes)
    assert radial is not None
    assert antiradial is not None
    assert loose is not None
    await app.review(
        ReviewPrediction(
            actor=owner,
            prediction_id=radial.id,
            verdict=Verdict.AGREE,
            note="Biopsy.",
            birads=BiRads.MODERATE_SUSPICION,
        )
    )
    pdf = await reports.report(GetStudyReport(actor=owner, study_id=study.id, language="fr"))
    assert pdf.startswith(b"%PDF-")
    [report] = reports.renderer.reports
    assert (report.patient_ref, report.accession_number, report.language) == (
        "MRN-42",
        "ACC-1",
        "fr",
    )
    assert report.generated_by == "owner@example.org"
    [lesion] = report.lesions
    assert (lesion.laterality, lesion.lesion_number) == (Laterality.RIGHT, 1)
    assert sorted(v.filename for v in lesion.views) == ["antiradial.png", "radial.png"]
    assert lesion.driving.filename == "radial.png"  # the most suspicious view
    first, second = sorted(lesion.views, key=lambda v: v.filename != "radial.png")
    assert first.p_malignant == radial.p_malignant
    assert (first.threshold, first.model_version) == (radial.threshold, radial.model_version)
    assert first.likelihood == radial.likelihood
    assert b"lesion" in (first.outline_png or b"")  # found (p >= 0.5)
    assert second.outline_png is None  # the fake model outlines nothing below 0.5
    assert all(v.heatmap_png and b"overlay" in v.heatmap_png for v in lesion.views)
    assert first.review is not None
    assert (first.review.birads, first.review.note) == (BiRads.MODERATE_SUSPICION, "Biopsy.")
    assert first.reviewer == "owner@example.org"
    assert second.review is None
    assert [v.filename for v in report.unplaced] == ["loose.png"]
    assert app.actions()[-1] == "study.report"


async def test_someone_elses_study_has_no_report(app: App, reports: Reports) -> None:
    owner, other = await app.user(), await app.user()
    study = await reports.create(CreateStudy(actor=owner, patient_ref="MRN-1"))
    for study_id in (study.id, uuid4()):
        with pytest.raises(NotFound) as raised:
            await reports.report(GetStudyReport(actor=other, study_id=study_id))
        assert raised.value.code is ErrorCode.STUDY_NOT_FOUND
    assert reports.renderer.reports == []


async def test_an_unknown_language_reads_as_english(app: App, reports: Reports) -> None:
    owner = await app.user()
    study = await reports.create(CreateStudy(actor=owner, patient_ref="MRN-2"))
    await reports.report(GetStudyReport(actor=owner, study_id=study.id, language="xx"))
    [report] = reports.renderer.reports
    assert (report.language, report.lesions, report.unplaced) == ("en", (), ())
