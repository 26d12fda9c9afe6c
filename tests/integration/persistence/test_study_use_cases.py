"""The study use cases over the SQLAlchemy unit of work on SQLite and PostgreSQL: filing by
DICOM tags, lesions, priors, search, export and deletion as the real tables hold them."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from application.commands import (
    AddImagesToStudy,
    CreateStudy,
    DeleteStudy,
    ExportPredictions,
    GetStudy,
    ListStudies,
    StudyFilters,
    Upload,
)
from application.use_cases import (
    AddImagesToStudyUseCase,
    CreateStudyUseCase,
    DeleteStudyUseCase,
    ExportPredictionsUseCase,
    GetStudyUseCase,
    ListStudiesUseCase,
    PredictAndStoreUseCase,
)
from application.use_cases.export_predictions import CSV_HEADER
from domain.studies import ImagePosition, Laterality, View
from tests.contracts.user_repository_contract import UowFactory, make_user, store_users
from tests.fakes import FakeClock, FakeImageStore, FakeTumorClassifier, fake_image
from tests.study_fakes import UID_A, DicomAwareDecoder, fake_dicom

pytestmark = pytest.mark.integration


async def test_a_clinicians_day_with_studies(uow_factory: UowFactory) -> None:
    uow, clock, images = uow_factory(), FakeClock(), FakeImageStore()
    store = PredictAndStoreUseCase(uow, DicomAwareDecoder(), FakeTumorClassifier(), images, clock)
    create, add = CreateStudyUseCase(uow, clock), AddImagesToStudyUseCase(uow, store, clock)
    get, search = GetStudyUseCase(uow, clock), ListStudiesUseCase(uow, clock)
    user = make_user()
    await store_users(uow_factory, user)

    prior = await create(CreateStudy(actor=user, patient_ref="MRN-7", study_date=date(2025, 3, 1)))
    where = ImagePosition(Laterality.RIGHT, 1, View.TRANSVERSE, 7.5, 3.0)
    await add(
        AddImagesToStudy(
            actor=user,
            study_id=prior.id,
            uploads=(Upload("old.png", fake_image("old", 60)),),
            positions=(where,),
        )
    )
    outcomes = await add(
        AddImagesToStudy(
            actor=user,
            study_id=None,
            uploads=(
                Upload("radial.dcm", fake_dicom("r", 80, view="RADIAL")),
                Upload("antiradial.dcm", fake_dicom("a", 220, view="ANTIRADIAL")),
            ),
        )
    )
    assert all(o.prediction is not None for o in outcomes)

    [summary, older] = (await search(ListStudies(actor=user))).items
    assert (summary.study.study_instance_uid, summary.image_count) == (UID_A, 2)
    assert older.study.id == prior.id
    detail = await get(GetStudy(actor=user, study_id=summary.study.id))
    [lesion] = detail.current.lesions
    assert (lesion.laterality, len(lesion.views)) == (Laterality.LEFT, 2)
    assert lesion.p_malignant == pytest.approx(220 / 255)
    [earlier] = detail.priors
    assert earlier.study.id == prior.id
    assert earlier.images[0].position == where
    found = await search(ListStudies(actor=user, filters=StudyFilters.parse(band="very_high")))
    assert [s.study.id for s in found.items] == []  # 220 / 255 = 0.86: "high"
    high = await search(ListStudies(actor=user, filters=StudyFilters.parse(band="high")))
    assert [s.study.id for s in high.items] == [summary.study.id]

    export = ExportPredictionsUseCase(uow, clock)
    rows = list(csv.reader(io.StringIO(await export(ExportPredictions(actor=user)))))
    cells = [dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]]
    assert sorted(c["patient_ref"] for c in cells) == ["MRN-7"] * 3
    assert {c["position_view"] for c in cells} == {"radial", "antiradial", "transverse"}

    await DeleteStudyUseCase(uow, images, clock)(DeleteStudy(actor=user, study_id=prior.id))
    assert (await search(ListStudies(actor=user))).total == 1
    assert (await get(GetStudy(actor=user, study_id=summary.study.id))).priors == ()
